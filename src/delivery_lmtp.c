/* delivery_lmtp.c - the LMTP destination (`lmtp = "unix:/PATH"` or
 * "HOST:PORT" with `lmtp_recipient`, delivery.h over lmtp.h): "delivered"
 * means the recipient's 2xx after DATA (RFC 2033 section 4.2).
 *
 * Messages are spooled as they arrive (spool.h: the server gets a message
 * whole or not at all) and handed over by the commit delivery_spooled.h
 * shares with the MDA: the batch journalled pending, then per message
 * MAIL, RCPT, DATA (pipelined when offered), the body and the reply, a 2xx
 * recorded before the next message goes out; so a crash leaves at most one
 * message whose fate is unknown (at-least-once, like an MDA; has() answers
 * 0).  One connection serves the whole poll: opened at the first commit
 * (a poll with no new mail never connects), closed with the destination.
 * A 4xx leaves the message on the server for the next poll, a 5xx leaves
 * it there and is reported; both are logged with the server's reply and
 * the poll goes on (commit returns 1: exit 10 at the end).  A broken
 * connection or protocol stops the poll (-1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery_impl.h"
#include "delivery_spooled.h"
#include "lmtp.h"
#include "log.h"
#include "util.h"

struct lmtpd {
	struct spooled sd;      /* first: the shared ops work on it */
	struct lmtp *conn;      /* NULL until the first commit */
};

static void *lm_open(const struct config *cfg, const struct account *a, struct pf_error *err)
{
	struct lmtpd *d = xcalloc(1, sizeof *d);

	if (spooled_init(&d->sd, cfg, a, "lmtp", err) < 0) {
		free(d);
		return NULL;
	}
	return d;
}

static void lm_close(void *p)
{
	struct lmtpd *d = p;

	lmtp_close(d->conn);
	spooled_fini(&d->sd);
	free(d);
}

/* --- delivering ----------------------------------------------------------- */

static int connect_once(struct lmtpd *d, struct pf_error *err)
{
	if (d->conn != NULL)
		return lmtp_usable(d->conn) ? 0
					    : pf_error_set(err, PF_ERR_LOCAL, "LMTP: the session "
							   "is unusable");
	d->conn = lmtp_open(d->sd.acct->lmtp, d->sd.acct->timeout, err);
	if (d->conn == NULL || lmtp_hello(d->conn, NULL, err) < 0)
		return -1;
	log_verbose("%s: connected to %s%s", d->sd.what, d->sd.acct->lmtp,
		    lmtp_pipelining(d->conn) ? " (PIPELINING)" : "");
	return 0;
}

static int send_body(struct lmtpd *d, const struct spool_msg *m, struct pf_error *err)
{
	uint64_t at = 0;
	size_t got;

	for (;;) {
		if (spool_read(d->sd.spool, m, at, d->sd.buf, SPOOLED_CHUNK, &got, err) < 0)
			return -1;
		if (got == 0)
			return 0;
		if (lmtp_body(d->conn, d->sd.buf, got, err) < 0)
			return -1;
		at += got;
	}
}

static void refused(struct lmtpd *d, const struct delivery_item *it,
		    const struct lmtp_reply *r, struct pf_error *err)
{
	const char *uid = it->uid[0] ? it->uid : "without UID";

	log_warn("%s: message %s not delivered (%s, %s); it stays on the server for the next "
		 "poll", d->sd.what, uid, r->text,
		 r->code / 100 == 4 ? "a temporary failure" : "refused for good");
	/* The poll's error: the account's name is put before it there. */
	pf_error_set(err, PF_ERR_LOCAL, "lmtp: message %s not delivered: %s", uid, r->text);
}

/* One message: 0 delivered, 1 refused (logged), -1 the session failed. */
static int send_one(void *p, struct delivery_item *it, struct pf_error *err,
		    struct pf_error *first)
{
	struct lmtpd *d = p;
	const struct spool_msg *m = spooled_msg(it);
	char sender[LMTP_ADDR_MAX + 1];
	struct lmtp_reply r = { 0 };
	int rc;

	if (spool_return_path(d->sd.spool, m, sender, sizeof sender, err) < 0)
		return -1;
	rc = lmtp_begin(d->conn, sender, d->sd.acct->lmtp_recipient, &r, err);
	if (rc == 0 && (send_body(d, m, err) < 0 || lmtp_end(d->conn, &r, err) < 0))
		rc = -1;
	if (rc < 0)
		return -1;
	pf_step("lmtp replied");
	if (r.code / 100 == 2)
		return 0;
	refused(d, it, &r, first);
	return 1;
}

static int lm_commit(void *p, struct delivery_item *items, size_t n,
		     const struct delivery_journal *j, struct pf_error *err)
{
	if (connect_once(p, err) < 0)
		return -1;
	return spooled_commit(p, items, n, j, send_one, err);
}

const struct delivery_ops delivery_lmtp_ops = {
	.kind = "lmtp",
	.open = lm_open,
	.has = spooled_has,
	.msg_begin = spooled_begin,
	.msg_write = spooled_write,
	.msg_end = spooled_end,
	.msg_abort = spooled_abort,
	.commit = lm_commit,
	.close = lm_close,
};
