/* dump_origin.h - where a configuration file sets each key, for
 * `popfetch --dump`: file and line of every `key = value` in the file's
 * top level, its `account TITLE { }` sections and their `oauth2 { }`
 * blocks.
 *
 * libconfuse keeps no line per value after parsing, so the file is
 * scanned again here with a small tokenizer of its syntax (comments #,
 * // and slash-star, "strings" with escapes, 'strings', { } lists).  The
 * values themselves always come from config_load()'s result; this only
 * says where they were written.  The file has already been parsed by
 * config_load(), so anything the scanner does not understand is simply
 * not recorded (the value then shows as a default or preset). */
#ifndef POPFETCH_DUMP_ORIGIN_H
#define POPFETCH_DUMP_ORIGIN_H

#include "error.h"

/* Files larger than this are not scanned (config_load reads them; a
 * configuration this large is not a hand-written one). */
#define DUMP_ORIGIN_FILE_MAX (1024 * 1024)

struct origin_map;

/* Scans path.  A new map owned by the caller (origin_free), or NULL with
 * err (PF_ERR_CONFIG: unreadable or too large). */
struct origin_map *origin_scan(const char *path, struct pf_error *err) PF_MUST_CHECK;
void origin_free(struct origin_map *m);

/* The line of the last `key = ...` in the top level (account NULL), in
 * section `account ACCOUNT` (block NULL) or in its `oauth2` block (block
 * "oauth2"); 0 when the file does not set it there. */
int origin_line(const struct origin_map *m, const char *account, const char *block,
		const char *key);

/* The line of `account ACCOUNT {`, or 0. */
int origin_account_line(const struct origin_map *m, const char *account);

#endif
