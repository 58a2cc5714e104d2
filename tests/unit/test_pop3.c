/* test_pop3.c - the POP3 session against a scripted server in a child
 * process: what the client sends (and when), how replies are classified,
 * and that secrets never reach the trace. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "pop3.h"
#include "sasl.h"

/* A script line: "C:text" the client must send exactly this line next;
 * "S:text" the server sends text + CRLF; "Q" the client must send nothing
 * more for 200 ms (proves lock-step); "W:n" wait until n more client lines
 * have arrived before going on, without reading them (proves pipelining);
 * "T" the TLS handshake as the server, with g_tls's certificate (after
 * it, every line goes through TLS; "W" cannot look inside). */
struct server {
	pid_t pid;
	char port[16];
};

/* A self-signed certificate made at group setup; the client pins its
 * fingerprint, so no CA or name check is involved. */
static struct {
	EVP_PKEY *key;
	X509 *cert;
	char fingerprint[3 * 32 + 8];
} g_tls;

/* In the server child, once "T" has run. */
static SSL *g_ssl;

static ssize_t srv_read(int fd, char *c)
{
	return g_ssl != NULL ? SSL_read(g_ssl, c, 1) : read(fd, c, 1);
}

static int srv_write(int fd, const char *buf, int n)
{
	return g_ssl != NULL ? SSL_write(g_ssl, buf, n) : (int)write(fd, buf, (size_t)n);
}

static int srv_tls(int fd)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL || SSL_CTX_use_certificate(ctx, g_tls.cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, g_tls.key) != 1)
		return -1;
	g_ssl = SSL_new(ctx);
	if (g_ssl == NULL || SSL_set_fd(g_ssl, fd) != 1 || SSL_accept(g_ssl) != 1) {
		fprintf(stderr, "script: TLS handshake failed\n");
		return -1;
	}
	return 0;
}

static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		char c;
		ssize_t r = srv_read(fd, &c);

		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return 0;
}

static int count_lines_waiting(int fd)
{
	char buf[4096];
	ssize_t r = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
	int n = 0;

	for (ssize_t i = 0; i < r; i++)
		n += buf[i] == '\n';
	return n;
}

static int run_script(int fd, const char *const *script)
{
	char line[8192];

	for (; *script != NULL; script++) {
		const char *s = *script;

		if (s[0] == 'S') {
			char out[8192];
			int n = snprintf(out, sizeof out, "%s\r\n", s + 2);

			if (srv_write(fd, out, n) != n)
				return 2;
		} else if (s[0] == 'T') {
			if (srv_tls(fd) < 0)
				return 5;
		} else if (s[0] == 'C') {
			if (read_line(fd, line, sizeof line) < 0 || strcmp(line, s + 2) != 0) {
				fprintf(stderr, "script: expected '%s', got '%s'\n", s + 2, line);
				return 1;
			}
		} else if (s[0] == 'Q') {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			char c;

			/* Readable with nothing to read is the client closing: fine. */
			if (poll(&p, 1, 200) != 0 && recv(fd, &c, 1, MSG_PEEK) > 0) {
				fprintf(stderr, "script: client sent data before the reply\n");
				return 3;
			}
		} else if (s[0] == 'W') {
			int want = atoi(s + 2), tries = 0;

			while (count_lines_waiting(fd) < want && tries++ < 200)
				usleep(10000);
			if (count_lines_waiting(fd) < want) {
				fprintf(stderr, "script: client did not pipeline %d commands\n", want);
				return 4;
			}
		}
	}
	return 0;
}

static void start_server(struct server *sv, const char *const *script)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	snprintf(sv->port, sizeof sv->port, "%u", ntohs(sa.sin_port));
	sv->pid = fork();
	assert_true(sv->pid >= 0);
	if (sv->pid == 0) {
		int fd;

		alarm(10); /* a broken test never hangs */
		fd = accept(lfd, NULL, NULL);
		_exit(fd < 0 ? 9 : run_script(fd, script));
	}
	close(lfd);
}

/* Exit status of the script: 0 when the client did exactly what it said. */
static int server_status(struct server *sv)
{
	int st;

	assert_int_equal(waitpid(sv->pid, &st, 0), sv->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

/* A session on a scripted server, nothing read or sent yet. */
static struct pop3 *connected(struct server *sv, const char *const *script)
{
	struct pf_error err = { 0 };
	struct conn *c;

	start_server(sv, script);
	c = conn_open("127.0.0.1", sv->port, 5, &err);
	assert_non_null(c);
	return pop3_new(c);
}

/* The same past the greeting and CAPA (plaintext). */
static struct pop3 *session(struct server *sv, const char *const *script)
{
	struct pf_error err = { 0 };
	struct pop3 *p = connected(sv, script);

	assert_int_equal(pop3_open(p, TLS_NONE, NULL, &err), 0);
	return p;
}

/* The key and self-signed certificate of g_tls (P-256, for 127.0.0.1). */
static int make_tls_identity(void **state)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	X509 *x = X509_new();

	(void)state;
	g_tls.key = EVP_EC_gen("P-256");
	if (x == NULL || g_tls.key == NULL)
		return -1;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"127.0.0.1", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
	if (ext == NULL || X509_add_ext(x, ext, -1) != 1 || X509_set_pubkey(x, g_tls.key) != 1 ||
	    X509_sign(x, g_tls.key, EVP_sha256()) == 0 ||
	    X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != sizeof md)
		return -1;
	X509_EXTENSION_free(ext);
	g_tls.cert = x;
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(g_tls.fingerprint + 2 * i, 3, "%02X", md[i]);
	return 0;
}

static int free_tls_identity(void **state)
{
	(void)state;
	X509_free(g_tls.cert);
	EVP_PKEY_free(g_tls.key);
	return 0;
}

static struct conn_tls_opts pinned_opts(void)
{
	struct conn_tls_opts o = { .verify_name = "127.0.0.1", .fingerprint = g_tls.fingerprint };

	return o;
}

/* The server here answers nothing until it has CAPA: a client that waited
 * for the greeting first would hang until the alarm. */
static void open__then_capa_sent_before_the_greeting_is_read(void **state)
{
	static const char *const script[] = {
		"C:CAPA", "S:+OK ready", "S:+OK", "S:PIPELINING", "S:.", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3 *p = connected(&sv, script);

	(void)state;
	assert_int_equal(pop3_open(p, TLS_NONE, NULL, &err), 0);
	assert_true(pop3_caps(p)->pipelining);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

/* A server that refuses us in its greeting: its reason, not CAPA's fate. */
static void open__when_greeting_err__then_server_reason(void **state)
{
	static const char *const script[] = { "S:-ERR [SYS/TEMP] too many connections", NULL };
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3 *p = connected(&sv, script);

	(void)state;
	assert_int_equal(pop3_open(p, TLS_NONE, NULL, &err), -1);
	assert_int_equal(err.cls, PF_ERR_SERVER);
	assert_non_null(strstr(err.msg, "too many connections"));
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

static void login__user_pass__when_no_sasl(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:USER", "S:UIDL", "S:.",
		"C:USER alice", "S:+OK", "C:PASS s3cret", "S:+OK in", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3 *p = session(&sv, script);

	assert_int_equal(pop3_login(p, AUTH_AUTO, "alice", "s3cret", &err), 0);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

static void login__auto__prefers_plain(void **state)
{
	(void)state;
	/* base64("\0alice\0s3cret") */
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:SASL PLAIN LOGIN", "S:.",
		"C:AUTH PLAIN AGFsaWNlAHMzY3JldA==", "S:+OK", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3 *p = session(&sv, script);

	assert_int_equal(pop3_login(p, AUTH_AUTO, "alice", "s3cret", &err), 0);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

/* Courier and qmail hand the connection to a new process once the login
 * checks out, and Cyrus drops input arriving with AUTH: "Q" fails if
 * anything follows AUTH before its reply.  STAT and UIDL then still go
 * out together, before pop3_login returns. */
static void login__plain__then_nothing_behind_auth_until_its_reply(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:SASL PLAIN", "S:PIPELINING", "S:.",
		"C:AUTH PLAIN AGFsaWNlAHMzY3JldA==", "Q", "S:+OK in", "W:2", "C:STAT", "C:UIDL",
		"S:+OK 1 10", "S:+OK", "S:1 u1", "S:.", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3_msg *m;
	size_t n;
	struct pop3 *p = session(&sv, script);

	pop3_expect_listing(p);
	assert_int_equal(pop3_login(p, AUTH_AUTO, "alice", "s3cret", &err), 0);
	assert_int_equal(pop3_listing(p, &m, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].uid, "u1");
	free(m);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

/* USER and PASS still travel together; nothing follows PASS before its
 * reply, and the listing goes out together once it has come. */
static void login__user_pass__then_nothing_behind_pass_until_its_reply(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:USER", "S:PIPELINING", "S:.", "W:2",
		"C:USER alice", "C:PASS s3cret", "Q", "S:+OK", "S:+OK in", "W:2", "C:STAT",
		"C:UIDL", "S:+OK 0 0", "S:+OK", "S:.", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3_msg *m;
	size_t n;
	struct pop3 *p = session(&sv, script);

	pop3_expect_listing(p);
	assert_int_equal(pop3_login(p, AUTH_USER, "alice", "s3cret", &err), 0);
	assert_int_equal(pop3_listing(p, &m, &n, &err), 0);
	assert_int_equal(n, 0);
	free(m);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

static void login__user_pass_pipelined_refused_is_auth_error(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:USER", "S:PIPELINING", "S:.", "W:2",
		"C:USER alice", "C:PASS wrong", "Q", "S:+OK", "S:-ERR [AUTH] no", "Q", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3 *p = session(&sv, script);

	pop3_expect_listing(p);
	assert_int_equal(pop3_login(p, AUTH_USER, "alice", "wrong", &err), -1);
	assert_int_equal(err.cls, PF_ERR_AUTH);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

static void login__no_pipelining_waits_for_the_login(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:SASL PLAIN", "S:.",
		"C:AUTH PLAIN AGFsaWNlAHMzY3JldA==", "Q", "S:+OK in", "C:STAT", "S:+OK 0 0",
		"C:UIDL", "S:+OK", "S:.", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3_msg *m;
	size_t n;
	struct pop3 *p = session(&sv, script);

	pop3_expect_listing(p);
	assert_int_equal(pop3_login(p, AUTH_AUTO, "alice", "s3cret", &err), 0);
	assert_int_equal(pop3_listing(p, &m, &n, &err), 0);
	assert_int_equal(n, 0);
	free(m);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

/* A continuation is part of the login too: with PIPELINING and the
 * listing expected, nothing follows the AUTH line or the continuation
 * before its reply; STAT and UIDL go together after the +OK. */
static void login__plain_continuation__then_nothing_behind_it_until_its_reply(void **state)
{
	(void)state;
	static char secret[300], b64line[512];
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:SASL PLAIN", "S:PIPELINING", "S:.",
		"C:AUTH PLAIN", "Q", "S:+ ", b64line, "Q", "S:+OK in", "W:2", "C:STAT", "C:UIDL",
		"S:+OK 0 0", "S:+OK", "S:.", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	unsigned char raw[512];
	size_t rl, bl, n;
	struct pop3_msg *m;
	struct pop3 *p;

	memset(secret, 's', sizeof secret - 1);
	assert_int_equal(sasl_plain("a", secret, raw, sizeof raw, &rl), 0);
	b64line[0] = 'C', b64line[1] = ':';
	assert_int_equal(sasl_b64_encode(raw, rl, b64line + 2, sizeof b64line - 2, &bl), 0);
	p = session(&sv, script);
	pop3_expect_listing(p);
	assert_int_equal(pop3_login(p, AUTH_PLAIN, "a", secret, &err), 0);
	assert_int_equal(pop3_listing(p, &m, &n, &err), 0);
	assert_int_equal(n, 0);
	free(m);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

static void login__long_plain__uses_continuation(void **state)
{
	(void)state;
	/* RFC 5034: an initial response over 255 octets goes after "+ ". */
	static char secret[300], b64line[512];
	static const char *script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:SASL PLAIN", "S:.",
		"C:AUTH PLAIN", "S:+ ", b64line, "S:+OK", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3 *p;

	memset(secret, 'x', sizeof secret - 1);
	/* The expected continuation: base64("\0a\0" + secret), computed
	 * here independently of OpenSSL's encoder. */
	{
		static const char tbl[] =
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		unsigned char raw[3 + sizeof secret];
		size_t rl = 0, i, o = 2;

		raw[rl++] = 0, raw[rl++] = 'a', raw[rl++] = 0;
		memcpy(raw + rl, secret, sizeof secret - 1);
		rl += sizeof secret - 1;
		b64line[0] = 'C', b64line[1] = ':';
		for (i = 0; i < rl; i += 3) {
			unsigned v = raw[i] << 16 | (i + 1 < rl ? raw[i + 1] << 8 : 0) |
				     (i + 2 < rl ? raw[i + 2] : 0);
			b64line[o++] = tbl[v >> 18 & 63];
			b64line[o++] = tbl[v >> 12 & 63];
			b64line[o++] = i + 1 < rl ? tbl[v >> 6 & 63] : '=';
			b64line[o++] = i + 2 < rl ? tbl[v & 63] : '=';
		}
		b64line[o] = '\0';
	}
	p = session(&sv, script);
	assert_int_equal(pop3_login(p, AUTH_PLAIN, "a", secret, &err), 0);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

static void login__refused__is_auth_error(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:-ERR no", "C:USER alice", "S:+OK",
		"C:PASS bad", "S:-ERR [AUTH] invalid login", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3 *p = session(&sv, script);

	assert_int_equal(pop3_login(p, AUTH_AUTO, "alice", "bad", &err), -1);
	assert_int_equal(err.cls, PF_ERR_AUTH);
	assert_non_null(strstr(err.msg, "invalid login"));
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

static void login__in_use__is_server_error(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:-ERR no", "C:USER alice", "S:+OK",
		"C:PASS good", "S:-ERR [IN-USE] mailbox locked", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3 *p = session(&sv, script);

	assert_int_equal(pop3_login(p, AUTH_AUTO, "alice", "good", &err), -1);
	assert_int_equal(err.cls, PF_ERR_SERVER);
	assert_int_equal(pop3_last_code(p), POP3_CODE_IN_USE);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

static void trace__masks_password(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:-ERR", "C:USER alice", "S:+OK",
		"C:PASS hunter2secret", "S:+OK", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3 *p;
	char path[] = "/tmp/test_pop3_traceXXXXXX", buf[8192];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	ssize_t n;

	assert_true(fd >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	log_set_level(LOG_LVL_TRACE);
	p = session(&sv, script);
	assert_int_equal(pop3_login(p, AUTH_USER, "alice", "hunter2secret", &err), 0);
	pop3_free(p);
	fflush(stderr);
	log_set_level(LOG_LVL_INFO);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof buf - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	close(fd);
	unlink(path);
	assert_non_null(strstr(buf, "C: PASS ****"));
	assert_non_null(strstr(buf, "C: USER alice"));
	assert_null(strstr(buf, "hunter2"));
	assert_int_equal(server_status(&sv), 0);
}

/* Runs one login against script with the -vv trace captured into trace;
 * returns pop3_login's result and asserts the server saw the script. */
static int traced_login(const char *const *script, enum auth_mech mech, const char *user,
			const char *secret, struct pf_error *err, char *trace, size_t cap)
{
	char path[] = "/tmp/test_pop3_traceXXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO), rc;
	struct server sv;
	struct pop3 *p;
	ssize_t n;

	assert_true(fd >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	log_set_level(LOG_LVL_TRACE);
	p = session(&sv, script);
	pop3_set_peer(p, "pop.example.com", "995");
	rc = pop3_login(p, mech, user, secret, err);
	pop3_free(p);
	fflush(stderr);
	log_set_level(LOG_LVL_INFO);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, trace, cap - 1, 0);
	assert_true(n >= 0);
	trace[n] = '\0';
	close(fd);
	unlink(path);
	assert_int_equal(server_status(&sv), 0);
	return rc;
}

static void login__auto_without_plain__uses_login(void **state)
{
	(void)state;
	/* draft-murchison-sasl-login: user name, then password, each after
	 * a challenge; the trace masks both. */
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:USER", "S:SASL LOGIN CRAM-MD5", "S:.",
		"C:AUTH LOGIN", "S:+ VXNlcm5hbWU6", "C:YWxpY2U=", "S:+ UGFzc3dvcmQ6",
		"C:czNjcmV0", "S:+OK logged in", NULL,
	};
	struct pf_error err = { 0 };
	char trace[8192];

	assert_int_equal(traced_login(script, AUTH_AUTO, "alice", "s3cret", &err, trace,
				      sizeof trace), 0);
	assert_non_null(strstr(trace, "C: AUTH LOGIN"));
	assert_non_null(strstr(trace, "C: ****"));
	assert_null(strstr(trace, "YWxpY2U="));
	assert_null(strstr(trace, "czNjcmV0"));
	assert_null(strstr(trace, "s3cret"));
}

static void login__cram_md5__rfc2195_exchange(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:SASL PLAIN CRAM-MD5", "S:.",
		"C:AUTH CRAM-MD5", "S:+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
		"C:dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw", "S:+OK", NULL,
	};
	struct pf_error err = { 0 };
	char trace[8192];

	assert_int_equal(traced_login(script, AUTH_CRAM_MD5, "tim", "tanstaaftanstaaf", &err,
				      trace, sizeof trace), 0);
	assert_null(strstr(trace, "dGltIGI5"));
}

static void login__cram_md5_bad_challenge__is_protocol_error(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:SASL CRAM-MD5", "S:.",
		"C:AUTH CRAM-MD5", "S:+ not base64!", "Q", NULL,
	};
	struct pf_error err = { 0 };
	char trace[8192];

	assert_int_equal(traced_login(script, AUTH_CRAM_MD5, "tim", "x", &err, trace,
				      sizeof trace), -1);
	assert_int_equal(err.cls, PF_ERR_PROTO);
}

static void login__apop__rfc1939_digest(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>", "C:CAPA", "S:-ERR",
		"C:APOP mrose c4c9334bac560ecc979e58001b3e22fb", "S:+OK maildrop has 1 message",
		NULL,
	};
	struct pf_error err = { 0 };
	char trace[8192];

	assert_int_equal(traced_login(script, AUTH_APOP, "mrose", "tanstaaf", &err, trace,
				      sizeof trace), 0);
	assert_non_null(strstr(trace, "C: APOP mrose ****"));
	assert_null(strstr(trace, "c4c9334b"));
}

static void login__apop_without_timestamp__sends_nothing(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:-ERR", "Q", NULL,
	};
	struct pf_error err = { 0 };
	char trace[8192];

	assert_int_equal(traced_login(script, AUTH_APOP, "mrose", "tanstaaf", &err, trace,
				      sizeof trace), -1);
	assert_int_equal(err.cls, PF_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "APOP"));
}

static void login__xoauth2__waits_for_the_challenge(void **state)
{
	(void)state;
	/* Outlook: "AUTH XOAUTH2" alone, the token only after "+". */
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:SASL PLAIN XOAUTH2", "S:.",
		"C:AUTH XOAUTH2", "Q", "S:+ ", "C:dXNlcj1hbGljZQFhdXRoPUJlYXJlciB0b2sBAQ==",
		"S:+OK", NULL,
	};
	struct pf_error err = { 0 };
	char trace[8192];

	assert_int_equal(traced_login(script, AUTH_XOAUTH2, "alice", "tok", &err, trace,
				      sizeof trace), 0);
	assert_null(strstr(trace, "dXNlcj1h"));
}

static void login__xoauth2_error__empty_reply_then_err(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:SASL XOAUTH2", "S:.",
		"C:AUTH XOAUTH2", "S:+ ", "C:dXNlcj1hbGljZQFhdXRoPUJlYXJlciB0b2sBAQ==",
		"S:+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=", "C:",
		"S:-ERR [AUTH] Authentication failed", NULL,
	};
	struct pf_error err = { 0 };
	char trace[8192];

	assert_int_equal(traced_login(script, AUTH_XOAUTH2, "alice", "tok", &err, trace,
				      sizeof trace), -1);
	assert_int_equal(err.cls, PF_ERR_AUTH);
	assert_non_null(strstr(err.msg, "Authentication failed"));
	assert_non_null(strstr(err.msg, "invalid_token"));
}

static void login__oauthbearer__initial_response_with_peer(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:SASL OAUTHBEARER", "S:.",
		"C:AUTH OAUTHBEARER bixhPWFsaWNlLAFob3N0PXBvcC5leGFtcGxlLmNvbQFwb3J0PTk5NQFhdXRoPUJl"
		"YXJlciB0b2sBAQ==",
		"S:+OK", NULL,
	};
	struct pf_error err = { 0 };
	char trace[8192];

	assert_int_equal(traced_login(script, AUTH_OAUTHBEARER, "alice", "tok", &err, trace,
				      sizeof trace), 0);
	assert_non_null(strstr(trace, "C: AUTH OAUTHBEARER ****"));
	assert_null(strstr(trace, "bixh"));
}

static void login__oauthbearer_error__replies_0x01(void **state)
{
	(void)state;
	/* RFC 7628 section 3.2.3: after the error challenge, a single ^A. */
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:SASL OAUTHBEARER", "S:.",
		"C:AUTH OAUTHBEARER bixhPWFsaWNlLAFob3N0PXBvcC5leGFtcGxlLmNvbQFwb3J0PTk5NQFhdXRoPUJl"
		"YXJlciB0b2sBAQ==",
		"S:+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=", "C:AQ==", "S:-ERR SASL failed", NULL,
	};
	struct pf_error err = { 0 };
	char trace[8192];

	assert_int_equal(traced_login(script, AUTH_OAUTHBEARER, "alice", "tok", &err, trace,
				      sizeof trace), -1);
	assert_int_equal(err.cls, PF_ERR_AUTH);
	assert_non_null(strstr(err.msg, "invalid_token"));
}

static void login__long_oauthbearer__uses_continuation(void **state)
{
	(void)state;
	/* RFC 5034 section 4: over 255 octets the response follows "+ ". The
	 * expected line was written by another tool, not by the client's own
	 * functions: base64 (Python's) of the RFC 7628 message
	 * "n,a=alice,^Ahost=pop.example.com^Aport=995^Aauth=Bearer " + 399 "T"
	 * + "^A^A" (454 octets; ^A is 0x01). */
	static char token[400];
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:SASL OAUTHBEARER", "S:.",
		"C:AUTH OAUTHBEARER", "S:+ ",
		"C:bixhPWFsaWNlLAFob3N0PXBvcC5leGFtcGxlLmNvbQFwb3J0PTk5NQFhdXRoPUJlYXJlciBUVFRUVF"
		"RUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVF"
		"RUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVF"
		"RUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVF"
		"RUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVF"
		"RUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVF"
		"RUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVF"
		"RUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFRUVFQBAQ==",
		"S:+OK", NULL,
	};
	struct pf_error err = { 0 };
	char trace[8192];

	memset(token, 'T', sizeof token - 1);
	assert_int_equal(traced_login(script, AUTH_OAUTHBEARER, "alice", token, &err, trace,
				      sizeof trace), 0);
	assert_null(strstr(trace, "TTTT"));
}

static void login__mech_not_offered__sends_nothing(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:SASL PLAIN LOGIN", "S:.", "Q", NULL,
	};
	struct pf_error err = { 0 };
	char trace[8192];

	assert_int_equal(traced_login(script, AUTH_CRAM_MD5, "alice", "s3cret", &err, trace,
				      sizeof trace), -1);
	assert_int_equal(err.cls, PF_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "CRAM-MD5"));
	assert_non_null(strstr(err.msg, "PLAIN LOGIN"));
}

static void login__sasl_refused__is_auth_error(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:SASL PLAIN", "S:.",
		"C:AUTH PLAIN AGFsaWNlAGJhZA==", "S:-ERR [AUTH] Authentication failed.", NULL,
	};
	struct pf_error err = { 0 };
	char trace[8192];

	assert_int_equal(traced_login(script, AUTH_AUTO, "alice", "bad", &err, trace,
				      sizeof trace), -1);
	assert_int_equal(err.cls, PF_ERR_AUTH);
	assert_non_null(strstr(err.msg, "AUTH PLAIN"));
	assert_non_null(strstr(trace, "C: AUTH PLAIN ****"));
	assert_null(strstr(trace, "AGFsaWNl"));
}

static const char *const login_ok[] = { "C:USER u", "S:+OK", "C:PASS p", "S:+OK" };

/* Builds greeting + CAPA (with or without PIPELINING) + login + rest. */
static const char **script_with(const char *capa_extra, const char *const *rest)
{
	static const char *buf[64];
	size_t n = 0, i;

	buf[n++] = "S:+OK ready";
	buf[n++] = "C:CAPA";
	buf[n++] = "S:+OK";
	buf[n++] = "S:UIDL";
	if (capa_extra)
		buf[n++] = capa_extra;
	buf[n++] = "S:.";
	for (i = 0; i < 4; i++)
		buf[n++] = login_ok[i];
	for (i = 0; rest[i] != NULL && n < 63; i++)
		buf[n++] = rest[i];
	buf[n] = NULL;
	return buf;
}

static struct pop3 *logged_in(struct server *sv, const char *capa_extra, const char *const *rest)
{
	struct pf_error err = { 0 };
	struct pop3 *p = session(sv, script_with(capa_extra, rest));

	assert_int_equal(pop3_login(p, AUTH_USER, "u", "p", &err), 0);
	return p;
}

static void listing__reads_uids_and_sizes(void **state)
{
	(void)state;
	static const char *const rest[] = {
		"C:STAT", "S:+OK 2 300", "C:UIDL", "S:+OK", "S:1 aaa", "S:2   bbb", "S:.",
		"C:LIST", "S:+OK", "S:1 100", "S:2 200", "S:.", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3_msg *m;
	size_t n;
	struct pop3 *p = logged_in(&sv, NULL, rest);

	assert_int_equal(pop3_listing(p, &m, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(m[0].uid, "aaa");
	assert_string_equal(m[1].uid, "bbb");
	assert_int_equal(m[0].size, 0); /* not asked yet */
	assert_false(pop3_have_sizes(p));
	assert_int_equal(pop3_maildrop_octets(p), 300);
	assert_int_equal(pop3_sizes_send(p, &err), 0);
	assert_int_equal(pop3_sizes_read(p, m, n, &err), 0);
	assert_true(pop3_have_sizes(p));
	assert_int_equal(m[0].size, 100);
	assert_int_equal(m[1].size, 200);
	assert_int_equal(m[1].num, 2);
	free(m);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

/* LIST that leaves out a message of the listing is not trusted. */
static void sizes__when_incomplete__then_protocol_error(void **state)
{
	(void)state;
	static const char *const rest[] = {
		"C:STAT", "S:+OK 2 300", "C:UIDL", "S:+OK", "S:1 aaa", "S:2 bbb", "S:.",
		"C:LIST", "S:+OK", "S:1 100", "S:.", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3_msg *m;
	size_t n;
	struct pop3 *p = logged_in(&sv, NULL, rest);

	assert_int_equal(pop3_listing(p, &m, &n, &err), 0);
	assert_int_equal(pop3_sizes_send(p, &err), 0);
	assert_int_equal(pop3_sizes_read(p, m, n, &err), -1);
	assert_int_equal(err.cls, PF_ERR_PROTO);
	assert_non_null(strstr(err.msg, "incomplete"));
	free(m);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

/* Without UIDL the listing needs the sizes at once (everything is new). */
static void listing__when_no_uidl__then_sizes_at_once(void **state)
{
	(void)state;
	static const char *const rest[] = {
		"C:STAT", "S:+OK 1 42", "C:UIDL", "S:-ERR no UIDL here",
		"C:LIST", "S:+OK", "S:1 42", "S:.", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3_msg *m;
	size_t n;
	struct pop3 *p = logged_in(&sv, NULL, rest);

	assert_int_equal(pop3_listing(p, &m, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].uid, "");
	assert_true(pop3_have_sizes(p));
	assert_int_equal(m[0].size, 42);
	free(m);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

static void listing__pipelined__when_advertised(void **state)
{
	static const char *const rest[] = {
		"W:2", "C:STAT", "C:UIDL", "S:+OK 1 10", "S:+OK", "S:1 u1", "S:.", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3_msg *m;
	size_t n;
	struct pop3 *p;

	(void)state;
	p = logged_in(&sv, "S:PIPELINING", rest);
	assert_int_equal(pop3_listing(p, &m, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].uid, "u1");
	assert_int_equal(pop3_maildrop_octets(p), 10);
	free(m);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

/* Issue 12: two messages with one uid are both marked, to be left alone;
 * the rest of the listing is usable. */
static void listing__shared_uid__marks_both(void **state)
{
	(void)state;
	static const char *const rest[] = {
		"C:STAT", "S:+OK 3 300", "C:UIDL", "S:+OK", "S:1 same", "S:2 other", "S:3 same",
		"S:.", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3_msg *m = NULL;
	size_t n;
	struct pop3 *p = logged_in(&sv, NULL, rest);

	assert_int_equal(pop3_listing(p, &m, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(m[0].uid_state, POP3_UID_SHARED);
	assert_int_equal(m[1].uid_state, POP3_UID_OK);
	assert_string_equal(m[1].uid, "other");
	assert_int_equal(m[2].uid_state, POP3_UID_SHARED);
	/* Each its own key, for reporting each once a poll. */
	assert_int_not_equal(m[0].bad_key, m[2].bad_key);
	free(m);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

static void listing__more_lines_than_stat__is_refused(void **state)
{
	(void)state;
	static const char *const rest[] = {
		"C:STAT", "S:+OK 1 100", "C:UIDL", "S:+OK", "S:1 a", "S:2 b", "S:.", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3_msg *m = NULL;
	size_t n;
	struct pop3 *p = logged_in(&sv, NULL, rest);

	assert_int_equal(pop3_listing(p, &m, &n, &err), -1);
	assert_int_equal(err.cls, PF_ERR_PROTO);
	pop3_free(p);
	server_status(&sv);
}

/* Issue 12: an invalid uid costs its message only; the same bad text gets
 * the same key (a later session renumbers), another text another key. */
static void listing__bad_uid__marks_the_message(void **state)
{
	(void)state;
	static const char *const rest[] = {
		"C:STAT", "S:+OK 4 100", "C:UIDL", "S:+OK", "S:1 \x01" "bad", "S:2 good",
		"S:3 two words", "S:4 \x01" "bad", "S:.", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3_msg *m = NULL;
	size_t n;
	struct pop3 *p = logged_in(&sv, NULL, rest);

	assert_int_equal(pop3_listing(p, &m, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(m[0].uid_state, POP3_UID_INVALID);
	assert_string_equal(m[0].uid, "");
	assert_int_equal(m[1].uid_state, POP3_UID_OK);
	assert_int_equal(m[2].uid_state, POP3_UID_INVALID);
	assert_int_equal(m[3].uid_state, POP3_UID_INVALID);
	assert_int_equal(m[0].bad_key, m[3].bad_key);
	assert_int_not_equal(m[0].bad_key, m[2].bad_key);
	free(m);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

/* A line that names no message is not a listing: nothing of it is used. */
static void listing__garbage_line__is_refused(void **state)
{
	(void)state;
	static const char *const rest[] = {
		"C:STAT", "S:+OK 2 100", "C:UIDL", "S:+OK", "S:1 a", "S:\x01garbage", "S:.", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3_msg *m = NULL;
	size_t n;
	struct pop3 *p = logged_in(&sv, NULL, rest);

	assert_int_equal(pop3_listing(p, &m, &n, &err), -1);
	assert_int_equal(err.cls, PF_ERR_PROTO);
	/* The error text is sanitised: no raw control character. */
	assert_null(strchr(err.msg, '\x01'));
	pop3_free(p);
	server_status(&sv);
}

/* A listing cut off before its terminating dot is no listing either. */
static void listing__without_terminating_dot__is_refused(void **state)
{
	(void)state;
	static const char *const rest[] = {
		"C:STAT", "S:+OK 2 100", "C:UIDL", "S:+OK", "S:1 a", "S:2 b", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3_msg *m = NULL;
	size_t n;
	struct pop3 *p = logged_in(&sv, NULL, rest);

	assert_int_equal(pop3_listing(p, &m, &n, &err), -1);
	assert_int_not_equal(err.cls, PF_ERR_NONE);
	pop3_free(p);
	server_status(&sv);
}

static void read_message(struct pop3 *p, const char *expect)
{
	struct pf_error err = { 0 };
	char out[PF_IOBUF_SIZE + 2], got[256] = "";
	size_t len, used = 0;
	int done = 0;

	assert_int_equal(pop3_retr_begin(p, &err), 0);
	while (!done) {
		assert_int_equal(pop3_retr_read(p, out, &len, &done, &err), 0);
		assert_true(used + len < sizeof got);
		memcpy(got + used, out, len);
		used += len;
	}
	got[used] = '\0';
	assert_string_equal(got, expect);
}

static void retr__pipelined__when_advertised(void **state)
{
	(void)state;
	static const char *const rest[] = {
		"W:3", "C:RETR 1", "C:RETR 2", "C:RETR 3",
		"S:+OK", "S:one", "S:.", "S:-ERR [SYS/TEMP] gone", "S:+OK", "S:..three", "S:.",
		"C:DELE 1", "C:DELE 3", "S:+OK", "S:+OK", "C:QUIT", "S:+OK bye", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3 *p = logged_in(&sv, "S:PIPELINING", rest);

	for (unsigned long i = 1; i <= 3; i++)
		assert_int_equal(pop3_retr_queue(p, i, &err), 0);
	read_message(p, "one\n");
	assert_int_equal(pop3_retr_begin(p, &err), -1);
	assert_int_equal(err.cls, PF_ERR_SERVER);
	assert_int_equal(pop3_last_code(p), POP3_CODE_SYS_TEMP);
	pf_error_clear(&err);
	read_message(p, ".three\n");
	assert_int_equal(pop3_dele_queue(p, 1, &err), 0);
	assert_int_equal(pop3_dele_queue(p, 3, &err), 0);
	assert_int_equal(pop3_dele_flush(p, &err), 0);
	assert_int_equal(pop3_quit(p, &err), 0);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

static void retr__lock_step__without_pipelining(void **state)
{
	(void)state;
	static const char *const rest[] = {
		"C:RETR 1", "Q", "S:+OK", "S:a", "S:.", "C:RETR 2", "Q", "S:+OK", "S:b", "S:.",
		"C:QUIT", "S:+OK", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct pop3 *p = logged_in(&sv, NULL, rest);

	assert_int_equal(pop3_retr_queue(p, 1, &err), 0);
	assert_int_equal(pop3_retr_queue(p, 2, &err), 0);
	read_message(p, "a\n");
	read_message(p, "b\n");
	assert_int_equal(pop3_quit(p, &err), 0);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

/* RFC 2595: STLS only when CAPA offers it, and nothing more is sent. */
static void open__starttls_not_offered__is_tls_error_and_sends_nothing(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:USER", "S:.", "Q", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct conn_tls_opts o = pinned_opts();
	struct pop3 *p = connected(&sv, script);

	assert_int_equal(pop3_open(p, TLS_STARTTLS, &o, &err), -1);
	assert_int_equal(err.cls, PF_ERR_TLS);
	assert_non_null(strstr(err.msg, "STLS"));
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

/* The whole STARTTLS opening: CAPA before the greeting, STLS, the
 * handshake, CAPA again; what the first CAPA said (PIPELINING, SASL
 * PLAIN: a man in the middle could have added them) is gone, only the
 * second one counts. */
static void open__starttls__capa_again_after_tls_replaces_the_first(void **state)
{
	(void)state;
	static const char *const script[] = {
		"C:CAPA", "S:+OK ready", "S:+OK", "S:STLS", "S:PIPELINING", "S:SASL PLAIN", "S:.",
		"C:STLS", "S:+OK begin TLS", "T", "C:CAPA", "S:+OK", "S:USER", "S:UIDL", "S:.",
		NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct conn_tls_opts o = pinned_opts();
	struct pop3 *p = connected(&sv, script);

	assert_int_equal(pop3_open(p, TLS_STARTTLS, &o, &err), 0);
	assert_true(pop3_caps(p)->user);
	assert_true(pop3_caps(p)->uidl);
	assert_false(pop3_caps(p)->pipelining);
	assert_false(pop3_caps(p)->stls);
	assert_int_equal(sasl_auto_mech(pop3_caps(p)), AUTH_USER);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

/* Bytes after STLS's +OK, before the handshake, could be a man in the
 * middle's (CVE-2021-39272 class): refused, no CAPA in plaintext. */
static void open__starttls_data_after_ok__is_refused(void **state)
{
	(void)state;
	static const char *const script[] = {
		"S:+OK ready", "C:CAPA", "S:+OK", "S:STLS", "S:.", "C:STLS",
		"S:+OK begin TLS\r\n+OK injected", "Q", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct conn_tls_opts o = pinned_opts();
	struct pop3 *p = connected(&sv, script);

	assert_int_equal(pop3_open(p, TLS_STARTTLS, &o, &err), -1);
	assert_int_equal(err.cls, PF_ERR_TLS);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

/* Implicit TLS: the handshake comes first (the server here speaks only
 * after it), then greeting and CAPA; no STLS. */
static void open__implicit_tls__handshake_before_the_greeting(void **state)
{
	(void)state;
	static const char *const script[] = {
		"T", "S:+OK ready", "C:CAPA", "S:+OK", "S:USER", "S:PIPELINING", "S:.", NULL,
	};
	struct server sv;
	struct pf_error err = { 0 };
	struct conn_tls_opts o = pinned_opts();
	struct pop3 *p = connected(&sv, script);

	assert_int_equal(pop3_open(p, TLS_IMPLICIT, &o, &err), 0);
	assert_true(pop3_caps(p)->pipelining);
	pop3_free(p);
	assert_int_equal(server_status(&sv), 0);
}

/* A certificate that does not match the pin fails the opening. */
static void open__implicit_tls_wrong_pin__is_tls_error(void **state)
{
	(void)state;
	static const char *const script[] = { "T", NULL };
	struct server sv;
	struct pf_error err = { 0 };
	struct conn_tls_opts o = { .verify_name = "127.0.0.1",
				   .fingerprint = "sha256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
						  "EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
						  "EE:FF" };
	struct pop3 *p = connected(&sv, script);

	assert_int_equal(pop3_open(p, TLS_IMPLICIT, &o, &err), -1);
	assert_int_equal(err.cls, PF_ERR_TLS);
	pop3_free(p);
	server_status(&sv); /* the handshake failed on its side too */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open__then_capa_sent_before_the_greeting_is_read),
		cmocka_unit_test(open__when_greeting_err__then_server_reason),
		cmocka_unit_test(login__user_pass__when_no_sasl),
		cmocka_unit_test(login__auto__prefers_plain),
		cmocka_unit_test(login__long_plain__uses_continuation),
		cmocka_unit_test(login__plain_continuation__then_nothing_behind_it_until_its_reply),
		cmocka_unit_test(login__plain__then_nothing_behind_auth_until_its_reply),
		cmocka_unit_test(login__user_pass__then_nothing_behind_pass_until_its_reply),
		cmocka_unit_test(login__user_pass_pipelined_refused_is_auth_error),
		cmocka_unit_test(login__no_pipelining_waits_for_the_login),
		cmocka_unit_test(login__refused__is_auth_error),
		cmocka_unit_test(login__in_use__is_server_error),
		cmocka_unit_test(trace__masks_password),
		cmocka_unit_test(login__auto_without_plain__uses_login),
		cmocka_unit_test(login__cram_md5__rfc2195_exchange),
		cmocka_unit_test(login__cram_md5_bad_challenge__is_protocol_error),
		cmocka_unit_test(login__apop__rfc1939_digest),
		cmocka_unit_test(login__apop_without_timestamp__sends_nothing),
		cmocka_unit_test(login__xoauth2__waits_for_the_challenge),
		cmocka_unit_test(login__xoauth2_error__empty_reply_then_err),
		cmocka_unit_test(login__oauthbearer__initial_response_with_peer),
		cmocka_unit_test(login__oauthbearer_error__replies_0x01),
		cmocka_unit_test(login__long_oauthbearer__uses_continuation),
		cmocka_unit_test(login__mech_not_offered__sends_nothing),
		cmocka_unit_test(login__sasl_refused__is_auth_error),
		cmocka_unit_test(listing__reads_uids_and_sizes),
		cmocka_unit_test(listing__pipelined__when_advertised),
		cmocka_unit_test(sizes__when_incomplete__then_protocol_error),
		cmocka_unit_test(listing__when_no_uidl__then_sizes_at_once),
		cmocka_unit_test(listing__shared_uid__marks_both),
		cmocka_unit_test(listing__more_lines_than_stat__is_refused),
		cmocka_unit_test(listing__bad_uid__marks_the_message),
		cmocka_unit_test(listing__garbage_line__is_refused),
		cmocka_unit_test(listing__without_terminating_dot__is_refused),
		cmocka_unit_test(retr__pipelined__when_advertised),
		cmocka_unit_test(retr__lock_step__without_pipelining),
		cmocka_unit_test(open__starttls_not_offered__is_tls_error_and_sends_nothing),
		cmocka_unit_test(open__starttls__capa_again_after_tls_replaces_the_first),
		cmocka_unit_test(open__starttls_data_after_ok__is_refused),
		cmocka_unit_test(open__implicit_tls__handshake_before_the_greeting),
		cmocka_unit_test(open__implicit_tls_wrong_pin__is_tls_error),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, make_tls_identity, free_tls_identity);
}
