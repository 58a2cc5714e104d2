/* fetch_adopt.h - popfetch --adopt ACCOUNT: log in, record every UID now
 * on the server as delivered, download and delete nothing.  For users
 * switching from another fetcher whose state cannot be carried over: the
 * next poll fetches only what arrives later. */
#ifndef POPFETCH_FETCH_ADOPT_H
#define POPFETCH_FETCH_ADOPT_H

#include "config.h"
#include "error.h"

/* The Maildir name recorded for a UID delivered by another program
 * (adopted, or imported from a peer's state).  A Maildir name always has
 * a '.', so this one is never looked for in the Maildir: only PENDING
 * records are checked against it, and these are DELIVERED records. */
#define FETCH_ELSEWHERE_NAME "-"

/* Takes acct's lock (in cfg->state_dir), logs in as a poll does (backoff
 * included), reads the listing and records every UID not yet delivered as
 * delivered (FETCH_ELSEWHERE_NAME), durably, then QUITs without a DELE.
 * *listed_r: messages on the server; *recorded_r: UIDs newly recorded.
 * 0, or -1 with err set as fetch_account sets it (PF_ERR_PROTO when the
 * server has no UIDL: there is nothing to record then). */
int fetch_adopt(const struct config *cfg, const struct account *acct,
		unsigned long *listed_r, unsigned long *recorded_r,
		struct pf_error *err) PF_MUST_CHECK;

#endif
