/* test_trust.c - the one rule for trusted files (trust.h), on made-up
 * stat results so every owner can be tried without root, and on real
 * paths for trust_check_path. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust.h"

static struct stat file_st(uid_t uid, mode_t mode)
{
	struct stat st;

	memset(&st, 0, sizeof st);
	st.st_uid = uid;
	st.st_mode = S_IFREG | mode;
	return st;
}

/* A uid that is neither ours nor root's. */
static uid_t other_uid(void)
{
	return getuid() == 1 ? 2 : 1;
}

static void expect_refused(const struct stat *st, const char *secret, const char *needle)
{
	struct pf_error err = { 0 };

	assert_int_equal(trust_check(st, "/x/file", secret, &err), -1);
	assert_int_equal(err.cls, PF_ERR_CONFIG_PERM);
	assert_non_null(strstr(err.msg, "/x/file"));
	if (strstr(err.msg, needle) == NULL)
		fail_msg("'%s' not in: %s", needle, err.msg);
}

static void expect_trusted(const struct stat *st, const char *secret)
{
	struct pf_error err = { 0 };

	if (trust_check(st, "/x/file", secret, &err) != 0)
		fail_msg("refused: %s", err.msg);
	assert_int_equal(err.cls, PF_ERR_NONE);
}

static void owner__self_or_root_only(void **state)
{
	(void)state;
	struct stat mine = file_st(getuid(), 0600), roots = file_st(0, 0644);
	struct stat others = file_st(other_uid(), 0600);

	expect_trusted(&mine, NULL);
	expect_trusted(&mine, "a password");
	expect_trusted(&roots, NULL);
	expect_refused(&others, NULL, "owned by uid");
	expect_refused(&others, "a password", "chown");
}

static void writable_by_group_or_others__refused(void **state)
{
	(void)state;
	static const mode_t bad[] = { 0620, 0602, 0664, 0666, 0777 };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct stat st = file_st(getuid(), bad[i]);

		expect_refused(&st, NULL, "chmod go-w");
	}
}

static void readable_secret__refused_with_chmod_600(void **state)
{
	(void)state;
	static const mode_t bad[] = { 0640, 0604, 0644, 0610, 0666 };
	static const mode_t good[] = { 0600, 0400, 0700 };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct stat st = file_st(getuid(), bad[i]), plain = file_st(getuid(), bad[i] & ~022);

		expect_refused(&st, "an OAuth2 client_secret", "holds an OAuth2 client_secret");
		expect_refused(&st, "a password", "chmod 600 /x/file");
		/* without a secret, reading is fine */
		expect_trusted(&plain, NULL);
	}
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct stat st = file_st(getuid(), good[i]);

		expect_trusted(&st, "a password");
	}
}

static void sticky_world_writable_dir__no_chmod_advice(void **state)
{
	(void)state;
	struct stat st = file_st(0, 01777);

	st.st_mode = S_IFDIR | 01777;
	expect_refused(&st, NULL, "only you can write to");
}

static void path__missing_is_fine_existing_is_judged(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_trust_XXXXXX", sub[64], file[64];
	struct pf_error err = { 0 };
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof sub, "%s/state", dir);
	snprintf(file, sizeof file, "%s/f/state", dir);
	assert_int_equal(trust_check_path(sub, NULL, &err), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(trust_check_path(sub, NULL, &err), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	assert_int_equal(trust_check_path(sub, NULL, &err), -1);
	assert_int_equal(err.cls, PF_ERR_CONFIG_PERM);
	assert_non_null(strstr(err.msg, sub));
	assert_int_equal(rmdir(sub), 0);
	pf_error_clear(&err);
	/* a file where a directory should be: reported when used, not here */
	snprintf(sub, sizeof sub, "%s/f", dir);
	f = fopen(sub, "w");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(trust_check_path(file, NULL, &err), 0);
	assert_int_equal(unlink(sub), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(owner__self_or_root_only),
		cmocka_unit_test(writable_by_group_or_others__refused),
		cmocka_unit_test(readable_secret__refused_with_chmod_600),
		cmocka_unit_test(sticky_world_writable_dir__no_chmod_advice),
		cmocka_unit_test(path__missing_is_fine_existing_is_judged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
