/* util.h - small helpers every module may use: allocation that aborts on
 * out-of-memory, secret wiping, monotonic time, and the crash-test hook. */
#ifndef POPFETCH_UTIL_H
#define POPFETCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Out of memory is the one case where we exit outside main.c: there is no
 * meaningful recovery, and a half-done poll has deleted nothing. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Overwrites a secret in a way the compiler cannot elide. */
void pf_wipe(void *p, size_t n);
/* Wipes and frees a NUL-terminated secret; NULL is fine. */
void pf_free_secret(char *s);

/* 1 when s holds a control character (below 0x20, or DEL), else 0: text
 * that ends up in a protocol line, a kvpair or a log must have none. */
int pf_has_ctl(const char *s);

/* The value of hex digit c (either case), or -1 when c is not one. */
int pf_hexval(int c);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t pf_now_ms(void);

/* Test aid: the crash-test hook.  Every durability step of a poll calls
 * pf_step(name).  When the environment variable POPFETCH_TEST_STOP_AFTER_STEP
 * is N, the N-th call kills the process with SIGKILL, exactly as a crash
 * would.  Unset (the normal case) it only counts.  Compiled into every build
 * so the tested binary is the shipped one. */
void pf_step(const char *name);

/* Writes all of buf to fd, retrying on EINTR and short writes.  0 or -1
 * with errno set. */
int pf_write_all(int fd, const void *buf, size_t len);

/* mkdir -p with mode for every directory it creates.  0 or -1 with errno
 * set (ENOTDIR when a file is in the way). */
int pf_mkdirs(const char *path, unsigned mode);

/* "a/b" in a new string, or NULL when longer than PF_PATH_MAX. */
char *pf_join_path(const char *a, const char *b);

/* fsync()s the directory dir, so entries created or renamed in it are
 * durable.  0, or -1 with errno set. */
int pf_fsync_dir(const char *dir);

#endif
