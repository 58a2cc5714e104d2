/* config_text.h - internal to the config module: the config file as
 * text before libconfuse sees it, and path expansion.  Split from config.c
 * to keep each file readable; nothing outside config*.c includes this. */
#ifndef POPFETCH_CONFIG_TEXT_H
#define POPFETCH_CONFIG_TEXT_H

#include <stddef.h>
#include <sys/stat.h>

#include "error.h"

enum expand_rc { EXP_OK, EXP_UNSET, EXP_SYNTAX, EXP_TOO_LONG, EXP_NO_HOME };

/* Appends s[0..len) to out (cap bytes, *n used, kept NUL-terminated).
 * 0, or -1 when it does not fit. */
int config_append(char *out, size_t cap, size_t *n, const char *s, size_t len);

/* $XDG_x_HOME/popfetch[/leaf], else ~/fallback/popfetch[/leaf], in a new
 * string; NULL when neither is known. */
char *config_xdg_path(const char *var, const char *fallback, const char *leaf);

/* Expands a leading "~" and $NAME / ${NAME} of in into out (cap bytes);
 * on EXP_UNSET, var (var_cap bytes) names the variable. */
enum expand_rc config_expand_path(const char *in, char *out, size_t cap, char *var,
				  size_t var_cap);

/* Reads a whole config file (at most PF_CONFIG_FILE_MAX, no NUL bytes)
 * into a new buffer, with the fstat of the file read in *st.  NULL with err
 * set (PF_ERR_CONFIG). */
char *config_read_file(const char *path, struct stat *st, size_t *len_r,
		       struct pf_error *err);

/* Blanks comments (keeping newlines) and refuses unset ${VAR} references,
 * working around libconfuse 3.3's lexer.  0 or -1 (PF_ERR_CONFIG with
 * path:line). */
int config_prescan(char *text, const char *path, struct pf_error *err);

#endif
