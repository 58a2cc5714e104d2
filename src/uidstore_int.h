/* uidstore_int.h - internal to the uid store: what its files share.
 * uidstore.c is the in-memory table and the verbs that change it,
 * uidstore_load.c reads the journal, uidstore_file.c owns the files
 * (names, open, commit, compaction, replacing a store), uidstore_bind.c
 * the binding of a store to one server and one user (the H record,
 * DESIGN.md section 2).  Nothing outside src/uidstore*.c includes this. */
#ifndef POPFETCH_UIDSTORE_INT_H
#define POPFETCH_UIDSTORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "bounds.h"
#include "error.h"
#include "uidstore.h"

#define STORE_MAGIC "popfetch-uids 1"

/* Read and write chunk for the state file. */
#define STORE_IO_CHUNK (64 * 1024)

struct entry {
	struct entry *next;
	char *name;          /* Maildir name of a pending or delivered uid */
	int64_t first_seen, last_seen;
	int64_t disk_seen;   /* last_seen as the file records it */
	uint64_t hash;
	unsigned char state; /* enum uid_state */
	unsigned char seen;  /* present in the current listing */
	char uid[];
};

struct uidstore {
	int dir_fd, fd;
	char path[PF_PATH_MAX];          /* dir/account.uids, for messages */
	char fname[PF_NAME_MAX + 1];     /* account.uids */
	char tmpname[PF_NAME_MAX + 1];   /* account.uids.tmp */
	char tmppath[PF_PATH_MAX];       /* dir/account.uids.tmp */
	char account[PF_NAME_MAX + 1];
	char hline[PF_STORE_LINE_MAX + 1];  /* "H host user" the file records */
	char bound[PF_STORE_LINE_MAX + 1];  /* "H host user" the store was opened for */
	int has_hline;       /* the file has an H record (stores before 0.1.0 may not) */
	int foreign;         /* hline names another server or user: see uidstore_bind.c */
	int building;        /* from uidstore_build(), not yet put in place */
	char target[PF_NAME_MAX + 1];   /* building: account.uids, the name it replaces */
	struct entry **buckets;
	size_t nbuckets, count;
	struct arena mem;    /* entries and names: freed together at close */
	uint64_t seed;
	/* Records added since the last commit.  Grows with the records of
	 * one poll, each at most PF_STORE_LINE_MAX octets. */
	char *pend;
	size_t pend_len, pend_cap, pend_records;
	size_t journal;      /* P, D and F records in the file */
	size_t expired;      /* forgotten in memory since the last rewrite */
	int stale_seen;      /* some last_seen is well ahead of the file */
	int poisoned;        /* a write or fsync failed: trust nothing more */
	int unsynced;        /* uidstore_write() wrote records not fsynced yet */
};

/* --- uidstore.c: validation and the table --- */

/* RFC 1939 section 7 uids; Maildir names as maildir_make_name makes them. */
int uidstore_uid_ok(const char *s);
int uidstore_name_ok(const char *s);

/* An empty table with a fresh hash seed. */
void uidstore_table_init(struct uidstore *s);
/* Before loading: room for about n uids without rehashing. */
void uidstore_table_presize(struct uidstore *s, uint64_t n);
uint64_t uidstore_hash(const struct uidstore *s, const char *uid);
struct entry *uidstore_table_find(const struct uidstore *s, const char *uid, uint64_t h);
/* The entry for uid, created (state UNKNOWN) when missing. */
struct entry *uidstore_table_add(struct uidstore *s, const char *uid);
void uidstore_table_remove(struct uidstore *s, const char *uid);
void uidstore_table_set_name(struct uidstore *s, struct entry *e, const char *name);

/* Queues one formatted record for the next commit.  0 or -1. */
int uidstore_add_record(struct uidstore *s, struct pf_error *err, const char *fmt, ...)
	PF_PRINTF(3, 4);

/* --- uidstore_load.c --- */

/* Reads s->fd from its start into the table.  0 or -1 (corruption names
 * the file, the line and --rebuild-state). */
int uidstore_load(struct uidstore *s, struct pf_error *err);

/* --- uidstore_file.c --- */

/* Writes the whole table to the temp file and renames it over the store;
 * chain: fsync the directory's ancestors too (creation).  0 or -1. */
int uidstore_rewrite(struct uidstore *s, int chain, struct pf_error *err);

/* One sentence for a failed write, fsync or rename of file (disk full
 * named as such).  Returns -1. */
int uidstore_io_error(int e, const char *what, const char *file, struct pf_error *err);

/* The H record for host and user (%XX-encoded) into s->bound, and into
 * s->hline until the file says otherwise.  0 or -1 (too long). */
int uidstore_bind_init(struct uidstore *s, const char *host, const char *user,
		       struct pf_error *err);

/* After loading: binds a store without H record to s->bound (appended
 * and fsynced) and sets s->foreign.  0 or -1. */
int uidstore_bind_loaded(struct uidstore *s, struct pf_error *err);

/* -1 with err set when s is foreign: nothing may be written to it. */
int uidstore_refuse_foreign(const struct uidstore *s, struct pf_error *err);

#endif
