/* error.h - errors as values, grouped by what the caller must do.
 *
 * A fallible function returns 0 on success and -1 on failure, after filling
 * a struct pf_error with a class and one human sentence.  Server text in that
 * sentence has already been sanitised.  main.c maps each class to one exit
 * code (DESIGN.md section 6); nothing else calls exit(). */
#ifndef POPFETCH_ERROR_H
#define POPFETCH_ERROR_H

#include "bounds.h"

#define PF_MUST_CHECK __attribute__((warn_unused_result))
#define PF_PRINTF(f, a) __attribute__((format(printf, f, a)))

enum pf_errclass {
	PF_ERR_NONE = 0,
	PF_ERR_NET,         /* DNS, connect, timeout, connection lost: retry later */
	PF_ERR_AUTH,        /* the server refused our credentials */
	PF_ERR_PROTO,       /* the server violated POP3 */
	PF_ERR_CONFIG,      /* usage or configuration error */
	PF_ERR_CONFIG_PERM, /* config file with secrets readable by others */
	PF_ERR_SERVER,      /* -ERR, [SYS/TEMP], [SYS/PERM], [IN-USE] */
	PF_ERR_LOCKED,      /* another popfetch holds the account lock */
	PF_ERR_LOCAL,       /* local delivery or state failed */
	PF_ERR_TLS,         /* handshake or certificate verification failed */
	PF_ERR_INTERNAL,    /* a bug or out of memory */
};

struct pf_error {
	enum pf_errclass cls;
	char msg[PF_ERRMSG_MAX];
};

/* Records the first error only: a cleanup error after the real one must not
 * hide the cause.  Always returns -1 so callers can `return pf_error_set(..)`. */
int pf_error_set(struct pf_error *err, enum pf_errclass cls, const char *fmt, ...)
	PF_PRINTF(3, 4);

/* Like pf_error_set, with ": strerror(errnum)" appended. */
int pf_error_errno(struct pf_error *err, enum pf_errclass cls, int errnum,
		   const char *fmt, ...) PF_PRINTF(4, 5);

/* Forgets a recorded error (used when a failure is handled and retried). */
void pf_error_clear(struct pf_error *err);

/* The exit code for a class, DESIGN.md section 6. */
int pf_error_exit_code(enum pf_errclass cls);

#endif
