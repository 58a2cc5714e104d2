/* oauth2_flow.c - oauth2_authorize() of oauth2.h: the two ways to get the
 * first tokens.
 *
 * Device flow (RFC 8628): ask the device endpoint for a user code, show it
 * with the verification URI, poll the token endpoint at the interval the
 * server asks for until the user has answered or the code expires.
 *
 * Loopback flow (RFC 8252 section 7.3, PKCE RFC 7636 S256): listen on
 * 127.0.0.1 port 0, show the authorization URL, accept the browser's one
 * redirect GET, check state (CSRF, RFC 6749 section 10.12), answer a small
 * page, and exchange the code together with the PKCE verifier. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "log.h"
#include "oauth2.h"
#include "oauth2_int.h"
#include "util.h"

/* How long the loopback flow waits for the browser (OAUTH2_WAIT_ENV
 * overrides it for tests), and the longest device code we wait for
 * whatever expires_in says. */
#define OAUTH2_LOOPBACK_WAIT_S 300
#define OAUTH2_DEVICE_MAX_S 1800
/* RFC 8628 section 3.2: 5 s when the server names no interval; section
 * 3.5: slow_down adds 5 s. */
#define OAUTH2_DEVICE_INTERVAL_S 5
#define OAUTH2_SLOW_DOWN_S 5
#define OAUTH2_INTERVAL_MAX_S 60
/* RFC 7636 section 4.1: 32 random octets give a 43-character verifier. */
#define PKCE_VERIFIER_BYTES 32
#define STATE_BYTES 16
#define B64URL_MAX 64
#define USER_CODE_MAX 64

/* --- small helpers ------------------------------------------------------- */

static int random_b64url(size_t nbytes, char *out, size_t cap)
{
	unsigned char raw[PKCE_VERIFIER_BYTES];
	char b64[4 * ((PKCE_VERIFIER_BYTES + 2) / 3) + 1];
	size_t n = 0;

	if (nbytes > sizeof raw || RAND_bytes(raw, (int)nbytes) != 1)
		return -1;
	(void)EVP_EncodeBlock((unsigned char *)b64, raw, (int)nbytes);
	for (const char *s = b64; *s != '\0' && *s != '='; s++) {
		if (n + 1 >= cap)
			return -1;
		out[n++] = *s == '+' ? '-' : *s == '/' ? '_' : *s;
	}
	out[n] = '\0';
	pf_wipe(raw, sizeof raw);
	return 0;
}

static void sleep_s(long s)
{
	struct timespec ts = { s, 0 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long num_or(const struct oauth2_http *r, const char *key, long dflt, long max)
{
	char num[32], *end;
	long v;

	if (oauth2_json_get(r->body, r->len, key, num, sizeof num) != 1)
		return dflt;
	v = strtol(num, &end, 10);
	return *end == '\0' && v > 0 ? (v < max ? v : max) : dflt;
}

/* The token request of both flows: one grant, client_id, and the
 * client_secret of a confidential client. */
static int token_request(const struct account *a, const char *const *kv, struct oauth2_http *r,
			 struct pf_error *err)
{
	char *form = xmalloc(PF_OAUTH2_FORM_MAX);
	size_t n = 0;
	int rc = 0;

	form[0] = '\0';
	for (; kv[0] != NULL && rc == 0; kv += 2)
		rc = oauth2_form_add(form, PF_OAUTH2_FORM_MAX, &n, kv[0], kv[1]);
	if (rc == 0)
		rc = oauth2_form_add(form, PF_OAUTH2_FORM_MAX, &n, "client_id", a->oauth2.client_id);
	if (rc == 0 && a->oauth2.client_secret != NULL)
		rc = oauth2_form_add(form, PF_OAUTH2_FORM_MAX, &n, "client_secret",
				     a->oauth2.client_secret);
	if (rc < 0)
		pf_error_set(err, PF_ERR_INTERNAL, "account '%s': OAuth2 request too long", a->name);
	else
		rc = oauth2_http_post(a, a->oauth2.token_endpoint, form, r, err);
	pf_wipe(form, PF_OAUTH2_FORM_MAX);
	free(form);
	return rc;
}

/* --- device flow (RFC 8628) ---------------------------------------------- */

struct device {
	char device_code[PF_SECRET_MAX + 1];
	char user_code[USER_CODE_MAX];
	char uri[PF_URL_MAX];
	long interval, expires_in;
};

static int device_start(const struct account *a, struct device *d, struct oauth2_http *r,
			struct pf_error *err)
{
	char form[PF_URL_MAX], raw[PF_URL_MAX], code[64];
	size_t n = 0;

	form[0] = '\0';
	if (oauth2_form_add(form, sizeof form, &n, "client_id", a->oauth2.client_id) < 0 ||
	    (a->oauth2.scope != NULL &&
	     oauth2_form_add(form, sizeof form, &n, "scope", a->oauth2.scope) < 0))
		return pf_error_set(err, PF_ERR_CONFIG, "account '%s': client_id and scope are "
				    "too long", a->name);
	if (oauth2_http_post(a, a->oauth2.device_authorization_endpoint, form, r, err) < 0)
		return -1;
	if (r->status != 200)
		return oauth2_error(a, r, "the device authorization request", code, sizeof code,
				    err);
	/* Google calls it verification_url. */
	if (oauth2_json_get(r->body, r->len, "device_code", d->device_code,
			    sizeof d->device_code) != 1 ||
	    oauth2_json_get(r->body, r->len, "user_code", raw, USER_CODE_MAX) != 1 ||
	    (oauth2_json_get(r->body, r->len, "verification_uri", d->uri, sizeof d->uri) != 1 &&
	     oauth2_json_get(r->body, r->len, "verification_url", d->uri, sizeof d->uri) != 1))
		return pf_error_set(err, PF_ERR_PROTO, "account '%s': the device authorization "
				    "answer lacks device_code, user_code or verification_uri",
				    a->name);
	/* Both are shown on a terminal: server text, sanitised. */
	log_sanitize(d->user_code, sizeof d->user_code, raw, strlen(raw));
	memcpy(raw, d->uri, sizeof raw);
	log_sanitize(d->uri, sizeof d->uri, raw, strlen(raw));
	d->interval = num_or(r, "interval", OAUTH2_DEVICE_INTERVAL_S, OAUTH2_INTERVAL_MAX_S);
	d->expires_in = num_or(r, "expires_in", OAUTH2_DEVICE_MAX_S, OAUTH2_DEVICE_MAX_S);
	return 0;
}

/* One poll: 0 done, 1 keep polling, -1 failed. */
static int device_poll(const struct account *a, struct device *d, struct oauth2_tokens *t,
		       struct oauth2_http *r, struct pf_error *err)
{
	const char *kv[] = { "grant_type", "urn:ietf:params:oauth:grant-type:device_code",
			     "device_code", d->device_code, NULL };
	char code[64];
	struct pf_error e2 = { 0 };

	if (token_request(a, kv, r, err) < 0)
		return -1;
	if (r->status == 200)
		return oauth2_take_tokens(a, r, t, err);
	oauth2_error(a, r, "the authorization", code, sizeof code, &e2);
	if (strcmp(code, "authorization_pending") == 0)
		return 1;
	if (strcmp(code, "slow_down") == 0) {
		d->interval = d->interval + OAUTH2_SLOW_DOWN_S;
		return 1;
	}
	if (strcmp(code, "expired_token") == 0)
		return pf_error_set(err, PF_ERR_AUTH, "account '%s': the device code expired before "
				    "it was entered; run --authorize again", a->name);
	if (strcmp(code, "access_denied") == 0)
		return pf_error_set(err, PF_ERR_AUTH, "account '%s': the authorization was denied",
				    a->name);
	return pf_error_set(err, e2.cls, "%s", e2.msg);
}

static int device_flow(const struct account *a, FILE *out, struct oauth2_tokens *t,
		       struct oauth2_http *r, struct pf_error *err)
{
	struct device *d = xcalloc(1, sizeof *d);
	int64_t deadline;
	int rc = -1;

	if (device_start(a, d, r, err) < 0)
		goto fail;
	fprintf(out, "To authorize popfetch for account '%s', open\n\n    %s\n\nand enter the "
		"code\n\n    %s\n\nWaiting for the authorization...\n", a->name, d->uri,
		d->user_code);
	fflush(out);
	deadline = pf_now_ms() + (int64_t)d->expires_in * 1000;
	do {
		sleep_s(d->interval);
		rc = device_poll(a, d, t, r, err);
	} while (rc == 1 && pf_now_ms() < deadline);
	if (rc == 1)
		rc = pf_error_set(err, PF_ERR_AUTH, "account '%s': the device code expired before it "
				  "was entered; run --authorize again", a->name);
fail:
	pf_wipe(d, sizeof *d);
	free(d);
	return rc;
}

/* --- loopback flow (RFC 8252 + PKCE) ------------------------------------- */

struct loopback {
	int fd;
	int port;
	char verifier[B64URL_MAX];
	char challenge[B64URL_MAX];
	char state[B64URL_MAX];
	char redirect[64];
	char code[PF_SECRET_MAX + 1];
};

static int lb_listen(const struct account *a, struct loopback *l, struct pf_error *err)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(l->fd, 4) < 0 || getsockname(l->fd, (struct sockaddr *)&sa, &len) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "account '%s': cannot listen on "
				      "127.0.0.1 for the OAuth2 redirect", a->name);
	l->port = ntohs(sa.sin_port);
	(void)snprintf(l->redirect, sizeof l->redirect, "http://127.0.0.1:%d/", l->port);
	return 0;
}

static int lb_url(const struct account *a, const struct loopback *l, char *url, size_t cap)
{
	const struct oauth2_settings *o = &a->oauth2;
	int w = snprintf(url, cap, "%s%c", o->authorization_endpoint,
			 strchr(o->authorization_endpoint, '?') != NULL ? '&' : '?');
	size_t n;

	if (w < 0 || (size_t)w >= cap)
		return -1;
	n = (size_t)w;
	/* access_type=offline: Google issues a refresh token only then;
	 * other servers ignore it (RFC 6749 section 3.1). */
	if (oauth2_form_add(url, cap, &n, "response_type", "code") < 0 ||
	    oauth2_form_add(url, cap, &n, "client_id", o->client_id) < 0 ||
	    oauth2_form_add(url, cap, &n, "redirect_uri", l->redirect) < 0 ||
	    (o->scope != NULL && oauth2_form_add(url, cap, &n, "scope", o->scope) < 0) ||
	    oauth2_form_add(url, cap, &n, "code_challenge", l->challenge) < 0 ||
	    oauth2_form_add(url, cap, &n, "code_challenge_method", "S256") < 0 ||
	    oauth2_form_add(url, cap, &n, "state", l->state) < 0 ||
	    oauth2_form_add(url, cap, &n, "access_type", "offline") < 0)
		return -1;
	return 0;
}

static int hexv(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The value of key in a query string q (up to a blank), percent-decoded
 * into out.  1 found, 0 absent, -1 too long or malformed. */
static int query_get(const char *q, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);

	for (const char *p = q; *p != '\0' && *p != ' '; ) {
		const char *amp = p + strcspn(p, "& ");
		size_t n = 0;

		if ((size_t)(amp - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			for (const char *s = p + klen + 1; s < amp; s++) {
				int c = (unsigned char)*s;

				if (c == '%' && amp - s > 2 && hexv(s[1]) >= 0 && hexv(s[2]) >= 0) {
					c = hexv(s[1]) * 16 + hexv(s[2]);
					s += 2;
				} else if (c == '+') {
					c = ' ';
				}
				if (n + 1 >= cap || c == 0)
					return -1;
				out[n++] = (char)c;
			}
			out[n] = '\0';
			return 1;
		}
		p = *amp == '&' ? amp + 1 : amp;
	}
	return 0;
}

/* Reads one request head (up to the blank line) within the deadline. */
static int read_request(int fd, char *buf, size_t cap, int64_t deadline)
{
	size_t n = 0;

	while (n + 1 < cap) {
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = deadline - pf_now_ms();
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		r = read(fd, buf + n, cap - 1 - n);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL || strstr(buf, "\n\n") != NULL)
			return 0;
	}
	return -1; /* longer than PF_HTTP_REQUEST_MAX: not our browser */
}

static void respond(int fd, const char *status, const char *text)
{
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "HTTP/1.1 %s\r\nContent-Type: text/html; charset=utf-8"
			 "\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n<!DOCTYPE html>"
			 "<html><head><title>popfetch</title></head><body><p>%s</p></body></html>\n",
			 status, text);

	if (n > 0 && (size_t)n < sizeof buf)
		(void)pf_write_all(fd, buf, (size_t)n);
}

/* One request: 0 got the code, 1 not ours (keep waiting), -1 refused. */
static int lb_request(const struct account *a, struct loopback *l, int fd, int64_t deadline,
		      struct pf_error *err)
{
	char req[PF_HTTP_REQUEST_MAX], st[B64URL_MAX], e[64], safe[64];

	if (read_request(fd, req, sizeof req, deadline) < 0 || strncmp(req, "GET /", 5) != 0)
		return 1;
	if (req[5] != '?' || query_get(req + 6, "state", st, sizeof st) != 1 ||
	    strlen(st) != strlen(l->state) || CRYPTO_memcmp(st, l->state, strlen(st)) != 0) {
		/* A favicon request, or a forged redirect (RFC 6749 section
		 * 10.12): not an answer to our request, keep waiting. */
		respond(fd, "404 Not Found", "Not the popfetch authorization answer.");
		return 1;
	}
	if (query_get(req + 6, "code", l->code, sizeof l->code) == 1 && l->code[0] != '\0') {
		respond(fd, "200 OK", "popfetch is authorized. You can close this window.");
		pf_wipe(req, sizeof req);
		return 0;
	}
	respond(fd, "200 OK", "popfetch was not authorized. You can close this window.");
	if (query_get(req + 6, "error", e, sizeof e) != 1)
		(void)snprintf(e, sizeof e, "no code");
	log_sanitize(safe, sizeof safe, e, strlen(e));
	return pf_error_set(err, PF_ERR_AUTH, "account '%s': the authorization was refused: %s",
			    a->name, safe);
}

static int lb_wait_s(void)
{
	const char *s = getenv(OAUTH2_WAIT_ENV);
	long v = s != NULL ? strtol(s, NULL, 10) : 0;

	return v > 0 && v <= OAUTH2_LOOPBACK_WAIT_S ? (int)v : OAUTH2_LOOPBACK_WAIT_S;
}

static int lb_wait(const struct account *a, struct loopback *l, struct pf_error *err)
{
	int64_t end = pf_now_ms() + (int64_t)lb_wait_s() * 1000;
	int rc = 1;

	while (rc == 1) {
		struct pollfd p = { l->fd, POLLIN, 0 };
		int64_t left = end - pf_now_ms(), step;
		int c;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return pf_error_set(err, PF_ERR_AUTH, "account '%s': no answer from the "
					    "browser within %d s; run --authorize again", a->name,
					    lb_wait_s());
		c = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		/* One slow connection must not hold the whole wait. */
		step = (int64_t)(a->timeout > 0 ? a->timeout : 60) * 1000;
		rc = lb_request(a, l, c, pf_now_ms() + (step < left ? step : left), err);
		close(c);
	}
	return rc;
}

static int loopback_flow(const struct account *a, FILE *out, struct oauth2_tokens *t,
			 struct oauth2_http *r, struct pf_error *err)
{
	struct loopback *l = xcalloc(1, sizeof *l);
	char *url = xmalloc(PF_URL_MAX), code[64];
	const char *kv[] = { "grant_type", "authorization_code", "code", l->code,
			     "redirect_uri", l->redirect, "code_verifier", l->verifier, NULL };
	int rc = -1;

	l->fd = -1;
	if (random_b64url(PKCE_VERIFIER_BYTES, l->verifier, sizeof l->verifier) < 0 ||
	    random_b64url(STATE_BYTES, l->state, sizeof l->state) < 0 ||
	    oauth2_pkce_challenge(l->verifier, l->challenge, sizeof l->challenge) < 0) {
		pf_error_set(err, PF_ERR_INTERNAL, "cannot make random PKCE values");
		goto fail;
	}
	if (lb_listen(a, l, err) < 0)
		goto fail;
	if (lb_url(a, l, url, PF_URL_MAX) < 0) {
		pf_error_set(err, PF_ERR_CONFIG, "account '%s': the authorization URL is longer "
			     "than %d bytes", a->name, PF_URL_MAX);
		goto fail;
	}
	fprintf(out, "To authorize popfetch for account '%s', open this URL in a browser on "
		"this machine:\n\n    %s\n\nWaiting for the browser (port %d)...\n", a->name, url,
		l->port);
	fflush(out);
	if (lb_wait(a, l, err) < 0 || token_request(a, kv, r, err) < 0)
		goto fail;
	if (r->status != 200)
		oauth2_error(a, r, "the authorization code exchange", code, sizeof code, err);
	else
		rc = oauth2_take_tokens(a, r, t, err);
fail:
	if (l->fd >= 0)
		close(l->fd);
	pf_wipe(l, sizeof *l);
	free(l);
	free(url);
	return rc;
}

int oauth2_authorize(const struct config *cfg, const struct account *acct, FILE *out,
		     struct pf_error *err)
{
	struct oauth2_tokens *t = xcalloc(1, sizeof *t);
	struct oauth2_http *r = xcalloc(1, sizeof *r);
	char path[PF_PATH_MAX];
	int rc = -1;

	if (!acct->oauth2.enabled) {
		pf_error_set(err, PF_ERR_CONFIG, "account '%s' has no oauth2 block with a client_id "
			     "(see popfetch.conf(5))", acct->name);
		goto fail;
	}
	if (oauth2_store_path(cfg, acct, path, sizeof path, err) < 0)
		goto fail;
	rc = acct->oauth2.flow == OAUTH2_FLOW_DEVICE ? device_flow(acct, out, t, r, err)
						       : loopback_flow(acct, out, t, r, err);
	if (rc == 0 && t->refresh[0] == '\0')
		rc = pf_error_set(err, PF_ERR_AUTH, "account '%s': the server issued no refresh "
				  "token (for Microsoft, the scope needs offline_access)",
				  acct->name);
	if (rc == 0)
		rc = oauth2_save(cfg, path, t, err);
	if (rc == 0)
		fprintf(out, "Authorized: the tokens for '%s' are in %s\n", acct->name, path);
fail:
	oauth2_http_wipe(r);
	free(r);
	pf_wipe(t, sizeof *t);
	free(t);
	return rc;
}
