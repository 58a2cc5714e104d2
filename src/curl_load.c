/* curl_load.c - see curl_load.h. */
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

#include "curl_load.h"

/* The ABI name of libcurl 7 and 8 on Linux and the BSDs. */
static const char *const names[] = { "libcurl.so.4", "libcurl.so" };

static struct curl_api api;
static int loaded;

/* dlsym returns an object pointer; POSIX guarantees it converts to a
 * function pointer, which ISO C does not say: go through memcpy. */
static int resolve(void *lib, const char *sym, void *fnp, size_t size)
{
	void *p = dlsym(lib, sym);

	if (p == NULL || size != sizeof p)
		return -1;
	memcpy(fnp, &p, size);
	return 0;
}

#define RESOLVE(lib, field, sym) resolve((lib), (sym), &api.field, sizeof api.field)

const struct curl_api *curl_api_get(struct pf_error *err)
{
	void *lib = NULL;

	if (loaded)
		return &api;
	for (size_t i = 0; lib == NULL && i < sizeof names / sizeof names[0]; i++)
		lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		pf_error_set(err, PF_ERR_LOCAL, "OAuth2 needs libcurl, which cannot be loaded (%s): "
			     "install it (Debian: apt-get install libcurl4)", dlerror());
		return NULL;
	}
	if (RESOLVE(lib, easy_init, "curl_easy_init") < 0 ||
	    RESOLVE(lib, easy_setopt, "curl_easy_setopt") < 0 ||
	    RESOLVE(lib, easy_perform, "curl_easy_perform") < 0 ||
	    RESOLVE(lib, easy_getinfo, "curl_easy_getinfo") < 0 ||
	    RESOLVE(lib, easy_cleanup, "curl_easy_cleanup") < 0 ||
	    RESOLVE(lib, easy_strerror, "curl_easy_strerror") < 0 ||
	    RESOLVE(lib, slist_append, "curl_slist_append") < 0 ||
	    RESOLVE(lib, slist_free_all, "curl_slist_free_all") < 0) {
		pf_error_set(err, PF_ERR_LOCAL, "the libcurl found lacks a function popfetch needs");
		dlclose(lib);
		return NULL;
	}
	loaded = 1;
	return &api;
}
