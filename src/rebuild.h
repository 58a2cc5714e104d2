/* rebuild.h - the commands that repair or move an account's uid store:
 * --rebuild-state (from its Maildir), --rebind-state and --fresh-state
 * (a store bound to another server or user, DESIGN.md section 2).  Each
 * takes the account lock (PF_ERR_LOCKED when busy).
 *
 * Every message popfetch delivers starts with an "X-Popfetch-UIDL: ACCOUNT
 * UID" header line, so a lost or corrupted uid store can be rebuilt from
 * what is on disk without downloading anything again (popfetch
 * --rebuild-state ACCOUNT).  The old store, if any, is kept beside the new
 * one (uidstore_replace()). */
#ifndef POPFETCH_REBUILD_H
#define POPFETCH_REBUILD_H

#include <stddef.h>

#include "config.h"
#include "error.h"

/* The header line written first into every delivered message. */
#define REBUILD_HEADER "X-Popfetch-UIDL: "

/* Scans new/ and cur/ of acct's Maildir and writes a fresh uid store with
 * every UID found for this account as delivered.  Takes the account lock
 * (PF_ERR_LOCKED when busy).  A readable store recorded for another host
 * or user is refused (PF_ERR_CONFIG, uidstore_check_binding()'s message):
 * the Maildir cannot tell which server its UIDs came from.  *found_r:
 * messages recognised.  0 or -1. */
int rebuild_state(const struct config *cfg, const struct account *acct, size_t *found_r,
		  struct pf_error *err) PF_MUST_CHECK;

enum rebind_outcome {
	REBIND_NO_STORE = 0,    /* nothing to do: the next poll starts a store */
	REBIND_ALREADY,         /* the store already belonged to the account */
	REBIND_DONE,
};

/* --rebind-state: the same mailbox under a new name (host or user).  The
 * store keeps every UID and records acct's host and user from now on.
 * 0 with *outcome_r set, or -1. */
int rebuild_rebind(const struct config *cfg, const struct account *acct,
		   enum rebind_outcome *outcome_r, struct pf_error *err) PF_MUST_CHECK;

/* --fresh-state: another mailbox.  The store is moved aside (its new file
 * name in aside_r, cap bytes; "" when there was no store) and the next poll
 * starts a fresh one.  0 or -1. */
int rebuild_fresh(const struct config *cfg, const struct account *acct, char *aside_r,
		  size_t cap, struct pf_error *err) PF_MUST_CHECK;

#endif
