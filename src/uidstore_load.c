/* uidstore_load.c - the journal's grammar (uidstore.h): reading a state
 * file line by line into the table, with every record validated.  A torn
 * last line (an append cut by a crash before its fsync returned, so
 * nothing relied on it) is cut off; anything else malformed is corruption,
 * reported with the file and line and never read as an empty store. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uidstore.h"
#include "uidstore_int.h"
#include "util.h"

/* Fields of the longest record ("D uid name first last"). */
#define FIELDS_MAX 5

/* --- fields -------------------------------------------------------------- */

static int token_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* Unix seconds: 1 to 18 decimal digits (no sign, no overflow). */
static int parse_time(const char *s, int64_t *v_r)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 18; i++)
		v = v * 10 + (s[i] - '0');
	if (i == 0 || s[i] != '\0')
		return -1;
	*v_r = v;
	return 0;
}

/* --- records ------------------------------------------------------------- */

/* Splits line on single spaces.  Returns the field count, or -1 for an
 * empty field or more than FIELDS_MAX. */
static int split(char *line, char **f)
{
	int n = 0;

	for (;;) {
		char *sp = strchr(line, ' ');

		if (n == FIELDS_MAX || *line == '\0' || line == sp)
			return -1;
		f[n++] = line;
		if (sp == NULL)
			return n;
		*sp = '\0';
		line = sp + 1;
	}
}

static void apply_delivered(struct uidstore *s, char **f, int64_t first, int64_t last)
{
	struct entry *e = uidstore_table_add(s, f[1]);

	uidstore_table_set_name(s, e, f[2]);
	e->state = UID_DELIVERED;
	e->first_seen = first;
	e->last_seen = e->disk_seen = last;
}

static int apply_host(struct uidstore *s, char **f, int n, const char **why)
{
	int len;

	if (n != 3)
		return -1;
	*why = "invalid host or user";
	if (!token_ok(f[1]) || !token_ok(f[2]))
		return -1;
	/* A later H record (popfetch --rebind-state) replaces an earlier one. */
	len = snprintf(s->hline, sizeof s->hline, "H %s %s", f[1], f[2]);
	s->has_hline = 1;
	return len > 0 && (size_t)len < sizeof s->hline ? 0 : -1;
}

/* P, D and F records; later records for a uid replace earlier ones. */
static int apply_uid(struct uidstore *s, char type, char **f, int n, const char **why)
{
	int64_t t1 = 0, t2 = 0;

	if (n != (type == 'F' ? 2 : type == 'P' ? 3 : 5))
		return -1;
	*why = "invalid uid";
	if (!uidstore_uid_ok(f[1]))
		return -1;
	*why = "invalid Maildir name";
	if (n >= 3 && !uidstore_name_ok(f[2]))
		return -1;
	*why = "invalid time";
	if (n == 5 && (parse_time(f[3], &t1) < 0 || parse_time(f[4], &t2) < 0))
		return -1;
	s->journal++;
	if (type == 'F') {
		uidstore_table_remove(s, f[1]);
	} else if (type == 'D') {
		apply_delivered(s, f, t1, t2);
	} else {
		struct entry *e = uidstore_table_add(s, f[1]);

		uidstore_table_set_name(s, e, f[2]);
		e->state = UID_PENDING;
	}
	return 0;
}

/* Applies one record line to the table.  0, or -1 with *why set. */
static int apply_line(struct uidstore *s, char *line, const char **why)
{
	char *f[FIELDS_MAX];
	int n = split(line, f);
	char type = n >= 1 && f[0][1] == '\0' ? f[0][0] : '?';

	*why = "bad field count";
	if (n < 1)
		return -1;
	switch (type) {
	case 'H':
		return apply_host(s, f, n, why);
	case 'P':
	case 'D':
	case 'F':
		return apply_uid(s, type, f, n, why);
	default:
		*why = "unknown record type";
		return -1;
	}
}

/* --- reading the file ---------------------------------------------------- */

struct reader {
	int fd;
	char *buf;            /* STORE_IO_CHUNK octets */
	size_t pos, len;
	uint64_t good_off;    /* file offset just after the last complete line */
};

/* The next complete line (NUL replaces '\n').  1 with *line_r and *len_r set; 0 at
 * the end (r->len - r->pos octets of a torn line left); -1 read error;
 * -2 a line longer than PF_STORE_LINE_MAX. */
static int next_line(struct reader *r, char **line_r, size_t *len_r)
{
	for (;;) {
		char *nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
		ssize_t n;

		if (nl != NULL) {
			if ((size_t)(nl - (r->buf + r->pos)) > PF_STORE_LINE_MAX)
				return -2;
			*nl = '\0';
			*line_r = r->buf + r->pos;
			*len_r = (size_t)(nl - *line_r);
			r->good_off += (uint64_t)(nl + 1 - *line_r);
			r->pos = (size_t)(nl + 1 - r->buf);
			return 1;
		}
		if (r->len - r->pos > PF_STORE_LINE_MAX)
			return -2;
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
		do
			n = read(r->fd, r->buf + r->len, STORE_IO_CHUNK - r->len);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return n < 0 ? -1 : 0;
		r->len += (size_t)n;
	}
}

static int corrupt(const struct uidstore *s, unsigned long lineno, const char *why,
		   struct pf_error *err)
{
	return pf_error_set(err, PF_ERR_LOCAL,
			    "state file %s is corrupted at line %lu (%s): run popfetch "
			    "--rebuild-state %s or move it away", s->path, lineno, why, s->account);
}

/* A final line without '\n' is an append torn by a crash before its fsync
 * returned, so nothing relied on it: cut it off, so that later appends do
 * not glue onto it. */
static int drop_torn(struct uidstore *s, uint64_t good_off, struct pf_error *err)
{
	if (ftruncate(s->fd, (off_t)good_off) < 0 || fsync(s->fd) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno,
				      "cannot drop the torn last line of state file %s", s->path);
	return 0;
}

int uidstore_load(struct uidstore *s, struct pf_error *err)
{
	struct reader r = { .fd = s->fd, .buf = xmalloc(STORE_IO_CHUNK) };
	unsigned long lineno = 0;
	const char *why = NULL;
	char *line;
	size_t len;
	int rc;

	while ((rc = next_line(&r, &line, &len)) == 1) {
		lineno++;
		if (strlen(line) != len) {
			why = "NUL byte";
			break;
		}
		if (lineno == 1 ? strcmp(line, STORE_MAGIC) != 0 : apply_line(s, line, &why) < 0)
			break;
	}
	if (rc == 1)
		rc = corrupt(s, lineno, why ? why : "not a popfetch uid store", err);
	else if (rc == -1)
		rc = pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot read state file %s", s->path);
	else if (rc == -2)
		rc = corrupt(s, lineno + 1, "line too long", err);
	else if (lineno == 0)
		rc = corrupt(s, 1, "not a popfetch uid store", err);
	else if (r.len > r.pos)
		rc = drop_torn(s, r.good_off, err);
	free(r.buf);
	return rc;
}

