/* test_lmtp.c - the LMTP client against a scripted server (a forked child
 * on the other end of a socketpair or a listening socket): LHLO and
 * PIPELINING, one write per message when pipelining and one command per
 * reply without, RSET between messages, dot stuffing and CRLF at any
 * chunk split, the recipient's 2xx/4xx/5xx after DATA, refusals before
 * DATA, hostile replies (too long, too many lines, silence), closing in
 * the middle of a body, and addresses that would inject a command. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lmtp.h"
#include "util.h"

/* --- the scripted server ------------------------------------------------- */

/* Script steps, one string each:
 *   "S:text"  the server sends text CRLF;
 *   "C:text"  the next line from the client must be exactly text CRLF;
 *   "Q"       from here on, before each S the client must have sent
 *             nothing more (it waits for replies: no pipelining);
 *   "E"       the client closes the connection without sending more;
 *   "D"       whatever the client still sends up to its close holds no
 *             line "." and no QUIT. */
struct server {
	int fd;
	char buf[1 << 16];
	size_t len;
	int strict;
};

static void srv_fail(const char *what, const char *a, const char *b)
{
	fprintf(stderr, "server: %s '%s' '%s'\n", what, a, b);
	_exit(1);
}

/* The next client line with its CRLF, or NULL at EOF. */
static const char *srv_line(struct server *s, size_t *len_r)
{
	static char line[1 << 16];
	char *nl;

	while ((nl = memchr(s->buf, '\n', s->len)) == NULL) {
		ssize_t n = read(s->fd, s->buf + s->len, sizeof s->buf - s->len);

		if (n <= 0)
			return NULL;
		s->len += (size_t)n;
	}
	*len_r = (size_t)(nl - s->buf) + 1;
	memcpy(line, s->buf, *len_r);
	line[*len_r] = '\0';
	memmove(s->buf, nl + 1, s->len - *len_r);
	s->len -= *len_r;
	return line;
}

static void srv_expect(struct server *s, const char *want)
{
	char full[4096];
	size_t len;
	const char *got;

	snprintf(full, sizeof full, "%s\r\n", want);
	got = srv_line(s, &len);
	if (got == NULL)
		srv_fail("expected, got EOF:", want, "");
	if (strcmp(got, full) != 0)
		srv_fail("expected, got:", want, got);
}

static void srv_send(struct server *s, const char *text)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	char full[70000];
	int n = snprintf(full, sizeof full, "%s\r\n", text);

	if (s->strict && (s->len > 0 || poll(&p, 1, 100) > 0))
		srv_fail("the client sent more before the reply", text, "");
	/* A client that gave up (too many lines) may have closed already: what
	 * it does next is judged by the following steps. */
	if (n < 0 || (write(s->fd, full, (size_t)n) != n && errno != EPIPE && errno != ECONNRESET))
		srv_fail("write failed for", text, "");
}

static void srv_run(int fd, const char *const *script)
{
	struct server *s = calloc(1, sizeof *s);
	size_t len;

	s->fd = fd;
	for (; *script != NULL; script++) {
		const char *st = *script;

		if (st[0] == 'S')
			srv_send(s, st + 2);
		else if (st[0] == 'C')
			srv_expect(s, st + 2);
		else if (st[0] == 'Q')
			s->strict = 1;
		else if (st[0] == 'E' && srv_line(s, &len) != NULL)
			srv_fail("expected EOF, got more", "", "");
		else if (st[0] == 'D')
			for (const char *l; (l = srv_line(s, &len)) != NULL;)
				if (strcmp(l, ".\r\n") == 0 || strcmp(l, "QUIT\r\n") == 0)
					srv_fail("got in a cut body:", l, "");
	}
	_exit(0);
}

struct pair {
	pid_t pid;
	struct lmtp *l;
};

static struct pair start(const char *const *script, int timeout_s)
{
	int sv[2];
	struct pair p;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	p.pid = fork();
	assert_true(p.pid >= 0);
	if (p.pid == 0) {
		close(sv[0]);
		srv_run(sv[1], script);
	}
	close(sv[1]);
	p.l = lmtp_open_fd(sv[0], timeout_s);
	return p;
}

/* Waits for the server: it must have followed its script to the end. */
static void finish(struct pair *p)
{
	int status;

	lmtp_close(p->l);
	assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the scripted server saw something else (see above)");
}

static void hello_ok(struct pair *p)
{
	struct pf_error err = { 0 };

	if (lmtp_hello(p->l, "client.test", &err) < 0)
		fail_msg("hello: %s", err.msg);
}

/* Sends one message given in chunks of step bytes; returns the final code. */
static int deliver(struct lmtp *l, const char *body, size_t step)
{
	struct pf_error err = { 0 };
	struct lmtp_reply r = { 0 };
	size_t len = strlen(body);
	int rc = lmtp_begin(l, "sender@example.org", "me", &r, &err);

	if (rc < 0)
		fail_msg("begin: %s", err.msg);
	if (rc == 1)
		return r.code;
	for (size_t off = 0; off < len; off += step)
		if (lmtp_body(l, body + off, len - off < step ? len - off : step, &err) < 0)
			fail_msg("body: %s", err.msg);
	if (lmtp_end(l, &r, &err) < 0)
		fail_msg("end: %s", err.msg);
	return r.code;
}

#define GREETING "S:220 lmtp.test Dovecot ready.", "C:LHLO client.test"
#define LHLO_PIPELINING "S:250-lmtp.test", "S:250-8BITMIME", "S:250-PIPELINING", \
	"S:250 ENHANCEDSTATUSCODES"

/* The body used below: a dot line, dot-started lines, an empty line and no
 * final line end. */
static const char body[] = "Subject: t\n\n.\n..x\n.y\nlast";
#define BODY_LINES "C:Subject: t", "C:", "C:..", "C:...x", "C:..y", "C:last", "C:."

/* --- tests ---------------------------------------------------------------- */

static void pipelined__two_messages_one_write_each(void **state)
{
	/* Every command of a message arrives before the first reply: a client
	 * that waited for MAIL's reply would hang here until its timeout. */
	const char *const script[] = {
		GREETING, LHLO_PIPELINING,
		"C:MAIL FROM:<sender@example.org>", "C:RCPT TO:<me>", "C:DATA",
		"S:250 2.1.0 Sender OK", "S:250 2.1.5 OK", "S:354 OK",
		BODY_LINES, "S:250 2.0.0 <me> Saved",
		"C:RSET", "C:MAIL FROM:<sender@example.org>", "C:RCPT TO:<me>", "C:DATA",
		"S:250 OK", "S:250 OK", "S:250 OK", "S:354 OK",
		BODY_LINES, "S:250 2.0.0 <me> Saved",
		"C:QUIT", "S:221 Bye", "E", NULL,
	};
	struct pair p = start(script, 2);

	(void)state;
	hello_ok(&p);
	assert_true(lmtp_pipelining(p.l));
	assert_int_equal(deliver(p.l, body, sizeof body), 250);
	/* The second time one byte a chunk: stuffing must not depend on
	 * where chunks split. */
	assert_int_equal(deliver(p.l, body, 1), 250);
	finish(&p);
}

static void unpipelined__one_command_per_reply(void **state)
{
	const char *const script[] = {
		"S:220 ready", "C:LHLO client.test", "S:250-lmtp.test", "S:250 8BITMIME", "Q",
		"C:MAIL FROM:<sender@example.org>", "S:250 OK", "C:RCPT TO:<me>", "S:250 OK",
		"C:DATA", "S:354 go", BODY_LINES, "S:250 Saved",
		"C:RSET", "S:250 OK", "C:MAIL FROM:<sender@example.org>", "S:250 OK",
		"C:RCPT TO:<me>", "S:250 OK", "C:DATA", "S:354 go", BODY_LINES, "S:250 Saved",
		"C:QUIT", "S:221 Bye", "E", NULL,
	};
	struct pair p = start(script, 2);

	(void)state;
	hello_ok(&p);
	assert_false(lmtp_pipelining(p.l));
	assert_int_equal(deliver(p.l, body, 7), 250);
	assert_int_equal(deliver(p.l, body, 3), 250);
	finish(&p);
}

static void after_data__4xx_and_5xx_are_returned(void **state)
{
	const char *const script[] = {
		GREETING, LHLO_PIPELINING,
		"C:MAIL FROM:<sender@example.org>", "C:RCPT TO:<me>", "C:DATA",
		"S:250 OK", "S:250 OK", "S:354 OK", BODY_LINES,
		"S:452 4.2.2 <me> Quota exceeded (mailbox for user is full)",
		"C:RSET", "C:MAIL FROM:<sender@example.org>", "C:RCPT TO:<me>", "C:DATA",
		"S:250 OK", "S:250 OK", "S:250 OK", "S:354 OK", BODY_LINES,
		"S:552 5.2.2 <me> too big",
		"C:QUIT", "S:221 Bye", "E", NULL,
	};
	struct pair p = start(script, 2);

	(void)state;
	hello_ok(&p);
	assert_int_equal(deliver(p.l, body, 5), 452);
	assert_true(lmtp_usable(p.l));
	assert_int_equal(deliver(p.l, body, 5), 552);
	finish(&p);
}

static void before_data__refusal_leaves_the_session_usable(void **state)
{
	/* Pipelined: RCPT refused, DATA answered 503; then a 4xx RCPT when
	 * one command at a time is not possible to tell apart, and a message
	 * that goes through after both. */
	const char *const script[] = {
		GREETING, LHLO_PIPELINING,
		"C:MAIL FROM:<sender@example.org>", "C:RCPT TO:<me>", "C:DATA",
		"S:250 OK", "S:550 5.1.1 <me> User doesn't exist", "S:503 5.5.1 No valid recipients",
		"C:RSET", "C:MAIL FROM:<sender@example.org>", "C:RCPT TO:<me>", "C:DATA",
		"S:250 OK", "S:250 OK", "S:451 4.3.0 <me> Temporary failure", "S:503 No recipients",
		"C:RSET", "C:MAIL FROM:<sender@example.org>", "C:RCPT TO:<me>", "C:DATA",
		"S:250 OK", "S:250 OK", "S:250 OK", "S:354 OK", BODY_LINES, "S:250 Saved",
		"C:QUIT", "S:221 Bye", "E", NULL,
	};
	struct pair p = start(script, 2);

	(void)state;
	hello_ok(&p);
	assert_int_equal(deliver(p.l, body, 100), 550);
	assert_int_equal(deliver(p.l, body, 100), 451);
	assert_int_equal(deliver(p.l, body, 100), 250);
	finish(&p);
}

static void refused_then_354__empty_body_is_ended(void **state)
{
	/* A server that says 354 although RCPT failed gets an empty body
	 * ended, so the session stays in step. */
	const char *const script[] = {
		GREETING, LHLO_PIPELINING,
		"C:MAIL FROM:<sender@example.org>", "C:RCPT TO:<me>", "C:DATA",
		"S:250 OK", "S:550 no such user", "S:354 go on", "C:.", "S:554 no valid recipients",
		"C:QUIT", "S:221 Bye", "E", NULL,
	};
	struct pair p = start(script, 2);

	(void)state;
	hello_ok(&p);
	assert_int_equal(deliver(p.l, body, 100), 550);
	assert_true(lmtp_usable(p.l));
	finish(&p);
}

static void greeting__refused(void **state)
{
	const char *const script[] = { "S:421 4.3.2 Shutting down", "E", NULL };
	struct pair p = start(script, 2);
	struct pf_error err = { 0 };

	(void)state;
	assert_int_equal(lmtp_hello(p.l, "client.test", &err), -1);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	assert_non_null(strstr(err.msg, "421"));
	finish(&p);
}

static void hostile__long_line_many_lines_garbage(void **state)
{
	static char longline[8000];
	const char *many[LMTP_REPLY_LINES_MAX + 4];
	const char *const garbage[] = { "S:hello there", "E", NULL };
	struct pf_error err = { 0 };
	struct pair p;
	size_t i;

	(void)state;
	memset(longline, 'x', sizeof longline - 1);
	memcpy(longline, "S:220 ", 6);
	{
		const char *const script[] = { longline, "E", NULL };

		p = start(script, 2);
		assert_int_equal(lmtp_hello(p.l, "client.test", &err), -1);
		assert_non_null(strstr(err.msg, "too long"));
		finish(&p);
	}
	for (i = 0; i < LMTP_REPLY_LINES_MAX + 1; i++)
		many[i] = "S:220-more";
	many[i++] = "E";
	many[i] = NULL;
	pf_error_clear(&err);
	p = start(many, 2);
	assert_int_equal(lmtp_hello(p.l, "client.test", &err), -1);
	assert_non_null(strstr(err.msg, "too many lines"));
	finish(&p);
	pf_error_clear(&err);
	p = start(garbage, 2);
	assert_int_equal(lmtp_hello(p.l, "client.test", &err), -1);
	assert_non_null(strstr(err.msg, "malformed"));
	assert_false(lmtp_usable(p.l));
	finish(&p);
}

static void silence__times_out(void **state)
{
	const char *const script[] = { "E", NULL };
	struct pair p = start(script, 1);
	struct pf_error err = { 0 };
	int64_t t0 = pf_now_ms();

	(void)state;
	assert_int_equal(lmtp_hello(p.l, "client.test", &err), -1);
	assert_non_null(strstr(err.msg, "timed out"));
	assert_true(pf_now_ms() - t0 >= 900 && pf_now_ms() - t0 < 4000);
	finish(&p);
}

static void mid_body_close__sends_nothing_more(void **state)
{
	/* Closing in the middle of a body must not send QUIT (it would be
	 * message text) nor the final dot (that would deliver half a
	 * message): the server sees the connection end. */
	const char *const script[] = {
		GREETING, LHLO_PIPELINING,
		"C:MAIL FROM:<sender@example.org>", "C:RCPT TO:<me>", "C:DATA",
		"S:250 OK", "S:250 OK", "S:354 OK", "D", NULL,
	};
	struct pair p = start(script, 2);
	struct pf_error err = { 0 };
	struct lmtp_reply r = { 0 };

	(void)state;
	hello_ok(&p);
	assert_int_equal(lmtp_begin(p.l, "sender@example.org", "me", &r, &err), 0);
	assert_int_equal(lmtp_body(p.l, "half a line\n", 12, &err), 0);
	assert_false(lmtp_usable(p.l));
	finish(&p);
}

static void addresses__cannot_inject(void **state)
{
	const char *const script[] = { GREETING, LHLO_PIPELINING, "C:QUIT", "S:221 Bye", "E",
				       NULL };
	const char *bad[] = { "me>\r\nRCPT TO:<root", "me you", "", "m\xc3\xa9" };
	struct pair p = start(script, 2);
	struct pf_error err = { 0 };
	struct lmtp_reply r = { 0 };

	(void)state;
	hello_ok(&p);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		pf_error_clear(&err);
		assert_int_equal(lmtp_begin(p.l, "", bad[i], &r, &err), -1);
		assert_int_equal(err.cls, PF_ERR_CONFIG);
		pf_error_clear(&err);
		assert_int_equal(lmtp_begin(p.l, bad[i][0] ? bad[i] : "a b", "me", &r, &err), -1);
		assert_int_equal(err.cls, PF_ERR_CONFIG);
	}
	finish(&p); /* the server saw no MAIL or RCPT at all */
}

/* lmtp_open on a real listening socket: "unix:PATH" and "127.0.0.1:PORT". */
static void open__unix_and_tcp(void **state)
{
	const char *const script[] = { "S:220 ready", "C:LHLO client.test", "S:250 ok",
				       "C:QUIT", "S:221 Bye", "E", NULL };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t slen = sizeof sin;
	char dir[] = "/tmp/test_lmtp.XXXXXX", target[200];
	struct pf_error err = { 0 };
	int ls[2];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s/lmtp", dir);
	ls[0] = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(ls[0], (struct sockaddr *)&sun, sizeof sun), 0);
	ls[1] = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(ls[1], (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(ls[1], (struct sockaddr *)&sin, &slen), 0);
	for (int i = 0; i < 2; i++) {
		struct pair p;

		assert_int_equal(listen(ls[i], 1), 0);
		p.pid = fork();
		assert_true(p.pid >= 0);
		if (p.pid == 0)
			srv_run(accept(ls[i], NULL, NULL), script);
		if (i == 0)
			snprintf(target, sizeof target, "unix:%s", sun.sun_path);
		else
			snprintf(target, sizeof target, "127.0.0.1:%u", ntohs(sin.sin_port));
		p.l = lmtp_open(target, 2, &err);
		if (p.l == NULL)
			fail_msg("%s: %s", target, err.msg);
		hello_ok(&p);
		finish(&p);
		close(ls[i]);
	}
	unlink(sun.sun_path);
	rmdir(dir);
	/* Nothing listens there any more: a one-line local error. */
	assert_null(lmtp_open(target, 2, &err));
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	pf_error_clear(&err);
	assert_null(lmtp_open("no-port-here", 2, &err));
	assert_int_equal(err.cls, PF_ERR_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pipelined__two_messages_one_write_each),
		cmocka_unit_test(unpipelined__one_command_per_reply),
		cmocka_unit_test(after_data__4xx_and_5xx_are_returned),
		cmocka_unit_test(before_data__refusal_leaves_the_session_usable),
		cmocka_unit_test(refused_then_354__empty_body_is_ended),
		cmocka_unit_test(greeting__refused),
		cmocka_unit_test(hostile__long_line_many_lines_garbage),
		cmocka_unit_test(silence__times_out),
		cmocka_unit_test(mid_body_close__sends_nothing_more),
		cmocka_unit_test(addresses__cannot_inject),
		cmocka_unit_test(open__unix_and_tcp),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
