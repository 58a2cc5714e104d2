/* delivery_mbox_lock.c - see delivery_mbox_lock.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "delivery_mbox_lock.h"
#include "log.h"
#include "util.h"

#define RETRY_MS 100

enum { LOCK_BUSY = 0, LOCK_TAKEN = 1, LOCK_IMPOSSIBLE = 2 };

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Whether the dotlock at path is stale (delivery_mbox_lock.h's rule).
 * A lock that cannot be read is not judged: it may be mid-creation. */
static int dotlock_stale(const char *path)
{
	char buf[32];
	struct stat st;
	long pid = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	if (fstat(fd, &st) < 0)
		n = -1;
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%ld", &pid) == 1 && pid > 0)
		return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
	return time(NULL) - st.st_mtime > MBOX_DOTLOCK_STALE_S;
}

/* Writes our pid into a unique file beside the lock, links it to the
 * lock's name (link is atomic, O_EXCL is not on old NFS) and removes it. */
static int try_dotlock(struct mbox_lock *lk, struct pf_error *err)
{
	static unsigned counter;
	char tmp[PF_PATH_MAX], host[64] = "localhost", pid[32];
	struct stat st;
	int fd, n, r, e;

	(void)gethostname(host, sizeof host - 1);
	host[strcspn(host, "/")] = '\0';
	n = snprintf(tmp, sizeof tmp, "%s.%ld.%u.%s", lk->dotlock, (long)getpid(), ++counter,
		     host);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return pf_error_set(err, PF_ERR_LOCAL, "mbox lock file name too long: %s",
				    lk->dotlock);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST) {
		/* Left by a process of our pid killed in this function: the
		 * name is ours (pid, host), the file stale. */
		(void)unlink(tmp);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	}
	if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS))
		return LOCK_IMPOSSIBLE;
	if (fd < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create %s", tmp);
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	r = pf_write_all(fd, pid, (size_t)n);
	e = errno;
	close(fd);
	if (r == 0) {
		r = link(tmp, lk->dotlock);
		e = errno;
		/* NFS may report a link that happened as failed: count links. */
		if (r < 0 && e != EEXIST && stat(tmp, &st) == 0 && st.st_nlink == 2)
			r = 0;
	}
	(void)unlink(tmp);
	if (r == 0)
		return LOCK_TAKEN;
	if (e != EEXIST)
		return pf_error_errno(err, PF_ERR_LOCAL, e, "cannot create %s", lk->dotlock);
	if (dotlock_stale(lk->dotlock)) {
		log_warn("removing stale mbox lock %s", lk->dotlock);
		(void)unlink(lk->dotlock);
	}
	return LOCK_BUSY;
}

/* The fcntl write lock on the whole file, without waiting. */
static int try_fcntl(int fd, struct pf_error *err)
{
	struct flock fl;
	int r;

	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
#ifdef F_OFD_SETLK
	r = fcntl(fd, F_OFD_SETLK, &fl);
	if (r < 0 && errno == EINVAL) /* a kernel before 3.15 */
		r = fcntl(fd, F_SETLK, &fl);
#else
	r = fcntl(fd, F_SETLK, &fl);
#endif
	if (r == 0)
		return LOCK_TAKEN;
	if (errno == EAGAIN || errno == EACCES)
		return LOCK_BUSY;
	return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot lock the mbox: fcntl");
}

static int busy_error(struct pf_error *err, const char *path, const char *which, int timeout_s)
{
	return pf_error_set(err, PF_ERR_LOCAL,
			    "mbox %s is locked by another program (%s) for more than %d seconds; "
			    "nothing was appended", path, which, timeout_s);
}

void mbox_lock_clear_stale(const char *path)
{
	char lock[PF_PATH_MAX];
	int n = snprintf(lock, sizeof lock, "%s.lock", path);

	if (n < 0 || (size_t)n >= sizeof lock || !dotlock_stale(lock))
		return;
	log_warn("removing stale mbox lock %s", lock);
	(void)unlink(lock);
}

int mbox_lock_take(struct mbox_lock *lk, int fd, const char *path, int timeout_s,
		   struct pf_error *err)
{
	int64_t deadline = pf_now_ms() + (int64_t)timeout_s * 1000;
	int n, r, dot = 1;

	lk->fd = -1;
	lk->have_dot = 0;
	n = snprintf(lk->dotlock, sizeof lk->dotlock, "%s.lock", path);
	if (n < 0 || (size_t)n >= sizeof lk->dotlock)
		return pf_error_set(err, PF_ERR_LOCAL, "mbox path too long: %s", path);
	while (dot && (r = try_dotlock(lk, err)) != LOCK_TAKEN) {
		if (r < 0)
			return -1;
		if (r == LOCK_IMPOSSIBLE) {
			log_verbose("%s: no dotlock (the directory is not writable); fcntl only",
				    path);
			dot = 0;
		} else if (pf_now_ms() >= deadline) {
			return busy_error(err, path, lk->dotlock, timeout_s);
		} else {
			sleep_ms(RETRY_MS);
		}
	}
	lk->have_dot = dot;
	while ((r = try_fcntl(fd, err)) != LOCK_TAKEN) {
		if (r < 0 || pf_now_ms() >= deadline) {
			if (r == LOCK_BUSY)
				busy_error(err, path, "fcntl lock", timeout_s);
			mbox_lock_release(lk);
			return -1;
		}
		sleep_ms(RETRY_MS);
	}
	lk->fd = fd;
	return 0;
}

void mbox_lock_release(struct mbox_lock *lk)
{
	if (lk->fd >= 0) {
		struct flock fl;

		memset(&fl, 0, sizeof fl);
		fl.l_type = F_UNLCK;
		fl.l_whence = SEEK_SET;
#ifdef F_OFD_SETLK
		if (fcntl(lk->fd, F_OFD_SETLK, &fl) < 0)
#endif
			(void)fcntl(lk->fd, F_SETLK, &fl);
		lk->fd = -1;
	}
	if (lk->have_dot) {
		(void)unlink(lk->dotlock);
		lk->have_dot = 0;
	}
}
