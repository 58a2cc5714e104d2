/* pop3.h - a POP3 client session (RFC 1939, RFC 2449, RFC 5034): the
 * protocol state machine and the pipelining queue.  Knows the protocol, not
 * files: message bodies come back as decoded chunks for the caller to store.
 *
 * The session owns its conn.  All text and data from the server is
 * untrusted; error sentences carry it sanitised.
 * Every multi-line reply and every message body is one conn transfer: it
 * fails with PF_ERR_NET when it averages less than the connection's
 * min_rate once the timeout has passed (conn.h), so every session ends.
 * Errors: PF_ERR_NET / PF_ERR_TLS from conn; PF_ERR_PROTO when the server
 * violates POP3; PF_ERR_AUTH when credentials are refused; PF_ERR_SERVER
 * for any other -ERR (with the RFC 2449/3206 code in pop3_last_code()). */
#ifndef POPFETCH_POP3_H
#define POPFETCH_POP3_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "conn.h"
#include "error.h"
#include "pop3_reply.h"

struct pop3;

/* Commands in flight at most when the server announced PIPELINING: enough
 * that a 50 ms link never waits for a refill of small messages, and small
 * enough (at most 17 KB of "RETR n") that the commands always fit the
 * server's socket receive buffer, so we can never deadlock writing while
 * the server writes to us. */
#define POP3_PIPELINE_MAX 1024

/* Wraps a connection that has sent and received nothing yet; pop3_open
 * comes next.  Takes ownership of c (freed by pop3_free). */
struct pop3 *pop3_new(struct conn *c);
void pop3_free(struct pop3 *p);

/* Opens the session, the one sequence before the login (RFC 2595, RFC
 * 8314): with TLS_IMPLICIT the handshake first, verified as opts say
 * before the first POP3 byte is read; then CAPA, written before the
 * greeting is read (it asks nothing of the server's state and sends no
 * secret: one round trip for both), the greeting and CAPA's reply; with
 * TLS_STARTTLS then STLS, the handshake and CAPA again, every capability
 * learned before TLS forgotten.  A server without CAPA (-ERR) leaves
 * every capability unset, which is not an error.  opts may be NULL only
 * with TLS_NONE.  Fails with PF_ERR_SERVER when the greeting is -ERR
 * (the server's reason), PF_ERR_TLS when the handshake fails or STLS is
 * not offered or refused or the server sent anything after its +OK before
 * the handshake (nothing is sent in plaintext then), PF_ERR_NET,
 * PF_ERR_PROTO.  0 or -1. */
int pop3_open(struct pop3 *p, enum tls_mode tls, const struct conn_tls_opts *opts,
	      struct pf_error *err) PF_MUST_CHECK;

/* What the last CAPA said (after TLS when STARTTLS was used). */
const struct pop3_capa *pop3_caps(const struct pop3 *p);

/* What the server said, sanitised, for display (--serverinfo): the
 * greeting's text after "+OK" ("" until it was read), the lines of the
 * last CAPA listing joined by '\n', and with STARTTLS those of the CAPA
 * before STLS (cut at POP3_CAPA_TEXT_MAX; "" when the server has no CAPA
 * or that step was not reached).  Owned by p. */
#define POP3_CAPA_TEXT_MAX 4096
const char *pop3_greeting_text(const struct pop3 *p);
const char *pop3_capa_text(const struct pop3 *p);
const char *pop3_capa_text_before_tls(const struct pop3 *p);

/* Optional, before pop3_login: the host name and port the session is
 * connected to, which OAUTHBEARER passes on (RFC 7628 section 3.1 "host"
 * and "port"; both keys are optional and left out when this is not called
 * or a value is too long).  Copied. */
void pop3_set_peer(struct pop3 *p, const char *host, const char *port);

/* Logs in as user with secret using mech.  AUTH_AUTO takes PLAIN, else
 * LOGIN, else USER/PASS (sasl_auto_mech() has the whole rule); APOP,
 * CRAM-MD5, XOAUTH2 and OAUTHBEARER otherwise only when asked for.  For
 * XOAUTH2 and OAUTHBEARER the secret is the OAuth2 access token.  A
 * mechanism the server's CAPA does not list fails with PF_ERR_CONFIG
 * before anything is sent, APOP without a greeting timestamp too.  A
 * refused login is PF_ERR_AUTH (PF_ERR_SERVER with [IN-USE],
 * [LOGIN-DELAY] or [SYS/...]).  The trace shows every password, AUTH
 * payload and token as "****".  0 or -1. */
int pop3_login(struct pop3 *p, enum auth_mech mech, const char *user,
	       const char *secret, struct pf_error *err) PF_MUST_CHECK;

/* Tells the session that pop3_listing comes right after pop3_login.  When
 * the server pipelines, USER and PASS then go out together, and STAT and
 * UIDL go out as soon as the login's +OK has been read, before
 * pop3_login returns, so the server lists while the caller does local
 * work.  Nothing is ever sent behind PASS, AUTH or an AUTH continuation
 * before its reply, whatever CAPA says: Courier and qmail hand the
 * connection to a new process at login and lose what arrived behind it,
 * Cyrus drops input that came with AUTH. */
void pop3_expect_listing(struct pop3 *p);

/* Why a listed message has no usable UID (RFC 1939 section 7).  Such a
 * message must be left alone: never retrieved, never deleted. */
enum pop3_uid_state {
	POP3_UID_OK = 0,    /* uid as listed ("" only when the server has no UIDL) */
	POP3_UID_INVALID,   /* its UIDL line had no valid uid; uid is "" */
	POP3_UID_SHARED,    /* another message of the listing has the same uid */
};

/* One entry of the maildrop listing. */
struct pop3_msg {
	unsigned long num;   /* message number in this session */
	uint64_t size;       /* LIST size: a hint only */
	char uid[PF_UID_MAX + 1]; /* "" when the server has no UIDL */
	unsigned char uid_state;  /* enum pop3_uid_state */
	/* Not POP3_UID_OK: a hash of the line's text after the number
	 * (invalid), or of the uid and the message's rank among those that
	 * share it (shared), so that a later session of the same poll, which
	 * may renumber, can tell the same bad entry from another.  A key,
	 * never shown or stored. */
	uint32_t bad_key;
};

/* Reads the maildrop listing: STAT, then UIDL, pipelined when the server
 * allows.  Sizes are left 0 for pop3_sizes_send/read, which a poll with
 * nothing new never needs (LIST of 20,000 messages is most of such a
 * poll's server time); a server without UIDL gets LIST at once, and
 * pop3_have_sizes() then says so.  *msgs_r is an array owned by the caller
 * (free()), sorted by number, with *n_r entries.  Fails with PF_ERR_PROTO
 * when the listing is not one (a line without a message number, a number
 * out of range or twice, a number missing, no terminating dot): a
 * listing we cannot trust is never used.  A line whose uid is invalid,
 * and a uid several messages share, cost those messages only: their
 * uid_state says so and the caller leaves them alone.  0 or -1. */
int pop3_listing(struct pop3 *p, struct pop3_msg **msgs_r, size_t *n_r,
		 struct pf_error *err) PF_MUST_CHECK;
int pop3_have_sizes(const struct pop3 *p);
/* The maildrop's size in octets, as STAT gave it. */
uint64_t pop3_maildrop_octets(const struct pop3 *p);

/* Sends LIST (before any RETR is queued, so that its reply comes first:
 * RETRs may follow at once).  pop3_sizes_read then reads the reply into
 * msgs[0..n).size, checking it names exactly the messages of the listing.
 * 0 or -1. */
int pop3_sizes_send(struct pop3 *p, struct pf_error *err) PF_MUST_CHECK;
int pop3_sizes_read(struct pop3 *p, struct pop3_msg *msgs, size_t n,
		    struct pf_error *err) PF_MUST_CHECK;

/* Queues RETR num.  With PIPELINING up to POP3_PIPELINE_MAX commands are
 * written ahead; without, the command is written when the previous reply
 * has been read.  Replies are read in order with the calls below. */
int pop3_retr_queue(struct pop3 *p, unsigned long num, struct pf_error *err) PF_MUST_CHECK;

/* Sends what the queue may send now (everything with PIPELINING, else the
 * oldest command when no reply is outstanding), so the server can work
 * while the caller does something else.  0 or -1. */
int pop3_flush(struct pop3 *p, struct pf_error *err) PF_MUST_CHECK;

/* Reads the status line of the oldest queued RETR.  -1 with PF_ERR_SERVER
 * on -ERR (the session stays usable), other classes when it is not. */
int pop3_retr_begin(struct pop3 *p, struct pf_error *err) PF_MUST_CHECK;

/* Reads the next decoded piece of the current message into out (room for
 * PF_IOBUF_SIZE + 2 bytes), *outlen_r bytes; *done_r is set after the
 * terminating line.  0 or -1. */
int pop3_retr_read(struct pop3 *p, char *out, size_t *outlen_r, int *done_r,
		   struct pf_error *err) PF_MUST_CHECK;

/* Totals of the message being read (or just read): decoded bytes (the size
 * on disk) and line feeds in them. */
void pop3_retr_totals(const struct pop3 *p, uint64_t *bytes_r, uint64_t *lines_r);

/* Queues DELE num (pipelined like RETR) and reads the reply of every
 * queued DELE with pop3_dele_flush. */
int pop3_dele_queue(struct pop3 *p, unsigned long num, struct pf_error *err) PF_MUST_CHECK;
int pop3_dele_flush(struct pop3 *p, struct pf_error *err) PF_MUST_CHECK;

/* QUIT: deletions take effect only if this returns 0 (RFC 1939 UPDATE). */
int pop3_quit(struct pop3 *p, struct pf_error *err) PF_MUST_CHECK;

/* QUIT without waiting for the reply, for a session that deleted nothing
 * (the reply would tell nothing): one round trip less per poll.  Every
 * reply before it must have been read, so closing the connection next
 * sends FIN, not RST, and the server still sees QUIT. */
int pop3_quit_nowait(struct pop3 *p, struct pf_error *err) PF_MUST_CHECK;

/* Response code of the last -ERR (POP3_CODE_NONE when there was none) and
 * the LOGIN-DELAY seconds announced in CAPA (-1: unknown). */
enum pop3_code pop3_last_code(const struct pop3 *p);

/* Number of commands sent so far (for verbose statistics). */
unsigned long pop3_commands_sent(const struct pop3 *p);

#endif
