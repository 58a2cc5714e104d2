/* uidstore.c - see uidstore.h.  The in-memory side: a chained hash table
 * maps each uid to its entry (state, Maildir name, first and last seen),
 * and the public verbs change it and queue one journal record per change
 * for uidstore_commit().  The file side is uidstore_file.c (open, commit,
 * compaction, replacing a store), the journal's grammar uidstore_load.c,
 * the binding to a server and a user uidstore_bind.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "arena.h"
#include "uidstore.h"
#include "uidstore_int.h"
#include "util.h"

/* Table sizing: start small, double when there are more uids than
 * buckets (chains stay short on average); presizing for a large file stops
 * at a million buckets (8 MB), grow() takes over beyond. */
#define BUCKETS_MIN 1024
#define BUCKETS_PRESIZE_MAX (1024 * 1024)

/* A last_seen this much newer in memory than on disk is worth a rewrite;
 * below it, polls that find nothing new write nothing. */
#define SEEN_REFRESH_S (24 * 3600)

/* --- validation ---------------------------------------------------------- */

/* RFC 1939 section 7: 1 to 70 octets in 0x21..0x7E (as pop3_uid_valid,
 * repeated so this module does not depend on the protocol code). */
int uidstore_uid_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || i >= PF_UID_MAX)
			return 0;
	return i > 0;
}

/* A Maildir name as maildir_make_name makes them: printable, no '/', not
 * "." or "..", which would always "exist" in new/. */
int uidstore_name_ok(const char *s)
{
	size_t i;

	if (s[0] == '.')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || s[i] == '/' ||
		    i >= PF_NAME_MAX)
			return 0;
	return i > 0;
}

static uint64_t make_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
		seed = (uint64_t)pf_now_ms() ^ ((uint64_t)getpid() << 32);
	return seed;
}

/* --- the hash table ------------------------------------------------------ */

/* FNV-1a, seeded per store so a server cannot choose uids that all land in
 * one chain by knowing the hash in advance. */
uint64_t uidstore_hash(const struct uidstore *s, const char *uid)
{
	uint64_t h = 14695981039346656037ULL ^ s->seed;

	for (; *uid != '\0'; uid++) {
		h ^= (unsigned char)*uid;
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

struct entry *uidstore_table_find(const struct uidstore *s, const char *uid, uint64_t h)
{
	struct entry *e = s->buckets[h & (s->nbuckets - 1)];

	while (e != NULL && (e->hash != h || strcmp(e->uid, uid) != 0))
		e = e->next;
	return e;
}

static void grow(struct uidstore *s)
{
	size_t n = s->nbuckets * 2;
	struct entry **b = xcalloc(n, sizeof *b);

	for (size_t i = 0; i < s->nbuckets; i++) {
		struct entry *e = s->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

/* Before loading: a table for about n uids, so that loading a large store
 * does not rehash it again and again.  The table is still empty. */
void uidstore_table_presize(struct uidstore *s, uint64_t n)
{
	size_t want = s->nbuckets;

	while (want < n && want < BUCKETS_PRESIZE_MAX)
		want *= 2;
	if (want == s->nbuckets)
		return;
	free(s->buckets);
	s->buckets = xcalloc(want, sizeof *s->buckets);
	s->nbuckets = want;
}

/* The entry for uid, created (state UNKNOWN) when missing. */
struct entry *uidstore_table_add(struct uidstore *s, const char *uid)
{
	uint64_t h = uidstore_hash(s, uid);
	struct entry *e = uidstore_table_find(s, uid, h);
	size_t len = strlen(uid);

	if (e != NULL)
		return e;
	if (s->count >= s->nbuckets)
		grow(s);
	e = arena_alloc(&s->mem, sizeof *e + len + 1);
	memcpy(e->uid, uid, len + 1);
	e->hash = h;
	e->next = s->buckets[h & (s->nbuckets - 1)];
	s->buckets[h & (s->nbuckets - 1)] = e;
	s->count++;
	return e;
}

void uidstore_table_remove(struct uidstore *s, const char *uid)
{
	uint64_t h = uidstore_hash(s, uid);
	struct entry **pp = &s->buckets[h & (s->nbuckets - 1)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		struct entry *e = *pp;

		if (e->hash == h && strcmp(e->uid, uid) == 0) {
			*pp = e->next; /* its memory stays in s->mem until close */
			s->count--;
			return;
		}
	}
}

/* The delivered record usually repeats the pending one's name: kept, not
 * copied again.  A replaced name stays in s->mem until close. */
void uidstore_table_set_name(struct uidstore *s, struct entry *e, const char *name)
{
	if (e->name != NULL && strcmp(e->name, name) == 0)
		return;
	e->name = arena_strdup(&s->mem, name);
}

void uidstore_table_init(struct uidstore *s)
{
	s->nbuckets = BUCKETS_MIN;
	s->buckets = xcalloc(s->nbuckets, sizeof *s->buckets);
	s->seed = make_seed();
}

/* Appends one formatted record to the pending buffer. */
int uidstore_add_record(struct uidstore *s, struct pf_error *err, const char *fmt, ...)
{
	char line[PF_STORE_LINE_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line)
		return pf_error_set(err, PF_ERR_LOCAL, "record for state file %s is too long",
				    s->path);
	if (s->pend_len + (size_t)n > s->pend_cap) {
		s->pend_cap = s->pend_cap ? s->pend_cap * 2 : 4096;
		if (s->pend_cap < s->pend_len + (size_t)n)
			s->pend_cap = s->pend_len + (size_t)n;
		s->pend = xrealloc(s->pend, s->pend_cap);
	}
	memcpy(s->pend + s->pend_len, line, (size_t)n);
	s->pend_len += (size_t)n;
	s->pend_records++;
	return 0;
}

/* --- the public verbs ---------------------------------------------------- */

/* A foreign store (uidstore_bind.c) answers as if empty and refuses every
 * write: it must never make a poll skip or delete anything. */

enum uid_state uidstore_get(struct uidstore *s, const char *uid, const char **name_r)
{
	struct entry *e = s->foreign ? NULL : uidstore_table_find(s, uid, uidstore_hash(s, uid));

	if (name_r != NULL)
		*name_r = e != NULL ? e->name : NULL;
	return e != NULL ? (enum uid_state)e->state : UID_UNKNOWN;
}

time_t uidstore_first_seen(struct uidstore *s, const char *uid)
{
	struct entry *e = s->foreign ? NULL : uidstore_table_find(s, uid, uidstore_hash(s, uid));

	return e != NULL && e->state == UID_DELIVERED ? (time_t)e->first_seen : 0;
}

int uidstore_set_pending(struct uidstore *s, const char *uid, const char *name,
			 struct pf_error *err)
{
	struct entry *e;

	if (uidstore_refuse_foreign(s, err) < 0)
		return -1;
	if (!uidstore_uid_ok(uid) || !uidstore_name_ok(name))
		return pf_error_set(err, PF_ERR_LOCAL, "refusing to record uid '%s' as '%s' in %s: "
				    "invalid uid or name", uid, name, s->path);
	e = uidstore_table_add(s, uid);
	uidstore_table_set_name(s, e, name);
	e->state = UID_PENDING;
	return uidstore_add_record(s, err, "P %s %s\n", e->uid, e->name);
}

int uidstore_set_delivered(struct uidstore *s, const char *uid, const char *name,
			   time_t now, struct pf_error *err)
{
	struct entry *e = uidstore_uid_ok(uid) ? uidstore_table_find(s, uid, uidstore_hash(s, uid)) : NULL;

	if (uidstore_refuse_foreign(s, err) < 0)
		return -1;
	if (name == NULL && (e == NULL || e->name == NULL))
		return pf_error_set(err, PF_ERR_LOCAL, "uid '%s' has no pending delivery in %s",
				    uid, s->path);
	if (!uidstore_uid_ok(uid) || (name != NULL && !uidstore_name_ok(name)))
		return pf_error_set(err, PF_ERR_LOCAL, "refusing to record uid '%s' in %s: "
				    "invalid uid or name", uid, s->path);
	if (e == NULL)
		e = uidstore_table_add(s, uid);
	if (name != NULL)
		uidstore_table_set_name(s, e, name);
	e->state = UID_DELIVERED;
	e->first_seen = e->last_seen = e->disk_seen = (int64_t)now;
	e->seen = 1;
	return uidstore_add_record(s, err, "D %s %s %lld %lld\n", e->uid, e->name, (long long)now,
			  (long long)now);
}

int uidstore_forget(struct uidstore *s, const char *uid, struct pf_error *err)
{
	if (uidstore_refuse_foreign(s, err) < 0)
		return -1;
	/* Record first: uid may be the entry's own string. */
	if (!uidstore_uid_ok(uid))
		return pf_error_set(err, PF_ERR_LOCAL, "refusing to forget invalid uid '%s' in %s",
				    uid, s->path);
	if (uidstore_add_record(s, err, "F %s\n", uid) < 0)
		return -1;
	uidstore_table_remove(s, uid);
	return 0;
}

void uidstore_mark_seen(struct uidstore *s, const char *uid, time_t now)
{
	struct entry *e = uidstore_table_find(s, uid, uidstore_hash(s, uid));

	if (e == NULL)
		return;
	e->seen = 1;
	if (e->state == UID_DELIVERED && (int64_t)now > e->last_seen) {
		e->last_seen = (int64_t)now;
		if (e->last_seen - e->disk_seen > SEEN_REFRESH_S)
			s->stale_seen = 1;
	}
}

size_t uidstore_expire(struct uidstore *s, time_t now, time_t grace_s)
{
	size_t n = 0;

	for (size_t i = 0; !s->foreign && i < s->nbuckets; i++) {
		struct entry **pp = &s->buckets[i];

		while (*pp != NULL) {
			struct entry *e = *pp;

			if (e->state == UID_DELIVERED && !e->seen &&
			    e->last_seen < (int64_t)now - (int64_t)grace_s) {
				*pp = e->next;
				s->count--;
				n++;
				continue;
			}
			e->seen = 0; /* the next listing starts afresh */
			pp = &e->next;
		}
	}
	s->expired += n;
	return n;
}

int uidstore_each_pending(struct uidstore *s,
			  int (*fn)(const char *uid, const char *name, void *ctx), void *ctx)
{
	/* fn may forget the entry it is given: keep its successor first.
	 * It never adds uids, so the table does not grow meanwhile. */
	for (size_t i = 0; !s->foreign && i < s->nbuckets; i++) {
		struct entry *e = s->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			if (e->state == UID_PENDING && fn(e->uid, e->name, ctx) < 0)
				return -1;
		}
	}
	return 0;
}

size_t uidstore_count(const struct uidstore *s)
{
	return s->count;
}
