/* delivery.h - the one interface between the batch pipeline (fetch_batch.c)
 * and any destination (Maildir, mbox, an MDA, LMTP).  The pipeline knows
 * no destination; a destination knows no POP3 and no uid store.
 *
 * The life of a poll:
 *
 *   delivery_open()                 once per poll, after the account lock
 *   delivery_has(name)              for each pending record a crash left
 *   per batch:
 *     per message: delivery_msg_begin, delivery_msg_write..., delivery_msg_end
 *                  (or delivery_msg_abort at any point: the message is dropped)
 *     delivery_commit(items, journal)   group commit; see below
 *     delivery_msg_abort(item) for every item begun (frees it)
 *   delivery_close()
 *
 * "Durable" means: the message survives a crash of the process and of the
 * machine (power loss) in the place the user reads mail from, complete and
 * exactly once, and a reader already sees it or will see it without any
 * help from popfetch.  For the Maildir: file fsynced, linked into new/, new/
 * fsynced.  For mbox: the append fsynced.  For an MDA or LMTP: the program
 * or server said it took the message (exit 0, a 2xx after DATA); what it
 * does then is its own promise.
 *
 * The commit and the journal (DESIGN.md section 2).  delivery_commit()
 * drives the destination's steps and calls back into the pipeline twice:
 *   journal->pending(items): before anything becomes visible to a reader,
 *     the pipeline durably records "uid -> item.name" in the uid store's
 *     pending journal.  item.name is set by the destination before this
 *     call: a Maildir file name, or any token (printable ASCII 0x21-0x7E,
 *     no '/', not starting with '.', at most PF_NAME_MAX) from which
 *     delivery_has() can later tell whether that message was delivered.
 *   journal->durable(items): reports messages that are durable; the
 *     pipeline records them as delivered (and only they may be DELEted).
 * Rules for an implementation:
 *   - durable() never reports a message the destination cannot prove
 *     durable (a failed fsync fails the message for good; never retry one
 *     and trust it).
 *   - pending() comes before the first byte of a message can reach the
 *     place a reader looks, and covers every message later reported.  Both
 *     callbacks may be called several times per commit over disjoint runs
 *     of items (an MDA: pending, run, durable, one message at a time, which
 *     makes its at-least-once window one message wide); items are passed as
 *     contiguous runs of the array given to delivery_commit.
 *   - when a callback fails, stop and return -1 with its error.
 * An implementation may assume: items come in the order they were begun;
 * every item passed to delivery_commit ended successfully
 * (delivery_msg_end) and none was aborted; a message may be aborted at any
 * time after delivery_msg_begin, also after a failed write; nothing is
 * committed twice; one struct delivery is used by one thread.
 *
 * After a crash, delivery_has(name) answers for each pending name whether
 * that message is durable in the destination (1: record it delivered, 0:
 * fetch it again).  It may repair what the crash left (an mbox cuts back a
 * torn append).  A destination that cannot know (an MDA) answers 0: it is
 * at-least-once across a crash, never lossy.
 *
 * Ownership: struct delivery belongs to the caller of delivery_open (free
 * with delivery_close).  An item's impl belongs to the destination from
 * delivery_msg_begin until delivery_msg_abort, which the pipeline calls
 * exactly once for every begun item, committed or not.  The item array,
 * uid and tag belong to the pipeline.  Errors: PF_ERR_LOCAL for anything
 * local (exit 10), PF_ERR_INTERNAL for misuse. */
#ifndef POPFETCH_DELIVERY_H
#define POPFETCH_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

struct delivery;

/* One message on its way; an element of the batch's item array. */
struct delivery_item {
	void *impl;                 /* the destination's; NULL before begin */
	const char *uid;            /* pipeline's: "" when the server has no UIDL */
	size_t tag;                 /* pipeline's: which message this is */
	char name[PF_NAME_MAX + 1]; /* destination's: the pending journal's NAME */
};

struct delivery_journal {
	/* Durably records items[0..n) as pending under their names. */
	int (*pending)(void *ctx, struct delivery_item *items, size_t n,
		       struct pf_error *err) PF_MUST_CHECK;
	/* items[0..n) are durable: the pipeline records them delivered. */
	int (*durable)(void *ctx, struct delivery_item *items, size_t n,
		       struct pf_error *err) PF_MUST_CHECK;
	void *ctx;
	/* For a destination that hands messages over one at a time and
	 * cannot be asked later (an MDA, LMTP): items[0..n) were taken; the
	 * pipeline records them delivered at once, in the kernel but not
	 * yet on disk (a crash of popfetch keeps the record, a power loss
	 * may not), so a crash leaves at most the message in flight
	 * unrecorded without an fsync per message.  The destination must
	 * call durable() before its commit returns, also when the commit
	 * fails (durable(ctx, NULL, 0) just syncs); nothing is deleted
	 * before, and nothing at all after a failed commit (fetch_batch.c).
	 * NULL: use durable(). */
	int (*taken)(void *ctx, struct delivery_item *items, size_t n,
		     struct pf_error *err) PF_MUST_CHECK;
};

/* What a destination implements (one file, src/delivery_KIND.c, plus one
 * line in delivery.c's table).  The wrappers below document each. */
struct delivery_ops {
	const char *kind; /* the config key: "maildir", "mbox", ... */
	void *(*open)(const struct config *cfg, const struct account *a, struct pf_error *err);
	int (*has)(void *d, const char *name, struct pf_error *err);
	int (*msg_begin)(void *d, struct delivery_item *it, struct pf_error *err);
	int (*msg_write)(void *d, struct delivery_item *it, const void *buf, size_t len,
			 struct pf_error *err);
	int (*msg_end)(void *d, struct delivery_item *it, uint64_t bytes, uint64_t lines,
		       struct pf_error *err);
	void (*msg_abort)(void *d, struct delivery_item *it);
	int (*commit)(void *d, struct delivery_item *items, size_t n,
		      const struct delivery_journal *j, struct pf_error *err);
	void (*close)(void *d);
};

/* Opens the account's destination (a->dest), creating what is missing
 * (DESIGN.md section 8), and tidies what an earlier crash left (stale
 * Maildir tmp/ files, a stale mbox dot lock).  Owned by the caller.  NULL
 * with err set. */
struct delivery *delivery_open(const struct config *cfg, const struct account *a,
			       struct pf_error *err) PF_MUST_CHECK;
void delivery_close(struct delivery *d); /* NULL is fine */

/* The destination's kind ("maildir", "mbox", ...). */
const char *delivery_kind(const struct delivery *d);

/* The ops for a kind, or NULL (for tests and the config). */
const struct delivery_ops *delivery_ops_find(enum dest_kind kind);

/* After a crash: 1 when the message journalled as pending under name is
 * durable in the destination, 0 when it is not (fetch it again), -1 with
 * err set when that cannot be told (the poll stops: nothing is deleted). */
int delivery_has(struct delivery *d, const char *name, struct pf_error *err) PF_MUST_CHECK;

/* Starts a message into it (it->uid and it->tag set by the caller). */
int delivery_msg_begin(struct delivery *d, struct delivery_item *it,
		       struct pf_error *err) PF_MUST_CHECK;

/* Appends len bytes of the message as the Maildir holds it (LF line ends,
 * dot-unstuffed).  A failed write leaves the item only to abort.  0 or -1. */
int delivery_msg_write(struct delivery *d, struct delivery_item *it, const void *buf,
		       size_t len, struct pf_error *err) PF_MUST_CHECK;

/* The message is complete: bytes written in all, lines among them (the
 * size with CRLF ends is bytes + lines).  The destination may set
 * it->name now or during the commit.  0 or -1. */
int delivery_msg_end(struct delivery *d, struct delivery_item *it, uint64_t bytes,
		     uint64_t lines, struct pf_error *err) PF_MUST_CHECK;

/* Drops the message unless a commit reported it durable, and frees the
 * destination's part of it.  Called once for every begun item; an item
 * never begun (impl NULL) is fine. */
void delivery_msg_abort(struct delivery *d, struct delivery_item *it);

/* Makes items[0..n) durable in the journal order above (group commit:
 * one sync for the batch where the destination allows).  Returns 0 when
 * every item was reported durable; 1 when some were not but the poll may
 * go on with the next messages (an MDA's refusal; err says why); -1 when
 * the poll must stop (err set).  Items reported durable stay durable
 * whatever the return. */
int delivery_commit(struct delivery *d, struct delivery_item *items, size_t n,
		    const struct delivery_journal *j, struct pf_error *err) PF_MUST_CHECK;

#endif
