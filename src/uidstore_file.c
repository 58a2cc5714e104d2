/* uidstore_file.c - the store's files (uidstore.h): their names, opening
 * and creating, the fsynced appends of uidstore_commit(), the rewrite of
 * uidstore_compact() (temp file, fsync, rename, fsync of the directory),
 * and a store built beside the current one to replace it.  No other file
 * of popfetch names a state file of the store. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "uidstore.h"
#include "uidstore_int.h"
#include "util.h"

/* A file of N bytes holds at most about N / 64 uids (a delivered record
 * with its Maildir name is longer): the table is presized for that. */
#define RECORD_MIN_GUESS 64

/* Compact when the journal holds more records than this or one and a half
 * times the number of uids, whichever is more: a first fetch writes a
 * pending and a delivered record per message, so it ends compacted and
 * every later poll reads one record per uid. */
#define COMPACT_MIN_RECORDS 1000

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
int uidstore_rewrite(struct uidstore *s, int chain, struct pf_error *err)
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

/* --- names -------------------------------------------------------------- */

/* The file names of a store: ACCOUNT.uids, its temp file ACCOUNT.uids.tmp,
 * the store kept by uidstore_replace() ACCOUNT.uids.bak, and a store being
 * built ACCOUNT~rebuild.uids, a name no account can have ('~' is not
 * allowed in titles).  Stores moved aside by uidstore_set_aside() are
 * named in uidstore_bind.c, ACCOUNT.uids.HOST.old. */
#define STORE_SUFFIX ".uids"
#define TMP_SUFFIX ".tmp"
#define BACKUP_SUFFIX ".bak"
#define BUILDING_SUFFIX "~rebuild"

int uidstore_path(const char *dir, const char *account, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s" STORE_SUFFIX, dir, account);

	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* stem: the account, or the account with BUILDING_SUFFIX. */
static int set_names(struct uidstore *s, const char *dir, const char *account,
		     const char *stem, struct pf_error *err)
{
	int n1 = snprintf(s->path, sizeof s->path, "%s/%s" STORE_SUFFIX, dir, stem);
	int n2 = snprintf(s->fname, sizeof s->fname, "%s" STORE_SUFFIX, stem);
	int n3 = snprintf(s->tmpname, sizeof s->tmpname, "%s" STORE_SUFFIX TMP_SUFFIX, stem);
	int n4 = snprintf(s->account, sizeof s->account, "%s", account);
	int n5 = snprintf(s->tmppath, sizeof s->tmppath, "%s/%s", dir, s->tmpname);
	int n6 = snprintf(s->target, sizeof s->target, "%s" STORE_SUFFIX, account);

	if (n1 < 0 || (size_t)n1 >= sizeof s->path || n2 < 0 || (size_t)n2 >= sizeof s->fname ||
	    n3 < 0 || (size_t)n3 >= sizeof s->tmpname || n4 < 0 ||
	    (size_t)n4 >= sizeof s->account || n5 < 0 || (size_t)n5 >= sizeof s->tmppath ||
	    n6 < 0 || (size_t)n6 >= sizeof s->target - strlen(BACKUP_SUFFIX) ||
	    account[0] == '\0' || strchr(account, '/') != NULL)
		return pf_error_set(err, PF_ERR_LOCAL, "state file name for account %s in %s "
				    "is too long or invalid", account, dir);
	return 0;
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
		s->has_hline = 1; /* uidstore_rewrite() writes s->hline, the binding asked for */
		return uidstore_rewrite(s, 1, err);
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > PF_STORE_FILE_MAX)
		return pf_error_set(err, PF_ERR_LOCAL, "state file %s is not a regular file or "
				    "is too large", s->path);
	uidstore_table_presize(s, (uint64_t)st.st_size / RECORD_MIN_GUESS);
	return uidstore_load(s, err);
}

/* building: a new store under the building name, an earlier half-built
 * one removed first. */
static struct uidstore *open_store(const char *dir, const char *account, int building,
				   const char *host, const char *user, struct pf_error *err)
{
	struct uidstore *s = xcalloc(1, sizeof *s);
	char stem[PF_NAME_MAX + 1];
	int n = snprintf(stem, sizeof stem, "%s%s", account, building ? BUILDING_SUFFIX : "");

	s->fd = -1;
	uidstore_table_init(s);
	/* The state directory may be a symlink (dotfiles kept elsewhere);
	 * the files in it are opened with O_NOFOLLOW. */
	s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot open state directory %s", dir);
		goto fail;
	}
	if (n < 0 || (size_t)n >= sizeof stem) {
		pf_error_set(err, PF_ERR_LOCAL, "account name %s is too long", account);
		goto fail;
	}
	if (set_names(s, dir, account, stem, err) < 0)
		goto fail;
	if (building && unlinkat(s->dir_fd, s->fname, 0) < 0 && errno != ENOENT) {
		uidstore_io_error(errno, "remove the half-built", s->path, err);
		goto fail;
	}
	s->building = building;
	if (uidstore_bind_init(s, host, user, err) < 0 || open_file(s, err) < 0 ||
	    uidstore_bind_loaded(s, err) < 0)
		goto fail;
	return s;
fail:
	uidstore_close(s);
	return NULL;
}

struct uidstore *uidstore_open(const char *dir, const char *account, const char *host,
			       const char *user, struct pf_error *err)
{
	return open_store(dir, account, 0, host, user, err);
}

struct uidstore *uidstore_build(const char *dir, const char *account, const char *host,
				const char *user, struct pf_error *err)
{
	return open_store(dir, account, 1, host, user, err);
}

/* The old store is linked to ACCOUNT.uids.bak, then the new one renamed
 * over it: at every moment a complete store is in place, so a crash never
 * leaves the account without one (which would fetch everything again). */
int uidstore_replace(struct uidstore *s, struct pf_error *err)
{
	char bak[PF_NAME_MAX + 1];
	size_t dirlen = strlen(s->path) - strlen(s->fname);
	int n;

	if (!s->building)
		return pf_error_set(err, PF_ERR_INTERNAL, "%s is not a store being built", s->path);
	if (uidstore_commit(s, err) < 0 || uidstore_compact(s, err) < 0)
		return -1;
	n = snprintf(bak, sizeof bak, "%s" BACKUP_SUFFIX, s->target);
	if (n < 0 || (size_t)n >= sizeof bak)
		return pf_error_set(err, PF_ERR_LOCAL, "no room for a backup of %s", s->target);
	if (unlinkat(s->dir_fd, bak, 0) < 0 && errno != ENOENT)
		return uidstore_io_error(errno, "remove the old backup of", s->path, err);
	if (linkat(s->dir_fd, s->target, s->dir_fd, bak, 0) < 0 && errno != ENOENT)
		return uidstore_io_error(errno, "keep a backup of", s->target, err);
	if (renameat(s->dir_fd, s->fname, s->dir_fd, s->target) < 0)
		return uidstore_io_error(errno, "put in place", s->path, err);
	s->building = 0;
	/* From now on s is the account's store under its own names. */
	(void)snprintf(s->fname, sizeof s->fname, "%s", s->target);
	(void)snprintf(s->path + dirlen, sizeof s->path - dirlen, "%s", s->target);
	/* set_names() made sure the account's names fit with any suffix. */
	(void)snprintf(s->tmpname, sizeof s->tmpname, "%.*s" TMP_SUFFIX,
		       (int)(sizeof s->tmpname - sizeof TMP_SUFFIX), s->target);
	(void)snprintf(s->tmppath + dirlen, sizeof s->tmppath - dirlen, "%s", s->tmpname);
	if (fsync(s->dir_fd) < 0) {
		s->poisoned = 1;
		return uidstore_io_error(errno, "fsync the directory of", s->path, err);
	}
	return 0;
}

int uidstore_exists(const char *dir, const char *account, struct pf_error *err)
{
	char path[PF_PATH_MAX];
	struct stat st;

	if (uidstore_path(dir, account, path, sizeof path) < 0)
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
	/* A store built but never put in place is half-built: gone. */
	if (s->building && s->dir_fd >= 0)
		(void)unlinkat(s->dir_fd, s->fname, 0);
	arena_free(&s->mem);
	free(s->buckets);
	free(s->pend);
	if (s->fd >= 0)
		close(s->fd);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	free(s);
}

/* --- commit and compaction ----------------------------------------------- */

/* Appends the records added since the last write in one write. */
static int write_pending(struct uidstore *s, struct pf_error *err)
{
	if (uidstore_refuse_foreign(s, err) < 0)
		return -1;
	if (s->poisoned)
		return pf_error_set(err, PF_ERR_LOCAL, "state file %s had a write error earlier "
				    "in this run; nothing more is recorded", s->path);
	if (s->pend_len == 0)
		return 0;
	if (pf_write_all(s->fd, s->pend, s->pend_len) < 0) {
		s->poisoned = 1;
		return uidstore_io_error(errno, "append to", s->path, err);
	}
	s->journal += s->pend_records;
	s->pend_len = s->pend_records = 0;
	s->unsynced = 1;
	return 0;
}

int uidstore_write(struct uidstore *s, struct pf_error *err)
{
	return write_pending(s, err);
}

int uidstore_commit(struct uidstore *s, struct pf_error *err)
{
	/* One write, then fsync.  If either fails the file's state is
	 * unknown (Linux may drop dirty pages after a failed fsync and
	 * report success the next time), so the store refuses all later
	 * commits: the caller must delete nothing. */
	if (write_pending(s, err) < 0)
		return -1;
	if (!s->unsynced)
		return 0;
	if (fsync(s->fd) < 0) {
		s->poisoned = 1;
		return uidstore_io_error(errno, "fsync", s->path, err);
	}
	s->unsynced = 0;
	return 0;
}

int uidstore_compact(struct uidstore *s, struct pf_error *err)
{
	if (uidstore_refuse_foreign(s, err) < 0 || uidstore_rewrite(s, 0, err) < 0)
		return -1;
	/* The new file holds every entry, uncommitted changes included. */
	s->journal = s->count;
	s->pend_len = s->pend_records = 0;
	s->unsynced = 0;
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

