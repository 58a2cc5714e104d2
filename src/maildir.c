/* maildir.c - see maildir.h.  The save order follows Dovecot's
 * maildir-save.c and the Maildir convention (https://cr.yp.to/proto/maildir.html):
 * write in tmp/ (here usually an unnamed O_TMPFILE, so a crash leaves
 * nothing behind), fsync, link into new/ (link never replaces an existing
 * name, unlike rename), fsync new/. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs_sync.h"
#include "maildir.h"
#include "util.h"

/* The Maildir convention: files in tmp/ untouched for 36 hours are
 * leftovers of a crash. */
#define STALE_TMP_S (36 * 3600)

/* A host name is at most 64 octets (HOST_NAME_MAX); escaped, every octet
 * may become a 4-octet "\ooo". */
#define HOST_ESC_MAX (64 * 4 + 1)

/* Attempts at a unique name before giving up (each bumps Q). */
#define NAME_TRIES 100

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct maildir {
	char *path;
	int dir_fd, cur_fd, new_fd, tmp_fd;
	int no_tmpfile;      /* the file system lacks O_TMPFILE */
	int no_empty_path;   /* linkat(AT_EMPTY_PATH) refused: use /proc/self/fd */
	int syncfs_ok;       /* fs_syncfs_trusted() on new/ */
	long pid;            /* for names: the process that opened the Maildir */
	long long seen_max_s; /* largest leading time in new/ and cur/ names; -2: not scanned */
	char host[HOST_ESC_MAX];
};

struct maildir_file {
	struct maildir *md;
	int fd;
	int synced, broken, published;
	char tmpname[PF_NAME_MAX + 1]; /* "" for an unnamed O_TMPFILE */
};

/* Process-wide, so two handles on one Maildir in one process (parallel
 * accounts delivering to the same folder) never build the same name. */
static atomic_ulong name_counter;

static const char *const subdirs[3] = { "cur", "new", "tmp" };

/* --- opening ---------------------------------------------------------- */

/* fsyncs fd's directory and every ancestor: a directory we just created is
 * durable only once its entry in the parent is (the message fsyncs that
 * follow do not cover the parents). */
static int sync_ancestors(int fd)
{
	struct stat st, pst;
	int cur = dup(fd), rc = 0;

	while (cur >= 0) {
		int parent;

		if (fsync(cur) < 0 || fstat(cur, &st) < 0) {
			rc = -1;
			break;
		}
		parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0 || fstat(parent, &pst) < 0 ||
		    (pst.st_ino == st.st_ino && pst.st_dev == st.st_dev)) {
			if (parent >= 0)
				close(parent);
			break; /* reached "/" (or cannot go higher) */
		}
		close(cur);
		cur = parent;
	}
	if (cur >= 0)
		close(cur);
	return rc;
}

/* After a failed open: O_NOFOLLOW|O_DIRECTORY on a symlink gives ELOOP or
 * ENOTDIR, and "Not a directory" would mislead the user. */
static int is_symlink(int dirfd, const char *path)
{
	struct stat st;

	return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

/* Opens the Maildir root without following a symlink, creating it (and
 * its parents, mode 0700, DESIGN.md section 8) when missing. */
static int open_root(const char *path, struct pf_error *err)
{
	int fd = open(path, DIR_FLAGS);

	if (fd < 0 && errno == ENOENT) {
		if (pf_mkdirs(path, 0700) < 0)
			return pf_error_errno(err, PF_ERR_LOCAL, errno,
					      "cannot create Maildir %s: mkdir", path);
		fd = open(path, DIR_FLAGS);
		if (fd >= 0 && sync_ancestors(fd) < 0) {
			pf_error_errno(err, PF_ERR_LOCAL, errno,
				       "cannot make new Maildir %s durable: fsync", path);
			close(fd);
			return -1;
		}
	}
	if (fd < 0) {
		if (is_symlink(AT_FDCWD, path))
			return pf_error_set(err, PF_ERR_LOCAL,
					    "cannot open Maildir %s: it is a symlink, which is refused",
					    path);
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot open Maildir %s: open", path);
	}
	return fd;
}

/* Opens cur/, new/ or tmp/, creating it when missing; *created_r is set
 * when a mkdir happened. */
static int open_sub(struct maildir *md, const char *sub, int *created_r, struct pf_error *err)
{
	int fd;

	if (mkdirat(md->dir_fd, sub, 0700) == 0)
		*created_r = 1;
	else if (errno != EEXIST)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create %s/%s: mkdir",
				      md->path, sub);
	fd = openat(md->dir_fd, sub, DIR_FLAGS);
	if (fd < 0 && is_symlink(md->dir_fd, sub))
		return pf_error_set(err, PF_ERR_LOCAL,
				    "cannot open %s/%s: it is a symlink, which is refused",
				    md->path, sub);
	if (fd < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot open %s/%s: open",
				      md->path, sub);
	return fd;
}

/* The host part of names: '/' and ':' escaped as the convention says;
 * anything outside 0x21..0x7E too, because names go into the uid store
 * whose records are separated by spaces. */
static void make_host(char *dst, size_t cap)
{
	char raw[256];
	size_t i, n = 0;

	if (gethostname(raw, sizeof raw) < 0 || raw[0] == '\0')
		(void)snprintf(raw, sizeof raw, "localhost");
	raw[sizeof raw - 1] = '\0';
	for (i = 0; raw[i] != '\0' && n + 5 <= cap; i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c == '/' || c == ':' || c == '\\' || c < 0x21 || c > 0x7e)
			n += (size_t)snprintf(dst + n, cap - n, "\\%03o", c);
		else
			dst[n++] = (char)c;
	}
	dst[n] = '\0';
}

/* Strips trailing slashes: "dir/" would make open() follow a symlink
 * called dir despite O_NOFOLLOW. */
static char *clean_path(const char *path)
{
	char *p = xstrdup(path);
	size_t len = strlen(p);

	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	return p;
}

struct maildir *maildir_open(const char *path, struct pf_error *err)
{
	struct maildir *md = xcalloc(1, sizeof *md);
	int *fds[3], created = 0;

	md->path = clean_path(path);
	md->dir_fd = md->cur_fd = md->new_fd = md->tmp_fd = -1;
	md->seen_max_s = -2;
	md->pid = (long)getpid(); /* a Maildir is opened in the poll's own process */
	fds[0] = &md->cur_fd, fds[1] = &md->new_fd, fds[2] = &md->tmp_fd;
	if (strlen(md->path) == 0 || strlen(md->path) >= PF_PATH_MAX) {
		pf_error_set(err, PF_ERR_LOCAL, "Maildir path '%s' is empty or too long", path);
		goto fail;
	}
	md->dir_fd = open_root(md->path, err);
	if (md->dir_fd < 0)
		goto fail;
	for (int i = 0; i < 3; i++) {
		*fds[i] = open_sub(md, subdirs[i], &created, err);
		if (*fds[i] < 0)
			goto fail;
	}
	/* New subdirectories must survive a crash before anything is
	 * published into them. */
	if (created && fsync(md->dir_fd) < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot fsync Maildir %s", md->path);
		goto fail;
	}
	make_host(md->host, sizeof md->host);
	md->syncfs_ok = fs_syncfs_trusted(md->new_fd);
	return md;
fail:
	maildir_close(md);
	return NULL;
}

void maildir_close(struct maildir *md)
{
	if (md == NULL)
		return;
	if (md->tmp_fd >= 0)
		close(md->tmp_fd);
	if (md->new_fd >= 0)
		close(md->new_fd);
	if (md->cur_fd >= 0)
		close(md->cur_fd);
	if (md->dir_fd >= 0)
		close(md->dir_fd);
	free(md->path);
	free(md);
}

const char *maildir_path(const struct maildir *md)
{
	return md->path;
}

/* --- directory scans ---------------------------------------------------- */

/* A DIR stream over dirfd that leaves dirfd itself open. */
static DIR *open_scan(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return NULL;
	}
	/* The dup shares the file offset with earlier scans: start over. */
	rewinddir(d);
	return d;
}

int maildir_clean_tmp(struct maildir *md, struct pf_error *err)
{
	DIR *d = open_scan(md->tmp_fd);
	struct dirent *de;
	struct stat st;
	time_t limit = time(NULL) - STALE_TMP_S;
	int n = 0;

	if (d == NULL)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot read %s/tmp: opendir",
				      md->path);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(md->tmp_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_mtime >= limit)
			continue; /* gone meanwhile, or not ours to judge */
		if (unlinkat(md->tmp_fd, de->d_name, 0) < 0 && errno != ENOENT) {
			pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot remove %s/tmp/%s: unlink",
				       md->path, de->d_name);
			n = -1;
			break;
		}
		n++;
	}
	closedir(d);
	return n;
}

/* Whether an entry of cur/ is name itself or name plus ":2,flags". */
static int cur_entry_matches(const char *entry, const char *name, size_t len)
{
	return strncmp(entry, name, len) == 0 &&
	       (entry[len] == '\0' || strncmp(entry + len, ":2,", 3) == 0);
}

/* Scans cur/ for name (with any flags). 1, 0 or -1. */
static int scan_cur(struct maildir *md, const char *name, struct pf_error *err)
{
	DIR *d = open_scan(md->cur_fd);
	struct dirent *de;
	size_t len = strlen(name);
	int found = 0;

	if (d == NULL)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot read %s/cur: opendir",
				      md->path);
	errno = 0;
	while (!found && (de = readdir(d)) != NULL)
		found = cur_entry_matches(de->d_name, name, len);
	if (!found && errno != 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot read %s/cur: readdir", md->path);
		found = -1;
	}
	closedir(d);
	return found;
}

/* 1 when dirfd/name exists (a symlink counts), 0 when not, -1 on error. */
static int exists_at(struct maildir *md, int dirfd, const char *sub, const char *name,
		     struct pf_error *err)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot check %s/%s/%s: stat",
			      md->path, sub, name);
}

/* new/name, cur/name, cur/name:2, by stat; with deep, every cur/name:2,*
 * by a scan. */
static int name_present(struct maildir *md, const char *name, int deep, struct pf_error *err)
{
	char flagged[PF_NAME_MAX + 4];
	int r;

	r = exists_at(md, md->new_fd, "new", name, err);
	if (r == 0)
		r = exists_at(md, md->cur_fd, "cur", name, err);
	if (r == 0 && snprintf(flagged, sizeof flagged, "%s:2,", name) < (int)sizeof flagged)
		r = exists_at(md, md->cur_fd, "cur", flagged, err);
	if (r == 0 && deep)
		r = scan_cur(md, name, err);
	return r;
}

/* A name we would refuse to have made: it must stay inside new/ and cur/
 * ("." or ".." would "exist" and turn an undelivered message into a
 * delivered one). */
static int name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= PF_NAME_MAX && name[0] != '.' && strchr(name, '/') == NULL;
}

int maildir_has(struct maildir *md, const char *name, struct pf_error *err)
{
	if (!name_ok(name))
		return pf_error_set(err, PF_ERR_LOCAL, "invalid Maildir file name '%s'", name);
	return name_present(md, name, 1, err);
}

/* --- names ------------------------------------------------------------- */

/* The largest leading time (seconds) among cur/ names: a name we make
 * later than that cannot match any of them with flags added, so the
 * costly scan of cur/ is needed only when the clock is behind. */
static int scan_max(struct maildir *md, int dirfd, const char *sub, long long *max,
		    struct pf_error *err)
{
	DIR *d = open_scan(dirfd);
	struct dirent *de;

	if (d == NULL)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot read %s/%s: opendir",
				      md->path, sub);
	while ((de = readdir(d)) != NULL) {
		long long v = 0;
		int digits = 0;

		for (const char *p = de->d_name; *p >= '0' && *p <= '9' && digits < 18; p++)
			v = v * 10 + (*p - '0'), digits++;
		if (digits > 0 && v > *max)
			*max = v;
	}
	closedir(d);
	return 0;
}

/* The largest leading time of the names in new/ and cur/, once per poll:
 * a name made later with a larger time cannot be taken, so it needs no
 * check (three stats a message saved); only a clock that went back needs
 * them, and then the scan of cur/ for flagged names too. */
static int scan_seen_max(struct maildir *md, struct pf_error *err)
{
	long long max = -1;

	if (scan_max(md, md->new_fd, "new", &max, err) < 0 ||
	    scan_max(md, md->cur_fd, "cur", &max, err) < 0)
		return -1;
	md->seen_max_s = max;
	return 0;
}

/* "SECONDS.MusecPpidQn.host" into buf; 0, or -1 when it does not fit. */
static int unique_base(const struct maildir *md, char *buf, size_t cap, long long *secs_r)
{
	struct timespec ts;
	unsigned long q = atomic_fetch_add(&name_counter, 1) + 1;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	*secs_r = (long long)ts.tv_sec;
	n = snprintf(buf, cap, "%lld.M%ldP%ldQ%lu.%s", (long long)ts.tv_sec,
		     ts.tv_nsec / 1000, md->pid, q, md->host);
	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

int maildir_make_name(struct maildir *md, uint64_t size, uint64_t wsize,
		      char *name_r, size_t cap, struct pf_error *err)
{
	char base[PF_NAME_MAX + 1];
	long long secs;

	if (md->seen_max_s == -2 && scan_seen_max(md, err) < 0)
		return -1;
	for (int i = 0; i < NAME_TRIES; i++) {
		int n, r;

		if (unique_base(md, base, sizeof base, &secs) < 0)
			break;
		n = snprintf(name_r, cap, "%s,S=%llu,W=%llu", base, (unsigned long long)size,
			     (unsigned long long)wsize);
		if (n < 0 || (size_t)n >= cap || (size_t)n > PF_NAME_MAX)
			break;
		r = secs > md->seen_max_s ? 0 : name_present(md, name_r, 1, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
	}
	return pf_error_set(err, PF_ERR_LOCAL, "cannot make a unique file name in %s/new",
			    md->path);
}

/* --- message files ------------------------------------------------------ */

/* The fallback when tmp/ lacks O_TMPFILE: a named file, created with
 * O_EXCL|O_NOFOLLOW so it can never be someone else's file or symlink. */
static int open_named_tmp(struct maildir_file *f, struct pf_error *err)
{
	struct maildir *md = f->md;
	long long secs;

	for (int i = 0; i < NAME_TRIES; i++) {
		if (unique_base(md, f->tmpname, sizeof f->tmpname, &secs) < 0)
			break;
		f->fd = openat(md->tmp_fd, f->tmpname,
			       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f->fd >= 0)
			return 0;
		if (errno != EEXIST) {
			pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create a file in %s/tmp: open",
				       md->path);
			f->tmpname[0] = '\0';
			return -1;
		}
	}
	f->tmpname[0] = '\0';
	return pf_error_set(err, PF_ERR_LOCAL, "cannot make a unique file name in %s/tmp",
			    md->path);
}

struct maildir_file *maildir_file_new(struct maildir *md, struct pf_error *err)
{
	struct maildir_file *f = xcalloc(1, sizeof *f);

	f->md = md;
	f->fd = -1;
	if (!md->no_tmpfile) {
		/* Unnamed: a crash before the link leaves nothing in tmp/. */
		f->fd = openat(md->tmp_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
		if (f->fd >= 0)
			return f;
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
			pf_error_errno(err, PF_ERR_LOCAL, errno,
				       "cannot create a file in %s/tmp: open(O_TMPFILE)", md->path);
			goto fail;
		}
		md->no_tmpfile = 1;
	}
	if (open_named_tmp(f, err) < 0)
		goto fail;
	return f;
fail:
	free(f);
	return NULL;
}

static const char *file_desc(const struct maildir_file *f, char *buf, size_t cap)
{
	int n;

	if (f->tmpname[0] != '\0')
		n = snprintf(buf, cap, "%s/tmp/%s", f->md->path, f->tmpname);
	else
		n = snprintf(buf, cap, "a new file in %s/tmp", f->md->path);
	if (n < 0)
		buf[0] = '\0';
	return buf; /* cut when too long: display text only */
}

/* The error for errno e from verb on path: a full disk or quota is said
 * as such, since that is what the user must fix. */
static int io_error(struct pf_error *err, int e, const char *verb, const char *path)
{
	if (e == ENOSPC || e == EDQUOT)
		return pf_error_set(err, PF_ERR_LOCAL, "disk full writing %s (%s)", path,
				    strerror(e));
	return pf_error_errno(err, PF_ERR_LOCAL, e, "cannot %s %s", verb, path);
}

int maildir_file_write(struct maildir_file *f, const void *buf, size_t len,
		       struct pf_error *err)
{
	char desc[PF_PATH_MAX];
	int e;

	if (f->broken)
		return pf_error_set(err, PF_ERR_LOCAL, "write to %s after an earlier error",
				    file_desc(f, desc, sizeof desc));
	f->synced = 0;
	if (pf_write_all(f->fd, buf, len) == 0)
		return 0;
	e = errno;
	f->broken = 1;
	return io_error(err, e, "write", file_desc(f, desc, sizeof desc));
}

void maildir_file_start_sync(struct maildir_file *f)
{
#ifdef SYNC_FILE_RANGE_WRITE
	if (!f->broken)
		(void)sync_file_range(f->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
	(void)f;
#endif
}

int maildir_file_sync(struct maildir_file *f, struct pf_error *err)
{
	char desc[PF_PATH_MAX];

	/* fsync, not fdatasync: the size grew, and that metadata must be
	 * durable for the data to be readable after a crash.  A failed fsync
	 * marks the file broken for good: Linux may have dropped the dirty
	 * pages, so a second fsync could "succeed" over lost data. */
	if (f->broken || fsync(f->fd) < 0) {
		int e = f->broken ? EIO : errno;

		f->broken = 1;
		return io_error(err, e, "fsync", file_desc(f, desc, sizeof desc));
	}
	f->synced = 1;
	return 0;
}

/* One syncfs for the whole batch: the files were written on new_fd's file
 * system after new_fd was opened, so any writeback error of theirs is one
 * syncfs reports (fs_sync.h).  It cannot say which file failed: all do. */
static int sync_by_syncfs(struct maildir_file *const *files, size_t n, struct pf_error *err)
{
	struct maildir *md = files[0]->md;

	if (fs_syncfs(md->new_fd) < 0) {
		int e = errno;

		for (size_t i = 0; i < n; i++)
			files[i]->broken = 1;
		return io_error(err, e, "syncfs the file system of", md->path);
	}
	for (size_t i = 0; i < n; i++)
		files[i]->synced = 1;
	pf_step("batch synced");
	return 0;
}

int maildir_files_sync(struct maildir_file *const *files, size_t n, size_t *synced_r,
		       struct pf_error *err)
{
	int whole = n >= MAILDIR_SYNCFS_MIN && files[0]->md->syncfs_ok;

	for (size_t i = 0; whole && i < n; i++)
		whole = !files[i]->broken && files[i]->md == files[0]->md;
	*synced_r = 0;
	if (whole) {
		if (sync_by_syncfs(files, n, err) < 0)
			return -1;
		*synced_r = n;
		return 0;
	}
	for (; *synced_r < n; (*synced_r)++) {
		if (maildir_file_sync(files[*synced_r], err) < 0)
			return -1;
		pf_step("message synced");
	}
	return 0;
}

/* Links an O_TMPFILE into new/name.  AT_EMPTY_PATH needs
 * CAP_DAC_READ_SEARCH; the /proc/self/fd link works for anyone. */
static int link_unnamed(struct maildir_file *f, const char *name)
{
	char proc[64];
	int n;

	if (!f->md->no_empty_path) {
		if (linkat(f->fd, "", f->md->new_fd, name, AT_EMPTY_PATH) == 0)
			return 0;
		if (errno != ENOENT && errno != EPERM)
			return -1;
		f->md->no_empty_path = 1; /* not privileged: don't ask again */
	}
	n = snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
	if (n < 0 || (size_t)n >= sizeof proc) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return linkat(AT_FDCWD, proc, f->md->new_fd, name, AT_SYMLINK_FOLLOW);
}

int maildir_file_publish(struct maildir_file *f, const char *name, struct pf_error *err)
{
	struct maildir *md = f->md;
	int rc;

	if (!name_ok(name))
		return pf_error_set(err, PF_ERR_LOCAL, "invalid Maildir file name '%s'", name);
	if (f->broken || !f->synced || f->published)
		return pf_error_set(err, PF_ERR_INTERNAL,
				    "refusing to publish %s/new/%s: file not synced or already published",
				    md->path, name);
	/* link(), never rename(): an existing new/name fails with EEXIST
	 * instead of being replaced. */
	if (f->tmpname[0] == '\0')
		rc = link_unnamed(f, name);
	else
		rc = linkat(md->tmp_fd, f->tmpname, md->new_fd, name, 0);
	if (rc < 0) {
		if (errno == EEXIST)
			return pf_error_set(err, PF_ERR_LOCAL,
					    "cannot publish %s/new/%s: the name exists already",
					    md->path, name);
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot link into %s/new/%s",
				      md->path, name);
	}
	f->published = 1;
	if (f->tmpname[0] != '\0') {
		/* A failed unlink only leaves a second link in tmp/, which
		 * maildir_clean_tmp removes after 36 hours. */
		(void)unlinkat(md->tmp_fd, f->tmpname, 0);
		f->tmpname[0] = '\0';
	}
	return 0;
}

void maildir_file_free(struct maildir_file *f)
{
	if (f == NULL)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmpname[0] != '\0' && !f->published)
		(void)unlinkat(f->md->tmp_fd, f->tmpname, 0);
	free(f);
}

int maildir_sync_new(struct maildir *md, struct pf_error *err)
{
	if (fsync(md->new_fd) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot fsync %s/new", md->path);
	return 0;
}

/* --- reading back what was delivered -------------------------------------- */

/* Reads the first line of sub/entry (without its LF) into line. */
static int first_line(int dirfd, const char *entry, char *line, size_t cap)
{
	int fd = openat(dirfd, entry, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;
	char *lf;

	if (fd < 0)
		return -1;
	n = pread(fd, line, cap - 1, 0);
	close(fd);
	if (n < 0)
		return -1;
	line[n] = '\0';
	lf = memchr(line, '\n', (size_t)n);
	if (lf != NULL)
		*lf = '\0';
	return 0;
}

static int scan_dir(struct maildir *md, int dirfd, const char *sub,
		    int (*fn)(const char *name, const char *line, void *ctx), void *ctx,
		    struct pf_error *err)
{
	char line[PF_LINE_MAX], name[PF_NAME_MAX + 1];
	DIR *d = open_scan(dirfd);
	struct dirent *de;
	int rc = 0;

	if (d == NULL)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot read %s/%s: opendir",
				      md->path, sub);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strlen(de->d_name) > PF_NAME_MAX)
			continue;
		if (first_line(dirfd, de->d_name, line, sizeof line) < 0)
			continue; /* moved or deleted by a mail reader meanwhile */
		memcpy(name, de->d_name, strlen(de->d_name) + 1);
		name[strcspn(name, ":")] = '\0'; /* cur/NAME:2,FLAGS is NAME */
		rc = fn(name, line, ctx);
	}
	closedir(d);
	return rc;
}

int maildir_scan(struct maildir *md, int (*fn)(const char *name, const char *line, void *ctx),
		 void *ctx, struct pf_error *err)
{
	if (scan_dir(md, md->new_fd, "new", fn, ctx, err) < 0)
		return -1;
	return scan_dir(md, md->cur_fd, "cur", fn, ctx, err);
}
