/* test_scheduler.c - the scheduling policy (pure functions of `now`): next
 * due time, jitter bounds, backoff growth and cap, no burst of polls after
 * a clock gap, the combined exit code; and the job pool for real: polls in
 * parallel child processes, codes combined in config order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scheduler.h"
#include "util.h"

#define S_MS 1000LL
#define HOUR_MS (3600 * S_MS)

static void interval__account_then_override_then_global(void **state)
{
	(void)state;
	assert_int_equal(sched_interval_ms(60, 10, 300), 60 * S_MS);
	assert_int_equal(sched_interval_ms(0, 10, 300), 10 * S_MS);
	assert_int_equal(sched_interval_ms(0, 0, 300), 300 * S_MS);
}

static void backoff__doubles_per_failure(void **state)
{
	(void)state;
	assert_int_equal(sched_backoff_ms(60 * S_MS, 0), 60 * S_MS);
	assert_int_equal(sched_backoff_ms(60 * S_MS, 1), 120 * S_MS);
	assert_int_equal(sched_backoff_ms(60 * S_MS, 2), 240 * S_MS);
	assert_int_equal(sched_backoff_ms(1 * S_MS, 3), 8 * S_MS);
	for (unsigned k = 1; k < 40; k++)
		assert_true(sched_backoff_ms(300 * S_MS, k) >= sched_backoff_ms(300 * S_MS, k - 1));
}

static void backoff__capped_at_six_hours(void **state)
{
	(void)state;
	/* 60 s * 2^9 = 8.5 h: over the cap. */
	assert_int_equal(sched_backoff_ms(60 * S_MS, 8), 60 * S_MS * 256);
	assert_int_equal(sched_backoff_ms(60 * S_MS, 9), 6 * HOUR_MS);
	assert_int_equal(sched_backoff_ms(60 * S_MS, 1000), 6 * HOUR_MS);
	assert_int_equal(sched_backoff_ms(1 * S_MS, UINT_MAX), 6 * HOUR_MS);
	/* An interval longer than the cap is never shortened by a failure. */
	assert_int_equal(sched_backoff_ms(7 * 24 * HOUR_MS, 5), 7 * 24 * HOUR_MS);
}

static void jitter__within_ten_percent(void **state)
{
	uint32_t r = 12345;
	int64_t lo = INT64_MAX, hi = -1;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		int64_t j;

		r = r * 1103515245u + 12345u;
		j = sched_jitter_ms(300 * S_MS, r);
		assert_true(j >= 0 && j <= 30 * S_MS);
		lo = j < lo ? j : lo;
		hi = j > hi ? j : hi;
	}
	/* Spread over the whole range, not stuck at one end. */
	assert_true(lo < 1 * S_MS);
	assert_true(hi > 29 * S_MS);
	assert_int_equal(sched_jitter_ms(300 * S_MS, 30 * S_MS), 30 * S_MS);
	assert_int_equal(sched_jitter_ms(300 * S_MS, UINT32_MAX), UINT32_MAX % (30 * S_MS + 1));
	assert_int_equal(sched_jitter_ms(9, UINT32_MAX), 0);
}

static void next_due__interval_plus_jitter_from_now(void **state)
{
	const int64_t now = 5 * HOUR_MS;

	(void)state;
	for (uint32_t r = 0; r < 5000; r += 7) {
		int64_t due = sched_next_due_ms(now, 60 * S_MS, 0, r);

		assert_true(due >= now + 60 * S_MS);
		assert_true(due <= now + 66 * S_MS);
	}
	/* After two failures: 4 intervals (+10%). */
	assert_true(sched_next_due_ms(now, 60 * S_MS, 2, 0) == now + 240 * S_MS);
	assert_true(sched_next_due_ms(now, 60 * S_MS, 2, UINT32_MAX) <= now + 264 * S_MS);
}

/* The daemon's loop in miniature: an account is polled when due; its next
 * due time comes from the poll's end.  A gap (suspend, stall) of many
 * intervals must give one poll, then the normal rhythm. */
static int polls_between(int64_t *due, int64_t from, int64_t to, int64_t step)
{
	int polls = 0;

	for (int64_t now = from; now <= to; now += step)
		if (*due <= now) {
			polls++;
			*due = sched_next_due_ms(now, 60 * S_MS, 0, (uint32_t)now);
		}
	return polls;
}

static void clock_gap__one_poll_not_a_burst(void **state)
{
	int64_t due = 0;
	int n;

	(void)state;
	/* 10 minutes of normal running: about 10 polls (60 s + up to 6 s). */
	n = polls_between(&due, 0, 10 * 60 * S_MS, 100);
	assert_true(n >= 9 && n <= 11);
	/* The clock jumps 10 hours ahead (600 missed intervals): one poll. */
	n = polls_between(&due, 10 * HOUR_MS, 10 * HOUR_MS + 30 * S_MS, 100);
	assert_int_equal(n, 1);
	assert_true(due >= 10 * HOUR_MS + 60 * S_MS);
	/* And the rhythm goes on from there. */
	n = polls_between(&due, 10 * HOUR_MS + 30 * S_MS, 10 * HOUR_MS + 10 * 60 * S_MS, 100);
	assert_true(n >= 8 && n <= 10);
}

static void timeout__bounded(void **state)
{
	(void)state;
	assert_int_equal(sched_timeout_ms(INT64_MAX, 0), -1);
	assert_int_equal(sched_timeout_ms(1000, 2000), 0);
	assert_int_equal(sched_timeout_ms(2000, 2000), 0);
	assert_int_equal(sched_timeout_ms(3500, 2000), 1500);
	assert_int_equal(sched_timeout_ms(INT64_MAX - 1, 0), INT_MAX);
}

static void combine__first_failure_in_config_order(void **state)
{
	(void)state;
	assert_int_equal(sched_combine_codes((int[]){ 1, 1, 1 }, 3), 1);
	assert_int_equal(sched_combine_codes((int[]){ 1, 0, 1 }, 3), 0);
	assert_int_equal(sched_combine_codes((int[]){ 0, 2, 3 }, 3), 2);
	assert_int_equal(sched_combine_codes((int[]){ 1, 8, 10 }, 3), 8);
	/* -1: not polled (stopped before its turn), not a failure. */
	assert_int_equal(sched_combine_codes((int[]){ -1, 0, -1 }, 3), 0);
	assert_int_equal(sched_combine_codes((int[]){ -1, 11 }, 2), 11);
	assert_int_equal(sched_combine_codes(NULL, 0), 1);
}

/* --- the job pool, with real child processes ----------------------------- */

struct fake { const char *name; int sleep_ms; int code; };

static const struct fake fakes[] = {
	{ "a", 300, 1 },
	{ "b", 150, 7 },
	{ "c", 0, 3 },
};

/* Runs in a poll's child process: sleeps, leaves a mark, returns a code. */
static int fake_poll(const struct config *cfg, const struct account *acct, void *ctx)
{
	char path[512];
	FILE *f;

	(void)ctx;
	for (size_t i = 0; i < sizeof fakes / sizeof fakes[0]; i++) {
		if (strcmp(fakes[i].name, acct->name) != 0)
			continue;
		usleep((useconds_t)fakes[i].sleep_ms * 1000);
		snprintf(path, sizeof path, "%s/%s.polled-by", cfg->state_dir, acct->name);
		f = fopen(path, "w");
		if (f != NULL) {
			fprintf(f, "%ld\n", (long)getpid());
			fclose(f);
		}
		return fakes[i].code;
	}
	return 99;
}

static char dir[] = "/tmp/test_scheduler.XXXXXX";

static struct config *three_accounts(void)
{
	char path[256], text[2048];
	struct config *cfg = NULL;
	struct pf_error err = { 0 };
	size_t o = 0;
	FILE *f;

	o += (size_t)snprintf(text + o, sizeof text - o, "state_dir = \"%s\"\n", dir);
	for (size_t i = 0; i < 3; i++)
		o += (size_t)snprintf(text + o, sizeof text - o,
				      "account %s {\n host = \"127.0.0.1\"\n tls = none\n"
				      " user = \"u\"\n password = \"p\"\n maildir = \"%s/%s\"\n}\n",
				      fakes[i].name, dir, fakes[i].name);
	snprintf(path, sizeof path, "%s/config", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
	if (config_load(path, &cfg, &err) < 0)
		fail_msg("config_load: %s", err.msg);
	return cfg;
}

static int run_pool(int jobs, int64_t *ms_r)
{
	struct sched_opts o = { .jobs = jobs, .poll = fake_poll };
	struct pf_error err = { 0 };
	struct sched *s = sched_new(three_accounts(), &o, &err);
	int64_t t0 = pf_now_ms();
	int code;

	assert_non_null(s);
	code = sched_run(s);
	*ms_r = pf_now_ms() - t0;
	sched_free(s);
	return code;
}

static long polled_by(const char *name)
{
	char path[256];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s.polled-by", dir, name);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	unlink(path);
	return pid;
}

static void pool__parallel_in_children_codes_in_config_order(void **state)
{
	int64_t ms;

	(void)state;
	/* b (7) fails before c (3) in config order, though c ends first. */
	assert_int_equal(run_pool(3, &ms), 7);
	/* In parallel: about the slowest poll (300 ms), not the sum (450). */
	assert_true(ms >= 290 && ms < 440);
	for (size_t i = 0; i < 3; i++) {
		long pid = polled_by(fakes[i].name);

		assert_true(pid > 0);
		assert_true(pid != (long)getpid());
	}
}

static void pool__one_job_runs_in_turn(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(run_pool(1, &ms), 7);
	assert_true(ms >= 440);
	for (size_t i = 0; i < 3; i++)
		assert_true(polled_by(fakes[i].name) > 0);
}

static void pool__unknown_account__config_error(void **state)
{
	char *names[] = { "a", "nope" };
	struct sched_opts o = { .poll = fake_poll, .names = names, .nnames = 2 };
	struct pf_error err = { 0 };

	(void)state;
	assert_null(sched_new(three_accounts(), &o, &err));
	assert_int_equal(err.cls, PF_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "'nope'"));
}

static void pool__single_account_polls_in_process(void **state)
{
	char *names[] = { "c" };
	struct sched_opts o = { .poll = fake_poll, .names = names, .nnames = 1 };
	struct pf_error err = { 0 };
	struct sched *s;

	(void)state;
	s = sched_new(three_accounts(), &o, &err);
	assert_non_null(s);
	assert_int_equal(sched_run(s), 3);
	sched_free(s);
	assert_int_equal(polled_by("c"), (long)getpid());
	assert_int_equal(polled_by("a"), 0);
}

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(interval__account_then_override_then_global),
		cmocka_unit_test(backoff__doubles_per_failure),
		cmocka_unit_test(backoff__capped_at_six_hours),
		cmocka_unit_test(jitter__within_ten_percent),
		cmocka_unit_test(next_due__interval_plus_jitter_from_now),
		cmocka_unit_test(clock_gap__one_poll_not_a_burst),
		cmocka_unit_test(timeout__bounded),
		cmocka_unit_test(combine__first_failure_in_config_order),
		cmocka_unit_test(pool__parallel_in_children_codes_in_config_order),
		cmocka_unit_test(pool__one_job_runs_in_turn),
		cmocka_unit_test(pool__unknown_account__config_error),
		cmocka_unit_test(pool__single_account_polls_in_process),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
