/* log.c - see log.h.  stderr for interactive runs and systemd's journal,
 * syslog for the daemon. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static enum log_level level = LOG_LVL_INFO;
static enum log_target target = LOG_TARGET_STDERR;

void log_set_level(enum log_level lvl)
{
	level = lvl;
}

enum log_level log_get_level(void)
{
	return level;
}

void log_open_syslog(void)
{
	/* LOG_NDELAY: connect now, while /dev/log is surely reachable, not
	 * at the first line of a forked poll. */
	openlog("popfetch", LOG_PID | LOG_NDELAY, LOG_MAIL);
	target = LOG_TARGET_SYSLOG;
}

void log_use_stderr(void)
{
	if (target == LOG_TARGET_SYSLOG)
		closelog();
	target = LOG_TARGET_STDERR;
}

enum log_target log_get_target(void)
{
	return target;
}

/* Our levels as syslog priorities: a summary line is news (LOG_INFO), a
 * protocol trace is debugging. */
static int syslog_priority(enum log_level lvl, const char *prefix)
{
	switch (lvl) {
	case LOG_LVL_ERROR: return prefix[0] == 'w' ? LOG_WARNING : LOG_ERR;
	case LOG_LVL_INFO: return LOG_INFO;
	case LOG_LVL_VERBOSE: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

static void vlog(enum log_level lvl, const char *prefix, const char *fmt, va_list ap)
	PF_PRINTF(3, 0);

static void vlog(enum log_level lvl, const char *prefix, const char *fmt, va_list ap)
{
	char line[2 * PF_ERRMSG_MAX];

	if (lvl > level)
		return;
	/* One write per line so lines of parallel accounts never interleave. */
	(void)vsnprintf(line, sizeof line, fmt, ap);
	if (target == LOG_TARGET_SYSLOG)
		syslog(syslog_priority(lvl, prefix), "%s%s", prefix, line);
	else
		fprintf(stderr, "popfetch: %s%s\n", prefix, line);
}

#define DEFINE_LOG(fn, lvl, prefix)                 \
	void fn(const char *fmt, ...)               \
	{                                           \
		va_list ap;                         \
		va_start(ap, fmt);                  \
		vlog(lvl, prefix, fmt, ap);         \
		va_end(ap);                         \
	}

DEFINE_LOG(log_error, LOG_LVL_ERROR, "error: ")
DEFINE_LOG(log_warn, LOG_LVL_ERROR, "warning: ")
DEFINE_LOG(log_info, LOG_LVL_INFO, "")
DEFINE_LOG(log_verbose, LOG_LVL_VERBOSE, "")
DEFINE_LOG(log_trace, LOG_LVL_TRACE, "")

void log_sanitize(char *dst, size_t cap, const char *src, size_t len)
{
	size_t i, o = 0;

	if (cap == 0)
		return;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)src[i];

		if (o + 1 >= cap) {
			/* Mark the cut so a reader knows text is missing. */
			if (cap >= 4)
				memcpy(dst + cap - 4, "...", 3), o = cap - 1;
			break;
		}
		dst[o++] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
	}
	dst[o] = '\0';
}
