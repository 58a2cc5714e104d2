/* fetch.c - see fetch.h.  The durability order of DESIGN.md section 2,
 * applied one batch at a time (group commit):
 *
 *   1. RETR each message of the batch into an unnamed file (its writeback
 *      started at once), then make every file of the batch durable (one
 *      syncfs where fs_sync.h trusts it, else an fsync each): the file
 *      system commits its journal once for the batch, not once a message;
 *   2. record "uid -> NAME pending" for the batch, fsync the uid store;
 *   3. link every file into new/NAME, fsync new/;
 *   4. record the batch as delivered, fsync the uid store;
 *   5. only then DELE (and only at QUIT does the server delete).
 *
 * A crash between 2 and 4 leaves pending records; the next poll looks for
 * each NAME in new/ and cur/ and so never delivers a message twice. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "backoff.h"
#include "cred.h"
#include "fetch.h"
#include "lock.h"
#include "log.h"
#include "maildir.h"
#include "oauth2.h"
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
/* RETRs requested ahead of reading at most (top_up). */
#define WINDOW_MAX POP3_PIPELINE_MAX
#define WINDOW_BYTES (4ULL * 1024 * 1024)

/* DESIGN.md section 8: a UID is forgotten 7 days after it was last seen. */
#define FORGET_GRACE_S (7 * 24 * 3600)

struct item {
	struct pop3_msg *msg;
	struct maildir_file *file;
	char name[PF_NAME_MAX + 1];
};

/* RETRs sent and not yet read: want[0..requested) are requested. */
struct window {
	size_t requested;
	size_t n;
	uint64_t bytes;
};

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
	struct maildir *md;
	struct window win;
	size_t batch_max;         /* messages a batch (batch_limit) */
	struct pop3 *pop;
	struct pop3_msg *msgs;
	size_t nmsgs;
	unsigned char *deletable; /* per listing index: durable locally */
	char *buf;                /* decoded body chunk */
	struct progress progress;
};

/* Set by a signal handler: finish the batch in flight durably, DELE what is
 * durable, QUIT, and fetch nothing more. */
static volatile sig_atomic_t stop_requested;

void fetch_request_stop(void)
{
	stop_requested = 1;
}

/* --- local side -------------------------------------------------------- */

static int resolve_pending(const char *uid, const char *name, void *ctx)
{
	struct poll *pl = ctx;
	int r = maildir_has(pl->md, name, pl->err);

	if (r < 0)
		return -1;
	/* Present: the crash came after the link (step 3), so the message is
	 * delivered.  Absent: it never reached new/ and is fetched again. */
	if (r == 1) {
		log_verbose("%s: message %s was delivered before an interruption",
			    pl->acct->name, name);
		return uidstore_set_delivered(pl->store, uid, NULL, pl->now, pl->err);
	}
	return uidstore_forget(pl->store, uid, pl->err);
}

static int open_local(struct poll *pl)
{
	const struct account *a = pl->acct;
	int n;

	if (pf_mkdirs(pl->cfg->state_dir, 0700) < 0)
		return pf_error_errno(pl->err, PF_ERR_LOCAL, errno, "cannot create state directory %s",
				      pl->cfg->state_dir);
	pl->lock_fd = lock_account(pl->cfg->state_dir, a->name, pl->err);
	if (pl->lock_fd < 0)
		return -1;
	pl->md = maildir_open(a->maildir, pl->err);
	if (pl->md == NULL)
		return -1;
	n = maildir_clean_tmp(pl->md, pl->err);
	if (n < 0)
		return -1;
	if (n > 0)
		log_verbose("%s: removed %d stale files from %s/tmp", a->name, n, a->maildir);
	return 0;
}

/* The uid store, with the pending deliveries of an interrupted poll
 * resolved.  Opened after the login, while the server prepares the
 * listing pipelined behind it: loading 20,000 uids takes about as long
 * as the server takes to list them.  Nothing has been fetched or deleted
 * yet, so a store that cannot be read still fails the poll harmlessly. */
static int open_store(struct poll *pl)
{
	const struct account *a = pl->acct;

	pl->store = uidstore_open(pl->cfg->state_dir, a->name, a->host, a->user, pl->err);
	if (pl->store == NULL)
		return -1;
	if (uidstore_each_pending(pl->store, resolve_pending, pl) < 0)
		return -1;
	return uidstore_commit(pl->store, pl->err);
}

/* --- server side ------------------------------------------------------- */

static void tls_opts(const struct account *a, struct conn_tls_opts *o)
{
	memset(o, 0, sizeof *o);
	o->verify_name = a->host;
	o->ca_file = a->tls_ca_file;
	o->ca_dir = a->tls_ca_dir;
	o->fingerprint = a->tls_fingerprint;
	o->min_version = a->tls_min_version;
	o->cert_file = a->tls_cert_file;
	o->key_file = a->tls_key_file;
}

/* DESIGN.md section 8: after BACKOFF_AUTH_LIMIT refused logins in a row a
 * one-shot run stops trying until the backoff expires, so a wrong password
 * in a cron job never gets the account locked by the provider.  A changed
 * password or --retry-now tries at once. */
static int backoff_blocks(struct poll *pl, struct backoff *b, const char *secret)
{
	char tag[5], when[32];
	struct tm tm;

	backoff_tag(pl->acct->name, secret, tag);
	if (strcmp(tag, b->tag) != 0) {
		memset(b, 0, sizeof *b);
		memcpy(b->tag, tag, sizeof b->tag);
	}
	if (pl->retry_now || b->retry_after <= pl->now)
		return 0;
	if (localtime_r(&b->retry_after, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm) == 0)
		(void)snprintf(when, sizeof when, "later");
	if (b->reason == BACKOFF_LOGIN_DELAY)
		return pf_error_set(pl->err, PF_ERR_SERVER,
				    "the server asked for a pause between logins ([LOGIN-DELAY]); "
				    "next try after %s (popfetch --retry-now %s tries now)",
				    when, pl->acct->name);
	return pf_error_set(pl->err, PF_ERR_AUTH,
			    "not trying to log in after %d refused logins in a row; next try "
			    "after %s (popfetch --retry-now %s tries now)",
			    b->auth_failures, when, pl->acct->name);
}

/* Records the outcome of a login attempt in the backoff record. */
static int note_login(struct poll *pl, struct backoff *b, int rc)
{
	struct pf_error e2 = { 0 };

	if (rc < 0 && pop3_last_code(pl->pop) == POP3_CODE_LOGIN_DELAY) {
		/* RFC 2449 section 8.1.2: the minimum seconds between logins is
		 * what CAPA announced; logging in sooner would be refused again. */
		backoff_login_delay(b, pl->now, pop3_caps(pl->pop)->login_delay);
		if (backoff_save(pl->cfg->state_dir, pl->acct->name, b, &e2) < 0)
			log_warn("%s: %s", pl->acct->name, e2.msg);
		return rc;
	}
	if (rc < 0 && pl->err->cls == PF_ERR_AUTH) {
		/* The login error is what the user must see; a failed save
		 * only costs an extra attempt next time. */
		backoff_auth_failed(b, pl->now);
		if (backoff_save(pl->cfg->state_dir, pl->acct->name, b, &e2) < 0)
			log_warn("%s: %s", pl->acct->name, e2.msg);
		return rc;
	}
	if (rc == 0) {
		/* Also after a changed password reset the record in memory:
		 * the file must go too (one unlink, usually ENOENT). */
		memset(b, 0, sizeof *b);
		return backoff_save(pl->cfg->state_dir, pl->acct->name, b, pl->err);
	}
	return rc;
}

static int open_session(struct poll *pl, const struct conn_tls_opts *o)
{
	const struct account *a = pl->acct;
	struct conn *c = conn_open(a->host, a->port, a->timeout, pl->err);

	if (c == NULL)
		return -1;
	/* Implicit TLS: verified before the first POP3 byte is read. */
	if (a->tls == TLS_IMPLICIT && conn_starttls(c, o, pl->err) < 0) {
		conn_close(c);
		return -1;
	}
	pl->pop = pop3_new(c);
	pop3_set_peer(pl->pop, a->host, a->port); /* for OAUTHBEARER's host= and port= */
	if (pop3_open(pl->pop, pl->err) < 0)
		return -1;
	if (a->tls == TLS_STARTTLS &&
	    (pop3_stls(pl->pop, o, pl->err) < 0 || pop3_capa(pl->pop, pl->err) < 0))
		return -1;
	if (conn_is_tls(c))
		log_verbose("%s: connected to %s port %s, %s", a->name, a->host, a->port,
			    conn_tls_desc(c));
	return 0;
}

/* A refused OAuth2 access token may have been revoked before its expiry:
 * forget it and log in once more on the same connection with a new one.
 * A revoked grant fails in the refresh instead, with the advice to run
 * --authorize.  *secret is replaced.  The login's result, or -1. */
static int login_again_oauth2(struct poll *pl, char **secret)
{
	const struct account *a = pl->acct;
	struct pf_error e2 = { 0 };
	char *fresh;

	if (!a->oauth2.enabled || pl->err->cls != PF_ERR_AUTH ||
	    pop3_last_code(pl->pop) == POP3_CODE_LOGIN_DELAY)
		return -1;
	log_info("%s: the server refused the OAuth2 access token; getting a new one", a->name);
	if (oauth2_forget_access(pl->cfg, a, &e2) < 0) {
		log_warn("%s: %s", a->name, e2.msg);
		return -1;
	}
	fresh = cred_get_secret(pl->cfg, a, &e2);
	if (fresh == NULL) {
		*pl->err = e2;
		return -1;
	}
	pf_free_secret(*secret);
	*secret = fresh;
	pf_error_clear(pl->err);
	return pop3_login(pl->pop, a->auth, a->user, fresh, pl->err);
}

/* The secret is fetched first: a password_command that fails, or a
 * backoff in force, must not cost a connection to the server. */
static int connect_server(struct poll *pl)
{
	const struct account *a = pl->acct;
	struct conn_tls_opts o;
	struct backoff b;
	char *secret;
	int rc;

	secret = cred_get_secret(pl->cfg, a, pl->err);
	if (secret == NULL)
		return -1;
	memset(&b, 0, sizeof b);
	if (!pl->probe)
		backoff_load(pl->cfg->state_dir, a->name, &b);
	/* An OAuth2 access token changes with every refresh: the backoff
	 * follows the client instead (--authorize starts it afresh). */
	rc = pl->probe ? 0 : backoff_blocks(pl, &b, a->oauth2.enabled ? a->oauth2.client_id
								     : secret);
	if (rc == 0) {
		tls_opts(a, &o);
		rc = open_session(pl, &o);
		if (rc == 0) {
			pop3_expect_listing(pl->pop); /* every caller lists next */
			rc = pop3_login(pl->pop, a->auth, a->user, secret, pl->err);
			if (rc < 0)
				rc = login_again_oauth2(pl, &secret);
			if (!pl->probe)
				rc = note_login(pl, &b, rc);
		}
	}
	pf_free_secret(secret);
	return rc;
}

/* --- what to fetch ------------------------------------------------------ */

/* keep + delete_after: a delivered message first recorded delete_after
 * days ago is due for deletion. */
static int expired(const struct poll *pl, const char *uid)
{
	time_t first;

	if (!pl->keep || pl->acct->delete_after <= 0)
		return 0;
	first = uidstore_first_seen(pl->store, uid);
	return first > 0 && pl->now - first >= (time_t)pl->acct->delete_after * 86400;
}

/* Fills want[] with the listing indexes to fetch, in server order, and
 * marks what is already durable as deletable.  Returns the count. */
static size_t plan(struct poll *pl, size_t *want)
{
	size_t i, n = 0;

	for (i = 0; i < pl->nmsgs; i++) {
		struct pop3_msg *m = &pl->msgs[i];

		if (m->uid[0] != '\0') {
			uidstore_mark_seen(pl->store, m->uid, pl->now);
			if (uidstore_get(pl->store, m->uid, NULL) == UID_DELIVERED) {
				pl->deletable[i] = 1;
				if (expired(pl, m->uid))
					pl->res->expired++;
				continue;
			}
		}
		pl->res->fresh++;
		if (pl->max_size && m->size > pl->max_size) {
			log_info("%s: skipping message %lu: %llu bytes is over max_size",
				 pl->acct->name, m->num, (unsigned long long)m->size);
			pl->res->skipped++;
			continue;
		}
		if (pl->limit && n >= pl->limit)
			continue;
		want[n++] = i;
	}
	return n;
}

/* --- one message --------------------------------------------------------- */

/* Streams the current RETR into it->file after the first held bytes of
 * pl->buf, or drains it when it grows past max_size.  Returns 0 when
 * stored, 1 when drained, -1 on error. */
static int stream_body(struct poll *pl, struct item *it, size_t held)
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
					    "message %lu is larger than %llu bytes", it->msg->num,
					    (unsigned long long)PF_MSG_HARD_MAX);
		if (total > cap)
			over = 1;
		if (!over && held + len > 0 &&
		    maildir_file_write(it->file, pl->buf, held + len, pl->err) < 0)
			return -1;
		held = 0;
	}
	return over;
}

/* Puts the "X-Popfetch-UIDL: ACCOUNT UID" line that lets --rebuild-state
 * recover the uid store from the Maildir at the start of pl->buf, to go
 * out with the first chunk of the body (one write for a small message).
 * Returns its length, or -1. */
static int origin_line(struct poll *pl, struct item *it)
{
	int n;

	if (it->msg->uid[0] == '\0')
		return 0;
	n = snprintf(pl->buf, PF_STORE_LINE_MAX, REBUILD_HEADER "%s %s\n", pl->acct->name,
		     it->msg->uid);
	if (n < 0 || n >= PF_STORE_LINE_MAX)
		return pf_error_set(pl->err, PF_ERR_INTERNAL, "origin header too long");
	return n;
}

/* RETR's reply for it->msg into a file with its final name chosen.
 * Returns 0 stored, 1 skipped (refused by the server or too large), -1. */
static int download(struct poll *pl, struct item *it)
{
	uint64_t bytes, lines;
	int r, hlen;

	if (pop3_retr_begin(pl->pop, pl->err) < 0) {
		if (pl->err->cls != PF_ERR_SERVER)
			return -1;
		/* The server refused this one message: report, go on. */
		log_warn("%s: message %lu: %s", pl->acct->name, it->msg->num, pl->err->msg);
		pf_error_clear(pl->err);
		return 1;
	}
	it->file = maildir_file_new(pl->md, pl->err);
	if (it->file == NULL)
		return -1;
	hlen = origin_line(pl, it);
	if (hlen < 0)
		return -1;
	r = stream_body(pl, it, (size_t)hlen);
	if (r != 0) {
		if (r == 1)
			log_info("%s: skipping message %lu: larger than max_size", pl->acct->name,
				 it->msg->num);
		return r;
	}
	maildir_file_start_sync(it->file);
	pop3_retr_totals(pl->pop, &bytes, &lines);
	bytes += (uint64_t)hlen;
	lines += hlen > 0;
	pl->res->bytes += bytes;
	return maildir_make_name(pl->md, bytes, bytes + lines, it->name, sizeof it->name,
				 pl->err);
}

/* --- one batch ------------------------------------------------------------ */

/* Steps 3 and 4 of the header comment for n synced items. */
static int publish_batch(struct poll *pl, struct item *items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (items[i].msg->uid[0] &&
		    uidstore_set_pending(pl->store, items[i].msg->uid, items[i].name, pl->err) < 0)
			return -1;
	if (uidstore_commit(pl->store, pl->err) < 0)
		return -1;
	pf_step("pending committed");
	for (i = 0; i < n; i++) {
		if (maildir_file_publish(items[i].file, items[i].name, pl->err) < 0)
			return -1;
		pf_step("linked into new/");
	}
	if (maildir_sync_new(pl->md, pl->err) < 0)
		return -1;
	pf_step("new/ synced");
	for (i = 0; i < n; i++)
		if (items[i].msg->uid[0] &&
		    uidstore_set_delivered(pl->store, items[i].msg->uid, NULL, pl->now, pl->err) < 0)
			return -1;
	if (uidstore_commit(pl->store, pl->err) < 0)
		return -1;
	pf_step("delivered committed");
	for (i = 0; i < n; i++)
		pl->deletable[items[i].msg - pl->msgs] = 1;
	pl->res->fetched += n;
	progress_add(&pl->progress, n, 0, pf_now_ms());
	return 0;
}

/* Steps 1 (its fsyncs) to 4 for the n stored items.  When syncing fails,
 * the files synced before it are still delivered and the batch fails (the
 * rest stays on the server for the next poll). */
static int commit_batch(struct poll *pl, struct item *items, size_t n)
{
	struct maildir_file **files;
	size_t synced = 0;
	int rc = 0;

	if (n > 0) {
		files = xcalloc(n, sizeof *files);
		for (size_t i = 0; i < n; i++)
			files[i] = items[i].file;
		rc = maildir_files_sync(files, n, &synced, pl->err);
		free(files);
	}
	if (synced > 0 && publish_batch(pl, items, synced) < 0)
		return -1;
	return rc;
}

/* BATCH_MAX, or what a quarter of the soft descriptor limit allows (the
 * rest is for the connection, the store, the Maildir and libraries), after
 * raising that limit towards NOFILE_WANT: macOS and some BSDs start
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
			  struct item *items, size_t *stored_r, size_t *next_r)
{
	size_t i = from, stored = 0;
	uint64_t bytes = 0;
	int r = 0;

	while (r >= 0 && i < total && i - from < pl->batch_max && bytes < BATCH_BYTES) {
		struct item *it = &items[stored];

		if (top_up(pl, want, total) < 0) {
			r = -1;
			break;
		}
		if (stop_requested)
			break; /* the message in flight is done: stop here */
		memset(it, 0, sizeof *it);
		it->msg = &pl->msgs[want[i++]];
		bytes += it->msg->size;
		pl->win.n--;
		pl->win.bytes -= it->msg->size;
		r = download(pl, it);
		if (r == 0) {
			stored++;
			continue;
		}
		maildir_file_free(it->file);
		it->file = NULL;
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
static int fetch_batches(struct poll *pl, const size_t *want, size_t total, struct item *items)
{
	size_t done = 0, next, stored;
	int rc;

	while (done < total) {
		rc = download_batch(pl, want, done, total, items, &stored, &next);
		if (commit_batch(pl, items, stored) < 0)
			rc = -1;
		for (size_t i = 0; i < stored; i++)
			maildir_file_free(items[i].file);
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
static int fetch_all(struct poll *pl, const size_t *want, size_t total)
{
	struct rlimit saved;
	struct item *items;
	int rc;

	memset(&pl->win, 0, sizeof pl->win);
	pl->batch_max = batch_limit(&saved);
	log_verbose("%s: up to %zu messages a batch", pl->acct->name, pl->batch_max);
	items = xcalloc(total < pl->batch_max ? total : pl->batch_max, sizeof *items);
	rc = fetch_batches(pl, want, total, items);
	free(items);
	if (saved.rlim_cur != 0 && setrlimit(RLIMIT_NOFILE, &saved) < 0)
		log_warn("%s: cannot restore the descriptor limit: %s", pl->acct->name,
			 strerror(errno));
	return rc;
}

/* --- deletion and the end of the poll ------------------------------------ */

/* DELE every message whose UID is durably delivered (DESIGN.md section 8:
 * also those fetched by earlier polls), or in keep mode those whose
 * delete_after has passed, a pipeline window at a time. */
static int delete_delivered(struct poll *pl)
{
	size_t i, queued = 0;

	for (i = 0; i < pl->nmsgs; i++) {
		if (!pl->deletable[i] || (pl->keep && !expired(pl, pl->msgs[i].uid)))
			continue;
		if (pop3_dele_queue(pl->pop, pl->msgs[i].num, pl->err) < 0)
			return -1;
		if (++queued == POP3_PIPELINE_MAX) {
			if (pop3_dele_flush(pl->pop, pl->err) < 0)
				return -1;
			pl->res->deleted += queued;
			queued = 0;
		}
	}
	if (pop3_dele_flush(pl->pop, pl->err) < 0)
		return -1;
	pl->res->deleted += queued;
	if (pl->res->deleted > 0)
		pf_step("DELE sent");
	return 0;
}

/* Forgets UIDs long gone from the server, now that the listing was
 * complete, and rewrites the store when that is worth it. */
static int tidy_store(struct poll *pl)
{
	size_t n = uidstore_expire(pl->store, pl->now, FORGET_GRACE_S);

	if (n > 0)
		log_verbose("%s: forgot %zu UIDs no longer on the server", pl->acct->name, n);
	if (!uidstore_wants_compact(pl->store, pl->now))
		return 0;
	return uidstore_compact(pl->store, pl->err);
}

static void start_progress(struct poll *pl, const size_t *want, size_t n)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < n; i++)
		bytes += pl->msgs[want[i]].size;
	progress_begin(&pl->progress, pl->progress_out, pl->acct->name, n, bytes);
}

static int transact(struct poll *pl, int check_only)
{
	size_t *want, nwant;
	int rc;

	if (pop3_listing(pl->pop, &pl->msgs, &pl->nmsgs, pl->err) < 0)
		return -1;
	pl->res->listed = pl->nmsgs;
	for (size_t i = 0; i < pl->nmsgs; i++)
		if (pl->msgs[i].uid[0] == '\0' && (pl->keep || check_only))
			return pf_error_set(pl->err, PF_ERR_PROTO,
					    "server does not support UIDL, which keep mode and "
					    "--check need (use keep = false)");
	pl->deletable = xcalloc(pl->nmsgs ? pl->nmsgs : 1, 1);
	want = xcalloc(pl->nmsgs ? pl->nmsgs : 1, sizeof *want);
	nwant = plan(pl, want);
	if (!check_only)
		start_progress(pl, want, nwant);
	rc = check_only ? 0 : fetch_all(pl, want, nwant);
	progress_end(&pl->progress);
	free(want);
	if (rc < 0 && pl->err->cls != PF_ERR_SERVER)
		return -1;
	if (!check_only && (!pl->keep || pl->res->expired) && delete_delivered(pl) < 0)
		return -1;
	if (tidy_store(pl) < 0)
		return -1;
	/* Without deletions the reply to QUIT tells nothing: no round trip. */
	if ((pl->res->deleted == 0 ? pop3_quit_nowait(pl->pop, pl->err)
				   : pop3_quit(pl->pop, pl->err)) < 0)
		return -1;
	pf_step("QUIT");
	return rc;
}

static void poll_free(struct poll *pl)
{
	pop3_free(pl->pop);
	free(pl->msgs);
	free(pl->deletable);
	free(pl->buf);
	maildir_close(pl->md);
	uidstore_close(pl->store);
	lock_release(pl->lock_fd);
}

int fetch_account(const struct config *cfg, const struct account *acct,
		  const struct fetch_opts *opts, struct fetch_result *res, struct pf_error *err)
{
	struct poll pl = { .cfg = cfg, .acct = acct, .res = res, .err = err, .lock_fd = -1 };
	int64_t start = pf_now_ms();
	int rc;

	memset(res, 0, sizeof *res);
	pl.keep = opts->keep >= 0 ? opts->keep : acct->keep;
	pl.limit = opts->limit ? opts->limit : acct->fetch_limit;
	pl.retry_now = opts->retry_now;
	pl.progress_out = opts->progress;
	pl.max_size = acct->max_size;
	pl.now = time(NULL);
	pl.buf = xmalloc(PF_STORE_LINE_MAX + PF_IOBUF_SIZE + 2);
	rc = open_local(&pl);
	if (rc == 0)
		rc = connect_server(&pl);
	if (rc == 0)
		rc = open_store(&pl);
	if (rc == 0)
		rc = transact(&pl, opts->check_only);
	poll_free(&pl);
	res->seconds = (double)(pf_now_ms() - start) / 1000.0;
	return rc;
}

/* A probe for popfetch --add-account: the same connect and login path as a
 * poll, then the listing, then QUIT.  Nothing local is opened (no lock, uid
 * store or Maildir, so a failed setup leaves no trace) and the backoff
 * record is neither consulted nor written: the account is not configured
 * yet, and a mistyped password during setup must not block its first
 * poll. */
int fetch_test_account(const struct config *cfg, const struct account *acct,
		       unsigned long *listed_r, struct pf_error *err)
{
	struct fetch_result res;
	struct poll pl = { .cfg = cfg, .acct = acct, .res = &res, .err = err, .lock_fd = -1,
			   .probe = 1 };
	int rc;

	memset(&res, 0, sizeof res);
	pl.now = time(NULL);
	rc = connect_server(&pl);
	if (rc == 0)
		rc = pop3_listing(pl.pop, &pl.msgs, &pl.nmsgs, err);
	if (rc == 0)
		rc = pop3_quit(pl.pop, err);
	*listed_r = pl.nmsgs;
	poll_free(&pl);
	return rc;
}
