/* fetch.h - one poll of one account: the policy.  The only module that sees
 * pop3, the destination (delivery.h) and uidstore together; it decides
 * what to fetch, in which order things become durable, and what may be
 * deleted (DESIGN.md section 2). */
#ifndef POPFETCH_FETCH_H
#define POPFETCH_FETCH_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "error.h"

struct fetch_opts {
	int keep;               /* -1: account's setting, 0: delete, 1: keep */
	int check_only;         /* -c: count new messages, fetch nothing */
	unsigned long limit;    /* -l: 0 for the account's fetch_limit */
	int retry_now;          /* --retry-now: ignore the login backoff */
	FILE *progress;         /* where to draw a progress line; NULL: none */
};

struct fetch_result {
	unsigned long listed;   /* messages on the server (the longest listing) */
	unsigned long fresh;    /* not delivered before (with -c: would fetch) */
	unsigned long fetched;  /* delivered in this poll */
	unsigned long deleted;  /* DELE accepted (effective after QUIT) */
	unsigned long skipped;  /* over max_size, or refused by the server */
	unsigned long expired;  /* kept messages due for deletion (delete_after) */
	unsigned long untouched; /* left alone: an invalid or shared UID */
	int capped;             /* a listing may have been cut short by the server
				 * (provider quirk): fresh is a lower bound */
	uint64_t bytes;         /* bytes written to the destination */
	unsigned long stored;   /* UIDs in the uid store at the end; 0: not opened */
	double seconds;
};

/* Async-signal-safe: asks a running poll to finish the batch in flight,
 * delete what is durable, QUIT and return, all within CONN_STOP_GRACE_S
 * seconds (conn.h): past that the connection is dropped without QUIT,
 * the message in flight is not delivered and nothing is deleted. */
void fetch_request_stop(void);

/* Polls acct once: lock, connect, log in, list, fetch what is new into its
 * Maildir durably, delete what may be deleted, quit; again while the
 * provider's preset says the server lists part of the maildrop a session
 * and the last session brought something new (fetch_policy.h).  Fills
 * *res (also on failure: what was delivered before it), counted over the
 * sessions.  0 or -1 with err set. */
int fetch_account(const struct config *cfg, const struct account *acct,
		  const struct fetch_opts *opts, struct fetch_result *res,
		  struct pf_error *err) PF_MUST_CHECK;

/* The TLS settings a poll of a connects with: the host as the name to
 * verify, its trust, pin, minimum version and client certificate.
 * --serverinfo starts from the same, so it judges a certificate as a
 * poll would.  o's strings point into a. */
struct conn_tls_opts;
void fetch_tls_opts(const struct account *a, struct conn_tls_opts *o);

/* Tests acct's settings without fetching: connects, logs in, reads the
 * listing (STAT, UIDL, LIST) into *listed_r (messages on the server) and
 * QUITs.  Creates nothing locally and keeps no backoff record (used by
 * popfetch --add-account before it writes the account).  0, or -1 with err
 * set as fetch_account sets it (PF_ERR_AUTH for a refused login). */
int fetch_test_account(const struct config *cfg, const struct account *acct,
		       unsigned long *listed_r, struct pf_error *err) PF_MUST_CHECK;

#endif
