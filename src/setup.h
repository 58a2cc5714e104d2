/* setup.h - guided setup: popfetch --add-account (DESIGN.md section 8).
 *
 * Asks for what it cannot know (through struct setup_io, so a test can
 * drive it with a string), recognises the provider from the address
 * (provider.h), tests the connection (fetch_test_account) and appends the
 * account to the config, or writes accounts.d/NAME.conf when that folder
 * exists.  The file is written to a temporary file, loaded with
 * config_load(), and only then renamed into place: a failed setup leaves
 * the previous config as it was.  Secrets never come from the command
 * line: a password is read from stdin (--password-stdin) or from the
 * terminal with echo off. */
#ifndef POPFETCH_SETUP_H
#define POPFETCH_SETUP_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

/* DESIGN.md section 8: [A-Za-z0-9][A-Za-z0-9._@+-]{0,63} */
#define SETUP_NAME_MAX 64

/* Where the secret comes from. */
enum setup_secret {
	SETUP_SECRET_ASK = 0,   /* ask on the terminal (echo off) */
	SETUP_SECRET_STDIN,     /* --password-stdin: the first line of stdin */
	SETUP_SECRET_COMMAND,   /* --password-command CMD: written, run at each poll */
	SETUP_SECRET_OAUTH2,    /* --oauth2: the preset's endpoints and --client-id */
};

/* The answers given as options; NULL (or -1) means "ask, or default". */
struct setup_opts {
	const char *config_path;      /* NULL: config_default_path() */
	const char *address;          /* e-mail address */
	const char *provider;         /* preset name; "none": no preset; NULL: by domain */
	const char *name;             /* account name; NULL: from the address */
	const char *maildir;          /* NULL: ~/Mail/NAME */
	int keep;                     /* -1: ask; 0 delete; 1 keep */
	enum setup_secret secret;
	const char *password_command; /* with SETUP_SECRET_COMMAND */
	const char *client_id;        /* with SETUP_SECRET_OAUTH2 */
	/* Servers without a preset. */
	const char *host;
	const char *port;
	const char *tls;              /* implicit | starttls | none */
	const char *tls_ca_file;
	const char *user;             /* NULL: the address */
	int no_test;                  /* --no-test: write without connecting */
};

/* Where questions go and answers come from.  in == NULL: no questions
 * (--non-interactive, or no terminal); a missing answer is then a
 * PF_ERR_CONFIG error naming the option that gives it.  echo_fd >= 0 is
 * the terminal whose echo is turned off while a password is typed.
 * secret_in: where --password-stdin reads (stdin). */
struct setup_io {
	FILE *in;
	FILE *out;
	int echo_fd;
	FILE *secret_in;
};

/* The account popfetch will write, every field resolved. */
struct setup_account {
	char name[SETUP_NAME_MAX + 1];
	const char *provider;         /* preset name, or NULL */
	const char *host, *port, *tls, *tls_ca_file; /* NULL: the preset's or default */
	const char *user;
	const char *maildir;
	int keep;
	char *password;               /* secret, or NULL */
	const char *password_command;
	const char *client_id;        /* OAuth2: with the preset's endpoints */
};

/* Derives an account name from address: its local part with every byte
 * outside [A-Za-z0-9._@+-] dropped, leading non-alphanumerics dropped, cut
 * to SETUP_NAME_MAX ("mail" when nothing is left), then made unique
 * against taken[0..ntaken) (case-insensitively: state files may live on a
 * case-insensitive file system) by appending -2, -3, ...  out has
 * SETUP_NAME_MAX + 1 bytes.  0, or -1 when no free name is found. */
int setup_derive_name(const char *address, const char *const *taken, size_t ntaken,
		      char out[SETUP_NAME_MAX + 1]);

/* 1 when s is a valid account name (DESIGN.md section 8), else 0. */
int setup_name_ok(const char *s);

/* s as a libconfuse double-quoted string, quotes included, into out (cap
 * bytes): '"' and '\' are backslash-escaped, and '$' too, so "${X}" stays
 * text instead of being replaced from the environment.  Control
 * characters cannot be written faithfully (a line break would end the
 * value): -1 with err naming what (PF_ERR_CONFIG), also when out is too
 * small.  Never quotes the value in the message (it may be a secret). */
int setup_quote(const char *what, const char *s, char *out, size_t cap, struct pf_error *err)
	PF_MUST_CHECK;

/* The `account NAME { ... }` section for a (preceded by a blank line and
 * a comment) in a new string (free with pf_free_secret: it may hold the
 * password), or NULL with err set. */
char *setup_section_text(const struct setup_account *a, struct pf_error *err) PF_MUST_CHECK;

/* Asks question on io->out and reads one line into buf (cap bytes, line
 * break removed); an empty answer takes def (when not NULL).  secret:
 * echo off on io->echo_fd.  Without io->in: PF_ERR_CONFIG "... give
 * OPTION".  0 or -1. */
int setup_ask(const struct setup_io *io, const char *question, const char *def,
	      const char *option, int secret, char *buf, size_t cap,
	      struct pf_error *err) PF_MUST_CHECK;

/* The whole --add-account: resolves every answer, builds the section,
 * tests the connection (unless OAuth2 or o->no_test), writes the config
 * atomically and verifies it with config_load().  Reports progress on
 * io->out.  On success *name_r holds the account name and *path_r (free())
 * the file written; *oauth2_r is 1 when the account still needs
 * popfetch --authorize.  -1 with err set: PF_ERR_CONFIG for a usage error
 * or missing answer, the connection test's class (PF_ERR_AUTH for a wrong
 * password), PF_ERR_LOCAL when the file cannot be written. */
int setup_add_account(const struct setup_opts *o, const struct setup_io *io,
		      char name_r[SETUP_NAME_MAX + 1], char **path_r, int *oauth2_r,
		      struct pf_error *err) PF_MUST_CHECK;

#endif
