/* cred.h - where the secret for an account comes from: `password`, the
 * first line of `password_command`'s stdout, or, when neither is set,
 * ~/.netrc.  The command runs with /bin/sh -c; the secret never appears in
 * any argv or log. */
#ifndef POPFETCH_CRED_H
#define POPFETCH_CRED_H

#include "config.h"
#include "error.h"

/* Returns a new secret string (free with pf_free_secret) or NULL with err
 * set: PF_ERR_CONFIG when the command fails, times out (timeout_s) or
 * prints nothing, or when the account has neither password nor
 * password_command and $HOME/.netrc has no password for its host and user
 * (see cred_netrc_lookup for the file's errors).  The message names the
 * account but never the secret. */
char *cred_get_password(const struct account *acct, int timeout_s,
			struct pf_error *err) PF_MUST_CHECK;

/* The secret a poll logs in with: for an account with OAuth2 configured
 * (acct->oauth2.enabled: an oauth2 block with a client_id) a valid access
 * token from oauth2_access_token() (refreshed when needed, state in
 * cfg->state_dir), else cred_get_password(acct, acct->timeout, err).
 * Free the result with pf_free_secret; NULL with err set as those two
 * functions set it. */
char *cred_get_secret(const struct config *cfg, const struct account *acct,
		      struct pf_error *err) PF_MUST_CHECK;

/* Looks up the password for user at host in the netrc file at path, in
 * ftp(1)'s format: "machine HOST login USER password PW" (any order,
 * separated by blanks or newlines), "default" for any other host,
 * "account" and "macdef" skipped; '#' comments and "quoted" tokens with
 * backslash escapes as curl reads them.  The first machine entry for host
 * (case-insensitive) whose login is user, or that has no login, wins;
 * else the first such default entry.  The file is untrusted input.
 * Returns 1 with *secret_r set (free with pf_free_secret); 0 when nothing
 * fits or the file does not exist; -1 with err set: PF_ERR_CONFIG_PERM
 * when the file is readable by group or others (ftp(1) refuses it too),
 * PF_ERR_CONFIG when it cannot be read, is not a regular file, is larger
 * than PF_NETRC_FILE_MAX or is malformed. */
int cred_netrc_lookup(const char *path, const char *host, const char *user,
		      char **secret_r, struct pf_error *err) PF_MUST_CHECK;

#endif
