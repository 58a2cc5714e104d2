/* setup_text.c - the words of popfetch --add-account: account names from
 * addresses, values quoted for libconfuse, the account section's text, and
 * questions read from a FILE* (see setup.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "provider.h"
#include "setup.h"
#include "setup_int.h"
#include "util.h"

/* The section text: a password escaped to twice its size, a command, a
 * few paths and the OAuth2 endpoints. */
#define SETUP_TEXT_MAX (2 * PF_SECRET_MAX + 2 * PF_LINE_MAX + 4 * PF_PATH_MAX + 4 * PF_URL_MAX)
/* One quoted value: every byte escaped, plus the quotes. */
#define SETUP_QUOTED_MAX (2 * PF_SECRET_MAX + 3)
/* "-NNNN" appended to make a name unique. */
#define SETUP_UNIQUE_TRIES 9999

/* --- names and quoting --------------------------------------------------- */

static int name_char(char c)
{
	return isalnum((unsigned char)c) || (c != '\0' && strchr("._@+-", c) != NULL);
}

int setup_name_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL || !isalnum((unsigned char)s[0]))
		return 0;
	for (; s[n] != '\0'; n++)
		if (!name_char(s[n]))
			return 0;
	return n <= SETUP_NAME_MAX;
}

int setup_name_taken(const char *name, const char *const *taken, size_t ntaken)
{
	for (size_t i = 0; i < ntaken; i++)
		if (strcasecmp(name, taken[i]) == 0)
			return 1;
	return 0;
}

/* The local part, sanitized to the account-name rule. */
static void base_name(const char *address, char out[SETUP_NAME_MAX + 1])
{
	const char *at = strrchr(address, '@');
	size_t len = at != NULL ? (size_t)(at - address) : strlen(address), n = 0;

	for (size_t i = 0; i < len && n < SETUP_NAME_MAX; i++) {
		if (!name_char(address[i]) || (n == 0 && !isalnum((unsigned char)address[i])))
			continue;
		out[n++] = address[i];
	}
	out[n] = '\0';
	if (n == 0)
		memcpy(out, "mail", sizeof "mail");
}

int setup_derive_name(const char *address, const char *const *taken, size_t ntaken,
		      char out[SETUP_NAME_MAX + 1])
{
	char base[SETUP_NAME_MAX + 1];

	base_name(address, base);
	if (!setup_name_taken(base, taken, ntaken)) {
		memcpy(out, base, sizeof base);
		return 0;
	}
	for (int i = 2; i <= SETUP_UNIQUE_TRIES; i++) {
		char suffix[8];
		int sn = snprintf(suffix, sizeof suffix, "-%d", i);
		size_t keep = strlen(base);

		if (sn < 0 || (size_t)sn >= sizeof suffix)
			return -1;
		/* Cut the base, not the suffix, so the name stays in the cap. */
		if (keep + (size_t)sn > SETUP_NAME_MAX)
			keep = SETUP_NAME_MAX - (size_t)sn;
		memcpy(out, base, keep);
		memcpy(out + keep, suffix, (size_t)sn + 1);
		if (!setup_name_taken(out, taken, ntaken))
			return 0;
	}
	return -1;
}

int setup_quote(const char *what, const char *s, char *out, size_t cap, struct pf_error *err)
{
	size_t n = 0;

	if (cap < 3)
		return pf_error_set(err, PF_ERR_INTERNAL, "no room to write %s", what);
	out[n++] = '"';
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			return pf_error_set(err, PF_ERR_CONFIG, "%s contains a control character, "
					    "which a config file cannot hold", what);
		if (n + 4 > cap)
			return pf_error_set(err, PF_ERR_CONFIG, "%s is too long", what);
		/* libconfuse 3.3 replaces ${NAME} inside "..." from the
		 * environment; "\$" is a literal dollar sign. */
		if (c == '"' || c == '\\' || c == '$')
			out[n++] = '\\';
		out[n++] = (char)c;
	}
	out[n++] = '"';
	out[n] = '\0';
	return 0;
}

/* --- the section text ---------------------------------------------------- */

int setup_text_start(struct setup_text *t, const char *name, size_t cap, size_t quoted_cap,
		     const char *what, struct pf_error *err)
{
	*t = (struct setup_text){ .buf = xmalloc(cap), .cap = cap, .quoted_cap = quoted_cap,
				  .what = what, .err = err };
	t->buf[0] = '\0';
	if (!setup_name_ok(name))
		return pf_error_set(err, PF_ERR_CONFIG, "invalid account name '%.80s'", name);
	return 0;
}

int setup_add(struct setup_text *t, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(t->buf + t->n, t->cap - t->n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= t->cap - t->n)
		return pf_error_set(t->err, PF_ERR_CONFIG, "%s is longer than %zu bytes", t->what,
				    t->cap);
	t->n += (size_t)w;
	return 0;
}

int setup_add_str(struct setup_text *t, const char *indent, const char *key,
		       const char *value)
{
	char *q;
	int rc;

	if (value == NULL)
		return 0;
	q = xmalloc(t->quoted_cap);
	rc = setup_quote(key, value, q, t->quoted_cap, t->err);
	if (rc == 0)
		rc = setup_add(t, "%s%s = %s\n", indent, key, q);
	pf_free_secret(q);
	return rc;
}

char *setup_text_finish(struct setup_text *t, int rc)
{
	if (rc == 0)
		return t->buf;
	pf_wipe(t->buf, t->cap);
	free(t->buf);
	t->buf = NULL;
	return NULL;
}

static int add_oauth2(struct setup_text *t, const struct setup_account *a)
{
	const struct provider *p = provider_find(a->provider);

	if (a->client_id == NULL)
		return 0;
	if (p == NULL || p->token_endpoint == NULL)
		return pf_error_set(t->err, PF_ERR_CONFIG, "OAuth2 needs a provider preset with "
				    "OAuth2 endpoints (--provider gmail or outlook)");
	if (setup_add(t, "    oauth2 {\n") < 0 ||
	    setup_add_str(t, "        ", "client_id", a->client_id) < 0 ||
	    setup_add_str(t, "        ", "authorization_endpoint", p->authorization_endpoint) < 0 ||
	    setup_add_str(t, "        ", "device_authorization_endpoint",
			  p->device_authorization_endpoint) < 0 ||
	    setup_add_str(t, "        ", "token_endpoint", p->token_endpoint) < 0 ||
	    setup_add_str(t, "        ", "scope", p->scope) < 0)
		return -1;
	return setup_add(t, "    }\n");
}

/* port and tls are checked words (setup_resolve), written bare. */
static int add_server(struct setup_text *t, const struct setup_account *a)
{
	if (setup_add_str(t, "    ", "provider", a->provider) < 0 ||
	    setup_add_str(t, "    ", "host", a->host) < 0)
		return -1;
	if (a->port != NULL && setup_add(t, "    port = %s\n", a->port) < 0)
		return -1;
	if (a->tls != NULL && setup_add(t, "    tls = %s\n", a->tls) < 0)
		return -1;
	return setup_add_str(t, "    ", "tls_ca_file", a->tls_ca_file);
}

char *setup_section_text(const struct setup_account *a, struct pf_error *err)
{
	struct setup_text t;
	int rc = setup_text_start(&t, a->name, SETUP_TEXT_MAX, SETUP_QUOTED_MAX,
				  "the new account section", err);

	if (rc == 0 &&
	    (setup_add(&t, "\n# added by popfetch --add-account\naccount %s {\n", a->name) < 0 ||
	     add_server(&t, a) < 0 || setup_add_str(&t, "    ", "user", a->user) < 0 ||
	     setup_add_str(&t, "    ", "password", a->password) < 0 ||
	     setup_add_str(&t, "    ", "password_command", a->password_command) < 0 ||
	     setup_add_str(&t, "    ", "maildir", a->maildir) < 0 ||
	     setup_add(&t, "    keep = %s\n", a->keep ? "true" : "false") < 0 ||
	     add_oauth2(&t, a) < 0 ||
	     setup_add(&t, "}\n") < 0))
		rc = -1;
	return setup_text_finish(&t, rc);
}

/* --- questions ----------------------------------------------------------- */

/* Reads one line into buf; echo off on echo_fd for secrets. */
int setup_read_line(const struct setup_io *io, int secret, char *buf, size_t cap,
		     struct pf_error *err)
{
	struct termios old, quiet;
	int restore = 0, rc = 0;
	size_t n;

	if (secret && io->echo_fd >= 0 && tcgetattr(io->echo_fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(io->echo_fd, TCSAFLUSH, &quiet) == 0;
	}
	if (fgets(buf, (int)cap, io->in) == NULL)
		rc = pf_error_set(err, PF_ERR_CONFIG, "no answer (end of input)");
	if (restore) {
		(void)tcsetattr(io->echo_fd, TCSAFLUSH, &old);
		fputc('\n', io->out);
	}
	if (rc < 0)
		return rc;
	n = strcspn(buf, "\n");
	if (buf[n] != '\n' && !feof(io->in))
		return pf_error_set(err, PF_ERR_CONFIG, "answer longer than %zu bytes", cap - 2);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[n - 1] = '\0';
	return 0;
}

int setup_ask(const struct setup_io *io, const char *question, const char *def,
	      const char *option, int secret, char *buf, size_t cap, struct pf_error *err)
{
	if (io->in == NULL)
		return pf_error_set(err, PF_ERR_CONFIG, "%s is not known without asking: give %s",
				    question, option);
	if (def != NULL)
		fprintf(io->out, "%s [%s]: ", question, def);
	else
		fprintf(io->out, "%s: ", question);
	fflush(io->out);
	if (setup_read_line(io, secret, buf, cap, err) < 0) {
		pf_wipe(buf, cap);
		return -1;
	}
	if (buf[0] == '\0' && def != NULL) {
		if (strlen(def) >= cap)
			return pf_error_set(err, PF_ERR_INTERNAL, "default answer too long");
		memcpy(buf, def, strlen(def) + 1);
	}
	if (buf[0] == '\0')
		return pf_error_set(err, PF_ERR_CONFIG, "%s: no answer given", question);
	return 0;
}

/* A yes/no question: 1 or 0 in *yes_r. */
int setup_ask_yes_no(const struct setup_io *io, const char *question, int def,
		      const char *option, int *yes_r, struct pf_error *err)
{
	char buf[16];

	for (int tries = 0; tries < 3; tries++) {
		if (setup_ask(io, question, def ? "Y/n" : "y/N", option, 0, buf, sizeof buf,
			      err) < 0)
			return -1;
		if (strcmp(buf, "Y/n") == 0 || strcmp(buf, "y/N") == 0) {
			*yes_r = def;
			return 0;
		}
		if (strchr("yYnN", buf[0]) != NULL && buf[1] == '\0') {
			*yes_r = buf[0] == 'y' || buf[0] == 'Y';
			return 0;
		}
		fprintf(io->out, "Please answer y or n.\n");
	}
	return pf_error_set(err, PF_ERR_CONFIG, "%s: no yes/no answer", question);
}

