/* import_state.c - reads the peers' UID state files (see import.h).  Pure:
 * text in, UIDs out.  A state file is untrusted input: every line is
 * bounded, every UID checked (RFC 1939 section 7: 1 to 70 octets in
 * 0x21..0x7E, what popfetch's uid store accepts), and a line that is not
 * in the format is an error naming it, never skipped: a misread state
 * would download (or, in delete mode, delete) the wrong messages. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"

static int uid_ok(const char *s, size_t n)
{
	if (n == 0 || n > PF_UID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static int add_uid(struct import_uids *u, const char *s, size_t n, struct pf_error *err)
{
	if (u->n >= IMPORT_UIDS_MAX)
		return pf_error_set(err, PF_ERR_CONFIG, "more than %lu UIDs for one account",
				    (unsigned long)IMPORT_UIDS_MAX);
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 64;
		u->v = xrealloc(u->v, u->cap * sizeof *u->v);
	}
	u->v[u->n] = xmalloc(n + 1);
	memcpy(u->v[u->n], s, n);
	u->v[u->n][n] = '\0';
	u->n++;
	return 0;
}

void import_uids_free(struct import_uids *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->v[i]);
	free(u->v);
	memset(u, 0, sizeof *u);
}

static int too_big(size_t len, const char *what, struct pf_error *err)
{
	if (len <= (size_t)IMPORT_STATE_MAX)
		return 0;
	return pf_error_set(err, PF_ERR_CONFIG, "%s: larger than %ld bytes", what,
			    IMPORT_STATE_MAX);
}

/* --- fetchmail ------------------------------------------------------------------ */

/* One idfile line as fetchmail's initialize_saved_lists() reads it: the
 * first '@', the first blank after it ends USER@HOST, HOST follows the
 * last '@' before that blank (a user may hold '@'), then the UID. */
static int fetchmail_line(const char *s, const char *user, const char *host,
			  struct import_uids *out, struct pf_error *err, size_t lineno)
{
	const char *at = strchr(s, '@'), *sp, *last_at, *id;
	size_t ulen, hlen, idlen;

	s += strspn(s, " \t");
	if (*s == '\0')
		return 0;
	sp = at != NULL ? at + strcspn(at, " \t") : NULL;
	if (at == NULL || *sp == '\0')
		return pf_error_set(err, PF_ERR_CONFIG, "fetchmail idfile, line %zu: not "
				    "\"USER@HOST UID\"", lineno);
	for (last_at = sp; *last_at != '@'; last_at--)
		;
	id = sp + strspn(sp, " \t");
	idlen = strcspn(id, " \t");
	if (!uid_ok(id, idlen) || id[idlen + strspn(id + idlen, " \t")] != '\0')
		return pf_error_set(err, PF_ERR_CONFIG, "fetchmail idfile, line %zu: invalid "
				    "UID", lineno);
	ulen = (size_t)(last_at - s);
	hlen = (size_t)(sp - last_at - 1);
	if (strlen(user) != ulen || strncasecmp(s, user, ulen) != 0 || strlen(host) != hlen ||
	    strncasecmp(last_at + 1, host, hlen) != 0)
		return 0;
	out->found = 1;
	return add_uid(out, id, idlen, err);
}

int import_state_fetchmail(const char *text, size_t len, const char *user, const char *host,
			   struct import_uids *out, struct pf_error *err)
{
	struct import_lines l;
	char *buf = xmalloc(PF_LINE_MAX);
	int r, rc = -1;

	if (too_big(len, "fetchmail idfile", err) < 0)
		goto out;
	import_lines_init(&l, text, len, "fetchmail idfile");
	while ((r = import_next_line(&l, buf, err)) > 0)
		if (fetchmail_line(buf, user, host, out, err, l.lineno) < 0)
			goto out;
	rc = r;
out:
	free(buf);
	return rc;
}

/* --- mpop ------------------------------------------------------------------- */

/* " COUNT HOST USER": the header of one list (mpop's uidls.c). */
static int mpop_header(const char *s, long *count, const char **host, size_t *hlen,
		       const char **user)
{
	char *e;

	if (s[0] != ' ' || !isdigit((unsigned char)s[1]))
		return -1;
	*count = strtol(s + 1, &e, 10);
	if (*count < 1 || *count > (long)IMPORT_UIDS_MAX || *e != ' ')
		return -1;
	*host = e + 1;
	*hlen = strcspn(*host, " ");
	if (*hlen == 0 || (*host)[*hlen] != ' ')
		return -1;
	*user = *host + *hlen + 1;
	if ((*user)[0] == '\0' || strchr(*user, ' ') != NULL)
		return -1;
	return 0;
}

int import_state_mpop(const char *text, size_t len, const char *host, const char *user,
		      struct import_uids *out, struct pf_error *err)
{
	struct import_lines l;
	char *buf = xmalloc(PF_LINE_MAX);
	long left = 0;
	int r, rc = -1, mine = 0;

	if (too_big(len, "mpop uidls file", err) < 0)
		goto out;
	import_lines_init(&l, text, len, "mpop uidls file");
	while ((r = import_next_line(&l, buf, err)) > 0) {
		const char *h, *u;
		size_t hlen;

		if (left == 0) {
			if (buf[0] == '#')
				continue;
			if (mpop_header(buf, &left, &h, &hlen, &u) < 0) {
				pf_error_set(err, PF_ERR_CONFIG, "mpop uidls file, line %zu: not \" "
					     "COUNT HOST USER\"", l.lineno);
				goto out;
			}
			mine = strlen(host) == hlen && strncmp(h, host, hlen) == 0 &&
			       strcmp(u, user) == 0;
			out->found |= mine;
			continue;
		}
		if (!uid_ok(buf, strlen(buf))) {
			pf_error_set(err, PF_ERR_CONFIG, "mpop uidls file, line %zu: invalid UID",
				     l.lineno);
			goto out;
		}
		if (mine && add_uid(out, buf, strlen(buf), err) < 0)
			goto out;
		left--;
	}
	if (r < 0)
		goto out;
	if (left > 0) {
		pf_error_set(err, PF_ERR_CONFIG, "mpop uidls file: ends %ld UIDs short of its "
			     "count (cut short?)", left);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

/* --- getmail ------------------------------------------------------------------ */

/* 1 when [s, e) is one or more decimal digits. */
static int digits(const char *s, const char *e)
{
	if (s >= e)
		return 0;
	for (; s < e; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* getmail wrote "%s\0%i" + os.linesep per UID, having replaced every '/'
 * in a UID by '-' (getmailcore/_retrieverbases.py).  A UID holding '-'
 * may therefore have been one with '/': both are recorded, and the one the
 * server does not list is forgotten by the uid store's grace period.  A
 * server's UIDs come from one alphabet (base64, with '/', has no '-'), so
 * the variant never names a second, undelivered message; and getmail
 * itself took the two for one. */
int import_state_getmail(const char *text, size_t len, struct import_uids *out,
			 struct pf_error *err)
{
	const char *p = text, *end = text + len;
	size_t lineno = 0;

	if (too_big(len, "getmail oldmail file", err) < 0)
		return -1;
	out->found = 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		const char *nul = memchr(p, '\0', (size_t)(le - p));
		size_t idlen = nul ? (size_t)(nul - p) : 0;

		lineno++;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p) {
			p = nl ? nl + 1 : end;
			continue;
		}
		if (nul == NULL || !uid_ok(p, idlen) || !digits(nul + 1, le))
			return pf_error_set(err, PF_ERR_CONFIG, "getmail oldmail file, line %zu: "
					    "not UID\\0TIMESTAMP", lineno);
		if (add_uid(out, p, idlen, err) < 0)
			return -1;
		if (memchr(p, '-', idlen) != NULL) {
			char alt[PF_UID_MAX + 1];

			memcpy(alt, p, idlen);
			for (size_t i = 0; i < idlen; i++)
				alt[i] = alt[i] == '-' ? '/' : alt[i];
			if (add_uid(out, alt, idlen, err) < 0)
				return -1;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int import_getmail_oldmail_name(const char *server, int port, const char *user, char *out,
				size_t cap)
{
	char raw[2 * PF_NAME_MAX + 32];
	size_t o = 0;
	int n = snprintf(raw, sizeof raw, "oldmail-%s-%d-%s", server, port, user);

	if (n < 0 || (size_t)n >= sizeof raw)
		return -1;
	/* re.sub(r'[/\:;<>|]+', '-', name) */
	for (size_t i = 0; raw[i] != '\0'; i++) {
		int special = strchr("/\\:;<>|", raw[i]) != NULL;

		if (special && i > 0 && strchr("/\\:;<>|", raw[i - 1]) != NULL)
			continue;
		if (o + 1 >= cap)
			return -1;
		out[o++] = special ? '-' : raw[i];
	}
	out[o] = '\0';
	return 0;
}
