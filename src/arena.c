/* arena.c - see arena.h. */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "util.h"

#define CHUNK_SIZE (64 * 1024)
#define ALIGN alignof(max_align_t)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	alignas(max_align_t) unsigned char data[];
};

static struct arena_chunk *new_chunk(struct arena *a, size_t cap)
{
	struct arena_chunk *c = xmalloc(sizeof *c + cap);

	c->used = 0;
	c->cap = cap;
	c->next = a->head;
	a->head = c;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t need;
	void *p;

	/* Far beyond any caller (names and uids): out of memory, as
	 * xcalloc's overflow check reports it. */
	if (n > SIZE_MAX / 4)
		(void)xcalloc(SIZE_MAX, SIZE_MAX);
	need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (c == NULL || c->cap - c->used < need) {
		/* A large block gets a chunk of its own behind the current
		 * one, so the rest of the current chunk is not wasted. */
		if (need > CHUNK_SIZE / 4 && c != NULL) {
			struct arena_chunk *big = xmalloc(sizeof *big + need);

			big->used = big->cap = need;
			big->next = c->next;
			c->next = big;
			memset(big->data, 0, need);
			return big->data;
		}
		c = new_chunk(a, need > CHUNK_SIZE ? need : CHUNK_SIZE);
	}
	p = c->data + c->used;
	c->used += need;
	memset(p, 0, need);
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	size_t len = strlen(s) + 1;

	return memcpy(arena_alloc(a, len), s, len);
}

void arena_free(struct arena *a)
{
	while (a->head != NULL) {
		struct arena_chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
}
