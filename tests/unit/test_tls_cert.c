/* test_tls_cert.c - the certificate facts shared by the poll, --serverinfo
 * and the config (tls_cert.c): the tls_fingerprint syntax (every form
 * popfetch(1) documents is accepted, every near miss refused), the text
 * form read back to the same digest, and which verification results mean
 * an untrusted issuer.  tls_cert_digest is exercised against real
 * certificates by test_conn (pinning) and serverinfo.sh (openssl's
 * fingerprint). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "tls_cert.h"

/* A digest whose bytes are all different, high nibbles included. */
static void sample(unsigned char md[TLS_CERT_FP_LEN])
{
	for (int i = 0; i < TLS_CERT_FP_LEN; i++)
		md[i] = (unsigned char)(i * 37 + 11);
}

static void fp__format_then_parse__same_digest(void **state)
{
	unsigned char md[TLS_CERT_FP_LEN], back[TLS_CERT_FP_LEN];
	char text[TLS_CERT_FP_TEXT_MAX];

	(void)state;
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < TLS_CERT_FP_LEN; i++)
			md[i] = (unsigned char)rand();
		tls_cert_fp_format(md, text);
		assert_int_equal(strlen(text), 7 + 64 + 31);
		assert_memory_equal(text, "sha256:", 7);
		assert_int_equal(tls_cert_fp_parse(text, back), 0);
		assert_memory_equal(back, md, TLS_CERT_FP_LEN);
	}
}

static void fp__format__upper_case_hex_with_colons(void **state)
{
	unsigned char md[TLS_CERT_FP_LEN];
	char text[TLS_CERT_FP_TEXT_MAX];
	char want[TLS_CERT_FP_TEXT_MAX];
	size_t n = 0;

	(void)state;
	sample(md);
	n += (size_t)snprintf(want + n, sizeof want - n, "sha256:");
	for (int i = 0; i < TLS_CERT_FP_LEN; i++)
		n += (size_t)snprintf(want + n, sizeof want - n, i > 0 ? ":%02X" : "%02X", md[i]);
	tls_cert_fp_format(md, text);
	assert_string_equal(text, want);
}

/* The forms popfetch.conf(5) allows: prefix optional, any case, colons
 * optional between bytes. */
static void fp__documented_forms__parse_to_the_digest(void **state)
{
	unsigned char md[TLS_CERT_FP_LEN], got[TLS_CERT_FP_LEN];
	char colons[TLS_CERT_FP_TEXT_MAX], plain[80], lower[80], some[120];
	size_t n = 0, m = 0;

	(void)state;
	sample(md);
	tls_cert_fp_format(md, colons);
	for (const char *p = colons + 7; *p != '\0'; p++)
		if (*p != ':')
			plain[n++] = *p;
	plain[n] = '\0';
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)(plain[i] >= 'A' && plain[i] <= 'F' ? plain[i] + 32 : plain[i]);
	/* colons after every second byte only */
	m += (size_t)snprintf(some, sizeof some, "SHA256:");
	for (size_t i = 0; i < n; i += 2)
		m += (size_t)snprintf(some + m, sizeof some - m, "%s%c%c", i > 0 && i % 4 == 0 ? ":" : "",
				      plain[i], plain[i + 1]);

	const char *forms[] = { colons, colons + 7, plain, lower, some };
	for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
		memset(got, 0, sizeof got);
		assert_int_equal(tls_cert_fp_parse(forms[k], got), 0);
		assert_memory_equal(got, md, TLS_CERT_FP_LEN);
	}
}

static void fp__near_misses__refused(void **state)
{
	unsigned char md[TLS_CERT_FP_LEN], got[TLS_CERT_FP_LEN];
	char good[TLS_CERT_FP_TEXT_MAX], bad[TLS_CERT_FP_TEXT_MAX + 8];

	(void)state;
	sample(md);
	tls_cert_fp_format(md, good);
	assert_int_equal(tls_cert_fp_parse("", got), -1);
	assert_int_equal(tls_cert_fp_parse("sha256:", got), -1);
	/* one byte short, one byte long */
	(void)snprintf(bad, sizeof bad, "%.*s", (int)strlen(good) - 3, good);
	assert_int_equal(tls_cert_fp_parse(bad, got), -1);
	(void)snprintf(bad, sizeof bad, "%s:AB", good);
	assert_int_equal(tls_cert_fp_parse(bad, got), -1);
	/* a colon first, last, doubled, or inside a byte */
	(void)snprintf(bad, sizeof bad, "sha256::%s", good + 7);
	assert_int_equal(tls_cert_fp_parse(bad, got), -1);
	(void)snprintf(bad, sizeof bad, "%s:", good);
	assert_int_equal(tls_cert_fp_parse(bad, got), -1);
	(void)snprintf(bad, sizeof bad, "%.9s:%s", good, good + 9);
	assert_int_equal(tls_cert_fp_parse(bad, got), -1);
	(void)snprintf(bad, sizeof bad, "%.8s:%s", good, good + 8);
	assert_int_equal(tls_cert_fp_parse(bad, got), -1);
	/* not hex; another digest's name */
	(void)snprintf(bad, sizeof bad, "%s", good);
	bad[20] = 'G';
	assert_int_equal(tls_cert_fp_parse(bad, got), -1);
	(void)snprintf(bad, sizeof bad, "sha1:%s", good + 7);
	assert_int_equal(tls_cert_fp_parse(bad, got), -1);
}

static void unknown_issuer__only_the_chain_to_a_ca_cases(void **state)
{
	static const long yes[] = {
		X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
		X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
		X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE,
	};
	static const long no[] = {
		X509_V_OK, X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH,
		X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID,
	};

	(void)state;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		assert_int_equal(tls_cert_unknown_issuer(yes[i]), 1);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		assert_int_equal(tls_cert_unknown_issuer(no[i]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fp__format_then_parse__same_digest),
		cmocka_unit_test(fp__format__upper_case_hex_with_colons),
		cmocka_unit_test(fp__documented_forms__parse_to_the_digest),
		cmocka_unit_test(fp__near_misses__refused),
		cmocka_unit_test(unknown_issuer__only_the_chain_to_a_ca_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
