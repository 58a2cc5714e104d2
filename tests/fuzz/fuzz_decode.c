/* fuzz_decode.c - libFuzzer target for the multi-line decoder (decode.c).
 *
 * Input layout: byte 0 gives how many chunk sizes follow (0..7), the next
 * bytes are those sizes (0..255, used in turn), the rest is the server's
 * data.  The data is decoded once in one call and once split into those
 * chunks; both must agree byte for byte, in consumption and in the
 * counters, and every call must keep the decode_feed contract.  Each call
 * gets an output buffer of exactly inlen + 2 bytes so ASan sees an overrun. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)             \
	do {                    \
		if (!(cond))    \
			abort(); \
	} while (0)

struct run {
	char *out;
	size_t outlen;
	size_t used;
	struct decode d;
};

/* One call of decode_feed on a private copy of the chunk, checked. */
static void feed(struct run *r, const char *in, size_t len)
{
	char *chunk = malloc(len ? len : 1), *out = malloc(len + 2);
	size_t outlen = (size_t)-1, used;
	int was_done = decode_done(&r->d);

	CHECK(chunk != NULL && out != NULL);
	if (len > 0)
		memcpy(chunk, in, len);
	used = decode_feed(&r->d, chunk, len, out, &outlen);
	CHECK(used <= len && outlen <= len + 2);
	CHECK(decode_done(&r->d) || used == len);
	CHECK(!was_done || (used == 0 && outlen == 0));
	memcpy(r->out + r->outlen, out, outlen);
	r->outlen += outlen;
	r->used += used;
	free(chunk);
	free(out);
}

static void run_init(struct run *r, size_t len)
{
	r->out = malloc(len + 16);
	CHECK(r->out != NULL);
	r->outlen = 0;
	r->used = 0;
	decode_init(&r->d);
}

static uint64_t count_lf(const char *s, size_t len)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sizes;
	const char *in;
	size_t nsizes, len, pos = 0, k = 0, zeros = 0;
	struct run once, split;

	if (size < 1)
		return 0;
	nsizes = data[0] % 8;
	if (size < 1 + nsizes)
		return 0;
	sizes = data + 1;
	in = (const char *)data + 1 + nsizes;
	len = size - 1 - nsizes;

	run_init(&once, len);
	feed(&once, in, len);
	run_init(&split, len);
	while (pos < len && !decode_done(&split.d)) {
		size_t c = nsizes ? sizes[k++ % nsizes] : 1;

		if (c == 0 && ++zeros > 4)
			c = 1; /* empty chunks are legal, but keep moving */
		if (c > len - pos)
			c = len - pos;
		feed(&split, in + pos, c);
		pos += c;
	}
	feed(&split, in + pos, len - pos); /* a done decoder takes nothing */

	CHECK(once.outlen == split.outlen);
	CHECK(memcmp(once.out, split.out, once.outlen) == 0);
	CHECK(once.used == split.used);
	CHECK(decode_done(&once.d) == decode_done(&split.d));
	CHECK(once.d.out_bytes == once.outlen && split.d.out_bytes == split.outlen);
	CHECK(once.d.out_lines == count_lf(once.out, once.outlen));
	CHECK(split.d.out_lines == once.d.out_lines);
	free(once.out);
	free(split.out);
	return 0;
}
