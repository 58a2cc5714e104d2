/* oauth2_json.c - the small JSON reader and the PKCE helpers of oauth2.h.
 *
 * Token and device endpoints answer with one flat JSON object (RFC 6749
 * section 5.1, RFC 8628 section 3.2); a full JSON library would be more
 * code to trust than this.  The reader walks the text once, never writes
 * past cap, and bounds nesting so a hostile answer cannot recurse deeply. */
#include <string.h>

#include <openssl/evp.h>

#include "oauth2.h"
#include "util.h"

/* Deeper nesting than this is refused (no token response nests at all). */
#define JSON_DEPTH_MAX 8
/* Keys we look for are short; a longer key simply never matches. */
#define JSON_KEY_MAX 64

struct jp {
	const char *p, *end;
};

static void ws(struct jp *j)
{
	while (j->p < j->end && strchr(" \t\r\n", *j->p) != NULL && *j->p != '\0')
		j->p++;
}

/* Appends a byte to out while it fits; *fit drops to 0 when it does not. */
static void put(char *out, size_t cap, size_t *n, unsigned char c, int *fit)
{
	if (out != NULL && *n + 1 < cap)
		out[(*n)++] = (char)c;
	else
		*fit = 0;
}

static int hex4(struct jp *j, unsigned *u)
{
	*u = 0;
	for (int i = 0; i < 4; i++) {
		int h = j->p < j->end ? pf_hexval(*j->p) : -1;

		if (h < 0)
			return -1;
		*u = *u << 4 | (unsigned)h;
		j->p++;
	}
	return 0;
}

/* \uXXXX (after the "\u"), a surrogate pair joined (RFC 8259 section 7);
 * a lone surrogate becomes U+FFFD. */
static int unicode(struct jp *j, char *out, size_t cap, size_t *n, int *fit)
{
	unsigned u, lo;

	if (hex4(j, &u) < 0)
		return -1;
	if (u >= 0xD800 && u <= 0xDBFF && j->end - j->p >= 6 && j->p[0] == '\\' &&
	    j->p[1] == 'u') {
		struct jp save = *j;

		j->p += 2;
		if (hex4(j, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF)
			u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
		else
			*j = save;
	}
	if (u >= 0xD800 && u <= 0xDFFF)
		u = 0xFFFD;
	if (u == 0) {
		/* U+0000 would cut the C string short: a key holding it never
		 * matches ("access_token\u0000x" is not "access_token"), a
		 * value holding it is refused (found by fuzz_oauth2_json). */
		*fit = 0;
		return 0;
	}
	if (u < 0x80) {
		put(out, cap, n, (unsigned char)u, fit);
	} else if (u < 0x800) {
		put(out, cap, n, (unsigned char)(0xC0 | u >> 6), fit);
		put(out, cap, n, (unsigned char)(0x80 | (u & 0x3F)), fit);
	} else if (u < 0x10000) {
		put(out, cap, n, (unsigned char)(0xE0 | u >> 12), fit);
		put(out, cap, n, (unsigned char)(0x80 | ((u >> 6) & 0x3F)), fit);
		put(out, cap, n, (unsigned char)(0x80 | (u & 0x3F)), fit);
	} else {
		put(out, cap, n, (unsigned char)(0xF0 | u >> 18), fit);
		put(out, cap, n, (unsigned char)(0x80 | ((u >> 12) & 0x3F)), fit);
		put(out, cap, n, (unsigned char)(0x80 | ((u >> 6) & 0x3F)), fit);
		put(out, cap, n, (unsigned char)(0x80 | (u & 0x3F)), fit);
	}
	return 0;
}

static int escape(struct jp *j, char *out, size_t cap, size_t *n, int *fit)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;

	if (j->p >= j->end)
		return -1;
	if (*j->p == 'u') {
		j->p++;
		return unicode(j, out, cap, n, fit);
	}
	e = *j->p != '\0' ? strchr(from, *j->p) : NULL;
	if (e == NULL)
		return -1;
	put(out, cap, n, (unsigned char)to[e - from], fit);
	j->p++;
	return 0;
}

/* A string at j->p (the opening quote) into out (NULL: skip it).  Always
 * consumes the whole string; *fit says whether it fitted.  -1: malformed. */
static int jstring(struct jp *j, char *out, size_t cap, int *fit)
{
	size_t n = 0;

	*fit = 1;
	if (j->p >= j->end || *j->p != '"')
		return -1;
	for (j->p++; j->p < j->end; ) {
		unsigned char c = (unsigned char)*j->p++;

		if (c == '"') {
			if (out != NULL && cap > 0)
				out[n] = '\0';
			return 0;
		}
		if (c < 0x20)
			return -1; /* RFC 8259 section 7: control characters are escaped */
		if (c != '\\')
			put(out, cap, &n, c, fit);
		else if (escape(j, out, cap, &n, fit) < 0)
			return -1;
	}
	return -1;
}

/* A number, true, false or null, copied as written. */
static int jscalar(struct jp *j, char *out, size_t cap, int *fit)
{
	const char *start = j->p;
	size_t n = 0;

	*fit = 1;
	while (j->p < j->end && *j->p != '\0' && strchr("+-.0123456789eEtrufalsn", *j->p) != NULL)
		put(out, cap, &n, (unsigned char)*j->p++, fit);
	if (j->p == start)
		return -1;
	if (out != NULL && cap > 0)
		out[n < cap ? n : cap - 1] = '\0';
	return 0;
}

static int jskip(struct jp *j, int depth);

/* An object or array after its opening bracket, up to its closing one. */
static int jskip_container(struct jp *j, char close, int depth)
{
	int fit;

	ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (jstring(j, NULL, 0, &fit) < 0)
				return -1;
			ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return -1;
		}
		if (jskip(j, depth + 1) < 0)
			return -1;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return 0;
		}
		return -1;
	}
}

static int jskip(struct jp *j, int depth)
{
	int fit;

	ws(j);
	if (j->p >= j->end || depth > JSON_DEPTH_MAX)
		return -1;
	if (*j->p == '"')
		return jstring(j, NULL, 0, &fit);
	if (*j->p == '{' || *j->p == '[') {
		char close = *j->p == '{' ? '}' : ']';

		j->p++;
		return jskip_container(j, close, depth);
	}
	return jscalar(j, NULL, 0, &fit);
}

/* The value of the matching key: copied, or -1 when it cannot be. */
static int take_value(struct jp *j, char *out, size_t cap)
{
	int fit, rc;

	ws(j);
	if (j->p >= j->end || *j->p == '{' || *j->p == '[')
		return -1;
	rc = *j->p == '"' ? jstring(j, out, cap, &fit) : jscalar(j, out, cap, &fit);
	return rc == 0 && fit ? 1 : -1;
}

int oauth2_json_get(const char *json, size_t len, const char *key, char *out, size_t cap)
{
	struct jp j = { json, json + len };
	char k[JSON_KEY_MAX];
	int fit, found = 0;

	if (cap == 0)
		return -1;
	out[0] = '\0';
	/* Validate the whole object first: a truncated answer is refused
	 * even when the key came before the cut. */
	if (jskip(&j, 0) < 0 || (ws(&j), j.p != j.end))
		return -1;
	j.p = json;
	ws(&j);
	if (j.p >= j.end || *j.p++ != '{')
		return -1;
	ws(&j);
	while (j.p < j.end && *j.p != '}') {
		if (jstring(&j, k, sizeof k, &fit) < 0)
			return -1;
		ws(&j);
		j.p++; /* the ':' jskip checked */
		if (!found && fit && strcmp(k, key) == 0) {
			if (take_value(&j, out, cap) < 0)
				return -1;
			found = 1;
		} else if (jskip(&j, 1) < 0) {
			return -1;
		}
		ws(&j);
		if (j.p < j.end && *j.p == ',')
			j.p++;
		ws(&j);
	}
	return found;
}

/* --- PKCE (RFC 7636) -------------------------------------------------- */

int oauth2_pkce_challenge(const char *verifier, char *out, size_t cap)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	size_t n = 0;

	if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(), NULL) != 1)
		return -1;
	(void)EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
	/* RFC 7636 appendix A: base64url, no padding. */
	for (const char *s = b64; *s != '\0' && *s != '='; s++) {
		if (n + 1 >= cap)
			return -1;
		out[n++] = *s == '+' ? '-' : *s == '/' ? '_' : *s;
	}
	out[n] = '\0';
	return 0;
}
