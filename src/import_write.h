/* import_write.h - one imported account as config text, and writing it
 * with its UID state (import_write.c). */
#ifndef POPFETCH_IMPORT_WRITE_H
#define POPFETCH_IMPORT_WRITE_H

#include <stdio.h>

#include "error.h"
#include "import.h"
#include "provider.h"

/* Everything that decides one account's text. */
struct import_write {
	const struct import_account *a;
	const char *name;                /* the popfetch account name (checked) */
	const char *source;              /* the peer's file, for the comment */
	const struct provider *preset;   /* the host's provider, or NULL */
	const char *maildir;             /* --maildir, or NULL */
	int keep;                        /* -1: the peer's; else -k / -K */
	int mask;                        /* the password as ******** (--dry-run) */
};

/* The `account NAME { ... }` section (preceded by a blank line and a
 * comment naming the source) in a new string (pf_free_secret: it may hold
 * the password), or NULL with err set. */
char *import_section_text(const struct import_write *w, struct pf_error *err) PF_MUST_CHECK;

/* Writes the account into the config config_path names (NULL: the
 * default) or its accounts.d/NAME.conf, atomically, and records uids as
 * delivered in its uid store before the config is published; uids NULL:
 * log in and record what the server holds now instead (--adopt), saying
 * so on out.  A failure leaves the config as it was and removes a store
 * this call created.  *path_r (free()) names the file written.  0 or -1. */
int import_write_account(const char *config_path, const struct import_write *w,
			 const struct import_uids *uids, FILE *out, char **path_r,
			 struct pf_error *err) PF_MUST_CHECK;

#endif
