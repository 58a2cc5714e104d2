/* trust.h - the one rule for every file popfetch trusts (DESIGN.md
 * section 3), the way OpenSSH judges ~/.ssh/config.
 *
 * A file or directory that can make popfetch run a command (the config,
 * an accounts.d file with password_command, mda or post_command), that
 * holds a secret (a password, an OAuth2 client_secret, ~/.netrc, a token
 * file) or that holds the state deciding what is deleted (state_dir) is
 * trusted only when it is owned by the user running popfetch or by root,
 * and not writable by group or others: anyone else who can change it
 * could make popfetch run their command or read the secret it leads to.
 * A file that holds a secret must moreover not be readable, writable or
 * executable by group or others (as fetchmail and ftp(1) insist: mode
 * 0600 or stricter).
 *
 * Every reader calls trust_check() on the fstat of the very file it reads
 * (not a second stat of the path: the file judged is the file read). */
#ifndef POPFETCH_TRUST_H
#define POPFETCH_TRUST_H

#include <sys/stat.h>

#include "error.h"

/* Judges st, the fstat of path (path only names it in messages).  secret
 * is NULL when the file holds no secret, else what it holds, for the
 * message ("a password", "OAuth2 tokens").  Returns 0 when trusted, else
 * -1 with err set to PF_ERR_CONFIG_PERM (exit 6) and one sentence naming
 * path, what is wrong and the command that fixes it (chmod 600, chmod
 * go-w, chown).  The secret itself is never read nor named. */
int trust_check(const struct stat *st, const char *path, const char *secret,
		struct pf_error *err) PF_MUST_CHECK;

/* trust_check() for a path that need not exist yet (state_dir, created
 * 0700 on first use): stat(2) follows symlinks as opening would.  0 when
 * trusted or missing (ENOENT, ENOTDIR); -1 with err set
 * (PF_ERR_CONFIG_PERM, or PF_ERR_LOCAL when stat fails otherwise). */
int trust_check_path(const char *path, const char *secret, struct pf_error *err) PF_MUST_CHECK;

#endif
