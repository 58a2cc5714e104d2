/* cred.c - see cred.h.
 *
 * ~/.netrc is read whole (bounded by PF_NETRC_FILE_MAX) from an fd that
 * was checked with fstat, so the mode we judge is the file we read.
 *
 * password_command runs as /bin/sh -c CMD with stdin from /dev/null, stdout
 * into a pipe and stderr inherited (so gpg or pass can still talk to the
 * user).  Everything, reading and waiting for the exit, shares one deadline:
 * a command that hangs, or keeps the pipe open, is killed with SIGKILL. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "util.h"

#include "cred.h"
#include "trust.h"
#include "oauth2.h"

extern char **environ;

/* How often the exit of a child that closed its stdout is polled. */
#define CRED_WAIT_STEP_MS 10

/* The start of the command's output: a first line of up to PF_SECRET_MAX
 * bytes plus CR LF. */
struct cmd_out {
	char buf[PF_SECRET_MAX + 2];
	size_t len;
};

/* In the child between fork and exec: async-signal-safe calls only (the
 * parent may have threads holding malloc's lock). */
static void child_exec(int out_fd, char *const argv[])
{
	sigset_t none;
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(126);
	/* A daemon blocks or ignores signals it handles itself; the command
	 * must start with the defaults (SIGPIPE in particular). */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	/* Inherited descriptors would outlive us in a gpg-agent the command
	 * starts (an inherited lock fd would keep the account locked).  They are
	 * O_CLOEXEC already; this is the belt to those braces. */
	(void)close_range(3, ~0U, 0);
	execve("/bin/sh", argv, environ);
	_exit(127);
}

static int ms_left(int64_t deadline)
{
	int64_t left = deadline - pf_now_ms();

	return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

/* Reads until EOF or the deadline.  Bytes beyond the buffer are read and
 * dropped: `pass show` prints more lines after the password, and closing
 * the pipe early would kill the command with SIGPIPE.  0 on EOF, 1 on
 * timeout, -1 with errno on a read error. */
static int read_output(int fd, struct cmd_out *out, int64_t deadline)
{
	char scratch[512];
	int rc;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = ms_left(deadline), full = out->len == sizeof out->buf;
		ssize_t n;

		rc = 1;
		if (left == 0)
			break;
		rc = poll(&pfd, 1, left);
		if (rc <= 0) {
			if (rc < 0 && errno != EINTR)
				break;
			continue; /* EINTR or poll's timeout: ms_left() decides */
		}
		n = full ? read(fd, scratch, sizeof scratch)
			 : read(fd, out->buf + out->len, sizeof out->buf - out->len);
		rc = n == 0 ? 0 : -1;
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
		if (n > 0 && !full)
			out->len += (size_t)n;
	}
	pf_wipe(scratch, sizeof scratch);
	return rc;
}

/* Waits for pid until the deadline; then kills it.  Returns 0 with
 * *status_r set, or 1 when it had to be killed. */
static int reap(pid_t pid, int64_t deadline, int *status_r)
{
	const struct timespec step = { 0, CRED_WAIT_STEP_MS * 1000000L };

	for (;;) {
		pid_t r = waitpid(pid, status_r, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return 1; /* reaped elsewhere: nothing left to kill */
		if (ms_left(deadline) == 0)
			break;
		(void)nanosleep(&step, NULL);
	}
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, status_r, 0) < 0 && errno == EINTR)
		;
	return 1;
}

/* Starts the command; returns its pid with the read end of its stdout in
 * *fd_r, or -1 with err set. */
static pid_t spawn(const struct account *acct, int *fd_r, struct pf_error *err)
{
	char *argv[] = { "sh", "-c", acct->password_command, NULL };
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return pf_error_errno(err, PF_ERR_CONFIG, errno,
				      "account '%s': password_command: pipe", acct->name);
	pid = fork();
	if (pid == 0)
		child_exec(p[1], argv);
	close(p[1]);
	if (pid < 0) {
		pf_error_errno(err, PF_ERR_CONFIG, errno, "account '%s': password_command: fork",
			       acct->name);
		close(p[0]);
		return -1;
	}
	*fd_r = p[0];
	return pid;
}

/* The first line of out (CR LF or LF stripped) in a new string, or NULL
 * with err set.  Never quotes the output. */
static char *first_line(const struct account *acct, struct cmd_out *out, struct pf_error *err)
{
	char *nl = memchr(out->buf, '\n', out->len);
	size_t len = nl != NULL ? (size_t)(nl - out->buf) : out->len;
	char *s;

	if (len > 0 && out->buf[len - 1] == '\r')
		len--;
	if (len > PF_SECRET_MAX) {
		pf_error_set(err, PF_ERR_CONFIG, "account '%s': password_command printed a line "
			     "longer than %d bytes", acct->name, PF_SECRET_MAX);
		return NULL;
	}
	if (len == 0) {
		pf_error_set(err, PF_ERR_CONFIG, "account '%s': password_command printed nothing",
			     acct->name);
		return NULL;
	}
	if (memchr(out->buf, '\0', len) != NULL || memchr(out->buf, '\r', len) != NULL) {
		pf_error_set(err, PF_ERR_CONFIG, "account '%s': password_command printed a NUL "
			     "or CR inside the password", acct->name);
		return NULL;
	}
	s = xmalloc(len + 1);
	memcpy(s, out->buf, len);
	s[len] = '\0';
	return s;
}

static int status_error(const struct account *acct, int status, struct pf_error *err)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return pf_error_set(err, PF_ERR_CONFIG, "account '%s': password_command failed "
				    "(killed by signal %d)", acct->name, WTERMSIG(status));
	return pf_error_set(err, PF_ERR_CONFIG, "account '%s': password_command failed "
			    "(exit status %d)", acct->name, WEXITSTATUS(status));
}

static char *run_command(const struct account *acct, int timeout_s, struct pf_error *err)
{
	int64_t deadline = pf_now_ms() + (int64_t)timeout_s * 1000;
	struct cmd_out *out = xcalloc(1, sizeof *out);
	char *secret = NULL;
	int fd = -1, rd, killed, status = 0;
	pid_t pid = spawn(acct, &fd, err);

	if (pid < 0)
		goto fail;
	rd = read_output(fd, out, deadline);
	close(fd);
	killed = reap(pid, rd == 1 ? 0 : deadline, &status);
	if (rd == 1 || killed) {
		pf_error_set(err, PF_ERR_CONFIG, "account '%s': password_command timed out after %d s",
			     acct->name, timeout_s);
		goto fail;
	}
	if (rd < 0) {
		pf_error_errno(err, PF_ERR_CONFIG, errno, "account '%s': password_command: read",
			       acct->name);
		goto fail;
	}
	if (status_error(acct, status, err) < 0)
		goto fail;
	secret = first_line(acct, out, err);
fail:
	pf_wipe(out, sizeof *out);
	free(out);
	return secret;
}

/* --- ~/.netrc ----------------------------------------------------------- */

/* The parse of one file: a cursor over its bytes and the entry being read.
 * Holds secrets: wiped before it is freed. */
struct netrc {
	const char *s;
	size_t len, pos;
	char tok[PF_SECRET_MAX + 1];
	/* The current entry: 1 machine HOST, 2 default, 0 another machine. */
	int kind;
	char login[PF_SECRET_MAX + 1], pw[PF_SECRET_MAX + 1];
	int has_login, has_pw;
	/* The default entry's password, used when no machine matches. */
	char fallback[PF_SECRET_MAX + 1];
	int has_fallback;
};

static int netrc_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Skips blanks and '#' comments (curl and Python's netrc allow them). */
static void netrc_skip(struct netrc *n)
{
	while (n->pos < n->len) {
		if (netrc_space(n->s[n->pos])) {
			n->pos++;
		} else if (n->s[n->pos] == '#') {
			while (n->pos < n->len && n->s[n->pos] != '\n')
				n->pos++;
		} else {
			break;
		}
	}
}

/* The next token into n->tok: a word, or a "quoted string" with backslash
 * escapes (as curl reads it).  1, 0 at the end, -1 when it is too long. */
static int netrc_token(struct netrc *n)
{
	size_t t = 0;
	int quoted;

	netrc_skip(n);
	if (n->pos >= n->len)
		return 0;
	quoted = n->s[n->pos] == '"';
	n->pos += (size_t)quoted;
	while (n->pos < n->len) {
		char c = n->s[n->pos];

		if (quoted ? c == '"' : netrc_space(c))
			break;
		if (quoted && c == '\\' && n->pos + 1 < n->len)
			c = n->s[++n->pos];
		if (c == '\0' || t == sizeof n->tok - 1)
			return -1;
		n->tok[t++] = c;
		n->pos++;
	}
	n->pos += (size_t)(quoted && n->pos < n->len);
	n->tok[t] = '\0';
	return 1;
}

/* ftp(1): a macdef body runs to the next empty line. */
static void netrc_skip_macdef(struct netrc *n)
{
	while (n->pos < n->len &&
	       !(n->s[n->pos] == '\n' && n->pos + 1 < n->len && n->s[n->pos + 1] == '\n'))
		n->pos++;
}

/* Whether the entry just read has a password for user. */
static int netrc_fits(const struct netrc *n, const char *user)
{
	return n->has_pw && (!n->has_login || strcmp(n->login, user) == 0);
}

/* Ends the current entry, remembering the first fitting default one. */
static void netrc_end_entry(struct netrc *n, const char *user)
{
	if (n->kind == 2 && !n->has_fallback && netrc_fits(n, user)) {
		memcpy(n->fallback, n->pw, sizeof n->pw);
		n->has_fallback = 1;
	}
	n->kind = 0;
	n->has_login = n->has_pw = 0;
}

/* Reads the value after a keyword into dst. */
static int netrc_value(struct netrc *n, char *dst, int *has_r)
{
	if (netrc_token(n) != 1)
		return -1;
	memcpy(dst, n->tok, sizeof n->tok);
	*has_r = 1;
	return 0;
}

/* Walks the file.  1 with the password in n->pw, 0 when no entry fits,
 * -1 on a malformed file. */
static int netrc_parse(struct netrc *n, const char *host, const char *user)
{
	int rc;

	while ((rc = netrc_token(n)) == 1) {
		int machine = strcmp(n->tok, "machine") == 0, deflt = strcmp(n->tok, "default") == 0;

		if (machine || deflt) {
			if (n->kind == 1 && netrc_fits(n, user))
				return 1;
			netrc_end_entry(n, user);
			n->kind = 2;
			if (machine && netrc_token(n) != 1)
				return -1;
			if (machine)
				n->kind = strcasecmp(n->tok, host) == 0 ? 1 : 0;
		} else if (strcmp(n->tok, "login") == 0) {
			rc = netrc_value(n, n->login, &n->has_login);
		} else if (strcmp(n->tok, "password") == 0) {
			rc = netrc_value(n, n->pw, &n->has_pw);
		} else if (strcmp(n->tok, "account") == 0) {
			rc = netrc_token(n) == 1 ? 1 : -1;
		} else if (strcmp(n->tok, "macdef") == 0) {
			rc = netrc_token(n) == 1 ? 1 : -1;
			netrc_skip_macdef(n);
		}
		if (rc < 0)
			return -1;
	}
	if (rc < 0)
		return -1;
	if (n->kind == 1 && netrc_fits(n, user))
		return 1;
	netrc_end_entry(n, user);
	if (!n->has_fallback)
		return 0;
	memcpy(n->pw, n->fallback, sizeof n->pw);
	return 1;
}

/* Opens path and checks it as ftp(1) does.  Returns the fd, -2 when the
 * file does not exist, or -1 with err set. */
static int netrc_open(const char *path, off_t *size_r, struct pf_error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? -2 : pf_error_errno(err, PF_ERR_CONFIG, errno, "%s", path);
	if (fstat(fd, &st) < 0) {
		pf_error_errno(err, PF_ERR_CONFIG, errno, "fstat %s", path);
	} else if (!S_ISREG(st.st_mode)) {
		pf_error_set(err, PF_ERR_CONFIG, "%s is not a regular file", path);
	} else if (trust_check(&st, path, "passwords", err) < 0) {
		/* err is set; ftp(1) refuses such a file too ("Error: .netrc
		 * file is readable by others."). */
	} else if (st.st_size > PF_NETRC_FILE_MAX) {
		pf_error_set(err, PF_ERR_CONFIG, "%s is larger than %d bytes", path, PF_NETRC_FILE_MAX);
	} else {
		*size_r = st.st_size;
		return fd;
	}
	close(fd);
	return -1;
}

/* Reads the whole file into a new buffer of *len_r bytes, or NULL. */
static char *netrc_read(int fd, const char *path, off_t size, size_t *len_r,
			struct pf_error *err)
{
	char *buf = xmalloc((size_t)size + 1);
	size_t len = 0;

	/* One byte more than fstat said: a file that grew is refused. */
	while (len <= (size_t)size) {
		ssize_t r = read(fd, buf + len, (size_t)size + 1 - len);

		if (r == 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || len + (size_t)r > (size_t)size) {
			pf_error_errno(err, PF_ERR_CONFIG, r < 0 ? errno : EFBIG, "reading %s", path);
			pf_wipe(buf, len);
			free(buf);
			return NULL;
		}
		len += (size_t)r;
	}
	*len_r = len;
	return buf;
}

int cred_netrc_lookup(const char *path, const char *host, const char *user, char **secret_r,
		      struct pf_error *err)
{
	struct netrc *n = NULL;
	char *buf = NULL;
	size_t len = 0;
	off_t size = 0;
	int fd, rc = -1;

	*secret_r = NULL;
	fd = netrc_open(path, &size, err);
	if (fd < 0)
		return fd == -2 ? 0 : -1;
	buf = netrc_read(fd, path, size, &len, err);
	close(fd);
	if (buf == NULL)
		goto fail;
	n = xcalloc(1, sizeof *n);
	n->s = buf;
	n->len = len;
	rc = netrc_parse(n, host, user);
	if (rc < 0)
		pf_error_set(err, PF_ERR_CONFIG, "%s is malformed (a keyword without its value, a "
			     "NUL byte, or a token longer than %d bytes)", path, PF_SECRET_MAX);
	if (rc == 1)
		*secret_r = xstrdup(n->pw);
fail:
	if (n != NULL)
		pf_wipe(n, sizeof *n);
	free(n);
	if (buf != NULL)
		pf_wipe(buf, len);
	free(buf);
	return rc;
}

/* No password and no password_command: HOME/.netrc must have one. */
static char *from_netrc(const struct account *acct, struct pf_error *err)
{
	const char *home = getenv("HOME");
	char path[PF_PATH_MAX];
	char *secret;
	int n;

	if (home == NULL || home[0] == '\0') {
		pf_error_set(err, PF_ERR_CONFIG, "account '%s' has neither password nor "
			     "password_command, and HOME is not set to find ~/.netrc", acct->name);
		return NULL;
	}
	n = snprintf(path, sizeof path, "%s/.netrc", home);
	if (n < 0 || (size_t)n >= sizeof path) {
		pf_error_set(err, PF_ERR_CONFIG, "account '%s': HOME is too long", acct->name);
		return NULL;
	}
	n = cred_netrc_lookup(path, acct->host, acct->user, &secret, err);
	if (n == 0)
		pf_error_set(err, PF_ERR_CONFIG, "account '%s' has neither password nor "
			     "password_command, and %s %s", acct->name, path,
			     access(path, F_OK) == 0 ? "has no password for this machine and login"
						     : "does not exist");
	return secret;
}

char *cred_get_password(const struct account *acct, int timeout_s, struct pf_error *err)
{
	if (acct->password != NULL)
		return xstrdup(acct->password);
	if (acct->password_command == NULL)
		return from_netrc(acct, err);
	if (timeout_s <= 0 || timeout_s > PF_TIMEOUT_MAX)
		timeout_s = PF_TIMEOUT_MAX;
	return run_command(acct, timeout_s, err);
}

char *cred_get_secret(const struct config *cfg, const struct account *acct,
		      struct pf_error *err)
{
	char *token = NULL;

	if (!acct->oauth2.enabled)
		return cred_get_password(acct, acct->timeout, err);
	if (oauth2_access_token(cfg, acct, &token, err) < 0)
		return NULL;
	return token;
}
