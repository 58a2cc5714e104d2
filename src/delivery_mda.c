/* delivery_mda.c - the MDA destination (`mda = "COMMAND"`, delivery.h over
 * child.h): each message is handed to one run of the command on its
 * standard input, and "delivered" means exit status 0.
 *
 * A batch's messages are spooled as they arrive (spool.h says why: an MDA
 * never sees a message that did not arrive whole).  The commit:
 *   1. journal->pending for the whole batch (one fsync of the uid store);
 *   2. per message: run the MDA, and on exit 0 journal->durable for that
 *      message alone before the next one starts.
 * So a crash while an MDA runs leaves exactly one message whose fate is
 * unknown: it is fetched and delivered again on the next poll (at-least-
 * once, never lost); every message before it is recorded delivered and
 * every one after it was never handed over.  delivery_has() therefore
 * answers 0: an MDA cannot be asked what it did.
 *
 * Exit 75 (EX_TEMPFAIL, sysexits.h) defers the message; any other failure,
 * a signal or the deadline (mda_timeout) refuses it.  Either way it stays
 * on the server, is logged with the exit status and the first line of the
 * MDA's stderr, and the poll goes on (commit returns 1: the poll ends with
 * exit 10).  The command's text comes from the config alone; what it may
 * want to know goes in POPFETCH_* variables (child.h, popfetch.conf(5)). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "child.h"
#include "delivery_impl.h"
#include "log.h"
#include "spool.h"
#include "util.h"

/* sysexits.h's EX_TEMPFAIL: "try again later" for procmail, maildrop,
 * dovecot-lda and sendmail alike. */
#define MDA_EX_TEMPFAIL 75
/* Used when the config gives no mda_timeout (config.h sets it otherwise). */
#define MDA_TIMEOUT_DEFAULT_S 300
/* A chunk fed from the spool to the MDA. */
#define MDA_CHUNK (64 * 1024)
/* An envelope sender taken from Return-Path (RFC 5321 section 4.5.3.1.3),
 * and the "From SENDER Www Mmm dd hh:mm:ss yyyy\n" line made of it. */
#define MDA_SENDER_MAX 256
#define MDA_FROM_LINE_MAX (MDA_SENDER_MAX + 64)

struct mda {
	const struct account *acct;
	struct spool *spool;
	char *buf;               /* MDA_CHUNK */
	unsigned long seq;       /* names the pending journal's tokens */
	char what[PF_NAME_MAX + 16];
};

struct mda_msg {
	struct spool_msg m;
};

static void *mda_open(const struct config *cfg, const struct account *a, struct pf_error *err)
{
	struct mda *d = xcalloc(1, sizeof *d);

	d->spool = spool_open(cfg->state_dir, err);
	if (d->spool == NULL) {
		free(d);
		return NULL;
	}
	d->acct = a;
	d->buf = xmalloc(MDA_CHUNK);
	(void)snprintf(d->what, sizeof d->what, "%s: mda", a->name);
	return d;
}

static void mda_close(void *p)
{
	struct mda *d = p;

	spool_close(d->spool);
	free(d->buf);
	free(d);
}

/* An MDA cannot be asked whether it delivered: at-least-once. */
static int mda_has(void *p, const char *name, struct pf_error *err)
{
	(void)p;
	(void)name;
	(void)err;
	return 0;
}

static int mda_begin(void *p, struct delivery_item *it, struct pf_error *err)
{
	struct mda *d = p;
	struct mda_msg *mm = xcalloc(1, sizeof *mm);

	(void)err;
	spool_begin(d->spool, &mm->m);
	it->impl = mm;
	return 0;
}

static int mda_write(void *p, struct delivery_item *it, const void *buf, size_t len,
		     struct pf_error *err)
{
	struct mda *d = p;
	struct mda_msg *mm = it->impl;

	return spool_write(d->spool, &mm->m, buf, len, err);
}

/* The pending journal's token: unique within the store, never a path. */
static int mda_end(void *p, struct delivery_item *it, uint64_t bytes, uint64_t lines,
		   struct pf_error *err)
{
	struct mda *d = p;
	int n = snprintf(it->name, sizeof it->name, "mda-%lld-%lu", (long long)time(NULL),
			 ++d->seq);

	(void)bytes;
	(void)lines;
	if (n < 0 || (size_t)n >= sizeof it->name)
		return pf_error_set(err, PF_ERR_INTERNAL, "mda: token too long");
	return 0;
}

static void mda_abort(void *p, struct delivery_item *it)
{
	struct mda *d = p;
	struct mda_msg *mm = it->impl;

	spool_drop(d->spool, &mm->m);
	free(mm);
}

/* --- running the MDA ------------------------------------------------------ */

/* The mbox "From " line some MDAs want first (mda_from_line): the sender
 * from Return-Path, else MAILER-DAEMON, and the delivery time in
 * asctime(3) form and local time, as procmail and formail write it. */
static int from_line(const char *sender, char *line, size_t cap, struct pf_error *err)
{
	char date[32];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (localtime_r(&now, &tm) == NULL || strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y",
						    &tm) == 0)
		return pf_error_set(err, PF_ERR_INTERNAL, "mda: cannot format the date");
	n = snprintf(line, cap, "From %s %s\n", sender[0] ? sender : "MAILER-DAEMON", date);
	if (n < 0 || (size_t)n >= cap)
		return pf_error_set(err, PF_ERR_INTERNAL, "mda: From line too long");
	return n;
}

/* The documented variables (popfetch.conf(5)): account, UID and sender
 * made inert (child_safe_value), and the size of what stdin carries. */
struct mda_env {
	char account[PF_NAME_MAX + 32];
	char uid[3 * PF_UID_MAX + 32];
	char sender[3 * MDA_SENDER_MAX + 32];
	char size[64];
	const char *list[5];
};

static void build_env(struct mda_env *e, const struct account *a, const char *uid,
		      const char *sender, uint64_t size)
{
	char safe[3 * MDA_SENDER_MAX + 1];

	(void)snprintf(e->account, sizeof e->account, "POPFETCH_ACCOUNT=%s", a->name);
	if (child_safe_value(safe, sizeof safe, uid) < 0)
		safe[0] = '\0';
	(void)snprintf(e->uid, sizeof e->uid, "POPFETCH_UID=%s", safe);
	if (child_safe_value(safe, sizeof safe, sender) < 0)
		safe[0] = '\0';
	(void)snprintf(e->sender, sizeof e->sender, "POPFETCH_SENDER=%s", safe);
	(void)snprintf(e->size, sizeof e->size, "POPFETCH_SIZE=%" PRIu64, size);
	e->list[0] = e->account;
	e->list[1] = e->uid;
	e->list[2] = e->sender;
	e->list[3] = e->size;
	e->list[4] = NULL;
}

/* Feeds the optional From line and the spooled message.  A feed that
 * stops early (the MDA quit reading, the deadline) is judged by
 * child_wait's status; only a spool read error is ours (-1). */
static int feed(struct mda *d, struct child *c, const struct spool_msg *m, const char *from,
		size_t from_len, struct pf_error *err)
{
	uint64_t at = 0;
	size_t got;

	if (from_len > 0 && child_feed(c, from, from_len) < 0)
		return 0;
	for (;;) {
		if (spool_read(d->spool, m, at, d->buf, MDA_CHUNK, &got, err) < 0)
			return -1;
		if (got == 0 || child_feed(c, d->buf, got) < 0)
			return 0;
		at += got;
	}
}

static int timeout_of(const struct account *a)
{
	return a->mda_timeout > 0 ? a->mda_timeout : MDA_TIMEOUT_DEFAULT_S;
}

/* Logs why the MDA did not take the message; err keeps the first reason
 * for the end of the poll. */
static void refused(struct mda *d, const struct delivery_item *it,
		    const struct child_status *st, struct pf_error *err)
{
	char why[CHILD_ERRLINE_MAX + 128];
	int temp = st->exited && st->code == MDA_EX_TEMPFAIL && !st->timed_out;

	child_describe(st, timeout_of(d->acct), why, sizeof why);
	log_warn("%s: message %s not delivered (%s)%s; it stays on the server for the next "
		 "poll", d->what, it->uid[0] ? it->uid : "without UID", why,
		 temp ? ", a temporary failure" : "");
	/* The poll's error: the account's name is put before it there. */
	pf_error_set(err, PF_ERR_LOCAL, "mda: message %s not delivered: %s",
		     it->uid[0] ? it->uid : "without UID", why);
}

/* One message through the MDA: 0 delivered, 1 not (logged), -1 error. */
static int run_one(struct mda *d, struct delivery_item *it, struct pf_error *err)
{
	struct mda_msg *mm = it->impl;
	char from[MDA_FROM_LINE_MAX], sender[MDA_SENDER_MAX + 1];
	/* what names errors, which the poll prefixes with the account. */
	struct child_opts o = { .command = d->acct->mda, .timeout_s = timeout_of(d->acct),
				.what = "mda" };
	struct child_status st;
	struct mda_env env;
	struct child *c;
	int from_len = 0;

	if (spool_return_path(d->spool, &mm->m, sender, sizeof sender, err) < 0)
		return -1;
	if (d->acct->mda_from_line &&
	    (from_len = from_line(sender, from, sizeof from, err)) < 0)
		return -1;
	build_env(&env, d->acct, it->uid, sender, mm->m.len + (uint64_t)from_len);
	o.env = env.list;
	c = child_start(&o, err);
	if (c == NULL)
		return -1;
	if (feed(d, c, &mm->m, from, (size_t)from_len, err) < 0) {
		child_wait(c, &st);
		return -1;
	}
	child_wait(c, &st);
	pf_step("mda exited");
	if (child_ok(&st))
		return 0;
	refused(d, it, &st, err);
	return 1;
}

/* A message the MDA took: recorded at once, in the kernel only (a crash
 * of popfetch keeps the record; one fsync for the batch at the end) where
 * the pipeline offers it, else durably. */
static int record_one(const struct delivery_journal *j, struct delivery_item *it,
		      struct pf_error *err)
{
	if (j->taken != NULL)
		return j->taken(j->ctx, it, 1, err);
	return j->durable(j->ctx, it, 1, err);
}

static int mda_commit(void *p, struct delivery_item *items, size_t n,
		      const struct delivery_journal *j, struct pf_error *err)
{
	struct mda *d = p;
	struct pf_error first = { 0 };
	int rc = 0;

	if (j->pending(j->ctx, items, n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int r = run_one(d, &items[i], &first);

		if (r < 0) {
			*err = first;
			return -1;
		}
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

const struct delivery_ops delivery_mda_ops = {
	.kind = "mda",
	.open = mda_open,
	.has = mda_has,
	.msg_begin = mda_begin,
	.msg_write = mda_write,
	.msg_end = mda_end,
	.msg_abort = mda_abort,
	.commit = mda_commit,
	.close = mda_close,
};
