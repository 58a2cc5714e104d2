/* setup_file.c - writes the config for popfetch --add-account so that a
 * failure leaves no trace: the new text goes to a temporary file beside the
 * target (mode 0600, fsynced), is published with rename (replacing the main
 * config) or link (a new accounts.d file), and the result is loaded once
 * more; if that fails the previous file comes back. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "setup_int.h"
#include "util.h"

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d;

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	d = xstrdup(path);
	d[slash - path] = '\0';
	return d;
}

/* A symlinked config (dotfiles kept elsewhere) is written where it points:
 * renaming over the link would replace it with a file. */
int setup_target_paths(struct target *tg, const char *given, struct pf_error *err)
{
	char *path = given != NULL ? xstrdup(given) : config_default_path();
	char *real;

	if (path == NULL)
		return pf_error_set(err, PF_ERR_CONFIG, "cannot find the config file: HOME is not "
				    "set (use --config FILE)");
	real = realpath(path, NULL);
	if (real != NULL) {
		free(path);
		path = real;
	}
	tg->main = path;
	tg->dir = dir_of(path);
	return 0;
}

static int read_old(struct target *tg, struct pf_error *err)
{
	struct stat st;
	int fd = open(tg->main, O_RDONLY | O_CLOEXEC);
	ssize_t r = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : pf_error_errno(err, PF_ERR_CONFIG, errno,
							     "cannot open %s", tg->main);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PF_CONFIG_FILE_MAX) {
		close(fd);
		return pf_error_set(err, PF_ERR_CONFIG, "%s is not a regular file of at most %d "
				    "bytes", tg->main, PF_CONFIG_FILE_MAX);
	}
	tg->old = xmalloc((size_t)st.st_size + 1);
	while (tg->oldlen < (size_t)st.st_size &&
	       ((r = read(fd, tg->old + tg->oldlen, (size_t)st.st_size - tg->oldlen)) > 0 ||
		(r < 0 && errno == EINTR)))
		tg->oldlen += r > 0 ? (size_t)r : 0;
	close(fd);
	if (r < 0)
		return pf_error_errno(err, PF_ERR_CONFIG, errno, "cannot read %s", tg->main);
	return 0;
}

/* accounts.d/NAME.conf when that folder exists beside an existing main
 * config (one file per account is then the user's habit), else the main
 * config, whose current text is kept to be extended (and restored). */
int setup_target_file(struct target *tg, const char *name, struct pf_error *err)
{
	char *dir = pf_join_path(tg->dir, "accounts.d"), conf[SETUP_NAME_MAX + 8];
	struct stat st;
	int n = snprintf(conf, sizeof conf, "%s.conf", name);

	if (dir == NULL || n < 0 || (size_t)n >= sizeof conf) {
		free(dir);
		return pf_error_set(err, PF_ERR_CONFIG, "config path too long: %s", tg->main);
	}
	if (access(tg->main, F_OK) == 0 && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		tg->file = pf_join_path(dir, conf);
		free(dir);
		if (tg->file == NULL)
			return pf_error_set(err, PF_ERR_CONFIG, "config path too long: %s", tg->main);
		if (access(tg->file, F_OK) == 0)
			return pf_error_set(err, PF_ERR_CONFIG, "%s exists already", tg->file);
		return 0;
	}
	free(dir);
	tg->file = xstrdup(tg->main);
	if (pf_mkdirs(tg->dir, 0700) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create %s", tg->dir);
	return read_old(tg, err);
}

static int write_text(int fd, const struct target *tg, const char *section)
{
	static const char header[] = "# popfetch configuration: see popfetch.conf(5)\n";
	int is_main = strcmp(tg->file, tg->main) == 0;

	if (tg->old != NULL && pf_write_all(fd, tg->old, tg->oldlen) < 0)
		return -1;
	if (section == NULL)
		return 0;
	/* The previous last line may lack its newline. */
	if (tg->oldlen > 0 && tg->old[tg->oldlen - 1] != '\n' && pf_write_all(fd, "\n", 1) < 0)
		return -1;
	if (is_main && tg->old == NULL && pf_write_all(fd, header, sizeof header - 1) < 0)
		return -1;
	return pf_write_all(fd, section, strlen(section));
}

/* The old text plus section (NULL: the old text alone) into a new
 * temporary file beside tg->file, mode 0600 (it may hold a password),
 * fsynced before anyone renames it. */
int setup_write_temp(struct target *tg, const char *section, struct pf_error *err)
{
	char *dir = dir_of(tg->file), *tmpl = pf_join_path(dir, ".popfetch-new.XXXXXX");
	int fd, rc = -1;

	free(dir);
	if (tmpl == NULL)
		return pf_error_set(err, PF_ERR_CONFIG, "config path too long: %s", tg->file);
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create a file beside %s",
			       tg->file);
		free(tmpl);
		return -1;
	}
	tg->tmp = tmpl;
	if (fchmod(fd, 0600) < 0 || write_text(fd, tg, section) < 0 || fsync(fd) < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot write %s", tmpl);
		goto fail;
	}
	rc = 0;
fail:
	if (close(fd) < 0 && rc == 0)
		rc = pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot write %s", tmpl);
	return rc;
}

static int fsync_dir(const char *path, struct pf_error *err)
{
	char *dir = dir_of(path);
	int rc = 0;

	if (pf_fsync_dir(dir) < 0)
		rc = pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot sync folder %s", dir);
	free(dir);
	return rc;
}

/* Replaces the previous file with rename(); a file that did not exist is
 * published with link(), which fails rather than overwrite one that
 * appeared in the meantime. */
int setup_publish(struct target *tg, struct pf_error *err)
{
	if (tg->old != NULL) {
		if (rename(tg->tmp, tg->file) < 0)
			return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot rename %s to %s",
					      tg->tmp, tg->file);
	} else {
		if (link(tg->tmp, tg->file) < 0)
			return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create %s", tg->file);
		(void)unlink(tg->tmp);
	}
	free(tg->tmp);
	tg->tmp = NULL;
	return fsync_dir(tg->file, err);
}

/* After a failed verification: the previous text back, or no file. */
static int restore(struct target *tg, struct pf_error *err)
{
	if (tg->old == NULL)
		return unlink(tg->file) < 0 ? pf_error_errno(err, PF_ERR_LOCAL, errno,
							     "cannot remove %s", tg->file) : 0;
	if (setup_write_temp(tg, NULL, err) < 0 || rename(tg->tmp, tg->file) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot restore %s", tg->file);
	free(tg->tmp);
	tg->tmp = NULL;
	return 0;
}

int setup_verify(struct target *tg, struct pf_error *err)
{
	struct config *cfg = NULL;
	struct pf_error e = { 0 }, e2 = { 0 };

	if (config_load(tg->main, &cfg, &e) == 0) {
		config_free(cfg);
		return 0;
	}
	if (restore(tg, &e2) < 0)
		return pf_error_set(err, e.cls, "%s; and the previous file could not be restored: "
				    "%s", e.msg, e2.msg);
	return pf_error_set(err, e.cls, "the config does not load with the new account, so "
			    "%s was restored: %s", tg->file, e.msg);
}

/* Error messages of the trial load name the temporary file: name the
 * file the user will edit instead (same text, same line numbers). */
int setup_load_error(const struct target *tg, const struct pf_error *e, struct pf_error *err)
{
	const char *at = strstr(e->msg, tg->tmp);

	if (at == NULL)
		return pf_error_set(err, e->cls, "the new account does not load: %s", e->msg);
	return pf_error_set(err, e->cls, "the new account does not load: %.*s%s%s",
			    (int)(at - e->msg), e->msg, tg->file, at + strlen(tg->tmp));
}

/* Loads the new text as popfetch will, then logs in with the loaded
 * account: what is tested is exactly what will be written. */
void setup_target_free(struct target *tg)
{
	if (tg->tmp != NULL)
		(void)unlink(tg->tmp);
	free(tg->tmp);
	if (tg->old != NULL) {
		pf_wipe(tg->old, tg->oldlen);
		free(tg->old);
	}
	free(tg->file);
	free(tg->dir);
	free(tg->main);
}

