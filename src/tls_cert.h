/* tls_cert.h - what popfetch knows about a server certificate, said once
 * for the three places that need it: the poll's check (conn_tls.c), the
 * report of --serverinfo (serverinfo.c) and the config's check of
 * tls_fingerprint (config_opts.c).
 *
 * Promises: one syntax for a SHA-256 fingerprint, so a value the config
 * accepts is exactly a value the connection can pin; one text form, the
 * one --serverinfo prints for pasting into tls_fingerprint; one reading of
 * a verification result as "the issuer is not trusted".  Pure functions:
 * no state, no allocation. */
#ifndef POPFETCH_TLS_CERT_H
#define POPFETCH_TLS_CERT_H

#include "error.h"

/* A SHA-256 digest, and its text "sha256:" + "AB:" * 32 with the NUL. */
#define TLS_CERT_FP_LEN 32
#define TLS_CERT_FP_TEXT_MAX (sizeof "sha256:" + TLS_CERT_FP_LEN * 3)

struct x509_st;

/* Parses a tls_fingerprint value: "sha256:" (optional, any case), then 32
 * bytes in hex (any case), colons optional but only between bytes.  0 with
 * the digest in md_r, or -1 when s is malformed (md_r undefined then). */
int tls_cert_fp_parse(const char *s, unsigned char md_r[TLS_CERT_FP_LEN]) PF_MUST_CHECK;

/* The text form "sha256:AB:CD:..." (upper case, 95 characters). */
void tls_cert_fp_format(const unsigned char md[TLS_CERT_FP_LEN],
			char out[TLS_CERT_FP_TEXT_MAX]);

/* The SHA-256 digest of cert (DER) into md_r: 0, or -1 when OpenSSL
 * cannot compute it (its error queue says why). */
int tls_cert_digest(struct x509_st *cert, unsigned char md_r[TLS_CERT_FP_LEN]) PF_MUST_CHECK;

/* 1 when an X509_V_ERR_* result means the chain does not lead to a
 * trusted CA (self-signed, issuer unknown or missing), else 0: the case
 * where the advice is "trust the CA (tls_ca_file) or pin the certificate". */
int tls_cert_unknown_issuer(long verify_result);

#endif
