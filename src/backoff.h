/* backoff.h - the small per-account failure record that keeps one-shot
 * runs (cron every minute) from hammering a server that refused our login
 * (DESIGN.md section 8): state_dir/ACCOUNT.backoff.
 *
 * The record is advisory: losing it can only cause one extra login
 * attempt, never lose or duplicate mail, so it is written atomically
 * (temp file + rename) but not fsynced, and an unreadable record is
 * treated as absent. */
#ifndef POPFETCH_BACKOFF_H
#define POPFETCH_BACKOFF_H

#include <time.h>

#include "error.h"

/* Failed logins in a row before the account is skipped. */
#define BACKOFF_AUTH_LIMIT 3
/* First wait after the limit, doubled per further failure, capped. */
#define BACKOFF_FIRST_S (15 * 60)
#define BACKOFF_MAX_S (6 * 3600)

enum backoff_reason {
	BACKOFF_AUTH = 0,        /* too many refused logins */
	BACKOFF_LOGIN_DELAY = 1, /* the server's [LOGIN-DELAY] (RFC 2449) */
};

/* Wait after a [LOGIN-DELAY] refusal when CAPA announced no delay. */
#define BACKOFF_LOGIN_DELAY_DEFAULT_S (15 * 60)

struct backoff {
	int auth_failures;  /* failed logins in a row */
	time_t retry_after; /* 0: no wait */
	enum backoff_reason reason; /* why retry_after is set */
	/* 4 hex digits of SHA-256 over the account name and the secret: tells
	 * a changed password apart (which resets the record) while revealing
	 * almost nothing about the password to a reader of state_dir. */
	char tag[5];
};

/* Reads the record; a missing or malformed one gives a zeroed record. */
void backoff_load(const char *state_dir, const char *account, struct backoff *b);

/* Writes the record, or removes it when it is all zero.  0 or -1
 * (PF_ERR_LOCAL). */
int backoff_save(const char *state_dir, const char *account, const struct backoff *b,
		 struct pf_error *err) PF_MUST_CHECK;

/* The tag for a secret (see struct backoff). */
void backoff_tag(const char *account, const char *secret, char tag_r[5]);

/* Records one more failed login at now: past BACKOFF_AUTH_LIMIT the
 * account waits BACKOFF_FIRST_S, doubling per failure up to BACKOFF_MAX_S. */
void backoff_auth_failed(struct backoff *b, time_t now);

/* Records a login the server refused with [LOGIN-DELAY]: no login before
 * delay_s seconds from now (BACKOFF_LOGIN_DELAY_DEFAULT_S when <= 0). */
void backoff_login_delay(struct backoff *b, time_t now, long delay_s);

#endif
