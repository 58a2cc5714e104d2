/* fetch_batch.c - the durability order of DESIGN.md section 2, applied one
 * batch at a time (group commit), for any destination (delivery.h):
 *
 *   1. RETR each message of the batch into the destination
 *      (delivery_msg_begin, _write, _end);
 *   2. delivery_commit makes the batch durable in the destination's own
 *      order, calling back here to record "uid -> NAME pending" and fsync
 *      the uid store before anything reaches a reader (journal_pending),
 *      and to record what it proved durable as delivered, fsync the uid
 *      store (journal_durable);
 *   3. only then DELE (fetch.c; and only at QUIT does the server delete).
 *
 * A crash between the two records leaves pending ones; the next poll asks
 * the destination about each NAME (fetch.c, resolve_pending) and so never
 * delivers a message twice.  Meanwhile a sliding window of RETRs keeps the
 * server sending. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "conn.h"
#include "fetch_int.h"
#include "delivery.h"
#include "log.h"
#include "pop3.h"
#include "progress.h"
#include "rebuild.h"
#include "uidstore.h"
#include "util.h"

/* A batch ends at this many messages or this many bytes (LIST hints):
 * the unit of group commit.  Each message of a batch holds a file open
 * until the commit, so the fetch raises the soft descriptor limit to
 * NOFILE_WANT when the hard limit allows (restored afterwards), and a
 * lower limit makes batches smaller (batch_limit).  20,000 small messages:
 * 256 a batch took 5.0-5.1 s, 64 a batch 6.2-8.1 s; 300 messages over a
 * 50 ms round trip: one batch of 300 0.33-0.36 s, 256 + 44 0.35-0.39 s
 * (interleaved runs). */
#define BATCH_MAX 1024
#define BATCH_MIN 16
#define NOFILE_WANT (4 * BATCH_MAX)
#define BATCH_BYTES (32ULL * 1024 * 1024)
/* RETRs requested ahead of reading at most (top_up); the bytes are
 * FETCH_WINDOW_BYTES (fetch_int.h). */
#define WINDOW_MAX POP3_PIPELINE_MAX
#define WINDOW_BYTES FETCH_WINDOW_BYTES

/* Set by a signal handler: finish the batch in flight durably, DELE what is
 * durable, QUIT, and fetch nothing more. */
static volatile sig_atomic_t stop_requested;

void fetch_request_stop(void)
{
	stop_requested = 1;
	/* A message in flight that never ends (a trickling server) must not
	 * hold the stop: conn bounds every wait from now on. */
	conn_request_stop();
}

int fetch_stop_requested(void)
{
	return stop_requested != 0;
}

/* --- one message --------------------------------------------------------- */

/* The listing entry an item carries (its tag is the listing index). */
static struct pop3_msg *msg_of(struct poll *pl, const struct delivery_item *it)
{
	return &pl->msgs[it->tag];
}

/* Streams the current RETR into the destination after the first held bytes of
 * pl->buf, or drains it when it grows past max_size.  Returns 0 when
 * stored, 1 when drained, -1 on error. */
static int stream_body(struct poll *pl, struct delivery_item *it, size_t held)
{
	uint64_t cap = pl->max_size ? pl->max_size : PF_MSG_HARD_MAX;
	uint64_t total = 0;
	int done = 0, over = 0;

	while (!done) {
		size_t len;

		if (pop3_retr_read(pl->pop, pl->buf + held, &len, &done, pl->err) < 0)
			return -1;
		total += len;
		progress_add(&pl->progress, 0, len, pf_now_ms());
		/* LIST sizes are hints: the real size decides.  A message past
		 * max_size is drained and skipped; past the hard cap (also while
		 * draining: a body may never end) the server is hostile. */
		if (total > PF_MSG_HARD_MAX)
			return pf_error_set(pl->err, PF_ERR_PROTO,
					    "message %lu is larger than %llu bytes", msg_of(pl, it)->num,
					    (unsigned long long)PF_MSG_HARD_MAX);
		if (total > cap)
			over = 1;
		if (!over && held + len > 0 &&
		    delivery_msg_write(pl->dest, it, pl->buf, held + len, pl->err) < 0)
			return -1;
		held = 0;
	}
	return over;
}

/* Puts the "X-Popfetch-UIDL: ACCOUNT UID" line that lets --rebuild-state
 * recover the uid store from the Maildir at the start of pl->buf, to go
 * out with the first chunk of the body (one write for a small message).
 * Returns its length, or -1. */
static int origin_line(struct poll *pl, struct delivery_item *it)
{
	int n;

	if (it->uid[0] == '\0')
		return 0;
	n = snprintf(pl->buf, PF_STORE_LINE_MAX, REBUILD_HEADER "%s %s\n", pl->acct->name,
		     it->uid);
	if (n < 0 || n >= PF_STORE_LINE_MAX)
		return pf_error_set(pl->err, PF_ERR_INTERNAL, "origin header too long");
	return n;
}

/* RETR's reply for the item's message into the destination, ended.
 * Returns 0 stored, 1 skipped (refused by the server or too large), -1. */
static int download(struct poll *pl, struct delivery_item *it)
{
	uint64_t bytes, lines;
	int r, hlen;

	if (pop3_retr_begin(pl->pop, pl->err) < 0) {
		if (pl->err->cls != PF_ERR_SERVER)
			return -1;
		/* The server refused this one message: report, go on. */
		log_warn("%s: message %lu: %s", pl->acct->name, msg_of(pl, it)->num, pl->err->msg);
		pf_error_clear(pl->err);
		return 1;
	}
	if (delivery_msg_begin(pl->dest, it, pl->err) < 0)
		return -1;
	hlen = origin_line(pl, it);
	if (hlen < 0)
		return -1;
	r = stream_body(pl, it, (size_t)hlen);
	if (r != 0) {
		if (r == 1)
			log_info("%s: skipping message %lu: larger than max_size", pl->acct->name,
				 msg_of(pl, it)->num);
		return r;
	}
	pop3_retr_totals(pl->pop, &bytes, &lines);
	bytes += (uint64_t)hlen;
	lines += hlen > 0;
	pl->res->bytes += bytes;
	return delivery_msg_end(pl->dest, it, bytes, lines, pl->err);
}

/* --- one batch ------------------------------------------------------------ */

/* The destination's first callback: "uid -> NAME pending" for items with
 * a UID, durable before any of them can reach a reader. */
static int journal_pending(void *ctx, struct delivery_item *items, size_t n,
			   struct pf_error *err)
{
	struct poll *pl = ctx;

	for (size_t i = 0; i < n; i++)
		if (items[i].uid[0] &&
		    uidstore_set_pending(pl->store, items[i].uid, items[i].name, err) < 0)
			return -1;
	if (uidstore_commit(pl->store, err) < 0)
		return -1;
	pf_step("pending committed");
	return 0;
}

/* The second: items the destination proved durable are recorded as
 * delivered, and only then may they be deleted on the server. */
static int record_delivered(struct poll *pl, struct delivery_item *items, size_t n, int sync,
			    struct pf_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (items[i].uid[0] &&
		    uidstore_set_delivered(pl->store, items[i].uid, NULL, pl->now, err) < 0)
			return -1;
	if ((sync ? uidstore_commit(pl->store, err) : uidstore_write(pl->store, err)) < 0)
		return -1;
	pf_step(sync ? "delivered committed" : "delivered written");
	/* Deletable now; the DELEs go out only after the commit that syncs
	 * these records has returned (delivery.h, taken). */
	for (size_t i = 0; i < n; i++)
		pl->deletable[items[i].tag] = 1;
	pl->res->fetched += n;
	progress_add(&pl->progress, n, 0, pf_now_ms());
	return 0;
}

static int journal_durable(void *ctx, struct delivery_item *items, size_t n,
			   struct pf_error *err)
{
	return record_delivered(ctx, items, n, 1, err);
}

/* A message an MDA or LMTP server took (delivery.h). */
static int journal_taken(void *ctx, struct delivery_item *items, size_t n,
			 struct pf_error *err)
{
	return record_delivered(ctx, items, n, 0, err);
}

/* Commits the n stored items.  A destination that refused some messages
 * but lets the poll go on (1) has its first reason kept for the end of
 * the poll. */
static int commit_batch(struct poll *pl, struct delivery_item *items, size_t n)
{
	const struct delivery_journal j = { journal_pending, journal_durable, pl, journal_taken };
	struct pf_error e = { 0 };
	int r = delivery_commit(pl->dest, items, n, &j, &e);

	if (r == 1 && pl->deferred.cls == PF_ERR_NONE)
		pl->deferred = e;
	/* An error of the download before it comes first, except a server's
	 * refusal: after that the poll still DELEs what is deletable, and a
	 * failed commit may have left records of an MDA or LMTP delivery
	 * written but not synced (delivery.h, taken).  Nothing is deleted
	 * after a local failure. */
	if (r < 0 && (pl->err->cls == PF_ERR_NONE || pl->err->cls == PF_ERR_SERVER))
		*pl->err = e;
	return r < 0 ? -1 : 0;
}

/* BATCH_MAX, or what a quarter of the soft descriptor limit allows (the
 * rest is for the connection, the store, the destination and libraries),
 * after raising that limit towards NOFILE_WANT: macOS and some BSDs start
 * processes with 256, Linux with 1024.  *saved_r is the limit to restore
 * (rlim_cur 0: nothing was changed). */
static size_t batch_limit(struct rlimit *saved_r)
{
	struct rlimit rl;
	rlim_t quarter;

	saved_r->rlim_cur = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return BATCH_MAX;
	if (rl.rlim_cur < NOFILE_WANT && rl.rlim_max > rl.rlim_cur) {
		struct rlimit up = rl;

		up.rlim_cur = rl.rlim_max < NOFILE_WANT ? rl.rlim_max : NOFILE_WANT;
		if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
			*saved_r = rl;
			rl = up;
		}
	}
	quarter = rl.rlim_cur / 4;
	if (quarter >= BATCH_MAX)
		return BATCH_MAX;
	return quarter > BATCH_MIN ? (size_t)quarter : BATCH_MIN;
}

/* The request window: RETRs are sent ahead of reading, topped up as
 * messages arrive, so the server never waits a round trip for the next
 * command (over a 50 ms link a batch of small messages takes less than the
 * round trip to read).  Bounded in commands (pop3.h) and in LIST bytes,
 * which is what a stop request must still read and throw away. */
static int top_up(struct poll *pl, const size_t *want, size_t total)
{
	struct window *w = &pl->win;
	size_t queued = 0;

	/* Refill once half the window is free, not a write per message. */
	if (stop_requested || w->requested == total || w->n > WINDOW_MAX / 2 ||
	    w->bytes > WINDOW_BYTES / 2)
		return 0;
	while (w->requested < total && w->n < WINDOW_MAX && (w->n == 0 || w->bytes < WINDOW_BYTES)) {
		const struct pop3_msg *m = &pl->msgs[want[w->requested]];

		if (pop3_retr_queue(pl->pop, m->num, pl->err) < 0)
			return -1;
		w->requested++;
		w->n++;
		w->bytes += m->size;
		queued++;
	}
	return queued > 0 ? pop3_flush(pl->pop, pl->err) : 0;
}

/* Step 1 for up to one batch from want[from], the window topped up before
 * each message: stored items go to items[0..*stored_r), and *next_r is
 * where the next batch starts.  A batch ends at pl->batch_max messages or
 * BATCH_BYTES (LIST sizes), or where requests stopped. */
static int download_batch(struct poll *pl, const size_t *want, size_t from, size_t total,
			  struct delivery_item *items, size_t *stored_r, size_t *next_r)
{
	size_t i = from, stored = 0;
	uint64_t bytes = 0;
	int r = 0;

	while (r >= 0 && i < total && i - from < pl->batch_max && bytes < BATCH_BYTES) {
		struct delivery_item *it = &items[stored];

		if (top_up(pl, want, total) < 0) {
			r = -1;
			break;
		}
		if (stop_requested)
			break; /* the message in flight is done: stop here */
		memset(it, 0, sizeof *it);
		it->tag = want[i++];
		it->uid = msg_of(pl, it)->uid;
		bytes += msg_of(pl, it)->size;
		pl->win.n--;
		pl->win.bytes -= msg_of(pl, it)->size;
		r = download(pl, it);
		if (r == 0) {
			stored++;
			continue;
		}
		delivery_msg_abort(pl->dest, it);
		if (r == 1)
			pl->res->skipped++;
	}
	*stored_r = stored;
	*next_r = i;
	return r < 0 ? -1 : 0;
}

/* After a stop request: the replies to RETRs already sent are read and
 * thrown away (POP3 cannot take a command back), so the session can still
 * DELE what was committed and QUIT.  Bounded by the window. */
static int drain_window(struct poll *pl)
{
	for (; pl->win.n > 0; pl->win.n--) {
		uint64_t total = 0;
		size_t len;
		int done = 0;

		if (pop3_retr_begin(pl->pop, pl->err) < 0) {
			if (pl->err->cls != PF_ERR_SERVER)
				return -1;
			pf_error_clear(pl->err);
			continue;
		}
		while (!done) {
			if (pop3_retr_read(pl->pop, pl->buf, &len, &done, pl->err) < 0)
				return -1;
			total += len;
			if (total > PF_MSG_HARD_MAX)
				return pf_error_set(pl->err, PF_ERR_PROTO, "a message is larger than "
						    "%llu bytes", (unsigned long long)PF_MSG_HARD_MAX);
		}
	}
	return 0;
}

/* Batches in turn over one stream of requests (top_up): the server keeps
 * sending while a batch's files are synced and committed.  Whatever was
 * stored completely is committed even when the session fails half-way.
 * A stop request ends the fetch after the message in flight.
 * QUIT is never sent with the requests: Dovecot 2.3 answers a pipelined
 * QUIT by closing the connection before the RETR output it still buffers
 * is sent (seen with an 877 KB message), so QUIT waits for the last
 * message. */
static int run_batches(struct poll *pl, const size_t *want, size_t total,
		       struct delivery_item *items)
{
	size_t done = 0, next, stored;
	int rc;

	while (done < total) {
		rc = download_batch(pl, want, done, total, items, &stored, &next);
		if (commit_batch(pl, items, stored) < 0)
			rc = -1;
		for (size_t i = 0; i < stored; i++)
			delivery_msg_abort(pl->dest, &items[i]);
		if (rc < 0)
			return -1;
		if (next == done)
			break;
		done = next;
	}
	if (done < total) {
		log_info("%s: stopping on request; %zu messages left for the next poll",
			 pl->acct->name, total - done);
		return drain_window(pl);
	}
	return 0;
}

/* The batches, with the descriptor limit raised only while they run: a
 * password_command started later (next account) gets the limit as it was. */
int fetch_request_ahead(struct poll *pl, const size_t *want, size_t total)
{
	memset(&pl->win, 0, sizeof pl->win);
	return total > 0 ? top_up(pl, want, total) : 0;
}

void fetch_window_sized(struct poll *pl, const size_t *want)
{
	pl->win.bytes = 0;
	for (size_t i = 0; i < pl->win.requested; i++)
		pl->win.bytes += pl->msgs[want[i]].size;
}

int fetch_batches(struct poll *pl, const size_t *want, size_t total)
{
	struct rlimit saved;
	struct delivery_item *items;
	int rc;

	pl->batch_max = batch_limit(&saved);
	log_verbose("%s: up to %zu messages a batch", pl->acct->name, pl->batch_max);
	items = xcalloc(total < pl->batch_max ? total : pl->batch_max, sizeof *items);
	rc = run_batches(pl, want, total, items);
	free(items);
	if (saved.rlim_cur != 0 && setrlimit(RLIMIT_NOFILE, &saved) < 0)
		log_warn("%s: cannot restore the descriptor limit: %s", pl->acct->name,
			 strerror(errno));
	return rc;
}
