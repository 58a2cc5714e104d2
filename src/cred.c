/* cred.c - see cred.h.
 *
 * password_command runs as /bin/sh -c CMD with stdin from /dev/null, stdout
 * into a pipe and stderr inherited (so gpg or pass can still talk to the
 * user).  Everything, reading and waiting for the exit, shares one deadline:
 * a command that hangs, or keeps the pipe open, is killed with SIGKILL. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "util.h"

#include "cred.h"

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

char *cred_get_password(const struct account *acct, int timeout_s, struct pf_error *err)
{
	if (acct->password != NULL)
		return xstrdup(acct->password);
	if (acct->password_command == NULL) {
		pf_error_set(err, PF_ERR_CONFIG,
			     "account '%s' has neither password nor password_command", acct->name);
		return NULL;
	}
	if (timeout_s <= 0 || timeout_s > PF_TIMEOUT_MAX)
		timeout_s = PF_TIMEOUT_MAX;
	return run_command(acct, timeout_s, err);
}
