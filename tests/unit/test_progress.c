/* test_progress.c - the progress line: its numbers, its throttle, and that
 * it erases itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "progress.h"

static void format__shows_counts_rate_and_eta(void **state)
{
	struct progress p;
	char line[160];

	(void)state;
	progress_begin(&p, NULL, "work", 10, 4000000);
	p.start_ms = 0;
	p.msgs_done = 5;
	p.bytes_done = 2000000;
	progress_format(&p, 2000, line, sizeof line);
	/* 2 MB in 2 s: 1 MB/s, 2 MB left: 2 s. */
	assert_string_equal(line, "work: 5/10 messages, 2.0 MB/4.0 MB, 1.0 MB/s, ETA 0:02");
}

static void format__lying_sizes__never_exceed_100_percent(void **state)
{
	struct progress p;
	char line[160];

	(void)state;
	progress_begin(&p, NULL, "a", 1, 100);
	p.start_ms = 0;
	p.bytes_done = 5000;
	progress_format(&p, 1000, line, sizeof line);
	assert_non_null(strstr(line, "5.0 kB/5.0 kB"));
	assert_non_null(strstr(line, "ETA 0:00"));
}

static size_t drawn(FILE *f, char *buf, size_t cap)
{
	size_t n;

	fflush(f);
	rewind(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	return n;
}

static void add__throttles_and_end_erases(void **state)
{
	struct progress p;
	char buf[2048];
	FILE *f = tmpfile();

	(void)state;
	assert_non_null(f);
	progress_begin(&p, f, "acct", 3, 300);
	progress_add(&p, 0, 100, 1000);   /* starts the clock: no drawing */
	progress_add(&p, 1, 0, 1100);     /* within 200 ms: still none */
	assert_int_equal(drawn(f, buf, sizeof buf), 0);
	progress_add(&p, 0, 100, 1300);   /* now it draws */
	drawn(f, buf, sizeof buf);
	assert_non_null(strstr(buf, "\racct: 1/3 messages, 200 B/300 B"));
	progress_end(&p);
	drawn(f, buf, sizeof buf);
	assert_non_null(strstr(buf, "\033[K\r\033[K"));
	fclose(f);
}

static void add__without_output__draws_nothing(void **state)
{
	struct progress p;

	(void)state;
	progress_begin(&p, NULL, "x", 1, 1);
	progress_add(&p, 1, 1, 5000);
	progress_end(&p);
	assert_int_equal(p.msgs_done, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format__shows_counts_rate_and_eta),
		cmocka_unit_test(format__lying_sizes__never_exceed_100_percent),
		cmocka_unit_test(add__throttles_and_end_erases),
		cmocka_unit_test(add__without_output__draws_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
