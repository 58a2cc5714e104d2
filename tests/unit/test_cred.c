/* test_cred.c - where the password comes from: the config value, the
 * first line of password_command, with its failures (exit status, signal,
 * no output, timeout), or ~/.netrc (entries, default, quoting, a file
 * readable by others); the secret is kept out of every message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cred.h"
#include "util.h"

static struct account acct_with(const char *password, const char *command)
{
	struct account a;

	memset(&a, 0, sizeof a);
	a.name = "work";
	a.password = (char *)password;
	a.password_command = (char *)command;
	a.host = "pop.example.com";
	a.user = "alice";
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

/* A fresh directory used as HOME, with .netrc holding text (mode 0600)
 * unless text is NULL.  Returns the .netrc path in path (PATH_MAX). */
static void make_home(char *dir, char *path, const char *text)
{
	static const char tmpl[] = "/tmp/test_cred_homeXXXXXX";
	FILE *f;

	memcpy(dir, tmpl, sizeof tmpl);
	assert_non_null(mkdtemp(dir));
	assert_true(snprintf(path, 256, "%s/.netrc", dir) < 256);
	assert_int_equal(setenv("HOME", dir, 1), 0);
	if (text == NULL)
		return;
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

static void remove_home(const char *dir, const char *path)
{
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

/* cred_netrc_lookup on text; returns its result, secret in *s_r. */
static int lookup(const char *text, const char *host, const char *user, char **s_r,
		  struct pf_error *err)
{
	char dir[64], path[256];
	int rc;

	make_home(dir, path, text);
	rc = cred_netrc_lookup(path, host, user, s_r, err);
	remove_home(dir, path);
	return rc;
}

static void expect_lookup(const char *text, const char *host, const char *user, const char *want)
{
	struct pf_error err = { 0 };
	char *s = NULL;
	int rc = lookup(text, host, user, &s, &err);

	if (want == NULL) {
		if (rc != 0)
			fail_msg("expected no entry, got rc %d (%s)", rc, err.msg);
		assert_null(s);
		return;
	}
	if (rc != 1)
		fail_msg("expected '%s', got rc %d (%s)", want, rc, err.msg);
	assert_string_equal(s, want);
	pf_free_secret(s);
}

static void no_source__no_netrc__is_a_config_error(void **state)
{
	(void)state;
	struct account a = acct_with(NULL, NULL);
	struct pf_error err = { 0 };
	char dir[64], path[256];

	make_home(dir, path, NULL);
	assert_null(cred_get_password(&a, 5, &err));
	assert_int_equal(err.cls, PF_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "account 'work' has neither password nor password_command"));
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "does not exist"));
	remove_home(dir, path);
}

static void no_source__reads_netrc(void **state)
{
	(void)state;
	struct account a = acct_with(NULL, NULL);
	struct pf_error err = { 0 };
	char dir[64], path[256], *s;

	make_home(dir, path, "machine other.example.com login alice password no\n"
			     "machine POP.example.com login alice password fromnetrc\n");
	s = cred_get_password(&a, 5, &err);
	remove_home(dir, path);
	if (s == NULL)
		fail_msg("%s", err.msg);
	assert_string_equal(s, "fromnetrc");
	pf_free_secret(s);
}

static void no_source__netrc_without_entry__says_so(void **state)
{
	(void)state;
	struct account a = acct_with(NULL, NULL);
	struct pf_error err = { 0 };
	char dir[64], path[256];

	make_home(dir, path, "machine other.example.com login alice password hunter2\n");
	assert_null(cred_get_password(&a, 5, &err));
	remove_home(dir, path);
	assert_int_equal(err.cls, PF_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "has no password for this machine and login"));
	assert_null(strstr(err.msg, "hunter2"));
}

static void netrc__login_selects_the_entry(void **state)
{
	(void)state;
	static const char text[] =
		"machine pop.example.com login bob password bobpw\n"
		"machine pop.example.com\n  login alice\n  password alicepw\n"
		"default login alice password defaultpw\n";

	expect_lookup(text, "pop.example.com", "alice", "alicepw");
	expect_lookup(text, "pop.example.com", "bob", "bobpw");
	/* No machine entry fits carol or the other host: the default. */
	expect_lookup(text, "pop.example.com", "carol", NULL);
	expect_lookup(text, "mail.example.org", "alice", "defaultpw");
	/* An entry without login serves any user. */
	expect_lookup("machine h password any\n", "h", "zed", "any");
}

static void netrc__quotes_comments_macdef(void **state)
{
	(void)state;
	static const char text[] =
		"# my hosts\n"
		"macdef init\nmachine h login alice password wrong\n\n"
		"machine h account acct login alice password \"two words \\\"q\\\"\"\n";

	expect_lookup(text, "h", "alice", "two words \"q\"");
}

static void netrc__readable_by_group__is_refused(void **state)
{
	(void)state;
	struct pf_error err = { 0 };
	char dir[64], path[256], *s = NULL;

	make_home(dir, path, "machine h login alice password hunter2\n");
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(cred_netrc_lookup(path, "h", "alice", &s, &err), -1);
	remove_home(dir, path);
	assert_null(s);
	assert_int_equal(err.cls, PF_ERR_CONFIG_PERM);
	assert_non_null(strstr(err.msg, "chmod 600"));
	assert_non_null(strstr(err.msg, path));
	assert_null(strstr(err.msg, "hunter2"));
}

/* Issue 12 item 5: the same rule as the config (trust.h).  Only root can
 * give a file away, so the owner half runs as root only; test_trust
 * covers it on made-up stat results for everyone. */
static void netrc__owned_by_another_user__is_refused(void **state)
{
	(void)state;
	struct pf_error err = { 0 };
	char dir[64], path[256], *s = NULL;
	int rc;

	make_home(dir, path, "machine h login alice password hunter2\n");
	if (getuid() == 0)
		assert_int_equal(chown(path, 1, 1), 0);
	rc = cred_netrc_lookup(path, "h", "alice", &s, &err);
	remove_home(dir, path);
	if (getuid() != 0) {
		assert_int_equal(rc, 1);
		pf_free_secret(s);
		return;
	}
	assert_int_equal(rc, -1);
	assert_null(s);
	assert_int_equal(err.cls, PF_ERR_CONFIG_PERM);
	assert_non_null(strstr(err.msg, "owned by uid 1"));
	assert_null(strstr(err.msg, "hunter2"));
}

static void netrc__malformed__is_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"machine h login alice password", "machine", "machine h password \"unterminated",
	};
	char big[PF_SECRET_MAX + 64];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct pf_error err = { 0 };
		char *s = NULL;
		int rc = lookup(bad[i], "h", "alice", &s, &err);

		/* An unterminated quote reads to the end: a value, not an error. */
		if (i == 2) {
			assert_int_equal(rc, 1);
			assert_string_equal(s, "unterminated");
			pf_free_secret(s);
			continue;
		}
		if (rc != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(err.cls, PF_ERR_CONFIG);
	}
	/* A token longer than any secret is refused, not truncated. */
	memcpy(big, "machine h password ", 19);
	memset(big + 19, 'x', PF_SECRET_MAX + 1);
	big[19 + PF_SECRET_MAX + 1] = '\0';
	{
		struct pf_error err = { 0 };
		char *s = NULL;

		assert_int_equal(lookup(big, "h", "alice", &s, &err), -1);
		assert_null(s);
	}
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

/* Makes our stdin a pipe that holds one line and is closed for writing;
 * returns a copy of the old stdin for restore_stdin. */
static int stdin_from_pipe(const char *line)
{
	int p[2], saved = dup(STDIN_FILENO);
	size_t len = strlen(line);

	assert_true(saved >= 0);
	assert_int_equal(pipe(p), 0);
	assert_true(write(p[1], line, len) == (ssize_t)len);
	close(p[1]);
	assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);
	return saved;
}

static void restore_stdin(int saved)
{
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
}

/* The command's stdin is /dev/null, never ours. Our stdin is made a pipe
 * holding a line first: under CI it is often /dev/null already, which
 * would hide a command that inherits it. */
static void command__stdin_is_dev_null(void **state)
{
	struct account a = acct_with(NULL, "if read -r l; then echo \"read:$l\"; else echo eof; fi");
	struct pf_error err = { 0 };
	int saved;
	char *s;

	(void)state;
	saved = stdin_from_pipe("hunter2-from-our-stdin\n");
	s = cred_get_password(&a, 5, &err);
	restore_stdin(saved);
	if (s == NULL)
		fail_msg("%s", err.msg);
	assert_string_equal(s, "eof");
	pf_free_secret(s);
	/* cat copies what it reads: nothing, so "printed nothing". */
	saved = stdin_from_pipe("hunter2-from-our-stdin\n");
	a = acct_with(NULL, "cat");
	s = cred_get_password(&a, 5, &err);
	restore_stdin(saved);
	if (s != NULL)
		fail_msg("cat read our stdin: '%s'", s);
	assert_non_null(strstr(err.msg, "printed nothing"));
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
		cmocka_unit_test(no_source__no_netrc__is_a_config_error),
		cmocka_unit_test(no_source__reads_netrc),
		cmocka_unit_test(no_source__netrc_without_entry__says_so),
		cmocka_unit_test(netrc__login_selects_the_entry),
		cmocka_unit_test(netrc__quotes_comments_macdef),
		cmocka_unit_test(netrc__readable_by_group__is_refused),
		cmocka_unit_test(netrc__owned_by_another_user__is_refused),
		cmocka_unit_test(netrc__malformed__is_refused),
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
