/* test_child.c - a configured command as child.h promises: exit statuses
 * and signals, the deadline that kills its whole process group, the first
 * stderr line bounded and sanitised, input fed while it chatters on stderr,
 * one that stops reading, a scrubbed environment, no inherited descriptor,
 * and server text made inert for an environment variable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "util.h"

struct fx {
	char dir[64];
	char out[128];  /* a file the commands write to */
};

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);

	snprintf(fx->dir, sizeof fx->dir, "/tmp/test_child.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->out, sizeof fx->out, "%s/out", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/* Runs command with input (NULL: none) and returns its status. */
static struct child_status run(const char *command, const char *const *env, int timeout_s,
			       const void *input, size_t len, int *fed_r)
{
	struct child_opts o = { .command = command, .env = env, .timeout_s = timeout_s,
				.no_input = input == NULL, .what = "test" };
	struct pf_error err = { 0 };
	struct child_status st;
	struct child *c = child_start(&o, &err);

	if (c == NULL)
		fail_msg("child_start: %s", err.msg);
	if (fed_r != NULL)
		*fed_r = input != NULL ? child_feed(c, input, len) : 0;
	else if (input != NULL && child_feed(c, input, len) < 0)
		fail_msg("%s: feeding failed", command);
	child_wait(c, &st);
	return st;
}

/* The contents of path in a new string (at most 1 MiB). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = xcalloc(1, 1024 * 1024 + 1);

	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	(void)fread(buf, 1, 1024 * 1024, f);
	fclose(f);
	return buf;
}

static void exit_zero__is_ok(void **state)
{
	struct child_status st = run("exit 0", NULL, 5, NULL, 0, NULL);

	(void)state;
	assert_true(st.exited);
	assert_int_equal(st.code, 0);
	assert_true(child_ok(&st));
}

static void exit_codes__are_reported(void **state)
{
	int codes[] = { 1, 75, 126, 255 };
	char cmd[32], text[512];

	(void)state;
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		struct child_status st;

		snprintf(cmd, sizeof cmd, "exit %d", codes[i]);
		st = run(cmd, NULL, 5, NULL, 0, NULL);
		assert_true(st.exited);
		assert_int_equal(st.code, codes[i]);
		assert_false(child_ok(&st));
		child_describe(&st, 5, text, sizeof text);
		snprintf(cmd, sizeof cmd, "exit status %d", codes[i]);
		assert_string_equal(text, cmd);
	}
}

static void signal__is_reported(void **state)
{
	struct child_status st = run("kill -TERM $$", NULL, 5, NULL, 0, NULL);
	char text[512];

	(void)state;
	assert_false(st.exited);
	assert_int_equal(st.code, SIGTERM);
	assert_false(st.timed_out);
	assert_false(child_ok(&st));
	child_describe(&st, 5, text, sizeof text);
	assert_non_null(strstr(text, "killed by signal 15"));
}

/* Dead: gone from /proc, or a zombie waiting for a reaper. */
static int pid_dead(long pid)
{
	char path[64], buf[512];
	FILE *f;
	char *paren;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 1;
	buf[0] = '\0';
	(void)fgets(buf, sizeof buf, f);
	fclose(f);
	paren = strrchr(buf, ')');
	return paren != NULL && (paren[2] == 'Z' || paren[2] == 'X');
}

static void deadline__kills_the_whole_group(void **state)
{
	struct fx *fx = *state;
	char cmd[256], *pidtext;
	int64_t t0 = pf_now_ms(), elapsed;
	struct child_status st;
	long bg;

	/* A background grandchild and a foreground one, both past the
	 * deadline: neither may survive it. */
	snprintf(cmd, sizeof cmd, "sleep 30 & echo $! > '%s'; echo stuck >&2; sleep 30", fx->out);
	st = run(cmd, NULL, 1, NULL, 0, NULL);
	elapsed = pf_now_ms() - t0;
	assert_true(st.timed_out);
	assert_false(child_ok(&st));
	assert_true(elapsed >= 900 && elapsed < 5000);
	assert_string_equal(st.errline, "stuck");
	pidtext = slurp(fx->out);
	bg = strtol(pidtext, NULL, 10);
	free(pidtext);
	assert_true(bg > 1);
	for (int i = 0; i < 100 && !pid_dead(bg); i++)
		usleep(10000);
	assert_true(pid_dead(bg));
}

static void deadline__covers_feeding(void **state)
{
	/* A command that never reads: the pipe fills, feeding must stop at
	 * the deadline instead of blocking. */
	size_t len = 4 * 1024 * 1024;
	char *big = xcalloc(1, len);
	int64_t t0 = pf_now_ms();
	int fed;
	struct child_status st = run("sleep 30", NULL, 1, big, len, &fed);

	(void)state;
	assert_int_equal(fed, -1);
	assert_true(st.timed_out);
	assert_true(pf_now_ms() - t0 < 5000);
	free(big);
}

static void stderr__first_line_kept(void **state)
{
	struct child_status st = run("echo 'maildrop: quota exceeded' >&2; echo second >&2; "
				     "exit 77", NULL, 5, NULL, 0, NULL);
	char text[512];

	(void)state;
	assert_string_equal(st.errline, "maildrop: quota exceeded");
	child_describe(&st, 5, text, sizeof text);
	assert_string_equal(text, "exit status 77: maildrop: quota exceeded");
}

static void stderr__is_bounded_and_sanitised(void **state)
{
	struct child_status st;

	(void)state;
	st = run("printf 'a\\033[31mb\\r\\n' >&2; exit 1", NULL, 5, NULL, 0, NULL);
	assert_null(strchr(st.errline, '\033'));
	assert_null(strchr(st.errline, '\r'));
	assert_int_equal(st.errline[0], 'a');
	/* 100 KB on one line: the line is cut, the command is not blocked. */
	st = run("head -c 100000 /dev/zero | tr '\\0' x >&2; exit 2", NULL, 5, NULL, 0, NULL);
	assert_true(st.exited);
	assert_int_equal(st.code, 2);
	assert_true(strlen(st.errline) < CHILD_ERRLINE_MAX);
	assert_true(strlen(st.errline) > 10);
}

static void input__arrives_whole_while_stderr_chatters(void **state)
{
	struct fx *fx = *state;
	size_t len = 3 * 1024 * 1024 + 17;
	char *msg = xmalloc(len + 1), cmd[256], *got;
	struct child_status st;

	for (size_t i = 0; i < len; i++)
		msg[i] = (char)('a' + i % 26);
	msg[len] = '\0';
	/* 2 MB on stderr before it reads anything: with stderr unread both
	 * sides would block until the deadline. */
	snprintf(cmd, sizeof cmd, "head -c 2000000 /dev/zero >&2; cat > '%s'", fx->out);
	st = run(cmd, NULL, 20, msg, len, NULL);
	assert_true(child_ok(&st));
	got = slurp(fx->out);
	assert_int_equal(strlen(got), 1024 * 1024); /* slurp's cap */
	assert_memory_equal(got, msg, 1024 * 1024);
	free(got);
	free(msg);
}

static void input__refused_is_not_ok(void **state)
{
	size_t len = 4 * 1024 * 1024;
	char *big = xcalloc(1, len), text[512];
	int fed;
	struct child_status st;

	(void)state;
	/* exit 0 without reading: SIGPIPE must not kill us, and this is no
	 * delivery. */
	st = run("exec 0<&-; sleep 0.2; exit 0", NULL, 5, big, len, &fed);
	assert_int_equal(fed, -1);
	assert_true(st.input_refused);
	assert_false(child_ok(&st));
	child_describe(&st, 5, text, sizeof text);
	assert_non_null(strstr(text, "without reading all of its input"));
	free(big);
}

static void no_input__is_dev_null(void **state)
{
	struct fx *fx = *state;
	char cmd[256], *got;
	struct child_status st;

	snprintf(cmd, sizeof cmd, "cat > '%s'", fx->out);
	st = run(cmd, NULL, 5, NULL, 0, NULL);
	assert_true(child_ok(&st));
	got = slurp(fx->out);
	assert_string_equal(got, "");
	free(got);
}

static void env__is_scrubbed(void **state)
{
	struct fx *fx = *state;
	const char *extra[] = { "POPFETCH_ACCOUNT=work", "POPFETCH_UID=abc%24", NULL };
	char cmd[256], *got;
	struct child_status st;

	assert_int_equal(setenv("MY_PASSWORD", "hunter2", 1), 0);
	assert_int_equal(setenv("POPFETCH_TEST_STOP_AFTER_STEP", "999999", 1), 0);
	assert_int_equal(setenv("HOME", "/home/alice", 1), 0);
	assert_int_equal(setenv("LC_TIME", "C", 1), 0);
	snprintf(cmd, sizeof cmd, "env > '%s'", fx->out);
	st = run(cmd, extra, 5, NULL, 0, NULL);
	unsetenv("MY_PASSWORD");
	unsetenv("POPFETCH_TEST_STOP_AFTER_STEP");
	assert_true(child_ok(&st));
	got = slurp(fx->out);
	assert_null(strstr(got, "hunter2"));
	assert_null(strstr(got, "MY_PASSWORD"));
	assert_null(strstr(got, "STOP_AFTER_STEP"));
	assert_non_null(strstr(got, "HOME=/home/alice\n"));
	assert_non_null(strstr(got, "LC_TIME=C\n"));
	assert_non_null(strstr(got, "PATH="));
	assert_non_null(strstr(got, "POPFETCH_ACCOUNT=work\n"));
	assert_non_null(strstr(got, "POPFETCH_UID=abc%24\n"));
	free(got);
}

static void fds__are_not_inherited(void **state)
{
	struct fx *fx = *state;
	int leak[4], sp[2];
	char cmd[256], *got, *line, *save = NULL;
	struct child_status st;

	/* Descriptors opened WITHOUT close-on-exec, as a careless library
	 * would: the child must still not see them. */
	for (int i = 0; i < 4; i++)
		assert_true((leak[i] = open("/dev/null", O_RDONLY)) >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	snprintf(cmd, sizeof cmd, "exec > '%s'; exec ls /proc/self/fd", fx->out);
	st = run(cmd, NULL, 5, "x", 1, NULL);
	assert_true(child_ok(&st) || st.input_refused);
	got = slurp(fx->out);
	/* ls shows 0, 1, 2 and the one it opened to list the directory. */
	for (line = strtok_r(got, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (atoi(line) > 3)
			fail_msg("descriptor %s was inherited", line);
	free(got);
	for (int i = 0; i < 4; i++)
		close(leak[i]);
	close(sp[0]);
	close(sp[1]);
}

static void safe_value__escapes_shell_text(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(child_safe_value(out, sizeof out, "Abc-1.2_x+y@z"), 0);
	assert_string_equal(out, "Abc-1.2_x+y@z");
	assert_int_equal(child_safe_value(out, sizeof out, "$(rm -rf ~);`x`|%"), 0);
	assert_string_equal(out, "%24%28rm%20-rf%20%7E%29%3B%60x%60%7C%25");
	assert_int_equal(child_safe_value(out, 4, "abcd"), -1);
	assert_int_equal(child_safe_value(out, 4, "a$"), -1);
	assert_int_equal(child_safe_value(out, 4, "abc"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exit_zero__is_ok),
		cmocka_unit_test(exit_codes__are_reported),
		cmocka_unit_test(signal__is_reported),
		cmocka_unit_test_setup_teardown(deadline__kills_the_whole_group, setup, teardown),
		cmocka_unit_test(deadline__covers_feeding),
		cmocka_unit_test(stderr__first_line_kept),
		cmocka_unit_test(stderr__is_bounded_and_sanitised),
		cmocka_unit_test_setup_teardown(input__arrives_whole_while_stderr_chatters, setup,
						teardown),
		cmocka_unit_test(input__refused_is_not_ok),
		cmocka_unit_test_setup_teardown(no_input__is_dev_null, setup, teardown),
		cmocka_unit_test_setup_teardown(env__is_scrubbed, setup, teardown),
		cmocka_unit_test_setup_teardown(fds__are_not_inherited, setup, teardown),
		cmocka_unit_test(safe_value__escapes_shell_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
