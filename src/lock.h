/* lock.h - one popfetch per account at a time (flock on
 * state_dir/ACCOUNT.lock).  The kernel drops the lock when the holder dies,
 * so a crashed run never leaves a stale lock behind. */
#ifndef POPFETCH_LOCK_H
#define POPFETCH_LOCK_H

#include "error.h"

/* Takes the account's lock without waiting.  Returns the lock's fd (keep it
 * open for as long as the lock is needed; close it to release), or -1 with
 * PF_ERR_LOCKED when another process holds it, PF_ERR_LOCAL on I/O errors. */
int lock_account(const char *state_dir, const char *account, struct pf_error *err) PF_MUST_CHECK;

/* Releases a lock taken by lock_account.  -1 is fine. */
void lock_release(int fd);

#endif
