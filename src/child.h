/* child.h - runs one command from the configuration (an MDA, a
 * post_command) the safe way, and says how it ended.
 *
 * Promises:
 * - The command is the configured text alone, run as /bin/sh -c COMMAND.
 *   Nothing from a server is ever substituted into it (fetchmail's %F and
 *   %T were a shell-injection hole); what the command may want to know
 *   goes in environment variables the caller names (child_safe_value
 *   makes server text safe for them).
 * - The environment is rebuilt from a short list of harmless variables
 *   of popfetch's own environment (PATH, HOME, USER, LOGNAME, SHELL, LANG,
 *   LANGUAGE, LC_*, TZ, TMPDIR, XDG_*_HOME, XDG_RUNTIME_DIR) plus the
 *   caller's; nothing else passes, so no secret can (POPFETCH_* test aids
 *   included).
 * - The command inherits exactly three descriptors: stdin (a file or a pipe
 *   with its input, or /dev/null), stdout (/dev/null: an MDA reports
 *   through its exit status)
 *   and stderr (a pipe to us).  Every other descriptor is closed in the
 *   child before exec, whatever its close-on-exec flag (a TLS socket, the
 *   uid store or the account lock must never outlive us in an MDA).
 * - It runs in its own process group.  One deadline covers the whole run:
 *   feeding, and waiting for the exit; at the deadline the whole group gets
 *   SIGKILL (an MDA's own children included).
 * - The first line of its stderr is kept, bounded and sanitised for the
 *   log; the rest is read and dropped, so a chatty command never blocks.
 * - SIGPIPE never reaches popfetch: a command that stops reading its
 *   input is reported (input_refused), not fatal.
 *
 * Not thread-safe (SIGPIPE is blocked around writes with sigprocmask). */
#ifndef POPFETCH_CHILD_H
#define POPFETCH_CHILD_H

#include <stddef.h>

#include "error.h"

/* The first stderr line kept for the log (sanitised, NUL included). */
#define CHILD_ERRLINE_MAX 256

/* Extra environment entries a caller may add. */
#define CHILD_ENV_EXTRA_MAX 16

struct child;

struct child_opts {
	const char *command;       /* from the config: /bin/sh -c command */
	/* "NAME=value" entries added to the scrubbed environment, NULL-ended
	 * (at most CHILD_ENV_EXTRA_MAX); NULL for none.  Copied at start. */
	const char *const *env;
	int timeout_s;             /* the whole run, > 0 */
	int no_input;              /* 1: stdin is /dev/null, child_feed unused */
	/* 1: stdin is input_fd (a file the caller opened, read from its
	 * current offset; the caller still owns and closes it), child_feed
	 * unused.  Else (and without no_input) a pipe fed by child_feed. */
	int input_is_fd;
	int input_fd;
	const char *what;          /* "account 'work': mda", for messages */
};

struct child_status {
	int exited;                /* 1: code is the exit status */
	int code;                  /* exit status, or the signal that ended it */
	int timed_out;             /* killed at the deadline */
	int input_refused;         /* closed stdin before taking all input */
	char errline[CHILD_ERRLINE_MAX]; /* first line of stderr, "" if none */
};

/* Starts the command.  The result is owned by the caller, who must end it
 * with child_wait (which frees it).  NULL with err set (PF_ERR_LOCAL) when
 * a pipe or the fork fails. */
struct child *child_start(const struct child_opts *o, struct pf_error *err) PF_MUST_CHECK;

/* Writes len bytes to the command's stdin, reading its stderr meanwhile,
 * within the deadline.  0, or -1 when no more input can be given: the
 * command closed its stdin (or exited) or the deadline passed; child_wait
 * then says which.  Further calls after -1 return -1 at once. */
int child_feed(struct child *c, const void *buf, size_t len) PF_MUST_CHECK;

/* Closes the command's stdin, waits for it to exit until the deadline
 * (then kills its process group), fills *st and frees c.  Always
 * succeeds: a command that could not be waited for counts as killed. */
void child_wait(struct child *c, struct child_status *st);

/* Whether the command succeeded: exit status 0, all input taken, in time. */
int child_ok(const struct child_status *st);

/* One phrase for a log line: "exit status 75: <stderr line>", "killed
 * by signal 9", "killed after the 30 s deadline", "exit status 0 without
 * reading all of its input".  Truncated to cap (display text). */
void child_describe(const struct child_status *st, int timeout_s, char *buf, size_t cap);

/* Copies untrusted text (a UID) into dst (capacity cap, NUL-terminated) so
 * that it is inert in a shell variable expansion, a file name or a log:
 * bytes outside [A-Za-z0-9._+@-] become %XX (hex), '%' included, so the
 * encoding is reversible.  0, or -1 when it does not fit. */
int child_safe_value(char *dst, size_t cap, const char *src) PF_MUST_CHECK;

#endif
