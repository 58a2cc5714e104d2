/* test_log.c - log_sanitize (log.c): server text must reach a log or a
 * terminal without control characters, escape sequences, DEL or non-ASCII
 * bytes, and never overrun the destination, whatever the cap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "log.h"

#define S(lit) lit, sizeof(lit) - 1

static void printable__unchanged(void **state)
{
	(void)state;
	char dst[64];

	(void)state;
	log_sanitize(dst, sizeof dst, S("+OK Dovecot ready. <1.2@h> ~!"));
	assert_string_equal(dst, "+OK Dovecot ready. <1.2@h> ~!");
	log_sanitize(dst, sizeof dst, "", 0);
	assert_string_equal(dst, "");
	/* Only len bytes are read: no NUL needed in src. */
	log_sanitize(dst, sizeof dst, "abcdef", 3);
	assert_string_equal(dst, "abc");
}

static void control_chars__replaced(void **state)
{
	(void)state;
	char dst[64];

	(void)state;
	log_sanitize(dst, sizeof dst, S("a\rb\nc\td\0e\x01" "f\x1f"));
	assert_string_equal(dst, "a?b?c?d?e?f?");
	/* A forged log line stays on the same line. */
	log_sanitize(dst, sizeof dst, S("-ERR no\npopfetch: error: fake"));
	assert_string_equal(dst, "-ERR no?popfetch: error: fake");
}

static void escape_sequences__neutralised(void **state)
{
	(void)state;
	char dst[64];

	(void)state;
	/* CSI clear screen, OSC set title, 8-bit CSI (0x9b). */
	log_sanitize(dst, sizeof dst, S("\x1b[2J\x1b]0;pwned\x07\x9b" "31m"));
	assert_null(memchr(dst, 0x1b, strlen(dst)));
	assert_string_equal(dst, "?[2J?]0;pwned??31m");
}

static void del_and_high_bytes__replaced(void **state)
{
	(void)state;
	char dst[64];
	unsigned char all[256];
	size_t i;

	(void)state;
	log_sanitize(dst, sizeof dst, S("\x7f\x80\xff\xc3\xa9t\xc3\xa9"));
	assert_string_equal(dst, "?????t??");
	/* Every byte value: printable ASCII kept, all else '?'. */
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	{
		char big[300];

		log_sanitize(big, sizeof big, (const char *)all, sizeof all);
		assert_int_equal(strlen(big), 256);
		for (i = 0; i < 256; i++)
			assert_int_equal(big[i], i >= 0x20 && i < 0x7f ? (char)i : '?');
	}
}

static void too_long__truncated_with_dots(void **state)
{
	(void)state;
	char dst[8];

	(void)state;
	log_sanitize(dst, sizeof dst, S("abcdefghij"));
	assert_string_equal(dst, "abcd...");
	/* Exactly fitting text is not marked. */
	log_sanitize(dst, sizeof dst, S("abcdefg"));
	assert_string_equal(dst, "abcdefg");
	/* One more byte is. */
	log_sanitize(dst, sizeof dst, S("abcdefgh"));
	assert_string_equal(dst, "abcd...");
	/* Replacement happens before the cut too. */
	log_sanitize(dst, sizeof dst, S("\x1b\x1b\x1b\x1b\x1bxyz"));
	assert_string_equal(dst, "????...");
}

/* Tiny caps: always NUL-terminated, never a byte past cap. */
static void tiny_caps__bounded(void **state)
{
	(void)state;
	size_t cap;

	(void)state;
	log_sanitize(NULL, 0, S("abc")); /* cap 0 touches nothing */
	for (cap = 1; cap <= 6; cap++) {
		char *dst = malloc(cap); /* exact size: ASan sees an overrun */

		assert_non_null(dst);
		log_sanitize(dst, cap, S("abcdefghij"));
		assert_int_equal(strlen(dst), cap - 1);
		if (cap >= 4)
			assert_memory_equal(dst + cap - 4, "...", 3);
		else
			assert_memory_equal(dst, "abc", cap - 1);
		log_sanitize(dst, cap, "", 0);
		assert_string_equal(dst, "");
		free(dst);
	}
	{
		char dst[4];

		log_sanitize(dst, sizeof dst, S("ab\n"));
		assert_string_equal(dst, "ab?"); /* fits: no marker */
		log_sanitize(dst, sizeof dst, S("abcd"));
		assert_string_equal(dst, "...");
	}
}

static void level__set_and_get(void **state)
{
	(void)state;
	log_set_level(LOG_LVL_TRACE);
	assert_int_equal(log_get_level(), LOG_LVL_TRACE);
	log_set_level(LOG_LVL_ERROR);
	assert_int_equal(log_get_level(), LOG_LVL_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(printable__unchanged),
		cmocka_unit_test(control_chars__replaced),
		cmocka_unit_test(escape_sequences__neutralised),
		cmocka_unit_test(del_and_high_bytes__replaced),
		cmocka_unit_test(too_long__truncated_with_dots),
		cmocka_unit_test(tiny_caps__bounded),
		cmocka_unit_test(level__set_and_get),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
