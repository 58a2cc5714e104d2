/* lmtp.h - an LMTP client (RFC 2033) for delivering fetched messages to
 * Dovecot's LMTP service or any LMTP server.  Knows sockets and the
 * protocol; knows nothing of POP3, the uid store or the configuration.
 *
 * One connection carries every message of a poll: lmtp_open, lmtp_hello,
 * then per message lmtp_begin, lmtp_body..., lmtp_end; lmtp_close.
 * Between messages RSET returns the session to a clean state (RFC 5321
 * section 4.1.1.5).  When the server offers PIPELINING (RFC 2920) the
 * RSET, MAIL, RCPT and DATA of a message go out in one write.
 *
 * Body bytes are given as a Maildir holds them (LF line ends, no dot
 * stuffing); lmtp_body sends CRLF line ends and stuffs lines that start
 * with '.', so any split of the message into chunks gives the same bytes.
 *
 * Everything the server says is untrusted: reply lines are bounded
 * (PF_LINE_MAX, LMTP_REPLY_LINES_MAX lines a reply), reply text is kept
 * sanitised.  Each step has a deadline of timeout_s seconds: connecting,
 * each reply, and each write.  Every failure of the connection or of the
 * protocol is PF_ERR_LOCAL (local delivery failed, exit 10): the LMTP
 * server is our delivery agent, not the POP3 server. */
#ifndef POPFETCH_LMTP_H
#define POPFETCH_LMTP_H

#include <stddef.h>

#include "error.h"

/* Sanitised reply text kept for a log line. */
#define LMTP_TEXT_MAX 256
/* Lines in one multi-line reply (an LHLO answer has a dozen). */
#define LMTP_REPLY_LINES_MAX 64
/* An address in MAIL FROM or RCPT TO (RFC 5321 section 4.5.3.1.3). */
#define LMTP_ADDR_MAX 256

struct lmtp;

/* A server's reply: the code (200..599) and its last line's text. */
struct lmtp_reply {
	int code;
	char text[LMTP_TEXT_MAX];
};

/* Connects to target: "unix:/path" (a stream socket) or "HOST:PORT"
 * ("[v6addr]:PORT" for a literal IPv6 address).  Owned by the caller
 * (lmtp_close).  NULL with err set. */
struct lmtp *lmtp_open(const char *target, int timeout_s, struct pf_error *err) PF_MUST_CHECK;

/* Uses an already connected stream socket (tests use a socketpair); takes
 * ownership of fd. */
struct lmtp *lmtp_open_fd(int fd, int timeout_s);

/* Reads the greeting and sends LHLO name (NULL: this host's name).  0, or
 * -1 when the server refuses us or breaks the protocol. */
int lmtp_hello(struct lmtp *l, const char *name, struct pf_error *err) PF_MUST_CHECK;

/* Starts a message from sender ("" for the null reverse-path <>) to rcpt.
 * Returns 0 when the server waits for the body, 1 when it refused the
 * message before the body (*r: the refusing reply, 4xx or 5xx; the next
 * lmtp_begin may follow at once), -1 with err set.  Addresses outside
 * printable ASCII, with '<', '>' or longer than LMTP_ADDR_MAX are
 * refused with PF_ERR_CONFIG (they would break the command line). */
int lmtp_begin(struct lmtp *l, const char *sender, const char *rcpt, struct lmtp_reply *r,
	       struct pf_error *err) PF_MUST_CHECK;

/* Sends len body bytes (LF line ends, not stuffed).  0 or -1. */
int lmtp_body(struct lmtp *l, const char *buf, size_t len, struct pf_error *err) PF_MUST_CHECK;

/* Ends the body and reads the recipient's reply (RFC 2033 section 4.2:
 * one per accepted RCPT; we send one).  0 with *r filled, whatever its
 * code, or -1 with err set. */
int lmtp_end(struct lmtp *l, struct lmtp_reply *r, struct pf_error *err) PF_MUST_CHECK;

/* Whether the session can take another message (a failure mid-body or a
 * lost connection leaves it unusable). */
int lmtp_usable(const struct lmtp *l);

/* Sends QUIT when the session is usable, waits for its reply at most a
 * moment, closes and frees.  NULL is fine. */
void lmtp_close(struct lmtp *l);

/* Whether the server offered PIPELINING (after lmtp_hello). */
int lmtp_pipelining(const struct lmtp *l);

#endif
