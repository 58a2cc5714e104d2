/* arena.h - a bump allocator: many small blocks, freed all at once.
 *
 * For data that lives exactly as long as its owner, like the uid store of
 * one poll: one malloc per 64 KiB instead of one per entry and per name,
 * and closing frees a few chunks instead of walking every entry.  Nothing
 * is freed on its own, so a replaced block stays until arena_free: owners
 * must not live for an unbounded number of replacements. */
#ifndef POPFETCH_ARENA_H
#define POPFETCH_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
};

/* n zeroed bytes aligned for any type; exits like xmalloc when memory
 * runs out.  An empty arena ({ NULL }) needs no setup. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);

/* Frees every block; the arena is empty and usable again. */
void arena_free(struct arena *a);

#endif
