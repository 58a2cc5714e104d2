/* fetch_policy.c - see fetch_policy.h.  Every rule of DESIGN.md sections 2
 * and 8 about what a poll touches is here, once: the I/O that carries the
 * plan out is fetch.c's and fetch_batch.c's. */
#include "fetch_policy.h"

#define DAY_S 86400

/* With keep + delete_after: delivered, first recorded delete_after days
 * ago. */
static int expired(const struct fetch_rules *r, const struct fetch_session *s,
		   const struct fetch_entry *e)
{
	if (r->delete_after <= 0 || e->first_seen <= 0)
		return 0;
	return s->now - e->first_seen >= (time_t)r->delete_after * DAY_S;
}

/* Nothing is fetched or deleted: the messages with a usable uid stay,
 * the others are still reported. */
static void touch_nothing(struct fetch_plan *p, const struct fetch_entry *e, size_t n,
			  enum fetch_verdict why)
{
	p->verdict = why;
	p->nfetch = 0;
	p->delete_fetched = 0;
	p->complete = 0; /* forget nothing either */
	for (size_t i = 0; i < n; i++)
		p->act[i] = e[i].uid == FETCH_UID_INVALID || e[i].uid == FETCH_UID_SHARED ?
				    FETCH_ACT_UNTOUCHED : FETCH_ACT_KEEP;
}

/* Keep mode and --check need a uid for every message: without UIDL,
 * "new" cannot be told from "delivered before". */
static int needs_uidl(const struct fetch_rules *r, const struct fetch_entry *e, size_t n)
{
	if (!r->keep && !r->check_only)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (e[i].uid == FETCH_UID_NONE)
			return 1;
	return 0;
}

/* An entry the store already has: DESIGN.md section 8, delete mode
 * deletes what earlier polls delivered too; keep mode only what
 * delete_after made due. */
static enum fetch_act delivered_act(const struct fetch_rules *r, const struct fetch_session *s,
				    const struct fetch_entry *e, struct fetch_plan *p)
{
	if (!r->keep)
		return r->check_only ? FETCH_ACT_KEEP : FETCH_ACT_DELETE; /* -c deletes nothing */
	if (!expired(r, s, e))
		return FETCH_ACT_KEEP;
	p->expired++;
	return r->check_only ? FETCH_ACT_KEEP : FETCH_ACT_DELETE;
}

/* Whether max_size can exclude a message that LIST has not sized yet:
 * when the whole maildrop is no larger than max_size, no message is. */
static int sizes_matter(const struct fetch_rules *r, const struct fetch_session *s)
{
	return r->max_size > 0 && !s->sizes_known && !r->check_only &&
	       s->maildrop_octets > r->max_size;
}

/* A new message: fetched in listing order (oldest first, RFC 1939 numbers
 * them so) while the limit allows, which counts across the poll's
 * sessions. */
static enum fetch_act new_act(const struct fetch_rules *r, const struct fetch_session *s,
			      const struct fetch_entry *e, struct fetch_plan *p)
{
	p->fresh++;
	if (r->max_size > 0 && s->sizes_known && !r->check_only && e->size > r->max_size) {
		p->skipped++;
		return FETCH_ACT_SKIP_SIZE;
	}
	if (r->limit > 0 && !r->check_only && s->fetched + p->nfetch >= r->limit)
		return FETCH_ACT_LATER;
	return FETCH_ACT_FETCH;
}

void fetch_plan_make(const struct fetch_rules *r, const struct fetch_session *s,
		     const struct fetch_entry *entries, size_t n, struct fetch_plan *p)
{
	p->verdict = FETCH_GO;
	p->nfetch = 0;
	p->fresh = p->expired = p->skipped = p->untouched = 0;
	p->capped = r->listing_cap > 0 && n >= r->listing_cap;
	p->complete = !p->capped;
	p->delete_fetched = !r->keep && !r->check_only;
	for (size_t i = 0; i < n; i++) {
		const struct fetch_entry *e = &entries[i];

		if (e->uid == FETCH_UID_INVALID || e->uid == FETCH_UID_SHARED) {
			/* Issue 12: a bad listing line costs its message only. */
			p->untouched++;
			p->act[i] = FETCH_ACT_UNTOUCHED;
		} else if (e->delivered && e->uid == FETCH_UID_OK) {
			p->act[i] = delivered_act(r, s, e, p);
		} else {
			p->act[i] = new_act(r, s, e, p);
			if (p->act[i] == FETCH_ACT_FETCH)
				p->fetch[p->nfetch++] = i;
		}
	}
	/* Checked last so that the counts still describe the listing. */
	if (r->store != FETCH_STORE_BOUND)
		touch_nothing(p, entries, n, FETCH_STOP_FOREIGN_STORE);
	else if (needs_uidl(r, entries, n))
		touch_nothing(p, entries, n, FETCH_STOP_NO_UIDL);
	else if (p->nfetch > 0 && sizes_matter(r, s))
		p->verdict = FETCH_NEED_SIZES;
}

int fetch_plan_another(const struct fetch_rules *r, const struct fetch_session *s,
		       const struct fetch_plan *p, unsigned long delivered_now, int stop_requested)
{
	if (r->check_only || stop_requested || p->verdict != FETCH_GO)
		return 0;
	if (r->sessions_max <= s->number)
		return 0;
	if (p->nfetch == 0 || delivered_now == 0)
		return 0; /* nothing fetchable, or no progress: the next would list the same */
	if (r->limit > 0 && s->fetched + delivered_now >= r->limit)
		return 0;
	return 1;
}
