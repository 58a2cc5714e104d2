/* fetch_policy.h - what one session of an account poll fetches, skips,
 * keeps and deletes, as a pure function (DESIGN.md sections 2, 8 and 9).
 *
 * The caller (fetch.c) does every piece of I/O: it reads the listing,
 * asks the uid store about each listed uid and passes the answers in
 * struct fetch_entry; the policy looks at nothing else (no clock, no
 * store, no network, no file), so tests/unit/test_fetch.c can run every
 * rule without any of them.  The plan it returns says, per listing entry,
 * what to do, and in which order to retrieve; fetch.c then only carries
 * it out.  Which provider is on the other side is never asked: a
 * provider's quirks arrive as data (fetch_rules.sessions_max,
 * listing_cap, from provider.h). */
#ifndef POPFETCH_FETCH_POLICY_H
#define POPFETCH_FETCH_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Whether the uid store may be used for this account (DESIGN.md section
 * 2): a store recorded for another host or user must never be used to
 * skip or delete anything. */
enum fetch_store {
	FETCH_STORE_BOUND = 0, /* recorded for this host and user */
	FETCH_STORE_FOREIGN,   /* recorded for another host or user */
};

/* The account's settings with the command line's overrides applied. */
struct fetch_rules {
	int keep;                  /* 1: leave on the server (keep, -k) */
	int check_only;            /* -c: count, fetch and delete nothing */
	int delete_after;          /* days, with keep; 0: never */
	uint64_t max_size;         /* bytes by LIST size; 0: no limit */
	unsigned long limit;       /* messages a poll, all sessions together; 0: all */
	unsigned sessions_max;     /* provider quirk; 0 or 1: one session */
	unsigned long listing_cap; /* provider quirk; 0: listings are complete */
	enum fetch_store store;
};

/* Where the poll stands when this session's listing has been read. */
struct fetch_session {
	unsigned number;           /* 1 for the first session of the poll */
	unsigned long fetched;     /* delivered by earlier sessions of the poll */
	time_t now;
	int sizes_known;           /* the entries' sizes are LIST's */
	uint64_t maildrop_octets;  /* STAT's total */
};

/* How a listed message's UID can be used (pop3.h's enum pop3_uid_state,
 * plus a server without UIDL). */
enum fetch_uid {
	FETCH_UID_OK = 0,
	FETCH_UID_NONE,            /* the server has no UIDL */
	FETCH_UID_INVALID,         /* its UIDL line had no valid uid */
	FETCH_UID_SHARED,          /* another message has the same uid */
};

/* One listing entry with the uid store's answers about it. */
struct fetch_entry {
	uint64_t size;             /* LIST size when sizes_known; a hint */
	time_t first_seen;         /* delivered: when the store first recorded it
				    * (delete_after); 0: unknown */
	unsigned char uid;         /* enum fetch_uid */
	unsigned char delivered;   /* the store has the uid as delivered */
};

/* What to do with one entry. */
enum fetch_act {
	FETCH_ACT_FETCH = 0,       /* new: retrieve (with -c: would be) */
	FETCH_ACT_LATER,           /* new, past the limit: a later poll */
	FETCH_ACT_SKIP_SIZE,       /* new, over max_size by LIST: report */
	FETCH_ACT_UNTOUCHED,       /* no usable uid: never retrieve nor delete; report */
	FETCH_ACT_KEEP,            /* delivered before; stays on the server */
	FETCH_ACT_DELETE,          /* delivered before; DELE */
};

enum fetch_verdict {
	FETCH_GO = 0,              /* carry out the plan */
	FETCH_NEED_SIZES,          /* max_size may matter: read LIST, plan again */
	FETCH_STOP_FOREIGN_STORE,  /* the store is another server's: touch nothing */
	FETCH_STOP_NO_UIDL,        /* keep or -c without UIDL: touch nothing */
};

/* The plan for one session.  act and fetch are arrays of at least n
 * elements owned by the caller. */
struct fetch_plan {
	enum fetch_verdict verdict;
	enum fetch_act *act;       /* per entry */
	size_t *fetch;             /* entry indexes to retrieve, in listing order */
	size_t nfetch;
	/* Also DELE what this session delivers (delete mode; DESIGN.md
	 * section 2 step 5: only once it is durable). */
	int delete_fetched;
	/* The listing was complete, so uids absent from it may start to be
	 * forgotten (DESIGN.md section 2: a truncated listing forgets
	 * nothing). */
	int complete;
	/* The listing may have been cut short by the server (listing_cap):
	 * the counts below are lower bounds ("at least"). */
	int capped;
	unsigned long fresh;       /* new (not delivered before, uid usable) */
	unsigned long expired;     /* kept and due for deletion (delete_after) */
	unsigned long skipped;     /* over max_size */
	unsigned long untouched;   /* no usable uid */
};

/* Plans one session over entries[0..n).  Deterministic: the same inputs
 * give the same plan.  With FETCH_NEED_SIZES the acts of new messages and
 * fetch[] are provisional (nfetch counts the candidates); with either
 * FETCH_STOP_* nothing is fetched (nfetch 0) and every act is KEEP or
 * UNTOUCHED.  Never fails. */
void fetch_plan_make(const struct fetch_rules *r, const struct fetch_session *s,
		     const struct fetch_entry *entries, size_t n, struct fetch_plan *p);

/* Whether the poll opens another session after this one (the provider
 * quirk: a server that lists part of the maildrop a session and hides
 * what was fetched).  Only when the quirk allows more sessions, this
 * session's plan had something to fetch and some of it was delivered
 * (delivered_now), the limit is not reached and no stop was requested:
 * a session that brings nothing fetchable ends the poll, so skipped or
 * untouched messages cannot make it spin. */
int fetch_plan_another(const struct fetch_rules *r, const struct fetch_session *s,
		       const struct fetch_plan *p, unsigned long delivered_now, int stop_requested);

#endif
