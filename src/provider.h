/* provider.h - presets for the big mail providers (`provider = NAME`,
 * DESIGN.md section 8).
 *
 * A preset gives the provider's published POP3 settings and, where the
 * provider uses OAuth2, its real endpoints and scopes.  It carries no
 * client ID: every user registers their own (popfetch.conf(5), README).
 * The table is static data; nothing here allocates or fails. */
#ifndef POPFETCH_PROVIDER_H
#define POPFETCH_PROVIDER_H

#include <stddef.h>

#include "config.h"

struct provider {
	const char *name;        /* what `provider =` takes */
	const char *host;        /* NULL: the provider offers no POP3 (see note) */
	int port;
	enum tls_mode tls;
	int timeout;             /* seconds */
	/* auth when the account configures OAuth2 (a client_id); otherwise
	 * auth stays auto, so an app password keeps working. */
	enum auth_mech oauth2_auth;
	const char *authorization_endpoint; /* all four NULL: no OAuth2 */
	const char *device_authorization_endpoint;
	const char *token_endpoint;
	const char *scope;
	enum oauth2_flow flow;
	const char *source_url;  /* the provider's help page these values come from */
	const char *note;        /* one sentence for the user, or NULL */
	/* What a refused login tells the user (DESIGN.md section 9), after the
	 * server's own text; NULL: the server's text alone.  "%A" stands for
	 * the account's name: provider_login_advice() fills it in. */
	const char *login_advice;
	/* Quirks, as data the fetch policy reads (fetch_policy.h); no code
	 * asks which provider it talks to.
	 * sessions_max: sessions one poll may open, one after the other, while
	 * each brings something new, for a server that lists only part of the
	 * maildrop a session and hides what was fetched from the next (Gmail:
	 * about 250 messages a session).  0 or 1: one session.
	 * listing_cap: a listing this long may have been cut short by the
	 * server, so --check reports "at least"; 0: listings are complete. */
	unsigned sessions_max;
	unsigned long listing_cap;
};

/* The preset called name (case-insensitive; aliases such as "office365"
 * and "microsoft" for outlook), or NULL. */
const struct provider *provider_find(const char *name);

/* The preset for an e-mail address by its domain (case-insensitive), or
 * NULL when the domain is not a known provider's. */
const struct provider *provider_from_address(const char *address);

/* The i-th preset (table order), or NULL past the end: for listings. */
const struct provider *provider_at(size_t i);

/* p's login advice with "%A" replaced by account into buf (cap bytes,
 * always NUL-terminated).  0, or -1 when p is NULL, has no advice, or it
 * does not fit (buf is then "", never a cut sentence). */
int provider_login_advice(const struct provider *p, const char *account, char *buf,
			  size_t cap);

/* "aol, gmail, ..." (every name and alias) into buf (cap bytes, always
 * NUL-terminated).  0, or -1 when it does not fit. */
int provider_list_names(char *buf, size_t cap);

#endif
