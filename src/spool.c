/* spool.c - see spool.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "spool.h"
#include "util.h"

struct spool {
	int fd;
	char *dir;        /* for spool_extract */
	uint64_t end;     /* bytes in use */
	size_t live;      /* messages begun and not dropped */
};

/* pwrite(2) until all of buf is written.  0, or -1 with errno set. */
static int pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errno = n == 0 ? ENOSPC : errno;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* O_TMPFILE where the file system has it; else a name no one else can
 * have chosen (mkstemp), unlinked at once. */
static int open_unnamed(const char *dir)
{
	char path[PF_PATH_MAX];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	if (snprintf(path, sizeof path, "%s/.popfetch-spool.XXXXXX", dir) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		(void)unlink(path);
	return fd;
}

struct spool *spool_open(const char *dir, struct pf_error *err)
{
	struct spool *s;
	int fd = open_unnamed(dir);

	if (fd < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create a spool file in %s", dir);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->fd = fd;
	s->dir = xstrdup(dir);
	return s;
}

void spool_close(struct spool *s)
{
	if (s == NULL)
		return;
	close(s->fd);
	free(s->dir);
	free(s);
}

void spool_begin(struct spool *s, struct spool_msg *m)
{
	m->off = s->end;
	m->len = 0;
	s->live++;
}

int spool_write(struct spool *s, struct spool_msg *m, const void *buf, size_t len,
		struct pf_error *err)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(s->fd, p, len, (off_t)(m->off + m->len));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return pf_error_errno(err, PF_ERR_LOCAL, n < 0 ? errno : ENOSPC,
					      "cannot write the spool file");
		p += n;
		len -= (size_t)n;
		m->len += (uint64_t)n;
	}
	if (m->off + m->len > s->end)
		s->end = m->off + m->len;
	return 0;
}

int spool_read(struct spool *s, const struct spool_msg *m, uint64_t at, void *buf, size_t cap,
	       size_t *got_r, struct pf_error *err)
{
	uint64_t left = at < m->len ? m->len - at : 0;
	size_t want = left < cap ? (size_t)left : cap;
	ssize_t n;

	*got_r = 0;
	if (want == 0)
		return 0;
	do
		n = pread(s->fd, buf, want, (off_t)(m->off + at));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return pf_error_errno(err, PF_ERR_LOCAL, n < 0 ? errno : EIO,
				      "cannot read the spool file");
	*got_r = (size_t)n;
	return 0;
}

/* Copies len bytes at *in_off of in to *out_off of out, in the kernel
 * where it can (copy_file_range), else through a buffer. */
static int copy_range(int in, off_t in_off, int out, off_t out_off, uint64_t len)
{
	char buf[16384];

	while (len > 0) {
		size_t want = len < ((uint64_t)1 << 30) ? (size_t)len : (size_t)1 << 30;
		ssize_t n = copy_file_range(in, &in_off, out, &out_off, want, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
			      errno == EOPNOTSUPP)) {
			n = pread(in, buf, want < sizeof buf ? want : sizeof buf, in_off);
			if (n > 0 && pwrite_full(out, buf, (size_t)n, out_off) < 0)
				return -1;
			in_off += n > 0 ? n : 0;
			out_off += n > 0 ? n : 0;
		}
		if (n <= 0) {
			errno = n == 0 ? EIO : errno;
			return -1;
		}
		len -= (uint64_t)n;
	}
	return 0;
}

int spool_extract(struct spool *s, const struct spool_msg *m, const char *prefix, size_t plen,
		  struct pf_error *err)
{
	int fd = open_unnamed(s->dir);

	if (fd < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create a file in %s", s->dir);
	/* Offsets given explicitly: the file's own offset stays 0 for the
	 * reader. */
	if ((plen > 0 && pwrite_full(fd, prefix, plen, 0) < 0) ||
	    copy_range(s->fd, (off_t)m->off, fd, (off_t)plen, m->len) < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot copy a message out of the spool "
			       "in %s", s->dir);
		close(fd);
		return -1;
	}
	return fd;
}

void spool_drop(struct spool *s, struct spool_msg *m)
{
	/* The last message written (a download cut short) gives its room back
	 * at once; otherwise the room comes back when the batch is over. */
	if (m->off + m->len == s->end)
		s->end = m->off;
	m->len = 0;
	if (s->live > 0)
		s->live--;
	if (s->live == 0) {
		s->end = 0;
		(void)ftruncate(s->fd, 0); /* only frees disk early */
	}
}

/* --- Return-Path ---------------------------------------------------------- */

/* The address in the value v[0..n) of a Return-Path header into buf; ""
 * when it is not usable (spool.h). */
static void take_address(const char *v, size_t n, char *buf, size_t cap)
{
	const char *lt = memchr(v, '<', n), *gt;
	size_t len;

	buf[0] = '\0';
	if (lt == NULL)
		return;
	gt = memchr(lt, '>', n - (size_t)(lt - v));
	if (gt == NULL)
		return;
	len = (size_t)(gt - lt - 1);
	if (len >= cap)
		return;
	for (size_t i = 0; i < len; i++)
		if (lt[1 + i] <= 0x20 || lt[1 + i] >= 0x7F || strchr("<>\"", lt[1 + i]) != NULL)
			return;
	memcpy(buf, lt + 1, len);
	buf[len] = '\0';
}

int spool_return_path(struct spool *s, const struct spool_msg *m, char *buf, size_t cap,
		      struct pf_error *err)
{
	char *head = xmalloc(SPOOL_HEADER_SCAN);
	size_t got = 0, n, pos = 0;
	int rc = 0;

	buf[0] = '\0';
	while (got < SPOOL_HEADER_SCAN) {
		if (spool_read(s, m, got, head + got, SPOOL_HEADER_SCAN - got, &n, err) < 0) {
			rc = -1;
			goto out;
		}
		if (n == 0)
			break;
		got += n;
	}
	/* Header lines up to the first empty one; the first Return-Path wins
	 * (the last transport's, RFC 5321 section 4.4). */
	while (pos < got && head[pos] != '\n') {
		char *nl = memchr(head + pos, '\n', got - pos);
		size_t len = nl != NULL ? (size_t)(nl - head - pos) : got - pos;

		if (len > 12 && strncasecmp(head + pos, "Return-Path:", 12) == 0) {
			take_address(head + pos + 12, len - 12, buf, cap);
			break;
		}
		pos += len + 1;
	}
out:
	free(head);
	return rc;
}
