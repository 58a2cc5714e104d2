/* test_status.c - the status record --status reads: it round-trips, each
 * writer keeps the other's fields, a reason becomes one line, and a
 * missing or foreign file is told apart. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "status.h"

static char dir[] = "/tmp/test_status.XXXXXX";

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

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void save_then_load__round_trips(void **state)
{
	struct status_rec r = { .ended = 1700000000, .seconds = 1.5, .exit_code = 2,
				.fresh = 7, .delivered = 3, .bytes = 123456789012ULL, .stored = 42,
				.next_poll = 1700000300, .failures = 2, .daemon_pid = 4242 };
	struct status_rec back;
	struct pf_error err = { 0 };
	struct stat sb;
	char path[512];

	(void)state;
	strcpy(r.reason, "cannot connect to pop.example.com port 995: Connection refused");
	assert_int_equal(status_save(dir, "rt", &r, &err), 0);
	assert_int_equal(status_load(dir, "rt", &back, &err), 1);
	assert_int_equal(back.ended, r.ended);
	assert_true(back.seconds > 1.49 && back.seconds < 1.51);
	assert_int_equal(back.exit_code, 2);
	assert_string_equal(back.reason, r.reason);
	assert_int_equal(back.fresh, 7);
	assert_int_equal(back.delivered, 3);
	assert_true(back.bytes == 123456789012ULL);
	assert_int_equal(back.stored, 42);
	assert_int_equal(back.next_poll, r.next_poll);
	assert_int_equal(back.failures, 2);
	assert_int_equal(back.daemon_pid, 4242);
	/* the record is private */
	snprintf(path, sizeof path, "%s/rt.status", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

static void load__missing__is_zero_and_no_error(void **state)
{
	struct status_rec r;
	struct pf_error err = { 0 };

	(void)state;
	r.exit_code = 99;
	assert_int_equal(status_load(dir, "nothere", &r, &err), 0);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.ended, 0);
	assert_int_equal(err.cls, PF_ERR_NONE);
}

static void load__foreign_file__is_an_error_naming_it(void **state)
{
	struct status_rec r;
	struct pf_error err = { 0 };

	(void)state;
	write_file("junk.status", "ended 5\nexit 0\n");
	assert_int_equal(status_load(dir, "junk", &r, &err), -1);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	assert_non_null(strstr(err.msg, "junk.status"));
	assert_int_equal(r.ended, 0);
}

static void load__unknown_lines__are_ignored(void **state)
{
	struct status_rec r;
	struct pf_error err = { 0 };

	(void)state;
	write_file("newer.status", "popfetch-status 1\nexit 3\nfuture_field 12 34\nstored 9\n");
	assert_int_equal(status_load(dir, "newer", &r, &err), 1);
	assert_int_equal(r.exit_code, 3);
	assert_int_equal(r.stored, 9);
}

static void schedule__keeps_the_poll__and_poll_keeps_the_schedule(void **state)
{
	struct config cfg = { .state_dir = dir };
	struct account a = { .name = (char *)"both" };
	struct fetch_result res = { .fresh = 4, .fetched = 4, .bytes = 400, .stored = 10,
				    .seconds = 0.25 };
	struct fetch_result failed = { 0 };
	struct status_rec r;
	struct pf_error err = { 0 };

	(void)state;
	status_poll_ended(&cfg, &a, 0, NULL, 0, &res);
	status_schedule(dir, "both", 1800000000, 0);
	assert_int_equal(status_load(dir, "both", &r, &err), 1);
	assert_int_equal(r.delivered, 4);
	assert_int_equal(r.next_poll, 1800000000);
	assert_int_equal(r.daemon_pid, (long)getpid());
	/* A failed poll that never opened the store keeps the count; its
	 * reason is one line. */
	status_poll_ended(&cfg, &a, 2, "lost\nconnection\x1b[2J", 0, &failed);
	assert_int_equal(status_load(dir, "both", &r, &err), 1);
	assert_int_equal(r.exit_code, 2);
	assert_int_equal(r.stored, 10);
	assert_int_equal(r.delivered, 0);
	assert_int_equal(r.next_poll, 1800000000);
	assert_null(strchr(r.reason, '\n'));
	assert_null(strchr(r.reason, '\x1b'));
	assert_non_null(strstr(r.reason, "lost"));
}

static void exit_class__names_design_codes(void **state)
{
	(void)state;
	assert_string_equal(status_exit_class(0), "new mail");
	assert_string_equal(status_exit_class(1), "no new mail");
	assert_string_equal(status_exit_class(3), "authentication");
	assert_string_equal(status_exit_class(11), "TLS");
	assert_string_equal(status_exit_class(9), "unknown");
	assert_string_equal(status_exit_class(-1), "unknown");
	assert_string_equal(status_exit_class(200), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(save_then_load__round_trips),
		cmocka_unit_test(load__missing__is_zero_and_no_error),
		cmocka_unit_test(load__foreign_file__is_an_error_naming_it),
		cmocka_unit_test(load__unknown_lines__are_ignored),
		cmocka_unit_test(schedule__keeps_the_poll__and_poll_keeps_the_schedule),
		cmocka_unit_test(exit_class__names_design_codes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
