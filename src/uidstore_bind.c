/* uidstore_bind.c - the binding of a uid store to one server and one user
 * (DESIGN.md section 2, issue 12 item 4).
 *
 * A store records "H <host> <user>".  Its UIDs mean something only on
 * that server for that login: another server may hand out the same UIDs
 * for other messages, and in delete mode a UID "already delivered" is
 * deleted unfetched.  So a store opened for another host or user is
 * foreign: it answers as if empty and refuses every write (uidstore.c),
 * and uidstore_check_binding() stops the poll with the two ways on.  The
 * port is no part of the binding (the same mailbox over STARTTLS keeps its
 * UIDs), host names compare without case (DNS), and Gmail's "recent:"
 * login prefix names the same mailbox as the plain login. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "uidstore_int.h"
#include "util.h"

/* Aside names try .old, .old.2, ... up to this many before giving up. */
#define ASIDE_TRIES 100
/* The host as part of a file name: at most this many octets. */
#define ASIDE_HOST_MAX 64

/* Host and user for the H record, %XX-encoding anything that is not a
 * printable non-space octet (and '%'); "-" for an empty value. */
static int encode_token(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	if (src == NULL || *src == '\0')
		src = "-";
	for (; *src != '\0'; src++) {
		unsigned char c = (unsigned char)*src;

		if (n + 4 > cap)
			return -1;
		if (c < 0x21 || c > 0x7e || c == '%')
			n += (size_t)snprintf(dst + n, cap - n, "%%%02X", c);
		else
			dst[n++] = (char)c;
	}
	dst[n] = '\0';
	return 0;
}

/* "H host user" for host and user into out (PF_STORE_LINE_MAX + 1). */
static int make_hline(char *out, const char *host, const char *user)
{
	char h[PF_STORE_LINE_MAX / 2], u[PF_STORE_LINE_MAX / 2];

	if (encode_token(h, sizeof h, host) < 0 || encode_token(u, sizeof u, user) < 0)
		return -1;
	(void)snprintf(out, PF_STORE_LINE_MAX + 1, "H %s %s", h, u); /* fits: 2 halves */
	return 0;
}

/* The host and the user of an H line, each cut to cap octets. */
static void split_hline(const char *line, char *host, char *user, size_t cap)
{
	const char *h = line + 2, *sp = strchr(h, ' ');
	size_t hl = sp != NULL ? (size_t)(sp - h) : strlen(h);

	(void)snprintf(host, cap, "%.*s", (int)hl, h);
	(void)snprintf(user, cap, "%s", sp != NULL ? sp + 1 : "-");
}

/* Gmail's recent mode ("recent:me@gmail.com") lists the same mailbox. */
static const char *mailbox_user(const char *u)
{
	return strncmp(u, "recent:", 7) == 0 && u[7] != '\0' ? u + 7 : u;
}

static int same_binding(const char *a, const char *b)
{
	char ha[PF_STORE_LINE_MAX + 1], ua[PF_STORE_LINE_MAX + 1];
	char hb[PF_STORE_LINE_MAX + 1], ub[PF_STORE_LINE_MAX + 1];

	split_hline(a, ha, ua, sizeof ha);
	split_hline(b, hb, ub, sizeof hb);
	return strcasecmp(ha, hb) == 0 && strcmp(mailbox_user(ua), mailbox_user(ub)) == 0;
}

int uidstore_bind_init(struct uidstore *s, const char *host, const char *user,
		       struct pf_error *err)
{
	if (make_hline(s->bound, host, user) < 0)
		return pf_error_set(err, PF_ERR_LOCAL, "host or user of account %s too long "
				    "for its state file", s->account);
	memcpy(s->hline, s->bound, sizeof s->hline);
	return 0;
}

/* Appends s->bound to the journal and makes it durable. */
static int append_binding(struct uidstore *s, struct pf_error *err)
{
	char line[PF_STORE_LINE_MAX + 2];
	int n = snprintf(line, sizeof line, "%s\n", s->bound);

	if (s->poisoned)
		return pf_error_set(err, PF_ERR_LOCAL, "state file %s had a write error earlier "
				    "in this run; nothing more is recorded", s->path);
	if (n < 0 || (size_t)n >= sizeof line)
		return pf_error_set(err, PF_ERR_LOCAL, "binding record for %s is too long", s->path);
	if (pf_write_all(s->fd, line, (size_t)n) < 0 || fsync(s->fd) < 0) {
		s->poisoned = 1;
		return uidstore_io_error(errno, "append to", s->path, err);
	}
	memcpy(s->hline, s->bound, sizeof s->hline);
	s->has_hline = 1;
	s->foreign = 0;
	return 0;
}

int uidstore_bind_loaded(struct uidstore *s, struct pf_error *err)
{
	/* A store written before stores were bound: it belongs to the account
	 * as configured now, from this first poll on. */
	if (!s->has_hline)
		return append_binding(s, err);
	s->foreign = !same_binding(s->hline, s->bound);
	return 0;
}

int uidstore_refuse_foreign(const struct uidstore *s, struct pf_error *err)
{
	if (!s->foreign)
		return 0;
	return pf_error_set(err, PF_ERR_CONFIG, "state file %s belongs to another server or "
			    "user; not recording anything in it", s->path);
}

int uidstore_bound_to(const struct uidstore *s, const char *host, const char *user)
{
	char line[PF_STORE_LINE_MAX + 1];

	return make_hline(line, host, user) == 0 && same_binding(s->hline, line);
}

int uidstore_check_binding(const struct uidstore *s, struct pf_error *err)
{
	char rh[PF_STORE_LINE_MAX + 1], ru[PF_STORE_LINE_MAX + 1];
	char ch[PF_STORE_LINE_MAX + 1], cu[PF_STORE_LINE_MAX + 1];

	if (!s->foreign)
		return 0;
	split_hline(s->hline, rh, ru, sizeof rh);
	split_hline(s->bound, ch, cu, sizeof ch);
	/* Hosts and users are cut so that the two commands always fit. */
	return pf_error_set(err, PF_ERR_CONFIG,
			    "the uid store records user %.60s at %.60s, but the account logs in as "
			    "%.60s at %.60s; nothing was fetched or deleted.  The same mailbox under "
			    "a new name: popfetch --rebind-state %s; another mailbox: popfetch "
			    "--fresh-state %s (the old store is kept beside the new one)",
			    ru, rh, cu, ch, s->account, s->account);
}

int uidstore_rebind(struct uidstore *s, struct pf_error *err)
{
	return s->foreign ? append_binding(s, err) : 0;
}

/* "ACCOUNT.uids.HOST.old" (HOST from the H record, reduced to [A-Za-z0-9.-]),
 * with ".N" after it when that name is taken.  Never a name uidstore uses
 * itself: those end in ".uids" or ".uids.tmp". */
static int aside_name(const struct uidstore *s, int attempt, char *out, size_t cap)
{
	char host[PF_STORE_LINE_MAX + 1], user[PF_STORE_LINE_MAX + 1];
	size_t i;
	int n;

	split_hline(s->hline, host, user, ASIDE_HOST_MAX + 1);
	for (i = 0; host[i] != '\0'; i++)
		if (!(host[i] >= 'a' && host[i] <= 'z') && !(host[i] >= 'A' && host[i] <= 'Z') &&
		    !(host[i] >= '0' && host[i] <= '9') && host[i] != '.' && host[i] != '-')
			host[i] = '_';
	n = attempt == 1 ? snprintf(out, cap, "%s.%s.old", s->fname, host)
			 : snprintf(out, cap, "%s.%s.old.%d", s->fname, host, attempt);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

int uidstore_set_aside(struct uidstore *s, char *name_r, size_t cap, struct pf_error *err)
{
	/* link, not rename: a name taken by an earlier move is never replaced. */
	for (int attempt = 1; attempt <= ASIDE_TRIES; attempt++) {
		if (aside_name(s, attempt, name_r, cap) < 0)
			return pf_error_set(err, PF_ERR_LOCAL, "no room for a name beside %s",
					    s->path);
		if (linkat(s->dir_fd, s->fname, s->dir_fd, name_r, 0) == 0)
			break;
		if (errno != EEXIST)
			return uidstore_io_error(errno, "keep a copy of", s->path, err);
		if (attempt == ASIDE_TRIES)
			return pf_error_set(err, PF_ERR_LOCAL, "%d old stores beside %s already; "
					    "remove some", ASIDE_TRIES, s->path);
	}
	if (unlinkat(s->dir_fd, s->fname, 0) < 0)
		return uidstore_io_error(errno, "move aside", s->path, err);
	if (fsync(s->dir_fd) < 0)
		return uidstore_io_error(errno, "fsync the directory of", s->path, err);
	/* The next open starts a fresh store; this one holds nothing more. */
	s->foreign = 1;
	return 0;
}
