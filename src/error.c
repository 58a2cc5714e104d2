/* error.c - see error.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static void set_v(struct pf_error *err, enum pf_errclass cls, const char *fmt, va_list ap)
	PF_PRINTF(3, 0);

static void set_v(struct pf_error *err, enum pf_errclass cls, const char *fmt, va_list ap)
{
	int n;

	err->cls = cls;
	n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	if (n < 0)
		(void)snprintf(err->msg, sizeof err->msg, "(unprintable error)");
	/* A sentence longer than the buffer is cut: it is display text. */
}

int pf_error_set(struct pf_error *err, enum pf_errclass cls, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err->cls != PF_ERR_NONE)
		return -1;
	va_start(ap, fmt);
	set_v(err, cls, fmt, ap);
	va_end(ap);
	return -1;
}

int pf_error_errno(struct pf_error *err, enum pf_errclass cls, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	if (err == NULL || err->cls != PF_ERR_NONE)
		return -1;
	va_start(ap, fmt);
	set_v(err, cls, fmt, ap);
	va_end(ap);
	used = strlen(err->msg);
	(void)snprintf(err->msg + used, sizeof err->msg - used, ": %s", strerror(errnum));
	return -1;
}

void pf_error_clear(struct pf_error *err)
{
	err->cls = PF_ERR_NONE;
	err->msg[0] = '\0';
}

int pf_error_exit_code(enum pf_errclass cls)
{
	switch (cls) {
	case PF_ERR_NONE: return 0;
	case PF_ERR_NET: return 2;
	case PF_ERR_AUTH: return 3;
	case PF_ERR_PROTO: return 4;
	case PF_ERR_CONFIG: return 5;
	case PF_ERR_CONFIG_PERM: return 6;
	case PF_ERR_SERVER: return 7;
	case PF_ERR_LOCKED: return 8;
	case PF_ERR_LOCAL: return 10;
	case PF_ERR_TLS: return 11;
	case PF_ERR_INTERNAL: return 12;
	}
	return 12;
}
