/* lock.c - see lock.h.  flock() rather than fcntl() locks: an flock lock
 * belongs to the open file description, so it is not dropped when some
 * other descriptor of the same file is closed, and the kernel drops it
 * when the holder dies (no stale lock after a crash). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "lock.h"
#include "util.h"

/* The holder's pid, written for humans looking at the file; nothing
 * relies on it (the flock is the lock). */
static void note_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());

	if (n < 0 || (size_t)n >= sizeof buf || ftruncate(fd, 0) < 0)
		return;
	(void)pf_write_all(fd, buf, (size_t)n);
}

int lock_account(const char *state_dir, const char *account, struct pf_error *err)
{
	char path[PF_PATH_MAX];
	int n = snprintf(path, sizeof path, "%s/%s.lock", state_dir, account);
	int fd, rc;

	if (n < 0 || (size_t)n >= sizeof path)
		return pf_error_set(err, PF_ERR_LOCAL, "lock file path for account %s is too long",
				    account);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot open lock file %s", path);
	do
		rc = flock(fd, LOCK_EX | LOCK_NB);
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return pf_error_set(err, PF_ERR_LOCKED,
					    "account %s is being fetched by another popfetch "
					    "(lock file %s)", account, path);
		return pf_error_errno(err, PF_ERR_LOCAL, e, "cannot lock %s: flock", path);
	}
	note_pid(fd);
	return fd;
}

void lock_release(int fd)
{
	/* Closing the only descriptor of the open file description drops
	 * the flock.  The file stays: unlinking it would race with a
	 * process that opened it and is about to lock it. */
	if (fd >= 0)
		close(fd);
}
