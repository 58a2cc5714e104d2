/* setup_int.h - what the parts of popfetch --add-account share: setup.c
 * (resolving the answers, the connection test), setup_text.c (names,
 * quoting, questions) and setup_file.c (writing the config safely). */
#ifndef POPFETCH_SETUP_INT_H
#define POPFETCH_SETUP_INT_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "setup.h"

/* 1 when name equals one of taken[0..ntaken), ignoring case (state files
 * may live on a case-insensitive file system). */
int setup_name_taken(const char *name, const char *const *taken, size_t ntaken);

/* One line from io->in into buf (line break removed); echo off on
 * io->echo_fd when secret.  0, or -1 at end of input or for an overlong
 * line. */
int setup_read_line(const struct setup_io *io, int secret, char *buf, size_t cap,
		    struct pf_error *err) PF_MUST_CHECK;

/* A yes/no question with default def: 1 or 0 in *yes_r; 0 or -1. */
int setup_ask_yes_no(const struct setup_io *io, const char *question, int def,
		     const char *option, int *yes_r, struct pf_error *err) PF_MUST_CHECK;

/* An account section being written (--add-account, --import): text of
 * at most cap bytes in buf, values quoted with setup_quote into at most
 * quoted_cap bytes each; what names the section in the error when it
 * would grow longer ("the new account section").  It may hold a
 * password: setup_text_finish wipes it on failure. */
struct setup_text {
	char *buf;
	size_t n, cap, quoted_cap;
	const char *what;
	struct pf_error *err;
};

/* Starts t for account name (setup_name_ok): 0, or -1 with err set (t
 * must still go through setup_text_finish). */
int setup_text_start(struct setup_text *t, const char *name, size_t cap, size_t quoted_cap,
		     const char *what, struct pf_error *err) PF_MUST_CHECK;
/* Appends printf text: 0, or -1 with t->err set (too long). */
int setup_add(struct setup_text *t, const char *fmt, ...) PF_PRINTF(2, 3) PF_MUST_CHECK;
/* Appends `INDENTkey = "value"` and a line break; nothing when value is
 * NULL.  0 or -1 with t->err set. */
int setup_add_str(struct setup_text *t, const char *indent, const char *key,
		       const char *value) PF_MUST_CHECK;
/* The text when rc is 0 (free it with pf_free_secret), else NULL after
 * wiping and freeing it. */
char *setup_text_finish(struct setup_text *t, int rc);

/* The file --add-account writes and how to put it back. */
struct target {
	char *main;       /* the main config (symlinks resolved) */
	char *dir;        /* its folder */
	char *file;       /* what is written: main, or accounts.d/NAME.conf */
	char *tmp;        /* the temporary file beside file, while it exists */
	char *old;        /* main's text before (with file == main), NULL if none */
	size_t oldlen;
};

/* tg->main and tg->dir from the --config path (NULL: the default). */
int setup_target_paths(struct target *tg, const char *given, struct pf_error *err)
	PF_MUST_CHECK;
/* tg->file for account name: accounts.d/NAME.conf when that folder exists
 * beside an existing main config, else the main config (its text kept). */
int setup_target_file(struct target *tg, const char *name, struct pf_error *err)
	PF_MUST_CHECK;
/* The old text plus section (NULL: the old text alone) into tg->tmp. */
int setup_write_temp(struct target *tg, const char *section, struct pf_error *err)
	PF_MUST_CHECK;
/* tg->tmp into place as tg->file, durably. */
int setup_publish(struct target *tg, struct pf_error *err) PF_MUST_CHECK;
/* Loads the published config; on failure restores the previous file. */
int setup_verify(struct target *tg, struct pf_error *err) PF_MUST_CHECK;
/* err from e, a trial load's error, with tg->tmp replaced by tg->file. */
int setup_load_error(const struct target *tg, const struct pf_error *e, struct pf_error *err);
void setup_target_free(struct target *tg);

#endif
