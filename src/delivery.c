/* delivery.c - see delivery.h.  The table of destinations and thin
 * wrappers that keep the pipeline from calling an implementation
 * directly. */
#include <stdlib.h>

#include "delivery.h"
#include "delivery_impl.h"
#include "util.h"

struct delivery {
	const struct delivery_ops *ops;
	void *impl;
};

/* A new destination: one file and one line here. */
static const struct {
	enum dest_kind kind;
	const struct delivery_ops *ops;
} table[] = {
	{ DEST_MAILDIR, &delivery_maildir_ops },
	{ DEST_MBOX, &delivery_mbox_ops },
	{ DEST_MDA, &delivery_mda_ops },
	{ DEST_LMTP, &delivery_lmtp_ops },
};

const struct delivery_ops *delivery_ops_find(enum dest_kind kind)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (table[i].kind == kind)
			return table[i].ops;
	return NULL;
}

struct delivery *delivery_open(const struct config *cfg, const struct account *a,
			       struct pf_error *err)
{
	const struct delivery_ops *ops = delivery_ops_find(a->dest);
	struct delivery *d;
	void *impl;

	if (ops == NULL) {
		pf_error_set(err, PF_ERR_CONFIG, "%s: this destination is not supported by this "
			     "build", a->name);
		return NULL;
	}
	impl = ops->open(cfg, a, err);
	if (impl == NULL)
		return NULL;
	d = xcalloc(1, sizeof *d);
	d->ops = ops;
	d->impl = impl;
	return d;
}

void delivery_close(struct delivery *d)
{
	if (d == NULL)
		return;
	d->ops->close(d->impl);
	free(d);
}

const char *delivery_kind(const struct delivery *d)
{
	return d->ops->kind;
}

int delivery_has(struct delivery *d, const char *name, struct pf_error *err)
{
	return d->ops->has(d->impl, name, err);
}

int delivery_msg_begin(struct delivery *d, struct delivery_item *it, struct pf_error *err)
{
	it->impl = NULL;
	it->name[0] = '\0';
	return d->ops->msg_begin(d->impl, it, err);
}

int delivery_msg_write(struct delivery *d, struct delivery_item *it, const void *buf,
		       size_t len, struct pf_error *err)
{
	return d->ops->msg_write(d->impl, it, buf, len, err);
}

int delivery_msg_end(struct delivery *d, struct delivery_item *it, uint64_t bytes,
		     uint64_t lines, struct pf_error *err)
{
	return d->ops->msg_end(d->impl, it, bytes, lines, err);
}

void delivery_msg_abort(struct delivery *d, struct delivery_item *it)
{
	if (it->impl != NULL)
		d->ops->msg_abort(d->impl, it);
	it->impl = NULL;
}

int delivery_commit(struct delivery *d, struct delivery_item *items, size_t n,
		    const struct delivery_journal *j, struct pf_error *err)
{
	if (n == 0)
		return 0;
	return d->ops->commit(d->impl, items, n, j, err);
}
