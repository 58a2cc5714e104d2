/* conn.h - a connection to a server: TCP, TLS, deadlines, a bounded line
 * reader.  Knows sockets and OpenSSL; knows nothing of POP3.
 *
 * Every operation is bounded in time by the timeout given to conn_open():
 * connecting, the TLS handshake and each whole line must finish within it
 * (a server trickling one byte at a time is still cut off, CVE-2011-1947
 * class); bulk reads (message bodies) fail when no byte arrives within it.
 * A transfer (conn_transfer_begin) also has a minimum average rate, and a
 * stop request (conn_request_stop) bounds everything.
 *
 * All data returned by conn is untrusted server data.
 * Errors: PF_ERR_NET for DNS, connect, timeouts and lost connections;
 * PF_ERR_TLS for handshake and verification failures; PF_ERR_PROTO for a
 * line longer than the caller's cap. */
#ifndef POPFETCH_CONN_H
#define POPFETCH_CONN_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

struct conn;

struct conn_tls_opts {
	/* Name checked against the certificate's subjectAltName (DNS or IP)
	 * and sent as SNI when it is a DNS name.  Usually the configured host. */
	const char *verify_name;
	/* PEM bundle of trusted CAs; NULL: the system store. */
	const char *ca_file;
	/* Directory of hashed CA certificates; NULL: none beyond ca_file. */
	const char *ca_dir;
	/* "sha256:AB:CD:.." or plain hex (colons optional, any case): when
	 * set, the server certificate must have this SHA-256 fingerprint and
	 * the CA chain and name are not checked. */
	const char *fingerprint;
	/* Minimum protocol, TLS1_2_VERSION when 0.  Never lower than 1.2. */
	int min_version;
	/* Client certificate and key (PEM), both or neither. */
	const char *cert_file;
	const char *key_file;
	/* --serverinfo only: complete the handshake whatever the certificate.
	 * The chain and name are still verified (fingerprint ignored), the
	 * result kept for conn_peer_chain().  Such a connection has not been
	 * verified: nothing secret may go through it. */
	int insecure_inspect;
};

/* Resolves host (IPv4 and IPv6, every address in turn) and connects to
 * port within timeout_s seconds in total.  Returns a new connection owned
 * by the caller (free with conn_close), or NULL with err set. */
struct conn *conn_open(const char *host, const char *port, int timeout_s,
		       struct pf_error *err) PF_MUST_CHECK;

/* Runs the TLS handshake as a client and verifies the server as opts say;
 * nothing is sent through conn before this succeeds when TLS is wanted.
 * Fails if bytes already sit unread in conn's buffer (data sent before the
 * handshake completes is an injection attempt, RFC 2595 / CVE-2021-39272
 * class) .  0 or -1 with err set: PF_ERR_TLS (also for a handshake that
 * does not finish within the timeout), PF_ERR_CONFIG for a malformed
 * fingerprint or an unreadable CA, certificate or key file.  After a
 * failure the connection is unusable: every further I/O call fails, so
 * nothing can go out in plaintext; conn_close it. */
int conn_starttls(struct conn *c, const struct conn_tls_opts *opts,
		  struct pf_error *err) PF_MUST_CHECK;

/* The overall bound of a transfer (DESIGN.md section 9, "every poll
 * ends"): between conn_transfer_begin and conn_transfer_end, once
 * timeout seconds have passed, the bytes read must average at least
 * min_rate a second (PF_MIN_RATE_DEFAULT until set; at least 1), or the
 * next read fails with PF_ERR_NET.  The per-line and idle deadlines still
 * apply inside a transfer.  pop3 wraps every multi-line reply and every
 * message body in one, so a server sending one byte just inside the
 * timeout still ends the poll. */
void conn_set_min_rate(struct conn *c, unsigned long bytes_per_s);
void conn_transfer_begin(struct conn *c);
void conn_transfer_end(struct conn *c);

/* Async-signal-safe (for a SIGTERM or SIGINT handler): from now on every
 * read and wait of every connection of this process ends at the latest
 * CONN_STOP_GRACE_S seconds later (a second more at most), with
 * PF_ERR_NET ("stopped on request").  Enough for a message in flight, a drained request window,
 * DELE and QUIT on a working link; a server that trickles or stalls is
 * then left without QUIT, so nothing is deleted.  There is no way back:
 * the process is stopping. */
#define CONN_STOP_GRACE_S 5
void conn_request_stop(void);

/* Writes all of buf within the timeout.  0 or -1. */
int conn_write(struct conn *c, const void *buf, size_t len,
	       struct pf_error *err) PF_MUST_CHECK;

/* Reads one line terminated by LF (a preceding CR is removed too) into
 * buf, NUL-terminated, length without the line end in *len_r.  The whole
 * line must arrive within the timeout.  A line that does not fit in cap-1
 * bytes is a PF_ERR_PROTO error ("line too long").  0 or -1. */
int conn_getline(struct conn *c, char *buf, size_t cap, size_t *len_r,
		 struct pf_error *err) PF_MUST_CHECK;

/* Bulk reading for message bodies: makes buffered bytes available without
 * copying.  If the buffer is empty, waits up to the timeout for at least one
 * byte.  *data_r points into conn's buffer and stays valid until the next
 * call on conn.  Returns 0 with *len_r > 0, or -1 (end of stream counts as
 * a lost connection). */
int conn_peek(struct conn *c, const char **data_r, size_t *len_r,
	      struct pf_error *err) PF_MUST_CHECK;

/* Marks n bytes of what conn_peek returned as used. */
void conn_consume(struct conn *c, size_t n);

/* Bytes buffered but not consumed yet (used to detect data sent before a
 * STLS handshake). */
size_t conn_pending(const struct conn *c);

/* Whether TLS is active, and a short description ("TLSv1.3
 * TLS_AES_256_GCM_SHA384") for verbose logs. */
int conn_is_tls(const struct conn *c);
const char *conn_tls_desc(const struct conn *c);

/* After a TLS handshake: the chain the server sent (leaf first; OpenSSL's
 * STACK_OF(X509), owned by c, valid until conn_close) and in *verify_r the
 * verification result, X509_V_OK (0) or an X509_V_ERR_* code (with
 * fingerprint pinning: X509_V_OK, the pin matched).  NULL before TLS or
 * when the server sent no certificate. */
struct stack_st_X509;
struct stack_st_X509 *conn_peer_chain(const struct conn *c, long *verify_r);

/* Sends a TLS close_notify if possible (never waits longer than a moment),
 * closes the socket and frees everything.  NULL is fine. */
void conn_close(struct conn *c);

#endif
