/* delivery_spooled.h - the half that the MDA and LMTP destinations share:
 * messages kept in a spool (spool.h says why) until the commit hands them
 * over one at a time to a program or server that cannot be asked later.
 *
 * A destination embeds struct spooled as the FIRST member of its own
 * state, so the delivery_ops below (has, msg_begin, msg_write, msg_end,
 * msg_abort) work on it directly; it keeps open, commit and close. */
#ifndef POPFETCH_DELIVERY_SPOOLED_H
#define POPFETCH_DELIVERY_SPOOLED_H

#include "config.h"
#include "delivery.h"
#include "error.h"
#include "spool.h"

/* A chunk read back from the spool for the hand-over. */
#define SPOOLED_CHUNK (64 * 1024)

struct spooled {
	const struct account *acct;
	struct spool *spool;
	char *buf;              /* SPOOLED_CHUNK bytes for reading back */
	const char *kind;       /* "mda", "lmtp": the pending tokens' prefix */
	unsigned long seq;
	char what[PF_NAME_MAX + 16]; /* "ACCOUNT: kind", for log lines */
};

/* Fills sd: a spool in cfg->state_dir.  0, or -1 with err set. */
int spooled_init(struct spooled *sd, const struct config *cfg, const struct account *a,
		 const char *kind, struct pf_error *err) PF_MUST_CHECK;
void spooled_fini(struct spooled *sd);

/* The delivery_ops (delivery.h) on a struct spooled *.  has() answers 0:
 * neither an MDA nor an LMTP server can be asked what it took before a
 * crash (at-least-once).  msg_end names the item with a token
 * "KIND-TIME-SEQ" for the pending journal. */
int spooled_has(void *d, const char *name, struct pf_error *err);
int spooled_begin(void *d, struct delivery_item *it, struct pf_error *err);
int spooled_write(void *d, struct delivery_item *it, const void *buf, size_t len,
		  struct pf_error *err);
int spooled_end(void *d, struct delivery_item *it, uint64_t bytes, uint64_t lines,
		struct pf_error *err);
void spooled_abort(void *d, struct delivery_item *it);

/* An item's place in the spool. */
const struct spool_msg *spooled_msg(const struct delivery_item *it);

/* Hands one message over: 0 taken, 1 refused (logged, the reason in
 * *first unless one is there already: the poll goes on), -1 the poll must
 * stop (err set). */
typedef int (*spooled_hand_fn)(void *d, struct delivery_item *it, struct pf_error *err,
			       struct pf_error *first);

/* The commit both destinations share (delivery.h's contract):
 *   1. journal->pending for the whole batch (one fsync);
 *   2. per message: hand it over, and when it was taken record it before
 *      the next one goes (journal->taken: in the kernel, no fsync; without
 *      taken, journal->durable), so a crash of popfetch leaves at most the
 *      message in flight unrecorded: at-least-once, one message wide;
 *   3. journal->durable(NULL, 0): the records on disk before the commit
 *      returns, so nothing is deleted before.
 * Returns 0 when every message was taken, 1 when some were refused (err:
 * the first reason), -1. */
int spooled_commit(void *d, struct delivery_item *items, size_t n,
		   const struct delivery_journal *j, spooled_hand_fn hand,
		   struct pf_error *err) PF_MUST_CHECK;

#endif
