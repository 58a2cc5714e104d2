/* lmtp.c - see lmtp.h.
 *
 * A small buffered socket of its own (conn.c knows TCP and TLS but not
 * unix sockets, and LMTP runs over a local socket): non-blocking, poll(2)
 * with a deadline per reply line and per write, send(MSG_NOSIGNAL) so a
 * server that goes away is an error, never a SIGPIPE. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bounds.h"
#include "lmtp.h"
#include "log.h"
#include "util.h"

/* Bytes gathered before a write: a body goes out in chunks of this. */
#define LMTP_WBUF_SIZE (64 * 1024)
/* QUIT's reply is waited for this long at most: the delivery is over. */
#define LMTP_QUIT_WAIT_S 2

struct lmtp {
	int fd;
	int timeout_s;
	int pipelining;
	int broken;              /* unusable: no more commands */
	int started;             /* a message was begun before: RSET first */
	int in_data;             /* between DATA's 354 and the final dot */
	int bol;                 /* the body is at the start of a line */
	char rbuf[PF_LINE_MAX];
	size_t rpos, rlen;
	char wbuf[LMTP_WBUF_SIZE];
	size_t wlen;
	char line[PF_LINE_MAX];
};

/* --- the socket ----------------------------------------------------------- */

static int broken(struct lmtp *l, struct pf_error *err, int errnum, const char *what)
{
	l->broken = 1;
	if (errnum)
		return pf_error_errno(err, PF_ERR_LOCAL, errnum, "LMTP: %s", what);
	return pf_error_set(err, PF_ERR_LOCAL, "LMTP: %s", what);
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - pf_now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static int flush(struct lmtp *l, struct pf_error *err)
{
	int64_t deadline = pf_now_ms() + (int64_t)l->timeout_s * 1000;
	size_t off = 0;

	while (off < l->wlen) {
		ssize_t n = send(l->fd, l->wbuf + off, l->wlen - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t)n;
			/* Each write that makes progress earns a new deadline, as
			 * a message body may be large (DESIGN.md section 8). */
			deadline = pf_now_ms() + (int64_t)l->timeout_s * 1000;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return broken(l, err, errno, "write");
		if (wait_fd(l->fd, POLLOUT, deadline) <= 0)
			return broken(l, err, 0, "timed out writing to the server");
	}
	l->wlen = 0;
	return 0;
}

static int put(struct lmtp *l, const char *s, size_t n, struct pf_error *err)
{
	while (n > 0) {
		size_t room = sizeof l->wbuf - l->wlen, k = n < room ? n : room;

		memcpy(l->wbuf + l->wlen, s, k);
		l->wlen += k;
		s += k;
		n -= k;
		if (l->wlen == sizeof l->wbuf && flush(l, err) < 0)
			return -1;
	}
	return 0;
}

/* One line (CR LF or LF stripped) into l->line within the deadline. */
static int get_line(struct lmtp *l, int timeout_s, struct pf_error *err)
{
	int64_t deadline = pf_now_ms() + (int64_t)timeout_s * 1000;
	size_t len = 0;

	for (;;) {
		while (l->rpos < l->rlen) {
			char c = l->rbuf[l->rpos++];

			if (c == '\n') {
				len -= len > 0 && l->line[len - 1] == '\r';
				l->line[len] = '\0';
				return 0;
			}
			if (len == sizeof l->line - 1)
				return broken(l, err, 0, "reply line too long");
			l->line[len++] = c;
		}
		ssize_t n = recv(l->fd, l->rbuf, sizeof l->rbuf, 0);

		if (n > 0) {
			l->rpos = 0;
			l->rlen = (size_t)n;
		} else if (n == 0) {
			return broken(l, err, 0, "the server closed the connection");
		} else if (errno != EAGAIN && errno != EINTR) {
			return broken(l, err, errno, "read");
		} else if (wait_fd(l->fd, POLLIN, deadline) <= 0) {
			return broken(l, err, 0, "timed out waiting for a reply");
		}
	}
}

/* A whole reply (RFC 5321 section 4.2: "XYZ-" lines, then "XYZ ");
 * on_line, when set, sees each line's text after the code. */
static int read_reply_lines(struct lmtp *l, struct lmtp_reply *r, int timeout_s,
			    void (*on_line)(struct lmtp *, const char *), struct pf_error *err)
{
	for (int lines = 0; lines < LMTP_REPLY_LINES_MAX; lines++) {
		const char *s = l->line;
		int code;

		if (get_line(l, timeout_s, err) < 0)
			return -1;
		if (s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' ||
		    s[2] > '9' || (s[3] != ' ' && s[3] != '-' && s[3] != '\0'))
			return broken(l, err, 0, "malformed reply line");
		code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
		if (lines > 0 && code != r->code)
			return broken(l, err, 0, "reply code changed inside a reply");
		r->code = code;
		log_sanitize(r->text, sizeof r->text, s, strlen(s));
		if (on_line != NULL)
			on_line(l, s[3] ? s + 4 : s + 3);
		if (s[3] != '-')
			return 0;
	}
	return broken(l, err, 0, "reply of too many lines");
}

static int read_reply(struct lmtp *l, struct lmtp_reply *r, struct pf_error *err)
{
	return read_reply_lines(l, r, l->timeout_s, NULL, err);
}

/* --- connecting ----------------------------------------------------------- */

static int connect_addr(const struct sockaddr *sa, socklen_t salen, int timeout_s)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int64_t deadline = pf_now_ms() + (int64_t)timeout_s * 1000;
	int soerr = 0;
	socklen_t len = sizeof soerr;

	if (fd < 0)
		return -1;
	if (connect(fd, sa, salen) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EAGAIN)
		goto fail;
	if (wait_fd(fd, POLLOUT, deadline) <= 0) {
		errno = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0) {
		errno = soerr ? soerr : errno;
		goto fail;
	}
	return fd;
fail:
	soerr = errno;
	close(fd);
	errno = soerr;
	return -1;
}

static int open_unix(const char *path, int timeout_s, struct pf_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof sun.sun_path)
		return pf_error_set(err, PF_ERR_CONFIG, "LMTP: socket path too long: %s", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = connect_addr((struct sockaddr *)&sun, sizeof sun, timeout_s);
	if (fd < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "LMTP: connect to %s", path);
	return fd;
}

/* "HOST:PORT" or "[V6]:PORT" split into host and port (in buf). */
static int split_host_port(const char *target, char *buf, size_t cap, char **host_r,
			   char **port_r)
{
	char *colon;

	if (snprintf(buf, cap, "%s", target) >= (int)cap)
		return -1;
	colon = strrchr(buf, ':');
	if (colon == NULL || colon[1] == '\0' || colon == buf)
		return -1;
	*colon = '\0';
	*port_r = colon + 1;
	*host_r = buf;
	if (buf[0] == '[') {
		if (colon[-1] != ']')
			return -1;
		colon[-1] = '\0';
		*host_r = buf + 1;
	}
	return 0;
}

static int open_tcp(const char *target, int timeout_s, struct pf_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL;
	char buf[PF_NAME_MAX + 1], *host, *port;
	int fd = -1, rc, errnum = 0;

	if (split_host_port(target, buf, sizeof buf, &host, &port) < 0)
		return pf_error_set(err, PF_ERR_CONFIG, "LMTP: '%s' is neither unix:/PATH nor "
				    "HOST:PORT", target);
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return pf_error_set(err, PF_ERR_LOCAL, "LMTP: %s: %s", target, gai_strerror(rc));
	for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = connect_addr(ai->ai_addr, ai->ai_addrlen, timeout_s);
		if (fd < 0)
			errnum = errno;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errnum, "LMTP: connect to %s", target);
	return fd;
}

struct lmtp *lmtp_open_fd(int fd, int timeout_s)
{
	struct lmtp *l = xcalloc(1, sizeof *l);

	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	l->fd = fd;
	l->timeout_s = timeout_s;
	return l;
}

struct lmtp *lmtp_open(const char *target, int timeout_s, struct pf_error *err)
{
	int fd;

	if (strncmp(target, "unix:", 5) == 0)
		fd = open_unix(target + 5, timeout_s, err);
	else
		fd = open_tcp(target, timeout_s, err);
	return fd < 0 ? NULL : lmtp_open_fd(fd, timeout_s);
}

/* --- the session ---------------------------------------------------------- */

static int expect(struct lmtp *l, int want_class, const char *what, struct pf_error *err)
{
	struct lmtp_reply r = { 0 };

	if (read_reply(l, &r, err) < 0)
		return -1;
	if (r.code / 100 != want_class) {
		l->broken = 1;
		return pf_error_set(err, PF_ERR_LOCAL, "LMTP: %s refused: %s", what, r.text);
	}
	return 0;
}

/* An LHLO reply line naming an extension: PIPELINING (RFC 2920) is the
 * one we use. */
static void note_extension(struct lmtp *l, const char *text)
{
	if (strncasecmp(text, "PIPELINING", 10) == 0 && (text[10] == '\0' || text[10] == ' '))
		l->pipelining = 1;
}

static int read_lhlo(struct lmtp *l, struct pf_error *err)
{
	struct lmtp_reply r = { 0 };

	if (read_reply_lines(l, &r, l->timeout_s, note_extension, err) < 0)
		return -1;
	if (r.code / 100 != 2) {
		l->broken = 1;
		return pf_error_set(err, PF_ERR_LOCAL, "LMTP: LHLO refused: %s", r.text);
	}
	return 0;
}

int lmtp_hello(struct lmtp *l, const char *name, struct pf_error *err)
{
	char host[PF_NAME_MAX + 1] = "localhost", cmd[PF_NAME_MAX + 16];
	int n;

	if (name == NULL && gethostname(host, sizeof host) == 0)
		host[sizeof host - 1] = '\0';
	if (name == NULL)
		name = host;
	if (expect(l, 2, "the connection", err) < 0)
		return -1;
	n = snprintf(cmd, sizeof cmd, "LHLO %s\r\n", name);
	if (n < 0 || (size_t)n >= sizeof cmd)
		return pf_error_set(err, PF_ERR_INTERNAL, "LMTP: host name too long");
	if (put(l, cmd, (size_t)n, err) < 0 || flush(l, err) < 0)
		return -1;
	return read_lhlo(l, err);
}

/* --- one message ---------------------------------------------------------- */

/* Printable ASCII without blanks or angle brackets, bounded: anything else
 * would break or extend the command line. */
static int addr_ok(const char *a, int empty_ok)
{
	size_t n = strlen(a);

	if (n > LMTP_ADDR_MAX || (n == 0 && !empty_ok))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (a[i] <= 0x20 || a[i] >= 0x7F || a[i] == '<' || a[i] == '>')
			return 0;
	return 1;
}

static int put_cmd(struct lmtp *l, const char *verb, const char *addr, struct pf_error *err)
{
	char cmd[LMTP_ADDR_MAX + 32];
	int n = snprintf(cmd, sizeof cmd, "%s:<%s>\r\n", verb, addr);

	if (n < 0 || (size_t)n >= sizeof cmd)
		return pf_error_set(err, PF_ERR_INTERNAL, "LMTP: command too long");
	return put(l, cmd, (size_t)n, err);
}

/* The commands of one message into the write buffer: [RSET,] MAIL, RCPT,
 * DATA.  Without pipelining only the first is written here. */
static int send_step(struct lmtp *l, int step, const char *sender, const char *rcpt,
		     struct pf_error *err)
{
	switch (step) {
	case 0:
		return put(l, "RSET\r\n", 6, err);
	case 1:
		return put_cmd(l, "MAIL FROM", sender, err);
	case 2:
		return put_cmd(l, "RCPT TO", rcpt, err);
	default:
		return put(l, "DATA\r\n", 6, err);
	}
}

/* A server answered 354 to a DATA whose transaction had already failed
 * (pipelined, RFC 2920 section 3.1): end that empty body. */
static int close_empty_data(struct lmtp *l, struct pf_error *err)
{
	struct lmtp_reply r = { 0 };

	if (put(l, ".\r\n", 3, err) < 0 || flush(l, err) < 0)
		return -1;
	return read_reply(l, &r, err);
}

/* The replies to steps first..3, in order.  The first 4xx/5xx decides. */
static int read_steps(struct lmtp *l, int first, int pipelined, const char *sender,
		      const char *rcpt, struct lmtp_reply *r, struct pf_error *err)
{
	int refused = 0;

	for (int step = first; step <= 3; step++) {
		struct lmtp_reply got = { 0 };

		if (!pipelined && (send_step(l, step, sender, rcpt, err) < 0 || flush(l, err) < 0))
			return -1;
		if (read_reply(l, &got, err) < 0)
			return -1;
		if (step == 0 && got.code / 100 != 2) {
			l->broken = 1;
			return pf_error_set(err, PF_ERR_LOCAL, "LMTP: RSET refused: %s", got.text);
		}
		if (step == 3 && got.code == 354) {
			l->in_data = 1;
			if (refused)
				return close_empty_data(l, err) < 0 ? -1 : 1;
			return 0;
		}
		if (got.code / 100 == 4 || got.code / 100 == 5) {
			if (!refused)
				*r = got;
			refused = 1;
			if (!pipelined)
				return 1;
		} else if (got.code / 100 != 2 || step == 3) {
			l->broken = 1;
			return pf_error_set(err, PF_ERR_LOCAL, "LMTP: unexpected reply: %s", got.text);
		}
	}
	return 1; /* DATA itself refused: *r holds why */
}

int lmtp_begin(struct lmtp *l, const char *sender, const char *rcpt, struct lmtp_reply *r,
	       struct pf_error *err)
{
	int first = l->started ? 0 : 1, rc;

	if (!addr_ok(sender, 1) || !addr_ok(rcpt, 0))
		return pf_error_set(err, PF_ERR_CONFIG, "LMTP: unusable %s address",
				    addr_ok(rcpt, 0) ? "sender" : "recipient");
	if (l->broken || l->in_data)
		return pf_error_set(err, PF_ERR_LOCAL, "LMTP: the session is unusable");
	l->started = 1;
	if (l->pipelining) {
		for (int step = first; step <= 3; step++)
			if (send_step(l, step, sender, rcpt, err) < 0)
				return -1;
		if (flush(l, err) < 0)
			return -1;
	}
	rc = read_steps(l, first, l->pipelining, sender, rcpt, r, err);
	if (rc == 1)
		l->in_data = 0;
	l->bol = 1;
	return rc;
}

int lmtp_body(struct lmtp *l, const char *buf, size_t len, struct pf_error *err)
{
	const char *end = buf + len;

	if (!l->in_data || l->broken)
		return pf_error_set(err, PF_ERR_INTERNAL, "LMTP: body outside DATA");
	while (buf < end) {
		const char *nl = memchr(buf, '\n', (size_t)(end - buf));
		size_t run = nl != NULL ? (size_t)(nl - buf) : (size_t)(end - buf);

		/* RFC 5321 section 4.5.2: a line starting with '.' gets one more. */
		if (l->bol && run > 0 && buf[0] == '.' && put(l, ".", 1, err) < 0)
			return -1;
		if (put(l, buf, run, err) < 0)
			return -1;
		buf += run;
		l->bol = nl != NULL;
		if (nl != NULL) {
			if (put(l, "\r\n", 2, err) < 0)
				return -1;
			buf++;
		}
	}
	return 0;
}

int lmtp_end(struct lmtp *l, struct lmtp_reply *r, struct pf_error *err)
{
	if (!l->in_data || l->broken)
		return pf_error_set(err, PF_ERR_INTERNAL, "LMTP: end outside DATA");
	/* A body without a final line end gets one: the dot needs its own line. */
	if (!l->bol && put(l, "\r\n", 2, err) < 0)
		return -1;
	if (put(l, ".\r\n", 3, err) < 0 || flush(l, err) < 0)
		return -1;
	l->in_data = 0;
	memset(r, 0, sizeof *r);
	/* One reply per accepted recipient (RFC 2033 section 4.2); one here. */
	if (read_reply(l, r, err) < 0)
		return -1;
	return 0;
}

int lmtp_usable(const struct lmtp *l)
{
	return l != NULL && !l->broken && !l->in_data;
}

int lmtp_pipelining(const struct lmtp *l)
{
	return l->pipelining;
}

void lmtp_close(struct lmtp *l)
{
	struct pf_error err = { 0 };
	struct lmtp_reply r = { 0 };

	if (l == NULL)
		return;
	/* Mid-body a QUIT would be message text: just close, and the server
	 * drops the unfinished message. */
	if (lmtp_usable(l) && put(l, "QUIT\r\n", 6, &err) == 0 && flush(l, &err) == 0)
		(void)read_reply_lines(l, &r, LMTP_QUIT_WAIT_S, NULL, &err);
	close(l->fd);
	free(l);
}
