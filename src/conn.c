/* conn.c - see conn.h.  TCP connect, deadlines, the read buffer and the
 * bounded line reader; the OpenSSL side lives in conn_tls.c.
 *
 * The socket is non-blocking from the start and every wait goes through
 * poll() against a deadline on the monotonic clock, so a server that
 * trickles a byte just inside any per-call timeout is still cut off
 * (CVE-2011-1947 class). */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "util.h"

#include "conn.h"
#include "conn_tls.h"

struct conn {
	int fd;
	int timeout_s;
	int broken;            /* conn_starttls failed: no more I/O */
	char *host;            /* as given to conn_open, for messages */
	struct conn_tls *tls;  /* NULL until conn_starttls succeeds */
	/* conn_transfer_begin: the overall bound of a body or listing. */
	unsigned long min_rate;
	int in_transfer;
	int64_t xfer_start_ms;
	uint64_t xfer_bytes;
	/* Unread bytes are buf[rpos..wpos).  getline and peek share it. */
	size_t rpos, wpos;
	char buf[PF_IOBUF_SIZE];
};

/* --- waiting ------------------------------------------------------------ */

/* conn_request_stop: the CLOCK_MONOTONIC second at which every wait ends
 * (0: no stop).  Seconds, so that it fits a sig_atomic_t. */
static volatile sig_atomic_t stop_at_s;

void conn_request_stop(void)
{
	struct timespec ts;

	if (stop_at_s != 0 || clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return;
	/* Rounded up: at least the whole grace, at most a second more. */
	stop_at_s = (sig_atomic_t)(ts.tv_sec + 1 + CONN_STOP_GRACE_S);
}

static int64_t stop_deadline(void)
{
	return stop_at_s != 0 ? (int64_t)stop_at_s * 1000 : INT64_MAX;
}

static int64_t deadline_after(int timeout_s)
{
	return pf_now_ms() + (int64_t)timeout_s * 1000;
}

/* Waits until fd is ready for events.  1 ready (or in error: the next
 * read or write reports it), 0 deadline (or a stop's) passed, -1 with
 * errno.  A stop request interrupts poll() (EINTR), so it is seen at
 * once. */
static int poll_until(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t end = deadline < stop_deadline() ? deadline : stop_deadline();
		int64_t left = end - pf_now_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
		/* r == 0 or EINTR: the loop re-checks the deadline */
	}
}

/* --- the overall bound of a transfer -------------------------------------- */

void conn_set_min_rate(struct conn *c, unsigned long bytes_per_s)
{
	c->min_rate = bytes_per_s > 0 ? bytes_per_s : 1;
}

void conn_transfer_begin(struct conn *c)
{
	c->in_transfer = 1;
	c->xfer_start_ms = pf_now_ms();
	c->xfer_bytes = 0;
}

void conn_transfer_end(struct conn *c)
{
	c->in_transfer = 0;
}

/* When the transfer falls below min_rate: the grace of one timeout, or
 * later as far as the bytes read so far have earned. */
static int64_t transfer_deadline(const struct conn *c)
{
	int64_t grace = (int64_t)c->timeout_s * 1000;
	uint64_t earned = c->xfer_bytes / c->min_rate * 1000 +
			  c->xfer_bytes % c->min_rate * 1000 / c->min_rate;

	if (!c->in_transfer)
		return INT64_MAX;
	if (earned > (uint64_t)INT64_MAX / 2)
		earned = (uint64_t)INT64_MAX / 2;
	return c->xfer_start_ms + (grace > (int64_t)earned ? grace : (int64_t)earned);
}

/* The transfer's bound passed.  Nothing at all in that time is a plain
 * stall, reported as the timeout it also is. */
static int too_slow(const struct conn *c, const char *what, struct pf_error *err)
{
	if (c->xfer_bytes == 0)
		return pf_error_set(err, PF_ERR_NET, "%s %s timed out after %d s", what, c->host,
				    c->timeout_s);
	return pf_error_set(err, PF_ERR_NET, "%s sent %llu bytes in %lld s, less than min_rate "
			    "(%lu bytes a second): giving up", c->host,
			    (unsigned long long)c->xfer_bytes,
			    (long long)((pf_now_ms() - c->xfer_start_ms) / 1000), c->min_rate);
}

/* poll_until with the error sentence for what ended the wait: a stop
 * request, the transfer's bound (bound: INT64_MAX for none), or the
 * deadline ("<what> <host> timed out after N s"). */
static int await_bounded(struct conn *c, short events, int64_t deadline, int64_t bound,
			 const char *what, enum pf_errclass timeout_cls, struct pf_error *err)
{
	int r = poll_until(c->fd, events, bound < deadline ? bound : deadline);
	int64_t now = pf_now_ms();

	if (r > 0)
		return 0;
	if (r < 0)
		return pf_error_errno(err, PF_ERR_NET, errno, "waiting for %s: poll", c->host);
	if (now >= stop_deadline())
		return pf_error_set(err, PF_ERR_NET, "%s %s: stopped on request", what, c->host);
	if (now >= bound)
		return too_slow(c, what, err);
	return pf_error_set(err, timeout_cls, "%s %s timed out after %d s", what, c->host,
			    c->timeout_s);
}

static int await(struct conn *c, short events, int64_t deadline, const char *what,
		 enum pf_errclass timeout_cls, struct pf_error *err)
{
	return await_bounded(c, events, deadline, INT64_MAX, what, timeout_cls, err);
}

/* --- connecting --------------------------------------------------------- */

static int resolve(const char *host, const char *port, struct addrinfo **res_r,
		   struct pf_error *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	int r = getaddrinfo(host, port, &hints, res_r);

	if (r == 0)
		return 0;
	*res_r = NULL;
	if (r == EAI_SYSTEM)
		return pf_error_errno(err, PF_ERR_NET, errno, "cannot resolve %s", host);
	return pf_error_set(err, PF_ERR_NET, "cannot resolve %s: %s", host, gai_strerror(r));
}

/* Waits for a non-blocking connect to finish.  0, or -1 with *errno_r
 * (0 when the deadline passed). */
static int wait_connected(int fd, int64_t deadline, int *errno_r)
{
	int soerr = 0;
	socklen_t len = sizeof soerr;
	int r = poll_until(fd, POLLOUT, deadline);

	if (r <= 0) {
		*errno_r = r == 0 ? 0 : errno;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	*errno_r = soerr;
	return soerr == 0 ? 0 : -1;
}

/* One address.  The connected non-blocking socket, or -1 with *errno_r
 * (0 when the deadline passed). */
static int connect_one(const struct addrinfo *ai, int64_t deadline, int *errno_r)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol), one = 1;

	if (fd < 0) {
		*errno_r = errno;
		return -1;
	}
	/* Commands are written whole (a pipelined window is one write), so
	 * Nagle could only hold the next one back for a round trip. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	/* EINTR: the connect goes on asynchronously, as with EINPROGRESS. */
	if (errno == EINPROGRESS || errno == EINTR) {
		if (wait_connected(fd, deadline, errno_r) == 0)
			return fd;
	} else {
		*errno_r = errno;
	}
	close(fd);
	return -1;
}

/* Tries every address in turn; they all share one deadline. */
static int connect_any(const struct addrinfo *res, const char *host, const char *port,
		       int64_t deadline, int timeout_s, struct pf_error *err)
{
	const struct addrinfo *ai;
	int last = 0;

	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int fd = connect_one(ai, deadline, &last);

		if (fd >= 0)
			return fd;
		if (last == 0)
			break; /* out of time: the other addresses get none either */
	}
	if (last == 0)
		return pf_error_set(err, PF_ERR_NET, "connect to %s port %s: timed out after %d s", host,
				    port, timeout_s);
	return pf_error_errno(err, PF_ERR_NET, last, "connect to %s port %s", host, port);
}

struct conn *conn_open(const char *host, const char *port, int timeout_s, struct pf_error *err)
{
	/* getaddrinfo blocks on its own timeouts; whatever it uses counts
	 * against the connect deadline. */
	int64_t deadline = deadline_after(timeout_s);
	struct addrinfo *res;
	struct conn *c;
	int fd;

	if (resolve(host, port, &res, err) < 0)
		return NULL;
	fd = connect_any(res, host, port, deadline, timeout_s, err);
	freeaddrinfo(res);
	if (fd < 0)
		return NULL;
	c = xmalloc(sizeof *c);
	c->fd = fd;
	c->timeout_s = timeout_s;
	c->broken = 0;
	c->host = xstrdup(host);
	c->tls = NULL;
	c->rpos = c->wpos = 0;
	c->min_rate = PF_MIN_RATE_DEFAULT;
	c->in_transfer = 0;
	c->xfer_start_ms = 0;
	c->xfer_bytes = 0;
	return c;
}

/* --- raw I/O: plaintext or TLS ------------------------------------------ */

static ssize_t io_read(struct conn *c, char *dst, size_t n, short *events_r, struct pf_error *err)
{
	ssize_t r;

	if (c->tls != NULL)
		return conn_tls_read(c->tls, dst, n, events_r, err);
	do
		r = recv(c->fd, dst, n, 0);
	while (r < 0 && errno == EINTR);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		*events_r = POLLIN;
		return CONN_IO_AGAIN;
	}
	return pf_error_errno(err, PF_ERR_NET, errno, "reading from %s", c->host);
}

static ssize_t io_write(struct conn *c, const char *src, size_t n, short *events_r,
			struct pf_error *err)
{
	ssize_t r;

	if (c->tls != NULL)
		return conn_tls_write(c->tls, src, n, events_r, err);
	/* MSG_NOSIGNAL: a reset connection is EPIPE, never a SIGPIPE that
	 * would kill the process mid-poll. */
	do
		r = send(c->fd, src, n, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		return r;
	if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
		*events_r = POLLOUT;
		return CONN_IO_AGAIN;
	}
	return pf_error_errno(err, PF_ERR_NET, errno, "writing to %s", c->host);
}

static int check_usable(const struct conn *c, struct pf_error *err)
{
	if (!c->broken)
		return 0;
	return pf_error_set(err, PF_ERR_NET, "the connection to %s is unusable after a failed TLS setup",
			    c->host);
}

/* Adds what the TLS layer has buffered already (a record read ahead), so
 * a caller gets large chunks: one write to disk per chunk, not per
 * record.  Errors and end of stream are left for the next read. */
static void fill_buffered(struct conn *c)
{
	while (c->tls != NULL && c->wpos < sizeof c->buf && conn_tls_has_pending(c->tls)) {
		short events = POLLIN;
		struct pf_error ignored = { 0 };
		ssize_t r = io_read(c, c->buf + c->wpos, sizeof c->buf - c->wpos, &events,
				    &ignored);

		if (r <= 0)
			return;
		c->wpos += (size_t)r;
		c->xfer_bytes += (uint64_t)r;
	}
}

/* Reads at least one more byte into buf[wpos..), which must have room,
 * by the deadline, within the transfer's bound and before a stop's. */
static int fill(struct conn *c, int64_t deadline, const char *what, struct pf_error *err)
{
	for (;;) {
		int64_t bound = transfer_deadline(c);
		short events = POLLIN;
		ssize_t r;

		/* Also checked when bytes are ready: a trickle may always have
		 * its next byte there, and a stop must end a fast transfer of a
		 * large message too. */
		if (pf_now_ms() >= stop_deadline())
			return pf_error_set(err, PF_ERR_NET, "%s %s: stopped on request", what,
					    c->host);
		if (pf_now_ms() >= bound)
			return too_slow(c, what, err);
		r = io_read(c, c->buf + c->wpos, sizeof c->buf - c->wpos, &events, err);
		if (r > 0) {
			c->wpos += (size_t)r;
			c->xfer_bytes += (uint64_t)r;
			fill_buffered(c);
			return 0;
		}
		if (r == 0)
			return pf_error_set(err, PF_ERR_NET, "connection closed by server %s", c->host);
		if (r != CONN_IO_AGAIN)
			return -1;
		if (await_bounded(c, events, deadline, bound, what, PF_ERR_NET, err) < 0)
			return -1;
	}
}

/* --- the public verbs --------------------------------------------------- */

static int handshake(struct conn *c, const struct conn_tls_opts *opts, struct pf_error *err)
{
	int64_t deadline = deadline_after(c->timeout_s);

	/* RFC 2595 section 4 / CVE-2021-39272 class: anything already here was
	 * sent in plaintext and could be injected by a man in the middle. */
	if (conn_pending(c) > 0)
		return pf_error_set(err, PF_ERR_TLS,
				    "server sent data before the TLS handshake (possible injection attack)");
	c->tls = conn_tls_new(c->fd, c->host, opts, err);
	if (c->tls == NULL)
		return -1;
	for (;;) {
		short events = POLLIN;
		int r = conn_tls_handshake(c->tls, &events, err);

		if (r != 0)
			return r > 0 ? 0 : -1;
		if (await(c, events, deadline, "TLS handshake with", PF_ERR_TLS, err) < 0)
			return -1;
	}
}

int conn_starttls(struct conn *c, const struct conn_tls_opts *opts, struct pf_error *err)
{
	if (check_usable(c, err) < 0)
		return -1;
	if (c->tls != NULL)
		return pf_error_set(err, PF_ERR_INTERNAL, "TLS is already active on the connection to %s",
				    c->host);
	if (handshake(c, opts, err) == 0)
		return 0;
	/* TLS was wanted and is not there (or half there): the stream is
	 * unusable, and nothing may be sent in plaintext now. */
	conn_tls_free(c->tls);
	c->tls = NULL;
	c->broken = 1;
	return -1;
}

int conn_write(struct conn *c, const void *buf, size_t len, struct pf_error *err)
{
	int64_t deadline = deadline_after(c->timeout_s);
	const char *p = buf;

	if (check_usable(c, err) < 0)
		return -1;
	while (len > 0) {
		short events = POLLOUT;
		/* On CONN_IO_AGAIN the retry passes the same p and len, as
		 * SSL_write requires. */
		ssize_t r = io_write(c, p, len, &events, err);

		if (r > 0) {
			p += r;
			len -= (size_t)r;
		} else if (r != CONN_IO_AGAIN ||
			   await(c, events, deadline, "writing to", PF_ERR_NET, err) < 0) {
			return -1;
		}
	}
	return 0;
}

/* The longest line content (without CR LF) a caller with cap can get:
 * cap-1 for the NUL, and never more than the buffer holds with CR LF. */
static size_t line_limit(size_t cap)
{
	size_t limit = cap - 1;

	return limit < PF_IOBUF_SIZE - 2 ? limit : PF_IOBUF_SIZE - 2;
}

static int too_long(size_t limit, struct pf_error *err)
{
	return pf_error_set(err, PF_ERR_PROTO, "server sent a line longer than %zu bytes", limit);
}

/* Copies the line that ends at lf out of the buffer and consumes it. */
static int take_line(struct conn *c, const char *lf, char *buf, size_t limit, size_t *len_r,
		     struct pf_error *err)
{
	size_t n = (size_t)(lf - (c->buf + c->rpos));
	size_t used = n + 1;

	if (n > 0 && lf[-1] == '\r')
		n--;
	if (n > limit)
		return too_long(limit, err);
	memcpy(buf, c->buf + c->rpos, n);
	buf[n] = '\0';
	*len_r = n;
	conn_consume(c, used);
	return 0;
}

int conn_getline(struct conn *c, char *buf, size_t cap, size_t *len_r, struct pf_error *err)
{
	/* One deadline for the whole line, not per read. */
	int64_t deadline = deadline_after(c->timeout_s);
	size_t limit, scanned = 0; /* bytes from rpos known to hold no LF */
	const char *lf;

	*len_r = 0;
	if (cap == 0)
		return pf_error_set(err, PF_ERR_INTERNAL, "conn_getline called without a buffer");
	limit = line_limit(cap);
	if (check_usable(c, err) < 0)
		return -1;
	for (;;) {
		lf = memchr(c->buf + c->rpos + scanned, '\n', c->wpos - c->rpos - scanned);
		if (lf != NULL)
			return take_line(c, lf, buf, limit, len_r, err);
		scanned = c->wpos - c->rpos;
		/* limit + 1: the last byte may be the CR of a CR LF. */
		if (scanned > limit + 1)
			return too_long(limit, err);
		if (c->wpos == sizeof c->buf) {
			/* scanned <= PF_IOBUF_SIZE - 1, so this makes room */
			memmove(c->buf, c->buf + c->rpos, scanned);
			c->rpos = 0;
			c->wpos = scanned;
		}
		if (fill(c, deadline, "reading a line from", err) < 0)
			return -1;
	}
}

int conn_peek(struct conn *c, const char **data_r, size_t *len_r, struct pf_error *err)
{
	*data_r = NULL;
	*len_r = 0;
	if (check_usable(c, err) < 0)
		return -1;
	if (c->rpos == c->wpos) {
		/* Idle timeout: a body may take as long as it keeps flowing. */
		c->rpos = c->wpos = 0;
		if (fill(c, deadline_after(c->timeout_s), "reading from", err) < 0)
			return -1;
	}
	*data_r = c->buf + c->rpos;
	*len_r = c->wpos - c->rpos;
	return 0;
}

void conn_consume(struct conn *c, size_t n)
{
	size_t avail = c->wpos - c->rpos;

	c->rpos += n < avail ? n : avail;
	if (c->rpos == c->wpos)
		c->rpos = c->wpos = 0; /* empty: the next read gets the whole buffer */
}

size_t conn_pending(const struct conn *c)
{
	return c->wpos - c->rpos + (c->tls != NULL ? conn_tls_buffered(c->tls) : 0);
}

int conn_is_tls(const struct conn *c)
{
	return c->tls != NULL;
}

const char *conn_tls_desc(const struct conn *c)
{
	return c->tls != NULL ? conn_tls_describe(c->tls) : "no TLS";
}

struct stack_st_X509 *conn_peer_chain(const struct conn *c, long *verify_r)
{
	*verify_r = -1;
	return c->tls != NULL ? conn_tls_peer_chain(c->tls, verify_r) : NULL;
}

void conn_close(struct conn *c)
{
	if (c == NULL)
		return;
	conn_tls_free(c->tls);
	if (c->fd >= 0)
		close(c->fd);
	free(c->host);
	free(c);
}
