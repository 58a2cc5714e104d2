/* fetch_adopt.c - see fetch_adopt.h.  The poll's own connect and login
 * (fetch_int.h), then only the listing: nothing is retrieved, nothing
 * deleted, and the UIDs become durable before QUIT. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "fetch_adopt.h"
#include "fetch_int.h"
#include "lock.h"
#include "pop3.h"
#include "uidstore.h"
#include "util.h"

static int record(struct poll *pl, unsigned long *recorded_r)
{
	for (size_t i = 0; i < pl->nmsgs; i++) {
		const char *uid = pl->msgs[i].uid;

		if (uid[0] == '\0')
			return pf_error_set(pl->err, PF_ERR_PROTO, "the server does not support "
					    "UIDL, so there is nothing to record (--adopt needs "
					    "UIDs)");
		uidstore_mark_seen(pl->store, uid, pl->now);
		if (uidstore_get(pl->store, uid, NULL) == UID_DELIVERED)
			continue;
		if (uidstore_set_delivered(pl->store, uid, FETCH_ELSEWHERE_NAME, pl->now,
					   pl->err) < 0)
			return -1;
		(*recorded_r)++;
	}
	return uidstore_commit(pl->store, pl->err);
}

int fetch_adopt(const struct config *cfg, const struct account *acct,
		unsigned long *listed_r, unsigned long *recorded_r, struct pf_error *err)
{
	struct fetch_result res;
	struct poll pl = { .cfg = cfg, .acct = acct, .res = &res, .err = err, .lock_fd = -1,
			   .keep = 1 };
	int rc = -1;

	memset(&res, 0, sizeof res);
	*listed_r = *recorded_r = 0;
	pl.now = time(NULL);
	if (pf_mkdirs(cfg->state_dir, 0700) < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create state directory %s",
			       cfg->state_dir);
		goto out;
	}
	pl.lock_fd = lock_account(cfg->state_dir, acct->name, err);
	if (pl.lock_fd < 0 || fetch_connect(&pl) < 0)
		goto out;
	pl.store = uidstore_open(cfg->state_dir, acct->name, acct->host, acct->user, err);
	if (pl.store == NULL || pop3_listing(pl.pop, &pl.msgs, &pl.nmsgs, err) < 0)
		goto out;
	*listed_r = pl.nmsgs;
	if (record(&pl, recorded_r) < 0)
		goto out;
	pf_step("adopt recorded");
	rc = pop3_quit(pl.pop, err);
out:
	fetch_poll_free(&pl);
	return rc;
}
