/* oauth2_int.h - internal to the oauth2 module (oauth2.c, oauth2_flow.c):
 * the HTTP helper, the token answer and the token file.  Nothing outside
 * oauth2*.c includes this. */
#ifndef POPFETCH_OAUTH2_INT_H
#define POPFETCH_OAUTH2_INT_H

#include <stddef.h>

#include "config.h"
#include "error.h"

struct oauth2_http {
	long status;                              /* HTTP status code */
	size_t len;
	int too_big;
	char body[PF_OAUTH2_RESPONSE_MAX + 1];    /* untrusted; NUL-terminated */
};

struct oauth2_tokens {
	char refresh[PF_SECRET_MAX + 1];
	char access[PF_SECRET_MAX + 1];
	long long expires_at;                     /* Unix seconds */
};

/* POSTs form (already encoded) to url with acct's TLS settings and
 * timeout; any HTTP status is a success here.  -1: PF_ERR_NET, PF_ERR_TLS,
 * PF_ERR_PROTO (answer over PF_OAUTH2_RESPONSE_MAX). */
int oauth2_http_post(const struct account *a, const char *url, const char *form,
		     struct oauth2_http *r, struct pf_error *err) PF_MUST_CHECK;
void oauth2_http_wipe(struct oauth2_http *r);

/* Appends "key=value" percent-encoded (with '&' unless buf ends in '?' or
 * is empty) to buf (cap bytes, *n used).  0, or -1 when it does not fit. */
int oauth2_form_add(char *buf, size_t cap, size_t *n, const char *key, const char *val);

/* A non-200 answer: err gets a sanitised sentence naming what (PF_ERR_AUTH
 * for an OAuth2 error), code the "error" value ("" if none).  Returns -1. */
int oauth2_error(const struct account *a, const struct oauth2_http *r, const char *what,
		 char *code, size_t cap, struct pf_error *err);

/* A 200 token answer into t.  0 or -1 (PF_ERR_PROTO). */
int oauth2_take_tokens(const struct account *a, const struct oauth2_http *r,
		       struct oauth2_tokens *t, struct pf_error *err) PF_MUST_CHECK;

/* state_dir/ACCOUNT.oauth2 into out. */
int oauth2_store_path(const struct config *cfg, const struct account *a, char *out, size_t cap,
		      struct pf_error *err) PF_MUST_CHECK;
/* 0 loaded, 1 no file, -1 error (see oauth2_access_token). */
int oauth2_load(const char *path, struct oauth2_tokens *t, struct pf_error *err) PF_MUST_CHECK;
/* Atomically (temp, fsync, rename, fsync dir), mode 0600. */
int oauth2_save(const struct config *cfg, const char *path, const struct oauth2_tokens *t,
		struct pf_error *err) PF_MUST_CHECK;

#endif
