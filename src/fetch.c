/* fetch.c - see fetch.h.  One poll: lock and open the destination, connect
 * and log in (with backoff), load the uid store while the server lists,
 * ask the policy (fetch_policy.c, a pure function) for a plan, hand what
 * it fetches to fetch_batch.c (which owns the durability order of
 * DESIGN.md section 2), then DELE what the plan deletes once durable, and
 * QUIT.  A provider's quirk may make the policy ask for another session. */
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
#include "fetch_policy.h"
#include "lock.h"
#include "log.h"
#include "oauth2.h"
#include "pop3.h"
#include "post_command.h"
#include "progress.h"
#include "provider.h"
#include "uidstore.h"
#include "util.h"

/* DESIGN.md section 8: a UID is forgotten 7 days after it was last seen. */
#define FORGET_GRACE_S (7 * 24 * 3600)

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
	/* DESIGN.md section 2: a store recorded for another server or user
	 * must not skip or delete anything; stop before reading the listing
	 * (the connection closes without QUIT: nothing is deleted). */
	if (uidstore_check_binding(pl->store, pl->err) < 0)
		return -1;
	if (uidstore_each_pending(pl->store, resolve_pending, pl) < 0)
		return -1;
	return uidstore_commit(pl->store, pl->err);
}

/* --- server side ------------------------------------------------------- */

void fetch_tls_opts(const struct account *a, struct conn_tls_opts *o)
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

/* TCP, then pop3 opens the session (TLS, greeting, CAPA, STLS). */
static int open_session(struct poll *pl, const struct conn_tls_opts *o)
{
	const struct account *a = pl->acct;
	struct conn *c = conn_open(a->host, a->port, a->timeout, pl->err);

	if (c == NULL)
		return -1;
	conn_set_min_rate(c, a->min_rate); /* every body and listing ends */
	pl->pop = pop3_new(c);
	pop3_set_peer(pl->pop, a->host, a->port); /* for OAUTHBEARER's host= and port= */
	if (pop3_open(pl->pop, a->tls, o, pl->err) < 0)
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
 * backoff in force, must not cost a connection to the server.  It is kept
 * for the poll's later sessions (a provider quirk may ask for several):
 * one password_command run or token refresh a poll. */
static int connect_server(struct poll *pl)
{
	const struct account *a = pl->acct;
	struct conn_tls_opts o;
	struct backoff b;
	int rc;

	if (pl->secret == NULL && (pl->secret = cred_get_secret(pl->cfg, a, pl->err)) == NULL)
		return -1;
	memset(&b, 0, sizeof b);
	if (!pl->probe)
		backoff_load(pl->cfg->state_dir, a->name, &b);
	/* An OAuth2 access token changes with every refresh: the backoff
	 * follows the client instead (--authorize starts it afresh). */
	rc = pl->probe ? 0 : backoff_blocks(pl, &b, a->oauth2.enabled ? a->oauth2.client_id
								     : pl->secret);
	if (rc == 0) {
		fetch_tls_opts(a, &o);
		rc = open_session(pl, &o);
		if (rc == 0) {
			pop3_expect_listing(pl->pop); /* every caller lists next */
			rc = pop3_login(pl->pop, a->auth, a->user, pl->secret, pl->err);
			if (rc < 0)
				rc = login_again_oauth2(pl, &pl->secret);
			if (rc < 0)
				advise_login(pl);
			if (!pl->probe)
				rc = note_login(pl, &b, rc);
		}
	}
	return rc;
}

/* --- the plan: the store's answers in, reports out ------------------------ */

/* The rules of fetch_policy.h for this poll: the account's settings, the
 * command line's overrides and the provider's quirks, as data. */
static void poll_rules(struct poll *pl, const struct fetch_opts *opts)
{
	const struct account *a = pl->acct;
	const struct provider *pv = provider_find(a->provider);
	struct fetch_rules *r = &pl->rules;

	memset(r, 0, sizeof *r);
	r->keep = opts->keep >= 0 ? opts->keep : a->keep;
	r->check_only = opts->check_only;
	r->delete_after = a->delete_after;
	r->max_size = a->max_size;
	r->limit = opts->limit ? opts->limit : a->fetch_limit;
	r->sessions_max = pv != NULL ? pv->sessions_max : 1;
	r->listing_cap = pv != NULL ? pv->listing_cap : 0;
	r->store = FETCH_STORE_FOREIGN; /* until the store says otherwise */
	pl->keep = r->keep;
	pl->limit = r->limit;
	pl->max_size = r->max_size;
}

/* What the uid store says about each listed message, for the policy.  Every
 * listed uid is marked seen (a uid is forgotten only when absent from
 * complete listings); the store is asked for first_seen only where the
 * rules can use it. */
static struct fetch_entry *store_answers(struct poll *pl)
{
	struct fetch_entry *e = xcalloc(pl->nmsgs ? pl->nmsgs : 1, sizeof *e);
	int want_first = pl->rules.keep && pl->rules.delete_after > 0;

	for (size_t i = 0; i < pl->nmsgs; i++) {
		const struct pop3_msg *m = &pl->msgs[i];

		e[i].size = m->size;
		if (m->uid_state == POP3_UID_INVALID) {
			e[i].uid = FETCH_UID_INVALID;
			continue;
		}
		if (m->uid[0] == '\0') {
			e[i].uid = FETCH_UID_NONE;
			continue;
		}
		/* A shared uid is still on the server: not to be forgotten. */
		uidstore_mark_seen(pl->store, m->uid, pl->now);
		if (m->uid_state == POP3_UID_SHARED) {
			e[i].uid = FETCH_UID_SHARED;
			continue;
		}
		e[i].uid = FETCH_UID_OK;
		e[i].delivered = uidstore_get(pl->store, m->uid, NULL) == UID_DELIVERED;
		if (e[i].delivered && want_first)
			e[i].first_seen = uidstore_first_seen(pl->store, m->uid);
	}
	return e;
}

/* The plan's refusals as errors: nothing was touched. */
static int plan_refused(struct poll *pl, const struct fetch_plan *p)
{
	if (p->verdict == FETCH_STOP_NO_UIDL)
		return pf_error_set(pl->err, PF_ERR_PROTO,
				    "server does not support UIDL, which keep mode and "
				    "--check need (use keep = false)");
	if (p->verdict == FETCH_STOP_FOREIGN_STORE)
		return uidstore_check_binding(pl->store, pl->err) < 0 ? -1 :
			pf_error_set(pl->err, PF_ERR_INTERNAL, "uid store binding changed in a poll");
	return 0;
}

/* LIST only when there is something new.  When no size can change the
 * plan and the maildrop is smaller than the request window, the RETRs go
 * out with LIST, no round trip waits for it.  Otherwise LIST is read
 * first and the plan made again with the sizes (max_size). */
static int sizes_and_requests(struct poll *pl, struct fetch_session *s, struct fetch_entry *e,
			      struct fetch_plan *p)
{
	int ahead = pop3_caps(pl->pop)->pipelining && s->maildrop_octets <= FETCH_WINDOW_BYTES;

	if (p->nfetch == 0 || s->sizes_known)
		return fetch_request_ahead(pl, p->fetch, p->nfetch);
	if (pop3_sizes_send(pl->pop, pl->err) < 0)
		return -1;
	if (ahead && p->verdict == FETCH_GO) {
		if (fetch_request_ahead(pl, p->fetch, p->nfetch) < 0 ||
		    pop3_sizes_read(pl->pop, pl->msgs, pl->nmsgs, pl->err) < 0)
			return -1;
		fetch_window_sized(pl, p->fetch);
		return 0;
	}
	if (pop3_sizes_read(pl->pop, pl->msgs, pl->nmsgs, pl->err) < 0)
		return -1;
	s->sizes_known = 1;
	for (size_t i = 0; i < pl->nmsgs; i++)
		e[i].size = pl->msgs[i].size;
	fetch_plan_make(&pl->rules, s, e, pl->nmsgs, p);
	return fetch_request_ahead(pl, p->fetch, p->nfetch);
}

/* --- carrying the plan out ------------------------------------------------ */

/* DELE what the plan deletes (delivered before; in delete mode also what
 * this session made durable), a pipeline window at a time.  *deleted_r
 * counts the DELEs the server accepted. */
static int delete_planned(struct poll *pl, const struct fetch_plan *p, unsigned long *deleted_r)
{
	size_t i, queued = 0;

	*deleted_r = 0;
	for (i = 0; i < pl->nmsgs; i++) {
		if (p->act[i] != FETCH_ACT_DELETE &&
		    !(p->act[i] == FETCH_ACT_FETCH && p->delete_fetched && pl->deletable[i]))
			continue;
		if (pop3_dele_queue(pl->pop, pl->msgs[i].num, pl->err) < 0)
			return -1;
		if (++queued == POP3_PIPELINE_MAX) {
			if (pop3_dele_flush(pl->pop, pl->err) < 0)
				return -1;
			*deleted_r += queued;
			pl->res->deleted += queued;
			queued = 0;
		}
	}
	if (pop3_dele_flush(pl->pop, pl->err) < 0)
		return -1;
	*deleted_r += queued;
	pl->res->deleted += queued;
	if (*deleted_r > 0)
		pf_step("DELE sent");
	return 0;
}

/* Forgets UIDs long gone from the server when the listing was complete,
 * and rewrites the store when that is worth it. */
static int tidy_store(struct poll *pl, const struct fetch_plan *p)
{
	size_t n = p->complete ? uidstore_expire(pl->store, pl->now, FORGET_GRACE_S) : 0;

	if (n > 0)
		log_verbose("%s: forgot %zu UIDs no longer on the server", pl->acct->name, n);
	if (!uidstore_wants_compact(pl->store, pl->now))
		return 0;
	return uidstore_compact(pl->store, pl->err);
}

static void start_progress(struct poll *pl, const struct fetch_plan *p)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < p->nfetch; i++)
		bytes += pl->msgs[p->fetch[i]].size;
	progress_begin(&pl->progress, pl->progress_out, pl->acct->name, p->nfetch, bytes);
}

/* Retrieves and deletes what the plan says.  *deleted_r counts this
 * session's DELEs; *quit_r tells whether the session may still QUIT after
 * an error: a message the server refused (PF_ERR_SERVER) is no reason to
 * keep the durable ones on the server. */
static int carry_out(struct poll *pl, struct fetch_session *s, struct fetch_entry *e,
		     struct fetch_plan *p, unsigned long *deleted_r, int *quit_r)
{
	int rc = sizes_and_requests(pl, s, e, p);

	*deleted_r = 0;
	*quit_r = 0;
	if (rc < 0)
		return -1;
	fetch_account_plan(pl, p);
	start_progress(pl, p);
	rc = fetch_batches(pl, p->fetch, p->nfetch);
	progress_end(&pl->progress);
	if (rc < 0 && pl->err->cls != PF_ERR_SERVER)
		return -1;
	if (delete_planned(pl, p, deleted_r) < 0)
		return -1;
	*quit_r = 1;
	return rc;
}

/* Forgets what may be forgotten and ends the session: without deletions
 * the reply to QUIT tells nothing, so no round trip waits for it. */
static int finish_session(struct poll *pl, const struct fetch_plan *p, unsigned long deleted)
{
	if (tidy_store(pl, p) < 0 ||
	    (deleted == 0 ? pop3_quit_nowait(pl->pop, pl->err) : pop3_quit(pl->pop, pl->err)) < 0)
		return -1;
	pf_step("QUIT");
	return 0;
}

/* One session from the listing to QUIT; *another_r tells whether the
 * policy wants one more. */
static int run_session(struct poll *pl, unsigned number, int *another_r)
{
	struct fetch_session s = { .number = number, .fetched = pl->res->fetched, .now = pl->now };
	struct fetch_plan p = { 0 };
	struct fetch_entry *e;
	unsigned long deleted = 0;
	int rc, quit = 0;

	*another_r = 0;
	if (pop3_listing(pl->pop, &pl->msgs, &pl->nmsgs, pl->err) < 0)
		return -1;
	pl->deletable = xcalloc(pl->nmsgs ? pl->nmsgs : 1, 1);
	p.act = xcalloc(pl->nmsgs ? pl->nmsgs : 1, sizeof *p.act);
	p.fetch = xcalloc(pl->nmsgs ? pl->nmsgs : 1, sizeof *p.fetch);
	e = store_answers(pl);
	/* DESIGN.md section 2: open_store stops at a store recorded for
	 * another server or user; the policy asks again before it lets the
	 * store decide a skip or a delete. */
	pl->rules.store = uidstore_bound_to(pl->store, pl->acct->host, pl->acct->user) ?
				  FETCH_STORE_BOUND : FETCH_STORE_FOREIGN;
	s.sizes_known = pop3_have_sizes(pl->pop);
	s.maildrop_octets = pop3_maildrop_octets(pl->pop);
	fetch_plan_make(&pl->rules, &s, e, pl->nmsgs, &p);
	rc = plan_refused(pl, &p);
	if (rc == 0 && pl->rules.check_only) {
		fetch_account_plan(pl, &p);
		quit = 1;
	} else if (rc == 0) {
		rc = carry_out(pl, &s, e, &p, &deleted, &quit);
	}
	if (quit && finish_session(pl, &p, deleted) < 0)
		rc = -1;
	*another_r = rc == 0 && fetch_plan_another(&pl->rules, &s, &p, pl->res->fetched - s.fetched,
						   fetch_stop_requested());
	free(e);
	free(p.act);
	free(p.fetch);
	return rc;
}

/* Frees one session's connection and listing. */
static void end_session(struct poll *pl)
{
	pop3_free(pl->pop);
	pl->pop = NULL;
	free(pl->msgs);
	pl->msgs = NULL;
	pl->nmsgs = 0;
	free(pl->deletable);
	pl->deletable = NULL;
}

/* Sessions one after the other while the policy wants more (a provider
 * quirk: fetch_policy.h), each connected and logged in anew.  The first
 * one is connected already.  A server that refuses a later login because
 * it is busy or asks for a pause ([LOGIN-DELAY], [IN-USE], [SYS/TEMP]:
 * Gmail announces LOGIN-DELAY 300) ends the poll with what earlier
 * sessions delivered; the rest is for the next poll, which the backoff
 * record delays as the server asked. */
static int run_sessions(struct poll *pl)
{
	int another = 0, rc = run_session(pl, 1, &another);

	for (unsigned number = 2; rc == 0 && another; number++) {
		log_verbose("%s: session %u: the server lists part of the maildrop a session",
			    pl->acct->name, number);
		end_session(pl);
		rc = connect_server(pl);
		if (rc < 0 && pl->err->cls == PF_ERR_SERVER) {
			log_info("%s: no further session now (%s); the rest on the next poll",
				 pl->acct->name, pl->err->msg);
			pf_error_clear(pl->err);
			return 0;
		}
		if (rc == 0)
			rc = run_session(pl, number, &another);
	}
	/* A destination refused some messages (an MDA's exit 75): they stay
	 * on the server, but what it took is deleted like any delivered mail
	 * (else one message an MDA always refuses would keep the whole
	 * mailbox on the server), and the poll still fails (exit 10). */
	if (rc == 0 && pl->deferred.cls != PF_ERR_NONE) {
		*pl->err = pl->deferred;
		rc = -1;
	}
	return rc;
}

static void poll_free(struct poll *pl)
{
	end_session(pl);
	pf_free_secret(pl->secret);
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
	poll_rules(&pl, opts);
	pl.retry_now = opts->retry_now;
	pl.progress_out = opts->progress;
	pl.now = time(NULL);
	pl.buf = xmalloc(PF_STORE_LINE_MAX + PF_IOBUF_SIZE + 2);
	rc = open_local(&pl);
	if (rc == 0)
		rc = connect_server(&pl);
	if (rc == 0)
		rc = open_store(&pl);
	if (rc == 0)
		rc = run_sessions(&pl);
	if (pl.store != NULL) /* for popfetch --status (status.h) */
		res->stored = uidstore_count(pl.store);
	poll_free(&pl);
	res->seconds = (double)(pf_now_ms() - start) / 1000.0;
	/* After the lock is released: a slow indexer never delays the next
	 * poll; a failure is logged and never changes rc. */
	post_command_run(acct, res->fetched);
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
