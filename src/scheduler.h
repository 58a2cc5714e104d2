/* scheduler.h - which account is polled when, and in which process
 * (DESIGN.md sections 4, 6 and 8).
 *
 * One-shot: every selected account is polled once, up to `jobs` at a time,
 * and the exit code combines theirs in config order.  Daemon: every account
 * is polled at once on start, then every interval (jitter up to 10%), with
 * exponential backoff after a failure; SIGUSR1 polls now, SIGHUP reloads
 * the config (a broken one keeps the old), SIGTERM/SIGINT finish the polls
 * in flight and stop.
 *
 * Each poll runs in a child process (fork): a slow or hung server delays
 * only its own account, a crash in a poll cannot take the daemon down, and
 * the lock, the uid store and the memory of a poll die with its process.
 * The one exception is a one-shot run of a single account, which polls in
 * this process: nothing runs beside it, and a SIGKILL of popfetch must stop
 * the poll at that very instant (what the crash tests and a user's kill -9
 * expect).
 *
 * The policy (next due time, jitter, backoff, combined exit code) is made
 * of pure functions of `now` (milliseconds on CLOCK_MONOTONIC) so it can
 * be unit-tested without clocks or processes. */
#ifndef POPFETCH_SCHEDULER_H
#define POPFETCH_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

/* Exit codes of a poll that succeeded (DESIGN.md section 6). */
#define SCHED_EXIT_NEW_MAIL 0
#define SCHED_EXIT_NO_MAIL 1

/* -j: more parallel polls than this only trip servers' connection limits
 * (the config's `jobs` has the same cap). */
#define SCHED_JOBS_MAX 64
/* -d SECS: the config's poll_interval cap, one week. */
#define SCHED_INTERVAL_MAX_S (7 * 24 * 3600)
/* DESIGN.md section 8: backoff after failures stops growing at 6 hours. */
#define SCHED_BACKOFF_MAX_MS (6LL * 3600 * 1000)
/* Jitter: up to interval / SCHED_JITTER_DIV (10%), so accounts with the
 * same interval drift apart instead of hitting servers in lockstep. */
#define SCHED_JITTER_DIV 10
/* A poll's process treats a second SIGTERM/SIGINT within this many
 * seconds of the first as the same request (a terminal's ^C reaches the
 * whole process group, and the parent forwards it too); a later one kills
 * at once. */
#define SCHED_STOP_ECHO_S 2

/* Runs in the process of the poll; returns the poll's exit code. */
typedef int (*sched_poll_fn)(const struct config *cfg, const struct account *acct, void *ctx);

struct sched_opts {
	int daemon;         /* 0: poll each selected account once */
	int jobs;           /* -j N; 0: the config's jobs */
	int interval_s;     /* -d SECS: replaces the global poll_interval; 0: none */
	char **names;       /* the accounts to poll (all must exist); none: all */
	int nnames;
	sched_poll_fn poll;
	void *ctx;
};

struct sched;

/* Takes ownership of cfg (a reload replaces it; sched_free frees it).
 * opts is copied; names and ctx must outlive the scheduler.  NULL with err
 * set when a named account does not exist (PF_ERR_CONFIG) or the signal
 * pipe cannot be made (PF_ERR_INTERNAL); cfg is freed then too. */
struct sched *sched_new(struct config *cfg, const struct sched_opts *opts,
			struct pf_error *err) PF_MUST_CHECK;
void sched_free(struct sched *s);

/* Runs until done (one-shot) or stopped by SIGTERM/SIGINT (daemon: returns
 * 0).  One-shot: 0 or 1 when every poll that ran succeeded, else the code
 * of the first failed account in config order.  Installs its own signal
 * handlers. */
int sched_run(struct sched *s);

/* --- the policy, pure ---------------------------------------------------- */

/* An account's interval: its own poll_interval if set, else -d SECS if
 * given, else the global one. */
int64_t sched_interval_ms(int account_s, int override_s, int global_s);

/* The wait after `failures` failed polls in a row: interval * 2^failures,
 * at most SCHED_BACKOFF_MAX_MS (but never shorter than the interval). */
int64_t sched_backoff_ms(int64_t interval_ms, unsigned failures);

/* Jitter for a wait, from a random number: in [0, wait_ms / 10]. */
int64_t sched_jitter_ms(int64_t wait_ms, uint32_t rnd);

/* When an account whose poll ended at now_ms is due again.  Counted from
 * the end of the poll, never from the missed due times: after a suspend
 * or a long stall an account polls once, not once per missed interval. */
int64_t sched_next_due_ms(int64_t now_ms, int64_t interval_ms, unsigned failures,
			  uint32_t rnd);

/* poll(2)'s timeout until due_ms: 0 when due, -1 for INT64_MAX (never),
 * at most INT_MAX. */
int sched_timeout_ms(int64_t due_ms, int64_t now_ms);

/* DESIGN.md section 6 over per-account codes in config order (-1: not
 * polled): 0 or 1 when all succeeded, else the first failure's code. */
int sched_combine_codes(const int *codes, size_t n);

#endif
