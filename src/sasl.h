/* sasl.h - the client side of POP3 authentication as pure functions: the
 * messages of SASL PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login),
 * CRAM-MD5 (RFC 2195), XOAUTH2 (Google's and Microsoft's), OAUTHBEARER
 * (RFC 7628), the APOP digest (RFC 1939 section 7), strict base64
 * (RFC 4648) and the rule `auth = auto` follows.  No I/O: pop3.c drives
 * the exchange.
 *
 * Every builder writes into a caller's buffer of cap bytes and fails (-1,
 * nothing promised about out) when the result does not fit or an input
 * holds a byte the mechanism cannot carry; it never truncates.  Outputs
 * hold secrets: callers wipe them (pf_wipe). */
#ifndef POPFETCH_SASL_H
#define POPFETCH_SASL_H

#include <stddef.h>

#include "config.h"
#include "pop3_reply.h"

/* Hex MD5 and HMAC-MD5 digests: 32 characters and a NUL. */
#define SASL_MD5_HEX_SIZE 33

/* The name of mech as the protocol spells it: "PLAIN", "CRAM-MD5", ...;
 * "USER" and "APOP" for the RFC 1939 commands, "auto" for AUTH_AUTO. */
const char *sasl_mech_name(enum auth_mech mech);

/* What `auth = auto` uses with these capabilities: PLAIN, else LOGIN
 * (both send the password, which TLS protects; PLAIN takes one round
 * trip), else USER/PASS when offered or when the server has no CAPA,
 * else CRAM-MD5 when that is all the server offers, else USER/PASS.
 * APOP (MD5), XOAUTH2 and OAUTHBEARER (the secret is a token, not a
 * password) are used only when asked for. */
enum auth_mech sasl_auto_mech(const struct pop3_capa *caps);

/* 1 when the server's CAPA lists SASL mechanisms popfetch knows and mech,
 * a SASL mechanism, is not among them: AUTH would only be refused.  0
 * otherwise (also when the server lists none: it may still accept). */
int sasl_server_lacks(const struct pop3_capa *caps, enum auth_mech mech);

/* The SASL mechanisms popfetch knows that caps lists, space-separated
 * ("PLAIN LOGIN"; "none" when there are none), into buf (cap bytes,
 * always NUL-terminated; 48 bytes hold them all). */
void sasl_offered(const struct pop3_capa *caps, char *buf, size_t cap);

/* base64 of in[0..len) into out, NUL-terminated; *len_r excludes the NUL.
 * 0 or -1 (does not fit in cap). */
int sasl_b64_encode(const void *in, size_t len, char *out, size_t cap, size_t *len_r);

/* Strict base64 decoding of untrusted in[0..len): the RFC 4648 alphabet,
 * padding required, no whitespace, zero unused bits.  Writes *len_r bytes
 * (no NUL added).  0 or -1 (invalid, or does not fit in cap). */
int sasl_b64_decode(const char *in, size_t len, unsigned char *out, size_t cap,
		    size_t *len_r);

/* PLAIN: "" NUL user NUL secret (no authorization identity).  0 or -1. */
int sasl_plain(const char *user, const char *secret, unsigned char *out, size_t cap,
	       size_t *len_r);

/* XOAUTH2: "user=" user ^A "auth=Bearer " token ^A ^A.  -1 also when user
 * or token holds a control character. */
int sasl_xoauth2(const char *user, const char *token, unsigned char *out, size_t cap,
		 size_t *len_r);

/* OAUTHBEARER (RFC 7628 section 3.1): "n,a=" user "," ^A ["host=" host ^A]
 * ["port=" port ^A] "auth=Bearer " token ^A ^A, the user escaped as an
 * RFC 5801 saslname (',' as "=2C", '=' as "=3D").  host and port may be
 * NULL (they are optional).  -1 also on a control character. */
int sasl_oauthbearer(const char *user, const char *host, const char *port,
		     const char *token, unsigned char *out, size_t cap, size_t *len_r);

/* The reply to an XOAUTH2 / OAUTHBEARER error challenge, which lets the
 * server finish with -ERR: empty for XOAUTH2 (Google's and Microsoft's
 * documentation), a single 0x01 for OAUTHBEARER (RFC 7628 section 3.2.3).
 * *len_r is 0 or 1; out needs room for 1 byte. */
void sasl_oauth_abort(enum auth_mech mech, unsigned char *out, size_t *len_r);

/* CRAM-MD5 (RFC 2195): user " " hex(HMAC-MD5(secret, challenge)), the
 * challenge being the server's decoded, untrusted bytes.  0 or -1. */
int sasl_cram_md5(const char *user, const char *secret, const unsigned char *challenge,
		  size_t challenge_len, unsigned char *out, size_t cap, size_t *len_r);

/* APOP (RFC 1939 section 7): hex(MD5(timestamp secret)) into
 * hex_r[SASL_MD5_HEX_SIZE].  0 or -1 (OpenSSL failed). */
int sasl_apop_digest(const char *timestamp, const char *secret, char *hex_r);

#endif
