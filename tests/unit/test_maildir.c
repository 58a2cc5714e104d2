/* test_maildir.c - Maildir delivery: directory creation and symlink
 * refusal, byte-exact delivery, names, no overwrite, lookups in new/ and
 * cur/, tmp/ cleanup, disk full on a tiny tmpfs, and batches made durable
 * with one syncfs or an fsync each. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "maildir.h"

/* Link seam (built with -Wl,--wrap=openat): while no_tmpfile is set, the
 * "file system" lacks O_TMPFILE, so the named-file fallback runs.  Weak,
 * so a build without the flag links and the fallback test fails saying
 * why instead of silently testing nothing. */
int __real_openat(int dirfd, const char *path, int flags, ...) __attribute__((weak));
int __wrap_openat(int dirfd, const char *path, int flags, ...);
static int no_tmpfile, wrapped_calls;

int __wrap_openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	wrapped_calls++;
	if (no_tmpfile && (flags & O_TMPFILE) == O_TMPFILE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return __real_openat(dirfd, path, flags, mode);
}

/* Link seam (built with -Wl,--wrap=write): while enospc_after >= 0, writes
 * let that many more bytes through and then fail with ENOSPC, a disk that
 * fills up in the middle of a message, for any user (the tmpfs test needs
 * root to mount). Only write(2) calls linked into this program come here;
 * cmocka's output goes through its own shared library. Weak, like the
 * openat seam: without the flag the disk-full seam test fails. */
ssize_t __real_write(int fd, const void *buf, size_t len) __attribute__((weak));
ssize_t __wrap_write(int fd, const void *buf, size_t len);
static long enospc_after = -1;
static int write_calls;

ssize_t __wrap_write(int fd, const void *buf, size_t len)
{
	ssize_t n;

	write_calls++;
	if (enospc_after == 0) {
		errno = ENOSPC;
		return -1;
	}
	if (enospc_after > 0 && len > (size_t)enospc_after)
		len = (size_t)enospc_after;
	n = __real_write(fd, buf, len);
	if (enospc_after > 0 && n > 0)
		enospc_after -= n;
	return n;
}

struct fx {
	char dir[64];
	char md[128];
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
	(void)state;
	struct fx *fx = calloc(1, sizeof *fx);

	if (fx == NULL)
		return -1;
	strcpy(fx->dir, "/tmp/pf-test-maildir-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->md, sizeof fx->md, "%s/Mail/work", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char mnt[128];

	/* The disk-full test mounts a tmpfs: never leave it behind, even
	 * when an assertion failed before its umount. */
	snprintf(mnt, sizeof mnt, "%s/small", fx->dir);
	(void)umount2(mnt, MNT_DETACH);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

static struct maildir *open_ok(const char *path)
{
	struct pf_error err = { 0 };
	struct maildir *md = maildir_open(path, &err);

	if (md == NULL)
		fail_msg("maildir_open(%s): %s", path, err.msg);
	return md;
}

/* Writes data as a message and publishes it; the name goes to name_r. */
static void deliver(struct maildir *md, const char *data, size_t len, char *name_r, size_t cap)
{
	struct pf_error err = { 0 };
	struct maildir_file *f = maildir_file_new(md, &err);

	assert_non_null(f);
	assert_int_equal(maildir_file_write(f, data, len, &err), 0);
	assert_int_equal(maildir_file_sync(f, &err), 0);
	assert_int_equal(maildir_make_name(md, len, len + 1, name_r, cap, &err), 0);
	assert_int_equal(maildir_file_publish(f, name_r, &err), 0);
	assert_int_equal(maildir_sync_new(md, &err), 0);
	maildir_file_free(f);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	close(fd);
}

/* --- opening ----------------------------------------------------------- */

static void open__when_missing__then_creates_dirs_0700(void **state)
{
	(void)state;
	struct fx *fx = *state;
	const char *subs[] = { "", "/cur", "/new", "/tmp" };
	struct maildir *md = open_ok(fx->md);
	char path[256];
	struct stat st;

	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s%s", fx->md, subs[i]);
		assert_int_equal(lstat(path, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0700);
	}
	assert_string_equal(maildir_path(md), fx->md);
	maildir_close(md);
}

static void open__when_trailing_slash__then_same_maildir(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char path[256];
	struct maildir *md;

	snprintf(path, sizeof path, "%s//", fx->md);
	md = open_ok(path);
	assert_string_equal(maildir_path(md), fx->md);
	maildir_close(md);
}

static void open__when_existing__then_reopens(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char name[PF_NAME_MAX + 1], path[512];
	struct maildir *md = open_ok(fx->md);
	struct stat st;

	deliver(md, "x\n", 2, name, sizeof name);
	maildir_close(md);
	md = open_ok(fx->md);
	snprintf(path, sizeof path, "%s/new/%s", fx->md, name);
	assert_int_equal(stat(path, &st), 0);
	maildir_close(md);
}

static void expect_open_fails(const char *path, const char *needle)
{
	struct pf_error err = { 0 };
	struct maildir *md = maildir_open(path, &err);

	assert_null(md);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	if (strstr(err.msg, needle) == NULL)
		fail_msg("error '%s' does not mention '%s'", err.msg, needle);
}

static void open__when_maildir_is_symlink__then_refused(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char real[256];

	snprintf(real, sizeof real, "%s/real", fx->dir);
	maildir_close(open_ok(real));
	snprintf(fx->md, sizeof fx->md, "%s/link", fx->dir);
	assert_int_equal(symlink(real, fx->md), 0);
	expect_open_fails(fx->md, "symlink");
}

static void open__when_new_is_symlink__then_refused(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char other[256], link[256];

	snprintf(other, sizeof other, "%s/elsewhere", fx->dir);
	assert_int_equal(mkdir(other, 0700), 0);
	maildir_close(open_ok(fx->md));
	snprintf(link, sizeof link, "%s/new", fx->md);
	assert_int_equal(rmdir(link), 0);
	assert_int_equal(symlink(other, link), 0);
	expect_open_fails(fx->md, "/new: it is a symlink");
}

static void open__when_file_in_the_way__then_local_error(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char path[256];

	snprintf(path, sizeof path, "%s/file", fx->dir);
	touch(path);
	expect_open_fails(path, path);
	snprintf(path, sizeof path, "%s/file/Maildir", fx->dir);
	expect_open_fails(path, "Not a directory");
}

static void open__when_cur_is_a_file__then_local_error(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char path[256];

	snprintf(path, sizeof path, "%s/Mail", fx->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(mkdir(fx->md, 0700), 0);
	snprintf(path, sizeof path, "%s/cur", fx->md);
	touch(path);
	expect_open_fails(fx->md, "/cur");
}

/* As root file modes are ignored, so the unprivileged case runs in a child
 * that drops to nobody. */
static void open__when_no_permission__then_local_error(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char locked[256], path[300];
	pid_t pid;
	int status;

	if (geteuid() != 0)
		skip();
	snprintf(locked, sizeof locked, "%s/locked", fx->dir);
	assert_int_equal(mkdir(locked, 0700), 0);
	snprintf(path, sizeof path, "%s/Maildir", locked);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pf_error err = { 0 };

		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(3);
		_exit(maildir_open(path, &err) == NULL && err.cls == PF_ERR_LOCAL &&
		      strstr(err.msg, path) != NULL ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* --- delivery ---------------------------------------------------------- */

static void deliver__then_bytes_read_back_from_new(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct maildir *md = open_ok(fx->md);
	char name[PF_NAME_MAX + 1], path[512], back[300000];
	static char msg[200000];
	int fd;
	ssize_t n;

	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (char)(i * 7 + i / 251);
	deliver(md, msg, sizeof msg, name, sizeof name);
	snprintf(path, sizeof path, "%s/new/%s", fx->md, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, back, sizeof back);
	close(fd);
	assert_int_equal(n, sizeof msg);
	assert_memory_equal(back, msg, sizeof msg);
	snprintf(path, sizeof path, "%s/tmp", fx->md);
	assert_int_equal(count_entries(path), 0);
	maildir_close(md);
}

static void make_name__then_sizes_and_no_slash(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct maildir *md = open_ok(fx->md);
	struct pf_error err = { 0 };
	char a[PF_NAME_MAX + 1], b[PF_NAME_MAX + 1];
	long pid;
	unsigned long q;
	long long secs;

	assert_int_equal(maildir_make_name(md, 1234, 1300, a, sizeof a, &err), 0);
	assert_int_equal(maildir_make_name(md, 1234, 1300, b, sizeof b, &err), 0);
	assert_string_not_equal(a, b);
	assert_null(strchr(a, '/'));
	assert_null(strchr(a, ':'));
	assert_non_null(strstr(a, ",S=1234,W=1300"));
	assert_int_equal(strcmp(a + strlen(a) - strlen(",S=1234,W=1300"), ",S=1234,W=1300"), 0);
	assert_int_equal(sscanf(a, "%lld.M%*dP%ldQ%lu.", &secs, &pid, &q), 3);
	assert_int_equal(pid, (long)getpid());
	assert_true(secs > 1600000000LL);
	maildir_close(md);
}

static void make_name__when_buffer_small__then_error(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct maildir *md = open_ok(fx->md);
	struct pf_error err = { 0 };
	char small[16];

	assert_int_equal(maildir_make_name(md, 1, 1, small, sizeof small, &err), -1);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	maildir_close(md);
}

/* The host name goes into file names with '/' and ':' escaped; a child in
 * its own UTS namespace can have any host name. */
static void make_name__when_host_has_slash_colon__then_escaped(void **state)
{
	(void)state;
	struct fx *fx = *state;
	int pipefd[2], status;
	char name[PF_NAME_MAX + 1] = "";
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pf_error err = { 0 };
		struct maildir *md;

		close(pipefd[0]);
		if (unshare(CLONE_NEWUTS) < 0 || sethostname("a/b:c", 5) < 0)
			_exit(77);
		md = maildir_open(fx->md, &err);
		if (md == NULL || maildir_make_name(md, 1, 2, name, sizeof name, &err) < 0)
			_exit(1);
		(void)!write(pipefd[1], name, strlen(name));
		_exit(0);
	}
	close(pipefd[1]);
	n = read(pipefd[0], name, sizeof name - 1);
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		skip();
	assert_true(n > 0);
	name[n] = '\0';
	assert_non_null(strstr(name, ".a\\057b\\072c,S=1,W=2"));
}

static void publish__when_name_exists__then_fails_and_keeps_old(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct maildir *md = open_ok(fx->md);
	struct pf_error err = { 0 };
	char name[PF_NAME_MAX + 1], path[512], back[16] = "";
	struct maildir_file *f;
	int fd;

	deliver(md, "first\n", 6, name, sizeof name);
	f = maildir_file_new(md, &err);
	assert_non_null(f);
	assert_int_equal(maildir_file_write(f, "second\n", 7, &err), 0);
	assert_int_equal(maildir_file_sync(f, &err), 0);
	assert_int_equal(maildir_file_publish(f, name, &err), -1);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	assert_non_null(strstr(err.msg, "exists"));
	maildir_file_free(f);
	snprintf(path, sizeof path, "%s/new/%s", fx->md, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, back, sizeof back), 6);
	close(fd);
	assert_memory_equal(back, "first\n", 6);
	maildir_close(md);
}

static void publish__when_not_synced__then_refused(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct maildir *md = open_ok(fx->md);
	struct pf_error err = { 0 };
	struct maildir_file *f = maildir_file_new(md, &err);
	char path[256];

	assert_non_null(f);
	assert_int_equal(maildir_file_write(f, "x", 1, &err), 0);
	assert_int_equal(maildir_file_publish(f, "1.M1P1Q1.h,S=1,W=1", &err), -1);
	maildir_file_free(f);
	snprintf(path, sizeof path, "%s/new", fx->md);
	assert_int_equal(count_entries(path), 0);
	maildir_close(md);
}

static void unpublished_file__then_nothing_in_tmp_or_new(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct maildir *md = open_ok(fx->md);
	struct pf_error err = { 0 };
	struct maildir_file *f = maildir_file_new(md, &err);
	char path[256];

	assert_non_null(f);
	assert_int_equal(maildir_file_write(f, "partial", 7, &err), 0);
	assert_int_equal(maildir_file_sync(f, &err), 0);
	maildir_file_free(f);
	snprintf(path, sizeof path, "%s/tmp", fx->md);
	assert_int_equal(count_entries(path), 0);
	snprintf(path, sizeof path, "%s/new", fx->md);
	assert_int_equal(count_entries(path), 0);
	maildir_close(md);
}

/* Without O_TMPFILE: a named O_EXCL file in tmp/, linked into new/ and
 * unlinked from tmp/; an abandoned one is removed. */
static void deliver__when_no_tmpfile__then_named_fallback(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct maildir *md = open_ok(fx->md);
	struct pf_error err = { 0 };
	struct maildir_file *f;
	char name[PF_NAME_MAX + 1], path[512], back[8] = "";
	int fd;

	wrapped_calls = 0;
	no_tmpfile = 1;
	f = maildir_file_new(md, &err);
	no_tmpfile = 0;
	if (wrapped_calls == 0)
		fail_msg("test_maildir must be linked with -Wl,--wrap=openat");
	assert_non_null(f);
	snprintf(path, sizeof path, "%s/tmp", fx->md);
	assert_int_equal(count_entries(path), 1);
	maildir_file_free(f);
	assert_int_equal(count_entries(path), 0);
	deliver(md, "named\n", 6, name, sizeof name);
	assert_int_equal(count_entries(path), 0);
	snprintf(path, sizeof path, "%s/new/%s", fx->md, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, back, sizeof back), 6);
	close(fd);
	assert_memory_equal(back, "named\n", 6);
	maildir_close(md);
}

/* --- lookups ------------------------------------------------------------ */

static void has__finds_new_cur_and_flagged_but_not_prefix(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct maildir *md = open_ok(fx->md);
	struct pf_error err = { 0 };
	char path[512];

	assert_int_equal(maildir_has(md, "100.M1P1Q1.h,S=1,W=1", &err), 0);
	snprintf(path, sizeof path, "%s/new/100.M1P1Q1.h,S=1,W=1", fx->md);
	touch(path);
	snprintf(path, sizeof path, "%s/cur/200.M1P1Q1.h,S=1,W=1", fx->md);
	touch(path);
	snprintf(path, sizeof path, "%s/cur/300.M1P1Q1.h,S=1,W=1:2,RS", fx->md);
	touch(path);
	snprintf(path, sizeof path, "%s/cur/400.M1P1Q1.h,S=1,W=1X", fx->md);
	touch(path);
	snprintf(path, sizeof path, "%s/cur/500.M1P1Q1.h,S=1,W=1:1,S", fx->md);
	touch(path);
	assert_int_equal(maildir_has(md, "100.M1P1Q1.h,S=1,W=1", &err), 1);
	assert_int_equal(maildir_has(md, "200.M1P1Q1.h,S=1,W=1", &err), 1);
	assert_int_equal(maildir_has(md, "300.M1P1Q1.h,S=1,W=1", &err), 1);
	assert_int_equal(maildir_has(md, "400.M1P1Q1.h,S=1,W=1", &err), 0);
	assert_int_equal(maildir_has(md, "500.M1P1Q1.h,S=1,W=1", &err), 0);
	assert_int_equal(maildir_has(md, "300.M1P1Q1.h,S=1,W", &err), 0);
	assert_int_equal(err.cls, PF_ERR_NONE);
	assert_int_equal(maildir_has(md, "..", &err), -1);
	maildir_close(md);
}

/* A name taken in cur/ with flags (a reader moved it) is never reused: the
 * scan covers names from a clock that is ahead of ours. */
static void make_name__when_future_names_in_cur__then_still_unique(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct maildir *md = open_ok(fx->md);
	struct pf_error err = { 0 };
	char path[512], name[PF_NAME_MAX + 1];

	snprintf(path, sizeof path, "%s/cur/99999999999.M1P1Q1.h:2,S", fx->md);
	touch(path);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(maildir_make_name(md, 1, 1, name, sizeof name, &err), 0);
		assert_int_equal(maildir_has(md, name, &err), 0);
	}
	maildir_close(md);
}

/* --- tmp/ cleanup --------------------------------------------------------- */

static void clean_tmp__removes_old_keeps_fresh(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct maildir *md = open_ok(fx->md);
	struct pf_error err = { 0 };
	struct timespec old[2] = { { .tv_sec = time(NULL) - 37 * 3600 },
				   { .tv_sec = time(NULL) - 37 * 3600 } };
	struct timespec recent[2] = { { .tv_sec = time(NULL) - 35 * 3600 },
				      { .tv_sec = time(NULL) - 35 * 3600 } };
	char oldp[256], freshp[256], recentp[256];

	snprintf(oldp, sizeof oldp, "%s/tmp/old", fx->md);
	snprintf(freshp, sizeof freshp, "%s/tmp/fresh", fx->md);
	snprintf(recentp, sizeof recentp, "%s/tmp/recent", fx->md);
	touch(oldp);
	touch(freshp);
	touch(recentp);
	assert_int_equal(utimensat(AT_FDCWD, oldp, old, 0), 0);
	assert_int_equal(utimensat(AT_FDCWD, recentp, recent, 0), 0);
	assert_int_equal(maildir_clean_tmp(md, &err), 1);
	assert_int_equal(access(oldp, F_OK), -1);
	assert_int_equal(access(freshp, F_OK), 0);
	assert_int_equal(access(recentp, F_OK), 0);
	assert_int_equal(maildir_clean_tmp(md, &err), 0);
	maildir_close(md);
}

/* --- disk full ------------------------------------------------------------ */

/* A Maildir on a 64 KiB tmpfs mounted at mnt (needs root: skipped
 * otherwise); the caller unmounts it. */
static struct maildir *tiny_maildir(struct fx *fx, char *mnt, size_t cap)
{
	snprintf(mnt, cap, "%s/small", fx->dir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") < 0)
		skip();
	snprintf(fx->md, sizeof fx->md, "%s/Maildir", mnt);
	return open_ok(fx->md);
}

static void write__when_disk_full__then_disk_full_error(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char mnt[100];
	static char chunk[64 * 1024];
	struct pf_error err = { 0 };
	struct maildir *md;
	struct maildir_file *f;
	int rc = 0;

	md = tiny_maildir(fx, mnt, sizeof mnt);
	f = maildir_file_new(md, &err);
	assert_non_null(f);
	for (int i = 0; i < 4 && rc == 0; i++)
		rc = maildir_file_write(f, chunk, sizeof chunk, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	assert_non_null(strstr(err.msg, "disk full"));
	assert_non_null(strstr(err.msg, fx->md));
	/* A failed file can never be published. */
	assert_int_equal(maildir_file_sync(f, &err), -1);
	maildir_file_free(f);
	maildir_close(md);
	assert_int_equal(umount(mnt), 0);
}

/* The same through the write seam, unprivileged: the disk fills 10000
 * bytes into a 16 KiB message, with O_TMPFILE and with the named tmp/
 * file. The error names the Maildir, later writes and the sync are
 * refused, and nothing is left in tmp/ or new/. */
static void write__when_disk_fills_mid_message__then_disk_full_error(void **state)
{
	(void)state;
	struct fx *fx = *state;
	static char chunk[16 * 1024];
	char path[256];

	for (no_tmpfile = 0; no_tmpfile < 2; no_tmpfile++) {
		struct pf_error err = { 0 };
		struct maildir *md = open_ok(fx->md);
		struct maildir_file *f = maildir_file_new(md, &err);
		int rc;

		assert_non_null(f);
		write_calls = 0;
		enospc_after = 10000;
		rc = maildir_file_write(f, chunk, sizeof chunk, &err);
		enospc_after = -1;
		if (write_calls == 0)
			fail_msg("maildir_file_write made no write(2) call: the seam is not on its path");
		assert_int_equal(rc, -1);
		assert_int_equal(err.cls, PF_ERR_LOCAL);
		if (strstr(err.msg, "disk full") == NULL || strstr(err.msg, fx->md) == NULL)
			fail_msg("not a disk-full error naming %s: %s", fx->md, err.msg);
		assert_int_equal(maildir_file_write(f, "x", 1, &err), -1);
		assert_int_equal(maildir_file_sync(f, &err), -1);
		maildir_file_free(f);
		snprintf(path, sizeof path, "%s/tmp", fx->md);
		assert_int_equal(count_entries(path), 0);
		snprintf(path, sizeof path, "%s/new", fx->md);
		assert_int_equal(count_entries(path), 0);
		maildir_close(md);
	}
	no_tmpfile = 0;
}

/* A batch large enough for syncfs: every file comes out synced (publish
 * refuses any that is not) and lands in new/, either way. */
static void sync_batch(struct fx *fx, int no_syncfs)
{
	enum { N = MAILDIR_SYNCFS_MIN + 4 };
	struct maildir_file *files[N];
	struct pf_error err = { 0 };
	struct maildir *md;
	char name[PF_NAME_MAX + 1], newdir[200];
	size_t synced = 99;

	if (no_syncfs)
		assert_int_equal(setenv("POPFETCH_NO_SYNCFS", "1", 1), 0);
	md = open_ok(fx->md);
	unsetenv("POPFETCH_NO_SYNCFS");
	for (int i = 0; i < N; i++) {
		files[i] = maildir_file_new(md, &err);
		assert_non_null(files[i]);
		assert_int_equal(maildir_file_write(files[i], "batch\n", 6, &err), 0);
		maildir_file_start_sync(files[i]);
	}
	assert_int_equal(maildir_files_sync(files, N, &synced, &err), 0);
	assert_int_equal(synced, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(maildir_make_name(md, 6, 7, name, sizeof name, &err), 0);
		assert_int_equal(maildir_file_publish(files[i], name, &err), 0);
		maildir_file_free(files[i]);
	}
	assert_int_equal(maildir_sync_new(md, &err), 0);
	snprintf(newdir, sizeof newdir, "%s/new", fx->md);
	assert_int_equal(count_entries(newdir), N);
	maildir_close(md);
}

static void files_sync__batch__then_every_file_publishable(void **state)
{
	sync_batch(*state, 0);
}

static void files_sync__when_syncfs_off__then_every_file_publishable(void **state)
{
	sync_batch(*state, 1);
}

/* A file whose write failed stops the batch there: the ones before it are
 * synced, it and those after it never are. */
static void files_sync__when_a_file_failed__then_stops_before_it(void **state)
{
	struct fx *fx = *state;
	char mnt[100];
	static char chunk[64 * 1024];
	struct maildir_file *files[4];
	struct pf_error err = { 0 };
	struct maildir *md;
	size_t synced = 99;
	int rc = 0;

	md = tiny_maildir(fx, mnt, sizeof mnt);
	for (int i = 0; i < 4; i++) {
		files[i] = maildir_file_new(md, &err);
		assert_non_null(files[i]);
	}
	assert_int_equal(maildir_file_write(files[0], "a\n", 2, &err), 0);
	assert_int_equal(maildir_file_write(files[1], "b\n", 2, &err), 0);
	for (int i = 0; i < 4 && rc == 0; i++)
		rc = maildir_file_write(files[2], chunk, sizeof chunk, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(maildir_files_sync(files, 4, &synced, &err), -1);
	assert_int_equal(synced, 2);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	for (int i = 0; i < 4; i++)
		maildir_file_free(files[i]);
	maildir_close(md);
	assert_int_equal(umount(mnt), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(open__when_missing__then_creates_dirs_0700),
		T(open__when_trailing_slash__then_same_maildir),
		T(open__when_existing__then_reopens),
		T(open__when_maildir_is_symlink__then_refused),
		T(open__when_new_is_symlink__then_refused),
		T(open__when_file_in_the_way__then_local_error),
		T(open__when_cur_is_a_file__then_local_error),
		T(open__when_no_permission__then_local_error),
		T(deliver__then_bytes_read_back_from_new),
		T(make_name__then_sizes_and_no_slash),
		T(make_name__when_buffer_small__then_error),
		T(make_name__when_host_has_slash_colon__then_escaped),
		T(make_name__when_future_names_in_cur__then_still_unique),
		T(publish__when_name_exists__then_fails_and_keeps_old),
		T(publish__when_not_synced__then_refused),
		T(unpublished_file__then_nothing_in_tmp_or_new),
		T(deliver__when_no_tmpfile__then_named_fallback),
		T(has__finds_new_cur_and_flagged_but_not_prefix),
		T(clean_tmp__removes_old_keeps_fresh),
		T(write__when_disk_full__then_disk_full_error),
		T(write__when_disk_fills_mid_message__then_disk_full_error),
		T(files_sync__batch__then_every_file_publishable),
		T(files_sync__when_syncfs_off__then_every_file_publishable),
		T(files_sync__when_a_file_failed__then_stops_before_it),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
