/* rebuild.h - regenerates an account's uid store from its Maildir.
 *
 * Every message popfetch delivers starts with an "X-Popfetch-UIDL: ACCOUNT
 * UID" header line, so a lost or corrupted uid store can be rebuilt from
 * what is on disk without downloading anything again (popfetch
 * --rebuild-state ACCOUNT).  The old store, if any, is kept beside the new
 * one as ACCOUNT.uids.bak. */
#ifndef POPFETCH_REBUILD_H
#define POPFETCH_REBUILD_H

#include <stddef.h>

#include "config.h"
#include "error.h"

/* The header line written first into every delivered message. */
#define REBUILD_HEADER "X-Popfetch-UIDL: "

/* Scans new/ and cur/ of acct's Maildir and writes a fresh uid store with
 * every UID found for this account as delivered.  Takes the account lock
 * (PF_ERR_LOCKED when busy).  *found_r: messages recognised.  0 or -1. */
int rebuild_state(const struct config *cfg, const struct account *acct, size_t *found_r,
		  struct pf_error *err) PF_MUST_CHECK;

#endif
