/* import_fetchmail.c - reads a ~/.fetchmailrc (fetchmail 6.x, fetchmail(1)
 * "THE RUN CONTROL FILE") into an import_set.  Pure: text in, set out.
 *
 * The file is a stream of words: `set ...`, `defaults ...`, `poll NAME
 * ...` and `skip NAME ...` statements, server options, then one or more
 * user descriptions, each opened by `user NAME`.  Strings are quoted with
 * "..." or '...' and take C escapes; `and with has wants options here
 * there` and the characters ; , : are noise.  Each user description
 * becomes one account; what popfetch cannot express becomes a note. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"

/* A word of the file. */
struct tok {
	char *s;
	size_t line;
};

struct fm {
	struct tok *t;
	size_t n, i;
	struct import_set *set;
	struct pf_error *err;
	struct import_account defaults;
	struct import_account server;  /* the poll's options before `user` */
	long cur;                      /* where options go: -1 server, else set->acc[cur] */
	int in_defaults;               /* options go to defaults */
	size_t first;                  /* the poll's first account in set */
	int skip_entry;                /* a `skip` statement */
	int in_poll;
	char *pollname;
};

/* Flags kept in import_account.flags while the file is read. */
enum {
	F_SSL = 1,          /* ssl: implicit TLS */
	F_NO_TLS = 2,       /* sslproto '': no TLS at all */
	F_MDA = 4,
	F_IMAP = 8,
	F_OTHER_PROTO = 16, /* pop2, etrn, odmr */
	F_MULTIDROP = 32,
};

/* --- words -------------------------------------------------------------------- */

static int noise_char(char c)
{
	return c == ';' || c == ',' || c == ':' || isspace((unsigned char)c);
}

/* A C escape after the backslash at *p: the byte into *c, *p advanced. */
static void unescape(const char **p, const char *end, char *c)
{
	const char *s = *p;
	int v = 0, k;

	switch (*s) {
	case 'n': *c = '\n'; break;
	case 't': *c = '\t'; break;
	case 'r': *c = '\r'; break;
	case 'b': *c = '\b'; break;
	case 'x':
		for (k = 0, s++; k < 2 && s < end && isxdigit((unsigned char)*s); k++, s++)
			v = v * 16 + (isdigit((unsigned char)*s) ? *s - '0'
						      : tolower((unsigned char)*s) - 'a' + 10);
		*c = (char)v;
		*p = s;
		return;
	default:
		if (*s >= '0' && *s <= '7') {
			for (k = 0; k < 3 && s < end && *s >= '0' && *s <= '7'; k++, s++)
				v = v * 8 + (*s - '0');
			*c = (char)v;
			*p = s;
			return;
		}
		*c = *s; /* \" \\ \' and anything else: the character itself */
	}
	*p = s + 1;
}

/* One quoted string starting at *p (the quote); bounded by PF_LINE_MAX. */
static int quoted(struct fm *f, const char **p, const char *end, size_t *line, char *buf)
{
	char q = **p;
	const char *s = *p + 1;
	size_t n = 0, start = *line;

	while (s < end && *s != q) {
		char c = *s;

		if (c == '\n')
			(*line)++;
		if (c == '\\' && s + 1 < end) {
			s++;
			unescape(&s, end, &c);
		} else {
			s++;
		}
		if (n + 1 >= PF_LINE_MAX)
			return pf_error_set(f->err, PF_ERR_CONFIG, "fetchmail file, line %zu: string "
					    "longer than %d bytes", start, PF_LINE_MAX - 1);
		buf[n++] = c;
	}
	if (s >= end)
		return pf_error_set(f->err, PF_ERR_CONFIG, "fetchmail file, line %zu: string "
				    "without its closing quote", start);
	buf[n] = '\0';
	*p = s + 1;
	return 0;
}

static void add_tok(struct fm *f, const char *s, size_t line)
{
	if (f->n % 256 == 0)
		f->t = xrealloc(f->t, (f->n + 256) * sizeof *f->t);
	f->t[f->n].s = xstrdup(s);
	f->t[f->n].line = line;
	f->n++;
}

static int tokenize(struct fm *f, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	char *buf = xmalloc(PF_LINE_MAX);
	size_t line = 1, n;
	int rc = -1;

	if (memchr(text, '\0', len) != NULL) {
		pf_error_set(f->err, PF_ERR_CONFIG, "fetchmail file: contains a NUL byte (not a "
			     "text file?)");
		goto out;
	}
	while (p < end) {
		if (*p == '\n')
			line++;
		if (noise_char(*p)) {
			p++;
		} else if (*p == '#') {
			while (p < end && *p != '\n')
				p++;
		} else if (*p == '"' || *p == '\'') {
			if (quoted(f, &p, end, &line, buf) < 0)
				goto out;
			add_tok(f, buf, line);
		} else {
			for (n = 0; p < end && !noise_char(*p) && *p != '#'; p++) {
				if (n + 1 >= PF_LINE_MAX) {
					pf_error_set(f->err, PF_ERR_CONFIG, "fetchmail file, line %zu: "
						     "word longer than %d bytes", line, PF_LINE_MAX - 1);
					goto out;
				}
				buf[n++] = *p;
			}
			buf[n] = '\0';
			add_tok(f, buf, line);
		}
	}
	rc = 0;
out:
	pf_wipe(buf, PF_LINE_MAX);
	free(buf);
	return rc;
}

/* --- the keyword table ------------------------------------------------------ */

enum kw {
	K_NOISE, K_IGNORE, K_NOTE, K_VIA, K_PROTO, K_PORT, K_AUTH, K_TIMEOUT, K_USER, K_PASS,
	K_LOCAL, K_MULTIDROP, K_SMTP, K_MDA, K_KEEP, K_NOKEEP, K_SSL, K_SSLPROTO, K_CERTCK,
	K_CERTFILE, K_CERTPATH, K_CERT, K_KEY, K_FINGERPRINT, K_LIMIT, K_FETCHLIMIT, K_FOLDER,
	K_ENVELOPE,
};

struct keyword {
	const char *word;
	enum kw kind;
	int nargs;          /* words taken; -1: a list up to the next keyword */
	const char *note;   /* for K_NOTE: what to use instead */
};

static const struct keyword keywords[] = {
	{ "via", K_VIA, 1, NULL }, { "proto", K_PROTO, 1, NULL }, { "protocol", K_PROTO, 1, NULL },
	{ "service", K_PORT, 1, NULL }, { "port", K_PORT, 1, NULL },
	{ "auth", K_AUTH, 1, NULL }, { "authenticate", K_AUTH, 1, NULL },
	{ "timeout", K_TIMEOUT, 1, NULL },
	{ "user", K_USER, 1, NULL }, { "username", K_USER, 1, NULL },
	{ "pass", K_PASS, 1, NULL }, { "password", K_PASS, 1, NULL },
	{ "is", K_LOCAL, -1, NULL }, { "to", K_LOCAL, -1, NULL },
	{ "envelope", K_ENVELOPE, 1, NULL },
	{ "aka", K_MULTIDROP, -1, NULL }, { "localdomains", K_MULTIDROP, -1, NULL },
	{ "qvirtual", K_MULTIDROP, 1, NULL }, { "fetchdomains", K_MULTIDROP, -1, NULL },
	{ "smtphost", K_SMTP, -1, NULL }, { "smtpaddress", K_SMTP, 1, NULL },
	{ "smtpname", K_SMTP, 1, NULL }, { "antispam", K_IGNORE, -1, NULL },
	{ "mda", K_MDA, 1, NULL },
	{ "folder", K_FOLDER, -1, NULL },
	{ "keep", K_KEEP, 0, NULL }, { "nokeep", K_NOKEEP, 0, NULL },
	{ "ssl", K_SSL, 0, NULL }, { "sslproto", K_SSLPROTO, 1, NULL },
	{ "sslcertck", K_CERTCK, 0, NULL }, { "sslcertfile", K_CERTFILE, 1, NULL },
	{ "sslcertpath", K_CERTPATH, 1, NULL }, { "sslcert", K_CERT, 1, NULL },
	{ "sslkey", K_KEY, 1, NULL }, { "sslfingerprint", K_FINGERPRINT, 1, NULL },
	{ "limit", K_LIMIT, 1, NULL }, { "fetchlimit", K_FETCHLIMIT, 1, NULL },
};

/* fetchmail's words that need no handling of their own, grouped by what
 * the import does with them and how many arguments they take: noise words
 * ("with", "options", ...), options popfetch has no use for (fetchmail's
 * own tuning, SMTP and IMAP details), and options popfetch has another way
 * for, named in a note with that way. */
static const struct word_set {
	enum kw kind;
	int nargs;
	const char *words;  /* separated by one space */
	const char *note;   /* K_NOTE: what to use instead, after "WORD: " */
} word_sets[] = {
	{ K_NOISE, 0, "and with has wants options here there", NULL },
	{ K_IGNORE, 1, "warnings batchlimit fetchsizelimit fastuidl expunge properties "
	  "principal esmtpname esmtppassword bad-header badheader", NULL },
	{ K_IGNORE, 0, "uidl dns checkalias tracepolls rewrite forcecr stripcr pass8bits "
	  "dropstatus dropdelivered mimedecode idle showdots", NULL },
	{ K_NOTE, 1, "bsmtp", "writes a batch SMTP file; use mda = \"...\" with a program "
	  "that writes it" },
	{ K_NOTE, 0, "lmtp", "forwards over LMTP; use lmtp = \"unix:/path\" with "
	  "lmtp_recipient, or mda = \"dovecot-lda\"" },
	{ K_NOTE, 1, "preconnect postconnect", "run the command before or after popfetch "
	  "(cron, or ExecStartPre=/ExecStartPost= in a systemd unit)" },
	{ K_NOTE, 1, "plugin", "a tunnel command; popfetch connects directly: use an SSH port "
	  "forward to a local port" },
	{ K_NOTE, 1, "plugout", "popfetch does not use SMTP" },
	{ K_NOTE, 1, "interface monitor", "popfetch polls whatever the network is" },
	{ K_NOTE, 0, "flush", "deletes old messages; use keep = false (popfetch then deletes "
	  "what is delivered) or delete_after = DAYS" },
	{ K_NOTE, 0, "fetchall", "fetches old messages again; popfetch fetches only new ones: "
	  "--rebuild-state starts over" },
	{ K_NOTE, 0, "limitflush", "popfetch never deletes a message it skipped for max_size" },
	{ K_NOTE, 1, "sslcommonname", "popfetch checks the host name; pin the certificate "
	  "with tls_fingerprint instead" },
};

/* Whether w is a word of the space-separated list, case-insensitively
 * (fetchmail's keywords are). */
static int in_words(const char *w, const char *words)
{
	size_t wl = strlen(w);

	for (const char *p = words; *p != '\0'; p += p[0] == ' ') {
		size_t n = strcspn(p, " ");

		if (n > 0 && n == wl && strncasecmp(p, w, n) == 0)
			return 1;
		p += n;
	}
	return 0;
}

/* The keyword w, into *k_r (may be NULL).  1, or 0 when w is none. */
static int lookup(const char *w, struct keyword *k_r)
{
	struct keyword k = { .word = w };
	size_t i;

	for (i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
		if (strcasecmp(w, keywords[i].word) == 0)
			break;
	if (i < sizeof keywords / sizeof keywords[0]) {
		k = keywords[i];
	} else {
		for (i = 0; i < sizeof word_sets / sizeof word_sets[0]; i++)
			if (in_words(w, word_sets[i].words))
				break;
		if (i == sizeof word_sets / sizeof word_sets[0])
			return 0;
		k.kind = word_sets[i].kind;
		k.nargs = word_sets[i].nargs;
		k.note = word_sets[i].note;
	}
	if (k_r != NULL)
		*k_r = k;
	return 1;
}

static int statement_word(const char *w)
{
	return strcasecmp(w, "poll") == 0 || strcasecmp(w, "skip") == 0 ||
	       strcasecmp(w, "defaults") == 0 || strcasecmp(w, "set") == 0;
}

static int at_end(const struct fm *f)
{
	return f->i >= f->n;
}

/* The next word as an argument of kw, or -1 when there is none. */
static int arg(struct fm *f, const char *kw, const char **v)
{
	if (at_end(f))
		return pf_error_set(f->err, PF_ERR_CONFIG, "fetchmail file, line %zu: %s needs a "
				    "value", f->t[f->n - 1].line, kw);
	*v = f->t[f->i++].s;
	return 0;
}

/* A number argument: 0 .. max. */
static int num(struct fm *f, const char *kw, unsigned long max, unsigned long *v)
{
	const char *s;
	char *e;

	if (arg(f, kw, &s) < 0)
		return -1;
	*v = strtoul(s, &e, 10);
	if (!isdigit((unsigned char)s[0]) || *e != '\0' || *v > max)
		return pf_error_set(f->err, PF_ERR_CONFIG, "fetchmail file, line %zu: %s needs a "
				    "number, not '%.40s'", f->t[f->i - 1].line, kw, s);
	return 0;
}

/* A list: words up to the next keyword or statement; returns the count. */
static size_t list(struct fm *f, int *star_r)
{
	size_t n = 0;

	for (; !at_end(f) && !lookup(f->t[f->i].s, NULL) && !statement_word(f->t[f->i].s) &&
	       strcasecmp(f->t[f->i].s, "no") != 0; f->i++, n++)
		if (strcmp(f->t[f->i].s, "*") == 0)
			*star_r = 1;
	return n;
}

/* --- options --------------------------------------------------------------- */

static struct import_account *cur(struct fm *f)
{
	if (f->in_defaults)
		return &f->defaults;
	return f->cur < 0 ? &f->server : &f->set->acc[f->cur];
}

static void set_proto(struct import_account *a, const char *p)
{
	if (strncasecmp(p, "imap", 4) == 0) {
		a->flags |= F_IMAP;
	} else if (strcasecmp(p, "apop") == 0) {
		a->auth = "apop";
	} else if (strcasecmp(p, "auto") == 0) {
		import_note(&a->notes, "protocol auto: imported as POP3");
	} else if (strcasecmp(p, "pop3") != 0 && strcasecmp(p, "rpop") != 0 &&
		   strcasecmp(p, "kpop") != 0 && strcasecmp(p, "sdps") != 0) {
		a->flags |= F_OTHER_PROTO;
		import_note(&a->notes, "protocol %.32s: popfetch speaks POP3 only", p);
	}
}

/* fetchmail's auth words that popfetch has; the rest stay `auto`. */
static void set_auth(struct import_account *a, const char *v)
{
	static const char *const same[] = { "cram-md5", "apop", "xoauth2", "oauthbearer" };

	a->auth = NULL;
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
		if (strcasecmp(v, same[i]) == 0)
			a->auth = same[i];
	if (strcasecmp(v, "password") == 0 || strcasecmp(v, "any") == 0)
		return;
	if (a->auth == NULL)
		import_note(&a->notes, "auth %.32s: popfetch has no such method; imported with "
			    "auth = auto", v);
}

/* fetchmail pins MD5 fingerprints ("AA:BB:..." of 16 bytes); popfetch pins
 * SHA-256 ones, which cannot be derived from it. */
static void set_fingerprint(struct import_account *a)
{
	import_note(&a->notes, "sslfingerprint is an MD5 fingerprint, which popfetch cannot "
		    "use: get the SHA-256 one with openssl x509 -noout -fingerprint -sha256 and "
		    "set tls_fingerprint = \"sha256:...\"");
}

static int local_names(struct fm *f, struct import_account *a)
{
	int star = 0;
	size_t n = list(f, &star);

	if (n > 1 || star) {
		a->flags |= F_MULTIDROP;
		import_note(&a->notes, "multidrop (several local names or *): popfetch delivers "
			    "every message of an account to one place; sort with an MDA "
			    "(mda = \"procmail\" or \"maildrop\")");
	}
	return 0;
}

static int new_user(struct fm *f, const char *user)
{
	struct import_account *a;
	char label[PF_NAME_MAX + 1];

	if (f->in_defaults) {
		import_set_str(&f->defaults.user, user);
		return 0;
	}
	a = import_add(f->set, &f->server, f->err);
	if (a == NULL)
		return -1;
	f->cur = (long)(f->set->n - 1);
	import_set_str(&a->user, user);
	(void)snprintf(label, sizeof label, "poll %.100s, user %.100s",
		       f->pollname ? f->pollname : "?", user);
	a->label = xstrdup(label);
	return 0;
}

static int option_value(struct fm *f, const struct keyword *k, struct import_account *a)
{
	unsigned long v;
	const char *s;

	switch (k->kind) {
	case K_VIA: if (arg(f, k->word, &s) < 0) return -1; import_set_str(&a->host, s); return 0;
	case K_PROTO: if (arg(f, k->word, &s) < 0) return -1; set_proto(a, s); return 0;
	case K_PORT:
		if (num(f, k->word, 65535, &v) < 0)
			return -1;
		a->port = (int)v;
		return 0;
	case K_AUTH: if (arg(f, k->word, &s) < 0) return -1; set_auth(a, s); return 0;
	case K_TIMEOUT:
		if (num(f, k->word, PF_TIMEOUT_MAX, &v) < 0)
			return -1;
		a->timeout = (int)v;
		return 0;
	case K_USER: return arg(f, k->word, &s) < 0 ? -1 : new_user(f, s);
	case K_PASS: if (arg(f, k->word, &s) < 0) return -1; import_set_str(&a->password, s); return 0;
	case K_MDA:
		if (arg(f, k->word, &s) < 0)
			return -1;
		import_set_str(&a->dest_arg, s);
		a->dest = IMPORT_DEST_MDA;
		a->flags |= F_MDA;
		if (strchr(s, '%') != NULL)
			import_note(&a->notes, "the mda command uses fetchmail's %%T/%%F/%%s "
				    "substitutions, which popfetch does not make (no server text "
				    "reaches a shell): write \"$POPFETCH_SENDER\" for %%F and your "
				    "user name for %%T");
		return 0;
	case K_SSLPROTO:
		if (arg(f, k->word, &s) < 0)
			return -1;
		if (s[0] == '\0')
			a->flags |= F_NO_TLS;
		return 0;
	case K_CERTFILE: if (arg(f, k->word, &s) < 0) return -1; import_set_str(&a->tls_ca_file, s); return 0;
	case K_CERTPATH: if (arg(f, k->word, &s) < 0) return -1; import_set_str(&a->tls_ca_dir, s); return 0;
	case K_CERT: if (arg(f, k->word, &s) < 0) return -1; import_set_str(&a->tls_cert_file, s); return 0;
	case K_KEY: if (arg(f, k->word, &s) < 0) return -1; import_set_str(&a->tls_key_file, s); return 0;
	case K_FINGERPRINT: if (arg(f, k->word, &s) < 0) return -1; set_fingerprint(a); return 0;
	case K_LIMIT:
		if (num(f, k->word, PF_MSG_HARD_MAX, &v) < 0)
			return -1;
		a->max_size = v;
		return 0;
	case K_FETCHLIMIT:
		if (num(f, k->word, 999999999UL, &v) < 0)
			return -1;
		a->fetch_limit = v;
		return 0;
	default: return pf_error_set(f->err, PF_ERR_INTERNAL, "fetchmail keyword %s", k->word);
	}
}

static int option(struct fm *f, const struct keyword *k, int negated)
{
	struct import_account *a = cur(f);
	int star = 0;
	const char *s;

	switch (k->kind) {
	case K_NOISE: return 0;
	case K_IGNORE:
		if (k->nargs < 0)
			(void)list(f, &star);
		for (int i = 0; i < k->nargs && !negated; i++)
			if (arg(f, k->word, &s) < 0)
				return -1;
		return 0;
	case K_NOTE:
		for (int i = 0; i < k->nargs && !negated; i++)
			if (arg(f, k->word, &s) < 0)
				return -1;
		if (!negated)
			import_note(&a->notes, "%s: %s", k->word, k->note);
		return 0;
	case K_KEEP: a->keep = !negated; return 0;
	case K_NOKEEP: a->keep = 0; return 0;
	case K_SSL: a->flags = negated ? a->flags & ~(unsigned)F_SSL : a->flags | F_SSL; return 0;
	case K_CERTCK: a->no_certcheck = negated; return 0;
	case K_LOCAL: return local_names(f, a);
	case K_MULTIDROP:
		if (k->nargs < 0)
			(void)list(f, &star);
		else if (arg(f, k->word, &s) < 0)
			return -1;
		import_note(&a->notes, "%s (multidrop): popfetch delivers every message of an "
			    "account to one place; sort with an MDA", k->word);
		return 0;
	case K_ENVELOPE:
		if (negated)
			return 0;
		/* `envelope [COUNT] HEADER` */
		if (!at_end(f) && isdigit((unsigned char)f->t[f->i].s[0]))
			f->i++;
		if (arg(f, k->word, &s) < 0)
			return -1;
		import_note(&a->notes, "envelope (multidrop): popfetch delivers every message of "
			    "an account to one place; sort with an MDA");
		return 0;
	case K_SMTP:
		if (k->nargs < 0)
			(void)list(f, &star);
		else if (arg(f, k->word, &s) < 0)
			return -1;
		return 0;
	case K_FOLDER:
		(void)list(f, &star);
		import_note(&a->notes, "folder: POP3 has one mailbox; popfetch ignores folders");
		return 0;
	default:
		return option_value(f, k, a);
	}
}

/* --- statements ------------------------------------------------------------ */

/* What a finished user description becomes: TLS, destination, skip. */
static void finish_account(struct fm *f, struct import_account *a)
{
	if (a->flags & F_IMAP) {
		a->skip = 1;
		import_note(&a->notes, "IMAP entry: not imported (popfetch fetches POP3 only); "
			    "keep fetchmail for it, or use mbsync or offlineimap");
	} else if (a->flags & F_OTHER_PROTO) {
		a->skip = 1;
	} else if (f->skip_entry) {
		a->skip = 1;
		import_note(&a->notes, "a `skip` entry (fetchmail polls it only when named): "
			    "not imported; change it to `poll` to import it");
	}
	if (a->skip)
		return;
	if (a->flags & F_SSL) {
		a->tls = TLS_IMPLICIT;
	} else if (a->flags & F_NO_TLS) {
		a->plaintext = 1;
	} else {
		a->tls = TLS_STARTTLS;
		import_note(&a->notes, "fetchmail used STARTTLS when the server offered it; "
			    "popfetch requires it (tls = starttls)");
	}
	if (!(a->flags & F_MDA)) {
		a->dest = IMPORT_DEST_NONE;
		import_note(&a->notes, "fetchmail forwarded to an SMTP server; popfetch delivers "
			    "itself: to hand mail to your MTA use mda = \"/usr/sbin/sendmail -oi "
			    "-- %.64s\", else a Maildir (--maildir DIR)", a->user ? a->user : "USER");
	}
	import_finish(a);
}

/* Ends the poll statement in progress. */
static int close_poll(struct fm *f)
{
	struct import_account *a;
	char label[PF_NAME_MAX + 1];

	if (!f->in_poll)
		return 0;
	f->in_poll = 0;
	if (f->set->n == f->first) {
		/* No `user`: fetchmail logs in with the local login name. */
		a = import_add(f->set, &f->server, f->err);
		if (a == NULL)
			return -1;
		(void)snprintf(label, sizeof label, "poll %.100s", f->pollname);
		a->label = xstrdup(label);
	}
	for (size_t i = f->first; i < f->set->n; i++)
		finish_account(f, &f->set->acc[i]);
	import_account_clear(&f->server);
	free(f->pollname);
	f->pollname = NULL;
	return 0;
}

static int open_poll(struct fm *f, int skip)
{
	const char *name;

	if (close_poll(f) < 0 || arg(f, skip ? "skip" : "poll", &name) < 0)
		return -1;
	f->in_defaults = 0;
	f->in_poll = 1;
	f->skip_entry = skip;
	f->first = f->set->n;
	f->cur = -1;
	f->pollname = xstrdup(name);
	import_account_clear(&f->server);
	import_copy_settings(&f->server, &f->defaults);
	/* The poll name is the server unless `via` names another. */
	if (f->server.host == NULL)
		f->server.host = xstrdup(name);
	return 0;
}

/* `set [no] WORD [VALUE]`: only idfile matters here. */
static int set_statement(struct fm *f)
{
	static const char *const valued[] = { "daemon", "logfile", "idfile", "postmaster",
					       "pidfile", "properties", "fetchmailhome" };
	const char *w, *v;

	if (close_poll(f) < 0 || arg(f, "set", &w) < 0)
		return -1;
	if (strcasecmp(w, "no") == 0)
		return arg(f, "set no", &w);
	for (size_t i = 0; i < sizeof valued / sizeof valued[0]; i++) {
		if (strcasecmp(w, valued[i]) != 0)
			continue;
		/* fetchmail accepts `set daemon = 300` as well. */
		if (!at_end(f) && strcmp(f->t[f->i].s, "=") == 0)
			f->i++;
		if (arg(f, w, &v) < 0)
			return -1;
		if (strcasecmp(w, "idfile") == 0)
			import_set_str(&f->set->idfile, v);
		if (strcasecmp(w, "daemon") == 0)
			import_note(&f->set->notes, "set daemon %.20s: run popfetch -d %.20s (or set "
				    "poll_interval)", v, v);
		return 0;
	}
	return 0;
}

static int word(struct fm *f)
{
	const char *w = f->t[f->i].s;
	struct keyword k;
	int negated = 0;

	f->i++;
	if (strcasecmp(w, "poll") == 0 || strcasecmp(w, "skip") == 0)
		return open_poll(f, strcasecmp(w, "skip") == 0);
	if (strcasecmp(w, "defaults") == 0) {
		if (close_poll(f) < 0)
			return -1;
		f->in_defaults = 1;
		return 0;
	}
	if (strcasecmp(w, "set") == 0)
		return set_statement(f);
	if (strcasecmp(w, "no") == 0 && !at_end(f)) {
		negated = 1;
		w = f->t[f->i++].s;
	} else if (strncasecmp(w, "no", 2) == 0 && !lookup(w, NULL) && lookup(w + 2, NULL)) {
		negated = 1;
		w += 2;
	}
	if (!f->in_poll && !f->in_defaults)
		return pf_error_set(f->err, PF_ERR_CONFIG, "fetchmail file, line %zu: '%.40s' "
				    "outside a poll or defaults statement", f->t[f->i - 1].line, w);
	if (!lookup(w, &k)) {
		import_note(&cur(f)->notes, "unknown fetchmail word '%.40s' (line %zu) ignored", w,
			    f->t[f->i - 1].line);
		return 0;
	}
	return option(f, &k, negated);
}

int import_parse_fetchmail(const char *text, size_t len, struct import_set *set,
			   struct pf_error *err)
{
	struct fm f = { .set = set, .err = err, .cur = -1 };
	int rc = -1;

	if (len > IMPORT_FILE_MAX) {
		pf_error_set(err, PF_ERR_CONFIG, "fetchmail file: larger than %d bytes",
			     IMPORT_FILE_MAX);
		return -1;
	}
	if (tokenize(&f, text, len) < 0)
		goto out;
	while (!at_end(&f))
		if (word(&f) < 0)
			goto out;
	rc = close_poll(&f);
out:
	for (size_t i = 0; i < f.n; i++)
		pf_free_secret(f.t[i].s);
	free(f.t);
	free(f.pollname);
	import_account_clear(&f.server);
	import_account_clear(&f.defaults);
	return rc;
}
