/* test_uidstore.c - the uid store journal (commit, reopen, torn lines,
 * corruption, compaction, expiry, poisoning after a failed write) and the
 * account lock (lock.c), which guards the store. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "uidstore.h"
#include "util.h"

#define T0 ((time_t)1700000000)
#define DAY (24 * 3600)

struct fx {
	char dir[64];
	char file[128];
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	struct fx *fx = calloc(1, sizeof *fx);

	if (fx == NULL)
		return -1;
	strcpy(fx->dir, "/tmp/pf-test-uidstore-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->file, sizeof fx->file, "%s/acct.uids", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	struct fx *fx = *state;

	(void)nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static struct uidstore *open_ok(const struct fx *fx)
{
	struct pf_error err = { 0 };
	struct uidstore *s = uidstore_open(fx->dir, "acct", "pop.example.com", "me@example.com",
					   &err);

	if (s == NULL)
		fail_msg("uidstore_open: %s", err.msg);
	return s;
}

static struct uidstore *reopen(const struct fx *fx, struct uidstore *s)
{
	uidstore_close(s);
	return open_ok(fx);
}

/* The whole file, NUL-terminated, in a static buffer. */
static const char *slurp(const char *path, size_t *len_r)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	if (len_r != NULL)
		*len_r = (size_t)n;
	return buf;
}

static void spew(const char *path, const char *text, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | flags, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void commit_ok(struct uidstore *s)
{
	struct pf_error err = { 0 };

	if (uidstore_commit(s, &err) < 0)
		fail_msg("uidstore_commit: %s", err.msg);
}

static void deliver(struct uidstore *s, const char *uid, const char *name, time_t now)
{
	struct pf_error err = { 0 };

	assert_int_equal(uidstore_set_pending(s, uid, name, &err), 0);
	assert_int_equal(uidstore_set_delivered(s, uid, NULL, now, &err), 0);
}

static void expect_state(struct uidstore *s, const char *uid, enum uid_state st,
			 const char *name)
{
	const char *got = NULL;

	assert_int_equal(uidstore_get(s, uid, &got), st);
	if (name == NULL)
		assert_null(got);
	else
		assert_string_equal(got, name);
}

static struct uidstore *open_as(const struct fx *fx, const char *host, const char *user)
{
	struct pf_error err = { 0 };
	struct uidstore *s = uidstore_open(fx->dir, "acct", host, user, &err);

	if (s == NULL)
		fail_msg("uidstore_open(%s, %s): %s", host, user, err.msg);
	return s;
}

/* Closes s after committing uid as delivered under name; returns a copy
 * of the store's file (free it) and its length in *len_r. */
static char *stored(const struct fx *fx, struct uidstore *s, const char *uid, const char *name,
		    size_t *len_r)
{
	char *copy;

	deliver(s, uid, name, T0);
	commit_ok(s);
	uidstore_close(s);
	copy = strdup(slurp(fx->file, len_r));
	assert_non_null(copy);
	return copy;
}

static int count_pending(const char *uid, const char *name, void *ctx)
{
	(void)uid, (void)name;
	(*(int *)ctx)++;
	return 0;
}

/* --- creation and commits ------------------------------------------------ */

static void open__when_missing__then_file_with_header(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);
	struct stat st;

	assert_string_equal(slurp(fx->file, NULL),
			    "popfetch-uids 1\nH pop.example.com me@example.com\n");
	assert_int_equal(stat(fx->file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(uidstore_count(s), 0);
	expect_state(s, "any", UID_UNKNOWN, NULL);
	uidstore_close(s);
}

static void open__when_host_user_have_spaces__then_encoded_and_readable(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct pf_error err = { 0 };
	struct uidstore *s = uidstore_open(fx->dir, "acct", "h", "John Doe%", &err);

	assert_non_null(s);
	uidstore_close(s);
	assert_string_equal(slurp(fx->file, NULL), "popfetch-uids 1\nH h John%20Doe%25\n");
	s = uidstore_open(fx->dir, "acct", "h", "", &err);
	assert_non_null(s);
	uidstore_close(s);
}

static void open__when_empty_file__then_new_store(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s;

	spew(fx->file, "", O_TRUNC);
	s = open_ok(fx);
	assert_int_equal(uidstore_count(s), 0);
	uidstore_close(s);
	assert_string_equal(slurp(fx->file, NULL),
			    "popfetch-uids 1\nH pop.example.com me@example.com\n");
}

static void pending__when_committed__then_pending_after_reopen(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);
	struct pf_error err = { 0 };

	assert_int_equal(uidstore_set_pending(s, "uid-1", "111.M1P1Q1.h,S=1,W=2", &err), 0);
	commit_ok(s);
	s = reopen(fx, s);
	expect_state(s, "uid-1", UID_PENDING, "111.M1P1Q1.h,S=1,W=2");
	assert_int_equal(uidstore_count(s), 1);
	uidstore_close(s);
}

static void delivered__when_committed__then_delivered_after_reopen(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);
	struct pf_error err = { 0 };

	deliver(s, "uid-1", "111.M1P1Q1.h,S=1,W=2", T0);
	assert_int_equal(uidstore_set_delivered(s, "uid-2", "222.x", T0, &err), 0);
	commit_ok(s);
	s = reopen(fx, s);
	expect_state(s, "uid-1", UID_DELIVERED, "111.M1P1Q1.h,S=1,W=2");
	expect_state(s, "uid-2", UID_DELIVERED, "222.x");
	expect_state(s, "uid-3", UID_UNKNOWN, NULL);
	assert_non_null(strstr(slurp(fx->file, NULL), "D uid-2 222.x 1700000000 1700000000\n"));
	uidstore_close(s);
}

static void uncommitted__when_reopened__then_lost(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);
	struct pf_error err = { 0 };

	deliver(s, "kept", "1.a", T0);
	commit_ok(s);
	deliver(s, "lost", "2.b", T0);
	assert_int_equal(uidstore_forget(s, "kept", &err), 0);
	expect_state(s, "kept", UID_UNKNOWN, NULL);
	s = reopen(fx, s);
	expect_state(s, "kept", UID_DELIVERED, "1.a");
	expect_state(s, "lost", UID_UNKNOWN, NULL);
	uidstore_close(s);
}

static void forget__when_committed__then_unknown_after_reopen(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);
	struct pf_error err = { 0 };

	deliver(s, "a", "1.a", T0);
	deliver(s, "b", "2.b", T0);
	commit_ok(s);
	assert_int_equal(uidstore_forget(s, "a", &err), 0);
	commit_ok(s);
	s = reopen(fx, s);
	expect_state(s, "a", UID_UNKNOWN, NULL);
	expect_state(s, "b", UID_DELIVERED, "2.b");
	assert_int_equal(uidstore_count(s), 1);
	uidstore_close(s);
}

static void set__when_invalid_uid_or_name__then_refused(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);
	struct pf_error err = { 0 };
	char longuid[80];

	memset(longuid, 'u', 71);
	longuid[71] = '\0';
	assert_int_equal(uidstore_set_pending(s, "a b", "1.a", &err), -1);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	pf_error_clear(&err);
	assert_int_equal(uidstore_set_pending(s, longuid, "1.a", &err), -1);
	pf_error_clear(&err);
	assert_int_equal(uidstore_set_pending(s, "ok", "../x", &err), -1);
	pf_error_clear(&err);
	assert_int_equal(uidstore_set_pending(s, "ok", "a b", &err), -1);
	pf_error_clear(&err);
	assert_int_equal(uidstore_set_delivered(s, "nopending", NULL, T0, &err), -1);
	longuid[70] = '\0';
	pf_error_clear(&err);
	assert_int_equal(uidstore_set_pending(s, longuid, "1.a", &err), 0);
	assert_int_equal(uidstore_count(s), 1);
	uidstore_close(s);
}

/* --- torn lines and corruption -------------------------------------------- */

static void open__when_last_line_torn__then_dropped_and_truncated(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);
	off_t good;

	deliver(s, "a", "1.a", T0);
	commit_ok(s);
	uidstore_close(s);
	good = file_size(fx->file);
	spew(fx->file, "D b 2.b 17000", O_APPEND);
	s = open_ok(fx);
	expect_state(s, "a", UID_DELIVERED, "1.a");
	expect_state(s, "b", UID_UNKNOWN, NULL);
	assert_int_equal(file_size(fx->file), good);
	deliver(s, "c", "3.c", T0);
	commit_ok(s);
	s = reopen(fx, s);
	expect_state(s, "c", UID_DELIVERED, "3.c");
	assert_int_equal(uidstore_count(s), 2);
	uidstore_close(s);
}

static void open__when_corrupted_in_middle__then_error_naming_line(void **state)
{
	(void)state;
	struct fx *fx = *state;
	static const char *const bad[] = {
		"X a 1.a\n",                 /* unknown record type */
		"PP a 1.a\n",                /* unknown record type */
		"P a\n",                     /* bad field count */
		"P a 1.a extra\n",           /* bad field count */
		"D a 1.a 5\n",               /* bad field count */
		"P a  1.a\n",                /* empty field */
		"P uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu 1.a\n",
		"P a\x01 1.a\n",             /* invalid uid */
		"D a 1.a 12x 5\n",           /* bad number */
		"D a 1.a -1 5\n",            /* bad number */
		"D a 1.a 1 9999999999999999999\n", /* overflow */
		"P a ..\n",                  /* name escaping the Maildir */
		"\n",                        /* empty line */
	};
	struct pf_error err;
	char text[512];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "popfetch-uids 1\nH h u\nD ok 1.ok 1 2\n%sD z 2.z 1 2\n",
			 bad[i]);
		spew(fx->file, text, O_TRUNC);
		memset(&err, 0, sizeof err);
		assert_null(uidstore_open(fx->dir, "acct", "h", "u", &err));
		assert_int_equal(err.cls, PF_ERR_LOCAL);
		if (strstr(err.msg, "corrupted at line 4") == NULL ||
		    strstr(err.msg, fx->file) == NULL || strstr(err.msg, "--rebuild-state acct") == NULL)
			fail_msg("case %zu: %s", i, err.msg);
		/* The file is left as it was, for the user to inspect. */
		assert_string_equal(slurp(fx->file, NULL), text);
	}
}

static void open__when_nul_byte_or_long_line__then_corruption(void **state)
{
	(void)state;
	struct fx *fx = *state;
	static char text[2048];
	struct pf_error err = { 0 };
	int fd;

	fd = open(fx->file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "popfetch-uids 1\nF a\0b\nF c\n", 26), 26);
	close(fd);
	assert_null(uidstore_open(fx->dir, "acct", "h", "u", &err));
	assert_non_null(strstr(err.msg, "line 2"));
	memset(text, 'F', sizeof text - 2);
	memcpy(text, "popfetch-uids 1\n", 16);
	text[sizeof text - 2] = '\n';
	spew(fx->file, text, O_TRUNC);
	pf_error_clear(&err);
	assert_null(uidstore_open(fx->dir, "acct", "h", "u", &err));
	assert_non_null(strstr(err.msg, "line 2 (line too long)"));
}

static void open__when_wrong_header__then_error(void **state)
{
	(void)state;
	struct fx *fx = *state;
	static const char *const bad[] = {
		"popfetch-uids 2\nD a 1.a 1 2\n", "D a 1.a 1 2\n", "popfetch-uids 1", "garbage",
	};
	struct pf_error err;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		spew(fx->file, bad[i], O_TRUNC);
		memset(&err, 0, sizeof err);
		assert_null(uidstore_open(fx->dir, "acct", "h", "u", &err));
		assert_int_equal(err.cls, PF_ERR_LOCAL);
		if (strstr(err.msg, "corrupted at line 1") == NULL)
			fail_msg("case %zu: %s", i, err.msg);
	}
}

/* --- compaction and expiry --------------------------------------------------- */

static void compact__then_keeps_entries_and_shrinks(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);
	struct pf_error err = { 0 };
	char uid[32], name[32];
	off_t before;

	for (int round = 0; round < 30; round++) {
		for (int i = 0; i < 100; i++) {
			snprintf(uid, sizeof uid, "uid%d", i);
			snprintf(name, sizeof name, "%d.r%d", i, round);
			deliver(s, uid, name, T0 + round);
		}
		commit_ok(s);
	}
	assert_int_equal(uidstore_set_pending(s, "p", "9.p", &err), 0);
	commit_ok(s);
	assert_true(uidstore_wants_compact(s, T0));
	before = file_size(fx->file);
	assert_int_equal(uidstore_compact(s, &err), 0);
	assert_false(uidstore_wants_compact(s, T0));
	assert_true(file_size(fx->file) * 10 < before);
	{
		char tmp[160];

		snprintf(tmp, sizeof tmp, "%s.tmp", fx->file);
		assert_int_equal(access(tmp, F_OK), -1);
	}
	s = reopen(fx, s);
	assert_int_equal(uidstore_count(s), 101);
	for (int i = 0; i < 100; i++) {
		snprintf(uid, sizeof uid, "uid%d", i);
		snprintf(name, sizeof name, "%d.r29", i);
		expect_state(s, uid, UID_DELIVERED, name);
	}
	expect_state(s, "p", UID_PENDING, "9.p");
	/* Appends after a compaction land in the new file. */
	deliver(s, "after", "10.after", T0);
	commit_ok(s);
	s = reopen(fx, s);
	expect_state(s, "after", UID_DELIVERED, "10.after");
	uidstore_close(s);
}

static void expire__forgets_only_unseen_delivered_older_than_grace(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);
	struct pf_error err = { 0 };
	const time_t grace = 7 * DAY, now = T0 + 10 * DAY;

	deliver(s, "seen", "1.a", T0);
	deliver(s, "gone", "2.b", T0);
	deliver(s, "recent", "3.c", now - DAY);
	assert_int_equal(uidstore_set_pending(s, "pending", "4.d", &err), 0);
	commit_ok(s);
	s = reopen(fx, s); /* the next poll: a fresh listing */
	uidstore_mark_seen(s, "seen", now);
	uidstore_mark_seen(s, "not-stored", now);
	assert_int_equal(uidstore_expire(s, now, grace), 1);
	expect_state(s, "gone", UID_UNKNOWN, NULL);
	expect_state(s, "seen", UID_DELIVERED, "1.a");
	expect_state(s, "recent", UID_DELIVERED, "3.c");
	expect_state(s, "pending", UID_PENDING, "4.d");
	assert_true(uidstore_wants_compact(s, now));
	assert_int_equal(uidstore_compact(s, &err), 0);
	s = reopen(fx, s);
	expect_state(s, "gone", UID_UNKNOWN, NULL);
	assert_int_equal(uidstore_count(s), 3);
	/* "seen" was last seen at now, and the rewrite kept that: it
	 * outlives "recent", last seen a day earlier. */
	assert_int_equal(uidstore_expire(s, now + grace - 1, grace), 1);
	expect_state(s, "recent", UID_UNKNOWN, NULL);
	expect_state(s, "seen", UID_DELIVERED, "1.a");
	assert_int_equal(uidstore_expire(s, now + grace + 1, grace), 1);
	expect_state(s, "pending", UID_PENDING, "4.d");
	assert_int_equal(uidstore_count(s), 1);
	uidstore_close(s);
}

/* Delivers uids from..to-1 as a fetch would (pending, then delivered). */
static void deliver_range(struct uidstore *s, int from, int to)
{
	char uid[32], name[32];

	for (int i = from; i < to; i++) {
		snprintf(uid, sizeof uid, "uid%d", i);
		snprintf(name, sizeof name, "%d.fetched", i);
		deliver(s, uid, name, T0);
	}
	commit_ok(s);
}

/* A first fetch leaves a pending and a delivered record per uid: that is
 * worth a rewrite at once, or every later poll reads twice the records. */
static void wants_compact__after_a_first_fetch__then_true(void **state)
{
	struct uidstore *s = open_ok(*state);

	deliver_range(s, 0, 2000);
	assert_true(uidstore_wants_compact(s, T0));
	uidstore_close(s);
}

static void wants_compact__when_one_record_a_uid__then_false(void **state)
{
	struct uidstore *s = open_ok(*state);
	struct pf_error err = { 0 };

	deliver_range(s, 0, 2000);
	assert_int_equal(uidstore_compact(s, &err), 0);
	deliver_range(s, 2000, 2400); /* a few polls' worth of new mail */
	assert_false(uidstore_wants_compact(s, T0));
	uidstore_close(s);
}

static void wants_compact__when_last_seen_a_day_ahead__then_true(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);

	deliver(s, "a", "1.a", T0);
	commit_ok(s);
	uidstore_mark_seen(s, "a", T0 + 3600);
	assert_false(uidstore_wants_compact(s, T0 + 3600));
	uidstore_mark_seen(s, "a", T0 + DAY + 1);
	assert_true(uidstore_wants_compact(s, T0 + DAY + 1));
	uidstore_close(s);
}

static int resolve(const char *uid, const char *name, void *ctx)
{
	struct uidstore *s = ctx;
	struct pf_error err = { 0 };

	if (strcmp(name, "present") == 0)
		return uidstore_set_delivered(s, uid, NULL, T0, &err);
	return uidstore_forget(s, uid, &err);
}

static void each_pending__when_fn_resolves__then_all_resolved(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);
	struct pf_error err = { 0 };
	char uid[32];

	for (int i = 0; i < 2000; i++) {
		snprintf(uid, sizeof uid, "u%d", i);
		assert_int_equal(uidstore_set_pending(s, uid, i % 2 ? "present" : "absent", &err),
				 0);
	}
	deliver(s, "done", "1.done", T0);
	assert_int_equal(uidstore_each_pending(s, resolve, s), 0);
	commit_ok(s);
	s = reopen(fx, s);
	assert_int_equal(uidstore_count(s), 1001);
	expect_state(s, "u1", UID_DELIVERED, "present");
	expect_state(s, "u2", UID_UNKNOWN, NULL);
	expect_state(s, "done", UID_DELIVERED, "1.done");
	uidstore_close(s);
}

/* --- failed writes ------------------------------------------------------------ */

/* RLIMIT_FSIZE makes the append fail (EFBIG) without a special file
 * system; after that no commit may succeed, even once writes would work. */
static void commit__when_write_fails__then_poisoned(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);
	struct pf_error err = { 0 };
	struct rlimit old, small;
	char uid[32];

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	for (int i = 0; i < 200; i++) {
		snprintf(uid, sizeof uid, "uid%d", i);
		deliver(s, uid, "1.some-name-long-enough", T0);
	}
	small = old;
	small.rlim_cur = (rlim_t)file_size(fx->file) + 100;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_equal(uidstore_commit(s, &err), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	assert_non_null(strstr(err.msg, fx->file));
	pf_error_clear(&err);
	assert_int_equal(uidstore_commit(s, &err), -1);
	pf_error_clear(&err);
	deliver(s, "more", "2.more", T0);
	assert_int_equal(uidstore_commit(s, &err), -1);
	pf_error_clear(&err);
	assert_int_equal(uidstore_compact(s, &err), -1);
	uidstore_close(s);
	/* What reached the file is a torn tail at worst: it still opens. */
	s = open_ok(fx);
	expect_state(s, "more", UID_UNKNOWN, NULL);
	uidstore_close(s);
}

/* --- scale --------------------------------------------------------------------- */

static void many_uids__when_reopened__then_all_found(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);
	struct pf_error err = { 0 };
	char uid[32], name[64];
	const char *got;
	int64_t t0, t1, t2;

	t0 = pf_now_ms();
	for (int i = 0; i < 100000; i++) {
		snprintf(uid, sizeof uid, "UID%08d-%x", i, i * 2654435761u);
		snprintf(name, sizeof name, "17000%05d.M1P2Q%d.host,S=1,W=2", i, i);
		assert_int_equal(uidstore_set_delivered(s, uid, name, T0, &err), 0);
	}
	commit_ok(s);
	uidstore_close(s);
	t1 = pf_now_ms();
	s = open_ok(fx);
	t2 = pf_now_ms();
	assert_int_equal(uidstore_count(s), 100000);
	for (int i = 0; i < 100000; i++) {
		snprintf(uid, sizeof uid, "UID%08d-%x", i, i * 2654435761u);
		snprintf(name, sizeof name, "17000%05d.M1P2Q%d.host,S=1,W=2", i, i);
		assert_int_equal(uidstore_get(s, uid, &got), UID_DELIVERED);
		assert_string_equal(got, name);
	}
	print_message("100000 uids: set+commit %lld ms, open %lld ms, get all %lld ms\n",
		      (long long)(t1 - t0), (long long)(t2 - t1), (long long)(pf_now_ms() - t2));
	uidstore_close(s);
}

/* --- the account lock ------------------------------------------------------------ */

static void lock__when_held_in_same_process__then_locked(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct pf_error err = { 0 };
	int fd1 = lock_account(fx->dir, "acct", &err), fd2, fd3;
	char path[160];

	assert_true(fd1 >= 0);
	fd2 = lock_account(fx->dir, "acct", &err);
	assert_int_equal(fd2, -1);
	assert_int_equal(err.cls, PF_ERR_LOCKED);
	assert_non_null(strstr(err.msg, "acct"));
	assert_non_null(strstr(err.msg, "acct.lock"));
	pf_error_clear(&err);
	fd3 = lock_account(fx->dir, "other", &err);
	assert_true(fd3 >= 0);
	lock_release(fd3);
	lock_release(fd1);
	fd2 = lock_account(fx->dir, "acct", &err);
	assert_true(fd2 >= 0);
	snprintf(path, sizeof path, "%s/acct.lock", fx->dir);
	assert_int_equal(atol(slurp(path, NULL)), (long)getpid());
	lock_release(fd2);
	lock_release(-1);
}

static void lock__when_held_by_child__then_locked_until_it_exits(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct pf_error err = { 0 };
	int ready[2], go[2], status, fd;
	char c;
	pid_t pid;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pf_error cerr = { 0 };
		int cfd;

		close(go[1]); /* else our own copy keeps the pipe open */
		cfd = lock_account(fx->dir, "acct", &cerr);
		(void)!write(ready[1], cfd >= 0 ? "y" : "n", 1);
		(void)!read(go[0], &c, 1);
		_exit(0); /* dies holding the lock: the kernel drops it */
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	assert_int_equal(lock_account(fx->dir, "acct", &err), -1);
	assert_int_equal(err.cls, PF_ERR_LOCKED);
	close(go[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	pf_error_clear(&err);
	fd = lock_account(fx->dir, "acct", &err);
	assert_true(fd >= 0);
	lock_release(fd);
	close(ready[0]);
}

static void lock__when_dir_missing__then_local_error(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct pf_error err = { 0 };
	char dir[160];

	snprintf(dir, sizeof dir, "%s/missing", fx->dir);
	assert_int_equal(lock_account(dir, "acct", &err), -1);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	assert_non_null(strstr(err.msg, dir));
}

/* --- the binding to one server and one user (issue 12 item 4) ---------- */

static void bound_to__same_host_any_case_and_recent_prefix__then_true(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);

	assert_int_equal(uidstore_bound_to(s, "pop.example.com", "me@example.com"), 1);
	assert_int_equal(uidstore_bound_to(s, "POP.Example.COM", "me@example.com"), 1);
	assert_int_equal(uidstore_bound_to(s, "pop.example.com", "recent:me@example.com"), 1);
	assert_int_equal(uidstore_bound_to(s, "pop.example.net", "me@example.com"), 0);
	assert_int_equal(uidstore_bound_to(s, "pop.example.com", "Me@example.com"), 0);
	assert_int_equal(uidstore_bound_to(s, "pop.example.com", "other@example.com"), 0);
	uidstore_close(s);
}

/* The loss the binding prevents: in delete mode a uid "already delivered"
 * is deleted unfetched, so a store for another server or user must answer
 * nothing, record nothing, and leave its file as it was. */
static void open__when_other_host_or_user__then_foreign_and_untouched(void **state)
{
	(void)state;
	struct fx *fx = *state;
	static const char *const other[][2] = {
		{ "pop.other.example", "me@example.com" },
		{ "pop.example.com", "you@example.com" },
	};
	struct uidstore *s = open_ok(fx);
	char *before;
	size_t len;

	assert_int_equal(uidstore_set_pending(s, "u2", "2.b", &(struct pf_error){ 0 }), 0);
	before = stored(fx, s, "u1", "1.a", &len);
	for (size_t i = 0; i < 2; i++) {
		struct pf_error err = { 0 };
		int npending = 0;

		s = open_as(fx, other[i][0], other[i][1]);
		assert_int_equal(uidstore_bound_to(s, other[i][0], other[i][1]), 0);
		assert_int_equal(uidstore_bound_to(s, "pop.example.com", "me@example.com"), 1);
		expect_state(s, "u1", UID_UNKNOWN, NULL);
		expect_state(s, "u2", UID_UNKNOWN, NULL);
		assert_int_equal(uidstore_first_seen(s, "u1"), 0);
		assert_int_equal(uidstore_each_pending(s, count_pending, &npending), 0);
		assert_int_equal(npending, 0);
		assert_int_equal(uidstore_expire(s, T0 + 365 * DAY, DAY), 0);
		assert_int_equal(uidstore_set_pending(s, "u3", "3.c", &err), -1);
		assert_int_equal(err.cls, PF_ERR_CONFIG);
		pf_error_clear(&err);
		assert_int_equal(uidstore_set_delivered(s, "u2", NULL, T0, &err), -1);
		pf_error_clear(&err);
		assert_int_equal(uidstore_forget(s, "u1", &err), -1);
		pf_error_clear(&err);
		assert_int_equal(uidstore_commit(s, &err), -1);
		pf_error_clear(&err);
		assert_int_equal(uidstore_compact(s, &err), -1);
		pf_error_clear(&err);
		assert_int_equal(uidstore_check_binding(s, &err), -1);
		assert_int_equal(err.cls, PF_ERR_CONFIG);
		assert_non_null(strstr(err.msg, "me@example.com at pop.example.com"));
		if (strstr(err.msg, other[i][0]) == NULL || strstr(err.msg, other[i][1]) == NULL)
			fail_msg("configured host/user not named: %s", err.msg);
		assert_non_null(strstr(err.msg, "popfetch --rebind-state acct"));
		assert_non_null(strstr(err.msg, "popfetch --fresh-state acct"));
		uidstore_close(s);
		assert_memory_equal(slurp(fx->file, NULL), before, len);
		assert_int_equal(file_size(fx->file), (off_t)len);
	}
	free(before);
	/* the right server still finds everything */
	s = open_ok(fx);
	assert_int_equal(uidstore_check_binding(s, &(struct pf_error){ 0 }), 0);
	expect_state(s, "u1", UID_DELIVERED, "1.a");
	expect_state(s, "u2", UID_PENDING, "2.b");
	uidstore_close(s);
}

/* A store written before the H record existed is bound on its next open,
 * durably, and keeps its uids. */
static void open__when_no_binding_recorded__then_bound_to_the_account(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s;

	spew(fx->file, "popfetch-uids 1\nD u1 1.a 5 6\n", 0);
	s = open_as(fx, "pop.new.example", "me");
	assert_int_equal(uidstore_check_binding(s, &(struct pf_error){ 0 }), 0);
	expect_state(s, "u1", UID_DELIVERED, "1.a");
	uidstore_close(s);
	assert_string_equal(slurp(fx->file, NULL),
			    "popfetch-uids 1\nD u1 1.a 5 6\nH pop.new.example me\n");
	s = open_as(fx, "pop.old.example", "me");
	expect_state(s, "u1", UID_UNKNOWN, NULL);
	assert_int_equal(uidstore_check_binding(s, &(struct pf_error){ 0 }), -1);
	uidstore_close(s);
}

static void rebind__then_kept_for_the_new_name_only(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);
	struct pf_error err = { 0 };

	deliver(s, "u1", "1.a", T0);
	commit_ok(s);
	uidstore_close(s);
	s = open_as(fx, "pop.renamed.example", "me@example.com");
	assert_int_equal(uidstore_rebind(s, &err), 0);
	assert_int_equal(uidstore_check_binding(s, &err), 0);
	expect_state(s, "u1", UID_DELIVERED, "1.a");
	deliver(s, "u2", "2.b", T0);
	commit_ok(s);
	uidstore_close(s);
	/* durable: the new name opens it, the old one no longer does */
	s = open_as(fx, "pop.renamed.example", "me@example.com");
	expect_state(s, "u1", UID_DELIVERED, "1.a");
	expect_state(s, "u2", UID_DELIVERED, "2.b");
	assert_int_equal(uidstore_compact(s, &err), 0);
	uidstore_close(s);
	s = open_ok(fx);
	expect_state(s, "u1", UID_UNKNOWN, NULL);
	uidstore_close(s);
	/* compaction kept the new binding */
	s = open_as(fx, "pop.renamed.example", "me@example.com");
	assert_int_equal(uidstore_check_binding(s, &err), 0);
	assert_int_equal(uidstore_rebind(s, &err), 0);       /* not foreign: nothing to do */
	uidstore_close(s);
}

static void set_aside__then_kept_beside_and_next_open_is_fresh(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx);
	struct pf_error err = { 0 };
	char name[256], path[512];
	char *old;
	size_t len;

	old = stored(fx, s, "u1", "1.a", &len);
	assert_int_equal(uidstore_exists(fx->dir, "acct", &err), 1);
	s = open_as(fx, "pop.other.example", "you");
	assert_int_equal(uidstore_set_aside(s, name, sizeof name, &err), 0);
	assert_string_equal(name, "acct.uids.pop.example.com.old");
	assert_int_equal(uidstore_set_pending(s, "u9", "9.z", &err), -1);
	uidstore_close(s);
	snprintf(path, sizeof path, "%s/%s", fx->dir, name);
	assert_memory_equal(slurp(path, NULL), old, len);
	assert_int_equal(uidstore_exists(fx->dir, "acct", &err), 0);
	s = open_as(fx, "pop.other.example", "you");
	assert_int_equal(uidstore_check_binding(s, &err), 0);
	assert_int_equal(uidstore_count(s), 0);
	expect_state(s, "u1", UID_UNKNOWN, NULL);
	/* a second move never replaces the first */
	assert_int_equal(uidstore_set_aside(s, name, sizeof name, &err), 0);
	assert_string_equal(name, "acct.uids.pop.other.example.old");
	uidstore_close(s);
	s = open_ok(fx);
	assert_int_equal(uidstore_set_aside(s, name, sizeof name, &err), 0);
	assert_string_equal(name, "acct.uids.pop.example.com.old.2");
	uidstore_close(s);
	assert_memory_equal(slurp(path, NULL), old, len);
	free(old);
}

/* --- building a store beside the current one (--rebuild-state) ---------- */

static struct uidstore *build_ok(const struct fx *fx)
{
	struct pf_error err = { 0 };
	struct uidstore *s = uidstore_build(fx->dir, "acct", "pop.example.com", "me@example.com",
					    &err);

	if (s == NULL)
		fail_msg("uidstore_build: %s", err.msg);
	return s;
}

static int visible(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* Files in dir, whatever their names (the layout is uidstore's). */
static int count_files(const char *dir)
{
	struct dirent **list;
	int n = scandir(dir, &list, visible, NULL);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return n;
}

static void build__when_closed_unreplaced__then_nothing_changes(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx), *b;
	char *before;
	size_t len;

	before = stored(fx, s, "old", "1.old", &len);
	b = build_ok(fx);
	deliver(b, "new", "2.new", T0);
	commit_ok(b);
	assert_int_equal(count_files(fx->dir), 2);         /* acct.uids and the one being built */
	uidstore_close(b);
	assert_int_equal(count_files(fx->dir), 1);
	assert_memory_equal(slurp(fx->file, NULL), before, len);
	free(before);
}

static void replace__then_new_in_place_and_old_kept_as_backup(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct uidstore *s = open_ok(fx), *b;
	struct pf_error err = { 0 };
	char path[256], bak[256];
	char *before;
	size_t len;

	before = stored(fx, s, "old", "1.old", &len);
	b = build_ok(fx);
	deliver(b, "new", "2.new", T0);
	assert_int_equal(uidstore_replace(b, &err), 0);
	/* the store built is now the account's: later commits land in it */
	deliver(b, "later", "3.later", T0);
	commit_ok(b);
	assert_int_equal(uidstore_compact(b, &err), 0);
	uidstore_close(b);
	assert_int_equal(count_files(fx->dir), 2);
	snprintf(bak, sizeof bak, "%s.bak", fx->file);
	assert_memory_equal(slurp(bak, NULL), before, len);
	free(before);
	s = open_ok(fx);
	expect_state(s, "old", UID_UNKNOWN, NULL);
	expect_state(s, "new", UID_DELIVERED, "2.new");
	expect_state(s, "later", UID_DELIVERED, "3.later");
	uidstore_close(s);
	assert_int_equal(uidstore_path(fx->dir, "acct", path, sizeof path), 0);
	assert_string_equal(path, fx->file);
	assert_int_equal(uidstore_path(fx->dir, "acct", path, 8), -1);
	/* again, with no store in place at all: no backup to keep */
	assert_int_equal(unlink(fx->file), 0);
	assert_int_equal(unlink(bak), 0);
	b = build_ok(fx);
	assert_int_equal(uidstore_replace(b, &err), 0);
	uidstore_close(b);
	assert_int_equal(count_files(fx->dir), 1);
	assert_int_equal(uidstore_exists(fx->dir, "acct", &err), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(open__when_missing__then_file_with_header),
		T(open__when_host_user_have_spaces__then_encoded_and_readable),
		T(open__when_empty_file__then_new_store),
		T(pending__when_committed__then_pending_after_reopen),
		T(delivered__when_committed__then_delivered_after_reopen),
		T(uncommitted__when_reopened__then_lost),
		T(forget__when_committed__then_unknown_after_reopen),
		T(set__when_invalid_uid_or_name__then_refused),
		T(open__when_last_line_torn__then_dropped_and_truncated),
		T(open__when_corrupted_in_middle__then_error_naming_line),
		T(open__when_nul_byte_or_long_line__then_corruption),
		T(open__when_wrong_header__then_error),
		T(compact__then_keeps_entries_and_shrinks),
		T(expire__forgets_only_unseen_delivered_older_than_grace),
		T(wants_compact__after_a_first_fetch__then_true),
		T(wants_compact__when_one_record_a_uid__then_false),
		T(wants_compact__when_last_seen_a_day_ahead__then_true),
		T(each_pending__when_fn_resolves__then_all_resolved),
		T(commit__when_write_fails__then_poisoned),
		T(many_uids__when_reopened__then_all_found),
		T(bound_to__same_host_any_case_and_recent_prefix__then_true),
		T(open__when_other_host_or_user__then_foreign_and_untouched),
		T(open__when_no_binding_recorded__then_bound_to_the_account),
		T(rebind__then_kept_for_the_new_name_only),
		T(set_aside__then_kept_beside_and_next_open_is_fresh),
		T(build__when_closed_unreplaced__then_nothing_changes),
		T(replace__then_new_in_place_and_old_kept_as_backup),
		T(lock__when_held_in_same_process__then_locked),
		T(lock__when_held_by_child__then_locked_until_it_exits),
		T(lock__when_dir_missing__then_local_error),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
