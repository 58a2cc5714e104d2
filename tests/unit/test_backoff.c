/* test_backoff.c - the login failure record: when it blocks, how it grows,
 * and that it survives (or safely ignores) what is on disk. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"

static char dir[] = "/tmp/test_backoff.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static void auth_failed__below_limit__sets_no_wait(void **state)
{
	struct backoff b = { 0 };

	(void)state;
	for (int i = 1; i < BACKOFF_AUTH_LIMIT; i++) {
		backoff_auth_failed(&b, 1000);
		assert_int_equal(b.auth_failures, i);
		assert_int_equal(b.retry_after, 0);
	}
	backoff_auth_failed(&b, 1000);
	assert_int_equal(b.retry_after, 1000 + BACKOFF_FIRST_S);
}

static void auth_failed__doubles__up_to_the_cap(void **state)
{
	struct backoff b = { .auth_failures = BACKOFF_AUTH_LIMIT };

	(void)state;
	backoff_auth_failed(&b, 0);
	assert_int_equal(b.retry_after, 2 * BACKOFF_FIRST_S);
	for (int i = 0; i < 40; i++)
		backoff_auth_failed(&b, 0);
	assert_int_equal(b.retry_after, BACKOFF_MAX_S);
}

static void save_then_load__round_trips(void **state)
{
	struct backoff b = { .auth_failures = 4, .retry_after = 123456 }, got;
	struct pf_error err = { 0 };

	(void)state;
	backoff_tag("acct", "pw", b.tag);
	assert_int_equal(backoff_save(dir, "acct", &b, &err), 0);
	backoff_load(dir, "acct", &got);
	assert_int_equal(got.auth_failures, 4);
	assert_int_equal(got.retry_after, 123456);
	assert_string_equal(got.tag, b.tag);
}

static void save__zero_record__removes_the_file(void **state)
{
	struct backoff b = { .auth_failures = 1 };
	struct pf_error err = { 0 };
	char path[512];

	(void)state;
	snprintf(path, sizeof path, "%s/z.backoff", dir);
	assert_int_equal(backoff_save(dir, "z", &b, &err), 0);
	assert_int_equal(access(path, F_OK), 0);
	memset(&b, 0, sizeof b);
	assert_int_equal(backoff_save(dir, "z", &b, &err), 0);
	assert_int_equal(access(path, F_OK), -1);
}

static void load__garbage__gives_no_backoff(void **state)
{
	struct backoff got;
	char path[512];
	FILE *f;

	(void)state;
	snprintf(path, sizeof path, "%s/g.backoff", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("popfetch-backoff 1 -5 99 zz\n", f);
	fclose(f);
	backoff_load(dir, "g", &got);
	assert_int_equal(got.auth_failures, 0);
	assert_int_equal(got.retry_after, 0);
}

static void login_delay__uses_the_announced_delay__and_round_trips(void **state)
{
	struct backoff b = { 0 }, got;
	struct pf_error err = { 0 };

	(void)state;
	backoff_login_delay(&b, 1000, 900);
	assert_int_equal(b.retry_after, 1900);
	assert_int_equal(b.reason, BACKOFF_LOGIN_DELAY);
	assert_int_equal(backoff_save(dir, "d", &b, &err), 0);
	backoff_load(dir, "d", &got);
	assert_int_equal(got.reason, BACKOFF_LOGIN_DELAY);
	assert_int_equal(got.retry_after, 1900);
	backoff_login_delay(&b, 1000, -1); /* not announced */
	assert_int_equal(b.retry_after, 1000 + BACKOFF_LOGIN_DELAY_DEFAULT_S);
	backoff_login_delay(&b, 0, 100000000);
	assert_int_equal(b.retry_after, BACKOFF_MAX_S);
}

static void tag__differs_by_secret_and_account(void **state)
{
	char a[5], b[5], c[5], a2[5];

	(void)state;
	backoff_tag("acct", "one", a);
	backoff_tag("acct", "two", b);
	backoff_tag("other", "one", c);
	backoff_tag("acct", "one", a2);
	assert_string_equal(a, a2);
	assert_int_equal(strlen(a), 4);
	/* 16-bit tags could collide by chance; these fixed inputs do not. */
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(auth_failed__below_limit__sets_no_wait),
		cmocka_unit_test(auth_failed__doubles__up_to_the_cap),
		cmocka_unit_test(save_then_load__round_trips),
		cmocka_unit_test(save__zero_record__removes_the_file),
		cmocka_unit_test(load__garbage__gives_no_backoff),
		cmocka_unit_test(login_delay__uses_the_announced_delay__and_round_trips),
		cmocka_unit_test(tag__differs_by_secret_and_account),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
