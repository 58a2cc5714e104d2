/* uidstore.h - per-account record of which UIDs are delivered, durable and
 * crash-safe.  Knows its state file, nothing of POP3 or Maildir.
 *
 * File state_dir/ACCOUNT.uids is an append-only journal of records:
 *   popfetch-uids 1                      first line, format version
 *   H <host> <user>                      which server and login the state belongs to
 *                                        (%XX-encoded; a later H replaces an earlier one)
 *   P <uid> <name>                       delivery of uid as Maildir name under way
 *   D <uid> <name> <first_seen> <last_seen>   uid delivered (times: Unix seconds)
 *   F <uid>                              uid forgotten
 * A later record for a uid replaces an earlier one.  Records are appended
 * and fsynced by uidstore_commit(); a torn last line (a crash during the
 * append, before the fsync returned, so nothing relied on it) is dropped on
 * open.  Any other malformed line is corruption: uidstore_open() fails with
 * PF_ERR_LOCAL naming the file and line, never treating it as empty (that
 * would download a whole archive again).  The journal is rewritten
 * compactly (temp file, fsync, rename, fsync dir) by uidstore_compact().
 *
 * A store belongs to one server and one user (DESIGN.md section 2): one
 * opened for another host or user than its H record names is foreign.  A
 * foreign store answers every uid as UID_UNKNOWN, lists no pending uid,
 * and refuses every write (PF_ERR_CONFIG), so it can never make a poll
 * skip or delete anything; the caller stops with uidstore_check_binding()'s
 * error, and the user picks uidstore_rebind() or uidstore_set_aside().  A
 * store without H record (written before 0.1.0) is bound on open.
 *
 * UIDs are validated by the caller (pop3_uid_valid) and contain no spaces.
 * Lookups are O(1) (hash table).  All errors are PF_ERR_LOCAL. */
#ifndef POPFETCH_UIDSTORE_H
#define POPFETCH_UIDSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "error.h"

struct uidstore;

enum uid_state {
	UID_UNKNOWN = 0,
	UID_PENDING,   /* a delivery was started; see uidstore_get's name */
	UID_DELIVERED,
};

/* Opens (creating when missing, mode 0600) dir/account.uids; dir must
 * exist.  host and user (the account's, as configured) are recorded in
 * new stores and in stores without H record; a store recorded for another
 * host or user opens foreign (see above).  Owned by the caller:
 * uidstore_close().  NULL with err set on I/O error or corruption. */
struct uidstore *uidstore_open(const char *dir, const char *account,
			       const char *host, const char *user,
			       struct pf_error *err) PF_MUST_CHECK;

/* A new store for account in dir, built beside its current store (which
 * stays in use until uidstore_replace()).  host and user as for
 * uidstore_open().  uidstore_close() before uidstore_replace() removes
 * what was built.  NULL with err set. */
struct uidstore *uidstore_build(const char *dir, const char *account, const char *host,
				const char *user, struct pf_error *err) PF_MUST_CHECK;

/* For a store from uidstore_build(): commits and compacts it and puts it
 * in place of the account's store, which is kept as a backup beside it
 * (ACCOUNT.uids.bak, replacing an older backup).  A complete store is in
 * place at every moment.  s is then the account's store.  0 or -1. */
int uidstore_replace(struct uidstore *s, struct pf_error *err) PF_MUST_CHECK;

/* The path of account's store in dir, for messages and --status, into
 * out (cap bytes).  0, or -1 when it does not fit. */
int uidstore_path(const char *dir, const char *account, char *out, size_t cap);

/* 1 when account has a store in dir, 0 when not, -1 with err set. */
int uidstore_exists(const char *dir, const char *account, struct pf_error *err) PF_MUST_CHECK;

/* --- the binding (uidstore_bind.c) --- */

/* 1 when s's H record names host and user (host without case, the port
 * no part of it, Gmail's "recent:" user prefix ignored), else 0.  Pure:
 * the fetch policy asks it before trusting the store for a skip or a
 * delete. */
int uidstore_bound_to(const struct uidstore *s, const char *host, const char *user);

/* 0 when s is bound to the host and user it was opened with; else -1 with
 * err set (PF_ERR_CONFIG, exit 5): one sentence naming the recorded and
 * the configured user and host, that nothing was fetched or deleted, and
 * the two ways on, `popfetch --rebind-state ACCOUNT` and `popfetch
 * --fresh-state ACCOUNT`. */
int uidstore_check_binding(const struct uidstore *s, struct pf_error *err) PF_MUST_CHECK;

/* The same mailbox under a new name: records the host and user s was
 * opened with (an H record, durable on return); s is no longer foreign.
 * 0 (also when it was not foreign) or -1. */
int uidstore_rebind(struct uidstore *s, struct pf_error *err) PF_MUST_CHECK;

/* Another mailbox: moves s's file aside, kept beside it as
 * ACCOUNT.uids.HOST.old (HOST from its H record; .old.2 ... when taken),
 * whose name goes to name_r (cap bytes).  The next uidstore_open() starts
 * a fresh store; s refuses every write from now on.  0 or -1. */
int uidstore_set_aside(struct uidstore *s, char *name_r, size_t cap,
		       struct pf_error *err) PF_MUST_CHECK;

/* Frees everything.  Records not committed are lost, as after a crash. */
void uidstore_close(struct uidstore *s);

/* The state of uid, and for PENDING and DELIVERED its Maildir name in
 * *name_r (valid until the next change to the store; name_r may be NULL). */
enum uid_state uidstore_get(struct uidstore *s, const char *uid, const char **name_r);

/* When a delivered uid was first recorded (for delete_after), or 0 when
 * uid is not delivered. */
time_t uidstore_first_seen(struct uidstore *s, const char *uid);

/* Records a delivery under way (P record).  Durable after commit. */
int uidstore_set_pending(struct uidstore *s, const char *uid, const char *name,
			 struct pf_error *err) PF_MUST_CHECK;

/* Records uid as delivered under its pending name, or under name when
 * name is not NULL (D record, first_seen = last_seen = now).  Durable after
 * commit. */
int uidstore_set_delivered(struct uidstore *s, const char *uid, const char *name,
			   time_t now, struct pf_error *err) PF_MUST_CHECK;

/* Forgets uid (F record).  Durable after commit. */
int uidstore_forget(struct uidstore *s, const char *uid, struct pf_error *err) PF_MUST_CHECK;

/* Writes every record added since the last commit and fsyncs the file.
 * Nothing may be deleted on the server for a uid before the commit that
 * recorded it returned 0.  0 or -1. */
int uidstore_commit(struct uidstore *s, struct pf_error *err) PF_MUST_CHECK;

/* Writes every record added since the last commit without waiting for the
 * disk: a crash of the process keeps them, a power loss may not.  The next
 * uidstore_commit() makes them durable (it fsyncs even when nothing was
 * added since).  The commit rule above holds: nothing may be deleted for
 * a uid before a commit that followed its record returned 0.  0 or -1. */
int uidstore_write(struct uidstore *s, struct pf_error *err) PF_MUST_CHECK;

/* Marks uid as present in the server's current listing (in memory). */
void uidstore_mark_seen(struct uidstore *s, const char *uid, time_t now);

/* After a complete listing: forgets delivered uids that were absent from
 * every complete listing for grace_s seconds and drops pending uids the
 * caller has resolved.  In memory; uidstore_compact() makes it durable.
 * Returns the number forgotten. */
size_t uidstore_expire(struct uidstore *s, time_t now, time_t grace_s);

/* Rewrites the file with one record per known uid (temp file, fsync,
 * rename, fsync of dir).  Cheap enough to call once per poll only when
 * uidstore_wants_compact() says so.  0 or -1. */
int uidstore_compact(struct uidstore *s, struct pf_error *err) PF_MUST_CHECK;
int uidstore_wants_compact(const struct uidstore *s, time_t now);

/* Calls fn for every uid in PENDING state (fn may call set_delivered or
 * forget on that uid).  Stops and returns -1 when fn does. */
int uidstore_each_pending(struct uidstore *s,
			  int (*fn)(const char *uid, const char *name, void *ctx),
			  void *ctx);

/* Number of uids known (any state). */
size_t uidstore_count(const struct uidstore *s);

#endif
