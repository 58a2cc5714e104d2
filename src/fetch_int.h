/* fetch_int.h - internal to the fetch module: the state of one poll, shared
 * by fetch.c (connect, log in, decide, delete) and fetch_batch.c (download
 * and commit in batches).  Nothing outside src/fetch*.c includes this. */
#ifndef POPFETCH_FETCH_INT_H
#define POPFETCH_FETCH_INT_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "error.h"
#include "fetch.h"
#include "fetch_policy.h"
#include "progress.h"

struct delivery;
struct pop3;
struct pop3_msg;
struct uidstore;

/* RETRs sent and not yet read: want[0..requested) are requested. */
struct window {
	size_t requested;
	size_t n;
	uint64_t bytes;
};

/* One poll of one account, from the lock to QUIT. */
struct poll {
	const struct config *cfg;
	const struct account *acct;
	struct fetch_result *res;
	struct pf_error *err;
	int keep;
	int retry_now;
	int probe;                /* fetch_test_account: no backoff record */
	FILE *progress_out;
	unsigned long limit;
	uint64_t max_size;
	time_t now;
	int lock_fd;
	struct uidstore *store;
	struct delivery *dest;    /* where messages go (delivery.h) */
	struct window win;
	size_t batch_max;         /* messages a batch (batch_limit) */
	struct pop3 *pop;
	struct pop3_msg *msgs;
	size_t nmsgs;
	unsigned char *deletable; /* per listing index: durable locally */
	struct fetch_rules rules; /* fetch_policy.h: settings, options, quirks */
	char *secret;             /* for every session of the poll; wiped */
	/* Messages reported (skipped, untouched) by the poll's sessions: a
	 * set of keys, so that a later session does not report them again. */
	uint64_t *reported;
	size_t nreported, reported_cap;
	char *buf;                /* decoded body chunk */
	struct progress progress;
	struct pf_error deferred; /* a destination's refusal the poll went on after */
};

/* The request window's bound in LIST bytes: what a stop must still read
 * and throw away. */
#define FETCH_WINDOW_BYTES (4ULL * 1024 * 1024)

/* Sends the first window of RETRs for pl->msgs[want[0..total)].  With
 * sizes not read yet (they all count 0), fetch_window_sized() must follow
 * once they are, before fetch_batches.  0 or -1. */
int fetch_request_ahead(struct poll *pl, const size_t *want, size_t total) PF_MUST_CHECK;
void fetch_window_sized(struct poll *pl, const size_t *want);

/* Downloads the messages pl->msgs[want[0..total)] (requested ahead by
 * fetch_request_ahead) and delivers them durably, batch after batch;
 * marks pl->deletable and counts in pl->res.  Stops early after
 * fetch_request_stop().  0 or -1. */
int fetch_batches(struct poll *pl, const size_t *want, size_t total) PF_MUST_CHECK;

/* Reports what plan p leaves out of the session's listing (pl->msgs) and
 * adds the session's counts to pl->res (fetch_report.c).  A message an
 * earlier session of the poll reported is neither reported nor counted
 * again. */
void fetch_account_plan(struct poll *pl, const struct fetch_plan *p);

/* Whether fetch_request_stop() was called. */
int fetch_stop_requested(void);

/* fetch.c's connect and login path (backoff, OAuth2 retry) and the
 * poll's teardown, for fetch_adopt.c. */
int fetch_connect(struct poll *pl) PF_MUST_CHECK;
void fetch_poll_free(struct poll *pl);

#endif
