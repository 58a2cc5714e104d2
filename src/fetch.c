/* fetch.c - see fetch.h.  One poll: lock and open the destination, connect and
 * log in (with backoff), load the uid store while the server lists, decide
 * what is new, hand it to fetch_batch.c (which owns the durability order of
 * DESIGN.md section 2), then DELE what is durable and QUIT. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "cred.h"
#include "delivery.h"
#include "fetch.h"
#include "fetch_int.h"
#include "lock.h"
#include "log.h"
#include "oauth2.h"
#include "pop3.h"
#include "progress.h"
#include "provider.h"
#include "uidstore.h"
#include "util.h"

/* DESIGN.md section 8: a UID is forgotten 7 days after it was last seen. */
#define FORGET_GRACE_S (7 * 24 * 3600)
/* Untouched messages reported one by one in a poll; then one line more. */
#define UNTOUCHED_REPORTS_MAX 20

/* --- local side -------------------------------------------------------- */

static int resolve_pending(const char *uid, const char *name, void *ctx)
{
	struct poll *pl = ctx;
	int r = delivery_has(pl->dest, name, pl->err);

	if (r < 0)
		return -1;
	/* Durable: the crash came after the destination took it (for the
	 * Maildir: after the link into new/), so the message is delivered.
	 * Not: it never arrived and is fetched again. */
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

	if (pf_mkdirs(pl->cfg->state_dir, 0700) < 0)
		return pf_error_errno(pl->err, PF_ERR_LOCAL, errno, "cannot create state directory %s",
				      pl->cfg->state_dir);
	pl->lock_fd = lock_account(pl->cfg->state_dir, a->name, pl->err);
	if (pl->lock_fd < 0)
		return -1;
	pl->dest = delivery_open(pl->cfg, a, pl->err);
	return pl->dest == NULL ? -1 : 0;
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

/* A refused login of a preset's account ends with what the user must do
 * there (DESIGN.md section 9): the provider's advice after the server's
 * sanitised text.  The advice is preset data, never a server's word; it
 * is dropped rather than cut when the two do not fit one error. */
static void advise_login(struct poll *pl)
{
	char advice[PF_ERRMSG_MAX], msg[PF_ERRMSG_MAX];
	int n;

	if (pl->err->cls != PF_ERR_AUTH ||
	    provider_login_advice(provider_find(pl->acct->provider), pl->acct->name, advice,
				  sizeof advice) < 0)
		return;
	n = snprintf(msg, sizeof msg, "%s; %s", pl->err->msg, advice);
	if (n < 0 || (size_t)n >= sizeof msg)
		n = snprintf(msg, sizeof msg, "the server refused the login; %s", advice);
	if (n > 0 && (size_t)n < sizeof msg)
		memcpy(pl->err->msg, msg, (size_t)n + 1);
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
			if (rc < 0)
				advise_login(pl);
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

/* A key for an untouched message that stays the same in every session
 * of the poll, where numbers do not (pop3.h). */
static uint32_t untouched_key(const struct pop3_msg *m)
{
	return (m->bad_key << 1) | (m->uid_state == POP3_UID_SHARED);
}

/* Issue 12: a message without a usable UID stays on the server, never
 * retrieved and never deleted, and is reported once a poll. */
static void report_untouched(struct poll *pl, const struct pop3_msg *m)
{
	uint32_t key = untouched_key(m);

	pl->res->untouched++;
	for (size_t i = 0; i < pl->nreported; i++)
		if (pl->reported[i] == key)
			return;
	/* A hostile listing may have thousands: the summary counts them. */
	if (pl->nreported == UNTOUCHED_REPORTS_MAX) {
		log_warn("%s: more messages without a usable UID are left on the server",
			 pl->acct->name);
		pl->nreported++;
	}
	if (pl->nreported > UNTOUCHED_REPORTS_MAX)
		return;
	pl->reported = xrealloc(pl->reported, (pl->nreported + 1) * sizeof *pl->reported);
	pl->reported[pl->nreported++] = key;
	if (m->uid_state == POP3_UID_INVALID)
		log_warn("%s: message %lu left on the server: its UIDL line has no valid UID "
			 "(RFC 1939: 1 to 70 characters 0x21-0x7E)", pl->acct->name, m->num);
	else
		log_warn("%s: message %lu left on the server: another message has the same UID %s",
			 pl->acct->name, m->num, m->uid);
}

/* Fills want[] with the listing indexes of the messages not delivered yet,
 * in server order, and marks what is already durable as deletable.
 * Returns the count.  Sizes may not be known yet: see choose(). */
static size_t plan(struct poll *pl, size_t *want)
{
	size_t i, n = 0;

	for (i = 0; i < pl->nmsgs; i++) {
		struct pop3_msg *m = &pl->msgs[i];

		/* A shared uid is still on the server: not to be forgotten. */
		if (m->uid_state == POP3_UID_SHARED)
			uidstore_mark_seen(pl->store, m->uid, pl->now);
		if (m->uid_state != POP3_UID_OK) {
			report_untouched(pl, m);
			continue;
		}
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
		want[n++] = i;
	}
	return n;
}

/* Keeps of want[0..n) what max_size (by LIST size) and the fetch limit
 * allow.  Returns the new count. */
static size_t choose(struct poll *pl, size_t *want, size_t n)
{
	size_t kept = 0;

	for (size_t k = 0; k < n; k++) {
		const struct pop3_msg *m = &pl->msgs[want[k]];

		if (pl->max_size && m->size > pl->max_size) {
			log_info("%s: skipping message %lu: %llu bytes is over max_size",
				 pl->acct->name, m->num, (unsigned long long)m->size);
			pl->res->skipped++;
			continue;
		}
		if (pl->limit && kept >= pl->limit)
			continue;
		want[kept++] = want[k];
	}
	return kept;
}

/* LIST only when there is something new.  When the whole maildrop is
 * smaller than the request window and than max_size, no size can change
 * what is requested: the RETRs go out with LIST, no round trip waits for
 * it.  Otherwise LIST is read first.  Returns the count to fetch, or -1. */
static long sizes_and_requests(struct poll *pl, size_t *want, size_t n)
{
	uint64_t octets = pop3_maildrop_octets(pl->pop);
	int ahead = pop3_caps(pl->pop)->pipelining && octets <= FETCH_WINDOW_BYTES &&
		    (!pl->max_size || octets <= pl->max_size);

	if (n == 0 || pop3_have_sizes(pl->pop)) {
		n = choose(pl, want, n);
		return fetch_request_ahead(pl, want, n) < 0 ? -1 : (long)n;
	}
	if (pop3_sizes_send(pl->pop, pl->err) < 0)
		return -1;
	if (ahead) {
		n = choose(pl, want, n); /* the limit only: no size is over max_size */
		if (fetch_request_ahead(pl, want, n) < 0 ||
		    pop3_sizes_read(pl->pop, pl->msgs, pl->nmsgs, pl->err) < 0)
			return -1;
		fetch_window_sized(pl, want);
		return (long)n;
	}
	if (pop3_sizes_read(pl->pop, pl->msgs, pl->nmsgs, pl->err) < 0)
		return -1;
	n = choose(pl, want, n);
	return fetch_request_ahead(pl, want, n) < 0 ? -1 : (long)n;
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
		if (pl->msgs[i].uid[0] == '\0' && pl->msgs[i].uid_state == POP3_UID_OK &&
		    (pl->keep || check_only))
			return pf_error_set(pl->err, PF_ERR_PROTO,
					    "server does not support UIDL, which keep mode and "
					    "--check need (use keep = false)");
	pl->deletable = xcalloc(pl->nmsgs ? pl->nmsgs : 1, 1);
	want = xcalloc(pl->nmsgs ? pl->nmsgs : 1, sizeof *want);
	nwant = plan(pl, want);
	if (check_only) {
		rc = 0;
	} else {
		long n = sizes_and_requests(pl, want, nwant);

		if (n < 0) {
			free(want);
			return -1;
		}
		nwant = (size_t)n;
		start_progress(pl, want, nwant);
		rc = fetch_batches(pl, want, nwant);
	}
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
	free(pl->reported);
	free(pl->buf);
	delivery_close(pl->dest);
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

/* For fetch_adopt.c (fetch_int.h): the same login a poll makes. */
int fetch_connect(struct poll *pl)
{
	return connect_server(pl);
}

void fetch_poll_free(struct poll *pl)
{
	poll_free(pl);
}
