/* test_fetch.c - the fetch policy (fetch_policy.h) without a network, a
 * store or a file: every rule of DESIGN.md sections 2 and 8 about what a
 * poll fetches, skips, keeps and deletes, and the promises of issue 12
 * (sessions for a server that lists part of the maildrop, bad UIDs, a
 * store bound to another server). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fetch_policy.h"

#define NOW ((time_t)1800000000)
#define DAY 86400
#define MAXN 1024

static enum fetch_act acts[MAXN];
static size_t fetchv[MAXN];

static struct fetch_rules rules_delete(void)
{
	struct fetch_rules r;

	memset(&r, 0, sizeof r);
	r.sessions_max = 1;
	return r;
}

static struct fetch_rules rules_keep(void)
{
	struct fetch_rules r = rules_delete();

	r.keep = 1;
	return r;
}

static struct fetch_session first_session(int sizes_known)
{
	struct fetch_session s = { .number = 1, .now = NOW, .sizes_known = sizes_known };

	return s;
}

static struct fetch_plan plan_of(const struct fetch_rules *r, const struct fetch_session *s,
				 const struct fetch_entry *e, size_t n)
{
	struct fetch_plan p;

	memset(&p, 0xa5, sizeof p); /* no field may be left as it was */
	memset(acts, 0xa5, sizeof acts);
	p.act = acts;
	p.fetch = fetchv;
	fetch_plan_make(r, s, e, n, &p);
	return p;
}

static struct fetch_entry fresh(uint64_t size)
{
	struct fetch_entry e = { .size = size, .uid = FETCH_UID_OK };

	return e;
}

static struct fetch_entry delivered(time_t first_seen)
{
	struct fetch_entry e = { .size = 10, .uid = FETCH_UID_OK, .delivered = 1,
				 .first_seen = first_seen };

	return e;
}

static struct fetch_entry with_uid(enum fetch_uid uid, int was_delivered)
{
	struct fetch_entry e = { .size = 10, .uid = (unsigned char)uid,
				 .delivered = (unsigned char)was_delivered };

	return e;
}

static int deletes_anything(const struct fetch_plan *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p->act[i] == FETCH_ACT_DELETE)
			return 1;
	return p->delete_fetched && p->nfetch > 0;
}

/* --- DESIGN.md section 2: skip what is delivered, DELE only what is durable */

static void plan__new_messages__fetched_in_listing_order(void **state)
{
	struct fetch_rules r = rules_keep();
	struct fetch_session s = first_session(1);
	struct fetch_entry e[] = { fresh(10), delivered(NOW), fresh(20), fresh(30) };
	struct fetch_plan p = plan_of(&r, &s, e, 4);

	(void)state;
	assert_int_equal(p.verdict, FETCH_GO);
	assert_int_equal(p.nfetch, 3);
	assert_int_equal(p.fetch[0], 0);
	assert_int_equal(p.fetch[1], 2);
	assert_int_equal(p.fetch[2], 3);
	assert_int_equal(p.act[1], FETCH_ACT_KEEP);
	assert_int_equal(p.fresh, 3);
	assert_int_equal(p.skipped, 0);
	assert_int_equal(p.untouched, 0);
	assert_false(p.delete_fetched);
	assert_true(p.complete);
	assert_false(p.capped);
}

static void plan__delete_mode__deletes_fetched_once_durable_and_delivered_before(void **state)
{
	struct fetch_rules r = rules_delete();
	struct fetch_session s = first_session(1);
	struct fetch_entry e[] = { delivered(NOW - 30 * DAY), fresh(10), delivered(0) };
	struct fetch_plan p = plan_of(&r, &s, e, 3);

	(void)state;
	/* DESIGN.md section 8: switching from keep to delete empties the
	 * server of what is safe locally. */
	assert_int_equal(p.act[0], FETCH_ACT_DELETE);
	assert_int_equal(p.act[2], FETCH_ACT_DELETE);
	assert_int_equal(p.act[1], FETCH_ACT_FETCH);
	/* The fetched one is deleted only after it is durable: the caller
	 * checks that, the plan says it may. */
	assert_true(p.delete_fetched);
	assert_int_equal(p.nfetch, 1);
	assert_int_equal(p.expired, 0);
}

static void plan__keep_mode__deletes_nothing_without_delete_after(void **state)
{
	struct fetch_rules r = rules_keep();
	struct fetch_session s = first_session(1);
	struct fetch_entry e[] = { delivered(NOW - 3650 * DAY), fresh(10) };
	struct fetch_plan p = plan_of(&r, &s, e, 2);

	(void)state;
	assert_int_equal(p.act[0], FETCH_ACT_KEEP);
	assert_false(deletes_anything(&p, 2));
}

/* DESIGN.md section 5: keep + delete_after N deletes N days after the
 * first delivery, not before; an unknown date never. */
static void plan__delete_after__deletes_only_what_is_due(void **state)
{
	struct fetch_rules r = rules_keep();
	struct fetch_session s = first_session(1);
	struct fetch_entry e[] = {
		delivered(NOW - 7 * DAY), delivered(NOW - 7 * DAY + 1), delivered(0),
		delivered(NOW - 100 * DAY), fresh(10),
	};
	struct fetch_plan p;

	(void)state;
	r.delete_after = 7;
	p = plan_of(&r, &s, e, 5);
	assert_int_equal(p.act[0], FETCH_ACT_DELETE);
	assert_int_equal(p.act[1], FETCH_ACT_KEEP);
	assert_int_equal(p.act[2], FETCH_ACT_KEEP);
	assert_int_equal(p.act[3], FETCH_ACT_DELETE);
	assert_int_equal(p.act[4], FETCH_ACT_FETCH);
	assert_int_equal(p.expired, 2);
	/* A message fetched now is not due: keep mode never DELEs it. */
	assert_false(p.delete_fetched);
}

/* -c: counts, fetches and deletes nothing; what delete_after makes due is
 * counted, not deleted. */
static void plan__check__counts_and_touches_nothing(void **state)
{
	struct fetch_rules r = rules_keep();
	struct fetch_session s = first_session(1);
	struct fetch_entry e[] = { delivered(NOW - 9 * DAY), fresh(5000), fresh(10) };
	struct fetch_plan p;

	(void)state;
	r.check_only = 1;
	r.delete_after = 7;
	r.max_size = 100;
	r.limit = 1;
	p = plan_of(&r, &s, e, 3);
	assert_int_equal(p.verdict, FETCH_GO);
	assert_int_equal(p.fresh, 2);
	assert_int_equal(p.expired, 1);
	assert_false(deletes_anything(&p, 3));
	assert_int_equal(p.skipped, 0);
	/* Delete mode's -c deletes nothing either. */
	r = rules_delete();
	r.check_only = 1;
	p = plan_of(&r, &s, e, 3);
	assert_int_equal(p.act[0], FETCH_ACT_KEEP);
	assert_false(p.delete_fetched);
	assert_int_equal(p.fresh, 2);
}

/* --- max_size and the limit (DESIGN.md sections 5 and 8) ------------------ */

static void plan__max_size__skips_by_list_size(void **state)
{
	struct fetch_rules r = rules_delete();
	struct fetch_session s = first_session(1);
	struct fetch_entry e[] = { fresh(100), fresh(101), fresh(5) };
	struct fetch_plan p;

	(void)state;
	r.max_size = 100;
	p = plan_of(&r, &s, e, 3);
	assert_int_equal(p.act[0], FETCH_ACT_FETCH);
	assert_int_equal(p.act[1], FETCH_ACT_SKIP_SIZE);
	assert_int_equal(p.act[2], FETCH_ACT_FETCH);
	assert_int_equal(p.skipped, 1);
	assert_int_equal(p.fresh, 3);
	assert_int_equal(p.nfetch, 2);
}

/* Sizes not read yet: LIST is needed only when a message can be over. */
static void plan__unknown_sizes__need_list_only_when_max_size_can_matter(void **state)
{
	struct fetch_rules r = rules_delete();
	struct fetch_session s = first_session(0);
	struct fetch_entry e[] = { fresh(0), fresh(0) };
	struct fetch_plan p;

	(void)state;
	r.max_size = 1000;
	s.maildrop_octets = 1000;
	p = plan_of(&r, &s, e, 2);
	assert_int_equal(p.verdict, FETCH_GO);
	assert_int_equal(p.nfetch, 2);
	s.maildrop_octets = 1001;
	p = plan_of(&r, &s, e, 2);
	assert_int_equal(p.verdict, FETCH_NEED_SIZES);
	/* No max_size: sizes never change the plan. */
	r.max_size = 0;
	p = plan_of(&r, &s, e, 2);
	assert_int_equal(p.verdict, FETCH_GO);
	/* -c fetches nothing: no LIST for it. */
	r.max_size = 1000;
	r.check_only = 1;
	p = plan_of(&r, &s, e, 2);
	assert_int_equal(p.verdict, FETCH_GO);
	r.check_only = 0;
	/* Nothing new: nothing to size. */
	r.max_size = 1000;
	e[0] = delivered(NOW);
	e[1] = delivered(NOW);
	p = plan_of(&r, &s, e, 2);
	assert_int_equal(p.verdict, FETCH_GO);
	assert_int_equal(p.nfetch, 0);
}

static void plan__limit__fetches_the_oldest_and_leaves_the_rest(void **state)
{
	struct fetch_rules r = rules_delete();
	struct fetch_session s = first_session(1);
	struct fetch_entry e[] = { fresh(10), fresh(500), fresh(10), fresh(10), fresh(10) };
	struct fetch_plan p;

	(void)state;
	r.limit = 2;
	r.max_size = 100;
	p = plan_of(&r, &s, e, 5);
	/* A skipped message does not count against the limit. */
	assert_int_equal(p.nfetch, 2);
	assert_int_equal(p.fetch[0], 0);
	assert_int_equal(p.fetch[1], 2);
	assert_int_equal(p.act[1], FETCH_ACT_SKIP_SIZE);
	assert_int_equal(p.act[3], FETCH_ACT_LATER);
	assert_int_equal(p.act[4], FETCH_ACT_LATER);
	assert_int_equal(p.fresh, 5);
	/* The limit counts across the poll's sessions. */
	s.fetched = 1;
	p = plan_of(&r, &s, e, 5);
	assert_int_equal(p.nfetch, 1);
	s.fetched = 2;
	p = plan_of(&r, &s, e, 5);
	assert_int_equal(p.nfetch, 0);
	assert_int_equal(p.act[0], FETCH_ACT_LATER);
}

/* --- servers without UIDL (DESIGN.md section 8, README) ------------------- */

static void plan__no_uidl__delete_mode_fetches_and_deletes_all(void **state)
{
	struct fetch_rules r = rules_delete();
	struct fetch_session s = first_session(1);
	struct fetch_entry e[] = { with_uid(FETCH_UID_NONE, 0), with_uid(FETCH_UID_NONE, 0) };
	struct fetch_plan p = plan_of(&r, &s, e, 2);

	(void)state;
	assert_int_equal(p.verdict, FETCH_GO);
	assert_int_equal(p.nfetch, 2);
	assert_true(p.delete_fetched);
	/* Without a uid the store cannot have said "delivered": whatever the
	 * entry claims, it is fetched (and never deleted unfetched). */
	e[1].delivered = 1;
	p = plan_of(&r, &s, e, 2);
	assert_int_equal(p.act[1], FETCH_ACT_FETCH);
	assert_int_equal(p.nfetch, 2);
}

static void plan__no_uidl__keep_and_check_touch_nothing(void **state)
{
	struct fetch_rules r = rules_keep();
	struct fetch_session s = first_session(1);
	struct fetch_entry e[] = { fresh(10), with_uid(FETCH_UID_NONE, 0) };
	struct fetch_plan p = plan_of(&r, &s, e, 2);

	(void)state;
	assert_int_equal(p.verdict, FETCH_STOP_NO_UIDL);
	assert_int_equal(p.nfetch, 0);
	assert_false(deletes_anything(&p, 2));
	r = rules_delete();
	r.check_only = 1;
	p = plan_of(&r, &s, e, 2);
	assert_int_equal(p.verdict, FETCH_STOP_NO_UIDL);
}

/* --- issue 12: a bad listing line costs one message ---------------------- */

static void plan__bad_uids__untouched_in_every_mode(void **state)
{
	struct fetch_entry e[] = {
		fresh(10), with_uid(FETCH_UID_INVALID, 0), with_uid(FETCH_UID_SHARED, 0),
		with_uid(FETCH_UID_SHARED, 1), delivered(NOW - 30 * DAY), fresh(10),
	};
	struct fetch_session s = first_session(1);
	struct fetch_rules modes[4];
	struct fetch_plan p;

	(void)state;
	modes[0] = rules_delete();
	modes[1] = rules_keep();
	modes[2] = rules_keep();
	modes[2].delete_after = 1;
	modes[3] = rules_delete();
	modes[3].check_only = 1;
	for (size_t m = 0; m < 4; m++) {
		print_message("mode %zu\n", m);
		p = plan_of(&modes[m], &s, e, 6);
		assert_int_equal(p.verdict, FETCH_GO);
		/* Never fetched, never deleted: even a shared uid the store has
		 * as delivered may be the other message's. */
		for (size_t i = 1; i <= 3; i++)
			assert_int_equal(p.act[i], FETCH_ACT_UNTOUCHED);
		for (size_t k = 0; k < p.nfetch; k++)
			assert_true(p.fetch[k] == 0 || p.fetch[k] == 5);
		assert_int_equal(p.untouched, 3);
		assert_int_equal(p.fresh, 2);
		/* The rest of the poll goes on. */
		if (!modes[m].check_only)
			assert_int_equal(p.nfetch, 2);
	}
	assert_int_equal(plan_of(&modes[0], &s, e, 6).act[4], FETCH_ACT_DELETE);
}

/* --- a store bound to another server or user (DESIGN.md section 2) ------- */

static void plan__foreign_store__stops_fetching_and_deleting_nothing(void **state)
{
	struct fetch_entry e[] = {
		delivered(NOW - 30 * DAY), fresh(10), with_uid(FETCH_UID_SHARED, 1), delivered(0),
		with_uid(FETCH_UID_INVALID, 0),
	};
	struct fetch_session s = first_session(1);
	struct fetch_rules r = rules_delete();
	struct fetch_plan p;

	(void)state;
	r.store = FETCH_STORE_FOREIGN;
	p = plan_of(&r, &s, e, 5);
	assert_int_equal(p.verdict, FETCH_STOP_FOREIGN_STORE);
	assert_int_equal(p.nfetch, 0);
	assert_false(deletes_anything(&p, 5));
	assert_int_equal(p.act[0], FETCH_ACT_KEEP);
	assert_int_equal(p.act[1], FETCH_ACT_KEEP);
	assert_int_equal(p.act[2], FETCH_ACT_UNTOUCHED);
	assert_int_equal(p.act[4], FETCH_ACT_UNTOUCHED);
	assert_false(p.delete_fetched);
	/* Nothing is forgotten on its word either. */
	assert_false(p.complete);
	r = rules_keep();
	r.delete_after = 1;
	r.store = FETCH_STORE_FOREIGN;
	p = plan_of(&r, &s, e, 4);
	assert_int_equal(p.verdict, FETCH_STOP_FOREIGN_STORE);
	assert_false(deletes_anything(&p, 4));
	assert_int_equal(p.nfetch, 0);
	assert_false(fetch_plan_another(&r, &s, &p, 0, 0));
}

/* --- issue 12: a server that lists part of the maildrop a session -------- */

static struct fetch_rules rules_gmail(int keep)
{
	struct fetch_rules r = keep ? rules_keep() : rules_delete();

	r.sessions_max = 10;
	r.listing_cap = 250;
	return r;
}

static void plan__capped_listing__is_a_lower_bound_and_forgets_nothing(void **state)
{
	static struct fetch_entry e[300];
	struct fetch_rules r = rules_gmail(1);
	struct fetch_session s = first_session(0);
	struct fetch_plan p;

	(void)state;
	for (size_t i = 0; i < 300; i++)
		e[i] = fresh(0);
	p = plan_of(&r, &s, e, 250);
	assert_true(p.capped);
	assert_false(p.complete);
	p = plan_of(&r, &s, e, 249);
	assert_false(p.capped);
	assert_true(p.complete);
	/* Without the quirk a listing is complete however long. */
	r = rules_keep();
	p = plan_of(&r, &s, e, 300);
	assert_false(p.capped);
	assert_true(p.complete);
}

static void another__only_with_the_quirk_and_progress(void **state)
{
	struct fetch_entry e[] = { fresh(10), fresh(10) };
	struct fetch_session s = first_session(1);
	struct fetch_rules r = rules_gmail(0);
	struct fetch_plan p = plan_of(&r, &s, e, 2);

	(void)state;
	assert_true(fetch_plan_another(&r, &s, &p, 2, 0));
	/* No progress (every RETR refused): the next session lists the same. */
	assert_false(fetch_plan_another(&r, &s, &p, 0, 0));
	/* A stop request ends the poll. */
	assert_false(fetch_plan_another(&r, &s, &p, 2, 1));
	/* At most sessions_max sessions. */
	s.number = 10;
	assert_false(fetch_plan_another(&r, &s, &p, 2, 0));
	s.number = 9;
	assert_true(fetch_plan_another(&r, &s, &p, 2, 0));
	/* The limit counts across sessions. */
	r.limit = 5;
	s.fetched = 3;
	assert_false(fetch_plan_another(&r, &s, &p, 2, 0));
	s.fetched = 2;
	assert_true(fetch_plan_another(&r, &s, &p, 2, 0));
	/* A server without the quirk: one session. */
	r = rules_delete();
	p = plan_of(&r, &s, e, 2);
	s.number = 1;
	assert_false(fetch_plan_another(&r, &s, &p, 2, 0));
	r.sessions_max = 0;
	assert_false(fetch_plan_another(&r, &s, &p, 2, 0));
	/* -c never opens another. */
	r = rules_gmail(1);
	r.check_only = 1;
	p = plan_of(&r, &s, e, 2);
	assert_false(fetch_plan_another(&r, &s, &p, 0, 0));
}

static void another__nothing_fetchable__ends_the_poll(void **state)
{
	struct fetch_entry e[] = {
		fresh(5000), with_uid(FETCH_UID_INVALID, 0), delivered(NOW), fresh(5000),
	};
	struct fetch_session s = first_session(1);
	struct fetch_rules r = rules_gmail(1);
	struct fetch_plan p;

	(void)state;
	r.max_size = 100;
	p = plan_of(&r, &s, e, 4);
	assert_int_equal(p.nfetch, 0);
	assert_false(fetch_plan_another(&r, &s, &p, 0, 0));
}

/* A simulated Gmail: n messages, each session lists the oldest 250 not
 * yet retrieved (whatever DELE said) and hides what it retrieved.  The
 * policy, driven as fetch.c drives it, delivers each message exactly once
 * in as few sessions as the cap allows, and stops. */
struct gmail {
	size_t n;
	unsigned char retrieved[MAXN];
	unsigned char in_store[MAXN];
	uint64_t size[MAXN];
	unsigned delivered_count[MAXN];
};

/* One session: returns the messages delivered; *listed_r, *another_r. */
static unsigned long gmail_session(struct gmail *g, const struct fetch_rules *r,
				   struct fetch_session *s, int *another_r)
{
	size_t idx[250], n = 0;
	struct fetch_entry e[250];
	struct fetch_plan p;
	unsigned long got = 0;

	for (size_t m = 0; m < g->n && n < 250; m++)
		if (!g->retrieved[m]) {
			idx[n] = m;
			e[n].size = g->size[m];
			e[n].uid = FETCH_UID_OK;
			e[n].delivered = g->in_store[m];
			e[n].first_seen = 0;
			n++;
		}
	s->sizes_known = 1;
	p = plan_of(r, s, e, n);
	assert_int_equal(p.verdict, FETCH_GO);
	for (size_t k = 0; k < p.nfetch; k++) {
		size_t m = idx[p.fetch[k]];

		assert_false(g->in_store[m]); /* never fetched twice */
		g->retrieved[m] = 1;
		g->in_store[m] = 1;
		g->delivered_count[m]++;
		got++;
	}
	*another_r = fetch_plan_another(r, s, &p, got, 0);
	return got;
}

static unsigned gmail_poll(struct gmail *g, const struct fetch_rules *r, unsigned long *total_r)
{
	struct fetch_session s = first_session(1);
	int another = 1;

	*total_r = 0;
	for (s.number = 1; another; s.number++) {
		unsigned long got = gmail_session(g, r, &s, &another);

		*total_r += got;
		s.fetched += got;
	}
	return s.number - 1;
}

static void gmail__700_messages__three_sessions_each_once(void **state)
{
	static struct gmail g;
	struct fetch_rules r = rules_gmail(1);
	unsigned long total;

	(void)state;
	memset(&g, 0, sizeof g);
	g.n = 700;
	/* 250, 250, 200: the third listing is short, but only a session that
	 * brings nothing new proves the maildrop empty. */
	assert_int_equal(gmail_poll(&g, &r, &total), 4);
	assert_int_equal(total, 700);
	for (size_t m = 0; m < g.n; m++)
		assert_int_equal(g.delivered_count[m], 1);
	/* The next poll: one session, nothing new. */
	assert_int_equal(gmail_poll(&g, &r, &total), 1);
	assert_int_equal(total, 0);
}

static void gmail__limit_counts_across_sessions(void **state)
{
	static struct gmail g;
	struct fetch_rules r = rules_gmail(0);
	unsigned long total;

	(void)state;
	memset(&g, 0, sizeof g);
	g.n = 700;
	r.limit = 300;
	assert_int_equal(gmail_poll(&g, &r, &total), 2);
	assert_int_equal(total, 300);
	for (size_t m = 0; m < 300; m++)
		assert_int_equal(g.delivered_count[m], 1);
	for (size_t m = 300; m < g.n; m++)
		assert_int_equal(g.delivered_count[m], 0);
	/* The next poll goes on where this one stopped. */
	assert_int_equal(gmail_poll(&g, &r, &total), 2);
	assert_int_equal(total, 300);
	assert_int_equal(g.delivered_count[599], 1);
}

/* 260 messages over max_size at the head of the maildrop stay listed in
 * every session (never retrieved, so never hidden): the session after
 * the fetchable ones are gone brings nothing fetchable and ends the poll;
 * the sessions_max bound is never what stops it. */
static void gmail__skipped_messages__do_not_make_the_loop_spin(void **state)
{
	static struct gmail g;
	struct fetch_rules r = rules_gmail(1);
	unsigned long total;

	(void)state;
	memset(&g, 0, sizeof g);
	g.n = 400;
	for (size_t m = 0; m < 260; m++)
		g.size[m] = 10000;
	r.max_size = 1000;
	/* Session 1 lists 250 big ones: nothing fetchable, the poll ends. */
	assert_int_equal(gmail_poll(&g, &r, &total), 1);
	assert_int_equal(total, 0);
	/* 200 big ones: each session brings the 50 small ones the cap leaves
	 * room for, until one brings nothing fetchable. */
	memset(&g, 0, sizeof g);
	g.n = 400;
	for (size_t m = 0; m < 200; m++)
		g.size[m] = 10000;
	assert_int_equal(gmail_poll(&g, &r, &total), 5);
	assert_int_equal(total, 200);
	for (size_t m = 200; m < g.n; m++)
		assert_int_equal(g.delivered_count[m], 1);
}

static void gmail__sessions_are_bounded(void **state)
{
	static struct gmail g;
	struct fetch_rules r = rules_gmail(1);
	unsigned long total;

	(void)state;
	memset(&g, 0, sizeof g);
	g.n = MAXN;
	r.sessions_max = 3;
	assert_int_equal(gmail_poll(&g, &r, &total), 3);
	assert_int_equal(total, 750);
}

/* A server with the quirk set that hides nothing (every session lists the
 * same): the second session finds everything delivered and ends the poll. */
static void quirk__server_that_hides_nothing__one_extra_session(void **state)
{
	struct fetch_entry e[] = { fresh(10), fresh(10) };
	struct fetch_rules r = rules_gmail(1);
	struct fetch_session s = first_session(1);
	struct fetch_plan p = plan_of(&r, &s, e, 2);

	(void)state;
	assert_true(fetch_plan_another(&r, &s, &p, 2, 0));
	e[0] = delivered(NOW);
	e[1] = delivered(NOW);
	s.number = 2;
	s.fetched = 2;
	p = plan_of(&r, &s, e, 2);
	assert_int_equal(p.nfetch, 0);
	assert_false(fetch_plan_another(&r, &s, &p, 0, 0));
}

static void plan__empty_listing__nothing_to_do(void **state)
{
	struct fetch_rules r = rules_delete();
	struct fetch_session s = first_session(0);
	struct fetch_plan p = plan_of(&r, &s, NULL, 0);

	(void)state;
	assert_int_equal(p.verdict, FETCH_GO);
	assert_int_equal(p.nfetch, 0);
	assert_int_equal(p.fresh, 0);
	assert_true(p.complete);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plan__new_messages__fetched_in_listing_order),
		cmocka_unit_test(plan__delete_mode__deletes_fetched_once_durable_and_delivered_before),
		cmocka_unit_test(plan__keep_mode__deletes_nothing_without_delete_after),
		cmocka_unit_test(plan__delete_after__deletes_only_what_is_due),
		cmocka_unit_test(plan__check__counts_and_touches_nothing),
		cmocka_unit_test(plan__max_size__skips_by_list_size),
		cmocka_unit_test(plan__unknown_sizes__need_list_only_when_max_size_can_matter),
		cmocka_unit_test(plan__limit__fetches_the_oldest_and_leaves_the_rest),
		cmocka_unit_test(plan__no_uidl__delete_mode_fetches_and_deletes_all),
		cmocka_unit_test(plan__no_uidl__keep_and_check_touch_nothing),
		cmocka_unit_test(plan__bad_uids__untouched_in_every_mode),
		cmocka_unit_test(plan__foreign_store__stops_fetching_and_deleting_nothing),
		cmocka_unit_test(plan__capped_listing__is_a_lower_bound_and_forgets_nothing),
		cmocka_unit_test(another__only_with_the_quirk_and_progress),
		cmocka_unit_test(another__nothing_fetchable__ends_the_poll),
		cmocka_unit_test(gmail__700_messages__three_sessions_each_once),
		cmocka_unit_test(gmail__limit_counts_across_sessions),
		cmocka_unit_test(gmail__skipped_messages__do_not_make_the_loop_spin),
		cmocka_unit_test(gmail__sessions_are_bounded),
		cmocka_unit_test(quirk__server_that_hides_nothing__one_extra_session),
		cmocka_unit_test(plan__empty_listing__nothing_to_do),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
