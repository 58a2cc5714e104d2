/* sasl.c - see sasl.h. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "util.h"

#include "sasl.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A bounded output buffer: running over cap marks it failed rather than
 * writing past the end. */
struct out {
	unsigned char *p;
	size_t cap, len;
	int overflow;
};

static void put(struct out *o, const void *s, size_t n)
{
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static int finish(const struct out *o, size_t *len_r)
{
	if (o->overflow)
		return -1;
	*len_r = o->len;
	return 0;
}


const char *sasl_mech_name(enum auth_mech mech)
{
	static const char *const names[] = {
		[AUTH_AUTO] = "auto",	    [AUTH_USER] = "USER",
		[AUTH_PLAIN] = "PLAIN",	    [AUTH_LOGIN] = "LOGIN",
		[AUTH_CRAM_MD5] = "CRAM-MD5", [AUTH_APOP] = "APOP",
		[AUTH_XOAUTH2] = "XOAUTH2", [AUTH_OAUTHBEARER] = "OAUTHBEARER",
	};

	if ((unsigned)mech >= sizeof names / sizeof names[0])
		return "unknown";
	return names[mech];
}

enum auth_mech sasl_auto_mech(const struct pop3_capa *caps)
{
	if (caps->sasl_plain)
		return AUTH_PLAIN;
	if (caps->sasl_login)
		return AUTH_LOGIN;
	/* RFC 2449: a server that lists CAPA without USER may refuse it;
	 * CRAM-MD5 is then the one thing left that we can do with a
	 * password. */
	if (caps->have_capa && !caps->user && caps->sasl_cram_md5)
		return AUTH_CRAM_MD5;
	return AUTH_USER;
}

int sasl_server_lacks(const struct pop3_capa *caps, enum auth_mech mech)
{
	int any = caps->sasl_plain || caps->sasl_login || caps->sasl_cram_md5 ||
		  caps->sasl_xoauth2 || caps->sasl_oauthbearer;

	if (!any)
		return 0;
	switch (mech) {
	case AUTH_PLAIN:
		return !caps->sasl_plain;
	case AUTH_LOGIN:
		return !caps->sasl_login;
	case AUTH_CRAM_MD5:
		return !caps->sasl_cram_md5;
	case AUTH_XOAUTH2:
		return !caps->sasl_xoauth2;
	case AUTH_OAUTHBEARER:
		return !caps->sasl_oauthbearer;
	default:
		return 0; /* USER and APOP are not SASL */
	}
}

void sasl_offered(const struct pop3_capa *caps, char *buf, size_t cap)
{
	const struct {
		int on;
		const char *name;
	} m[] = {
		{ caps->sasl_plain, "PLAIN" },	 { caps->sasl_login, "LOGIN" },
		{ caps->sasl_cram_md5, "CRAM-MD5" }, { caps->sasl_xoauth2, "XOAUTH2" },
		{ caps->sasl_oauthbearer, "OAUTHBEARER" },
	};
	struct out o = { (unsigned char *)buf, cap > 0 ? cap - 1 : 0, 0, 0 };

	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		if (!m[i].on)
			continue;
		if (o.len > 0)
			put_str(&o, " ");
		put_str(&o, m[i].name);
	}
	if (o.len == 0)
		put_str(&o, "none");
	if (cap > 0)
		buf[o.overflow ? 0 : o.len] = '\0';
}

int sasl_b64_encode(const void *in, size_t len, char *out, size_t cap, size_t *len_r)
{
	const unsigned char *s = in;
	size_t need = 4 * ((len + 2) / 3), o = 0;

	if (len > (cap / 4) * 3 || need >= cap)
		return -1;
	for (size_t i = 0; i < len; i += 3) {
		unsigned long v = (unsigned long)s[i] << 16;

		if (i + 1 < len)
			v |= (unsigned long)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = i + 1 < len ? b64_alphabet[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	*len_r = o;
	return 0;
}

/* The value of one base64 character, -1 for anything else ('=' too). */
static int b64_value(char c)
{
	const char *hit = c != '\0' ? strchr(b64_alphabet, c) : NULL;

	return hit != NULL ? (int)(hit - b64_alphabet) : -1;
}

/* One group of four characters; pad is how many trailing '=' it has. */
static int b64_group(const char *g, int pad, unsigned char *out, size_t *n_r)
{
	unsigned long v = 0;

	for (int k = 0; k < 4; k++) {
		int d = k < 4 - pad ? b64_value(g[k]) : (g[k] == '=' ? 0 : -1);

		if (d < 0)
			return -1;
		v = v << 6 | (unsigned long)d;
	}
	/* RFC 4648 section 3.5: the bits under the padding must be zero. */
	if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
		return -1;
	out[0] = (unsigned char)(v >> 16);
	out[1] = (unsigned char)(v >> 8);
	out[2] = (unsigned char)v;
	*n_r = 3 - (size_t)pad;
	return 0;
}

int sasl_b64_decode(const char *in, size_t len, unsigned char *out, size_t cap,
		    size_t *len_r)
{
	size_t o = 0;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int pad = 0;
		unsigned char tmp[3];
		size_t n;

		if (i + 4 == len)
			pad = in[i + 3] != '=' ? 0 : in[i + 2] != '=' ? 1 : 2;
		if (b64_group(in + i, pad, tmp, &n) < 0 || n > cap - o)
			return -1;
		memcpy(out + o, tmp, n);
		o += n;
	}
	*len_r = o;
	return 0;
}

int sasl_plain(const char *user, const char *secret, unsigned char *out, size_t cap,
	       size_t *len_r)
{
	struct out o = { out, cap, 0, 0 };

	/* RFC 4616 section 2: [authzid] NUL authcid NUL passwd. */
	put(&o, "", 1);
	put(&o, user, strlen(user) + 1);
	put_str(&o, secret);
	return finish(&o, len_r);
}

int sasl_xoauth2(const char *user, const char *token, unsigned char *out, size_t cap,
		 size_t *len_r)
{
	struct out o = { out, cap, 0, 0 };

	if (pf_has_ctl(user) || pf_has_ctl(token))
		return -1;
	put_str(&o, "user=");
	put_str(&o, user);
	put_str(&o, "\001auth=Bearer ");
	put_str(&o, token);
	put_str(&o, "\001\001");
	return finish(&o, len_r);
}

/* RFC 5801 section 5.1: saslname escapes ',' and '=' in the authzid. */
static void put_saslname(struct out *o, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == ',')
			put_str(o, "=2C");
		else if (*s == '=')
			put_str(o, "=3D");
		else
			put(o, s, 1);
	}
}

int sasl_oauthbearer(const char *user, const char *host, const char *port,
		     const char *token, unsigned char *out, size_t cap, size_t *len_r)
{
	struct out o = { out, cap, 0, 0 };

	if (pf_has_ctl(user) || pf_has_ctl(token) || (host != NULL && pf_has_ctl(host)) ||
	    (port != NULL && pf_has_ctl(port)))
		return -1;
	/* gs2-header: no channel binding ("n"), authzid the user. */
	put_str(&o, "n,a=");
	put_saslname(&o, user);
	put_str(&o, ",\001");
	if (host != NULL) {
		put_str(&o, "host=");
		put_str(&o, host);
		put_str(&o, "\001");
	}
	if (port != NULL) {
		put_str(&o, "port=");
		put_str(&o, port);
		put_str(&o, "\001");
	}
	put_str(&o, "auth=Bearer ");
	put_str(&o, token);
	put_str(&o, "\001\001");
	return finish(&o, len_r);
}

void sasl_oauth_abort(enum auth_mech mech, unsigned char *out, size_t *len_r)
{
	*len_r = 0;
	if (mech == AUTH_OAUTHBEARER) {
		out[0] = 0x01;
		*len_r = 1;
	}
}

static void to_hex(const unsigned char *md, unsigned n, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * n] = '\0';
}

int sasl_cram_md5(const char *user, const char *secret, const unsigned char *challenge,
		  size_t challenge_len, unsigned char *out, size_t cap, size_t *len_r)
{
	struct out o = { out, cap, 0, 0 };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[SASL_MD5_HEX_SIZE];
	int rc;

	if (HMAC(EVP_md5(), secret, (int)strlen(secret), challenge, challenge_len, md,
		 &mdlen) == NULL || mdlen != 16)
		return -1;
	to_hex(md, mdlen, hex);
	put_str(&o, user);
	put_str(&o, " ");
	put_str(&o, hex);
	rc = finish(&o, len_r);
	pf_wipe(md, sizeof md);
	pf_wipe(hex, sizeof hex);
	return rc;
}

int sasl_apop_digest(const char *timestamp, const char *secret, char *hex_r)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int ok;

	ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, timestamp, strlen(timestamp)) == 1 &&
	     EVP_DigestUpdate(ctx, secret, strlen(secret)) == 1 &&
	     EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 16;
	EVP_MD_CTX_free(ctx);
	if (ok)
		to_hex(md, mdlen, hex_r);
	pf_wipe(md, sizeof md);
	return ok ? 0 : -1;
}
