/* log.h - the one place that writes diagnostics.
 *
 * Target: stderr (the default, and for systemd's journal), or syslog
 * (facility mail, ident popfetch, with the pid) for the daemon.
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

enum log_target {
	LOG_TARGET_STDERR = 0, /* "popfetch: LEVEL: text" lines */
	LOG_TARGET_SYSLOG,     /* syslog(3), LOG_MAIL, ident "popfetch", LOG_PID */
};

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

/* Sends every further line to syslog (openlog with LOG_PID: forked polls
 * log under their own pid). */
void log_open_syslog(void);
/* Back to stderr (closes the syslog connection if one is open). */
void log_use_stderr(void);
enum log_target log_get_target(void);

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
