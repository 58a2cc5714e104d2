/* test_decode.c - the POP3 multi-line decoder (decode.c): expected output
 * of tricky inputs, the same output for every split of the input (one and
 * two split points, byte by byte), the counters, the bytes after the
 * terminator left alone, a 5 MB line, and random inputs compared with a
 * deliberately simple reference decoder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "decode.h"

/* What a whole decoding produced. */
struct result {
	char *out;
	size_t outlen;
	size_t used; /* input bytes consumed */
	int done;
	uint64_t out_bytes;
	uint64_t out_lines;
};

static void result_free(struct result *r)
{
	free(r->out);
	r->out = NULL;
}

/* Feeds in[0..len) cut at cuts[0..ncuts) (ascending), each chunk through an
 * output buffer of exactly chunk + 2 bytes (so ASan sees any overrun), until
 * the decoder is done.  Checks the per-call contract on the way. */
static struct result run_cuts(const char *in, size_t len, const size_t *cuts, size_t ncuts)
{
	struct result r = { NULL, 0, 0, 0, 0, 0 };
	struct decode d;
	size_t k, start = 0;

	r.out = malloc(len + 2 * (ncuts + 1) + 1);
	assert_non_null(r.out);
	decode_init(&d);
	for (k = 0; k <= ncuts && !decode_done(&d); k++) {
		size_t end = k < ncuts ? cuts[k] : len;
		size_t clen = end - start, outlen = 12345, used;
		char *chunk = malloc(clen ? clen : 1), *out = malloc(clen + 2);

		assert_true(chunk != NULL && out != NULL);
		memcpy(chunk, in + start, clen);
		used = decode_feed(&d, chunk, clen, out, &outlen);
		assert_true(outlen <= clen + 2);
		assert_true(used <= clen);
		if (!decode_done(&d))
			assert_int_equal(used, clen); /* all consumed unless done */
		memcpy(r.out + r.outlen, out, outlen);
		r.outlen += outlen;
		r.used += used;
		free(chunk);
		free(out);
		start = end;
	}
	r.done = decode_done(&d);
	r.out_bytes = d.out_bytes;
	r.out_lines = d.out_lines;
	return r;
}

static struct result run_once(const char *in, size_t len)
{
	return run_cuts(in, len, NULL, 0);
}

static uint64_t count_lf(const char *s, size_t len)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

static void assert_same(const struct result *a, const struct result *b)
{
	assert_int_equal(a->outlen, b->outlen);
	assert_memory_equal(a->out, b->out, a->outlen);
	assert_int_equal(a->used, b->used);
	assert_int_equal(a->done, b->done);
	assert_int_equal(a->out_bytes, b->out_bytes);
	assert_int_equal(a->out_lines, b->out_lines);
}

/* Every split of in: at one point, at every pair of points, byte by byte;
 * each must equal the one-shot result. */
static void check_all_splits(const char *in, size_t len, const struct result *once)
{
	size_t i, j, *cuts = malloc((len ? len : 1) * sizeof *cuts);
	struct result r;

	assert_non_null(cuts);
	for (i = 0; i <= len; i++) {
		for (j = i; j <= len; j++) {
			size_t c[2] = { i, j };

			r = run_cuts(in, len, c, 2);
			assert_same(&r, once);
			result_free(&r);
		}
	}
	for (i = 0; i + 1 < len; i++)
		cuts[i] = i + 1;
	r = run_cuts(in, len, cuts, len ? len - 1 : 0);
	assert_same(&r, once);
	result_free(&r);
	free(cuts);
}

/* A literal with its length (inputs hold NUL bytes). */
#define LIT(s) s, sizeof(s) - 1

struct tricky {
	const char *name;
	const char *in;
	size_t inlen;
	const char *out;
	size_t outlen;
	size_t used; /* input consumed: up to the end of the terminator */
	int done;    /* the terminator is in the input */
};

static const struct tricky cases[] = {
	{ "plain", LIT("hello\r\nworld\r\n.\r\n"), LIT("hello\nworld\n"), 17, 1 },
	{ "empty message", LIT(".\r\n"), LIT(""), 3, 1 },
	{ "line exactly ..", LIT("a\r\n..\r\n.\r\n"), LIT("a\n.\n"), 10, 1 },
	{ "stuffed dots", LIT("...x\r\n..\r\n.\r\n"), LIT("..x\n.\n"), 13, 1 },
	{ "unstuffed leading dot dropped", LIT(".x\r\n. \r\n.\r\n"), LIT("x\n \n"), 11, 1 },
	{ "dot not at line start", LIT("x.\r\nx..\r\n.\r\n"), LIT("x.\nx..\n"), 12, 1 },
	{ "bare CR kept", LIT("a\rb\r\n\r\r\n.\r\n"), LIT("a\rb\n\r\n"), 11, 1 },
	{ "CR then dot is not a dot line", LIT("\r.\r\n.\r\n"), LIT("\r.\n"), 7, 1 },
	{ "dot CR text", LIT(".\rX\r\n.\r.\r\n.\r\n"), LIT("\rX\n\r.\n"), 13, 1 },
	{ "dot CR CR LF", LIT(".\r\r\n.\r\n"), LIT("\r\n"), 7, 1 },
	{ "bare LF lines and terminator", LIT("a\nb\n\n.\n"), LIT("a\nb\n\n"), 7, 1 },
	{ "mixed LF then CRLF terminator", LIT("a\n..\n.\r\n"), LIT("a\n.\n"), 8, 1 },
	{ "blank lines", LIT("\r\n\r\n.\r\n"), LIT("\n\n"), 7, 1 },
	{ "NUL bytes", LIT("a\0b\r\n\0\r\n.\0\r\n.\r\n"), LIT("a\0b\n\0\n\0\n"), 15, 1 },
	/* The last line had no newline in the file: the server still ends it
	 * with CRLF before ".", so it gains one (RFC 1939 section 3). */
	{ "last line without newline", LIT("Subject: x\r\n\r\nbody\r\n.\r\n"),
	  LIT("Subject: x\n\nbody\n"), 23, 1 },
	{ "pipelined reply follows", LIT("m\r\n.\r\n+OK 12 octets\r\n"), LIT("m\n"), 6, 1 },
	{ "empty message then reply", LIT(".\r\n+OK\r\n.\r\n"), LIT(""), 3, 1 },
	{ "dot line then more dots", LIT(".\r\n..\r\n"), LIT(""), 3, 1 },
	{ "no terminator yet", LIT("abc\r\n..de\r"), LIT("abc\n.de"), 10, 0 },
	{ "lone dot pending", LIT("abc\r\n."), LIT("abc\n"), 6, 0 },
	{ "lone dot CR pending", LIT("abc\r\n.\r"), LIT("abc\n"), 7, 0 },
};

static void tricky_inputs__split_anywhere__give_expected_output(void **state)
{
	(void)state;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		const struct tricky *t = &cases[k];
		struct result once = run_once(t->in, t->inlen);

		print_message("case: %s\n", t->name);
		assert_int_equal(once.outlen, t->outlen);
		assert_memory_equal(once.out, t->out, t->outlen);
		assert_int_equal(once.used, t->used);
		assert_int_equal(once.done, t->done);
		assert_int_equal(once.out_bytes, t->outlen);
		assert_int_equal(once.out_lines, count_lf(t->out, t->outlen));
		check_all_splits(t->in, t->inlen, &once);
		result_free(&once);
	}
}

static void terminator__followed_by_reply__leaves_reply_unconsumed(void **state)
{
	(void)state;
	static const char in[] = "x\r\n.\r\n+OK next\r\n";
	char out[sizeof in + 2];
	struct decode d;
	size_t outlen, used;

	(void)state;
	decode_init(&d);
	used = decode_feed(&d, in, sizeof in - 1, out, &outlen);
	assert_int_equal(used, 6);
	assert_true(decode_done(&d));
	assert_string_equal(in + used, "+OK next\r\n");
	/* A done decoder takes nothing more and writes nothing. */
	used = decode_feed(&d, in + used, sizeof in - 1 - used, out, &outlen);
	assert_int_equal(used, 0);
	assert_int_equal(outlen, 0);
	assert_int_equal(d.out_bytes, 2);
	assert_int_equal(d.out_lines, 1);
}

static void held_cr__at_chunk_end__is_written_with_next_chunk(void **state)
{
	(void)state;
	char out[16];
	struct decode d;
	size_t outlen, used;

	(void)state;
	decode_init(&d);
	used = decode_feed(&d, "ab\r", 3, out, &outlen);
	assert_int_equal(used, 3);
	assert_int_equal(outlen, 2);
	assert_memory_equal(out, "ab", 2);
	used = decode_feed(&d, "c", 1, out, &outlen); /* inlen + 2 = 3 room */
	assert_int_equal(used, 1);
	assert_int_equal(outlen, 2);
	assert_memory_equal(out, "\rc", 2);
	used = decode_feed(&d, "", 0, out, &outlen);
	assert_int_equal(used, 0);
	assert_int_equal(outlen, 0);
	assert_false(decode_done(&d));
	assert_int_equal(d.out_bytes, 4);
	assert_int_equal(d.out_lines, 0);
}

static void counters__accumulate_over_messages_until_init(void **state)
{
	(void)state;
	char out[64];
	struct decode d;
	size_t outlen;

	(void)state;
	decode_init(&d);
	(void)decode_feed(&d, "a\r\nbc\r\n", 7, out, &outlen);
	(void)decode_feed(&d, "\r\n.\r\n", 5, out, &outlen);
	assert_int_equal(d.out_bytes, 6);
	assert_int_equal(d.out_lines, 3);
	decode_init(&d);
	assert_false(decode_done(&d));
	assert_int_equal(d.out_bytes, 0);
	assert_int_equal(d.out_lines, 0);
}

/* 5 MB in one line, stuffed, fed in the connection's chunk size. */
static void long_line__5mb__passes_through(void **state)
{
	(void)state;
	const size_t n = 5u * 1024 * 1024;
	size_t len = 2 + n + 5, start, total = 0, i, used, outlen;
	char *in = malloc(len), *out = malloc(len + 2), *chunk_out;
	struct decode d;

	(void)state;
	assert_true(in != NULL && out != NULL);
	chunk_out = malloc(PF_IOBUF_SIZE + 2);
	assert_non_null(chunk_out);
	memcpy(in, "..", 2);
	for (i = 0; i < n; i++)
		in[2 + i] = (char)('A' + i % 26);
	memcpy(in + 2 + n, "\r\n.\r\n", 5);
	decode_init(&d);
	for (start = 0; start < len && !decode_done(&d); start += used) {
		size_t clen = len - start < PF_IOBUF_SIZE ? len - start : PF_IOBUF_SIZE;

		used = decode_feed(&d, in + start, clen, chunk_out, &outlen);
		memcpy(out + total, chunk_out, outlen);
		total += outlen;
	}
	assert_true(decode_done(&d));
	assert_int_equal(start, len);
	assert_int_equal(total, n + 2);
	assert_int_equal(out[0], '.');
	assert_memory_equal(out + 1, in + 2, n);
	assert_int_equal(out[n + 1], '\n');
	assert_int_equal(d.out_bytes, n + 2);
	assert_int_equal(d.out_lines, 1);
	free(in);
	free(out);
	free(chunk_out);
}

/* The reference: whole input at once, line by line, as RFC 1939 reads. */
static struct result reference(const char *in, size_t len)
{
	struct result r = { malloc(len + 1), 0, 0, 0, 0, 0 };
	size_t pos = 0;

	assert_non_null(r.out);
	while (pos < len) {
		const char *nl = memchr(in + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - in) : len, b = pos, e = end;

		if (e > b && in[e - 1] == '\r')
			e--; /* CRLF; or a CR still waiting for its successor */
		if (nl && e - b == 1 && in[b] == '.') {
			r.done = 1;
			pos = end + 1;
			break;
		}
		if (e > b && in[b] == '.')
			b++;
		memcpy(r.out + r.outlen, in + b, e - b);
		r.outlen += e - b;
		if (nl)
			r.out[r.outlen++] = '\n';
		pos = nl ? end + 1 : len;
	}
	r.used = pos;
	r.out_bytes = r.outlen;
	r.out_lines = count_lf(r.out, r.outlen);
	return r;
}

/* xorshift64: the same sequence on every libc. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void random_inputs__random_splits__match_reference(void **state)
{
	(void)state;
	static const char alphabet[] = { '.', '.', '\r', '\r', '\n', '\n', 'a', '\0', 'b', ' ' };
	uint64_t seed = 0x5eed1939u;
	char in[300];
	size_t cuts[8];
	int iter;

	(void)state;
	for (iter = 0; iter < 20000; iter++) {
		size_t len = rnd(&seed) % sizeof in, i, ncuts = rnd(&seed) % 8;
		struct result ref, once, split;

		for (i = 0; i < len; i++)
			in[i] = alphabet[rnd(&seed) % sizeof alphabet];
		for (i = 0; i < ncuts; i++)
			cuts[i] = len ? rnd(&seed) % (len + 1) : 0;
		for (i = 1; i < ncuts; i++) /* insertion sort: cuts ascend */
			for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
				size_t t = cuts[j];

				cuts[j] = cuts[j - 1];
				cuts[j - 1] = t;
			}
		ref = reference(in, len);
		once = run_once(in, len);
		split = run_cuts(in, len, cuts, ncuts);
		assert_same(&once, &ref);
		assert_same(&split, &ref);
		result_free(&ref);
		result_free(&once);
		result_free(&split);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tricky_inputs__split_anywhere__give_expected_output),
		cmocka_unit_test(terminator__followed_by_reply__leaves_reply_unconsumed),
		cmocka_unit_test(held_cr__at_chunk_end__is_written_with_next_chunk),
		cmocka_unit_test(counters__accumulate_over_messages_until_init),
		cmocka_unit_test(long_line__5mb__passes_through),
		cmocka_unit_test(random_inputs__random_splits__match_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
