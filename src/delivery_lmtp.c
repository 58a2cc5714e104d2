/* delivery_lmtp.c - the LMTP destination (`lmtp = "unix:/PATH"` or
 * "HOST:PORT" with `lmtp_recipient`, delivery.h over lmtp.h): "delivered"
 * means the recipient's 2xx after DATA (RFC 2033 section 4.2).
 *
 * Messages are spooled as they arrive (spool.h: the server gets a message
 * whole or not at all).  One connection serves the whole poll: opened at
 * the first commit (a poll with no new mail never connects), closed with
 * the destination.  The commit:
 *   1. journal->pending for the whole batch;
 *   2. per message: MAIL, RCPT, DATA (pipelined when offered), the body,
 *      the reply; a 2xx is recorded (journal->durable) before the next
 *      message goes out, so a crash leaves one message at most whose fate
 *      is unknown (at-least-once there, like an MDA; delivery_has answers
 *      0 for it).
 * A 4xx leaves the message on the server for the next poll, a 5xx leaves
 * it there and is reported; both are logged with the server's reply and
 * the poll goes on (commit returns 1: exit 10 at the end).  A broken
 * connection or protocol stops the poll (-1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery_impl.h"
#include "lmtp.h"
#include "log.h"
#include "spool.h"
#include "util.h"

/* A body chunk read from the spool. */
#define LMTPD_CHUNK (64 * 1024)

struct lmtpd {
	const struct account *acct;
	struct spool *spool;
	struct lmtp *conn;      /* NULL until the first commit */
	char *buf;              /* LMTPD_CHUNK */
	unsigned long seq;
	char what[PF_NAME_MAX + 16];
};

struct lmtpd_msg {
	struct spool_msg m;
};

static void *lm_open(const struct config *cfg, const struct account *a, struct pf_error *err)
{
	struct lmtpd *d = xcalloc(1, sizeof *d);

	d->spool = spool_open(cfg->state_dir, err);
	if (d->spool == NULL) {
		free(d);
		return NULL;
	}
	d->acct = a;
	d->buf = xmalloc(LMTPD_CHUNK);
	(void)snprintf(d->what, sizeof d->what, "%s: lmtp", a->name);
	return d;
}

static void lm_close(void *p)
{
	struct lmtpd *d = p;

	lmtp_close(d->conn);
	spool_close(d->spool);
	free(d->buf);
	free(d);
}

/* The server cannot be asked whether it delivered: at-least-once. */
static int lm_has(void *p, const char *name, struct pf_error *err)
{
	(void)p;
	(void)name;
	(void)err;
	return 0;
}

static int lm_begin(void *p, struct delivery_item *it, struct pf_error *err)
{
	struct lmtpd *d = p;
	struct lmtpd_msg *lm = xcalloc(1, sizeof *lm);

	(void)err;
	spool_begin(d->spool, &lm->m);
	it->impl = lm;
	return 0;
}

static int lm_write(void *p, struct delivery_item *it, const void *buf, size_t len,
		    struct pf_error *err)
{
	struct lmtpd *d = p;
	struct lmtpd_msg *lm = it->impl;

	return spool_write(d->spool, &lm->m, buf, len, err);
}

static int lm_end(void *p, struct delivery_item *it, uint64_t bytes, uint64_t lines,
		  struct pf_error *err)
{
	struct lmtpd *d = p;
	int n = snprintf(it->name, sizeof it->name, "lmtp-%lld-%lu", (long long)time(NULL),
			 ++d->seq);

	(void)bytes;
	(void)lines;
	if (n < 0 || (size_t)n >= sizeof it->name)
		return pf_error_set(err, PF_ERR_INTERNAL, "lmtp: token too long");
	return 0;
}

static void lm_abort(void *p, struct delivery_item *it)
{
	struct lmtpd *d = p;
	struct lmtpd_msg *lm = it->impl;

	spool_drop(d->spool, &lm->m);
	free(lm);
}

/* --- delivering ----------------------------------------------------------- */

static int connect_once(struct lmtpd *d, struct pf_error *err)
{
	if (d->conn != NULL)
		return lmtp_usable(d->conn) ? 0
					    : pf_error_set(err, PF_ERR_LOCAL, "LMTP: the session "
							   "is unusable");
	d->conn = lmtp_open(d->acct->lmtp, d->acct->timeout, err);
	if (d->conn == NULL || lmtp_hello(d->conn, NULL, err) < 0)
		return -1;
	log_verbose("%s: connected to %s%s", d->what, d->acct->lmtp,
		    lmtp_pipelining(d->conn) ? " (PIPELINING)" : "");
	return 0;
}

static int send_body(struct lmtpd *d, const struct spool_msg *m, struct pf_error *err)
{
	uint64_t at = 0;
	size_t got;

	for (;;) {
		if (spool_read(d->spool, m, at, d->buf, LMTPD_CHUNK, &got, err) < 0)
			return -1;
		if (got == 0)
			return 0;
		if (lmtp_body(d->conn, d->buf, got, err) < 0)
			return -1;
		at += got;
	}
}

static void refused(struct lmtpd *d, const struct delivery_item *it,
		    const struct lmtp_reply *r, struct pf_error *err)
{
	const char *uid = it->uid[0] ? it->uid : "without UID";

	log_warn("%s: message %s not delivered (%s, %s); it stays on the server for the next "
		 "poll", d->what, uid, r->text,
		 r->code / 100 == 4 ? "a temporary failure" : "refused for good");
	/* The poll's error: the account's name is put before it there. */
	pf_error_set(err, PF_ERR_LOCAL, "lmtp: message %s not delivered: %s", uid, r->text);
}

/* One message: 0 delivered, 1 refused (logged), -1 the session failed. */
static int send_one(struct lmtpd *d, struct delivery_item *it, struct pf_error *err,
		    struct pf_error *first)
{
	struct lmtpd_msg *lm = it->impl;
	char sender[LMTP_ADDR_MAX + 1];
	struct lmtp_reply r = { 0 };
	int rc;

	if (spool_return_path(d->spool, &lm->m, sender, sizeof sender, err) < 0)
		return -1;
	rc = lmtp_begin(d->conn, sender, d->acct->lmtp_recipient, &r, err);
	if (rc == 0 && (send_body(d, &lm->m, err) < 0 || lmtp_end(d->conn, &r, err) < 0))
		rc = -1;
	if (rc < 0)
		return -1;
	pf_step("lmtp replied");
	if (r.code / 100 == 2)
		return 0;
	refused(d, it, &r, first);
	return 1;
}

/* A message the LMTP server took: recorded at once, in the kernel only (a crash
 * of popfetch keeps the record; one fsync for the batch at the end) where
 * the pipeline offers it, else durably. */
static int record_one(const struct delivery_journal *j, struct delivery_item *it,
		      struct pf_error *err)
{
	if (j->taken != NULL)
		return j->taken(j->ctx, it, 1, err);
	return j->durable(j->ctx, it, 1, err);
}

static int lm_commit(void *p, struct delivery_item *items, size_t n,
		     const struct delivery_journal *j, struct pf_error *err)
{
	struct lmtpd *d = p;
	struct pf_error first = { 0 };
	int rc = 0;

	if (connect_once(d, err) < 0)
		return -1;
	if (j->pending(j->ctx, items, n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int r = send_one(d, &items[i], err, &first);

		if (r < 0)
			return -1;
		if (r == 1) {
			rc = 1;
			continue;
		}
		/* Recorded before the next message is handed over: the window
		 * stays one message wide. */
		if (record_one(j, &items[i], err) < 0)
			return -1;
	}
	/* The records written since are made durable before anything is
	 * deleted (delivery.h, taken). */
	if (j->taken != NULL && j->durable(j->ctx, NULL, 0, err) < 0)
		return -1;
	if (rc == 1)
		*err = first;
	return rc;
}

const struct delivery_ops delivery_lmtp_ops = {
	.kind = "lmtp",
	.open = lm_open,
	.has = lm_has,
	.msg_begin = lm_begin,
	.msg_write = lm_write,
	.msg_end = lm_end,
	.msg_abort = lm_abort,
	.commit = lm_commit,
	.close = lm_close,
};
