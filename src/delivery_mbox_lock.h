/* delivery_mbox_lock.h - locking an mbox the way Debian's mail readers and
 * MDAs do (Debian Policy 11.6: fcntl and dot locking), so popfetch never
 * appends while mutt rewrites or procmail appends.
 *
 *   1. the dotlock PATH.lock, made with link(2) from a unique file holding
 *      our pid (atomic also over NFS), where the directory lets us create
 *      files; where it does not (EACCES, EPERM, EROFS: a /var/mail we may
 *      not write to), the fcntl lock alone;
 *   2. an fcntl write lock on the whole file (an open file description lock,
 *      F_OFD_SETLK, so two accounts of one process exclude each other too;
 *      it conflicts with the classic F_SETLK locks other programs take).
 *
 * A lock held by someone else means waiting, polling every 100 ms, until
 * the deadline; then PF_ERR_LOCAL (exit 10).  Never an append without both
 * locks.  A dotlock is stale, and removed, when the pid written in it is
 * no longer running on this machine, or, holding no pid, when it was not
 * touched for MBOX_DOTLOCK_STALE_S seconds (liblockfile's rule).  The
 * kernel drops the fcntl lock when its holder dies. */
#ifndef POPFETCH_DELIVERY_MBOX_LOCK_H
#define POPFETCH_DELIVERY_MBOX_LOCK_H

#include "error.h"

#define MBOX_DOTLOCK_STALE_S 300

struct mbox_lock {
	int fd;          /* the locked mbox; -1 when not locked */
	int have_dot;    /* we created path.lock */
	char dotlock[PF_PATH_MAX];
};

/* Locks fd (the open mbox at path) within timeout_s seconds.  0, or -1
 * with err set (then nothing is held). */
int mbox_lock_take(struct mbox_lock *lk, int fd, const char *path, int timeout_s,
		   struct pf_error *err) PF_MUST_CHECK;

/* Removes path.lock when it is stale: a crashed popfetch (or another
 * program) left it, and mail readers would wait for it.  Called when the
 * destination opens, so a poll that appends nothing still clears it. */
void mbox_lock_clear_stale(const char *path);

/* Releases both locks; a lock not held is fine. */
void mbox_lock_release(struct mbox_lock *lk);

#endif
