/* delivery_mbox.c - the mbox destination (delivery.h): mboxrd
 * (delivery_mbox_fmt.h), locked like Debian's mail readers
 * (delivery_mbox_lock.h), exactly once across a crash.
 *
 * Messages of a batch are written, From_ line and quoting done, into a
 * spool: an unnamed file in state_dir that needs no fsync (a crash loses
 * it, and nothing relied on it).  The commit, under both mbox locks:
 *   1. the mbox's length L0; each message's place in it (offset, length)
 *      and a hash of its bytes become its pending NAME
 *      "mbox,O=OFFSET,L=LENGTH,H=HASH": journal->pending makes them
 *      durable before the first byte is appended;
 *   2. the spool is appended (copy_file_range), the mbox fsynced;
 *   3. journal->durable, then the locks are released (a mail reader that
 *      rewrote the mbox before the uid store said "delivered" would move
 *      the messages away from the offsets the journal names).
 * A failed append or fsync cuts the mbox back to L0 before it fails.
 *
 * After a crash, delivery_has(NAME), under the locks: a message whose
 * bytes are at OFFSET with the journalled hash is delivered (the mbox is
 * fsynced first: the crash may have left it in the page cache only); when
 * the file ends inside the message, the append was torn and the file is
 * cut back to OFFSET (ftruncate, fsync) before anything else is appended;
 * anything else is not ours and is left alone (the message is fetched
 * again). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "delivery_impl.h"
#include "delivery_mbox_fmt.h"
#include "delivery_mbox_lock.h"
#include "log.h"
#include "util.h"

/* Spool bytes buffered before a write(2). */
#define SPOOL_BUF (64 * 1024)
/* Header bytes looked at for Return-Path before the From_ line is
 * written; a header block longer than that is quoted as it is. */
#define HEADER_MAX (64 * 1024)
/* Attempts at locking the file the path names, when it is replaced
 * between our open and our lock (a mail reader rewriting it). */
#define REOPEN_TRIES 5

#define FNV_BASIS 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

struct mbox {
	const struct account *acct;
	char *path;
	int timeout_s;
	int spool_fd;
	uint64_t spool_len;  /* bytes in the spool, buffered ones included */
	uint64_t flushed;    /* of which in the file */
	char *out;
	size_t outlen;
	/* the message being written (one at a time) */
	struct mbox_msg *cur;
	struct mbox_quote q;
	char *hdr;
	size_t hdrlen;
	int in_header;
	int synced_after_crash; /* has() fsynced the mbox already */
};

struct mbox_msg {
	uint64_t start, len, hash; /* in the spool */
	int committed;
};

static uint64_t fnv(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

static int io_error(struct pf_error *err, int e, const char *verb, const char *path)
{
	if (e == ENOSPC || e == EDQUOT)
		return pf_error_set(err, PF_ERR_LOCAL, "disk full writing %s (%s)", path,
				    strerror(e));
	return pf_error_errno(err, PF_ERR_LOCAL, e, "cannot %s %s", verb, path);
}

/* --- the spool ------------------------------------------------------------ */

static int spool_flush(struct mbox *mb, struct pf_error *err)
{
	size_t done = 0;

	while (done < mb->outlen) {
		ssize_t n = pwrite(mb->spool_fd, mb->out + done, mb->outlen - done,
				   (off_t)(mb->flushed + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return io_error(err, n < 0 ? errno : EIO, "write", "the mbox spool in state_dir");
		done += (size_t)n;
	}
	mb->flushed += mb->outlen;
	mb->outlen = 0;
	return 0;
}

struct out_ctx {
	struct mbox *mb;
	struct pf_error *err;
};

/* mbox_out_fn: into the spool, hashed on the way. */
static int spool_out(void *ctx, const void *buf, size_t len)
{
	struct out_ctx *oc = ctx;
	struct mbox *mb = oc->mb;
	const char *p = buf;

	mb->cur->hash = fnv(mb->cur->hash, buf, len);
	mb->spool_len += len;
	while (len > 0) {
		size_t k = SPOOL_BUF - mb->outlen < len ? SPOOL_BUF - mb->outlen : len;

		memcpy(mb->out + mb->outlen, p, k);
		mb->outlen += k;
		p += k;
		len -= k;
		if (mb->outlen == SPOOL_BUF && spool_flush(mb, oc->err) < 0)
			return -1;
	}
	return 0;
}

static int open_spool(const char *dir, struct pf_error *err)
{
	char *tmpl;
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		goto done;
	/* No O_TMPFILE there: a named file, unlinked at once. */
	tmpl = pf_join_path(dir, ".popfetch-spool-XXXXXX");
	if (tmpl == NULL) {
		errno = ENAMETOOLONG;
		goto done;
	}
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd >= 0)
		(void)unlink(tmpl);
	free(tmpl);
done:
	if (fd < 0)
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create the mbox spool in %s", dir);
	return fd;
}

/* --- opening the mbox ------------------------------------------------------ */

/* Opens (creating, 0600) the mbox without following a symlink. */
static int open_mbox(const struct mbox *mb, struct pf_error *err)
{
	struct stat st;
	int fd = open(mb->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 && errno == ELOOP)
		return pf_error_set(err, PF_ERR_LOCAL,
				    "cannot open mbox %s: it is a symlink, which is refused", mb->path);
	if (fd < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot open mbox %s", mb->path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pf_error_set(err, PF_ERR_LOCAL, "mbox %s is not a regular file", mb->path);
	}
	return fd;
}

/* Opens and locks the file the path names now: a reader that rewrote the
 * mbox by rename between our open and our lock left us the old file. */
static int open_locked(struct mbox *mb, struct mbox_lock *lk, struct pf_error *err)
{
	for (int i = 0; i < REOPEN_TRIES; i++) {
		struct stat a, b;
		int fd = open_mbox(mb, err);

		if (fd < 0)
			return -1;
		if (mbox_lock_take(lk, fd, mb->path, mb->timeout_s, err) < 0) {
			close(fd);
			return -1;
		}
		if (fstat(fd, &a) == 0 && stat(mb->path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return fd;
		mbox_lock_release(lk);
		close(fd);
	}
	return pf_error_set(err, PF_ERR_LOCAL, "mbox %s keeps being replaced; not appending",
			    mb->path);
}

static void unlock_close(struct mbox_lock *lk, int fd)
{
	mbox_lock_release(lk);
	close(fd);
}

/* Creates the mbox's folders (0700, DESIGN.md section 8) and the file
 * (0600) when missing, and makes what it created durable: an fsync of the
 * file later does not cover its name in the folder, nor a new folder's in
 * its parent.  So every folder from the mbox's up to the first one that
 * was there already is fsynced. */
static int create_path(struct mbox *mb, struct pf_error *err)
{
	char *dir = xstrdup(mb->path), *slash = strrchr(dir, '/'), *top;
	struct stat st;
	int fd, made_file, rc = -1;

	if (slash == NULL || slash == dir) {
		free(dir);
		return pf_error_set(err, PF_ERR_LOCAL, "mbox path '%s' is not absolute", mb->path);
	}
	*slash = '\0';
	/* The deepest folder that exists already: the fsyncs stop there. */
	top = xstrdup(dir);
	while (stat(top, &st) < 0 && strrchr(top, '/') != NULL && strrchr(top, '/') != top)
		*strrchr(top, '/') = '\0';
	made_file = stat(mb->path, &st) < 0 && errno == ENOENT;
	if (pf_mkdirs(dir, 0700) < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create %s", dir);
		goto out;
	}
	fd = open_mbox(mb, err);
	if (fd < 0)
		goto out;
	close(fd);
	rc = 0;
	if (!made_file && strcmp(top, dir) == 0)
		goto out; /* nothing was created */
	for (;;) {
		if (pf_fsync_dir(dir) < 0) {
			rc = pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot fsync %s", dir);
			break;
		}
		if (strlen(dir) <= strlen(top) || strrchr(dir, '/') == dir)
			break; /* top holds the entry of the highest folder made */
		*strrchr(dir, '/') = '\0';
	}
out:
	free(top);
	free(dir);
	return rc;
}

static void *mb_open(const struct config *cfg, const struct account *a, struct pf_error *err)
{
	struct mbox *mb = xcalloc(1, sizeof *mb);

	mb->acct = a;
	mb->path = xstrdup(a->mbox);
	mb->timeout_s = a->mbox_lock_timeout;
	mb->spool_fd = -1;
	if (create_path(mb, err) < 0)
		goto fail;
	mbox_lock_clear_stale(mb->path);
	mb->spool_fd = open_spool(cfg->state_dir, err);
	if (mb->spool_fd < 0)
		goto fail;
	mb->out = xmalloc(SPOOL_BUF);
	mb->hdr = xmalloc(HEADER_MAX);
	return mb;
fail:
	free(mb->path);
	free(mb);
	return NULL;
}

static void mb_close(void *d)
{
	struct mbox *mb = d;

	if (mb->spool_fd >= 0)
		close(mb->spool_fd);
	free(mb->out);
	free(mb->hdr);
	free(mb->path);
	free(mb);
}

/* --- messages -------------------------------------------------------------- */

static int mb_begin(void *d, struct delivery_item *it, struct pf_error *err)
{
	struct mbox *mb = d;
	struct mbox_msg *m;

	if (mb->cur != NULL)
		return pf_error_set(err, PF_ERR_INTERNAL, "mbox: a message begun before the last ended");
	m = xcalloc(1, sizeof *m);
	m->start = mb->spool_len;
	m->hash = FNV_BASIS;
	mb->cur = m;
	mbox_quote_init(&mb->q);
	mb->hdrlen = 0;
	mb->in_header = 1;
	it->impl = m;
	return 0;
}

/* The header block is complete (or as long as we look): the From_ line
 * with its sender, then the header quoted like the rest. */
static int start_body(struct mbox *mb, struct out_ctx *oc)
{
	char sender[MBOX_SENDER_MAX], line[MBOX_FROM_LINE_MAX];
	int n;

	mbox_sender(mb->hdr, mb->hdrlen, sender, sizeof sender);
	n = mbox_from_line(sender, time(NULL), line, sizeof line);
	if (n < 0)
		return pf_error_set(oc->err, PF_ERR_INTERNAL, "mbox: cannot format a From_ line");
	mb->in_header = 0;
	if (spool_out(oc, line, (size_t)n) < 0)
		return -1;
	return mbox_quote(&mb->q, mb->hdr, mb->hdrlen, spool_out, oc);
}

static int mb_write(void *d, struct delivery_item *it, const void *buf, size_t len,
		    struct pf_error *err)
{
	struct mbox *mb = d;
	struct out_ctx oc = { mb, err };
	const char *p = buf;

	if (mb->cur != it->impl)
		return pf_error_set(err, PF_ERR_INTERNAL, "mbox: write to a message not begun");
	if (mb->in_header) {
		size_t take = HEADER_MAX - mb->hdrlen < len ? HEADER_MAX - mb->hdrlen : len;

		memcpy(mb->hdr + mb->hdrlen, p, take);
		mb->hdrlen += take;
		p += take;
		len -= take;
		if (mb->hdrlen < HEADER_MAX && mbox_header_end(mb->hdr, mb->hdrlen) == 0)
			return 0;
		if (start_body(mb, &oc) < 0)
			return -1;
	}
	return mbox_quote(&mb->q, p, len, spool_out, &oc);
}

static int mb_end(void *d, struct delivery_item *it, uint64_t bytes, uint64_t lines,
		  struct pf_error *err)
{
	struct mbox *mb = d;
	struct out_ctx oc = { mb, err };
	struct mbox_msg *m = it->impl;

	(void)bytes, (void)lines;
	if (mb->cur != m)
		return pf_error_set(err, PF_ERR_INTERNAL, "mbox: end of a message not begun");
	if (mb->in_header && start_body(mb, &oc) < 0)
		return -1;
	if (mbox_quote_end(&mb->q, spool_out, &oc) < 0)
		return -1;
	m->len = mb->spool_len - m->start;
	mb->cur = NULL;
	return 0;
}

/* A message dropped before its commit leaves the spool: it is always the
 * last one written, so the spool ends where it began. */
static void mb_abort(void *d, struct delivery_item *it)
{
	struct mbox *mb = d;
	struct mbox_msg *m = it->impl;

	if (!m->committed && (mb->cur == m || m->start + m->len == mb->spool_len)) {
		mb->spool_len = m->start;
		if (m->start >= mb->flushed) {
			mb->outlen = (size_t)(m->start - mb->flushed);
		} else {
			mb->flushed = m->start;
			mb->outlen = 0;
		}
	}
	if (mb->cur == m)
		mb->cur = NULL;
	free(m);
}

/* --- the commit ------------------------------------------------------------ */

/* Bytes to write before the batch so that the mbox ends with a blank line
 * (the last message's end) and a From_ line starts a line: 0, 1 or 2. */
static int padding(int fd, uint64_t size, const char *path, struct pf_error *err)
{
	char tail[2];
	size_t k = size < 2 ? (size_t)size : 2;

	if (size == 0)
		return 0;
	if (pread(fd, tail, k, (off_t)(size - k)) != (ssize_t)k)
		return io_error(err, errno, "read", path);
	if (tail[k - 1] != '\n')
		return 2;
	return k == 2 && tail[0] == '\n' ? 0 : 1;
}

/* Copies len spool bytes at from into the mbox at to. */
static int copy_range(struct mbox *mb, int fd, uint64_t from, uint64_t to, uint64_t len,
		      struct pf_error *err)
{
	loff_t in = (loff_t)from, outp = (loff_t)to;
	uint64_t left = len;

	while (left > 0) {
		ssize_t n = copy_file_range(mb->spool_fd, &in, fd, &outp, left, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		left -= (uint64_t)n;
	}
	while (left > 0) {
		/* Where copy_file_range cannot (EXDEV before Linux 5.3, some
		 * file systems): through a buffer. */
		size_t k = left < SPOOL_BUF ? (size_t)left : SPOOL_BUF;
		ssize_t n = pread(mb->spool_fd, mb->out, k, in);

		if (n <= 0)
			return io_error(err, n < 0 ? errno : EIO, "read", "the mbox spool");
		if (pwrite(fd, mb->out, (size_t)n, outp) != n)
			return io_error(err, errno ? errno : EIO, "append to", mb->path);
		in += n;
		outp += n;
		left -= (uint64_t)n;
	}
	return 0;
}

/* Appends the batch at size0 and fsyncs; on failure cuts the file back
 * to size0 (a reader must never see half of it). */
static int append(struct mbox *mb, int fd, uint64_t size0, int pad,
		  struct delivery_item *items, size_t n, struct pf_error *err)
{
	uint64_t at = size0 + (uint64_t)pad;

	if (pad > 0 && pwrite(fd, "\n\n", (size_t)pad, (off_t)size0) != pad)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct mbox_msg *m = items[i].impl;
		uint64_t half = m->len / 2;

		/* In two parts with a crash point between: the crash tests
		 * prove that a torn message is cut back. */
		if (copy_range(mb, fd, m->start, at, half, err) < 0)
			goto fail;
		pf_step("mbox message half appended");
		if (copy_range(mb, fd, m->start + half, at + half, m->len - half, err) < 0)
			goto fail;
		pf_step("mbox message appended");
		at += m->len;
	}
	if (fsync(fd) < 0)
		goto fail;
	pf_step("mbox synced");
	return 0;
fail:
	io_error(err, errno ? errno : EIO, "append to", mb->path);
	if (ftruncate(fd, (off_t)size0) < 0 || fsync(fd) < 0)
		log_error("cannot cut %s back to %llu bytes after a failed append: %s", mb->path,
			  (unsigned long long)size0, strerror(errno));
	return -1;
}

/* Names every item after its place in the mbox (delivery_has reads them). */
static int name_items(struct delivery_item *items, size_t n, uint64_t at, struct pf_error *err)
{
	for (size_t i = 0; i < n; i++) {
		struct mbox_msg *m = items[i].impl;
		int k = snprintf(items[i].name, sizeof items[i].name, "mbox,O=%llu,L=%llu,H=%016llx",
				 (unsigned long long)at, (unsigned long long)m->len,
				 (unsigned long long)m->hash);

		if (k < 0 || (size_t)k >= sizeof items[i].name)
			return pf_error_set(err, PF_ERR_INTERNAL, "mbox: name too long");
		at += m->len;
	}
	return 0;
}

static int mb_commit(void *d, struct delivery_item *items, size_t n,
		     const struct delivery_journal *j, struct pf_error *err)
{
	struct mbox *mb = d;
	struct mbox_lock lk;
	struct stat st;
	int fd, pad, rc = -1;

	if (spool_flush(mb, err) < 0)
		return -1;
	fd = open_locked(mb, &lk, err);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		io_error(err, errno, "stat", mb->path);
		goto out;
	}
	pad = padding(fd, (uint64_t)st.st_size, mb->path, err);
	if (pad < 0 || name_items(items, n, (uint64_t)st.st_size + (uint64_t)pad, err) < 0)
		goto out;
	if (j->pending(j->ctx, items, n, err) < 0 ||
	    append(mb, fd, (uint64_t)st.st_size, pad, items, n, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		((struct mbox_msg *)items[i].impl)->committed = 1;
	rc = j->durable(j->ctx, items, n, err);
out:
	unlock_close(&lk, fd);
	/* Every message in the spool was in this commit: start it afresh. */
	mb->spool_len = mb->flushed = 0;
	mb->outlen = 0;
	if (ftruncate(mb->spool_fd, 0) < 0 && rc == 0)
		rc = io_error(err, errno, "truncate", "the mbox spool");
	return rc;
}

/* --- after a crash ----------------------------------------------------------- */

struct place {
	uint64_t off, len, hash;
};

/* "mbox,O=OFFSET,L=LENGTH,H=HASH" as name_items writes it. */
static int parse_name(const char *name, struct place *p)
{
	unsigned long long o, l, h;
	int end = 0;

	if (sscanf(name, "mbox,O=%llu,L=%llu,H=%16llx%n", &o, &l, &h, &end) != 3 ||
	    name[end] != '\0' || l == 0)
		return -1;
	p->off = o, p->len = l, p->hash = h;
	return 0;
}

/* Reads fd[off, off + len) in chunks, passing each to fn.  0 or -1. */
static int read_range(struct mbox *mb, int fd, uint64_t off, uint64_t len,
		      void (*fn)(void *ctx, const char *buf, size_t n), void *ctx,
		      struct pf_error *err)
{
	while (len > 0) {
		size_t k = len < SPOOL_BUF ? (size_t)len : SPOOL_BUF;
		ssize_t n = pread(fd, mb->out, k, (off_t)off);

		if (n <= 0)
			return io_error(err, n < 0 ? errno : EIO, "read", mb->path);
		fn(ctx, mb->out, (size_t)n);
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static void hash_chunk(void *ctx, const char *buf, size_t n)
{
	uint64_t *h = ctx;

	*h = fnv(*h, buf, n);
}

/* Whether bytes from a torn append of ours: they start as a From_ line
 * and no other line starts with "From " (mboxrd quoted every such line
 * of the message), so no other program's message follows. */
struct torn {
	uint64_t pos;
	size_t matched;
	int at_line_start, ours;
};

static void torn_chunk(void *ctx, const char *buf, size_t n)
{
	static const char from_[] = "From ";
	struct torn *t = ctx;

	for (size_t i = 0; i < n && t->ours; i++, t->pos++) {
		if (t->at_line_start && t->matched < 5) {
			if (buf[i] == from_[t->matched]) {
				if (++t->matched == 5 && t->pos != 4)
					t->ours = 0; /* a second From_ line */
				continue;
			}
			if (t->pos < 5)
				t->ours = 0; /* the first line is not a From_ line */
			t->at_line_start = 0;
		}
		if (buf[i] == '\n') {
			t->at_line_start = 1;
			t->matched = 0;
		} else if (t->matched == 5) {
			t->at_line_start = 0;
		}
	}
}

static int sync_once(struct mbox *mb, int fd, struct pf_error *err)
{
	if (mb->synced_after_crash)
		return 0;
	if (fsync(fd) < 0)
		return io_error(err, errno, "fsync", mb->path);
	mb->synced_after_crash = 1;
	return 0;
}

/* delivery_has for one place, the mbox open and locked. */
static int check_place(struct mbox *mb, int fd, const struct place *p, struct pf_error *err)
{
	struct torn t = { 0, 0, 1, 1 };
	struct stat st;
	uint64_t size, h = FNV_BASIS;

	if (fstat(fd, &st) < 0)
		return io_error(err, errno, "stat", mb->path);
	size = (uint64_t)st.st_size;
	if (p->off + p->len <= size) {
		if (read_range(mb, fd, p->off, p->len, hash_chunk, &h, err) < 0)
			return -1;
		if (h == p->hash)
			return sync_once(mb, fd, err) < 0 ? -1 : 1;
		log_warn("%s: the message journalled at offset %llu of %s is not there; "
			 "fetching it again", mb->acct->name, (unsigned long long)p->off, mb->path);
		return 0;
	}
	if (p->off >= size)
		return 0;
	if (read_range(mb, fd, p->off, size - p->off, torn_chunk, &t, err) < 0)
		return -1;
	if (!t.ours) {
		log_warn("%s: %s ends inside an interrupted append at offset %llu, but with "
			 "another program's data: left as it is", mb->acct->name, mb->path,
			 (unsigned long long)p->off);
		return 0;
	}
	if (ftruncate(fd, (off_t)p->off) < 0 || fsync(fd) < 0)
		return io_error(err, errno, "cut back", mb->path);
	log_info("%s: cut %s back to %llu bytes: an append was interrupted", mb->acct->name,
		 mb->path, (unsigned long long)p->off);
	return 0;
}

static int mb_has(void *d, const char *name, struct pf_error *err)
{
	struct mbox *mb = d;
	struct mbox_lock lk;
	struct place p;
	int fd, r;

	if (parse_name(name, &p) < 0) {
		/* A pending record from another destination (the account
		 * switched): it can only be fetched again. */
		log_verbose("%s: pending delivery %s is not an mbox one; fetching it again",
			    mb->acct->name, name);
		return 0;
	}
	/* check_place reads through mb->out: nothing buffered may be in it. */
	if (spool_flush(mb, err) < 0)
		return -1;
	fd = open_locked(mb, &lk, err);
	if (fd < 0)
		return -1;
	r = check_place(mb, fd, &p, err);
	unlock_close(&lk, fd);
	return r;
}

const struct delivery_ops delivery_mbox_ops = {
	.kind = "mbox",
	.open = mb_open,
	.has = mb_has,
	.msg_begin = mb_begin,
	.msg_write = mb_write,
	.msg_end = mb_end,
	.msg_abort = mb_abort,
	.commit = mb_commit,
	.close = mb_close,
};
