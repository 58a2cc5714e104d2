/* import_getmail.c - reads a getmail rc file (getmail6, "getmail
 * configuration") into an import_set holding one account.  Pure: text in,
 * set out.
 *
 * An INI file (Python's configparser): [retriever], [destination],
 * [options] and [filter-*] sections of `key = value` (or `key: value`)
 * lines; `#` and `;` start comments; an indented line continues the value
 * before it.  Lists such as password_command and arguments are Python
 * tuples of quoted strings: ("pass", "show", "mail"). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"

/* Words in a tuple (an MDA's arguments, a password command). */
#define TUPLE_MAX 64

enum section { S_NONE, S_RETRIEVER, S_DESTINATION, S_OPTIONS, S_FILTER, S_OTHER };

/* Flags kept in import_account.flags while the file is read. */
enum {
	F_SSL = 1,
	F_POP = 2,           /* a POP3 retriever type was named */
	F_READ_ALL_OFF = 4,  /* read_all = false */
	F_FINGERPRINT = 8,
	F_DELETE = 16,
};

struct gm {
	struct import_set *set;
	struct import_account *a;
	struct pf_error *err;
	struct import_lines lines;
	enum section sec;
	char *dest_type;
	char *dest_path;
	char *dest_args;     /* the arguments tuple, as written */
	int filters;
	size_t at;           /* the line the logical line starts on */
};

static int bad(struct gm *g, const char *what)
{
	return pf_error_set(g->err, PF_ERR_CONFIG, "getmail file, line %zu: %s",
			    g->at ? g->at : g->lines.lineno, what);
}

static int boolean(struct gm *g, const char *v, int *r)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return (*r = 1, 0);
		if (strcasecmp(v, no[i]) == 0)
			return (*r = 0, 0);
	}
	return bad(g, "expected true or false");
}

static int number(struct gm *g, const char *v, unsigned long long max, unsigned long long *r)
{
	char *e;

	*r = strtoull(v, &e, 10);
	if (!isdigit((unsigned char)v[0]) || *e != '\0' || *r > max)
		return bad(g, "invalid number");
	return 0;
}

/* A Python tuple (or a single string) of quoted strings into words[]
 * (pointers into buf, which is rewritten in place).  Returns the count, or
 * -1. */
static int tuple(struct gm *g, char *s, char **words)
{
	int n = 0;

	s += strspn(s, " \t");
	if (*s != '(' && *s != '"' && *s != '\'') {
		words[0] = s; /* a bare word */
		return s[0] ? 1 : 0;
	}
	if (*s == '(')
		s++;
	for (;;) {
		char q, *o;

		s += strspn(s, " \t,");
		if (*s == ')' || *s == '\0')
			return n;
		q = *s;
		if ((q != '"' && q != '\'') || n >= TUPLE_MAX)
			return bad(g, "expected a tuple of quoted strings");
		o = words[n++] = ++s;
		while (*s != q) {
			if (*s == '\0')
				return bad(g, "string without its closing quote");
			if (*s == '\\' && s[1] != '\0')
				s++;
			*o++ = *s++;
		}
		s++;
		*o = '\0';
	}
}

/* A tuple (after first, when not NULL: an MDA's path) as one /bin/sh
 * command line, or NULL with err set. */
static char *command_line(struct gm *g, const char *first, const char *text)
{
	char *buf = xstrdup(text != NULL ? text : ""), *words[TUPLE_MAX + 1], *cmd = NULL;
	size_t lead = first != NULL;
	int k;

	if (first != NULL)
		words[0] = (char *)first;
	k = tuple(g, buf, words + lead);
	if (k >= 0 && (size_t)k + lead == 0) {
		bad(g, "empty command");
	} else if (k >= 0) {
		cmd = import_shell_join(words, (size_t)k + lead);
		if (cmd == NULL)
			bad(g, "command longer than a config line");
	}
	free(buf);
	return cmd;
}

/* --- [retriever] ------------------------------------------------------------- */

static int retriever_type(struct gm *g, const char *v)
{
	struct import_account *a = g->a;
	int ssl = strstr(v, "SSL") != NULL;

	if (strstr(v, "IMAP") != NULL) {
		a->skip = 1;
		import_note(&a->notes, "IMAP retriever (%.40s): not imported (popfetch fetches "
			    "POP3 only); keep getmail for it, or use mbsync or offlineimap", v);
		return 0;
	}
	if (strcmp(v, "MultidropSDPSRetriever") == 0) {
		a->skip = 1;
		import_note(&a->notes, "SDPS retriever: not imported (popfetch speaks plain POP3)");
		return 0;
	}
	if (strcmp(v, "SimplePOP3Retriever") != 0 && strcmp(v, "SimplePOP3SSLRetriever") != 0 &&
	    strcmp(v, "BrokenUIDLPOP3Retriever") != 0 && strcmp(v, "BrokenUIDLPOP3SSLRetriever") != 0 &&
	    strcmp(v, "MultidropPOP3Retriever") != 0 && strcmp(v, "MultidropPOP3SSLRetriever") != 0)
		return bad(g, "unknown retriever type");
	a->flags |= F_POP | (ssl ? F_SSL : 0);
	if (strncmp(v, "BrokenUIDL", 10) == 0)
		a->no_state = "getmail's BrokenUIDL retrievers record their own message ids, not "
			      "the server's UIDs";
	if (strncmp(v, "Multidrop", 9) == 0)
		import_note(&a->notes, "multidrop retriever: popfetch delivers every message of an "
			    "account to one place; sort by envelope recipient with an MDA");
	return 0;
}

static int retriever_key(struct gm *g, const char *k, char *v)
{
	struct import_account *a = g->a;
	unsigned long long n;
	char *words[TUPLE_MAX], fp[PF_NAME_MAX + 1];
	int on, cnt;

	if (strcmp(k, "type") == 0)
		return retriever_type(g, v);
	if (strcmp(k, "server") == 0)
		import_set_str(&a->host, v);
	else if (strcmp(k, "port") == 0)
		return number(g, v, 65535, &n) < 0 ? -1 : (a->port = (int)n, 0);
	else if (strcmp(k, "username") == 0)
		import_set_str(&a->user, v);
	else if (strcmp(k, "password") == 0)
		import_set_str(&a->password, v);
	else if (strcmp(k, "password_command") == 0) {
		char *cmd = command_line(g, NULL, v);

		if (cmd == NULL)
			return -1;
		pf_free_secret(a->password_command);
		a->password_command = cmd;
	} else if (strcmp(k, "timeout") == 0)
		return number(g, v, PF_TIMEOUT_MAX, &n) < 0 ? -1 : (a->timeout = (int)n, 0);
	else if (strcmp(k, "use_apop") == 0)
		return boolean(g, v, &on) < 0 ? -1 : (a->auth = on ? "apop" : NULL, 0);
	else if (strcmp(k, "use_xoauth2") == 0)
		return boolean(g, v, &on) < 0 ? -1 : (a->auth = on ? "xoauth2" : a->auth, 0);
	else if (strcmp(k, "ca_certs") == 0)
		import_set_str(&a->tls_ca_file, v);
	else if (strcmp(k, "certfile") == 0)
		import_set_str(&a->tls_cert_file, v);
	else if (strcmp(k, "keyfile") == 0)
		import_set_str(&a->tls_key_file, v);
	else if (strcmp(k, "ssl_fingerprints") == 0) {
		cnt = tuple(g, v, words);
		if (cnt < 0)
			return -1;
		/* getmail compares lower-case SHA-256 hex, as popfetch reads it. */
		if (cnt > 0 && strlen(words[0]) == 64 &&
		    snprintf(fp, sizeof fp, "%s", words[0]) > 0) {
			import_set_str(&a->tls_fingerprint, fp);
			a->flags |= F_FINGERPRINT;
		}
		if (cnt > 1)
			import_note(&a->notes, "ssl_fingerprints lists %d; popfetch pins one (the "
				    "first)", cnt);
	} else if (strcmp(k, "ssl_cert_hostname") == 0)
		import_note(&a->notes, "ssl_cert_hostname: popfetch checks the name in host; pin "
			    "the certificate with tls_fingerprint instead");
	else if (strcmp(k, "getmaildir") == 0)
		import_set_str(&a->state_dir, v);
	else if (strcmp(k, "ssl_version") != 0 && strcmp(k, "ssl_ciphers") != 0 &&
		 strcmp(k, "delete_dup_msgids") != 0 && strcmp(k, "envelope_recipient") != 0)
		import_note(&a->notes, "[retriever] %.40s: not carried over", k);
	return 0;
}

/* --- [destination] and [options] -------------------------------------------- */

static int destination_key(struct gm *g, const char *k, const char *v)
{
	if (strcmp(k, "type") == 0)
		import_set_str(&g->dest_type, v);
	else if (strcmp(k, "path") == 0)
		import_set_str(&g->dest_path, v);
	else if (strcmp(k, "arguments") == 0)
		import_set_str(&g->dest_args, v);
	return 0;
}

static int options_key(struct gm *g, const char *k, const char *v)
{
	struct import_account *a = g->a;
	unsigned long long n;
	int on;

	if (strcmp(k, "delete") == 0) {
		if (boolean(g, v, &on) < 0)
			return -1;
		a->flags = on ? a->flags | F_DELETE : a->flags & ~(unsigned)F_DELETE;
	} else if (strcmp(k, "read_all") == 0) {
		if (boolean(g, v, &on) < 0)
			return -1;
		a->flags = on ? a->flags & ~(unsigned)F_READ_ALL_OFF : a->flags | F_READ_ALL_OFF;
	} else if (strcmp(k, "delete_after") == 0) {
		if (number(g, v, 100000, &n) < 0)
			return -1;
		a->delete_after = (int)n;
	} else if (strcmp(k, "max_message_size") == 0) {
		if (number(g, v, PF_MSG_HARD_MAX, &n) < 0)
			return -1;
		a->max_size = n;
	} else if (strcmp(k, "max_messages_per_session") == 0) {
		if (number(g, v, 999999999ULL, &n) < 0)
			return -1;
		a->fetch_limit = (unsigned long)n;
	} else if (strcmp(k, "delete_bigger_than") == 0) {
		import_note(&a->notes, "delete_bigger_than: popfetch never deletes a message "
			    "unread; it skips those over max_size");
	}
	return 0;
}

/* What [destination] says, once the whole file is read. */
static int destination(struct gm *g)
{
	struct import_account *a = g->a;
	const char *t = g->dest_type;

	if (t == NULL)
		return 0;
	if (strcmp(t, "Maildir") == 0 || strcmp(t, "Mboxrd") == 0) {
		if (g->dest_path == NULL)
			return pf_error_set(g->err, PF_ERR_CONFIG, "getmail file: [destination] "
					    "%s without path", t);
		a->dest = t[0] == 'M' && t[1] == 'a' ? IMPORT_DEST_MAILDIR : IMPORT_DEST_MBOX;
		import_set_str(&a->dest_arg, g->dest_path);
	} else if (strcmp(t, "MDA_external") == 0) {
		if (g->dest_path == NULL)
			return pf_error_set(g->err, PF_ERR_CONFIG, "getmail file: [destination] "
					    "MDA_external without path");
		pf_free_secret(a->dest_arg);
		a->dest_arg = command_line(g, g->dest_path, g->dest_args);
		if (a->dest_arg == NULL)
			return -1;
		a->dest = IMPORT_DEST_MDA;
		if (g->dest_args != NULL && strstr(g->dest_args, "%(") != NULL)
			import_note(&a->notes, "the MDA arguments use getmail's %%(...)s "
				    "substitutions, which popfetch does not make: write "
				    "\"$POPFETCH_SENDER\" for %%(sender)s, and see mda in "
				    "popfetch.conf(5) for the rest");
	} else if (strcmp(t, "MDA_lmtp") == 0) {
		import_note(&a->notes, "MDA_lmtp: use popfetch's lmtp = \"...\" with "
			    "lmtp_recipient");
	} else {
		import_note(&a->notes, "destination %.40s: popfetch delivers each account to one "
			    "Maildir, mbox or MDA; sort with an MDA (mda = \"maildrop\")", t);
	}
	return 0;
}

/* --- lines ------------------------------------------------------------------- */

static int section(struct gm *g, const char *name)
{
	if (strcmp(name, "retriever") == 0)
		g->sec = S_RETRIEVER;
	else if (strcmp(name, "destination") == 0)
		g->sec = S_DESTINATION;
	else if (strcmp(name, "options") == 0)
		g->sec = S_OPTIONS;
	else if (strncmp(name, "filter", 6) == 0)
		g->sec = S_FILTER, g->filters++;
	else
		g->sec = S_OTHER;
	return 0;
}

static int key_value(struct gm *g, char *k, char *v)
{
	size_t n = strlen(k);

	while (n > 0 && isspace((unsigned char)k[n - 1]))
		k[--n] = '\0';
	for (char *p = k; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	switch (g->sec) {
	case S_RETRIEVER: return retriever_key(g, k, v);
	case S_DESTINATION: return destination_key(g, k, v);
	case S_OPTIONS: return options_key(g, k, v);
	case S_NONE: return bad(g, "a setting before the first [section]");
	default: return 0;
	}
}

/* One logical line: a section header or key = value. */
static int logical(struct gm *g, char *s)
{
	char *sep, *v;
	size_t n;

	if (s[0] == '[') {
		char *end = strchr(s, ']');

		if (end == NULL)
			return bad(g, "section header without ]");
		*end = '\0';
		return section(g, s + 1);
	}
	sep = s + strcspn(s, "=:");
	if (*sep == '\0')
		return bad(g, "expected key = value");
	*sep = '\0';
	v = sep + 1 + strspn(sep + 1, " \t");
	n = strlen(v);
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		v[--n] = '\0';
	return key_value(g, s, v);
}

static void finish(struct gm *g)
{
	struct import_account *a = g->a;

	a->keep = !(a->flags & F_DELETE);
	if (a->flags & F_SSL)
		a->tls = TLS_IMPLICIT;
	else if (a->flags & F_POP)
		a->plaintext = 1;
	/* getmail checks a certificate only with ca_certs (or a pinned
	 * fingerprint); without, it accepted any. */
	if ((a->flags & F_SSL) && a->tls_ca_file == NULL && !(a->flags & F_FINGERPRINT))
		a->no_certcheck = 1;
	if (a->keep && !(a->flags & F_READ_ALL_OFF))
		import_note(&a->notes, "read_all = true (getmail fetched every message again on "
			    "each run): popfetch fetches only new ones");
	/* delete_after counts only when getmail keeps (delete = false). */
	if (!a->keep)
		a->delete_after = 0;
	if (g->filters > 0)
		import_note(&a->notes, "%d [filter-*] section(s): popfetch has no filters; filter "
			    "with an MDA (mda = \"maildrop\")", g->filters);
	import_finish(a);
}

int import_parse_getmail(const char *text, size_t len, struct import_set *set,
			 struct pf_error *err)
{
	struct gm g = { .set = set, .err = err };
	char *buf = xmalloc(PF_LINE_MAX), *pending = xmalloc(PF_LINE_MAX);
	size_t n;
	int r, rc = -1;

	pending[0] = '\0';
	if (len > IMPORT_FILE_MAX) {
		pf_error_set(err, PF_ERR_CONFIG, "getmail file: larger than %d bytes",
			     IMPORT_FILE_MAX);
		goto out;
	}
	g.a = import_add(set, NULL, err);
	g.a->label = xstrdup("getmail rc");
	import_lines_init(&g.lines, text, len, "getmail file");
	while ((r = import_next_line(&g.lines, buf, err)) > 0) {
		char *s = buf + strspn(buf, " \t");

		if (s[0] == '#' || s[0] == ';')
			continue;
		/* An indented line continues the value before it. */
		if (s != buf && s[0] != '\0' && pending[0] != '\0') {
			if (strlen(pending) + strlen(s) + 2 > PF_LINE_MAX) {
				bad(&g, "value longer than a config line");
				goto out;
			}
			n = strlen(pending);
			pending[n] = ' ';
			memcpy(pending + n + 1, s, strlen(s) + 1);
			continue;
		}
		if (pending[0] != '\0' && logical(&g, pending) < 0)
			goto out;
		pending[0] = '\0';
		g.at = g.lines.lineno;
		if (s[0] != '\0')
			memcpy(pending, s, strlen(s) + 1);
	}
	if (r < 0 || (pending[0] != '\0' && logical(&g, pending) < 0) || destination(&g) < 0)
		goto out;
	if (!(g.a->flags & F_POP) && !g.a->skip) {
		pf_error_set(err, PF_ERR_CONFIG, "getmail file: no [retriever] type");
		goto out;
	}
	finish(&g);
	rc = 0;
out:
	pf_wipe(buf, PF_LINE_MAX);
	pf_wipe(pending, PF_LINE_MAX);
	free(buf);
	free(pending);
	free(g.dest_type);
	free(g.dest_path);
	free(g.dest_args);
	return rc;
}
