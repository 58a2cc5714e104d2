/* rebuild.c - see rebuild.h.  The store itself, its files and its binding
 * are uidstore's; this file takes the lock and drives it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "log.h"
#include "maildir.h"
#include "pop3_reply.h"
#include "rebuild.h"
#include "uidstore.h"
#include "util.h"

struct rebuild {
	const struct account *acct;
	struct uidstore *store;
	struct pf_error *err;
	time_t now;
	size_t found;
};

/* One message: "X-Popfetch-UIDL: ACCOUNT UID" names its origin.  Messages
 * of other accounts sharing the Maildir, or not from popfetch, are skipped. */
static int add_message(const char *name, const char *line, void *ctx)
{
	struct rebuild *rb = ctx;
	size_t hl = strlen(REBUILD_HEADER), al = strlen(rb->acct->name);
	const char *uid;

	if (strncmp(line, REBUILD_HEADER, hl) != 0)
		return 0;
	line += hl;
	if (strncmp(line, rb->acct->name, al) != 0 || line[al] != ' ')
		return 0;
	uid = line + al + 1;
	if (!pop3_uid_valid(uid, strlen(uid))) {
		log_warn("%s: ignoring %s: its %sline is malformed", rb->acct->name, name,
			 REBUILD_HEADER);
		return 0;
	}
	rb->found++;
	return uidstore_set_delivered(rb->store, uid, name, rb->now, rb->err);
}

/* The Maildir's X-Popfetch-UIDL lines do not say which server a UID came
 * from: rebuilding a store recorded for another server or user would bind
 * that server's UIDs to this one, the loss DESIGN.md section 2 prevents.
 * Such a store is refused with the two ways on; a corrupted store cannot
 * say where it belongs, and is what --rebuild-state is for. */
static int refuse_foreign(const struct config *cfg, const struct account *acct,
			  struct pf_error *err)
{
	struct pf_error ignored = { 0 };
	struct uidstore *old;
	int rc;

	if (uidstore_exists(cfg->state_dir, acct->name, &ignored) != 1)
		return 0;
	old = uidstore_open(cfg->state_dir, acct->name, acct->host, acct->user, &ignored);
	if (old == NULL)
		return 0;
	rc = uidstore_check_binding(old, err);
	uidstore_close(old);
	return rc;
}

int rebuild_state(const struct config *cfg, const struct account *acct, size_t *found_r,
		  struct pf_error *err)
{
	struct rebuild rb = { .acct = acct, .err = err, .now = time(NULL) };
	struct maildir *md = NULL;
	int lock_fd = -1, rc = -1;

	if (acct->dest != DEST_MAILDIR)
		return pf_error_set(err, PF_ERR_CONFIG, "%s: --rebuild-state reads a Maildir; this "
				    "account delivers elsewhere", acct->name);
	if (pf_mkdirs(cfg->state_dir, 0700) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create state directory %s",
				      cfg->state_dir);
	lock_fd = lock_account(cfg->state_dir, acct->name, err);
	if (lock_fd < 0)
		return -1;
	if (refuse_foreign(cfg, acct, err) < 0)
		goto out;
	md = maildir_open(acct->maildir, err);
	if (md == NULL)
		goto out;
	/* Built beside the old store, which stays in place if this fails. */
	rb.store = uidstore_build(cfg->state_dir, acct->name, acct->host, acct->user, err);
	if (rb.store == NULL)
		goto out;
	if (maildir_scan(md, add_message, &rb, err) < 0 || uidstore_replace(rb.store, err) < 0)
		goto out;
	*found_r = rb.found;
	rc = 0;
out:
	uidstore_close(rb.store);
	maildir_close(md);
	lock_release(lock_fd);
	return rc;
}

/* --- a store bound to another server or user ----------------------------- */

/* Takes the account lock and opens the store when there is one: 1 with
 * *store_r set, 0 when there is none, -1. */
static int open_locked(const struct config *cfg, const struct account *acct, int *lock_r,
		       struct uidstore **store_r, struct pf_error *err)
{
	int r;

	*store_r = NULL;
	*lock_r = -1;
	if (pf_mkdirs(cfg->state_dir, 0700) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create state directory %s",
				      cfg->state_dir);
	*lock_r = lock_account(cfg->state_dir, acct->name, err);
	if (*lock_r < 0)
		return -1;
	r = uidstore_exists(cfg->state_dir, acct->name, err);
	if (r <= 0)
		return r;
	*store_r = uidstore_open(cfg->state_dir, acct->name, acct->host, acct->user, err);
	return *store_r != NULL ? 1 : -1;
}

int rebuild_rebind(const struct config *cfg, const struct account *acct,
		   enum rebind_outcome *outcome_r, struct pf_error *err)
{
	struct uidstore *store;
	int lock_fd, rc = open_locked(cfg, acct, &lock_fd, &store, err);

	*outcome_r = REBIND_NO_STORE;
	if (rc == 1) {
		*outcome_r = uidstore_bound_to(store, acct->host, acct->user) ? REBIND_ALREADY
									      : REBIND_DONE;
		rc = uidstore_rebind(store, err);
	}
	uidstore_close(store);
	lock_release(lock_fd);
	return rc < 0 ? -1 : 0;
}

int rebuild_fresh(const struct config *cfg, const struct account *acct, char *aside_r,
		  size_t cap, struct pf_error *err)
{
	struct uidstore *store;
	int lock_fd, rc = open_locked(cfg, acct, &lock_fd, &store, err);

	aside_r[0] = '\0';
	if (rc == 1)
		rc = uidstore_set_aside(store, aside_r, cap, err);
	uidstore_close(store);
	lock_release(lock_fd);
	return rc < 0 ? -1 : 0;
}
