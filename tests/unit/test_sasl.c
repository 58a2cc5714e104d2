/* test_sasl.c - the authentication messages against the examples the
 * specifications publish (RFC 2195, RFC 1939, RFC 7628, RFC 4648, Google's
 * XOAUTH2 page), strict base64 decoding of hostile input, and the rule
 * auth = auto follows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "sasl.h"

/* Encodes raw[0..len) and compares with the published base64. */
static void assert_b64(const unsigned char *raw, size_t len, const char *want)
{
	char b64[PF_SASL_B64_MAX];
	size_t n;

	assert_int_equal(sasl_b64_encode(raw, len, b64, sizeof b64, &n), 0);
	assert_int_equal(n, strlen(want));
	assert_string_equal(b64, want);
}

static void b64__rfc4648_vectors__round_trip(void **state)
{
	(void)state;
	/* RFC 4648 section 10. */
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
					   "Zm9vYmFy" };
	unsigned char out[16];
	size_t n;

	for (size_t i = 0; i < 7; i++) {
		assert_b64((const unsigned char *)plain[i], strlen(plain[i]), enc[i]);
		assert_int_equal(sasl_b64_decode(enc[i], strlen(enc[i]), out, sizeof out, &n), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(out, plain[i], n);
	}
}

static void b64_decode__malformed__is_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"Zg=", "Zg", "Z===", "Zm9v\n", "Zm 9v", "Zm=v", "Zh==", /* unused bits set */
		"Zg==Zg==", "Zm9v!A==", "====",
	};
	unsigned char out[16];
	size_t n;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (sasl_b64_decode(bad[i], strlen(bad[i]), out, sizeof out, &n) == 0)
			fail_msg("accepted '%s'", bad[i]);
}

static void b64__over_cap__fails_without_writing_past_it(void **state)
{
	(void)state;
	unsigned char out[8];
	char enc[9];
	size_t n;

	memset(out, 0xAA, sizeof out);
	/* "foobar" decodes to 6 bytes: a cap of 5 must fail. */
	assert_int_equal(sasl_b64_decode("Zm9vYmFy", 8, out, 5, &n), -1);
	assert_int_equal(out[5], 0xAA);
	/* 6 bytes need 8 characters and a NUL. */
	assert_int_equal(sasl_b64_encode("foobar", 6, enc, 8, &n), -1);
	assert_int_equal(sasl_b64_encode("foobar", 6, enc, 9, &n), 0);
}

static void plain__exact_bytes(void **state)
{
	(void)state;
	unsigned char out[64];
	size_t n;

	assert_int_equal(sasl_plain("tim", "tanstaaftanstaaf", out, sizeof out, &n), 0);
	assert_int_equal(n, 21);
	assert_memory_equal(out, "\0tim\0tanstaaftanstaaf", 21);
	assert_b64(out, n, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
	assert_int_equal(sasl_plain("tim", "tanstaaftanstaaf", out, 20, &n), -1);
}

static void cram_md5__rfc2195_example(void **state)
{
	(void)state;
	static const char chal64[] = "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+";
	unsigned char chal[64], out[64];
	size_t clen, n;

	assert_int_equal(sasl_b64_decode(chal64, strlen(chal64), chal, sizeof chal, &clen), 0);
	assert_int_equal(clen, strlen("<1896.697170952@postoffice.reston.mci.net>"));
	assert_int_equal(sasl_cram_md5("tim", "tanstaaftanstaaf", chal, clen, out, sizeof out, &n), 0);
	assert_int_equal(n, strlen("tim b913a602c7eda7a495b4e6e7334d3890"));
	assert_memory_equal(out, "tim b913a602c7eda7a495b4e6e7334d3890", n);
	/* The base64 line the RFC shows the client sending. */
	assert_b64(out, n, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
}

static void apop__rfc1939_example(void **state)
{
	(void)state;
	char hex[SASL_MD5_HEX_SIZE];

	assert_int_equal(sasl_apop_digest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf", hex), 0);
	assert_string_equal(hex, "c4c9334bac560ecc979e58001b3e22fb");
}

static void xoauth2__google_example(void **state)
{
	(void)state;
	static const char want[] = "user=someuser@example.com\001auth=Bearer "
				   "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\001\001";
	unsigned char out[256];
	size_t n;

	assert_int_equal(sasl_xoauth2("someuser@example.com",
				      "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", out,
				      sizeof out, &n), 0);
	assert_int_equal(n, sizeof want - 1);
	assert_memory_equal(out, want, n);
	assert_b64(out, n, "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52Yj"
			   "NSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==");
}

static void xoauth2__control_character__is_refused(void **state)
{
	(void)state;
	unsigned char out[256];
	size_t n;

	assert_int_equal(sasl_xoauth2("u", "tok\001auth=x", out, sizeof out, &n), -1);
	assert_int_equal(sasl_xoauth2("u\r\n", "tok", out, sizeof out, &n), -1);
}

static void oauthbearer__rfc7628_example(void **state)
{
	(void)state;
	unsigned char out[256];
	size_t n;

	/* RFC 7628 section 4.1, the initial client response. */
	assert_int_equal(sasl_oauthbearer("user@example.com", "server.example.com", "143",
					  "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", out,
					  sizeof out, &n), 0);
	assert_b64(out, n, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAW"
			   "F1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB");
}

static void oauthbearer__without_peer_and_escaped_user(void **state)
{
	(void)state;
	static const char want[] = "n,a=a=2Cb=3Dc,\001auth=Bearer t\001\001";
	unsigned char out[64];
	size_t n;

	/* RFC 5801 section 5.1: ',' and '=' in the authzid are escaped. */
	assert_int_equal(sasl_oauthbearer("a,b=c", NULL, NULL, "t", out, sizeof out, &n), 0);
	assert_int_equal(n, sizeof want - 1);
	assert_memory_equal(out, want, n);
	assert_int_equal(sasl_oauthbearer("a", NULL, NULL, "t", out, 10, &n), -1);
}

static void oauth_abort__rfc7628_and_xoauth2(void **state)
{
	(void)state;
	unsigned char out[1] = { 0 };
	size_t n = 99;
	char b64[8];

	/* RFC 7628 section 3.2.3: a single ^A, "AQ==" on the wire. */
	sasl_oauth_abort(AUTH_OAUTHBEARER, out, &n);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 1);
	assert_int_equal(sasl_b64_encode(out, n, b64, sizeof b64, &n), 0);
	assert_string_equal(b64, "AQ==");
	/* XOAUTH2: an empty line. */
	sasl_oauth_abort(AUTH_XOAUTH2, out, &n);
	assert_int_equal(n, 0);
}

static struct pop3_capa caps_with(int capa, int user, int plain, int login, int cram)
{
	struct pop3_capa c;

	pop3_capa_init(&c);
	c.have_capa = capa;
	c.user = user;
	c.sasl_plain = plain;
	c.sasl_login = login;
	c.sasl_cram_md5 = cram;
	return c;
}

static void auto__order_is_plain_login_user(void **state)
{
	(void)state;
	struct pop3_capa c = caps_with(1, 1, 1, 1, 1);

	assert_int_equal(sasl_auto_mech(&c), AUTH_PLAIN);
	c = caps_with(1, 1, 0, 1, 1);
	assert_int_equal(sasl_auto_mech(&c), AUTH_LOGIN);
	c = caps_with(1, 1, 0, 0, 1);
	assert_int_equal(sasl_auto_mech(&c), AUTH_USER);
	/* CRAM-MD5 only when nothing else is offered. */
	c = caps_with(1, 0, 0, 0, 1);
	assert_int_equal(sasl_auto_mech(&c), AUTH_CRAM_MD5);
	/* No CAPA at all (RFC 1939 server): USER/PASS. */
	c = caps_with(0, 0, 0, 0, 0);
	assert_int_equal(sasl_auto_mech(&c), AUTH_USER);
	/* OAuth2 and APOP are never picked. */
	c = caps_with(1, 0, 0, 0, 0);
	c.sasl_xoauth2 = c.sasl_oauthbearer = 1;
	assert_int_equal(sasl_auto_mech(&c), AUTH_USER);
}

static void server_lacks__only_when_it_lists_others(void **state)
{
	(void)state;
	struct pop3_capa c = caps_with(1, 1, 1, 1, 0);
	char buf[48];

	assert_int_equal(sasl_server_lacks(&c, AUTH_CRAM_MD5), 1);
	assert_int_equal(sasl_server_lacks(&c, AUTH_XOAUTH2), 1);
	assert_int_equal(sasl_server_lacks(&c, AUTH_PLAIN), 0);
	assert_int_equal(sasl_server_lacks(&c, AUTH_APOP), 0);
	sasl_offered(&c, buf, sizeof buf);
	assert_string_equal(buf, "PLAIN LOGIN");
	c = caps_with(1, 1, 0, 0, 0);
	assert_int_equal(sasl_server_lacks(&c, AUTH_XOAUTH2), 0);
	sasl_offered(&c, buf, sizeof buf);
	assert_string_equal(buf, "none");
}

static void mech_name__spells_the_protocol_names(void **state)
{
	(void)state;
	assert_string_equal(sasl_mech_name(AUTH_CRAM_MD5), "CRAM-MD5");
	assert_string_equal(sasl_mech_name(AUTH_OAUTHBEARER), "OAUTHBEARER");
	assert_string_equal(sasl_mech_name((enum auth_mech)99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(b64__rfc4648_vectors__round_trip),
		cmocka_unit_test(b64_decode__malformed__is_refused),
		cmocka_unit_test(b64__over_cap__fails_without_writing_past_it),
		cmocka_unit_test(plain__exact_bytes),
		cmocka_unit_test(cram_md5__rfc2195_example),
		cmocka_unit_test(apop__rfc1939_example),
		cmocka_unit_test(xoauth2__google_example),
		cmocka_unit_test(xoauth2__control_character__is_refused),
		cmocka_unit_test(oauthbearer__rfc7628_example),
		cmocka_unit_test(oauthbearer__without_peer_and_escaped_user),
		cmocka_unit_test(oauth_abort__rfc7628_and_xoauth2),
		cmocka_unit_test(auto__order_is_plain_login_user),
		cmocka_unit_test(server_lacks__only_when_it_lists_others),
		cmocka_unit_test(mech_name__spells_the_protocol_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
