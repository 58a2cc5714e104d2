/* conn_tls.c - see conn_tls.h.  OpenSSL 3: client context, trust, host
 * name or fingerprint verification, and a socket BIO built on send/recv. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls_cert.h"
#include "util.h"

#include "conn_tls.h"

/* "TLSv1.3 TLS_AES_256_GCM_SHA384": OpenSSL's own names, never server text. */
#define TLS_DESC_MAX 96

struct conn_tls {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO_METHOD *meth;
	char *peer;        /* host name for messages */
	char *verify_name; /* name checked against subjectAltName; NULL if pinned */
	int pinned;        /* verify by fingerprint instead of CA + name */
	int fatal;         /* OpenSSL forbids SSL_shutdown after a fatal error */
	int inspect;       /* conn_tls_opts.insecure_inspect */
	long verify_result; /* X509_V_OK, or why the chain or name failed */
	unsigned char pin[TLS_CERT_FP_LEN];
	char desc[TLS_DESC_MAX];
};

/* --- a socket BIO that cannot raise SIGPIPE ----------------------------
 * OpenSSL's socket BIO uses write(2), which raises SIGPIPE when the server
 * has reset the connection; Linux has no SO_NOSIGPIPE, and a library module
 * must not change the process's signal dispositions.  So this BIO sends with
 * MSG_NOSIGNAL: a dead peer becomes EPIPE, reported like any lost
 * connection.  The fd lives in the BIO's data pointer; conn.c closes it. */

static int bio_fd(BIO *b)
{
	return (int)(intptr_t)BIO_get_data(b);
}

static int bio_retryable(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

static int bio_write(BIO *b, const char *data, int len)
{
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(bio_fd(b), data, (size_t)len, MSG_NOSIGNAL);
	if (n < 0 && bio_retryable(errno))
		BIO_set_retry_write(b);
	return (int)n;
}

static int bio_read(BIO *b, char *data, int len)
{
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = recv(bio_fd(b), data, (size_t)len, 0);
	if (n < 0 && bio_retryable(errno))
		BIO_set_retry_read(b);
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)num;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1; /* send() does not buffer: nothing to flush */
	case BIO_C_GET_FD:
		if (ptr != NULL)
			*(int *)ptr = bio_fd(b);
		return bio_fd(b);
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO *nosigpipe_bio(struct conn_tls *t, int fd)
{
	BIO *b;

	/* One method per connection: no global state, safe with threads. */
	t->meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
			       "popfetch socket");
	if (t->meth == NULL || !BIO_meth_set_write(t->meth, bio_write) ||
	    !BIO_meth_set_read(t->meth, bio_read) || !BIO_meth_set_ctrl(t->meth, bio_ctrl) ||
	    !BIO_meth_set_create(t->meth, bio_create))
		return NULL;
	b = BIO_new(t->meth);
	if (b != NULL)
		BIO_set_data(b, (void *)(intptr_t)fd);
	return b;
}

/* --- helpers ------------------------------------------------------------ */

/* OpenSSL's reason for the last error, a static string.  A failed system
 * call (fopen of a CA file) is first in the queue and says the most. */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_error();
	const char *r;

	if (e != 0 && ERR_SYSTEM_ERROR(e))
		return strerror(ERR_GET_REASON(e));
	e = ERR_peek_last_error();
	r = e != 0 ? ERR_reason_error_string(e) : NULL;

	return r != NULL ? r : "unknown OpenSSL error";
}

static int is_ip_literal(const char *name)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
}

/* --- context ------------------------------------------------------------ */

/* An encrypted client key must fail, not prompt on a terminal from cron. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return 0;
}

static int load_trust(SSL_CTX *ctx, const struct conn_tls_opts *o, struct pf_error *err)
{
	if (o->ca_file == NULL && o->ca_dir == NULL) {
		if (SSL_CTX_set_default_verify_paths(ctx) != 1)
			return pf_error_set(err, PF_ERR_TLS,
					    "TLS: cannot load the system's trusted certificates: %s",
					    ssl_reason());
		return 0;
	}
	if (SSL_CTX_load_verify_locations(ctx, o->ca_file, o->ca_dir) != 1)
		return pf_error_set(err, PF_ERR_CONFIG, "TLS: cannot load CA certificates from %s: %s",
				    o->ca_file != NULL ? o->ca_file : o->ca_dir, ssl_reason());
	return 0;
}

static int load_client_cert(SSL_CTX *ctx, const struct conn_tls_opts *o, struct pf_error *err)
{
	if (o->cert_file == NULL && o->key_file == NULL)
		return 0;
	if (o->cert_file == NULL || o->key_file == NULL)
		return pf_error_set(err, PF_ERR_CONFIG,
				    "TLS: a client certificate needs both a certificate and a key file");
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1)
		return pf_error_set(err, PF_ERR_CONFIG, "TLS: cannot load client certificate %s: %s",
				    o->cert_file, ssl_reason());
	if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1)
		return pf_error_set(err, PF_ERR_CONFIG, "TLS: cannot load client key %s: %s",
				    o->key_file, ssl_reason());
	if (SSL_CTX_check_private_key(ctx) != 1)
		return pf_error_set(err, PF_ERR_CONFIG, "TLS: client key %s does not match certificate %s",
				    o->key_file, o->cert_file);
	return 0;
}

static int setup_ctx(struct conn_tls *t, const struct conn_tls_opts *o, struct pf_error *err)
{
	/* RFC 8996: never below TLS 1.2, whatever the configuration says. */
	int minv = o->min_version > TLS1_2_VERSION ? o->min_version : TLS1_2_VERSION;

	t->ctx = SSL_CTX_new(TLS_client_method());
	if (t->ctx == NULL)
		return pf_error_set(err, PF_ERR_INTERNAL, "TLS: cannot create a context: %s",
				    ssl_reason());
	if (SSL_CTX_set_min_proto_version(t->ctx, minv) != 1)
		return pf_error_set(err, PF_ERR_CONFIG, "TLS: unsupported minimum protocol version 0x%x",
				    (unsigned)minv);
	/* An EOF without close_notify reads as a plain EOF: POP3's own framing
	 * (the terminating "." line, RFC 1939 section 3) detects truncation, and
	 * many servers close without close_notify after QUIT. */
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (!t->pinned && load_trust(t->ctx, o, err) < 0)
		return -1;
	return load_client_cert(t->ctx, o, err);
}

/* SNI for DNS names only (RFC 6066 section 3 forbids IP literals); the
 * certificate name is checked against subjectAltName only (RFC 9525). */
static int setup_verify(struct conn_tls *t, const struct conn_tls_opts *o, struct pf_error *err)
{
	X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
	const char *name = o->verify_name;
	int ip = name != NULL && is_ip_literal(name);

	if (name != NULL && !ip && SSL_set_tlsext_host_name(t->ssl, name) != 1)
		return pf_error_set(err, PF_ERR_CONFIG, "TLS: cannot use %s as server name: %s", name,
				    ssl_reason());
	if (t->pinned) {
		/* The pin replaces chain and name checks (checked after the
		 * handshake, before any application data). */
		SSL_set_verify(t->ssl, SSL_VERIFY_NONE, NULL);
		return 0;
	}
	if (name == NULL || name[0] == '\0')
		return pf_error_set(err, PF_ERR_CONFIG,
				    "TLS: no server name to verify the certificate against");
	t->verify_name = xstrdup(name);
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
					X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if ((ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, name) : SSL_set1_host(t->ssl, name)) != 1)
		return pf_error_set(err, PF_ERR_CONFIG, "TLS: cannot verify against the name %s: %s",
				    name, ssl_reason());
	/* Inspecting: OpenSSL still verifies and keeps the result, but
	 * does not abort the handshake on it (check_peer records it). */
	SSL_set_verify(t->ssl, t->inspect ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	return 0;
}

struct conn_tls *conn_tls_new(int fd, const char *peer, const struct conn_tls_opts *opts,
			      struct pf_error *err)
{
	struct conn_tls *t = xcalloc(1, sizeof *t);
	BIO *bio;

	t->peer = xstrdup(peer);
	t->inspect = opts->insecure_inspect;
	ERR_clear_error();
	if (opts->fingerprint != NULL && !t->inspect) {
		if (tls_cert_fp_parse(opts->fingerprint, t->pin) < 0) {
			pf_error_set(err, PF_ERR_CONFIG,
				     "TLS: malformed fingerprint \"%s\" (want sha256:AB:CD:... or 64 hex digits)",
				     opts->fingerprint);
			goto fail;
		}
		t->pinned = 1;
	}
	if (setup_ctx(t, opts, err) < 0)
		goto fail;
	t->ssl = SSL_new(t->ctx);
	bio = t->ssl != NULL ? nosigpipe_bio(t, fd) : NULL;
	if (bio == NULL) {
		pf_error_set(err, PF_ERR_INTERNAL, "TLS: cannot set up a session: %s", ssl_reason());
		goto fail;
	}
	SSL_set_bio(t->ssl, bio, bio); /* t->ssl owns bio now */
	/* One recv for several records instead of two per record (header,
	 * then body); conn.c reads what is buffered before it polls. */
	SSL_set_read_ahead(t->ssl, 1);
	if (setup_verify(t, opts, err) < 0)
		goto fail;
	return t;
fail:
	conn_tls_free(t);
	return NULL;
}

/* --- handshake and verification ---------------------------------------- */

static int verify_error(struct conn_tls *t, long vr, struct pf_error *err)
{
	if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
		return pf_error_set(err, PF_ERR_TLS, "TLS: certificate does not match host name %s",
				    t->verify_name);
	return pf_error_set(err, PF_ERR_TLS, "TLS: certificate verify failed for %s: %s%s",
			    t->verify_name, X509_verify_cert_error_string(vr),
			    tls_cert_unknown_issuer(vr) ? " (self-signed or unknown CA?)" : "");
}

static int check_pin(struct conn_tls *t, X509 *cert, struct pf_error *err)
{
	unsigned char md[TLS_CERT_FP_LEN];
	char text[TLS_CERT_FP_TEXT_MAX];

	if (tls_cert_digest(cert, md) < 0)
		return pf_error_set(err, PF_ERR_INTERNAL, "TLS: cannot compute the certificate fingerprint: %s",
				    ssl_reason());
	/* Constant time: no timing hint about how much of the pin matched. */
	if (CRYPTO_memcmp(md, t->pin, TLS_CERT_FP_LEN) != 0) {
		tls_cert_fp_format(md, text);
		return pf_error_set(err, PF_ERR_TLS,
				    "TLS: server fingerprint %s does not match the configured one", text);
	}
	return 0;
}

static void describe(struct conn_tls *t)
{
	const SSL_CIPHER *ci = SSL_get_current_cipher(t->ssl);
	int n = snprintf(t->desc, sizeof t->desc, "%s %s", SSL_get_version(t->ssl),
			 ci != NULL ? SSL_CIPHER_get_name(ci) : "(no cipher)");

	if (n < 0 || (size_t)n >= sizeof t->desc)
		memcpy(t->desc, "TLS", sizeof "TLS");
}

static int check_peer(struct conn_tls *t, struct pf_error *err)
{
	X509 *cert = SSL_get0_peer_certificate(t->ssl);
	long vr;

	if (cert == NULL)
		return pf_error_set(err, PF_ERR_TLS, "TLS: server %s presented no certificate", t->peer);
	if (t->pinned) {
		if (check_pin(t, cert, err) < 0)
			return -1;
	} else {
		/* Do not rely on SSL_VERIFY_PEER having aborted the handshake:
		 * check the result ourselves (CVE-2019-8337 class). */
		vr = SSL_get_verify_result(t->ssl);
		t->verify_result = vr;
		if (vr != X509_V_OK && !t->inspect)
			return verify_error(t, vr, err);
	}
	describe(t);
	return 0;
}

static int handshake_error(struct conn_tls *t, int e, int saved_errno, struct pf_error *err)
{
	long vr = SSL_get_verify_result(t->ssl);

	t->fatal = 1;
	if (!t->pinned && vr != X509_V_OK)
		return verify_error(t, vr, err);
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && saved_errno != 0)
		return pf_error_errno(err, PF_ERR_TLS, saved_errno, "TLS handshake with %s failed",
				      t->peer);
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
		return pf_error_set(err, PF_ERR_TLS,
				    "TLS handshake with %s failed: connection closed by server", t->peer);
	return pf_error_set(err, PF_ERR_TLS, "TLS handshake with %s failed: %s", t->peer,
			    ssl_reason());
}

/* Maps SSL_get_error's answer to "wait for these events"; 0 if it is not
 * a retry. */
static short want_events(int e)
{
	if (e == SSL_ERROR_WANT_READ)
		return POLLIN;
	if (e == SSL_ERROR_WANT_WRITE)
		return POLLOUT;
	return 0;
}

/* One non-blocking OpenSSL call and what it left behind, taken at once
 * (SSL_get_error and errno are only meaningful right after the call). */
enum tls_call { TLS_CALL_CONNECT, TLS_CALL_READ, TLS_CALL_WRITE };

struct tls_step {
	int r;        /* the call's result: > 0 is success */
	int e;        /* SSL_get_error's code when it did not succeed */
	int saved;    /* errno as the call left it */
	short events; /* poll(2) events to wait for; 0: not a retry */
};

static void tls_step(struct conn_tls *t, enum tls_call call, void *in, const void *out, size_t n,
		     struct tls_step *s)
{
	int len = n > INT_MAX ? INT_MAX : (int)n;

	ERR_clear_error();
	errno = 0;
	s->r = call == TLS_CALL_CONNECT ? SSL_connect(t->ssl)
	       : call == TLS_CALL_READ ? SSL_read(t->ssl, in, len)
				       : SSL_write(t->ssl, out, len);
	s->saved = errno;
	s->e = s->r > 0 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, s->r);
	s->events = want_events(s->e);
}

int conn_tls_handshake(struct conn_tls *t, short *events_r, struct pf_error *err)
{
	struct tls_step s;

	tls_step(t, TLS_CALL_CONNECT, NULL, NULL, 0, &s);
	if (s.r > 0) /* SSL_connect: 1 */
		return check_peer(t, err) < 0 ? -1 : 1;
	*events_r = s.events;
	if (*events_r != 0)
		return 0;
	return handshake_error(t, s.e, s.saved, err);
}

/* --- data --------------------------------------------------------------- */

static int io_error(struct conn_tls *t, const char *what, int e, int saved_errno,
		    struct pf_error *err)
{
	t->fatal = 1;
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && saved_errno != 0)
		return pf_error_errno(err, PF_ERR_NET, saved_errno, "%s %s", what, t->peer);
	return pf_error_set(err, PF_ERR_NET, "%s %s: TLS error: %s", what, t->peer, ssl_reason());
}

/* conn_tls_read (in) or conn_tls_write (out): the same retry and error
 * rules both ways, an end of stream only when reading. */
static ssize_t tls_io(struct conn_tls *t, enum tls_call call, void *in, const void *out,
		      size_t n, short *events_r, struct pf_error *err)
{
	struct tls_step s;

	tls_step(t, call, in, out, n, &s);
	if (s.r > 0)
		return s.r;
	*events_r = s.events;
	if (*events_r != 0)
		return CONN_IO_AGAIN;
	/* close_notify, or (SSL_OP_IGNORE_UNEXPECTED_EOF) a bare EOF */
	if (call == TLS_CALL_READ &&
	    (s.e == SSL_ERROR_ZERO_RETURN ||
	     (s.e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && s.saved == 0)))
		return 0;
	return io_error(t, call == TLS_CALL_READ ? "reading from" : "writing to", s.e, s.saved,
			err);
}

ssize_t conn_tls_read(struct conn_tls *t, void *buf, size_t n, short *events_r,
		      struct pf_error *err)
{
	return tls_io(t, TLS_CALL_READ, buf, NULL, n, events_r, err);
}

ssize_t conn_tls_write(struct conn_tls *t, const void *buf, size_t n, short *events_r,
		       struct pf_error *err)
{
	return tls_io(t, TLS_CALL_WRITE, NULL, buf, n, events_r, err);
}

size_t conn_tls_buffered(const struct conn_tls *t)
{
	int n = SSL_pending(t->ssl);

	return n > 0 ? (size_t)n : 0;
}

int conn_tls_has_pending(const struct conn_tls *t)
{
	return SSL_has_pending(t->ssl);
}

const char *conn_tls_describe(const struct conn_tls *t)
{
	return t->desc[0] != '\0' ? t->desc : "TLS (handshake not finished)";
}

struct stack_st_X509 *conn_tls_peer_chain(const struct conn_tls *t, long *verify_r)
{
	*verify_r = t->verify_result;
	return SSL_get_peer_cert_chain(t->ssl);
}

void conn_tls_free(struct conn_tls *t)
{
	if (t == NULL)
		return;
	if (t->ssl != NULL) {
		/* One close_notify on the non-blocking socket, no waiting for
		 * the server's: we are done with the connection either way. */
		if (!t->fatal && SSL_is_init_finished(t->ssl))
			(void)SSL_shutdown(t->ssl);
		SSL_free(t->ssl); /* frees the BIO */
	}
	BIO_meth_free(t->meth);
	SSL_CTX_free(t->ctx);
	ERR_clear_error();
	free(t->peer);
	free(t->verify_name);
	free(t);
}
