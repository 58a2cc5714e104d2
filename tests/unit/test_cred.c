/* test_cred.c - where the password comes from: the config value, or the
 * first line of password_command, with its failures (exit status, signal,
 * no output, timeout) and the secret kept out of every message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cred.h"
#include "util.h"

static struct account acct_with(const char *password, const char *command)
{
	struct account a;

	memset(&a, 0, sizeof a);
	a.name = "work";
	a.password = (char *)password;
	a.password_command = (char *)command;
	return a;
}

static char *get_ok(const char *command, int timeout_s)
{
	struct account a = acct_with(NULL, command);
	struct pf_error err = { 0 };
	char *s = cred_get_password(&a, timeout_s, &err);

	if (s == NULL)
		fail_msg("%s: %s", command, err.msg);
	assert_int_equal(err.cls, PF_ERR_NONE);
	return s;
}

/* Expects failure; the message must hold want and never "hunter2". */
static void get_fails(const char *command, int timeout_s, const char *want)
{
	struct account a = acct_with(NULL, command);
	struct pf_error err = { 0 };
	char *s = cred_get_password(&a, timeout_s, &err);

	if (s != NULL)
		fail_msg("%s: accepted '%s'", command, s);
	assert_int_equal(err.cls, PF_ERR_CONFIG);
	if (strstr(err.msg, "account 'work'") == NULL || strstr(err.msg, want) == NULL)
		fail_msg("'%s' not in: %s", want, err.msg);
	assert_null(strstr(err.msg, "hunter2"));
}

static void password__is_copied(void **state)
{
	(void)state;
	struct account a = acct_with("s3cret", "echo not-this");
	struct pf_error err = { 0 };
	char *s = cred_get_password(&a, 5, &err);

	assert_non_null(s);
	assert_string_equal(s, "s3cret");
	assert_ptr_not_equal(s, a.password);
	pf_free_secret(s);
}

static void no_source__is_a_config_error(void **state)
{
	(void)state;
	struct account a = acct_with(NULL, NULL);
	struct pf_error err = { 0 };

	assert_null(cred_get_password(&a, 5, &err));
	assert_int_equal(err.cls, PF_ERR_CONFIG);
	assert_string_equal(err.msg, "account 'work' has neither password nor password_command");
}

static void command__first_line_is_the_secret(void **state)
{
	(void)state;
	char *s = get_ok("printf 'secret\\nsecond line\\n'", 5);

	assert_string_equal(s, "secret");
	pf_free_secret(s);
	s = get_ok("printf 'with space\\r\\nx'", 5);
	assert_string_equal(s, "with space");
	pf_free_secret(s);
	s = get_ok("printf 'no-newline'", 5);
	assert_string_equal(s, "no-newline");
	pf_free_secret(s);
}

/* `pass show` prints more lines after the password: reading them all must
 * not kill the command with SIGPIPE or drop the first line. */
static void command__long_output_after_the_first_line(void **state)
{
	(void)state;
	char *s = get_ok("printf 'secret\\n'; head -c 200000 /dev/zero | tr '\\0' x", 5);

	assert_string_equal(s, "secret");
	pf_free_secret(s);
}

static void command__stdin_is_dev_null(void **state)
{
	(void)state;
	/* cat would hang on an inherited terminal; with /dev/null it sees EOF. */
	get_fails("cat", 5, "printed nothing");
}

static void command__failure_reports_the_exit_status(void **state)
{
	(void)state;
	get_fails("echo hunter2; exit 3", 5, "password_command failed (exit status 3)");
	get_fails("kill -9 $$", 5, "password_command failed (killed by signal 9)");
	get_fails("/nonexistent/pass show x 2>/dev/null", 5, "(exit status 127)");
}

static void command__no_output_is_an_error(void **state)
{
	(void)state;
	get_fails("true", 5, "password_command printed nothing");
	get_fails("printf '\\nhunter2\\n'", 5, "password_command printed nothing");
}

static void command__overlong_line_is_refused(void **state)
{
	(void)state;
	get_fails("head -c 9000 /dev/zero | tr '\\0' a", 5, "longer than 8192 bytes");
}

static void command__timeout_kills_it_in_bounded_time(void **state)
{
	(void)state;
	int64_t t0 = pf_now_ms();

	get_fails("sleep 30", 1, "password_command timed out after 1 s");
	assert_in_range(pf_now_ms() - t0, 900, 3000);
	/* a grandchild that keeps stdout open is cut off by the same deadline */
	t0 = pf_now_ms();
	get_fails("(sleep 30 &) ; echo hunter2", 1, "timed out after 1 s");
	assert_in_range(pf_now_ms() - t0, 900, 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(password__is_copied),
		cmocka_unit_test(no_source__is_a_config_error),
		cmocka_unit_test(command__first_line_is_the_secret),
		cmocka_unit_test(command__long_output_after_the_first_line),
		cmocka_unit_test(command__stdin_is_dev_null),
		cmocka_unit_test(command__failure_reports_the_exit_status),
		cmocka_unit_test(command__no_output_is_an_error),
		cmocka_unit_test(command__overlong_line_is_refused),
		cmocka_unit_test(command__timeout_kills_it_in_bounded_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
