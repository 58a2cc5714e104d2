/* import_int.h - what the parts of popfetch --import share: the account
 * set's helpers (import_set.c), a bounded line reader over untrusted text,
 * and the mapping rules every peer follows (TLS, certificate checks). */
#ifndef POPFETCH_IMPORT_INT_H
#define POPFETCH_IMPORT_INT_H

#include <stddef.h>

#include "error.h"
#include "import.h"
#include "util.h"

/* Reads text line by line; lineno counts from 1 for messages. */
struct import_lines {
	const char *p, *end;
	size_t lineno;
	const char *what;       /* "fetchmail file", ... for messages */
};

void import_lines_init(struct import_lines *l, const char *text, size_t len, const char *what);

/* The next line (without its LF or CRLF) into buf (PF_LINE_MAX bytes).
 * 1 with a line, 0 at the end, -1 with err for an overlong line or a NUL
 * byte (a config is text). */
int import_next_line(struct import_lines *l, char *buf, struct pf_error *err) PF_MUST_CHECK;

/* Appends a note (printf format) to n; past IMPORT_NOTES_MAX it is
 * counted in n->dropped instead. */
void import_note(struct import_notes *n, const char *fmt, ...) PF_PRINTF(2, 3);

/* *dst = a copy of v (NULL: unset), the old value freed (wiped: it may be a
 * secret). */
void import_set_str(char **dst, const char *v);

/* A new account at the end of set, a deep copy of tmpl (the peer's
 * defaults; NULL: empty).  NULL with err past IMPORT_ACCOUNTS_MAX. */
struct import_account *import_add(struct import_set *set, const struct import_account *tmpl,
				  struct pf_error *err);

/* Deep copy of src's settings over dst (mpop's `account A : B`); dst's
 * label, name and notes stay. */
void import_copy_settings(struct import_account *dst, const struct import_account *src);

/* Frees what a owns and zeroes it. */
void import_account_clear(struct import_account *a);

/* The words of argv as one /bin/sh command line, each single-quoted where
 * it needs to be.  A new string, or NULL when it would exceed PF_LINE_MAX. */
char *import_shell_join(char *const *argv, size_t n);

/* The rules every peer's account goes through once it is read:
 * a peer that used no TLS gets tls = none on loopback (where popfetch
 * allows it) and STARTTLS elsewhere, with a note; a peer that did not check
 * the certificate is imported with the check ON and a note saying how to
 * pin the fingerprint instead (never weakened silently). */
void import_finish(struct import_account *a);

/* The whole of a regular file of at most max bytes into *buf_r (NUL
 * added; free()) and *len_r.  0, -1 with err, or -2 when it does not
 * exist.  For the command (import.c, import_write.c), never the parsers. */
int import_read_file(const char *path, size_t max, char **buf_r, size_t *len_r,
		     struct pf_error *err) PF_MUST_CHECK;

/* 1 for 127.0.0.0/8, ::1 and localhost. */
int import_is_loopback(const char *host);

#endif
