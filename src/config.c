/* config.c - see config.h.  Loading: the main file, then every *.conf in
 * accounts.d/, each parsed into its own cfg_t (so every account remembers
 * the file that defined it), checked for permissions, and copied out.
 *
 * The module's files: config_opts.c is the grammar (option tables and one
 * validate callback per option), config_check.c the checks that relate
 * several keys of an account, config_build.c turns parsed sections into
 * struct config, config_text.c reads the text and expands paths.  This file
 * drives them and turns libconfuse's messages into "FILE:LINE: sentence"
 * in the pf_error of the load in progress. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <confuse.h>

#include "bounds.h"
#include "util.h"

#include "config.h"
#include "config_int.h"
#include "config_text.h"
#include "trust.h"

/* The pf_error of the config_load() in progress.  libconfuse's error
 * callback has no user pointer; thread-local keeps a reload in one thread
 * from writing into another's error. */
static _Thread_local struct pf_error *cur_err;

/* --- error reporting -------------------------------------------------- */

/* libconfuse 3.3's own sentences, reworded to name what the user wrote.
 * Its texts go through gettext only after setlocale(), which popfetch never
 * calls; an unknown text is passed through unchanged. */
static const struct {
	const char *from;
	const char *before;
	const char *after;
	int name_section;
} rewrites[] = {
	{ "no such option '%s'", "unknown option '", "'", 1 },
	{ "found duplicate title '%s'", "account '", "' is defined twice", 0 },
	{ "invalid integer value for option '%s'", "invalid value for option '",
	  "' (expected a whole number)", 0 },
	{ "integer value for option '%s' is out of range", "value for option '",
	  "' is out of range", 0 },
	{ "invalid boolean value for option '%s'", "invalid value for option '",
	  "' (expected true or false)", 0 },
	{ "missing title for section '%s'", "section '",
	  "' needs a name, as in: account NAME { ... }", 0 },
};

static int rewrite(cfg_t *cfg, const char *fmt, va_list ap, char *out, size_t cap)
{
	for (size_t i = 0; i < sizeof rewrites / sizeof rewrites[0]; i++) {
		const char *arg;
		int in_sec = rewrites[i].name_section && cfg != NULL &&
			     strcmp(cfg->name, "root") != 0;

		if (strcmp(fmt, rewrites[i].from) != 0)
			continue;
		arg = va_arg(ap, const char *);
		(void)snprintf(out, cap, "%s%s%s%s%s%s", rewrites[i].before, arg,
			       rewrites[i].after, in_sec ? " in section '" : "",
			       in_sec ? cfg->name : "", in_sec ? "'" : "");
		return 1;
	}
	return 0;
}

static void on_cfg_error(cfg_t *cfg, const char *fmt, va_list ap) PF_PRINTF(2, 0);

static void on_cfg_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[PF_ERRMSG_MAX];
	va_list aq;
	int done;

	va_copy(aq, ap);
	done = rewrite(cfg, fmt, aq, msg, sizeof msg);
	va_end(aq);
	if (!done)
		(void)vsnprintf(msg, sizeof msg, fmt, ap);
	if (cfg != NULL && cfg->filename != NULL && cfg->line > 0)
		(void)pf_error_set(cur_err, PF_ERR_CONFIG, "%s:%d: %s", cfg->filename,
				   cfg->line, msg);
	else if (cfg != NULL && cfg->filename != NULL)
		(void)pf_error_set(cur_err, PF_ERR_CONFIG, "%s: %s", cfg->filename, msg);
	else
		(void)pf_error_set(cur_err, PF_ERR_CONFIG, "%s", msg);
}

int config_fail(cfg_t *cfg, const char *fmt, ...)
{
	char msg[PF_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cfg_error(cfg, "%s", msg);
	return -1;
}

/* DESIGN.md section 3: the main file can always make popfetch run a
 * command; an accounts.d file only when it sets a key that runs one or
 * holds a secret.  A secret also needs mode 0600 (like fetchmail). */
static int check_trust(cfg_t *cfg, const struct stat *st, const char *path, int main_file,
		       struct pf_error *err)
{
	const char *secret;
	int needs = config_trust_needs(cfg, &secret);

	if (!needs && !main_file)
		return 0;
	return trust_check(st, path, secret, err);
}

/* Parses text (the contents of path) into a new cfg_t, or NULL. */
static cfg_t *parse_text(char *text, size_t len, const char *path, int main_file,
			 struct pf_error *err)
{
	cfg_t *cfg = config_parser_new(main_file);
	FILE *fp = NULL;
	int rc;

	if (cfg == NULL) {
		pf_error_set(err, PF_ERR_INTERNAL, "cannot set up the config parser");
		goto fail;
	}
	/* cfg_parse_fp() names the file by cfg->filename; libconfuse frees it. */
	cfg->filename = xstrdup(path);
	(void)cfg_set_error_function(cfg, on_cfg_error);
	fp = fmemopen(text, len, "r");
	if (fp == NULL) {
		pf_error_errno(err, PF_ERR_INTERNAL, errno, "cannot parse %s: fmemopen", path);
		goto fail;
	}
	/* Unbuffered: no stdio copy of the password is left to wipe. */
	(void)setvbuf(fp, NULL, _IONBF, 0);
	cur_err = err;
	rc = cfg_parse_fp(cfg, fp);
	cur_err = NULL;
	fclose(fp);
	if (rc == CFG_SUCCESS)
		return cfg;
	pf_error_set(err, PF_ERR_CONFIG, "%s: syntax error", path);
fail:
	if (cfg != NULL) {
		config_wipe_secrets(cfg);
		cfg_free(cfg);
	}
	return NULL;
}

static int load_file(struct config *c, const char *path, int main_file, struct pf_error *err)
{
	struct stat st;
	size_t len = 0;
	char *text = config_read_file(path, &st, &len, err);
	cfg_t *cfg = NULL;
	int rc = -1;

	if (text == NULL)
		return -1;
	if (config_prescan(text, path, err) < 0)
		goto fail;
	cfg = parse_text(text, len, path, main_file, err);
	if (cfg == NULL || check_trust(cfg, &st, path, main_file, err) < 0)
		goto fail;
	if (main_file && config_copy_globals(c, cfg, err) < 0)
		goto fail;
	rc = config_add_accounts(c, cfg, path, err);
fail:
	if (cfg != NULL) {
		config_wipe_secrets(cfg);
		cfg_free(cfg);
	}
	pf_wipe(text, len);
	free(text);
	return rc;
}

/* --- accounts.d ------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_conf_name(const char *name)
{
	size_t n = strlen(name);

	/* "*.conf" as a shell glob matches it: no dot files. */
	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* The *.conf names in d that are regular files (symlinks followed; a name
 * that cannot be stat'ed is kept so that load_file reports why). */
static int list_conf(DIR *d, const char *dir, char ***names_r, size_t *n_r, struct pf_error *err)
{
	struct dirent *de;
	struct stat st;

	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!is_conf_name(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 && !S_ISREG(st.st_mode))
			continue;
		if (*n_r >= PF_CONFIG_ACCOUNTS_MAX)
			return pf_error_set(err, PF_ERR_CONFIG, "%s holds more than %d files", dir,
					    PF_CONFIG_ACCOUNTS_MAX);
		*names_r = xrealloc(*names_r, (*n_r + 1) * sizeof **names_r);
		(*names_r)[(*n_r)++] = xstrdup(de->d_name);
		errno = 0;
	}
	if (errno != 0)
		return pf_error_errno(err, PF_ERR_CONFIG, errno, "cannot list %s", dir);
	return 0;
}

/* accounts.d beside the main file; "config" alone means the current dir. */
static char *accounts_dir(const char *main_path)
{
	const char *slash = strrchr(main_path, '/');
	char buf[PF_PATH_MAX];
	int n;

	if (slash == NULL)
		n = snprintf(buf, sizeof buf, "accounts.d");
	else
		n = snprintf(buf, sizeof buf, "%.*s/accounts.d", (int)(slash - main_path),
			     main_path);
	if (n < 0 || (size_t)n >= sizeof buf)
		return NULL;
	return xstrdup(buf);
}

static int load_accounts_d(struct config *c, struct pf_error *err)
{
	char *dir = accounts_dir(c->path), **names = NULL;
	size_t n = 0;
	DIR *d = NULL;
	int rc = -1;

	if (dir == NULL)
		return pf_error_set(err, PF_ERR_CONFIG, "config path too long: %s", c->path);
	d = opendir(dir);
	if (d == NULL) {
		rc = errno == ENOENT ? 0 : pf_error_errno(err, PF_ERR_CONFIG, errno, "cannot open %s",
							   dir);
		goto fail;
	}
	if (list_conf(d, dir, &names, &n, err) < 0)
		goto fail;
	/* names is NULL for an empty accounts.d/, and qsort(NULL, 0) undefined. */
	if (n > 1)
		qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		char *path = pf_join_path(dir, names[i]);
		int r = path != NULL ? load_file(c, path, 0, err)
				     : pf_error_set(err, PF_ERR_CONFIG, "path too long in %s", dir);

		free(path);
		if (r < 0)
			goto fail;
	}
	rc = 0;
fail:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (d != NULL)
		closedir(d);
	free(dir);
	return rc;
}

/* --- the interface ---------------------------------------------------- */

int config_load(const char *path, struct config **cfg_r, struct pf_error *err)
{
	struct config *c = xcalloc(1, sizeof *c);

	*cfg_r = NULL;
	c->path = path != NULL ? xstrdup(path) : config_default_path();
	if (c->path == NULL) {
		pf_error_set(err, PF_ERR_CONFIG, "cannot find the config file: HOME is not set "
			     "(use --config FILE)");
		goto fail;
	}
	if (load_file(c, c->path, 1, err) < 0 || load_accounts_d(c, err) < 0)
		goto fail;
	/* The uid stores there decide what is deleted on the server; a
	 * missing one is created 0700 on first use. */
	if (trust_check_path(c->state_dir, NULL, err) < 0)
		goto fail;
	if (c->naccounts == 0) {
		pf_error_set(err, PF_ERR_CONFIG, "no account defined in %s", c->path);
		goto fail;
	}
	*cfg_r = c;
	return 0;
fail:
	config_free(c);
	return -1;
}
