/* cred.h - where the secret for an account comes from: `password`, or the
 * first line of `password_command`'s stdout.  The command runs with
 * /bin/sh -c; the secret never appears in any argv or log. */
#ifndef POPFETCH_CRED_H
#define POPFETCH_CRED_H

#include "config.h"
#include "error.h"

/* Returns a new secret string (free with pf_free_secret) or NULL with err
 * set: PF_ERR_CONFIG when the account has no credential source, the
 * command fails, times out (timeout_s) or prints nothing.  The message names
 * the account but never the secret. */
char *cred_get_password(const struct account *acct, int timeout_s,
			struct pf_error *err) PF_MUST_CHECK;

#endif
