/* maildir.h - atomic, durable delivery into a Maildir.  Knows files, not the
 * network.
 *
 * The delivery order (DESIGN.md section 2): maildir_file_new() creates an
 * unnamed O_TMPFILE (or, where the file system lacks it, an O_EXCL file in
 * tmp/); the caller writes the message, maildir_file_sync() fsyncs it,
 * maildir_file_publish() links it into new/NAME without ever replacing an
 * existing file, and maildir_sync_new() fsyncs new/ (one call may cover a
 * batch: group commit).  A message is durable only after the last step.
 *
 * Paths are built from directory fds opened with O_NOFOLLOW|O_DIRECTORY;
 * nothing here calls chdir.  Errors are PF_ERR_LOCAL and name the syscall
 * and the path. */
#ifndef POPFETCH_MAILDIR_H
#define POPFETCH_MAILDIR_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct maildir;
struct maildir_file;

/* Opens the Maildir at path, creating it and its cur/ new/ tmp/ (mode 0700)
 * when missing.  The final component and cur/new/tmp must not be symlinks.
 * Returns a handle owned by the caller, or NULL with err set. */
struct maildir *maildir_open(const char *path, struct pf_error *err) PF_MUST_CHECK;
void maildir_close(struct maildir *md);
const char *maildir_path(const struct maildir *md);

/* Removes regular files in tmp/ not modified for 36 hours (the Maildir
 * convention): leftovers of a crash.  Returns the number removed, or -1. */
int maildir_clean_tmp(struct maildir *md, struct pf_error *err) PF_MUST_CHECK;

/* Starts a new message file.  Owned by the caller: maildir_file_free(). */
struct maildir_file *maildir_file_new(struct maildir *md, struct pf_error *err) PF_MUST_CHECK;

/* Appends len bytes; every short write and error is checked (ENOSPC gives
 * a clear "disk full" sentence).  0 or -1. */
int maildir_file_write(struct maildir_file *f, const void *buf, size_t len,
		       struct pf_error *err) PF_MUST_CHECK;

/* Starts writing the file's data to disk without waiting (Linux
 * sync_file_range; nothing elsewhere), so that the maildir_file_sync() of a
 * whole batch later finds the data written and commits the file system's
 * journal once for all of them.  A hint: errors surface in the fsync. */
void maildir_file_start_sync(struct maildir_file *f);

/* fsync()s the file's data.  A failed fsync fails the message for good:
 * never retry it and trust the result.  0 or -1. */
int maildir_file_sync(struct maildir_file *f, struct pf_error *err) PF_MUST_CHECK;

/* Makes the n files (all of one Maildir) durable: from MAILDIR_SYNCFS_MIN
 * files on, where fs_sync.h trusts it, with one syncfs(2); otherwise with
 * maildir_file_sync() on each in order.  *synced_r: how many, from the
 * first, are durable (all or none with syncfs).  0 when all are, or -1. */
#define MAILDIR_SYNCFS_MIN 16
int maildir_files_sync(struct maildir_file *const *files, size_t n, size_t *synced_r,
		       struct pf_error *err) PF_MUST_CHECK;

/* Writes into name_r (cap bytes) a fresh unique Maildir name:
 * "SECONDS.MusecPpidQn.host,S=size,W=wsize" with '/' and ':' in the host
 * escaped as \057 and \072.  The name is also checked not to exist in new/
 * or cur/ yet.  0 or -1. */
int maildir_make_name(struct maildir *md, uint64_t size, uint64_t wsize,
		      char *name_r, size_t cap, struct pf_error *err) PF_MUST_CHECK;

/* Links the synced file into new/name.  Never overwrites: an existing
 * new/name is an error.  The file is not durable until maildir_sync_new().
 * 0 or -1. */
int maildir_file_publish(struct maildir_file *f, const char *name,
			 struct pf_error *err) PF_MUST_CHECK;

/* Closes the file; an unpublished named temporary file is unlinked.
 * NULL is fine. */
void maildir_file_free(struct maildir_file *f);

/* fsync()s the new/ directory, making every publish before it durable.
 * 0 or -1. */
int maildir_sync_new(struct maildir *md, struct pf_error *err) PF_MUST_CHECK;

/* Whether a delivered message called name is still there: new/name, or
 * cur/name, or cur/name followed by ":2," and flags (mail readers move new
 * mail to cur/ at once).  Returns 1, 0, or -1 with err set. */
int maildir_has(struct maildir *md, const char *name, struct pf_error *err) PF_MUST_CHECK;

/* Calls fn for every message in new/ and cur/ with its delivered name
 * (flags after ':' removed) and its first line (untrusted, NUL-terminated,
 * at most PF_LINE_MAX - 1 bytes).  Stops when fn returns -1.  0 or -1. */
int maildir_scan(struct maildir *md, int (*fn)(const char *name, const char *line, void *ctx),
		 void *ctx, struct pf_error *err) PF_MUST_CHECK;

#endif
