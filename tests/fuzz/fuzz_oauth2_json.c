/* fuzz_oauth2_json.c - libFuzzer target for oauth2_json_get (oauth2_json.c),
 * the parser of what an OAuth2 token or device endpoint answers: text from
 * the network, read before anything else checks it.
 *
 * Properties on every input:
 *  1. The input, in a heap buffer of exactly its size (ASan sees any read
 *     past it), looked up for a few keys: the result is -1, 0 or 1, and a
 *     found value is NUL-terminated within cap.
 *  2. Cap only decides whether a value fits: a value found with the big
 *     cap is found with a small cap exactly when it is shorter than that
 *     cap, and then it is the same string; -1 or 0 with the big cap give
 *     the same with the small one.
 *  3. The input as a JSON string: every byte escaped (\uXXXX for control
 *     characters, \" and \\), inside {"k": ...}.  When the input is
 *     printable ASCII the lookup of "k" must give back the input exactly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)             \
	do {                    \
		if (!(cond))    \
			abort(); \
	} while (0)

#define BIG 4096
#define SMALL 8

static void lookup(const char *json, size_t len, const char *key)
{
	static char big[BIG], small[SMALL];
	int rb, rs;

	memset(big, 'x', sizeof big);
	rb = oauth2_json_get(json, len, key, big, sizeof big);
	CHECK(rb >= -1 && rb <= 1);
	if (rb == 1)
		CHECK(memchr(big, '\0', sizeof big) != NULL);
	rs = oauth2_json_get(json, len, key, small, sizeof small);
	if (rb == 1 && strlen(big) < SMALL) {
		CHECK(rs == 1);
		CHECK(strcmp(big, small) == 0);
	} else if (rb == 1) {
		CHECK(rs == -1);
	} else {
		CHECK(rs == rb);
	}
}

static void as_string(const uint8_t *data, size_t size)
{
	size_t cap = 16 + 6 * size, n = 0, i;
	char *json = malloc(cap), *out = malloc(size + 1);
	int printable = 1, r;

	CHECK(json != NULL && out != NULL);
	n += (size_t)snprintf(json, cap, "{\"k\": \"");
	for (i = 0; i < size; i++) {
		unsigned char c = data[i];

		printable &= c >= 0x20 && c < 0x7f;
		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(json + n, cap - n, "\\u%04x", c);
		else if (c == '"' || c == '\\')
			n += (size_t)snprintf(json + n, cap - n, "\\%c", c);
		else
			json[n++] = (char)c;
	}
	n += (size_t)snprintf(json + n, cap - n, "\"}");
	r = oauth2_json_get(json, n, "k", out, size + 1);
	if (printable) {
		CHECK(r == 1);
		CHECK(strlen(out) == size && memcmp(out, data, size) == 0);
	}
	free(json);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	static const char *const keys[] = { "access_token", "expires_in", "error", "k", "" };

	CHECK(copy != NULL);
	memcpy(copy, data, size);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		lookup(copy, size, keys[i]);
	free(copy);
	if (size <= 1024)
		as_string(data, size);
	return 0;
}
