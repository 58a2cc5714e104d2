/* fetch_report.c - what a poll tells the user about the messages its plan
 * leaves out (fetch_policy.h: over max_size, without a usable UID), and
 * the session's counts in the poll's result.  A server that lists part of
 * the maildrop a session lists such messages in every session: each is
 * reported and counted once a poll, by a key that survives renumbering. */
#include <stdlib.h>

#include "fetch_int.h"
#include "log.h"
#include "pop3.h"
#include "util.h"

/* Untouched messages reported one by one in a poll; then one line more. */
#define UNTOUCHED_REPORTS_MAX 20

/* A key for a reported message that stays the same in every session of
 * the poll, where numbers do not (pop3.h): its uid, or the listing's key
 * for one without a usable uid.  Never 0. */
static uint64_t report_key(const struct pop3_msg *m, enum fetch_act act)
{
	uint32_t h = 2166136261u;

	if (act == FETCH_ACT_UNTOUCHED)
		return (1ULL << 63) | ((uint64_t)m->uid_state << 32) | m->bad_key;
	for (const char *s = m->uid; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (1ULL << 62) | h;
}

/* Whether key was reported by an earlier session of the poll. */
static int reported_before(const struct poll *pl, uint64_t key)
{
	size_t i;

	if (pl->reported_cap == 0)
		return 0;
	for (i = key % pl->reported_cap; pl->reported[i] != 0; i = (i + 1) % pl->reported_cap)
		if (pl->reported[i] == key)
			return 1;
	return 0;
}

/* Remembers key for the poll's later sessions (an open-addressing set,
 * at most half full). */
static void remember_report(struct poll *pl, uint64_t key)
{
	size_t i, old_cap = pl->reported_cap;
	uint64_t *old = pl->reported;

	if (reported_before(pl, key))
		return;
	if (2 * (pl->nreported + 1) > pl->reported_cap) {
		pl->reported_cap = old_cap ? 2 * old_cap : 64;
		pl->reported = xcalloc(pl->reported_cap, sizeof *pl->reported);
		pl->nreported = 0;
		for (i = 0; i < old_cap; i++)
			if (old[i] != 0)
				remember_report(pl, old[i]);
		free(old);
	}
	for (i = key % pl->reported_cap; pl->reported[i] != 0; i = (i + 1) % pl->reported_cap)
		;
	pl->reported[i] = key;
	pl->nreported++;
}

/* Issue 12: a message without a usable uid stays on the server, never
 * retrieved and never deleted, and is reported once a poll. */
static void report_untouched(struct poll *pl, const struct pop3_msg *m)
{
	if (++pl->res->untouched > UNTOUCHED_REPORTS_MAX) {
		if (pl->res->untouched == UNTOUCHED_REPORTS_MAX + 1)
			log_warn("%s: more messages without a usable UID are left on the server",
				 pl->acct->name);
		return;
	}
	if (m->uid_state == POP3_UID_INVALID)
		log_warn("%s: message %lu left on the server: its UIDL line has no valid UID "
			 "(RFC 1939: 1 to 70 characters 0x21-0x7E)", pl->acct->name, m->num);
	else
		log_warn("%s: message %lu left on the server: another message has the same UID %s",
			 pl->acct->name, m->num, m->uid);
}

void fetch_account_plan(struct poll *pl, const struct fetch_plan *p)
{
	int many = pl->rules.sessions_max > 1;
	unsigned long again = 0;

	for (size_t i = 0; i < pl->nmsgs; i++) {
		const struct pop3_msg *m = &pl->msgs[i];
		enum fetch_act act = p->act[i];

		if (act != FETCH_ACT_UNTOUCHED && act != FETCH_ACT_SKIP_SIZE)
			continue;
		if (many && reported_before(pl, report_key(m, act))) {
			again += act == FETCH_ACT_SKIP_SIZE;
			continue;
		}
		if (act == FETCH_ACT_UNTOUCHED) {
			report_untouched(pl, m);
			continue;
		}
		log_info("%s: skipping message %lu: %llu bytes is over max_size", pl->acct->name,
			 m->num, (unsigned long long)m->size);
		pl->res->skipped++;
	}
	for (size_t i = 0; many && i < pl->nmsgs; i++)
		if (p->act[i] == FETCH_ACT_UNTOUCHED || p->act[i] == FETCH_ACT_SKIP_SIZE)
			remember_report(pl, report_key(&pl->msgs[i], p->act[i]));
	pl->res->fresh += p->fresh - again;
	pl->res->expired += p->expired;
	pl->res->capped |= p->capped;
	if (pl->nmsgs > pl->res->listed)
		pl->res->listed = pl->nmsgs;
}
