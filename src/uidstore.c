/* uidstore.c - see uidstore.h.  The file is a journal: records are appended
 * in batches and fsynced by uidstore_commit() (DESIGN.md section 2, step 4);
 * uidstore_compact() rewrites it as temp file, fsync, rename, fsync of the
 * directory.  In memory a chained hash table maps each uid to its entry. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "uidstore.h"
#include "uidstore_int.h"
#include "util.h"

#define STORE_MAGIC "popfetch-uids 1"

/* Table sizing: start small, double when there are more uids than
 * buckets (chains stay short on average). */
#define BUCKETS_MIN 1024
/* presize(): a file of N bytes holds at most about N / 64 uids (a
 * delivered record with its Maildir name is longer), and presizing stops
 * at a million buckets (8 MB); grow() takes over beyond. */
#define RECORD_MIN_GUESS 64
#define BUCKETS_PRESIZE_MAX (1024 * 1024)

/* Compact when the journal holds more records than this or one and a half
 * times the number of uids, whichever is more: a first fetch writes a
 * pending and a delivered record per message, so it ends compacted and
 * every later poll reads one record per uid. */
#define COMPACT_MIN_RECORDS 1000

/* A last_seen this much newer in memory than on disk is worth a rewrite;
 * below it, polls that find nothing new write nothing. */
#define SEEN_REFRESH_S (24 * 3600)

/* Read and write chunk for the state file. */
#define STORE_IO_CHUNK (64 * 1024)

/* Fields of the longest record ("D uid name first last"). */
#define FIELDS_MAX 5

/* --- validation ---------------------------------------------------------- */

/* RFC 1939 section 7: 1 to 70 octets in 0x21..0x7E (as pop3_uid_valid,
 * repeated so this module does not depend on the protocol code). */
static int uid_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || i >= PF_UID_MAX)
			return 0;
	return i > 0;
}

/* A Maildir name as maildir_make_name makes them: printable, no '/', not
 * "." or "..", which would always "exist" in new/. */
static int name_ok(const char *s)
{
	size_t i;

	if (s[0] == '.')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || s[i] == '/' ||
		    i >= PF_NAME_MAX)
			return 0;
	return i > 0;
}

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

/* --- the hash table ------------------------------------------------------ */

/* FNV-1a, seeded per store so a server cannot choose uids that all land in
 * one chain by knowing the hash in advance. */
static uint64_t hash_uid(const struct uidstore *s, const char *uid)
{
	uint64_t h = 14695981039346656037ULL ^ s->seed;

	for (; *uid != '\0'; uid++) {
		h ^= (unsigned char)*uid;
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

static struct entry *find(const struct uidstore *s, const char *uid, uint64_t h)
{
	struct entry *e = s->buckets[h & (s->nbuckets - 1)];

	while (e != NULL && (e->hash != h || strcmp(e->uid, uid) != 0))
		e = e->next;
	return e;
}

static void grow(struct uidstore *s)
{
	size_t n = s->nbuckets * 2;
	struct entry **b = xcalloc(n, sizeof *b);

	for (size_t i = 0; i < s->nbuckets; i++) {
		struct entry *e = s->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

/* Before loading: a table for about n uids, so that loading a large store
 * does not rehash it again and again.  The table is still empty. */
static void presize(struct uidstore *s, uint64_t n)
{
	size_t want = s->nbuckets;

	while (want < n && want < BUCKETS_PRESIZE_MAX)
		want *= 2;
	if (want == s->nbuckets)
		return;
	free(s->buckets);
	s->buckets = xcalloc(want, sizeof *s->buckets);
	s->nbuckets = want;
}

/* The entry for uid, created (state UNKNOWN) when missing. */
static struct entry *get_or_add(struct uidstore *s, const char *uid)
{
	uint64_t h = hash_uid(s, uid);
	struct entry *e = find(s, uid, h);
	size_t len = strlen(uid);

	if (e != NULL)
		return e;
	if (s->count >= s->nbuckets)
		grow(s);
	e = arena_alloc(&s->mem, sizeof *e + len + 1);
	memcpy(e->uid, uid, len + 1);
	e->hash = h;
	e->next = s->buckets[h & (s->nbuckets - 1)];
	s->buckets[h & (s->nbuckets - 1)] = e;
	s->count++;
	return e;
}

static void remove_uid(struct uidstore *s, const char *uid)
{
	uint64_t h = hash_uid(s, uid);
	struct entry **pp = &s->buckets[h & (s->nbuckets - 1)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		struct entry *e = *pp;

		if (e->hash == h && strcmp(e->uid, uid) == 0) {
			*pp = e->next; /* its memory stays in s->mem until close */
			s->count--;
			return;
		}
	}
}

/* The delivered record usually repeats the pending one's name: kept, not
 * copied again.  A replaced name stays in s->mem until close. */
static void set_name(struct uidstore *s, struct entry *e, const char *name)
{
	if (e->name != NULL && strcmp(e->name, name) == 0)
		return;
	e->name = arena_strdup(&s->mem, name);
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
	struct entry *e = get_or_add(s, f[1]);

	set_name(s, e, f[2]);
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
	if (!uid_ok(f[1]))
		return -1;
	*why = "invalid Maildir name";
	if (n >= 3 && !name_ok(f[2]))
		return -1;
	*why = "invalid time";
	if (n == 5 && (parse_time(f[3], &t1) < 0 || parse_time(f[4], &t2) < 0))
		return -1;
	s->journal++;
	if (type == 'F') {
		remove_uid(s, f[1]);
	} else if (type == 'D') {
		apply_delivered(s, f, t1, t2);
	} else {
		struct entry *e = get_or_add(s, f[1]);

		set_name(s, e, f[2]);
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

/* Appends one formatted record to the pending buffer. */
static int add_record(struct uidstore *s, struct pf_error *err, const char *fmt, ...)
	PF_PRINTF(3, 4);

static int add_record(struct uidstore *s, struct pf_error *err, const char *fmt, ...)
{
	char line[PF_STORE_LINE_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line)
		return pf_error_set(err, PF_ERR_LOCAL, "record for state file %s is too long",
				    s->path);
	if (s->pend_len + (size_t)n > s->pend_cap) {
		s->pend_cap = s->pend_cap ? s->pend_cap * 2 : 4096;
		if (s->pend_cap < s->pend_len + (size_t)n)
			s->pend_cap = s->pend_len + (size_t)n;
		s->pend = xrealloc(s->pend, s->pend_cap);
	}
	memcpy(s->pend + s->pend_len, line, (size_t)n);
	s->pend_len += (size_t)n;
	s->pend_records++;
	return 0;
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

static int load(struct uidstore *s, struct pf_error *err)
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

/* --- writing the file ---------------------------------------------------- */

struct writer {
	int fd;
	char *buf;
	size_t len;
	int failed;
};

static void wflush(struct writer *w)
{
	if (!w->failed && w->len > 0 && pf_write_all(w->fd, w->buf, w->len) < 0)
		w->failed = errno;
	w->len = 0;
}

static void wline(struct writer *w, const char *fmt, ...) PF_PRINTF(2, 3);

static void wline(struct writer *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (STORE_IO_CHUNK - w->len < PF_STORE_LINE_MAX + 2)
		wflush(w);
	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->len, STORE_IO_CHUNK - w->len, fmt, ap);
	va_end(ap);
	/* Every record was checked to fit PF_STORE_LINE_MAX when added. */
	if (n < 0 || (size_t)n >= STORE_IO_CHUNK - w->len)
		w->failed = EOVERFLOW;
	else
		w->len += (size_t)n;
}

static void write_entries(struct uidstore *s, struct writer *w)
{
	wline(w, "%s\n%s\n", STORE_MAGIC, s->hline);
	for (size_t i = 0; i < s->nbuckets; i++)
		for (struct entry *e = s->buckets[i]; e != NULL; e = e->next) {
			if (e->state == UID_PENDING)
				wline(w, "P %s %s\n", e->uid, e->name);
			else if (e->state == UID_DELIVERED)
				wline(w, "D %s %s %lld %lld\n", e->uid, e->name,
				      (long long)e->first_seen, (long long)e->last_seen);
		}
	wflush(w);
}

int uidstore_io_error(int e, const char *what, const char *file, struct pf_error *err)
{
	if (e == ENOSPC || e == EDQUOT)
		return pf_error_set(err, PF_ERR_LOCAL, "disk full writing state file %s", file);
	return pf_error_errno(err, PF_ERR_LOCAL, e, "cannot %s state file %s", what, file);
}

/* fsyncs the directory and each ancestor: a state directory created just
 * before (mkdir -p) must survive a crash along with the file in it. */
static int sync_dir_chain(int dir_fd)
{
	struct stat st, pst;
	int cur = dup(dir_fd), rc = -1;

	while (cur >= 0 && fsync(cur) == 0 && fstat(cur, &st) == 0) {
		int parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (parent < 0 || fstat(parent, &pst) < 0 ||
		    (pst.st_ino == st.st_ino && pst.st_dev == st.st_dev)) {
			rc = 0; /* reached "/" (or cannot look higher) */
			if (parent >= 0)
				close(parent);
			break;
		}
		close(cur);
		cur = parent;
	}
	if (cur >= 0)
		close(cur);
	return rc;
}

/* Writes the whole table to the temp file and renames it over the store.
 * On success s->fd is the new file; chain: fsync the directory's ancestors
 * too (creation). */
static int rewrite(struct uidstore *s, int chain, struct pf_error *err)
{
	struct writer w = { .fd = -1 };
	const char *tmppath = s->tmppath;
	int renamed = 0;

	if (s->poisoned)
		return pf_error_set(err, PF_ERR_LOCAL, "state file %s had a write error earlier "
				    "in this run; not rewriting it", s->path);
	if (unlinkat(s->dir_fd, s->tmpname, 0) < 0 && errno != ENOENT)
		return uidstore_io_error(errno, "remove stale", tmppath, err);
	w.fd = openat(s->dir_fd, s->tmpname,
		      O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w.fd < 0)
		return uidstore_io_error(errno, "create", tmppath, err);
	w.buf = xmalloc(STORE_IO_CHUNK);
	write_entries(s, &w);
	if (w.failed) {
		uidstore_io_error(w.failed, "write", tmppath, err);
		goto fail;
	}
	if (fsync(w.fd) < 0) {
		uidstore_io_error(errno, "fsync", tmppath, err);
		goto fail;
	}
	/* Here rename is right: replacing the old file is the point, and
	 * either version is complete and valid. */
	if (renameat(s->dir_fd, s->tmpname, s->dir_fd, s->fname) < 0) {
		uidstore_io_error(errno, "rename over", s->path, err);
		goto fail;
	}
	renamed = 1;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = w.fd;
	w.fd = -1;
	if ((chain ? sync_dir_chain(s->dir_fd) : fsync(s->dir_fd)) < 0) {
		/* Which version survives a crash is unknown: stop here. */
		s->poisoned = 1;
		uidstore_io_error(errno, "fsync the directory of", s->path, err);
		goto fail;
	}
	free(w.buf);
	return 0;
fail:
	if (w.fd >= 0)
		close(w.fd);
	if (!renamed)
		(void)unlinkat(s->dir_fd, s->tmpname, 0);
	free(w.buf);
	return -1;
}

/* --- open and close ------------------------------------------------------ */

static int set_names(struct uidstore *s, const char *dir, const char *account,
		     struct pf_error *err)
{
	int n1 = snprintf(s->path, sizeof s->path, "%s/%s.uids", dir, account);
	int n2 = snprintf(s->fname, sizeof s->fname, "%s.uids", account);
	int n3 = snprintf(s->tmpname, sizeof s->tmpname, "%s.uids.tmp", account);
	int n4 = snprintf(s->account, sizeof s->account, "%s", account);
	int n5 = snprintf(s->tmppath, sizeof s->tmppath, "%s/%s", dir, s->tmpname);

	if (n1 < 0 || (size_t)n1 >= sizeof s->path || n2 < 0 || (size_t)n2 >= sizeof s->fname ||
	    n3 < 0 || (size_t)n3 >= sizeof s->tmpname || n4 < 0 ||
	    (size_t)n4 >= sizeof s->account || n5 < 0 || (size_t)n5 >= sizeof s->tmppath ||
	    account[0] == '\0' || strchr(account, '/') != NULL)
		return pf_error_set(err, PF_ERR_LOCAL, "state file name for account %s in %s "
				    "is too long or invalid", account, dir);
	return 0;
}

static uint64_t make_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
		seed = (uint64_t)pf_now_ms() ^ ((uint64_t)getpid() << 32);
	return seed;
}

/* Opens and reads the file, or creates it when it is missing or empty (a
 * crash during creation leaves at most an empty file). */
static int open_file(struct uidstore *s, struct pf_error *err)
{
	struct stat st;

	s->fd = openat(s->dir_fd, s->fname, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (s->fd < 0 && errno != ENOENT)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot open state file %s",
				      s->path);
	if (s->fd >= 0 && fstat(s->fd, &st) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot stat state file %s",
				      s->path);
	if (s->fd < 0 || st.st_size == 0) {
		s->has_hline = 1; /* rewrite() writes s->hline, the binding asked for */
		return rewrite(s, 1, err);
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > PF_STORE_FILE_MAX)
		return pf_error_set(err, PF_ERR_LOCAL, "state file %s is not a regular file or "
				    "is too large", s->path);
	presize(s, (uint64_t)st.st_size / RECORD_MIN_GUESS);
	return load(s, err);
}

struct uidstore *uidstore_open(const char *dir, const char *account, const char *host,
			       const char *user, struct pf_error *err)
{
	struct uidstore *s = xcalloc(1, sizeof *s);

	s->fd = -1;
	s->nbuckets = BUCKETS_MIN;
	s->buckets = xcalloc(s->nbuckets, sizeof *s->buckets);
	s->seed = make_seed();
	/* The state directory may be a symlink (dotfiles kept elsewhere);
	 * the files in it are opened with O_NOFOLLOW. */
	s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot open state directory %s", dir);
		goto fail;
	}
	if (set_names(s, dir, account, err) < 0 || uidstore_bind_init(s, host, user, err) < 0 ||
	    open_file(s, err) < 0 || uidstore_bind_loaded(s, err) < 0)
		goto fail;
	return s;
fail:
	uidstore_close(s);
	return NULL;
}

int uidstore_exists(const char *dir, const char *account, struct pf_error *err)
{
	char path[PF_PATH_MAX];
	struct stat st;
	int n = snprintf(path, sizeof path, "%s/%s.uids", dir, account);

	if (n < 0 || (size_t)n >= sizeof path)
		return pf_error_set(err, PF_ERR_LOCAL, "state file name for account %s in %s "
				    "is too long", account, dir);
	if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot examine state file %s", path);
}

void uidstore_close(struct uidstore *s)
{
	if (s == NULL)
		return;
	arena_free(&s->mem);
	free(s->buckets);
	free(s->pend);
	if (s->fd >= 0)
		close(s->fd);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	free(s);
}

/* --- the public verbs ---------------------------------------------------- */

/* A foreign store (uidstore_bind.c) answers as if empty and refuses every
 * write: it must never make a poll skip or delete anything. */

enum uid_state uidstore_get(struct uidstore *s, const char *uid, const char **name_r)
{
	struct entry *e = s->foreign ? NULL : find(s, uid, hash_uid(s, uid));

	if (name_r != NULL)
		*name_r = e != NULL ? e->name : NULL;
	return e != NULL ? (enum uid_state)e->state : UID_UNKNOWN;
}

time_t uidstore_first_seen(struct uidstore *s, const char *uid)
{
	struct entry *e = s->foreign ? NULL : find(s, uid, hash_uid(s, uid));

	return e != NULL && e->state == UID_DELIVERED ? (time_t)e->first_seen : 0;
}

int uidstore_set_pending(struct uidstore *s, const char *uid, const char *name,
			 struct pf_error *err)
{
	struct entry *e;

	if (uidstore_refuse_foreign(s, err) < 0)
		return -1;
	if (!uid_ok(uid) || !name_ok(name))
		return pf_error_set(err, PF_ERR_LOCAL, "refusing to record uid '%s' as '%s' in %s: "
				    "invalid uid or name", uid, name, s->path);
	e = get_or_add(s, uid);
	set_name(s, e, name);
	e->state = UID_PENDING;
	return add_record(s, err, "P %s %s\n", e->uid, e->name);
}

int uidstore_set_delivered(struct uidstore *s, const char *uid, const char *name,
			   time_t now, struct pf_error *err)
{
	struct entry *e = uid_ok(uid) ? find(s, uid, hash_uid(s, uid)) : NULL;

	if (uidstore_refuse_foreign(s, err) < 0)
		return -1;
	if (name == NULL && (e == NULL || e->name == NULL))
		return pf_error_set(err, PF_ERR_LOCAL, "uid '%s' has no pending delivery in %s",
				    uid, s->path);
	if (!uid_ok(uid) || (name != NULL && !name_ok(name)))
		return pf_error_set(err, PF_ERR_LOCAL, "refusing to record uid '%s' in %s: "
				    "invalid uid or name", uid, s->path);
	if (e == NULL)
		e = get_or_add(s, uid);
	if (name != NULL)
		set_name(s, e, name);
	e->state = UID_DELIVERED;
	e->first_seen = e->last_seen = e->disk_seen = (int64_t)now;
	e->seen = 1;
	return add_record(s, err, "D %s %s %lld %lld\n", e->uid, e->name, (long long)now,
			  (long long)now);
}

int uidstore_forget(struct uidstore *s, const char *uid, struct pf_error *err)
{
	if (uidstore_refuse_foreign(s, err) < 0)
		return -1;
	/* Record first: uid may be the entry's own string. */
	if (!uid_ok(uid))
		return pf_error_set(err, PF_ERR_LOCAL, "refusing to forget invalid uid '%s' in %s",
				    uid, s->path);
	if (add_record(s, err, "F %s\n", uid) < 0)
		return -1;
	remove_uid(s, uid);
	return 0;
}

int uidstore_commit(struct uidstore *s, struct pf_error *err)
{
	if (uidstore_refuse_foreign(s, err) < 0)
		return -1;
	if (s->poisoned)
		return pf_error_set(err, PF_ERR_LOCAL, "state file %s had a write error earlier "
				    "in this run; nothing more is recorded", s->path);
	if (s->pend_len == 0)
		return 0;
	/* One write, then fsync.  If either fails the file's state is
	 * unknown (Linux may drop dirty pages after a failed fsync and
	 * report success the next time), so the store refuses all later
	 * commits: the caller must delete nothing. */
	if (pf_write_all(s->fd, s->pend, s->pend_len) < 0) {
		s->poisoned = 1;
		return uidstore_io_error(errno, "append to", s->path, err);
	}
	if (fsync(s->fd) < 0) {
		s->poisoned = 1;
		return uidstore_io_error(errno, "fsync", s->path, err);
	}
	s->journal += s->pend_records;
	s->pend_len = s->pend_records = 0;
	return 0;
}

void uidstore_mark_seen(struct uidstore *s, const char *uid, time_t now)
{
	struct entry *e = find(s, uid, hash_uid(s, uid));

	if (e == NULL)
		return;
	e->seen = 1;
	if (e->state == UID_DELIVERED && (int64_t)now > e->last_seen) {
		e->last_seen = (int64_t)now;
		if (e->last_seen - e->disk_seen > SEEN_REFRESH_S)
			s->stale_seen = 1;
	}
}

size_t uidstore_expire(struct uidstore *s, time_t now, time_t grace_s)
{
	size_t n = 0;

	for (size_t i = 0; !s->foreign && i < s->nbuckets; i++) {
		struct entry **pp = &s->buckets[i];

		while (*pp != NULL) {
			struct entry *e = *pp;

			if (e->state == UID_DELIVERED && !e->seen &&
			    e->last_seen < (int64_t)now - (int64_t)grace_s) {
				*pp = e->next;
				s->count--;
				n++;
				continue;
			}
			e->seen = 0; /* the next listing starts afresh */
			pp = &e->next;
		}
	}
	s->expired += n;
	return n;
}

int uidstore_compact(struct uidstore *s, struct pf_error *err)
{
	if (uidstore_refuse_foreign(s, err) < 0 || rewrite(s, 0, err) < 0)
		return -1;
	/* The new file holds every entry, uncommitted changes included. */
	s->journal = s->count;
	s->pend_len = s->pend_records = 0;
	s->expired = 0;
	s->stale_seen = 0;
	for (size_t i = 0; i < s->nbuckets; i++)
		for (struct entry *e = s->buckets[i]; e != NULL; e = e->next)
			e->disk_seen = e->last_seen;
	return 0;
}

int uidstore_wants_compact(const struct uidstore *s, time_t now)
{
	size_t limit = s->count + s->count / 2;

	if (limit < COMPACT_MIN_RECORDS)
		limit = COMPACT_MIN_RECORDS;

	(void)now;
	return s->journal + s->pend_records > limit || s->expired > 0 || s->stale_seen;
}

int uidstore_each_pending(struct uidstore *s,
			  int (*fn)(const char *uid, const char *name, void *ctx), void *ctx)
{
	/* fn may forget the entry it is given: keep its successor first.
	 * It never adds uids, so the table does not grow meanwhile. */
	for (size_t i = 0; !s->foreign && i < s->nbuckets; i++) {
		struct entry *e = s->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			if (e->state == UID_PENDING && fn(e->uid, e->name, ctx) < 0)
				return -1;
		}
	}
	return 0;
}

size_t uidstore_count(const struct uidstore *s)
{
	return s->count;
}
