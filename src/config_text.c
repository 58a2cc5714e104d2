/* config_text.c - see config_text.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"
#include "config.h"
#include "config_text.h"
#include "util.h"

/* --- paths ------------------------------------------------------------ */

static const char *config_home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && h[0] != '\0')
		return h;
	pw = getpwuid(getuid());
	return pw != NULL && pw->pw_dir != NULL && pw->pw_dir[0] != '\0' ? pw->pw_dir : NULL;
}

/* $XDG_x_HOME/popfetch[/leaf], else ~/fallback/popfetch[/leaf].  The XDG
 * Base Directory spec says a relative XDG_*_HOME is invalid: ignore it. */
char *config_xdg_path(const char *var, const char *fallback, const char *leaf)
{
	const char *x = getenv(var), *home;
	char buf[PF_PATH_MAX];
	int n;

	if (x != NULL && x[0] == '/')
		n = snprintf(buf, sizeof buf, "%s/popfetch%s%s", x, leaf ? "/" : "", leaf ? leaf : "");
	else if ((home = config_home_dir()) != NULL)
		n = snprintf(buf, sizeof buf, "%s/%s/popfetch%s%s", home, fallback,
			     leaf ? "/" : "", leaf ? leaf : "");
	else
		return NULL;
	if (n < 0 || (size_t)n >= sizeof buf)
		return NULL;
	return xstrdup(buf);
}

char *config_default_path(void)
{
	return config_xdg_path("XDG_CONFIG_HOME", ".config", "config");
}

int config_append(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
	if (len >= cap - *n)
		return -1;
	memcpy(out + *n, s, len);
	*n += len;
	out[*n] = '\0';
	return 0;
}

/* One "$NAME" or "${NAME}" at *in; a "$" not followed by a name is kept. */
static enum expand_rc expand_var(const char **in, char *out, size_t cap, size_t *n,
				 char *var, size_t var_cap)
{
	const char *p = *in + 1;
	int braced = *p == '{';
	size_t len = 0;
	const char *val;

	p += braced;
	if (isalpha((unsigned char)p[0]) || p[0] == '_')
		while (isalnum((unsigned char)p[len]) || p[len] == '_')
			len++;
	if (len == 0 && !braced) {
		*in += 1;
		return config_append(out, cap, n, "$", 1) < 0 ? EXP_TOO_LONG : EXP_OK;
	}
	if (len == 0 || len >= var_cap || (braced && p[len] != '}'))
		return EXP_SYNTAX;
	memcpy(var, p, len);
	var[len] = '\0';
	val = getenv(var);
	if (val == NULL)
		return EXP_UNSET;
	*in = p + len + braced;
	return config_append(out, cap, n, val, strlen(val)) < 0 ? EXP_TOO_LONG : EXP_OK;
}

/* A leading "~" or "~/" becomes $HOME; $NAME and ${NAME} anywhere become
 * the environment variable.  On EXP_UNSET, var names the variable. */
enum expand_rc config_expand_path(const char *in, char *out, size_t cap, char *var,
				  size_t var_cap)
{
	size_t n = 0;
	enum expand_rc rc;

	out[0] = '\0';
	if (in[0] == '~' && (in[1] == '\0' || in[1] == '/')) {
		const char *home = config_home_dir();

		if (home == NULL)
			return EXP_NO_HOME;
		if (config_append(out, cap, &n, home, strlen(home)) < 0)
			return EXP_TOO_LONG;
		in++;
	}
	while (*in != '\0') {
		if (*in == '$') {
			rc = expand_var(&in, out, cap, &n, var, var_cap);
			if (rc != EXP_OK)
				return rc;
			continue;
		}
		if (config_append(out, cap, &n, in, 1) < 0)
			return EXP_TOO_LONG;
		in++;
	}
	return EXP_OK;
}

/* --- reading one file ------------------------------------------------- */

/* Reads path whole (at most PF_CONFIG_FILE_MAX) into a NUL-terminated
 * buffer, with the fstat of the very file read in st (the permission check
 * must judge the file we parsed, not whatever the name points to later). */
char *config_read_file(const char *path, struct stat *st, size_t *len_r, struct pf_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;

	if (fd < 0) {
		pf_error_set(err, PF_ERR_CONFIG, "cannot read config %s: %s%s", path,
			     strerror(errno), errno == ENOENT ? " (see popfetch.conf(5))" : "");
		return NULL;
	}
	if (fstat(fd, st) < 0) {
		pf_error_errno(err, PF_ERR_CONFIG, errno, "cannot read config %s: fstat", path);
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		pf_error_set(err, PF_ERR_CONFIG, "config %s is not a regular file", path);
		goto fail;
	}
	buf = xmalloc(PF_CONFIG_FILE_MAX + 1);
	while ((r = read(fd, buf + len, PF_CONFIG_FILE_MAX + 1 - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			pf_error_errno(err, PF_ERR_CONFIG, errno, "cannot read config %s", path);
			goto fail;
		}
		len += (size_t)r;
		if (len > PF_CONFIG_FILE_MAX) {
			pf_error_set(err, PF_ERR_CONFIG, "config %s is larger than %d bytes", path,
				     PF_CONFIG_FILE_MAX);
			goto fail;
		}
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		pf_error_set(err, PF_ERR_CONFIG, "config %s contains a NUL byte (not a text file?)",
			     path);
		goto fail;
	}
	close(fd);
	*len_r = len;
	return buf;
fail:
	if (buf != NULL) {
		pf_wipe(buf, len);
		free(buf);
	}
	close(fd);
	return NULL;
}

/* Two flaws of libconfuse 3.3's lexer are worked around on the text before
 * it parses it:
 * - it replaces ${NAME} in unquoted and double-quoted strings by the
 *   environment variable, and an unset one by nothing, so "${MAILROOT}/work"
 *   would silently become "/work": an unset variable is refused here, with
 *   its line (${NAME:-default} keeps libconfuse's meaning);
 * - it counts a line twice or three times after a comment, so every later
 *   error would name the wrong line: comments are blanked here (newlines
 *   kept), which libconfuse would have skipped anyway.
 * The scan follows the lexer's rules: "..." and '...' with backslash
 * escapes; '#' starts a comment anywhere outside a string; "//" and slash-star
 * only where a token would start (its longest-match rule makes "//x" a
 * word). */
static int env_ref_ok(const char *p, const char *path, int line, struct pf_error *err)
{
	const char *end = strchr(p + 2, '}');
	size_t len;
	char name[PF_NAME_MAX + 1];

	if (end == NULL)
		return 0; /* no match for libconfuse either: a literal '$' */
	len = (size_t)(end - (p + 2));
	if (len >= 2 && memmem(p + 2, len, ":-", 2) != NULL)
		return 0;
	if (len > PF_NAME_MAX)
		len = PF_NAME_MAX;
	memcpy(name, p + 2, len);
	name[len] = '\0';
	if (getenv(name) != NULL)
		return 0;
	return pf_error_set(err, PF_ERR_CONFIG, "%s:%d: environment variable '%.64s' is not set "
			    "(write ${%.64s:-default} for a default)", path, line, name, name);
}

/* A character libconfuse's unquoted-word rule accepts. */
static int word_char(char c)
{
	return c != '\0' && strchr(" #\"'\t\n\r={}()+,*", c) == NULL;
}

/* Length of the comment opener at p (outside strings), 0 if none. */
static size_t comment_opener(const char *text, const char *p, int *block_r)
{
	size_t n = 0;

	*block_r = 0;
	if (*p == '#')
		return 1;
	if (p > text && word_char(p[-1]))
		return 0; /* inside a word */
	if (p[0] == '/' && p[1] == '*') {
		*block_r = 1;
		return 2;
	}
	while (p[n] == '/')
		n++;
	return n >= 2 && !word_char(p[n]) ? n : 0;
}

/* Blanks the comment at p; returns where the text goes on ('\n' or '\0'
 * for a line comment, after the closing star and slash for a block one). */
static char *blank_comment(char *p, size_t opener, int block, int *line)
{
	memset(p, ' ', opener);
	p += opener;
	for (; *p != '\0'; p++) {
		if (!block && *p == '\n')
			return p;
		if (block && p[0] == '*' && p[1] == '/') {
			p[0] = p[1] = ' ';
			return p + 2;
		}
		if (*p == '\n')
			(*line)++;
		else
			*p = ' ';
	}
	return p;
}

int config_prescan(char *text, const char *path, struct pf_error *err)
{
	enum { PLAIN, DQUOTE, SQUOTE } st = PLAIN;
	int line = 1, block;
	size_t n;

	for (char *p = text; *p != '\0'; p++) {
		line += *p == '\n';
		if (st != PLAIN && p[0] == '\\' && p[1] != '\0') {
			line += p[1] == '\n';
			p++;
		} else if (st == SQUOTE) {
			st = *p == '\'' ? PLAIN : SQUOTE;
		} else if (p[0] == '$' && p[1] == '{') {
			if (env_ref_ok(p, path, line, err) < 0)
				return -1;
		} else if (*p == '"') {
			st = st == PLAIN ? DQUOTE : PLAIN;
		} else if (st == PLAIN && *p == '\'') {
			st = SQUOTE;
		} else if (st == PLAIN && (n = comment_opener(text, p, &block)) > 0) {
			p = blank_comment(p, n, block, &line) - 1;
		}
	}
	return 0;
}
