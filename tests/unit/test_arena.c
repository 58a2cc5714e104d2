/* test_arena.c - the bump allocator: zeroed and aligned blocks that never
 * overlap, large blocks beside the chunks, strdup, and freeing all. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"

static void alloc__then_zeroed_aligned_and_apart(void **state)
{
	enum { N = 5000 };
	static unsigned char *blocks[N];
	struct arena a = { NULL };

	(void)state;
	/* Enough blocks to fill several 64 KiB chunks; each is filled with
	 * its own byte, and at the end every block still holds only it. */
	for (int i = 0; i < N; i++) {
		size_t n = 1 + (size_t)(i % 97);
		unsigned char *p = arena_alloc(&a, n);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(p[k], 0);
		memset(p, i & 0xFF, n);
		blocks[i] = p;
	}
	for (int i = 0; i < N; i++)
		for (size_t k = 0; k < 1 + (size_t)(i % 97); k++)
			assert_int_equal(blocks[i][k], i & 0xFF);
	arena_free(&a);
	assert_null(a.head);
}

static void alloc__large_block__then_whole_and_current_chunk_kept(void **state)
{
	struct arena a = { NULL };
	char *small1, *big, *small2;

	(void)state;
	small1 = arena_alloc(&a, 16);
	big = arena_alloc(&a, 200 * 1024);
	small2 = arena_alloc(&a, 16);
	memset(big, 'x', 200 * 1024);
	assert_int_equal(big[200 * 1024 - 1], 'x');
	/* The small blocks share the first chunk: the big one did not end it. */
	assert_true(small2 > small1 && small2 - small1 < 1024);
	arena_free(&a);
}

static void strdup__then_equal_copy(void **state)
{
	struct arena a = { NULL };
	char buf[32];
	const char *copies[100];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(buf, sizeof buf, "name-%d", i);
		copies[i] = arena_strdup(&a, buf);
		assert_ptr_not_equal(copies[i], buf);
	}
	for (int i = 0; i < 100; i++) {
		snprintf(buf, sizeof buf, "name-%d", i);
		assert_string_equal(copies[i], buf);
	}
	arena_free(&a);
}

static void free__then_usable_again(void **state)
{
	struct arena a = { NULL };

	(void)state;
	(void)arena_alloc(&a, 100);
	arena_free(&a);
	arena_free(&a); /* twice is harmless */
	assert_string_equal(arena_strdup(&a, "again"), "again");
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(alloc__then_zeroed_aligned_and_apart),
		cmocka_unit_test(alloc__large_block__then_whole_and_current_chunk_kept),
		cmocka_unit_test(strdup__then_equal_copy),
		cmocka_unit_test(free__then_usable_again),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
