/* token.h - `popfetch --token ACCOUNT`: a valid OAuth2 access token for
 * other programs (msmtp's passwordeval, mutt), from popfetch's own grant.
 *
 * The token is refreshed under the account's lock (lock.h), the one a poll
 * holds, so a poll and --token never spend the same refresh token at once
 * (providers that rotate refresh tokens would revoke the grant).  A poll
 * in progress is waited for, up to the account's timeout. */
#ifndef POPFETCH_TOKEN_H
#define POPFETCH_TOKEN_H

#include <stdio.h>

#include "config.h"
#include "error.h"

/* Writes acct's access token and a newline to out and flushes it; the
 * token buffer is wiped.  0, or -1 with err: PF_ERR_CONFIG when acct has
 * no OAuth2 client, PF_ERR_LOCKED when a poll held the lock for the whole
 * wait, PF_ERR_LOCAL when out cannot be written, and the classes of
 * oauth2_access_token() (PF_ERR_AUTH with the --authorize advice when the
 * grant is gone). */
int token_print(const struct config *cfg, const struct account *acct, FILE *out,
		struct pf_error *err) PF_MUST_CHECK;

#endif
