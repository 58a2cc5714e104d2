/* import.h - popfetch --import fetchmail|mpop|getmail [FILE]: a peer's
 * setup and its UID state become popfetch accounts (DESIGN.md section 9,
 * "switching is free").
 *
 * Two layers.  The parsers (import_fetchmail.c, import_mpop.c,
 * import_getmail.c, and import_state.c for the UID files) are pure
 * functions: text in, struct out, no I/O, no environment, no clock.  What
 * they read was not written by popfetch and is untrusted: every input is
 * bounded (IMPORT_FILE_MAX, IMPORT_STATE_MAX, PF_LINE_MAX per line,
 * IMPORT_ACCOUNTS_MAX, IMPORT_NOTES_MAX) and an input they cannot read is
 * an error naming the line, never a guess.  Secrets (passwords) are kept
 * in memory only as long as the set lives and are wiped by
 * import_set_free().
 *
 * import_run() (import.c, import_write.c) is the command: it reads the
 * files, finds each account's UID state, and writes each account the way
 * --add-account does (setup_int.h: temporary file, loaded back, renamed). */
#ifndef POPFETCH_IMPORT_H
#define POPFETCH_IMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "error.h"

/* A peer's configuration file. */
#define IMPORT_FILE_MAX (1024 * 1024)
/* A peer's UID state file: 2,000,000 UIDs (PF_LISTING_MAX) of up to 70
 * octets with their framing. */
#define IMPORT_STATE_MAX (160L * 1024 * 1024)
/* Accounts (fetchmail users, mpop accounts) in one file. */
#define IMPORT_ACCOUNTS_MAX 256
/* Notes per account and for the whole file; more are counted, not kept. */
#define IMPORT_NOTES_MAX 32
/* UIDs per account, as many as a listing may hold. */
#define IMPORT_UIDS_MAX PF_LISTING_MAX

enum import_peer {
	IMPORT_FETCHMAIL = 0,
	IMPORT_MPOP,
	IMPORT_GETMAIL,
};

enum import_dest {
	IMPORT_DEST_NONE = 0,  /* none popfetch can express: a Maildir by default */
	IMPORT_DEST_MAILDIR,
	IMPORT_DEST_MBOX,
	IMPORT_DEST_MDA,
};

struct import_notes {
	char *v[IMPORT_NOTES_MAX];
	size_t n;
	size_t dropped;         /* notes over IMPORT_NOTES_MAX */
};

/* One POP3 account as the peer configured it, mapped to popfetch terms.
 * Strings are owned (import_set_free); NULL means "not set". */
struct import_account {
	char *label;            /* the peer's name for it, for messages */
	char *name;             /* the peer's account name (mpop), or NULL */
	char *host;
	int port;               /* 0: the default for tls */
	enum tls_mode tls;
	int plaintext;          /* the peer used no TLS at all */
	int no_certcheck;       /* the peer did not verify the server */
	char *tls_ca_file;
	char *tls_ca_dir;
	char *tls_fingerprint;  /* popfetch form: sha256:AB:CD:... */
	char *tls_cert_file;
	char *tls_key_file;
	int timeout;            /* seconds; 0: popfetch's default */
	char *user;
	char *password;         /* secret */
	char *password_command; /* for /bin/sh -c */
	const char *auth;       /* popfetch auth word (static), NULL: auto */
	int keep;
	int delete_after;       /* days, with keep */
	enum import_dest dest;
	char *dest_arg;         /* Maildir or mbox path, or MDA command */
	uint64_t max_size;
	unsigned long fetch_limit;
	int skip;               /* not importable (IMAP, ...): notes say why */
	char *state_file;       /* mpop uidls_file as configured (%U %H kept) */
	char *state_dir;        /* getmail: the getmaildir configured */
	const char *no_state;   /* why the peer's UID state is unusable (static), or NULL */
	unsigned flags;         /* the parser's own, while it reads */
	struct import_notes notes;
};

struct import_set {
	struct import_account *acc;
	size_t n;
	char *idfile;           /* fetchmail: set idfile */
	struct import_notes notes; /* about the file as a whole */
};

/* The parsers: text (len bytes, at most IMPORT_FILE_MAX; need not be
 * NUL-terminated) into *set, which must be zeroed.  Accounts the peer
 * skips stay in the set with skip and a note (IMAP entries, fetchmail
 * `skip` entries).  0, or -1 with err naming the line (PF_ERR_CONFIG);
 * on -1 the set holds what was read so far and must still be freed. */
int import_parse_fetchmail(const char *text, size_t len, struct import_set *set,
			   struct pf_error *err) PF_MUST_CHECK;
int import_parse_mpop(const char *text, size_t len, struct import_set *set,
		      struct pf_error *err) PF_MUST_CHECK;
/* getmail: one rc file is one account. */
int import_parse_getmail(const char *text, size_t len, struct import_set *set,
			 struct pf_error *err) PF_MUST_CHECK;

void import_set_free(struct import_set *set);

/* --- UID state (import_state.c) -------------------------------------------- */

/* UIDs one account's peer had fetched, each valid (RFC 1939 section 7). */
struct import_uids {
	char **v;
	size_t n, cap;
	int found;              /* the state had an entry for the account */
};

/* fetchmail's idfile: lines "USER@HOST UID", HOST being the host
 * fetchmail connected to (its `via`, else the poll name); user and host
 * compare case-insensitively, as fetchmail does. */
int import_state_fetchmail(const char *text, size_t len, const char *user, const char *host,
			   struct import_uids *out, struct pf_error *err) PF_MUST_CHECK;
/* mpop's uidls file: " COUNT HOST USER" then COUNT UIDs, per account;
 * host and user compare exactly, as mpop does. */
int import_state_mpop(const char *text, size_t len, const char *host, const char *user,
		      struct import_uids *out, struct pf_error *err) PF_MUST_CHECK;
/* getmail's oldmail file (one per server, port and user): lines
 * "UID\0TIMESTAMP". */
int import_state_getmail(const char *text, size_t len, struct import_uids *out,
			 struct pf_error *err) PF_MUST_CHECK;
/* getmail's file name for server, port and user ("oldmail-S-P-U", with
 * runs of / \ : ; < > | made '-', as getmail does) into out (cap bytes).
 * 0, or -1 when it does not fit. */
int import_getmail_oldmail_name(const char *server, int port, const char *user, char *out,
				size_t cap);
void import_uids_free(struct import_uids *u);

/* --- the command (import.c) ------------------------------------------------- */

struct import_opts {
	enum import_peer peer;
	const char *file;        /* NULL: the peer's default */
	const char *config_path; /* -f; NULL: the default */
	const char *maildir;     /* --maildir: every account delivers here instead */
	int dry_run;
	int adopt;               /* --adopt: accounts without usable state are adopted */
	int keep;                /* -1, or -k / -K over the peer's setting */
};

/* Parses "fetchmail", "mpop" or "getmail" into *peer_r.  0 or -1. */
int import_peer_parse(const char *s, enum import_peer *peer_r);

/* The whole --import: reports on out (accounts, UID counts, every
 * warning; secrets masked), writes nothing with dry_run.  Returns the exit
 * code: 0 when every POP3 account was imported (or would be), 5 when the
 * file cannot be read or an account was left out for its UID state, the
 * error's code otherwise. */
int import_run(const struct import_opts *o, FILE *out);

/* popfetch --adopt ACCOUNT: after a yes on the terminal (or with yes
 * set; without a terminal and without yes it refuses), logs in and records
 * every UID on the server as delivered (fetch_adopt.h), printing how many
 * on out.  Returns the exit code. */
int import_adopt(const struct config *cfg, const char *name, int yes, FILE *out);

#endif
