/* child.c - see child.h.
 *
 * One poll(2) loop serves the command's stdin, its stderr and its exit:
 * the exit is seen through a pidfd (Linux 5.3) where the kernel offers
 * one, else by waitpid(WNOHANG) every CHILD_WAIT_STEP_MS.  Reading stderr
 * while writing stdin matters: a command that fills its stderr pipe while
 * we wait to write would otherwise block both of us until the deadline. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "util.h"

extern char **environ;

/* How often the exit is checked when there is no pidfd. */
#define CHILD_WAIT_STEP_MS 10

/* Variables of popfetch's environment a command may see (child.h). */
static const char *const env_keep[] = {
	"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR",
	"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME",
	"XDG_RUNTIME_DIR",
};

#define ENV_DEFAULT_PATH "PATH=/usr/local/bin:/usr/bin:/bin"

struct child {
	pid_t pid;
	int in_fd;                 /* our end of its stdin; -1 once closed */
	int err_fd;                /* our end of its stderr; -1 at EOF */
	int pidfd;                 /* -1: none, poll with waitpid */
	int64_t deadline;
	int reaped, wstatus;
	struct child_status st;
	char line[CHILD_ERRLINE_MAX];
	size_t line_len;
	int line_done;
};

/* --- the environment ------------------------------------------------------ */

static int env_wanted(const char *entry)
{
	size_t n = strcspn(entry, "=");

	if (entry[n] != '=')
		return 0;
	if (n > 3 && strncmp(entry, "LC_", 3) == 0)
		return 1;
	for (size_t i = 0; i < sizeof env_keep / sizeof env_keep[0]; i++)
		if (strlen(env_keep[i]) == n && strncmp(entry, env_keep[i], n) == 0)
			return 1;
	return 0;
}

/* A new NULL-ended array pointing into environ and extra (not copies:
 * only the array is freed). */
static char **env_build(const char *const *extra)
{
	size_t n = 0, nextra = 0, k = 0;
	int has_path = 0;
	char **env;

	while (environ != NULL && environ[n] != NULL)
		n++;
	while (extra != NULL && extra[nextra] != NULL && nextra < CHILD_ENV_EXTRA_MAX)
		nextra++;
	env = xcalloc(n + nextra + 2, sizeof *env);
	for (size_t i = 0; i < n; i++) {
		if (!env_wanted(environ[i]))
			continue;
		has_path |= strncmp(environ[i], "PATH=", 5) == 0;
		env[k++] = environ[i];
	}
	/* sh would fall back to its own default; say ours explicitly. */
	if (!has_path)
		env[k++] = (char *)ENV_DEFAULT_PATH;
	for (size_t i = 0; i < nextra; i++)
		env[k++] = (char *)extra[i];
	env[k] = NULL;
	return env;
}

/* --- starting ------------------------------------------------------------- */

/* In the child between fork and exec: async-signal-safe calls only.
 * in, out and err become 0, 1 and 2; everything else is closed. */
static void child_exec(int in, int out, int err, char *const argv[], char *const envp[])
{
	sigset_t none;

	/* Its own group, so the deadline can kill what it starts as well. */
	(void)setpgid(0, 0);
	/* Move the three above 2 first: one of them may itself be 0, 1 or 2
	 * when popfetch was started with a standard descriptor closed. */
	in = fcntl(in, F_DUPFD, 3);
	out = fcntl(out, F_DUPFD, 3);
	err = fcntl(err, F_DUPFD, 3);
	if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(err, 2) < 0)
		_exit(126);
	/* A daemon blocks or ignores signals it handles itself; the command
	 * starts with the defaults (SIGPIPE in particular). */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	/* Every descriptor of ours is O_CLOEXEC; this catches one that a
	 * library opened without it. */
	(void)close_range(3, ~0U, 0);
	execve("/bin/sh", argv, envp);
	_exit(127);
}

static int open_pipes(const struct child_opts *o, int in[2], int err[2], int *null_fd,
		      struct pf_error *e)
{
	*null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (*null_fd < 0)
		return pf_error_errno(e, PF_ERR_LOCAL, errno, "%s: open /dev/null", o->what);
	if (!o->no_input && !o->input_is_fd && pipe2(in, O_CLOEXEC) < 0)
		return pf_error_errno(e, PF_ERR_LOCAL, errno, "%s: pipe", o->what);
	if (pipe2(err, O_CLOEXEC) < 0)
		return pf_error_errno(e, PF_ERR_LOCAL, errno, "%s: pipe", o->what);
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void setup_parent_side(struct child *c, const struct child_opts *o)
{
	c->deadline = pf_now_ms() + (int64_t)o->timeout_s * 1000;
	/* Also here: the kill at the deadline must find the group even when
	 * the child has not run setpgid yet.  EACCES after its exec is fine. */
	(void)setpgid(c->pid, c->pid);
#ifdef SYS_pidfd_open
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	if (c->pidfd >= 0)
		(void)fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
#endif
	if (c->in_fd >= 0)
		(void)fcntl(c->in_fd, F_SETFL, O_NONBLOCK);
	(void)fcntl(c->err_fd, F_SETFL, O_NONBLOCK);
}

struct child *child_start(const struct child_opts *o, struct pf_error *err)
{
	char *argv[] = { "sh", "-c", (char *)o->command, NULL };
	int in[2] = { -1, -1 }, ep[2] = { -1, -1 }, null_fd = -1;
	struct child *c = NULL;
	char **envp = env_build(o->env);

	if (open_pipes(o, in, ep, &null_fd, err) < 0)
		goto fail;
	c = xcalloc(1, sizeof *c);
	c->pidfd = -1;
	c->pid = fork();
	if (c->pid == 0)
		child_exec(o->no_input ? null_fd : o->input_is_fd ? o->input_fd : in[0], null_fd,
			   ep[1], argv, envp);
	if (c->pid < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "%s: fork", o->what);
		free(c);
		c = NULL;
		goto fail;
	}
	c->in_fd = in[1];
	c->err_fd = ep[0];
	in[1] = ep[0] = -1;
	setup_parent_side(c, o);
fail:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&ep[0]);
	close_fd(&ep[1]);
	close_fd(&null_fd);
	free(envp);
	return c;
}

/* --- the loop ------------------------------------------------------------- */

static int ms_left(const struct child *c)
{
	int64_t left = c->deadline - pf_now_ms();

	return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

/* Keeps the first line of stderr; later bytes are read and dropped. */
static void read_stderr(struct child *c)
{
	char buf[4096];
	ssize_t n = read(c->err_fd, buf, sizeof buf);

	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		close_fd(&c->err_fd);
		return;
	}
	for (ssize_t i = 0; i < n && !c->line_done; i++) {
		if (buf[i] == '\n' || c->line_len == sizeof c->line)
			c->line_done = 1;
		else
			c->line[c->line_len++] = buf[i];
	}
}

static void try_reap(struct child *c)
{
	if (!c->reaped && waitpid(c->pid, &c->wstatus, WNOHANG) == c->pid)
		c->reaped = 1;
}

/* One poll round.  want_write: wait for room in stdin too.  Returns 1 when
 * stdin can take bytes, 0 otherwise (the caller rechecks the state). */
static int wait_round(struct child *c, int want_write)
{
	struct pollfd p[3];
	int n = 0, iw = -1, ie = -1, ip = -1, left = ms_left(c);

	if (want_write && c->in_fd >= 0) {
		p[iw = n++] = (struct pollfd){ .fd = c->in_fd, .events = POLLOUT };
	}
	if (c->err_fd >= 0)
		p[ie = n++] = (struct pollfd){ .fd = c->err_fd, .events = POLLIN };
	if (c->pidfd >= 0 && !c->reaped)
		p[ip = n++] = (struct pollfd){ .fd = c->pidfd, .events = POLLIN };
	if (c->pidfd < 0 && left > CHILD_WAIT_STEP_MS)
		left = CHILD_WAIT_STEP_MS;
	if (poll(p, (nfds_t)n, left) <= 0) {
		try_reap(c); /* EINTR or a step: look again */
		return 0;
	}
	if (ie >= 0 && p[ie].revents)
		read_stderr(c);
	if (ip >= 0 && p[ip].revents)
		try_reap(c);
	if (c->pidfd < 0)
		try_reap(c);
	return iw >= 0 && p[iw].revents != 0;
}

/* write() without a SIGPIPE: blocked around the call, and one raised by
 * this write is taken back before the mask is restored. */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	ssize_t n;
	int saved, was_pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	(void)sigprocmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, buf, len);
	saved = errno;
	if (n < 0 && errno == EPIPE && !was_pending) {
		const struct timespec zero = { 0, 0 };

		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

int child_feed(struct child *c, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n;

		if (c->reaped && c->in_fd >= 0)
			c->st.input_refused = 1; /* it exited with input left */
		if (c->in_fd < 0 || c->reaped || ms_left(c) == 0)
			return -1;
		if (!wait_round(c, 1))
			continue;
		n = write_nosigpipe(c->in_fd, p, len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			/* EPIPE: it closed its stdin without taking everything. */
			c->st.input_refused = 1;
			close_fd(&c->in_fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* --- the end -------------------------------------------------------------- */

static void kill_group(struct child *c)
{
	(void)kill(-c->pid, SIGKILL);
	(void)kill(c->pid, SIGKILL);
	c->st.timed_out = 1;
	while (waitpid(c->pid, &c->wstatus, 0) < 0 && errno == EINTR)
		;
	c->reaped = 1;
}

static void fill_status(struct child *c, struct child_status *st)
{
	*st = c->st;
	if (WIFEXITED(c->wstatus)) {
		st->exited = 1;
		st->code = WEXITSTATUS(c->wstatus);
	} else {
		st->exited = 0;
		st->code = WIFSIGNALED(c->wstatus) ? WTERMSIG(c->wstatus) : 0;
	}
	if (c->line_len > 0 && c->line[c->line_len - 1] == '\r')
		c->line_len--;
	log_sanitize(st->errline, sizeof st->errline, c->line, c->line_len);
}

void child_wait(struct child *c, struct child_status *st)
{
	/* EOF on its stdin: the message is complete. */
	close_fd(&c->in_fd);
	while (!c->reaped && ms_left(c) > 0)
		(void)wait_round(c, 0);
	if (!c->reaped)
		kill_group(c);
	/* What it wrote before exiting is still in the pipe.  A grandchild
	 * may hold the pipe open: read what is there, never wait for EOF. */
	while (c->err_fd >= 0 && !c->line_done) {
		ssize_t before = (ssize_t)c->line_len;

		read_stderr(c);
		if ((ssize_t)c->line_len == before)
			break;
	}
	fill_status(c, st);
	close_fd(&c->err_fd);
	close_fd(&c->pidfd);
	free(c);
}

int child_ok(const struct child_status *st)
{
	return st->exited && st->code == 0 && !st->timed_out && !st->input_refused;
}

void child_describe(const struct child_status *st, int timeout_s, char *buf, size_t cap)
{
	const char *sep = st->errline[0] ? ": " : "";
	int n;

	if (st->timed_out)
		n = snprintf(buf, cap, "killed after the %d s deadline%s%s", timeout_s, sep,
			     st->errline);
	else if (!st->exited)
		n = snprintf(buf, cap, "killed by signal %d%s%s", st->code, sep, st->errline);
	else if (st->input_refused)
		n = snprintf(buf, cap, "exit status %d without reading all of its input%s%s",
			     st->code, sep, st->errline);
	else
		n = snprintf(buf, cap, "exit status %d%s%s", st->code, sep, st->errline);
	if (n < 0 && cap > 0)
		buf[0] = '\0'; /* display text: truncation by snprintf is fine */
}

int child_safe_value(char *dst, size_t cap, const char *src)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t k = 0;

	for (const unsigned char *s = (const unsigned char *)src; *s; s++) {
		int plain = (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			    (*s >= '0' && *s <= '9') || strchr("._+@-", *s) != NULL;

		if (k + (plain ? 1 : 3) >= cap)
			return -1;
		if (plain) {
			dst[k++] = (char)*s;
		} else {
			dst[k++] = '%';
			dst[k++] = hex[*s >> 4];
			dst[k++] = hex[*s & 15];
		}
	}
	if (k >= cap)
		return -1;
	dst[k] = '\0';
	return 0;
}
