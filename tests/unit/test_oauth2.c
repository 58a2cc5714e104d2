/* test_oauth2.c - the pieces of the OAuth2 client that need no server: the
 * JSON reader (hostile and truncated input included), PKCE against RFC
 * 7636's test vector, and the no-tokens / unsafe-file errors of
 * oauth2_access_token (the HTTP paths run in tests/integration/oauth2.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oauth2.h"
#include "util.h"

static int get(const char *json, const char *key, char *out, size_t cap)
{
	return oauth2_json_get(json, strlen(json), key, out, cap);
}

static void json__reads_flat_token_answer(void **state)
{
	(void)state;
	const char *j = "{\"access_token\":\"ya29.a0\",\"expires_in\":3599,\n"
			"  \"token_type\" : \"Bearer\", \"refresh_token\":\"1//0g\", "
			"\"ok\":true, \"none\":null}";
	char out[64];

	assert_int_equal(get(j, "access_token", out, sizeof out), 1);
	assert_string_equal(out, "ya29.a0");
	assert_int_equal(get(j, "expires_in", out, sizeof out), 1);
	assert_string_equal(out, "3599");
	assert_int_equal(get(j, "token_type", out, sizeof out), 1);
	assert_string_equal(out, "Bearer");
	assert_int_equal(get(j, "ok", out, sizeof out), 1);
	assert_string_equal(out, "true");
	assert_int_equal(get(j, "none", out, sizeof out), 1);
	assert_string_equal(out, "null");
	assert_int_equal(get(j, "scope", out, sizeof out), 0);
	assert_string_equal(out, "");
}

static void json__unescapes_strings(void **state)
{
	(void)state;
	char out[64];

	assert_int_equal(get("{\"u\":\"https:\\/\\/x\\/d\\\"q\\\\\\n\"}", "u", out, sizeof out), 1);
	assert_string_equal(out, "https://x/d\"q\\\n");
	assert_int_equal(get("{\"u\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}", "u", out, sizeof out), 1);
	assert_string_equal(out, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* a lone surrogate becomes U+FFFD */
	assert_int_equal(get("{\"u\":\"\\ud83dx\"}", "u", out, sizeof out), 1);
	assert_string_equal(out, "\xef\xbf\xbdx");
	/* an escaped key matches its unescaped form */
	assert_int_equal(get("{\"err\\u006fr\":\"invalid_grant\"}", "error", out, sizeof out), 1);
	assert_string_equal(out, "invalid_grant");
}

static void json__skips_nested_values(void **state)
{
	(void)state;
	const char *j = "{\"a\":{\"error\":\"nested\",\"b\":[1,{\"c\":[]},\"]\"]},\"error\":\"top\"}";
	char out[64];

	assert_int_equal(get(j, "error", out, sizeof out), 1);
	assert_string_equal(out, "top");
	/* the value itself must be a string or scalar */
	assert_int_equal(get(j, "a", out, sizeof out), -1);
}

static void json__refuses_malformed_and_too_long(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "[]", "{", "{\"error\":\"x\"", "{\"error\":\"x\",", "{\"error\" \"x\"}",
		"{\"error\":\"x\"} trailing", "{\"error\":\"a\nb\"}", "{\"error\":\"\\q\"}",
		"{\"error\":\"\\u12\"}", "{\"error\":}", "{error:\"x\"}",
		"{\"x\":[[[[[[[[[[[[1]]]]]]]]]]]],\"error\":\"deep\"}",
	};
	char out[8];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (get(bad[i], "error", out, sizeof out) != -1)
			fail_msg("accepted: %s", bad[i]);
	/* does not fit: refused, never truncated */
	assert_int_equal(get("{\"error\":\"1234567\"}", "error", out, sizeof out), 1);
	assert_int_equal(get("{\"error\":\"12345678\"}", "error", out, sizeof out), -1);
	/* the length is honoured: no reading past len */
	assert_int_equal(oauth2_json_get("{\"e\":\"v\"}XXXX", 9, "e", out, sizeof out), 1);
	assert_string_equal(out, "v");
	assert_int_equal(oauth2_json_get("{\"e\":\"v\"}", 8, "e", out, sizeof out), -1);
	/* U+0000 would cut the string: refused in a value, no match in a key */
	assert_int_equal(get("{\"error\":\"a\\u0000b\"}", "error", out, sizeof out), -1);
	assert_int_equal(get("{\"error\\u0000x\":\"v\"}", "error", out, sizeof out), 0);
}

/* Every prefix of a valid answer is refused (a truncated HTTP body). */
static void json__every_truncation_refused(void **state)
{
	(void)state;
	const char *j = "{\"access_token\":\"ya29\",\"n\":[1,{\"x\":\"\\u00e9\"}],\"e\":3}";
	char out[32];

	for (size_t n = 0; n < strlen(j); n++)
		assert_int_equal(oauth2_json_get(j, n, "access_token", out, sizeof out), -1);
	assert_int_equal(oauth2_json_get(j, strlen(j), "access_token", out, sizeof out), 1);
}

/* RFC 7636 appendix B. */
static void pkce__rfc7636_test_vector(void **state)
{
	(void)state;
	char out[64], small[43];

	assert_int_equal(oauth2_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", out,
					       sizeof out), 0);
	assert_string_equal(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	assert_int_equal(oauth2_pkce_challenge("x", small, sizeof small), -1);
}

/* --- oauth2_access_token without a server -------------------------------- */

static struct account ac;
static struct config cfg;
static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/pf-test-oauth2-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	memset(&ac, 0, sizeof ac);
	ac.name = "acct";
	ac.timeout = 5;
	ac.oauth2.enabled = 1;
	ac.oauth2.client_id = "cid";
	ac.oauth2.token_endpoint = "https://127.0.0.1:1/token";
	cfg.state_dir = dir;
	return 0;
}

static int teardown(void **state)
{
	char p[128];

	(void)state;
	(void)snprintf(p, sizeof p, "%s/acct.oauth2", dir);
	(void)unlink(p);
	return rmdir(dir);
}

static void put_tokens(mode_t mode, const char *text)
{
	char p[128];
	int fd;

	(void)snprintf(p, sizeof p, "%s/acct.oauth2", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void token__none_yet_says_authorize(void **state)
{
	(void)state;
	struct pf_error err = { 0 };
	char *tok = (char *)"x";

	assert_int_equal(oauth2_access_token(&cfg, &ac, &tok, &err), -1);
	assert_null(tok);
	assert_int_equal(err.cls, PF_ERR_AUTH);
	assert_non_null(strstr(err.msg, "popfetch --authorize acct"));
}

static void token__valid_cached_one_is_used(void **state)
{
	(void)state;
	struct pf_error err = { 0 };
	char text[256], *tok = NULL;

	(void)snprintf(text, sizeof text, "popfetch-oauth2 1\nrefresh_token r1\naccess_token "
		       "a-cached\nexpires_at %lld\n", (long long)time(NULL) + 600);
	put_tokens(0600, text);
	assert_int_equal(oauth2_access_token(&cfg, &ac, &tok, &err), 0);
	assert_string_equal(tok, "a-cached");
	pf_free_secret(tok);
}

static void token__expiring_one_is_refreshed(void **state)
{
	(void)state;
	struct pf_error err = { 0 };
	char text[256], *tok = NULL;

	/* 30 s left: refresh, which fails here (nothing listens on port 1) */
	(void)snprintf(text, sizeof text, "popfetch-oauth2 1\nrefresh_token r1\naccess_token "
		       "a-old\nexpires_at %lld\n", (long long)time(NULL) + 30);
	put_tokens(0600, text);
	assert_int_equal(oauth2_access_token(&cfg, &ac, &tok, &err), -1);
	assert_null(tok);
	assert_int_equal(err.cls, PF_ERR_NET);
	assert_null(strstr(err.msg, "r1"));
	assert_null(strstr(err.msg, "a-old"));
}

static void token__unsafe_or_damaged_file_refused(void **state)
{
	(void)state;
	struct pf_error err = { 0 };
	char *tok = NULL;

	put_tokens(0644, "popfetch-oauth2 1\nrefresh_token r1\n");
	assert_int_equal(oauth2_access_token(&cfg, &ac, &tok, &err), -1);
	assert_int_equal(err.cls, PF_ERR_CONFIG_PERM);
	assert_non_null(strstr(err.msg, "chmod 600"));
	pf_error_clear(&err);
	put_tokens(0600, "popfetch-oauth2 1\naccess_token a\n"); /* no refresh token */
	assert_int_equal(oauth2_access_token(&cfg, &ac, &tok, &err), -1);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	assert_non_null(strstr(err.msg, "damaged"));
	pf_error_clear(&err);
	put_tokens(0600, "popfetch-oauth2 1\nrefresh_token r\001\n");
	assert_int_equal(oauth2_access_token(&cfg, &ac, &tok, &err), -1);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
}

static void token__forgotten_one_is_refreshed(void **state)
{
	(void)state;
	struct pf_error err = { 0 };
	char text[256], *tok = NULL;

	/* Valid for 10 minutes by its expiry, but the server refused it. */
	(void)snprintf(text, sizeof text, "popfetch-oauth2 1\nrefresh_token r1\naccess_token "
		       "a-refused\nexpires_at %lld\n", (long long)time(NULL) + 600);
	put_tokens(0600, text);
	assert_int_equal(oauth2_forget_access(&cfg, &ac, &err), 0);
	/* Now a refresh is tried (and fails: nothing listens on port 1). */
	assert_int_equal(oauth2_access_token(&cfg, &ac, &tok, &err), -1);
	assert_null(tok);
	assert_int_equal(err.cls, PF_ERR_NET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json__reads_flat_token_answer),
		cmocka_unit_test(json__unescapes_strings),
		cmocka_unit_test(json__skips_nested_values),
		cmocka_unit_test(json__refuses_malformed_and_too_long),
		cmocka_unit_test(json__every_truncation_refused),
		cmocka_unit_test(pkce__rfc7636_test_vector),
		cmocka_unit_test_setup_teardown(token__none_yet_says_authorize, setup, teardown),
		cmocka_unit_test_setup_teardown(token__valid_cached_one_is_used, setup, teardown),
		cmocka_unit_test_setup_teardown(token__expiring_one_is_refreshed, setup, teardown),
		cmocka_unit_test_setup_teardown(token__forgotten_one_is_refreshed, setup, teardown),
		cmocka_unit_test_setup_teardown(token__unsafe_or_damaged_file_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
