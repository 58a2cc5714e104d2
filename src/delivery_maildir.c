/* delivery_maildir.c - the Maildir destination (delivery.h over maildir.h).
 *
 * A batch's commit, in the order of DESIGN.md section 2:
 *   1. every file of the batch made durable (written at once into unnamed
 *      O_TMPFILEs whose writeback msg_end started; one syncfs where
 *      fs_sync.h trusts it, else an fsync each): the file system commits
 *      its journal once for the batch, not once a message;
 *   2. journal->pending: "uid -> NAME" for the synced files;
 *   3. link every file into new/NAME, fsync new/;
 *   4. journal->durable.
 * A crash between 2 and 4 leaves pending records; delivery_has() looks for
 * each NAME in new/ and cur/ (with any flags), so no message is delivered
 * twice. */
#include <stdlib.h>

#include "delivery_impl.h"
#include "log.h"
#include "maildir.h"
#include "util.h"

static void *md_open(const struct config *cfg, const struct account *a, struct pf_error *err)
{
	struct maildir *md;
	int n;

	(void)cfg;
	md = maildir_open(a->maildir, err);
	if (md == NULL)
		return NULL;
	n = maildir_clean_tmp(md, err);
	if (n < 0) {
		maildir_close(md);
		return NULL;
	}
	if (n > 0)
		log_verbose("%s: removed %d stale files from %s/tmp", a->name, n, a->maildir);
	return md;
}

static void md_close(void *d)
{
	maildir_close(d);
}

static int md_has(void *d, const char *name, struct pf_error *err)
{
	return maildir_has(d, name, err);
}

static int md_begin(void *d, struct delivery_item *it, struct pf_error *err)
{
	it->impl = maildir_file_new(d, err);
	return it->impl == NULL ? -1 : 0;
}

static int md_write(void *d, struct delivery_item *it, const void *buf, size_t len,
		    struct pf_error *err)
{
	(void)d;
	return maildir_file_write(it->impl, buf, len, err);
}

/* Writeback starts now, so the batch's sync later finds the data on its
 * way; the name carries the sizes Dovecot and Courier read (S=, W=). */
static int md_end(void *d, struct delivery_item *it, uint64_t bytes, uint64_t lines,
		  struct pf_error *err)
{
	maildir_file_start_sync(it->impl);
	return maildir_make_name(d, bytes, bytes + lines, it->name, sizeof it->name, err);
}

static void md_abort(void *d, struct delivery_item *it)
{
	(void)d;
	maildir_file_free(it->impl);
}

/* Steps 2 to 4 of the header comment for n synced items. */
static int publish(struct maildir *md, struct delivery_item *items, size_t n,
		   const struct delivery_journal *j, struct pf_error *err)
{
	if (j->pending(j->ctx, items, n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (maildir_file_publish(items[i].impl, items[i].name, err) < 0)
			return -1;
		pf_step("linked into new/");
	}
	if (maildir_sync_new(md, err) < 0)
		return -1;
	pf_step("new/ synced");
	return j->durable(j->ctx, items, n, err);
}

/* When syncing fails, the files synced before it are still delivered and
 * the commit fails (the rest stays on the server for the next poll). */
static int md_commit(void *d, struct delivery_item *items, size_t n,
		     const struct delivery_journal *j, struct pf_error *err)
{
	struct maildir_file **files = xcalloc(n, sizeof *files);
	size_t synced = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		files[i] = items[i].impl;
	rc = maildir_files_sync(files, n, &synced, err);
	free(files);
	if (synced > 0 && publish(d, items, synced, j, err) < 0)
		return -1;
	return rc;
}

const struct delivery_ops delivery_maildir_ops = {
	.kind = "maildir",
	.open = md_open,
	.has = md_has,
	.msg_begin = md_begin,
	.msg_write = md_write,
	.msg_end = md_end,
	.msg_abort = md_abort,
	.commit = md_commit,
	.close = md_close,
};
