/* trust.c - see trust.h. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust.h"

/* OpenSSH's secure_permissions(): owner is us or root, no group/other write. */
static int owner_ok(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == getuid();
}

static int owner_error(const struct stat *st, const char *path, struct pf_error *err)
{
	return pf_error_set(err, PF_ERR_CONFIG_PERM, "%s is owned by uid %ld, not by you (uid %ld) "
			    "or root, so another user controls it; run as root: chown %ld %s",
			    path, (long)st->st_uid, (long)getuid(), (long)getuid(), path);
}

/* A world-writable sticky directory (/tmp) cannot be fixed with chmod: the
 * advice is to move away from it, not to lock everybody else out. */
static int writable_error(const struct stat *st, const char *path, struct pf_error *err)
{
	if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
		return pf_error_set(err, PF_ERR_CONFIG_PERM, "%s is writable by group or others; "
				    "use a directory only you can write to", path);
	return pf_error_set(err, PF_ERR_CONFIG_PERM, "%s is writable by group or others, who "
			    "could change what popfetch runs or deletes; run: chmod go-w %s",
			    path, path);
}

int trust_check(const struct stat *st, const char *path, const char *secret,
		struct pf_error *err)
{
	if (!owner_ok(st))
		return owner_error(st, path, err);
	/* Checked before "writable" so a 0666 secret gets the one chmod that
	 * fixes both. */
	if (secret != NULL && (st->st_mode & 077) != 0)
		return pf_error_set(err, PF_ERR_CONFIG_PERM, "%s holds %s and is readable by "
				    "group or others; run: chmod 600 %s", path, secret, path);
	if ((st->st_mode & 022) != 0)
		return writable_error(st, path, err);
	return 0;
}

int trust_check_path(const char *path, const char *secret, struct pf_error *err)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return trust_check(&st, path, secret, err);
	/* Nothing there yet: whoever creates it makes it 0700 (a file in the
	 * way is reported, exit 10, when it is used). */
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot examine %s", path);
}
