/* log.h - the one place that writes diagnostics.
 *
 * Levels: errors always (unless nothing at all is wanted), info by default,
 * verbose with -v, trace (protocol transcript) with -vv.  Secrets never
 * reach this module: callers mask them first (pop3.c masks PASS and AUTH).
 * Anything that came from a server goes through log_sanitize first. */
#ifndef POPFETCH_LOG_H
#define POPFETCH_LOG_H

#include <stddef.h>

#include "error.h"

enum log_level {
	LOG_LVL_ERROR = 0, /* -q shows only these */
	LOG_LVL_INFO = 1,  /* default: summary lines */
	LOG_LVL_VERBOSE = 2, /* -v */
	LOG_LVL_TRACE = 3, /* -vv: protocol trace, secrets masked */
};

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

void log_error(const char *fmt, ...) PF_PRINTF(1, 2);
void log_warn(const char *fmt, ...) PF_PRINTF(1, 2);
void log_info(const char *fmt, ...) PF_PRINTF(1, 2);
void log_verbose(const char *fmt, ...) PF_PRINTF(1, 2);
void log_trace(const char *fmt, ...) PF_PRINTF(1, 2);

/* Copies untrusted bytes src[0..len) into dst (capacity cap, always
 * NUL-terminated), replacing control characters, DEL and bytes >= 0x80 by
 * '?' so a server cannot move the cursor, forge log lines or inject
 * terminal escapes (CVE-2010-1167 class).  Truncates with "..." when the
 * input does not fit: this is display text, not data. */
void log_sanitize(char *dst, size_t cap, const char *src, size_t len);

#endif
