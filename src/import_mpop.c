/* import_mpop.c - reads an mpop configuration (mpop(1), "CONFIGURATION
 * FILES", mpop 1.4) into an import_set.  Pure: text in, set out.
 *
 * One command a line, its argument the rest of the line, optionally in
 * double quotes (with \" and \\ inside).  `defaults` starts the defaults,
 * `account NAME [: A[,B...]]` an account that starts from the defaults
 * and inherits A, B...  `eval` lines would run a command: --import runs
 * nothing and names them instead. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"

/* Flags kept in import_account.flags while the file is read. */
enum {
	F_TLS = 1,          /* tls on */
	F_NO_STARTTLS = 2,  /* tls_starttls off: implicit TLS */
	F_KILLSIZE = 4,
};

struct mp {
	struct import_set *set;
	struct pf_error *err;
	struct import_lines lines;
	struct import_account defaults;
	long cur;           /* -1: defaults, else set->acc[cur] */
};

static struct import_account *cur(struct mp *m)
{
	return m->cur < 0 ? &m->defaults : &m->set->acc[m->cur];
}

static int bad(struct mp *m, const char *what)
{
	return pf_error_set(m->err, PF_ERR_CONFIG, "mpop file, line %zu: %s", m->lines.lineno,
			    what);
}

/* The argument in place: quotes removed, escapes undone. */
static int unquote(struct mp *m, char *s)
{
	size_t n = strlen(s), o = 0;

	if (n == 0 || s[0] != '"')
		return 0;
	if (n < 2 || s[n - 1] != '"')
		return bad(m, "argument without its closing quote");
	for (size_t i = 1; i + 1 < n; i++) {
		if (s[i] == '\\' && i + 2 < n)
			i++;
		s[o++] = s[i];
	}
	s[o] = '\0';
	return 0;
}

/* on, off, or empty (which mpop takes as on). */
static int onoff(struct mp *m, const char *v, int *on_r)
{
	if (v[0] == '\0' || strcmp(v, "on") == 0)
		*on_r = 1;
	else if (strcmp(v, "off") == 0)
		*on_r = 0;
	else
		return bad(m, "expected on or off");
	return 0;
}

/* A size as killsize and skipsize take it: N, Nk or Nm. */
static int size_arg(struct mp *m, const char *v, uint64_t *r)
{
	char *e;
	unsigned long long n;

	if (strcmp(v, "off") == 0) {
		*r = 0;
		return 0;
	}
	n = strtoull(v, &e, 10);
	if (!isdigit((unsigned char)v[0]) || n > PF_MSG_HARD_MAX)
		return bad(m, "invalid size");
	if (*e == 'k' || *e == 'K')
		n *= 1024, e++;
	else if (*e == 'm' || *e == 'M')
		n *= 1024 * 1024, e++;
	if (*e != '\0' || n > PF_MSG_HARD_MAX)
		return bad(m, "invalid size");
	*r = n;
	return 0;
}

static int number(struct mp *m, const char *v, unsigned long max, int *r)
{
	char *e;
	unsigned long n = strtoul(v, &e, 10);

	if (!isdigit((unsigned char)v[0]) || *e != '\0' || n > max)
		return bad(m, "invalid number");
	*r = (int)n;
	return 0;
}

/* mpop's fingerprint: SHA-256 (32 bytes, 95 characters with colons) is
 * what popfetch pins; SHA-1 and MD5 cannot be converted. */
static void fingerprint(struct import_account *a, const char *v)
{
	char fp[PF_NAME_MAX + 1];

	if (v[0] == '\0') {
		import_set_str(&a->tls_fingerprint, NULL);
		return;
	}
	if (strlen(v) == 95) {
		(void)snprintf(fp, sizeof fp, "sha256:%s", v);
		import_set_str(&a->tls_fingerprint, fp);
		return;
	}
	import_note(&a->notes, "tls_fingerprint is not SHA-256, which popfetch cannot use: get "
		    "the SHA-256 one with openssl x509 -noout -fingerprint -sha256 and set "
		    "tls_fingerprint = \"sha256:...\"");
}

static void auth(struct import_account *a, const char *v)
{
	static const char *const same[] = { "user", "plain", "login", "cram-md5", "apop",
					     "xoauth2", "oauthbearer" };

	a->auth = NULL;
	if (v[0] == '\0' || strcmp(v, "on") == 0)
		return;
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
		if (strcasecmp(v, same[i]) == 0)
			a->auth = same[i];
	if (a->auth == NULL)
		import_note(&a->notes, "auth %.32s: popfetch has no such method; imported with "
			    "auth = auto", v);
}

/* delivery METHOD ARG */
static int delivery(struct mp *m, struct import_account *a, char *v)
{
	char *sp = strchr(v, ' ');
	const char *rest = "";

	if (sp != NULL) {
		*sp = '\0';
		rest = sp + 1 + strspn(sp + 1, " \t");
	}
	if (strcmp(v, "maildir") == 0)
		a->dest = IMPORT_DEST_MAILDIR;
	else if (strcmp(v, "mbox") == 0)
		a->dest = IMPORT_DEST_MBOX;
	else if (strcmp(v, "mda") == 0)
		a->dest = IMPORT_DEST_MDA;
	else if (strcmp(v, "exchange") == 0) {
		a->dest = IMPORT_DEST_NONE;
		import_note(&a->notes, "delivery exchange (a pickup folder): use mda = \"...\" "
			    "with a program that writes there");
		return 0;
	} else {
		return bad(m, "unknown delivery method");
	}
	if (rest[0] == '\0')
		return bad(m, "delivery needs an argument");
	if (a->dest == IMPORT_DEST_MDA && strstr(rest, "%F") != NULL)
		import_note(&a->notes, "the MDA command uses mpop's %%F (envelope sender), which "
			    "popfetch does not replace: write \"$POPFETCH_SENDER\" instead");
	import_set_str(&a->dest_arg, rest);
	return 0;
}

/* `account NAME [: A[,B...]]` */
static int account(struct mp *m, char *v)
{
	char *colon = strchr(v, ':'), *tok, *save = NULL, label[PF_NAME_MAX + 1];
	struct import_account *a;
	size_t len;

	if (colon != NULL)
		*colon = '\0';
	len = strlen(v);
	while (len > 0 && isspace((unsigned char)v[len - 1]))
		v[--len] = '\0';
	if (len == 0 || strchr(v, ' ') != NULL)
		return bad(m, "account needs one name");
	a = import_add(m->set, &m->defaults, m->err);
	if (a == NULL)
		return -1;
	m->cur = (long)(m->set->n - 1);
	a->name = xstrdup(v);
	(void)snprintf(label, sizeof label, "account %.200s", v);
	a->label = xstrdup(label);
	for (tok = colon ? strtok_r(colon + 1, ", \t", &save) : NULL; tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		size_t i;

		for (i = 0; i + 1 < m->set->n; i++)
			if (strcmp(m->set->acc[i].name, tok) == 0)
				break;
		if (i + 1 >= m->set->n)
			return bad(m, "inherits from an account not defined before it");
		import_copy_settings(&m->set->acc[m->cur], &m->set->acc[i]);
	}
	return 0;
}

static int tls_command(struct mp *m, struct import_account *a, const char *c, const char *v)
{
	int on;

	if (strcmp(c, "tls_trust_file") == 0) {
		import_set_str(&a->tls_ca_file, v[0] != '\0' && strcmp(v, "system") != 0 ? v : NULL);
		return 0;
	}
	if (strcmp(c, "tls_fingerprint") == 0) {
		fingerprint(a, v);
		return 0;
	}
	if (strcmp(c, "tls_cert_file") == 0 || strcmp(c, "tls_key_file") == 0) {
		import_set_str(c[4] == 'c' ? &a->tls_cert_file : &a->tls_key_file, v[0] ? v : NULL);
		return 0;
	}
	if (strcmp(c, "tls_nocertcheck") == 0) { /* mpop before 1.4 */
		a->no_certcheck = 1;
		return 0;
	}
	if (strcmp(c, "tls_crl_file") == 0 || strcmp(c, "tls_priorities") == 0 ||
	    strcmp(c, "tls_min_dh_prime_bits") == 0)
		return 0;
	if (strcmp(c, "tls_host_override") == 0) {
		import_note(&a->notes, "tls_host_override: popfetch checks the name in host; pin "
			    "the certificate with tls_fingerprint instead");
		return 0;
	}
	if (onoff(m, v, &on) < 0)
		return -1;
	if (strcmp(c, "tls") == 0)
		a->flags = on ? a->flags | F_TLS : a->flags & ~(unsigned)F_TLS;
	else if (strcmp(c, "tls_starttls") == 0)
		a->flags = on ? a->flags & ~(unsigned)F_NO_STARTTLS : a->flags | F_NO_STARTTLS;
	else if (strcmp(c, "tls_certcheck") == 0)
		a->no_certcheck = !on;
	else
		import_note(&a->notes, "unknown mpop command '%.40s' ignored", c);
	return 0;
}

/* Commands popfetch has no use for, and those it names. */
static int other_command(struct mp *m, struct import_account *a, const char *c, const char *v)
{
	static const char *const quiet[] = { "received_header", "pipelining", "ntlmdomain",
					     "proxy_port", "source_ip" };
	int on;

	for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++)
		if (strcmp(c, quiet[i]) == 0)
			return 0;
	if (strcmp(c, "only_new") == 0) {
		if (onoff(m, v, &on) < 0)
			return -1;
		if (!on)
			import_note(&a->notes, "only_new off (fetch old mail again): popfetch fetches "
				    "only new messages");
	} else if (strcmp(c, "filter") == 0) {
		if (v[0] != '\0')
			import_note(&a->notes, "filter (a header filter that skips or deletes "
				    "mail): popfetch has none; sort or discard with an MDA (mda = "
				    "\"procmail\" or \"maildrop\")");
	} else if (strcmp(c, "proxy_host") == 0 || strcmp(c, "socket") == 0) {
		if (v[0] != '\0')
			import_note(&a->notes, "%s: popfetch connects directly over TCP; use an SSH "
				    "forward or torsocks", c);
	} else if (strcmp(c, "eval") == 0) {
		import_note(&a->notes, "eval line %zu not run (--import runs no commands): add "
			    "that setting by hand", m->lines.lineno);
	} else {
		import_note(&a->notes, "unknown mpop command '%.40s' ignored", c);
	}
	return 0;
}

static int command(struct mp *m, const char *c, char *v)
{
	struct import_account *a = cur(m);
	int on;

	if (strcmp(c, "account") == 0)
		return account(m, v);
	if (strcmp(c, "defaults") == 0) {
		m->cur = -1;
		return 0;
	}
	if (unquote(m, v) < 0)
		return -1;
	if (strcmp(c, "host") == 0)
		import_set_str(&a->host, v[0] ? v : NULL);
	else if (strcmp(c, "port") == 0)
		return v[0] ? number(m, v, 65535, &a->port) : (a->port = 0);
	else if (strcmp(c, "timeout") == 0)
		return strcmp(v, "off") == 0 ? (a->timeout = 0)
					     : number(m, v, PF_TIMEOUT_MAX, &a->timeout);
	else if (strcmp(c, "user") == 0)
		import_set_str(&a->user, v[0] ? v : NULL);
	else if (strcmp(c, "password") == 0)
		import_set_str(&a->password, v[0] ? v : NULL);
	else if (strcmp(c, "passwordeval") == 0)
		import_set_str(&a->password_command, v[0] ? v : NULL);
	else if (strcmp(c, "auth") == 0)
		auth(a, v);
	else if (strcmp(c, "delivery") == 0)
		return delivery(m, a, v);
	else if (strcmp(c, "uidls_file") == 0)
		import_set_str(&a->state_file, v[0] ? v : NULL);
	else if (strcmp(c, "keep") == 0)
		return onoff(m, v, &on) < 0 ? -1 : (a->keep = on, 0);
	else if (strcmp(c, "skipsize") == 0)
		return size_arg(m, v, &a->max_size);
	else if (strcmp(c, "killsize") == 0) {
		a->flags |= F_KILLSIZE;
		return size_arg(m, v, &a->max_size);
	} else if (strncmp(c, "tls", 3) == 0)
		return tls_command(m, a, c, v);
	else
		return other_command(m, a, c, v);
	return 0;
}

static void finish_account(struct import_account *a)
{
	if (a->flags & F_TLS)
		a->tls = (a->flags & F_NO_STARTTLS) ? TLS_IMPLICIT : TLS_STARTTLS;
	else
		a->plaintext = 1;
	if (a->flags & F_KILLSIZE)
		import_note(&a->notes, "killsize (delete big messages unread): popfetch skips "
			    "messages over max_size and never deletes them unread");
	if (a->dest == IMPORT_DEST_NONE && a->dest_arg == NULL)
		import_note(&a->notes, "no delivery command: mpop would refuse to run this "
			    "account; imported with the default Maildir");
	import_finish(a);
}

static int line(struct mp *m, char *buf)
{
	char *c = buf + strspn(buf, " \t"), *v;
	size_t n;

	if (c[0] == '\0' || c[0] == '#')
		return 0;
	n = strcspn(c, " \t");
	v = c + n;
	if (*v != '\0')
		*v++ = '\0';
	v += strspn(v, " \t");
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		v[--n] = '\0';
	return command(m, c, v);
}

int import_parse_mpop(const char *text, size_t len, struct import_set *set,
		      struct pf_error *err)
{
	struct mp m = { .set = set, .err = err, .cur = -1 };
	char *buf = xmalloc(PF_LINE_MAX);
	int r, rc = -1;

	if (len > IMPORT_FILE_MAX) {
		pf_error_set(err, PF_ERR_CONFIG, "mpop file: larger than %d bytes", IMPORT_FILE_MAX);
		goto out;
	}
	import_lines_init(&m.lines, text, len, "mpop file");
	while ((r = import_next_line(&m.lines, buf, err)) > 0)
		if (line(&m, buf) < 0)
			goto out;
	if (r < 0)
		goto out;
	for (size_t i = 0; i < set->n; i++)
		finish_account(&set->acc[i]);
	rc = 0;
out:
	pf_wipe(buf, PF_LINE_MAX);
	free(buf);
	import_account_clear(&m.defaults);
	return rc;
}
