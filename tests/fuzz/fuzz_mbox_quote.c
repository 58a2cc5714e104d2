/* fuzz_mbox_quote.c - libFuzzer target for the mboxrd writer
 * (delivery_mbox_fmt.c), the part of the mbox destination that sees
 * untrusted message bytes.
 *
 * Input layout: byte 0 and 1 give a split point (modulo the data length),
 * the rest is a message.  It is quoted in one call and in two chunks
 * split there; both must agree byte for byte.  The result must hold no
 * line starting with "From " (a reader would split the message there),
 * end with the blank line that ends an mboxrd message, and give the
 * message back (plus a final LF if it had none) when unquoted as a reader
 * does.  mbox_sender and mbox_header_end must stay within their bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "delivery_mbox_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)             \
	do {                    \
		if (!(cond))    \
			abort(); \
	} while (0)

struct buf {
	char *p;
	size_t len, cap;
};

static int put(void *ctx, const void *src, size_t len)
{
	struct buf *b = ctx;

	CHECK(b->len + len <= b->cap);
	memcpy(b->p + b->len, src, len);
	b->len += len;
	return 0;
}

/* The reader's side: one '>' less on every line matching ^>+From . */
static size_t unquote(const char *in, size_t len, char *out)
{
	size_t o = 0, i = 0;

	while (i < len) {
		size_t g = 0;

		while (i + g < len && in[i + g] == '>')
			g++;
		if (g > 0 && i + g + 5 <= len && memcmp(in + i + g, "From ", 5) == 0)
			i++;
		while (i < len) {
			out[o++] = in[i];
			if (in[i++] == '\n')
				break;
		}
	}
	return o;
}

static void quote_all(const char *msg, size_t len, size_t cut, struct buf *b)
{
	struct mbox_quote q;

	mbox_quote_init(&q);
	CHECK(mbox_quote(&q, msg, cut, put, b) == 0);
	CHECK(mbox_quote(&q, msg + cut, len - cut, put, b) == 0);
	CHECK(mbox_quote_end(&q, put, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Every line may gain one '>', plus a final LF and the blank line. */
	size_t len, cut, cap, back_len;
	const char *msg;
	struct buf one, two;
	char sender[MBOX_SENDER_MAX], *back;

	if (size < 2)
		return 0;
	msg = (const char *)data + 2;
	len = size - 2;
	cut = len ? (((size_t)data[0] << 8) | data[1]) % (len + 1) : 0;
	cap = 2 * len + 2;
	one = (struct buf){ malloc(cap), 0, cap };
	two = (struct buf){ malloc(cap), 0, cap };
	back = malloc(cap);
	CHECK(one.p != NULL && two.p != NULL && back != NULL);
	quote_all(msg, len, len, &one);
	quote_all(msg, len, cut, &two);
	CHECK(one.len == two.len && memcmp(one.p, two.p, one.len) == 0);
	CHECK(one.len >= 1 && one.p[one.len - 1] == '\n');
	CHECK(one.len < 2 || one.p[one.len - 2] == '\n');
	for (size_t i = 0; i + 5 <= one.len; i++)
		CHECK((i > 0 && one.p[i - 1] != '\n') || memcmp(one.p + i, "From ", 5) != 0);
	back_len = unquote(one.p, one.len - 1, back);
	CHECK(back_len == len + (len > 0 && msg[len - 1] != '\n'));
	CHECK(len == 0 || memcmp(back, msg, len) == 0);
	mbox_sender(msg, len, sender, sizeof sender);
	CHECK(strlen(sender) > 0 && strlen(sender) < sizeof sender);
	for (const char *p = sender; *p; p++)
		CHECK((unsigned char)*p >= 0x21 && (unsigned char)*p <= 0x7e);
	CHECK(mbox_header_end(msg, len) <= len);
	free(one.p);
	free(two.p);
	free(back);
	return 0;
}
