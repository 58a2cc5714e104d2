/* serverinfo.h - `popfetch --serverinfo ACCOUNT [--login]`: what the
 * account's server is, without logging in: the greeting, CAPA, the TLS
 * version and cipher, the certificate chain (subject, issuer, validity,
 * names), whether it verifies with the account's settings and why not,
 * and the leaf's SHA-256 fingerprint in the form tls_fingerprint takes.
 *
 * The connection uses the account's host, port, tls mode and trust
 * settings, but completes the TLS handshake even when the certificate
 * does not verify (conn_tls_opts.insecure_inspect), so that the user sees
 * what to fix or what to pin.  Nothing secret is sent then: --login logs
 * in only over a connection that verified as a poll's would (the chain
 * and name, or tls_fingerprint), under the account's lock.  Everything
 * the server sent is sanitised before it is printed. */
#ifndef POPFETCH_SERVERINFO_H
#define POPFETCH_SERVERINFO_H

#include <stdio.h>

#include "config.h"
#include "error.h"

/* Prints the report on out.  0 when the server verified (and, with login,
 * the login and STAT worked), else -1 with err: PF_ERR_TLS when the
 * certificate does not verify (after the whole report, fingerprint
 * included), PF_ERR_NET, PF_ERR_PROTO, PF_ERR_SERVER from the
 * connection, and with login the classes of cred_get_secret(),
 * pop3_login() and lock_account(). */
int serverinfo_run(const struct config *cfg, const struct account *acct, int login, FILE *out,
		   struct pf_error *err) PF_MUST_CHECK;

#endif
