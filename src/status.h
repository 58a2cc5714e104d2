/* status.h - what `popfetch --status` shows, recorded where a poll ends:
 * state_dir/ACCOUNT.status.
 *
 * Two writers, one after the other: the poll's process records the poll
 * (status_poll_ended, from main.c), then the daemon records when it polls
 * the account next (status_schedule, from scheduler.c).  Each update reads
 * the record, changes its own fields and replaces the file atomically
 * (temp file, fsync, rename), so a reader never sees half a record and
 * needs no lock: --status runs beside a daemon without disturbing it.
 * The record is advisory, like the backoff record: losing it loses only
 * what --status shows, so a failed write is a warning, never a poll's
 * failure.  Text lines, "popfetch-status 1" first; unknown lines are
 * ignored, so a newer popfetch can add fields. */
#ifndef POPFETCH_STATUS_H
#define POPFETCH_STATUS_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "bounds.h"
#include "config.h"
#include "error.h"
#include "fetch.h"

struct status_rec {
	/* the last poll (ended == 0: none recorded) */
	time_t ended;            /* wall clock */
	double seconds;          /* how long it took */
	int exit_code;           /* DESIGN.md section 6 */
	char reason[PF_ERRMSG_MAX]; /* one line; "" after a success */
	int check_only;          /* -c: counted, fetched nothing */
	unsigned long fresh;     /* new messages it found */
	unsigned long delivered; /* messages it delivered */
	uint64_t bytes;          /* bytes it wrote */
	unsigned long stored;    /* UIDs in the uid store after the last poll that opened it */
	/* the daemon's schedule (daemon_pid == 0: no daemon recorded one) */
	time_t next_poll;        /* wall clock */
	unsigned failures;       /* failed polls in a row: the daemon's backoff */
	long daemon_pid;
};

/* Reads state_dir/account.status into *r (zeroed first).  1 when read, 0
 * when there is none, -1 (PF_ERR_LOCAL) when it cannot be read or is not
 * a status record. */
int status_load(const char *state_dir, const char *account, struct status_rec *r,
		struct pf_error *err) PF_MUST_CHECK;

/* Replaces the record atomically.  0 or -1 (PF_ERR_LOCAL). */
int status_save(const char *state_dir, const char *account, const struct status_rec *r,
		struct pf_error *err) PF_MUST_CHECK;

/* The end of a poll of acct that exited with exit_code: reason is the
 * error's message (NULL after a success; made one line), res the poll's
 * counts (res->stored 0: the store was not opened, the previous count
 * stays).  Keeps the schedule fields.  Failures are logged as warnings. */
void status_poll_ended(const struct config *cfg, const struct account *acct, int exit_code,
		       const char *reason, int check_only, const struct fetch_result *res);

/* The daemon (this process) polls account next at next_poll, after
 * failures failed polls in a row.  Keeps the poll fields.  Failures are
 * logged as warnings. */
void status_schedule(const char *state_dir, const char *account, time_t next_poll,
		     unsigned failures);

/* popfetch --status: names[0..nnames) (every account when nnames is 0)
 * as text or (json) one JSON object, from state_dir alone.  0, or -1 with
 * err: PF_ERR_CONFIG for an unknown account, PF_ERR_LOCAL when out
 * cannot be written. */
int status_show(const struct config *cfg, char **names, int nnames, int json, FILE *out,
		struct pf_error *err) PF_MUST_CHECK;

/* A name for an exit code: "new mail", "no new mail", "network",
 * "authentication", ... ("unknown" for codes DESIGN.md does not list). */
const char *status_exit_class(int exit_code);

#endif
