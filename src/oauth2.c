/* oauth2.c - see oauth2.h.  The token file and the refresh path live here;
 * the two authorization flows are in oauth2_flow.c, the JSON reader and
 * PKCE in oauth2_json.c.
 *
 * Token file state_dir/ACCOUNT.oauth2, mode 0600, text lines:
 *   popfetch-oauth2 1
 *   refresh_token TOKEN
 *   access_token TOKEN
 *   expires_at UNIX-SECONDS
 * written to a temporary file, fsynced, renamed over the old one and the
 * directory fsynced, so a crash leaves the old tokens or the new ones. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "curl_load.h"
#include "log.h"
#include "oauth2.h"
#include "oauth2_int.h"
#include "trust.h"
#include "util.h"

/* An access token is used only while it has more than this left: a poll
 * must not start with a token that expires during the login. */
#define OAUTH2_MIN_LIFE_S 60
/* expires_in is RECOMMENDED, not required (RFC 6749 section 5.1): assume
 * the common hour when a server leaves it out. */
#define OAUTH2_DEFAULT_LIFE_S 3600
#define OAUTH2_FILE_MAGIC "popfetch-oauth2 1"

/* --- HTTP --------------------------------------------------------------- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct oauth2_http *r = ud;
	size_t n = size * nmemb;

	if (n > PF_OAUTH2_RESPONSE_MAX - r->len) {
		r->too_big = 1;
		return 0; /* makes curl fail the transfer: a hostile server is cut off */
	}
	memcpy(r->body + r->len, ptr, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

static void http_setup(const struct curl_api *cu, CURL *c, const struct account *a,
		       const char *url, const char *form, struct oauth2_http *r)
{
	long t = a->timeout > 0 ? a->timeout : PF_TIMEOUT_MAX;

	(void)cu->easy_setopt(c, CURLOPT_URL, url);
	(void)cu->easy_setopt(c, CURLOPT_POSTFIELDS, form);
	(void)cu->easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	(void)cu->easy_setopt(c, CURLOPT_TIMEOUT, t);
	(void)cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* Tokens travel over verified TLS only (RFC 6749 section 3.2), never
	 * to a redirect target. */
#if LIBCURL_VERSION_NUM >= 0x075500
	(void)cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
#else
	(void)cu->easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	(void)cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	(void)cu->easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (a->oauth2.tls_ca_file != NULL)
		(void)cu->easy_setopt(c, CURLOPT_CAINFO, a->oauth2.tls_ca_file);
	(void)cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	(void)cu->easy_setopt(c, CURLOPT_WRITEDATA, r);
	(void)cu->easy_setopt(c, CURLOPT_USERAGENT, "popfetch");
}

static int curl_fail(const struct curl_api *cu, const struct account *a, const char *url,
		     CURLcode rc, const struct oauth2_http *r, struct pf_error *err)
{
	enum pf_errclass cls = PF_ERR_NET;

	if (r->too_big)
		return pf_error_set(err, PF_ERR_PROTO, "account '%s': the answer of %s is longer "
				    "than %d bytes", a->name, url, PF_OAUTH2_RESPONSE_MAX);
	if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
	    rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM)
		cls = PF_ERR_TLS;
	return pf_error_set(err, cls, "account '%s': OAuth2 request to %s failed: %s", a->name,
			    url, cu->easy_strerror(rc));
}

int oauth2_http_post(const struct account *a, const char *url, const char *form,
		     struct oauth2_http *r, struct pf_error *err)
{
	const struct curl_api *cu = curl_api_get(err);
	struct curl_slist *hdr = NULL;
	CURL *c;
	CURLcode rc;
	int ret = -1;

	memset(r, 0, sizeof *r);
	if (cu == NULL)
		return -1;
	c = cu->easy_init();
	if (c == NULL)
		return pf_error_set(err, PF_ERR_INTERNAL, "cannot set up libcurl");
	hdr = cu->slist_append(NULL, "Accept: application/json");
	http_setup(cu, c, a, url, form, r);
	(void)cu->easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	log_verbose("%s: OAuth2 POST %s", a->name, url);
	rc = cu->easy_perform(c);
	if (rc != CURLE_OK) {
		curl_fail(cu, a, url, rc, r, err);
		goto fail;
	}
	(void)cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	log_verbose("%s: OAuth2 answer: HTTP %ld, %zu bytes", a->name, r->status, r->len);
	ret = 0;
fail:
	cu->slist_free_all(hdr);
	cu->easy_cleanup(c);
	return ret;
}

void oauth2_http_wipe(struct oauth2_http *r)
{
	pf_wipe(r->body, sizeof r->body);
	r->len = 0;
}

/* --- forms and URLs (application/x-www-form-urlencoded) -------------------- */

/* RFC 3986 section 2.3: unreserved characters stay, the rest is %XX. */
int oauth2_form_add(char *buf, size_t cap, size_t *n, const char *key, const char *val)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *parts[2] = { key, val };

	if (*n > 0 && buf[*n - 1] != '?') {
		if (*n + 1 >= cap)
			return -1;
		buf[(*n)++] = '&';
	}
	for (int i = 0; i < 2; i++) {
		for (const unsigned char *s = (const unsigned char *)parts[i]; *s != '\0'; s++) {
			int keep = (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
				   (*s >= '0' && *s <= '9') || strchr("-._~", *s) != NULL;

			if (*n + 4 >= cap) /* room for %XX and the NUL */
				return -1;
			if (keep) {
				buf[(*n)++] = (char)*s;
				continue;
			}
			buf[(*n)++] = '%';
			buf[(*n)++] = hex[*s >> 4];
			buf[(*n)++] = hex[*s & 15];
		}
		if (i == 0) {
			if (*n + 2 >= cap)
				return -1;
			buf[(*n)++] = '=';
		}
	}
	buf[*n] = '\0';
	return 0;
}

/* --- token answers ------------------------------------------------------- */

/* Tokens go into a SASL message and the token file: visible ASCII only. */
static int token_ok(const char *s)
{
	if (s[0] == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e)
			return 0;
	return 1;
}

static int get_str(const struct oauth2_http *r, const char *key, char *out, size_t cap)
{
	return oauth2_json_get(r->body, r->len, key, out, cap);
}

/* An OAuth2 error answer (RFC 6749 section 5.2) into code; the rest of the
 * sentence, sanitised, into err as PF_ERR_AUTH.  Returns -1. */
int oauth2_error(const struct account *a, const struct oauth2_http *r, const char *what,
		 char *code, size_t cap, struct pf_error *err)
{
	char desc[PF_ERRMSG_MAX / 2], raw[PF_ERRMSG_MAX / 2], safe[64];

	if (get_str(r, "error", raw, sizeof raw) != 1) {
		code[0] = '\0';
		return pf_error_set(err, r->status >= 500 ? PF_ERR_NET : PF_ERR_PROTO,
				    "account '%s': %s answered HTTP %ld without an OAuth2 error",
				    a->name, what, r->status);
	}
	log_sanitize(code, cap, raw, strlen(raw));
	log_sanitize(safe, sizeof safe, raw, strlen(raw));
	if (get_str(r, "error_description", raw, sizeof raw) != 1)
		raw[0] = '\0';
	log_sanitize(desc, sizeof desc, raw, strlen(raw));
	return pf_error_set(err, PF_ERR_AUTH, "account '%s': %s refused: %s%s%s", a->name, what,
			    safe, desc[0] != '\0' ? ": " : "", desc);
}

/* A new refresh token replaces the old one; none keeps it (RFC 6749
 * section 6: the server MAY issue a new one). */
static int take_refresh(const struct account *a, const struct oauth2_http *r,
			struct oauth2_tokens *t, struct pf_error *err)
{
	char *tmp = xmalloc(PF_SECRET_MAX + 1);
	int found = get_str(r, "refresh_token", tmp, PF_SECRET_MAX + 1), rc = 0;

	if (found == 1 && token_ok(tmp))
		memcpy(t->refresh, tmp, strlen(tmp) + 1);
	else if (found != 0)
		rc = pf_error_set(err, PF_ERR_PROTO, "account '%s': the token endpoint sent an "
				  "unusable refresh_token", a->name);
	pf_wipe(tmp, PF_SECRET_MAX + 1);
	free(tmp);
	return rc;
}

/* A successful token answer (RFC 6749 section 5.1) into t.  A missing
 * refresh_token keeps the old one (RFC 6749 section 6: it is optional). */
int oauth2_take_tokens(const struct account *a, const struct oauth2_http *r,
		       struct oauth2_tokens *t, struct pf_error *err)
{
	char type[32], num[32];
	long long life = OAUTH2_DEFAULT_LIFE_S;
	int rc;

	if (get_str(r, "access_token", t->access, sizeof t->access) != 1 || !token_ok(t->access))
		return pf_error_set(err, PF_ERR_PROTO, "account '%s': the token endpoint sent no "
				    "usable access_token", a->name);
	rc = get_str(r, "token_type", type, sizeof type);
	if (rc == 1 && strcasecmp(type, "Bearer") != 0)
		return pf_error_set(err, PF_ERR_PROTO, "account '%s': the token endpoint sent a "
				    "token of a type other than Bearer", a->name);
	if (get_str(r, "expires_in", num, sizeof num) == 1) {
		char *end;

		life = strtoll(num, &end, 10);
		if (*end != '\0' || life <= 0 || life > 10LL * 365 * 86400)
			life = OAUTH2_DEFAULT_LIFE_S;
	}
	t->expires_at = (long long)time(NULL) + life;
	return take_refresh(a, r, t, err);
}

/* --- the token file ------------------------------------------------------ */

int oauth2_store_path(const struct config *cfg, const struct account *a, char *out, size_t cap,
		      struct pf_error *err)
{
	int n = snprintf(out, cap, "%s/%s.oauth2", cfg->state_dir, a->name);

	if (n < 0 || (size_t)n >= cap)
		return pf_error_set(err, PF_ERR_CONFIG, "state_dir is too long: %s", cfg->state_dir);
	return 0;
}

static int read_all(int fd, char *buf, size_t cap, size_t *len)
{
	*len = 0;
	for (;;) {
		ssize_t r = read(fd, buf + *len, cap - *len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		*len += (size_t)r;
		if (*len == cap) {
			errno = EFBIG;
			return -1;
		}
	}
}

/* One "key value" line into t; unknown keys are ignored (a newer
 * popfetch may add some). */
static int parse_line(char *line, struct oauth2_tokens *t)
{
	char *sp = strchr(line, ' ');
	const char *v;

	if (sp == NULL)
		return -1;
	*sp = '\0';
	v = sp + 1;
	if (strcmp(line, "expires_at") == 0) {
		char *end;

		t->expires_at = strtoll(v, &end, 10);
		return *end == '\0' ? 0 : -1;
	}
	if (strcmp(line, "refresh_token") == 0 || strcmp(line, "access_token") == 0) {
		char *dst = line[0] == 'r' ? t->refresh : t->access;

		if (strlen(v) > PF_SECRET_MAX || !token_ok(v))
			return -1;
		memcpy(dst, v, strlen(v) + 1);
	}
	return 0;
}

static int parse_file(char *text, struct oauth2_tokens *t)
{
	char *save = NULL, *line = strtok_r(text, "\n", &save);

	if (line == NULL || strcmp(line, OAUTH2_FILE_MAGIC) != 0)
		return -1;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL)
		if (parse_line(line, t) < 0)
			return -1;
	return t->refresh[0] != '\0' ? 0 : -1;
}

static int open_store(const char *path, int *fd_r, struct pf_error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	*fd_r = -1;
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot open %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pf_error_set(err, PF_ERR_LOCAL, "%s is not a regular file", path);
	}
	/* It holds a long-lived credential: like a config with a password. */
	if (trust_check(&st, path, "OAuth2 tokens", err) < 0) {
		close(fd);
		return -1;
	}
	*fd_r = fd;
	return 0;
}

int oauth2_load(const char *path, struct oauth2_tokens *t, struct pf_error *err)
{
	char *text = xmalloc(PF_OAUTH2_FILE_MAX + 1);
	size_t len = 0;
	int fd, rc = open_store(path, &fd, err);

	if (rc != 0)
		goto fail;
	rc = -1;
	if (read_all(fd, text, PF_OAUTH2_FILE_MAX, &len) < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot read %s", path);
		goto fail;
	}
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL || parse_file(text, t) < 0) {
		pf_error_set(err, PF_ERR_LOCAL, "%s is damaged; run popfetch --authorize again",
			     path);
		goto fail;
	}
	rc = 0;
fail:
	if (fd >= 0)
		close(fd);
	pf_wipe(text, PF_OAUTH2_FILE_MAX + 1);
	free(text);
	return rc;
}

static int write_tmp(const char *tmp, const struct oauth2_tokens *t, struct pf_error *err)
{
	char *text = xmalloc(PF_OAUTH2_FILE_MAX);
	int n = snprintf(text, PF_OAUTH2_FILE_MAX, OAUTH2_FILE_MAGIC "\nrefresh_token %s\n"
			 "access_token %s\nexpires_at %lld\n", t->refresh, t->access, t->expires_at);
	int fd = -1, rc = -1;

	(void)unlink(tmp); /* a leftover of a crash */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (n < 0 || n >= PF_OAUTH2_FILE_MAX || fd < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, fd < 0 ? errno : EFBIG, "cannot write %s", tmp);
		goto fail;
	}
	if (pf_write_all(fd, text, (size_t)n) < 0 || fsync(fd) < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot write %s", tmp);
		goto fail;
	}
	rc = 0;
fail:
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot write %s", tmp);
	if (rc < 0 && fd >= 0)
		(void)unlink(tmp);
	pf_wipe(text, PF_OAUTH2_FILE_MAX);
	free(text);
	return rc;
}

int oauth2_save(const struct config *cfg, const char *path, const struct oauth2_tokens *t,
		struct pf_error *err)
{
	char tmp[PF_PATH_MAX];
	int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);

	if (n < 0 || (size_t)n >= sizeof tmp)
		return pf_error_set(err, PF_ERR_CONFIG, "path too long: %s", path);
	if (pf_mkdirs(cfg->state_dir, 0700) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create %s",
				      cfg->state_dir);
	if (write_tmp(tmp, t, err) < 0)
		return -1;
	if (rename(tmp, path) < 0) {
		int e = errno;

		(void)unlink(tmp);
		return pf_error_errno(err, PF_ERR_LOCAL, e, "cannot rename %s to %s", tmp, path);
	}
	if (pf_fsync_dir(cfg->state_dir) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot fsync %s", cfg->state_dir);
	return 0;
}

/* --- the refresh path ---------------------------------------------------- */

static int refresh_form(const struct account *a, const struct oauth2_tokens *t, char *form,
			size_t cap)
{
	const struct oauth2_settings *o = &a->oauth2;
	size_t n = 0;

	form[0] = '\0';
	if (oauth2_form_add(form, cap, &n, "grant_type", "refresh_token") < 0 ||
	    oauth2_form_add(form, cap, &n, "refresh_token", t->refresh) < 0 ||
	    oauth2_form_add(form, cap, &n, "client_id", o->client_id) < 0)
		return -1;
	if (o->client_secret != NULL &&
	    oauth2_form_add(form, cap, &n, "client_secret", o->client_secret) < 0)
		return -1;
	return 0;
}

/* RFC 6749 section 6.  invalid_grant is the one answer the user must act
 * on: say what to run and the usual causes. */
static int refresh(const struct account *a, struct oauth2_tokens *t, struct pf_error *err)
{
	struct oauth2_http *r = xcalloc(1, sizeof *r);
	char *form = xmalloc(PF_OAUTH2_FORM_MAX), code[64];
	int rc = -1;

	if (refresh_form(a, t, form, PF_OAUTH2_FORM_MAX) < 0) {
		pf_error_set(err, PF_ERR_INTERNAL, "account '%s': OAuth2 request too long", a->name);
		goto fail;
	}
	if (oauth2_http_post(a, a->oauth2.token_endpoint, form, r, err) < 0)
		goto fail;
	if (r->status == 200) {
		rc = oauth2_take_tokens(a, r, t, err);
		goto fail;
	}
	oauth2_error(a, r, "the OAuth2 token refresh", code, sizeof code, err);
	if (strcmp(code, "invalid_grant") == 0) {
		pf_error_clear(err);
		pf_error_set(err, PF_ERR_AUTH, "account '%s': the OAuth2 refresh token was refused "
			     "(invalid_grant): it was revoked or has expired (Google expires it "
			     "after 7 days while the app is in \"Testing\" status); run: popfetch "
			     "--authorize %s", a->name, a->name);
	}
fail:
	pf_wipe(form, PF_OAUTH2_FORM_MAX);
	free(form);
	oauth2_http_wipe(r);
	free(r);
	return rc;
}

int oauth2_access_token(const struct config *cfg, const struct account *acct, char **token_r,
			struct pf_error *err)
{
	struct oauth2_tokens *t = xcalloc(1, sizeof *t);
	char path[PF_PATH_MAX];
	int rc = -1;

	*token_r = NULL;
	if (oauth2_store_path(cfg, acct, path, sizeof path, err) < 0)
		goto fail;
	rc = oauth2_load(path, t, err);
	if (rc == 1)
		pf_error_set(err, PF_ERR_AUTH, "account '%s' has no OAuth2 tokens yet; run: "
			     "popfetch --authorize %s", acct->name, acct->name);
	if (rc != 0) {
		rc = -1;
		goto fail;
	}
	rc = -1;
	if (t->access[0] == '\0' || t->expires_at - (long long)time(NULL) <= OAUTH2_MIN_LIFE_S) {
		log_verbose("%s: refreshing the OAuth2 access token", acct->name);
		if (refresh(acct, t, err) < 0 || oauth2_save(cfg, path, t, err) < 0)
			goto fail;
	}
	*token_r = xstrdup(t->access);
	rc = 0;
fail:
	pf_wipe(t, sizeof *t);
	free(t);
	return rc;
}

int oauth2_forget_access(const struct config *cfg, const struct account *acct,
			 struct pf_error *err)
{
	struct oauth2_tokens *t = xcalloc(1, sizeof *t);
	char path[PF_PATH_MAX];
	int rc = -1;

	if (oauth2_store_path(cfg, acct, path, sizeof path, err) == 0 &&
	    oauth2_load(path, t, err) == 0) {
		t->expires_at = 0; /* expired: the next use refreshes */
		rc = oauth2_save(cfg, path, t, err);
	}
	pf_wipe(t, sizeof *t);
	free(t);
	return rc;
}

int oauth2_token_expiry(const struct config *cfg, const struct account *acct, long long *expires_r,
			int *refresh_r, struct pf_error *err)
{
	struct oauth2_tokens *t = xcalloc(1, sizeof *t);
	char path[PF_PATH_MAX];
	int rc = oauth2_store_path(cfg, acct, path, sizeof path, err);

	*expires_r = 0;
	*refresh_r = 0;
	if (rc == 0)
		rc = oauth2_load(path, t, err);
	if (rc == 0) {
		*expires_r = t->access[0] != '\0' ? t->expires_at : 0;
		*refresh_r = t->refresh[0] != '\0';
	}
	pf_wipe(t, sizeof *t);
	free(t);
	return rc < 0 ? -1 : rc == 0;
}
