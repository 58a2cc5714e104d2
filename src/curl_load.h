/* curl_load.h - libcurl, loaded on first use.
 *
 * Only OAuth2 token requests need HTTPS (oauth2.c), yet linking libcurl
 * maps it and some thirty libraries it depends on into every run: about
 * 4 MB of resident memory and the dynamic linker's time at each start,
 * paid by every poll of every account.  So popfetch is not linked with
 * libcurl; the first OAuth2 request dlopen()s it and resolves the few
 * functions it uses.  The headers still come from libcurl's -dev package. */
#ifndef POPFETCH_CURL_LOAD_H
#define POPFETCH_CURL_LOAD_H

#include <curl/curl.h>

#include "error.h"

/* The libcurl functions popfetch calls. */
struct curl_api {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *c);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* The functions, loading libcurl (libcurl.so.4) the first time; NULL with
 * err set (PF_ERR_LOCAL, naming the library and the package to install)
 * when it cannot be loaded.  Stays loaded until exit. */
const struct curl_api *curl_api_get(struct pf_error *err);

#endif
