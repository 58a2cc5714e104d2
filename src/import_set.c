/* import_set.c - the helpers every peer's parser shares (import_int.h):
 * the bounded line reader, notes, the account set, shell quoting, and the
 * mapping rules for TLS and certificate checks; and the command's bounded
 * file reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "import_int.h"

/* A note: one sentence naming what is not carried over and what to use. */
#define IMPORT_NOTE_MAX 512

void import_lines_init(struct import_lines *l, const char *text, size_t len, const char *what)
{
	l->p = text;
	l->end = text + len;
	l->lineno = 0;
	l->what = what;
}

int import_next_line(struct import_lines *l, char *buf, struct pf_error *err)
{
	const char *nl;
	size_t n;

	if (l->p >= l->end)
		return 0;
	l->lineno++;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	n = (size_t)((nl != NULL ? nl : l->end) - l->p);
	if (n >= PF_LINE_MAX)
		return pf_error_set(err, PF_ERR_CONFIG, "%s, line %zu: longer than %d bytes",
				    l->what, l->lineno, PF_LINE_MAX - 1);
	if (memchr(l->p, '\0', n) != NULL)
		return pf_error_set(err, PF_ERR_CONFIG, "%s, line %zu: contains a NUL byte (not a "
				    "text file?)", l->what, l->lineno);
	memcpy(buf, l->p, n);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	l->p = nl != NULL ? nl + 1 : l->end;
	return 1;
}

void import_note(struct import_notes *n, const char *fmt, ...)
{
	char buf[IMPORT_NOTE_MAX];
	va_list ap;
	int w;

	if (n->n >= IMPORT_NOTES_MAX) {
		n->dropped++;
		return;
	}
	va_start(ap, fmt);
	w = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (w < 0)
		return;
	/* A note names a value from the file: cut, never overflowing. */
	n->v[n->n++] = xstrdup(buf);
}

static void notes_free(struct import_notes *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	memset(n, 0, sizeof *n);
}

void import_set_str(char **dst, const char *v)
{
	pf_free_secret(*dst);
	*dst = v != NULL ? xstrdup(v) : NULL;
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* The setting strings an import_account owns (label, name and notes are
 * the account's own, never copied): import_copy_settings duplicates each
 * and import_account_clear frees each, so a new one is one entry here.
 * All are freed with pf_free_secret, as import_set_str does: password is
 * one of them. */
#define OWNED(field) offsetof(struct import_account, field)
static const size_t owned_settings[] = {
	OWNED(host), OWNED(tls_ca_file), OWNED(tls_ca_dir), OWNED(tls_fingerprint),
	OWNED(tls_cert_file), OWNED(tls_key_file), OWNED(user), OWNED(password),
	OWNED(password_command), OWNED(dest_arg), OWNED(state_file), OWNED(state_dir),
};
#define NOWNED (sizeof owned_settings / sizeof owned_settings[0])

static char **owned(struct import_account *a, size_t k)
{
	return (char **)(void *)((char *)a + owned_settings[k]);
}

void import_copy_settings(struct import_account *dst, const struct import_account *src)
{
	char *label = dst->label, *name = dst->name;
	struct import_notes notes = dst->notes;

	dst->label = dst->name = NULL;
	memset(&dst->notes, 0, sizeof dst->notes);
	import_account_clear(dst);
	*dst = *src;
	dst->label = label;
	dst->name = name;
	dst->notes = notes;
	for (size_t k = 0; k < NOWNED; k++)
		*owned(dst, k) = dup_or_null(*owned(dst, k)); /* still src's pointer */
	/* The notes of the source (a defaults block, an inherited account)
	 * apply to the copy too. */
	for (size_t i = 0; i < src->notes.n; i++)
		import_note(&dst->notes, "%s", src->notes.v[i]);
}

struct import_account *import_add(struct import_set *set, const struct import_account *tmpl,
				  struct pf_error *err)
{
	struct import_account *a;

	if (set->n >= IMPORT_ACCOUNTS_MAX) {
		pf_error_set(err, PF_ERR_CONFIG, "more than %d accounts in one file",
			     IMPORT_ACCOUNTS_MAX);
		return NULL;
	}
	set->acc = xrealloc(set->acc, (set->n + 1) * sizeof *set->acc);
	a = &set->acc[set->n++];
	memset(a, 0, sizeof *a);
	if (tmpl != NULL)
		import_copy_settings(a, tmpl);
	return a;
}

void import_account_clear(struct import_account *a)
{
	free(a->label);
	free(a->name);
	for (size_t k = 0; k < NOWNED; k++)
		pf_free_secret(*owned(a, k));
	notes_free(&a->notes);
	memset(a, 0, sizeof *a);
}

void import_set_free(struct import_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		import_account_clear(&set->acc[i]);
	free(set->acc);
	free(set->idfile);
	notes_free(&set->notes);
	memset(set, 0, sizeof *set);
}

/* --- files (the command's, not the parsers') ------------------------------------ */

/* The whole of a regular file of at most max bytes into *buf_r / *len_r.
 * 0, -1 with err, or -2 when it does not exist (errno ENOENT). */
int import_read_file(const char *path, size_t max, char **buf_r, size_t *len_r,
		     struct pf_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	size_t n = 0;
	ssize_t r = 0;
	char *buf;

	if (fd < 0 && errno == ENOENT)
		return -2;
	if (fd < 0)
		return pf_error_errno(err, PF_ERR_CONFIG, errno, "cannot open %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return pf_error_set(err, PF_ERR_CONFIG, "%s is not a regular file of at most %zu "
				    "bytes", path, max);
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (n < (size_t)st.st_size &&
	       ((r = read(fd, buf + n, (size_t)st.st_size - n)) > 0 || (r < 0 && errno == EINTR)))
		n += r > 0 ? (size_t)r : 0;
	close(fd);
	if (r < 0) {
		free(buf);
		return pf_error_errno(err, PF_ERR_CONFIG, errno, "cannot read %s", path);
	}
	buf[n] = '\0';
	*buf_r = buf;
	*len_r = n;
	return 0;
}

/* --- shell words ------------------------------------------------------------ */

/* Characters that never need quoting in /bin/sh. */
static int plain_word(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			   "@%+=:,./_-", *s) == NULL)
			return 0;
	return 1;
}

char *import_shell_join(char *const *argv, size_t n)
{
	char *out = xmalloc(PF_LINE_MAX);
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		const char *s = argv[i];
		int quote = !plain_word(s);

		/* Worst case per byte: ' becomes '\'' (4 bytes). */
		if (len + 4 * strlen(s) + 4 >= PF_LINE_MAX) {
			free(out);
			return NULL;
		}
		if (i > 0)
			out[len++] = ' ';
		if (quote)
			out[len++] = '\'';
		for (; *s != '\0'; s++) {
			if (*s == '\'') {
				memcpy(out + len, "'\\''", 4);
				len += 4;
			} else {
				out[len++] = *s;
			}
		}
		if (quote)
			out[len++] = '\'';
	}
	out[len] = '\0';
	return out;
}

/* --- the shared mapping rules ------------------------------------------------- */

int import_is_loopback(const char *host)
{
	return host != NULL && (strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
				strcasecmp(host, "localhost") == 0);
}

void import_finish(struct import_account *a)
{
	const char *host = a->host != NULL ? a->host : "the server";

	if (a->plaintext) {
		if (import_is_loopback(a->host)) {
			a->tls = TLS_NONE;
		} else {
			/* Never weaker than the peer, and stronger where the
			 * server allows: the password no longer goes in clear. */
			a->tls = TLS_STARTTLS;
			import_note(&a->notes, "the peer used no TLS with %s: imported with tls = "
				    "starttls (if the server has no STLS, use port 995 with tls = "
				    "implicit)", host);
		}
	}
	if (a->no_certcheck && a->tls != TLS_NONE)
		import_note(&a->notes, "the peer did not verify the certificate of %s: imported "
			    "WITH verification; if the server's certificate is self-signed, pin "
			    "it instead: tls_fingerprint = \"sha256:...\" as popfetch --serverinfo "
			    "ACCOUNT prints it (or: openssl s_client -connect %s:%d%s </dev/null | "
			    "openssl x509 -noout -fingerprint -sha256)", host, host,
			    a->port ? a->port : (a->tls == TLS_IMPLICIT ? 995 : 110),
			    a->tls == TLS_STARTTLS ? " -starttls pop3" : "");
}
