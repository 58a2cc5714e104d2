/* oauth2.h - popfetch's own OAuth2 client (RFC 6749) for accounts with an
 * oauth2 { } block (config.h struct oauth2_settings, enabled set).
 *
 * `popfetch --authorize ACCOUNT` runs oauth2_authorize() once: the device
 * flow (RFC 8628) or the loopback redirect flow (RFC 8252, PKCE RFC 7636
 * S256).  The tokens go to state_dir/ACCOUNT.oauth2 (mode 0600, written
 * atomically).  Every poll then calls oauth2_access_token(), which
 * refreshes the access token when it has less than a minute left.
 *
 * HTTP goes through libcurl, https only, verified against
 * oauth2.tls_ca_file (else the system store), with the account's timeout;
 * response bodies are capped at PF_OAUTH2_RESPONSE_MAX and are untrusted.
 * Tokens and codes never appear in logs or error messages, and their
 * buffers are wiped. */
#ifndef POPFETCH_OAUTH2_H
#define POPFETCH_OAUTH2_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "error.h"

/* Test aid: seconds the loopback flow waits for the browser's redirect
 * (default OAUTH2_LOOPBACK_WAIT_S, 300), so a test can check the timeout. */
#define OAUTH2_WAIT_ENV "POPFETCH_TEST_OAUTH2_WAIT"

/* A valid access token for acct in *token_r (free with pf_free_secret):
 * the stored one when it is valid for more than 60 s, else a new one from
 * the refresh_token grant, stored before it is returned.  -1 with err:
 * PF_ERR_AUTH when there are no tokens yet or the refresh token was
 * refused (invalid_grant: the message says to run --authorize again and
 * why), PF_ERR_NET / PF_ERR_TLS when the token endpoint cannot be reached,
 * PF_ERR_PROTO for a malformed answer, PF_ERR_CONFIG_PERM for a token
 * file readable by others, PF_ERR_LOCAL when it cannot be written. */
int oauth2_access_token(const struct config *cfg, const struct account *acct, char **token_r,
			struct pf_error *err) PF_MUST_CHECK;

/* Forgets acct's stored access token (keeping the refresh token), so the
 * next oauth2_access_token() refreshes: for a token the server refused
 * before it expired (revoked, or the password was changed).  0 or -1. */
int oauth2_forget_access(const struct config *cfg, const struct account *acct,
			 struct pf_error *err) PF_MUST_CHECK;

/* For popfetch --status: when acct's stored access token expires
 * (*expires_r; 0 when none is stored) and whether a refresh token is
 * stored (*refresh_r).  Reads the token file only; the tokens are wiped.
 * 1 when read, 0 when there is no token file, -1 with err as
 * oauth2_access_token() reports the file's errors. */
int oauth2_token_expiry(const struct config *cfg, const struct account *acct, long long *expires_r,
			int *refresh_r, struct pf_error *err) PF_MUST_CHECK;

/* Runs acct's authorization flow (acct->oauth2.flow), telling the user on
 * out what to open and which code to enter, and stores the tokens.  Blocks
 * until the user has answered, the device code expires, or (loopback) the
 * wait ends.  0, or -1 with err: PF_ERR_CONFIG when acct has no OAuth2
 * client, PF_ERR_AUTH when the user or the server refused, plus the
 * classes of oauth2_access_token. */
int oauth2_authorize(const struct config *cfg, const struct account *acct, FILE *out,
		     struct pf_error *err) PF_MUST_CHECK;

/* Exposed for tests.  Looks up key in a JSON object json[0..len) (RFC
 * 8259; untrusted) and copies its value into out (cap bytes,
 * NUL-terminated): strings unescaped (\uXXXX as UTF-8), numbers, true,
 * false and null as written.  Nested values are skipped (depth <= 8).
 * Returns 1 when found, 0 when absent, -1 when the text is not one JSON
 * object, the value is an object or array, holds \u0000, or does not fit
 * in cap.  A key holding \u0000 matches nothing. */
int oauth2_json_get(const char *json, size_t len, const char *key, char *out, size_t cap);

/* RFC 7636 section 4.2, S256: BASE64URL(SHA256(verifier)) without padding
 * into out (at least 44 bytes).  0, or -1 when cap is too small. */
int oauth2_pkce_challenge(const char *verifier, char *out, size_t cap);

#endif
