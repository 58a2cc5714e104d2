/* test_conn.c - the connection layer against real peers: a listening
 * socket on 127.0.0.1 port 0 and a fork()ed server per test (plaintext or
 * TLS with a throwaway CA made by the openssl CLI at group setup).
 * Every child is killed and reaped; every wait is bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "bounds.h"
#include "conn.h"
#include "util.h"

/* --- peers ---------------------------------------------------------------- */

typedef void (*peer_fn)(int fd, const void *arg);

struct peer {
	pid_t pid;
	char port[16];
};

static void start_peer(struct peer *p, peer_fn fn, const void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	assert_true(snprintf(p->port, sizeof p->port, "%u", ntohs(sa.sin_port)) > 0);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		int fd;

		alarm(20); /* a broken test never leaves a server behind */
		fd = accept(lfd, NULL, NULL);
		if (fd >= 0)
			fn(fd, arg);
		_exit(0);
	}
	close(lfd);
}

static void stop_peer(struct peer *p)
{
	kill(p->pid, SIGKILL);
	assert_int_equal(waitpid(p->pid, NULL, 0), p->pid);
}

static void write_all(int fd, const char *s, size_t n)
{
	if (pf_write_all(fd, s, n) < 0)
		_exit(2);
}

/* Holds the connection open until the client closes it. */
static void drain(int fd)
{
	char b[4096];

	while (read(fd, b, sizeof b) > 0)
		;
}

static void peer_send_hold(int fd, const void *arg)
{
	(void)arg;
	write_all(fd, arg, strlen(arg));
	drain(fd);
}

static void peer_send_close(int fd, const void *arg)
{
	(void)arg;
	write_all(fd, arg, strlen(arg));
	close(fd);
}

/* Every byte in its own segment. */
static void peer_tiny_writes(int fd, const void *arg)
{
	(void)arg;
	const char *s = arg;
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	for (; *s != '\0'; s++) {
		write_all(fd, s, 1);
		usleep(2000);
	}
	drain(fd);
}

/* Just inside any per-read timeout, forever. */
static void peer_trickle(int fd, const void *arg)
{
	(void)arg;
	for (;;) {
		write_all(fd, "x", 1);
		usleep(300 * 1000);
	}
}

static void peer_close_now(int fd, const void *arg)
{
	(void)arg;
	close(fd);
}

/* Accepts TCP, never says a word (stalls a TLS handshake). */
static void peer_silent(int fd, const void *arg)
{
	(void)arg;
	drain(fd);
}

/* A peer that sends a big buffer built by the test. */
struct blob {
	char *data;
	size_t len;
};

static void peer_send_blob(int fd, const void *arg)
{
	(void)arg;
	const struct blob *b = arg;

	write_all(fd, b->data, b->len);
	drain(fd);
}

/* --- certificates --------------------------------------------------------- */

static char g_dir[64];
static char g_ca[PF_PATH_MAX], g_other_ca[PF_PATH_MAX];
static char g_srv_cert[PF_PATH_MAX], g_srv_key[PF_PATH_MAX];
static char g_cn_cert[PF_PATH_MAX], g_cn_key[PF_PATH_MAX];
static char g_fingerprint[256];

static void dir_path(char *out, const char *name)
{
	int n = snprintf(out, PF_PATH_MAX, "%s/%s", g_dir, name);

	if (n < 0 || n >= PF_PATH_MAX)
		abort();
}

/* The leaf's SHA-256 as the openssl CLI prints it: "AB:CD:...". */
static int read_fingerprint(void)
{
	char cmd[PF_PATH_MAX + 128], line[512];
	char *eq;
	FILE *f;
	int n = snprintf(cmd, sizeof cmd, "openssl x509 -in %s -noout -fingerprint -sha256", g_srv_cert);

	if (n < 0 || (size_t)n >= sizeof cmd || (f = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof line, f) == NULL)
		line[0] = '\0';
	pclose(f);
	eq = strchr(line, '=');
	if (eq == NULL)
		return -1;
	eq[strcspn(eq, "\r\n")] = '\0';
	n = snprintf(g_fingerprint, sizeof g_fingerprint, "%s", eq + 1);
	return n == 95 ? 0 : -1; /* 32 bytes as AB: */
}

/* A CA, a second unrelated CA, a leaf for localhost / 127.0.0.1 whose
 * subject CN is a name absent from subjectAltName, and a leaf whose only
 * DNS name is in its CN (subjectAltName holds just an IP address, so
 * OpenSSL would fall back to the CN unless told never to). */
static int make_certs(void **state)
{
	(void)state;
	static const char script[] =
		"cd %s && exec >log 2>&1 && "
		"K='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes' && "
		"openssl req -x509 $K -keyout ca.key -out ca.pem -days 2 -subj /CN=popfetch-test-ca && "
		"openssl req -x509 $K -keyout other.key -out other.pem -days 2 -subj /CN=other-ca && "
		"openssl req $K -keyout srv.key -out srv.csr -subj /CN=cn-only.test && "
		"printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf && "
		"openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		"-days 2 -extfile ext.cnf -out srv.pem && "
		"openssl req $K -keyout cn.key -out cn.csr -subj /CN=cn-only.test && "
		"printf 'subjectAltName=IP:127.0.0.1\\n' > ext2.cnf && "
		"openssl x509 -req -in cn.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		"-days 2 -extfile ext2.cnf -out cn.pem";
	char cmd[sizeof script + 64];
	int n;

	memcpy(g_dir, "/tmp/test_conn.XXXXXX", sizeof "/tmp/test_conn.XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	n = snprintf(cmd, sizeof cmd, script, g_dir);
	if (n < 0 || (size_t)n >= sizeof cmd || system(cmd) != 0)
		return -1;
	dir_path(g_ca, "ca.pem");
	dir_path(g_other_ca, "other.pem");
	dir_path(g_srv_cert, "srv.pem");
	dir_path(g_srv_key, "srv.key");
	dir_path(g_cn_cert, "cn.pem");
	dir_path(g_cn_key, "cn.key");
	return read_fingerprint();
}

static int remove_certs(void **state)
{
	(void)state;
	static const char *const files[] = { "ca.key", "ca.pem", "ca.srl", "other.key", "other.pem",
					     "srv.key", "srv.csr", "srv.pem", "ext.cnf", "cn.key",
					     "cn.csr", "cn.pem", "ext2.cnf", "log" };
	char p[PF_PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		dir_path(p, files[i]);
		unlink(p);
	}
	return rmdir(g_dir);
}

/* --- TLS peer --------------------------------------------------------------- */

struct tls_peer_cfg {
	int want_client_cert; /* verify a client certificate against our CA */
	int close_after_handshake;
	int cn_only_cert; /* serve cn.pem instead of srv.pem */
};

static void tls_serve(SSL *ssl)
{
	char line[512];
	size_t n = 0;
	int r;

	if (SSL_write(ssl, "+OK hello TLS\r\n", 15) != 15)
		_exit(4);
	/* Echo the first line back as "+OK got LINE". */
	while (n < sizeof line - 1 && (r = SSL_read(ssl, line + n, 1)) == 1 && line[n] != '\n')
		n++;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	if (SSL_write(ssl, "+OK got ", 8) != 8 || SSL_write(ssl, line, (int)n) != (int)n ||
	    SSL_write(ssl, "\r\n", 2) != 2)
		_exit(5);
	while (SSL_read(ssl, line, sizeof line) > 0)
		;
}

static void peer_tls(int fd, const void *arg)
{
	(void)arg;
	const struct tls_peer_cfg *cfg = arg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	const char *cert = cfg->cn_only_cert ? g_cn_cert : g_srv_cert;
	const char *key = cfg->cn_only_cert ? g_cn_key : g_srv_key;
	SSL *ssl;

	if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		_exit(3);
	if (cfg->want_client_cert) {
		if (SSL_CTX_load_verify_locations(ctx, g_ca, NULL) != 1)
			_exit(3);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
		_exit(3);
	if (cfg->close_after_handshake) {
		close(fd);
		_exit(0);
	}
	tls_serve(ssl);
	_exit(0);
}

static const struct tls_peer_cfg plain_tls = { 0 };

/* --- client helpers -------------------------------------------------------- */

static struct conn *open_peer(const struct peer *p, int timeout_s)
{
	struct pf_error err = { 0 };
	struct conn *c = conn_open("127.0.0.1", p->port, timeout_s, &err);

	if (c == NULL)
		fail_msg("conn_open: %s", err.msg);
	return c;
}

static void expect_line(struct conn *c, const char *want)
{
	struct pf_error err = { 0 };
	char buf[PF_LINE_MAX];
	size_t len = 99999;

	if (conn_getline(c, buf, sizeof buf, &len, &err) < 0)
		fail_msg("conn_getline: %s", err.msg);
	assert_string_equal(buf, want);
	assert_int_equal(len, strlen(want));
}

static void expect_getline_error(struct conn *c, size_t cap, enum pf_errclass cls,
				 const char *msg_part)
{
	struct pf_error err = { 0 };
	char *buf = malloc(cap);
	size_t len;

	assert_non_null(buf);
	assert_int_equal(conn_getline(c, buf, cap, &len, &err), -1);
	free(buf);
	assert_int_equal(err.cls, cls);
	if (strstr(err.msg, msg_part) == NULL)
		fail_msg("error '%s' does not contain '%s'", err.msg, msg_part);
}

static void assert_contains(const char *s, const char *part)
{
	if (strstr(s, part) == NULL)
		fail_msg("'%s' does not contain '%s'", s, part);
}

/* --- connecting ------------------------------------------------------------ */

static void open__refused__is_net_error_naming_host_and_port(void **state)
{
	(void)state;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	struct pf_error err = { 0 };
	char port[16], want[64];
	/* Bound but not listening: connecting to it is refused, and nobody
	 * else can take the port meanwhile. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	assert_true(snprintf(port, sizeof port, "%u", ntohs(sa.sin_port)) > 0);
	assert_null(conn_open("127.0.0.1", port, 5, &err));
	close(fd);
	assert_int_equal(err.cls, PF_ERR_NET);
	assert_true(snprintf(want, sizeof want, "connect to 127.0.0.1 port %s: Connection refused",
			     port) > 0);
	assert_string_equal(err.msg, want);
}

/* A listener whose accept queue is full drops further SYNs (Linux), so a
 * connect to it hangs until our deadline. */
static void open__unanswered_syn__times_out(void **state)
{
	(void)state;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	struct pf_error err = { 0 };
	char port[16], want[80];
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fill[4], i;
	int64_t t0, elapsed;
	struct conn *c;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(lfd, 0), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	assert_true(snprintf(port, sizeof port, "%u", ntohs(sa.sin_port)) > 0);
	for (i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		(void)connect(fill[i], (struct sockaddr *)&sa, sizeof sa);
	}
	usleep(100 * 1000);
	t0 = pf_now_ms();
	c = conn_open("127.0.0.1", port, 1, &err);
	elapsed = pf_now_ms() - t0;
	for (i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
	if (c != NULL) {
		/* This kernel queued the SYN after all: nothing to time out. */
		conn_close(c);
		skip();
	}
	assert_int_equal(err.cls, PF_ERR_NET);
	assert_true(snprintf(want, sizeof want, "connect to 127.0.0.1 port %s: timed out after 1 s",
			     port) > 0);
	assert_string_equal(err.msg, want);
	assert_true(elapsed >= 500);
	assert_true(elapsed < 3000);
}

static void open__unknown_host__is_net_error_naming_host(void **state)
{
	(void)state;
	struct pf_error err = { 0 };

	assert_null(conn_open("pop.example.invalid", "110", 5, &err));
	assert_int_equal(err.cls, PF_ERR_NET);
	assert_contains(err.msg, "cannot resolve pop.example.invalid: ");
}

static void open__by_name__connects(void **state)
{
	(void)state;
	struct pf_error err = { 0 };
	struct peer p;
	struct conn *c;

	start_peer(&p, peer_send_hold, "+OK named\r\n");
	/* "localhost" may resolve to ::1 first, where nobody listens: the
	 * next address must be tried. */
	c = conn_open("localhost", p.port, 5, &err);
	if (c == NULL)
		fail_msg("conn_open: %s", err.msg);
	expect_line(c, "+OK named");
	assert_int_equal(conn_is_tls(c), 0);
	conn_close(c);
	stop_peer(&p);
}

static void close__null__is_fine(void **state)
{
	(void)state;
	conn_close(NULL);
}

/* --- lines ---------------------------------------------------------------- */

static void getline__crlf_and_lf__strip_line_ends(void **state)
{
	(void)state;
	struct peer p;
	struct conn *c;

	start_peer(&p, peer_send_hold, "+OK crlf\r\nlf only\n\r\n\nbare\rcr inside\r\n");
	c = open_peer(&p, 5);
	expect_line(c, "+OK crlf");
	expect_line(c, "lf only");
	expect_line(c, "");
	expect_line(c, "");
	expect_line(c, "bare\rcr inside");
	assert_int_equal(conn_pending(c), 0);
	conn_close(c);
	stop_peer(&p);
}

static void getline__line_split_in_tiny_writes__is_reassembled(void **state)
{
	(void)state;
	struct peer p;
	struct conn *c;

	start_peer(&p, peer_tiny_writes, "+OK one byte at a time\r\nsecond\r\n");
	c = open_peer(&p, 5);
	expect_line(c, "+OK one byte at a time");
	expect_line(c, "second");
	conn_close(c);
	stop_peer(&p);
}

static void getline_cap(int lf_only)
{
	/* cap 64: 63 bytes fit, 64 do not. */
	char data[256], want[64];
	struct peer p;
	struct conn *c;
	const char *end = lf_only ? "\n" : "\r\n";
	int n;

	memset(want, 'a', 63);
	want[63] = '\0';
	n = snprintf(data, sizeof data, "%s%s%.64s%s", want, end,
		     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", end);
	assert_true(n > 0 && (size_t)n < sizeof data);
	start_peer(&p, peer_send_hold, data);
	c = open_peer(&p, 5);
	{
		struct pf_error err = { 0 };
		char buf[64];
		size_t len = 0;

		assert_int_equal(conn_getline(c, buf, sizeof buf, &len, &err), 0);
		assert_int_equal(len, 63);
		assert_string_equal(buf, want);
	}
	expect_getline_error(c, 64, PF_ERR_PROTO, "server sent a line longer than 63 bytes");
	conn_close(c);
	stop_peer(&p);
}

static void getline__cap_minus_one__fits_and_one_more_is_proto_error(void **state)
{
	(void)state;
	getline_cap(0);
}

static void getline__cap_with_lf_only__same_limits(void **state)
{
	(void)state;
	getline_cap(1);
}

/* A line of exactly the buffer's capacity (content + CR LF) after a short
 * line: needs the buffer compacted, must neither fail nor overflow. */
static void getline__line_as_long_as_buffer__fits_after_compaction(void **state)
{
	(void)state;
	size_t big = PF_IOBUF_SIZE - 2;
	struct blob b = { .len = 3 + big + 2 };
	struct pf_error err = { 0 };
	char *out = malloc(big + 1);
	struct peer p;
	struct conn *c;
	size_t len = 0;

	b.data = malloc(b.len);
	assert_non_null(b.data);
	assert_non_null(out);
	memcpy(b.data, "x\r\n", 3);
	memset(b.data + 3, 'y', big);
	memcpy(b.data + 3 + big, "\r\n", 2);
	start_peer(&p, peer_send_blob, &b);
	c = open_peer(&p, 5);
	expect_line(c, "x");
	assert_int_equal(conn_getline(c, out, big + 1, &len, &err), 0);
	assert_int_equal(len, big);
	assert_int_equal(out[0], 'y');
	assert_int_equal(out[big - 1], 'y');
	conn_close(c);
	stop_peer(&p);
	free(out);
	free(b.data);
}

static void getline__longer_than_buffer__is_proto_error(void **state)
{
	(void)state;
	struct blob b = { .len = PF_IOBUF_SIZE + 100 };
	struct peer p;
	struct conn *c;

	b.data = malloc(b.len);
	assert_non_null(b.data);
	memset(b.data, 'z', b.len); /* no line end at all */
	start_peer(&p, peer_send_blob, &b);
	c = open_peer(&p, 5);
	/* The caller's cap is larger than the buffer: the buffer bounds it. */
	expect_getline_error(c, 2 * PF_IOBUF_SIZE, PF_ERR_PROTO, "server sent a line longer than");
	conn_close(c);
	stop_peer(&p);
	free(b.data);
}

static void getline__eof_mid_line__is_net_error(void **state)
{
	(void)state;
	struct peer p;
	struct conn *c;

	start_peer(&p, peer_send_close, "+OK whole\r\npartial li");
	c = open_peer(&p, 5);
	expect_line(c, "+OK whole");
	expect_getline_error(c, PF_LINE_MAX, PF_ERR_NET, "connection closed by server");
	conn_close(c);
	stop_peer(&p);
}

static void getline__trickling_server__is_cut_off_by_deadline(void **state)
{
	(void)state;
	struct peer p;
	struct conn *c;
	int64_t t0, elapsed;

	start_peer(&p, peer_trickle, NULL);
	c = open_peer(&p, 1);
	t0 = pf_now_ms();
	/* Each byte arrives well inside 1 s; the line as a whole never does. */
	expect_getline_error(c, PF_LINE_MAX, PF_ERR_NET, "timed out after 1 s");
	elapsed = pf_now_ms() - t0;
	assert_true(elapsed >= 500);
	assert_true(elapsed < 3000);
	conn_close(c);
	stop_peer(&p);
}

/* --- bulk reads ------------------------------------------------------------- */

static void peek__interleaved_with_getline__shares_the_buffer(void **state)
{
	(void)state;
	struct pf_error err = { 0 };
	const char *data;
	struct peer p;
	struct conn *c;
	size_t len = 0;

	start_peer(&p, peer_send_hold, "+OK 12 octets\r\nhello world\r\n.\r\n+OK next\r\n");
	c = open_peer(&p, 5);
	expect_line(c, "+OK 12 octets");
	assert_int_equal(conn_peek(c, &data, &len, &err), 0);
	assert_true(len >= 6);
	assert_memory_equal(data, "hello ", 6);
	conn_consume(c, 6);
	expect_line(c, "world");
	assert_int_equal(conn_peek(c, &data, &len, &err), 0);
	assert_true(len >= 3);
	assert_memory_equal(data, ".\r\n", 3);
	assert_int_equal(conn_pending(c), len);
	conn_consume(c, 3);
	expect_line(c, "+OK next");
	assert_int_equal(conn_pending(c), 0);
	conn_close(c);
	stop_peer(&p);
}

static void peek__eof__is_net_error(void **state)
{
	(void)state;
	struct pf_error err = { 0 };
	const char *data = "x";
	struct peer p;
	struct conn *c;
	size_t len = 7;

	start_peer(&p, peer_close_now, NULL);
	c = open_peer(&p, 5);
	assert_int_equal(conn_peek(c, &data, &len, &err), -1);
	assert_int_equal(err.cls, PF_ERR_NET);
	assert_contains(err.msg, "connection closed by server");
	assert_int_equal(len, 0);
	conn_close(c);
	stop_peer(&p);
}

/* --- the overall bound of a transfer (min_rate) and stop requests --------- */

/* One listing line every 400 ms: each line well inside a 1 s timeout,
 * 10 bytes a second in all. */
static void peer_slow_lines(int fd, const void *arg)
{
	(void)arg;
	for (;;) {
		write_all(fd, "1 uidxx\r\n", 9);
		usleep(400 * 1000);
	}
}

/* 1000 bytes every 100 ms for 2.5 s (10 kB/s), then EOF. */
static void peer_steady(int fd, const void *arg)
{
	static char chunk[1000];

	(void)arg;
	memset(chunk, 'y', sizeof chunk);
	for (int i = 0; i < 25; i++) {
		write_all(fd, chunk, sizeof chunk);
		usleep(100 * 1000);
	}
	close(fd);
}

/* Reads bytes with conn_peek until an error; returns the bytes read. */
static uint64_t peek_until_error(struct conn *c, struct pf_error *err)
{
	const char *data;
	uint64_t total = 0;
	size_t len;

	while (conn_peek(c, &data, &len, err) == 0) {
		total += len;
		conn_consume(c, len);
	}
	return total;
}

static void transfer__body_trickle__is_cut_off_by_min_rate(void **state)
{
	(void)state;
	struct pf_error err = { 0 };
	struct peer p;
	struct conn *c;
	int64_t t0, elapsed;

	start_peer(&p, peer_trickle, NULL);
	c = open_peer(&p, 1);
	conn_set_min_rate(c, 100);
	t0 = pf_now_ms();
	conn_transfer_begin(c);
	/* A byte every 300 ms never trips the 1 s idle timeout; the rate does
	 * once the grace of one timeout is over. */
	(void)peek_until_error(c, &err);
	elapsed = pf_now_ms() - t0;
	assert_int_equal(err.cls, PF_ERR_NET);
	assert_contains(err.msg, "min_rate");
	assert_contains(err.msg, "127.0.0.1");
	assert_true(elapsed >= 900);
	assert_true(elapsed < 2500);
	conn_close(c);
	stop_peer(&p);
}

static void transfer__listing_trickle__is_cut_off_by_min_rate(void **state)
{
	(void)state;
	struct pf_error err = { 0 };
	char buf[PF_LINE_MAX];
	struct peer p;
	struct conn *c;
	size_t len;
	int lines = 0;
	int64_t t0, elapsed;

	start_peer(&p, peer_slow_lines, NULL);
	c = open_peer(&p, 1);
	conn_set_min_rate(c, 100);
	t0 = pf_now_ms();
	conn_transfer_begin(c);
	while (conn_getline(c, buf, sizeof buf, &len, &err) == 0)
		lines++;
	elapsed = pf_now_ms() - t0;
	assert_true(lines >= 2); /* every line came in time */
	assert_contains(err.msg, "min_rate");
	assert_true(elapsed < 2500);
	conn_close(c);
	stop_peer(&p);
}

/* Above min_rate a transfer may take longer than the timeout; after
 * conn_transfer_end a slow line is the line deadline's business alone. */
static void transfer__steady_rate__runs_past_the_grace(void **state)
{
	(void)state;
	struct pf_error err = { 0 };
	struct peer p;
	struct conn *c;

	start_peer(&p, peer_steady, NULL);
	c = open_peer(&p, 1);
	conn_set_min_rate(c, 1000);
	conn_transfer_begin(c);
	assert_int_equal(peek_until_error(c, &err), 25000);
	assert_contains(err.msg, "connection closed by server");
	conn_transfer_end(c);
	conn_close(c);
	stop_peer(&p);
}

static void on_alarm_stop(int sig)
{
	(void)sig;
	conn_request_stop();
}

/* In a child: a stop request is for good, and later tests need none. */
static int stop_case(const struct peer *p)
{
	struct pf_error err = { 0 };
	struct sigaction sa;
	struct conn *c;
	int64_t t0, elapsed;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm_stop;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGALRM, &sa, NULL) < 0)
		return 10;
	c = conn_open("127.0.0.1", p->port, 60, &err);
	if (c == NULL)
		return 11;
	conn_transfer_begin(c);
	t0 = pf_now_ms();
	alarm(1);
	/* Without the stop the trickle would go on past the 60 s timeout. */
	(void)peek_until_error(c, &err);
	elapsed = pf_now_ms() - t0;
	conn_close(c);
	if (strstr(err.msg, "stopped on request") == NULL) {
		fprintf(stderr, "stop case: error '%s'\n", err.msg);
		return 12;
	}
	if (elapsed < 1000 * (1 + CONN_STOP_GRACE_S) || elapsed > 1000 * (CONN_STOP_GRACE_S + 3)) {
		fprintf(stderr, "stop case: took %lld ms\n", (long long)elapsed);
		return 13;
	}
	return 0;
}

static void stop__trickling_transfer__ends_after_the_grace(void **state)
{
	(void)state;
	struct peer p;
	pid_t pid;
	int st;

	start_peer(&p, peer_trickle, NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(stop_case(&p));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	stop_peer(&p);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* Writes until the dead peer makes it fail; with SIGPIPE at its default
 * action the test process would die instead of reaching the asserts. */
static void write_until_error(struct conn *c)
{
	static char chunk[64 * 1024];
	struct pf_error err = { 0 };
	int i, rc = 0;

	for (i = 0; i < 50 && rc == 0; i++) {
		rc = conn_write(c, chunk, sizeof chunk, &err);
		usleep(10000);
	}
	assert_int_equal(rc, -1);
	assert_int_equal(err.cls, PF_ERR_NET);
	assert_contains(err.msg, "127.0.0.1");
}

static void write__to_closed_peer__is_error_not_sigpipe(void **state)
{
	(void)state;
	struct pf_error err = { 0 };
	const char *data;
	struct peer p;
	struct conn *c;
	size_t len;

	signal(SIGPIPE, SIG_DFL);
	start_peer(&p, peer_close_now, NULL);
	c = open_peer(&p, 5);
	assert_int_equal(conn_peek(c, &data, &len, &err), -1); /* peer is gone */
	write_until_error(c);
	conn_close(c);
	stop_peer(&p);
}

/* --- TLS -------------------------------------------------------------------- */

static struct conn_tls_opts tls_opts(const char *name, const char *ca)
{
	struct conn_tls_opts o = { .verify_name = name, .ca_file = ca };

	return o;
}

/* Connects to a fresh TLS peer and runs the handshake; returns its result
 * with the connection in *c_r (NULL on failure). */
static int tls_connect(struct peer *p, const struct tls_peer_cfg *cfg,
		       const struct conn_tls_opts *o, struct conn **c_r, struct pf_error *err)
{
	struct conn *c;

	start_peer(p, peer_tls, cfg);
	c = open_peer(p, 5);
	if (conn_starttls(c, o, err) < 0) {
		/* Nothing may be sent after a failed handshake. */
		struct pf_error werr = { 0 };

		assert_int_equal(conn_write(c, "USER x\r\n", 8, &werr), -1);
		conn_close(c);
		*c_r = NULL;
		return -1;
	}
	*c_r = c;
	return 0;
}

static void tls_ok(const struct conn_tls_opts *o, const struct tls_peer_cfg *cfg)
{
	struct pf_error err = { 0 };
	struct peer p;
	struct conn *c;

	if (tls_connect(&p, cfg, o, &c, &err) < 0)
		fail_msg("conn_starttls: %s", err.msg);
	assert_int_equal(conn_is_tls(c), 1);
	assert_memory_equal(conn_tls_desc(c), "TLSv1.", 6);
	expect_line(c, "+OK hello TLS");
	assert_int_equal(conn_write(c, "PING\r\n", 6, &err), 0);
	expect_line(c, "+OK got PING");
	conn_close(c);
	stop_peer(&p);
}

static void tls_fails_with(const struct tls_peer_cfg *cfg, const struct conn_tls_opts *o,
			   enum pf_errclass cls, const char *msg_part)
{
	struct pf_error err = { 0 };
	struct peer p;
	struct conn *c;

	assert_int_equal(tls_connect(&p, cfg, o, &c, &err), -1);
	assert_null(c);
	assert_int_equal(err.cls, cls);
	assert_contains(err.msg, msg_part);
	stop_peer(&p);
}

static void tls_fails(const struct conn_tls_opts *o, enum pf_errclass cls, const char *msg_part)
{
	tls_fails_with(&plain_tls, o, cls, msg_part);
}

static void tls__right_ca_and_dns_name__verifies(void **state)
{
	(void)state;
	struct conn_tls_opts o = tls_opts("localhost", g_ca);

	tls_ok(&o, &plain_tls);
}

static void tls__right_ca_and_ip_literal__verifies(void **state)
{
	(void)state;
	struct conn_tls_opts o = tls_opts("127.0.0.1", g_ca);

	tls_ok(&o, &plain_tls);
}

static void tls__wrong_ca__is_tls_error(void **state)
{
	(void)state;
	struct conn_tls_opts o = tls_opts("localhost", g_other_ca);

	tls_fails(&o, PF_ERR_TLS,
		  "TLS: certificate verify failed for localhost: unable to get local issuer certificate");
}

static void tls__system_store__does_not_trust_test_ca(void **state)
{
	(void)state;
	struct conn_tls_opts o = tls_opts("localhost", NULL);

	tls_fails(&o, PF_ERR_TLS, "(self-signed or unknown CA?)");
}

static void tls__wrong_name__is_tls_error(void **state)
{
	(void)state;
	struct conn_tls_opts o = tls_opts("otherhost", g_ca);

	tls_fails(&o, PF_ERR_TLS, "TLS: certificate does not match host name otherhost");
}

static void tls__wrong_ip__is_tls_error(void **state)
{
	(void)state;
	struct conn_tls_opts o = tls_opts("127.0.0.2", g_ca);

	tls_fails(&o, PF_ERR_TLS, "does not match host name 127.0.0.2");
}

/* RFC 9525: the subject CN is never a fallback for subjectAltName. */
static void tls__name_only_in_subject_cn__is_refused(void **state)
{
	(void)state;
	static const struct tls_peer_cfg cn_only = { .cn_only_cert = 1 };
	struct conn_tls_opts o = tls_opts("cn-only.test", g_ca);

	tls_fails_with(&cn_only, &o, PF_ERR_TLS, "does not match host name cn-only.test");
	/* The same certificate is fine for the name it does list. */
	o.verify_name = "127.0.0.1";
	tls_ok(&o, &cn_only);
}

static void tls__right_fingerprint__verifies_with_untrusted_ca(void **state)
{
	(void)state;
	char pin[300];
	struct conn_tls_opts o = tls_opts("otherhost", g_other_ca);

	assert_true(snprintf(pin, sizeof pin, "sha256:%s", g_fingerprint) > 0);
	o.fingerprint = pin;
	tls_ok(&o, &plain_tls);
}

static void tls__fingerprint_plain_lowercase_hex__verifies(void **state)
{
	(void)state;
	char pin[128];
	struct conn_tls_opts o = tls_opts(NULL, NULL);
	size_t i, n = 0;

	for (i = 0; g_fingerprint[i] != '\0'; i++)
		if (g_fingerprint[i] != ':')
			pin[n++] = (char)(g_fingerprint[i] | 0x20); /* hex digits to lower case */
	pin[n] = '\0';
	assert_int_equal(n, 64);
	o.fingerprint = pin;
	tls_ok(&o, &plain_tls);
}

static void tls__wrong_fingerprint__is_tls_error(void **state)
{
	(void)state;
	char pin[300], want[300];
	struct conn_tls_opts o = tls_opts("localhost", g_ca);

	assert_true(snprintf(pin, sizeof pin, "%s", g_fingerprint) > 0);
	pin[0] = pin[0] == '0' ? '1' : '0';
	o.fingerprint = pin;
	/* The message shows the server's real fingerprint, to compare by hand. */
	assert_true(snprintf(want, sizeof want, "TLS: server fingerprint sha256:%s does not match",
			     g_fingerprint) > 0);
	tls_fails(&o, PF_ERR_TLS, want);
}

static void tls__malformed_fingerprint__is_config_error(void **state)
{
	(void)state;
	static const char *const bad[] = { "sha256:XYZ", "AB:CD", "", "sha256::AB",
					   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef00" };
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct pf_error err = { 0 };
		struct conn_tls_opts o = tls_opts("localhost", g_ca);
		struct peer p;
		struct conn *c;

		o.fingerprint = bad[i];
		assert_int_equal(tls_connect(&p, &plain_tls, &o, &c, &err), -1);
		assert_int_equal(err.cls, PF_ERR_CONFIG);
		assert_contains(err.msg, "malformed fingerprint");
		stop_peer(&p);
	}
}

static void tls__client_certificate__is_presented(void **state)
{
	(void)state;
	static const struct tls_peer_cfg want_cert = { .want_client_cert = 1 };
	struct conn_tls_opts o = tls_opts("localhost", g_ca);

	/* The leaf doubles as a client certificate: the peer checks it
	 * against the same CA. */
	o.cert_file = g_srv_cert;
	o.key_file = g_srv_key;
	tls_ok(&o, &want_cert);
}

static void tls__cert_without_key__is_config_error(void **state)
{
	(void)state;
	struct conn_tls_opts o = tls_opts("localhost", g_ca);

	o.cert_file = g_srv_cert;
	tls_fails(&o, PF_ERR_CONFIG, "both a certificate and a key");
}

static void tls__missing_ca_file__is_config_error(void **state)
{
	(void)state;
	struct conn_tls_opts o = tls_opts("localhost", "/nonexistent/ca.pem");

	tls_fails(&o, PF_ERR_CONFIG,
		  "TLS: cannot load CA certificates from /nonexistent/ca.pem: No such file or directory");
}

/* Implicit TLS configured against a plaintext port (110). */
static void tls__plaintext_server__is_tls_error(void **state)
{
	(void)state;
	struct conn_tls_opts o = tls_opts("localhost", g_ca);
	struct pf_error err = { 0 };
	struct peer p;
	struct conn *c;

	start_peer(&p, peer_send_hold, "+OK POP3 server ready, no TLS here\r\n");
	c = open_peer(&p, 5);
	assert_int_equal(conn_starttls(c, &o, &err), -1);
	assert_int_equal(err.cls, PF_ERR_TLS);
	assert_contains(err.msg, "TLS handshake with 127.0.0.1 failed: ");
	assert_int_equal(conn_is_tls(c), 0);
	conn_close(c);
	stop_peer(&p);
}

static void starttls__data_before_handshake__is_refused(void **state)
{
	(void)state;
	struct conn_tls_opts o = tls_opts("localhost", g_ca);
	struct pf_error err = { 0 };
	const char *data;
	struct peer p;
	struct conn *c;
	size_t len;

	start_peer(&p, peer_send_hold, "+OK begin TLS\r\n+OK injected\r\n");
	c = open_peer(&p, 5);
	expect_line(c, "+OK begin TLS");
	/* Make sure the injected bytes have arrived, however TCP split them. */
	assert_int_equal(conn_peek(c, &data, &len, &err), 0);
	assert_true(conn_pending(c) > 0);
	assert_int_equal(conn_starttls(c, &o, &err), -1);
	assert_int_equal(err.cls, PF_ERR_TLS);
	assert_string_equal(err.msg,
			    "server sent data before the TLS handshake (possible injection attack)");
	assert_int_equal(conn_is_tls(c), 0);
	conn_close(c);
	stop_peer(&p);
}

static void starttls__silent_server__times_out(void **state)
{
	(void)state;
	struct conn_tls_opts o = tls_opts("localhost", g_ca);
	struct pf_error err = { 0 };
	struct peer p;
	struct conn *c;
	int64_t t0, elapsed;

	start_peer(&p, peer_silent, NULL);
	c = open_peer(&p, 1);
	t0 = pf_now_ms();
	assert_int_equal(conn_starttls(c, &o, &err), -1);
	elapsed = pf_now_ms() - t0;
	assert_int_equal(err.cls, PF_ERR_TLS);
	assert_string_equal(err.msg, "TLS handshake with 127.0.0.1 timed out after 1 s");
	assert_true(elapsed >= 500);
	assert_true(elapsed < 3000);
	conn_close(c);
	stop_peer(&p);
}

static void tls_write__to_closed_peer__is_error_not_sigpipe(void **state)
{
	(void)state;
	static const struct tls_peer_cfg close_early = { .close_after_handshake = 1 };
	struct conn_tls_opts o = tls_opts("localhost", g_ca);
	struct pf_error err = { 0 };
	const char *data;
	struct peer p;
	struct conn *c;
	size_t len;

	signal(SIGPIPE, SIG_DFL);
	if (tls_connect(&p, &close_early, &o, &c, &err) < 0)
		fail_msg("conn_starttls: %s", err.msg);
	/* Wait for the FIN: a reset in CLOSE_WAIT is EPIPE, the SIGPIPE case
	 * (a reset seen earlier is ECONNRESET, which never signals). */
	assert_int_equal(conn_peek(c, &data, &len, &err), -1);
	write_until_error(c);
	conn_close(c);
	stop_peer(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open__refused__is_net_error_naming_host_and_port),
		cmocka_unit_test(open__unanswered_syn__times_out),
		cmocka_unit_test(open__unknown_host__is_net_error_naming_host),
		cmocka_unit_test(open__by_name__connects),
		cmocka_unit_test(close__null__is_fine),
		cmocka_unit_test(getline__crlf_and_lf__strip_line_ends),
		cmocka_unit_test(getline__line_split_in_tiny_writes__is_reassembled),
		cmocka_unit_test(getline__cap_minus_one__fits_and_one_more_is_proto_error),
		cmocka_unit_test(getline__cap_with_lf_only__same_limits),
		cmocka_unit_test(getline__line_as_long_as_buffer__fits_after_compaction),
		cmocka_unit_test(getline__longer_than_buffer__is_proto_error),
		cmocka_unit_test(getline__eof_mid_line__is_net_error),
		cmocka_unit_test(getline__trickling_server__is_cut_off_by_deadline),
		cmocka_unit_test(peek__interleaved_with_getline__shares_the_buffer),
		cmocka_unit_test(peek__eof__is_net_error),
		cmocka_unit_test(write__to_closed_peer__is_error_not_sigpipe),
		cmocka_unit_test(transfer__body_trickle__is_cut_off_by_min_rate),
		cmocka_unit_test(transfer__listing_trickle__is_cut_off_by_min_rate),
		cmocka_unit_test(transfer__steady_rate__runs_past_the_grace),
		cmocka_unit_test(stop__trickling_transfer__ends_after_the_grace),
		cmocka_unit_test(tls__right_ca_and_dns_name__verifies),
		cmocka_unit_test(tls__right_ca_and_ip_literal__verifies),
		cmocka_unit_test(tls__wrong_ca__is_tls_error),
		cmocka_unit_test(tls__system_store__does_not_trust_test_ca),
		cmocka_unit_test(tls__wrong_name__is_tls_error),
		cmocka_unit_test(tls__wrong_ip__is_tls_error),
		cmocka_unit_test(tls__name_only_in_subject_cn__is_refused),
		cmocka_unit_test(tls__right_fingerprint__verifies_with_untrusted_ca),
		cmocka_unit_test(tls__fingerprint_plain_lowercase_hex__verifies),
		cmocka_unit_test(tls__wrong_fingerprint__is_tls_error),
		cmocka_unit_test(tls__malformed_fingerprint__is_config_error),
		cmocka_unit_test(tls__client_certificate__is_presented),
		cmocka_unit_test(tls__cert_without_key__is_config_error),
		cmocka_unit_test(tls__missing_ca_file__is_config_error),
		cmocka_unit_test(tls__plaintext_server__is_tls_error),
		cmocka_unit_test(starttls__data_before_handshake__is_refused),
		cmocka_unit_test(starttls__silent_server__times_out),
		cmocka_unit_test(tls_write__to_closed_peer__is_error_not_sigpipe),
	};

	return cmocka_run_group_tests(tests, make_certs, remove_certs);
}
