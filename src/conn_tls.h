/* conn_tls.h - internal to the conn module: the OpenSSL side of a
 * connection (context, trust, certificate checks, a socket BIO that cannot
 * raise SIGPIPE).  Only conn.c includes this.
 *
 * Nothing here blocks or polls: every call returns at once, and when OpenSSL
 * needs the socket it returns CONN_IO_AGAIN with the poll(2) events to wait
 * for.  conn.c owns the deadlines. */
#ifndef POPFETCH_CONN_TLS_H
#define POPFETCH_CONN_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "conn.h"
#include "error.h"

/* "Try again when the socket is ready for *events_r". */
#define CONN_IO_AGAIN (-2)

struct conn_tls;

/* Prepares a client session on the connected non-blocking socket fd (not
 * owned).  peer is the host name used in messages.  Errors: PF_ERR_CONFIG
 * (malformed fingerprint, unreadable CA/cert/key file, bad option),
 * PF_ERR_TLS, PF_ERR_INTERNAL.  Free with conn_tls_free. */
struct conn_tls *conn_tls_new(int fd, const char *peer, const struct conn_tls_opts *opts,
			      struct pf_error *err) PF_MUST_CHECK;

/* One handshake step.  1: done and the server is verified as opts said;
 * 0: call again when *events_r is ready; -1: PF_ERR_TLS with err set. */
int conn_tls_handshake(struct conn_tls *t, short *events_r, struct pf_error *err) PF_MUST_CHECK;

/* Bytes read (> 0), 0 at the end of the stream, CONN_IO_AGAIN with
 * *events_r set, or -1 with err set (PF_ERR_NET). */
ssize_t conn_tls_read(struct conn_tls *t, void *buf, size_t n, short *events_r,
		      struct pf_error *err) PF_MUST_CHECK;

/* Bytes written (> 0), CONN_IO_AGAIN with *events_r set (call again with
 * the same buf and n, as SSL_write requires), or -1 with err set. */
ssize_t conn_tls_write(struct conn_tls *t, const void *buf, size_t n, short *events_r,
		       struct pf_error *err) PF_MUST_CHECK;

/* Decrypted bytes OpenSSL holds that conn has not read yet. */
size_t conn_tls_buffered(const struct conn_tls *t);

/* 1 when received bytes wait in the TLS layer (decrypted or not yet):
 * another read returns data without touching the socket. */
int conn_tls_has_pending(const struct conn_tls *t);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" once the handshake is done. */
const char *conn_tls_describe(const struct conn_tls *t);

/* The chain the server sent and the verification result (conn.h
 * conn_peer_chain). */
struct stack_st_X509 *conn_tls_peer_chain(const struct conn_tls *t, long *verify_r);

/* Sends close_notify once if the session is healthy (never waits), frees
 * everything but the socket.  NULL is fine. */
void conn_tls_free(struct conn_tls *t);

#endif
