/* delivery_spooled.c - see delivery_spooled.h. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "delivery_spooled.h"
#include "log.h"
#include "util.h"

int spooled_init(struct spooled *sd, const struct config *cfg, const struct account *a,
		 const char *kind, struct pf_error *err)
{
	sd->spool = spool_open(cfg->state_dir, err);
	if (sd->spool == NULL)
		return -1;
	sd->acct = a;
	sd->kind = kind;
	sd->buf = xmalloc(SPOOLED_CHUNK);
	(void)snprintf(sd->what, sizeof sd->what, "%s: %s", a->name, kind);
	return 0;
}

void spooled_fini(struct spooled *sd)
{
	spool_close(sd->spool);
	free(sd->buf);
}

int spooled_has(void *d, const char *name, struct pf_error *err)
{
	(void)d;
	(void)name;
	(void)err;
	return 0;
}

int spooled_begin(void *d, struct delivery_item *it, struct pf_error *err)
{
	struct spooled *sd = d;
	struct spool_msg *m = xcalloc(1, sizeof *m);

	(void)err;
	spool_begin(sd->spool, m);
	it->impl = m;
	return 0;
}

int spooled_write(void *d, struct delivery_item *it, const void *buf, size_t len,
		  struct pf_error *err)
{
	struct spooled *sd = d;

	return spool_write(sd->spool, it->impl, buf, len, err);
}

/* The pending journal's token: unique within the store, never a path. */
int spooled_end(void *d, struct delivery_item *it, uint64_t bytes, uint64_t lines,
		struct pf_error *err)
{
	struct spooled *sd = d;
	int n = snprintf(it->name, sizeof it->name, "%s-%lld-%lu", sd->kind,
			 (long long)time(NULL), ++sd->seq);

	(void)bytes;
	(void)lines;
	if (n < 0 || (size_t)n >= sizeof it->name)
		return pf_error_set(err, PF_ERR_INTERNAL, "%s: token too long", sd->kind);
	return 0;
}

void spooled_abort(void *d, struct delivery_item *it)
{
	struct spooled *sd = d;

	spool_drop(sd->spool, it->impl);
	free(it->impl);
}

const struct spool_msg *spooled_msg(const struct delivery_item *it)
{
	return it->impl;
}

/* Step 2's record (delivery_spooled.h). */
static int record(const struct delivery_journal *j, struct delivery_item *it,
		  struct pf_error *err)
{
	if (j->taken != NULL)
		return j->taken(j->ctx, it, 1, err);
	return j->durable(j->ctx, it, 1, err);
}

int spooled_commit(void *d, struct delivery_item *items, size_t n,
		   const struct delivery_journal *j, spooled_hand_fn hand, struct pf_error *err)
{
	struct pf_error first = { 0 };
	int rc = 0;

	if (j->pending(j->ctx, items, n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int r = hand(d, &items[i], err, &first);

		if (r == 0 && record(j, &items[i], err) < 0)
			r = -1;
		if (r < 0) {
			/* What was taken before stays recorded, synced if the
			 * disk allows: fewer messages come again next poll. */
			struct pf_error e2 = { 0 };

			if (j->taken != NULL && i > 0 && j->durable(j->ctx, NULL, 0, &e2) < 0)
				log_warn("%s", e2.msg); /* *err is the one to report */
			return -1;
		}
		if (r == 1)
			rc = 1;
	}
	if (j->taken != NULL && j->durable(j->ctx, NULL, 0, err) < 0)
		return -1;
	if (rc == 1)
		*err = first;
	return rc;
}
