/* tls_cert.c - see tls_cert.h. */
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tls_cert.h"
#include "util.h"

int tls_cert_fp_parse(const char *s, unsigned char md_r[TLS_CERT_FP_LEN])
{
	size_t nib = 0;
	int prev_colon = 1; /* no colon first */

	if (strncasecmp(s, "sha256:", 7) == 0)
		s += 7;
	for (; *s != '\0'; s++) {
		int v = pf_hexval((unsigned char)*s);

		if (*s == ':') {
			if (prev_colon || nib % 2 != 0)
				return -1;
			prev_colon = 1;
			continue;
		}
		if (v < 0 || nib >= TLS_CERT_FP_LEN * 2)
			return -1;
		if (nib % 2 == 0)
			md_r[nib / 2] = (unsigned char)(v << 4);
		else
			md_r[nib / 2] |= (unsigned char)v;
		nib++;
		prev_colon = 0;
	}
	return nib == TLS_CERT_FP_LEN * 2 && !prev_colon ? 0 : -1;
}

void tls_cert_fp_format(const unsigned char md[TLS_CERT_FP_LEN], char out[TLS_CERT_FP_TEXT_MAX])
{
	static const char hex[] = "0123456789ABCDEF";
	char *p = out;
	size_t i;

	memcpy(p, "sha256:", 7);
	p += 7;
	for (i = 0; i < TLS_CERT_FP_LEN; i++) {
		if (i > 0)
			*p++ = ':';
		*p++ = hex[md[i] >> 4];
		*p++ = hex[md[i] & 15];
	}
	*p = '\0';
}

int tls_cert_digest(X509 *cert, unsigned char md_r[TLS_CERT_FP_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (X509_digest(cert, EVP_sha256(), md, &n) != 1 || n != TLS_CERT_FP_LEN)
		return -1;
	memcpy(md_r, md, TLS_CERT_FP_LEN);
	return 0;
}

int tls_cert_unknown_issuer(long vr)
{
	return vr == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	       vr == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
	       vr == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	       vr == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	       vr == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}
