/* delivery_mda.c - the MDA destination (`mda = "COMMAND"`, delivery.h over
 * child.h): each message is handed to one run of the command on its
 * standard input, and "delivered" means exit status 0.
 *
 * Messages are spooled as they arrive and handed over one at a time by
 * the commit delivery_spooled.h shares with LMTP (spool.h says why: an
 * MDA never sees a message that did not arrive whole): the batch is
 * journalled pending, then each message is recorded right after its MDA
 * exited 0, before the next one starts.  So a crash while an MDA runs
 * leaves exactly one message whose fate is unknown: it is fetched and
 * delivered again on the next poll (at-least-once, never lost); every
 * message before it is recorded delivered and every one after it was never
 * handed over.  delivery_has() answers 0: an MDA cannot be asked.
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
#include "delivery_spooled.h"
#include "log.h"
#include "util.h"

/* sysexits.h's EX_TEMPFAIL: "try again later" for procmail, maildrop,
 * dovecot-lda and sendmail alike. */
#define MDA_EX_TEMPFAIL 75
/* Used when the config gives no mda_timeout (config.h sets it otherwise). */
#define MDA_TIMEOUT_DEFAULT_S 300
/* An envelope sender taken from Return-Path (RFC 5321 section 4.5.3.1.3),
 * and the "From SENDER Www Mmm dd hh:mm:ss yyyy\n" line made of it. */
#define MDA_SENDER_MAX 256
#define MDA_FROM_LINE_MAX (MDA_SENDER_MAX + 64)

struct mda {
	struct spooled sd;       /* first: the shared ops work on it */
};

static void *mda_open(const struct config *cfg, const struct account *a, struct pf_error *err)
{
	struct mda *d = xcalloc(1, sizeof *d);

	if (spooled_init(&d->sd, cfg, a, "mda", err) < 0) {
		free(d);
		return NULL;
	}
	return d;
}

static void mda_close(void *p)
{
	struct mda *d = p;

	spooled_fini(&d->sd);
	free(d);
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
		if (spool_read(d->sd.spool, m, at, d->sd.buf, SPOOLED_CHUNK, &got, err) < 0)
			return -1;
		if (got == 0 || child_feed(c, d->sd.buf, got) < 0)
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

	child_describe(st, timeout_of(d->sd.acct), why, sizeof why);
	log_warn("%s: message %s not delivered (%s)%s; it stays on the server for the next "
		 "poll", d->sd.what, it->uid[0] ? it->uid : "without UID", why,
		 temp ? ", a temporary failure" : "");
	/* The poll's error: the account's name is put before it there. */
	pf_error_set(err, PF_ERR_LOCAL, "mda: message %s not delivered: %s",
		     it->uid[0] ? it->uid : "without UID", why);
}

/* One message through the MDA: 0 delivered, 1 not (logged, the reason in
 * first), -1 error. */
static int run_one(void *p, struct delivery_item *it, struct pf_error *err,
		   struct pf_error *first)
{
	struct mda *d = p;
	const struct spool_msg *m = spooled_msg(it);
	char from[MDA_FROM_LINE_MAX], sender[MDA_SENDER_MAX + 1];
	/* what names errors, which the poll prefixes with the account. */
	struct child_opts o = { .command = d->sd.acct->mda, .timeout_s = timeout_of(d->sd.acct),
				.what = "mda" };
	struct child_status st;
	struct mda_env env;
	struct child *c;
	int from_len = 0;

	if (spool_return_path(d->sd.spool, m, sender, sizeof sender, err) < 0)
		return -1;
	if (d->sd.acct->mda_from_line &&
	    (from_len = from_line(sender, from, sizeof from, err)) < 0)
		return -1;
	build_env(&env, d->sd.acct, it->uid, sender, m->len + (uint64_t)from_len);
	o.env = env.list;
	c = child_start(&o, err);
	if (c == NULL)
		return -1;
	if (feed(d, c, m, from, (size_t)from_len, err) < 0) {
		child_wait(c, &st);
		return -1;
	}
	child_wait(c, &st);
	pf_step("mda exited");
	if (child_ok(&st))
		return 0;
	refused(d, it, &st, first);
	return 1;
}

static int mda_commit(void *p, struct delivery_item *items, size_t n,
		      const struct delivery_journal *j, struct pf_error *err)
{
	return spooled_commit(p, items, n, j, run_one, err);
}

const struct delivery_ops delivery_mda_ops = {
	.kind = "mda",
	.open = mda_open,
	.has = spooled_has,
	.msg_begin = spooled_begin,
	.msg_write = spooled_write,
	.msg_end = spooled_end,
	.msg_abort = spooled_abort,
	.commit = mda_commit,
	.close = mda_close,
};
