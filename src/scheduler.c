/* scheduler.c - see scheduler.h.  The parent keeps one slot per account
 * with an explicit state (idle, running, backing-off); each poll is a
 * child process; signals reach the loop through a self-pipe so a signal
 * that arrives just before poll(2) still wakes it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "fetch.h"
#include "log.h"
#include "scheduler.h"
#include "status.h"
#include "util.h"

/* Failures counted for the backoff; 2^20 intervals is past the cap anyway,
 * and the shift below must not overflow. */
#define SCHED_FAILURES_MAX 20

enum slot_state { SLOT_IDLE, SLOT_RUNNING, SLOT_BACKING_OFF };

static const char *const slot_state_names[] = {
	[SLOT_IDLE] = "idle",
	[SLOT_RUNNING] = "running",
	[SLOT_BACKING_OFF] = "backing-off",
};

struct slot {
	char *name;
	const struct account *acct; /* NULL: dropped by a reload, poll still running */
	enum slot_state state;
	pid_t pid;                  /* while running */
	int64_t interval_ms;
	int64_t due_ms;             /* INT64_MAX: never (one-shot, done) */
	int64_t end_ms;             /* end of the last poll */
	unsigned failures;          /* failed polls in a row */
	int code;                   /* exit code of the last poll; -1: none yet */
};

struct sched {
	struct config *cfg;
	struct sched_opts opts;
	char *path;                 /* the main config file, for reloads */
	struct slot *slots;
	size_t nslots;
	int running;
	int stopping;               /* 1: SIGTERM forwarded; 2: SIGKILL too */
	int pipe_fds[2];
	uint32_t rnd;
};

/* --- the policy, pure ---------------------------------------------------- */

int64_t sched_interval_ms(int account_s, int override_s, int global_s)
{
	if (account_s > 0)
		return account_s * 1000LL;
	return (override_s > 0 ? override_s : global_s) * 1000LL;
}

int64_t sched_backoff_ms(int64_t interval_ms, unsigned failures)
{
	int64_t cap = interval_ms > SCHED_BACKOFF_MAX_MS ? interval_ms : SCHED_BACKOFF_MAX_MS;

	if (failures > SCHED_FAILURES_MAX)
		failures = SCHED_FAILURES_MAX;
	/* interval <= one week and 2^20: no overflow in int64_t. */
	if (interval_ms << failures > cap)
		return cap;
	return interval_ms << failures;
}

int64_t sched_jitter_ms(int64_t wait_ms, uint32_t rnd)
{
	int64_t span = wait_ms / SCHED_JITTER_DIV;

	return span > 0 ? (int64_t)(rnd % (uint64_t)(span + 1)) : 0;
}

int64_t sched_next_due_ms(int64_t now_ms, int64_t interval_ms, unsigned failures,
			  uint32_t rnd)
{
	int64_t wait = sched_backoff_ms(interval_ms, failures);

	return now_ms + wait + sched_jitter_ms(wait, rnd);
}

int sched_timeout_ms(int64_t due_ms, int64_t now_ms)
{
	if (due_ms == INT64_MAX)
		return -1;
	if (due_ms <= now_ms)
		return 0;
	return due_ms - now_ms > INT_MAX ? INT_MAX : (int)(due_ms - now_ms);
}

int sched_combine_codes(const int *codes, size_t n)
{
	int any_new = 0;

	for (size_t i = 0; i < n; i++) {
		if (codes[i] == SCHED_EXIT_NEW_MAIL)
			any_new = 1;
		else if (codes[i] >= 0 && codes[i] != SCHED_EXIT_NO_MAIL)
			return codes[i];
	}
	return any_new ? SCHED_EXIT_NEW_MAIL : SCHED_EXIT_NO_MAIL;
}

/* --- signals -------------------------------------------------------------- */

/* The parent's flags, set by on_signal and read by the loop. */
static volatile sig_atomic_t sig_stops, sig_reload, sig_poll_now;
static volatile sig_atomic_t wake_fd = -1;
/* In a poll's process: when the first stop request came (-1: none). */
static volatile sig_atomic_t stop_first_s = -1;

static void on_signal(int sig)
{
	int saved = errno;
	ssize_t r;

	if (sig == SIGTERM || sig == SIGINT)
		sig_stops = sig_stops + 1;
	else if (sig == SIGHUP)
		sig_reload = 1;
	else if (sig == SIGUSR1)
		sig_poll_now = 1;
	/* SIGCHLD only wakes the loop.  A full pipe already holds a wake-up. */
	if (wake_fd >= 0) {
		r = write(wake_fd, "", 1);
		(void)r;
	}
	errno = saved;
}

/* In a poll's process: the first SIGTERM/SIGINT asks fetch to finish the
 * message in flight, DELE what is durable and QUIT; one more after the
 * echo window kills at once (mail stays safe: DESIGN.md section 2). */
static void on_stop_in_poll(int sig)
{
	int saved = errno;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (stop_first_s < 0) {
		stop_first_s = (sig_atomic_t)ts.tv_sec;
		fetch_request_stop();
	} else if (ts.tv_sec - stop_first_s >= SCHED_STOP_ECHO_S) {
		(void)signal(sig, SIG_DFL);
		(void)raise(sig);
	}
	errno = saved;
}

/* Does nothing, unlike SIG_IGN, which would be inherited through exec by
 * a password_command. */
static void on_ignored(int sig)
{
	(void)sig;
}

static void set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	/* One handler at a time: the flags are updated without races. */
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	(void)sigaction(sig, &sa, NULL);
}

/* In a poll's process.  forked: a child of the daemon's loop, where
 * SIGHUP and SIGUSR1 are the parent's business. */
static void poll_process_signals(int forked)
{
	set_handler(SIGTERM, on_stop_in_poll);
	set_handler(SIGINT, on_stop_in_poll);
	if (forked) {
		set_handler(SIGHUP, on_ignored);
		set_handler(SIGUSR1, on_ignored);
		set_handler(SIGCHLD, SIG_DFL);
	}
}

static void parent_signals(int daemon)
{
	set_handler(SIGTERM, on_signal);
	set_handler(SIGINT, on_signal);
	set_handler(SIGCHLD, on_signal);
	/* One-shot runs keep the defaults: SIGHUP ends them, as before. */
	if (daemon) {
		set_handler(SIGHUP, on_signal);
		set_handler(SIGUSR1, on_signal);
	}
}

/* --- slots ---------------------------------------------------------------- */

static void set_state(struct slot *sl, enum slot_state st)
{
	if (sl->state != st)
		log_verbose("%s: %s -> %s", sl->name, slot_state_names[sl->state],
			    slot_state_names[st]);
	sl->state = st;
}

static int selected(const struct sched_opts *o, const char *name)
{
	if (o->nnames == 0)
		return 1;
	for (int i = 0; i < o->nnames; i++)
		if (strcmp(o->names[i], name) == 0)
			return 1;
	return 0;
}

static struct slot *find_slot(struct slot *slots, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (slots[i].acct != NULL && strcmp(slots[i].name, name) == 0)
			return &slots[i];
	return NULL;
}

static int64_t slot_interval(const struct sched *s, const struct account *a)
{
	return sched_interval_ms(a->poll_interval, s->opts.interval_s, s->cfg->poll_interval);
}

/* The slot for account a: fresh (due now), or prev's state carried over
 * by a reload (prev is emptied). */
static void fill_slot(struct sched *s, struct slot *sl, const struct account *a,
		      struct slot *prev, int64_t now)
{
	if (prev == NULL) {
		*sl = (struct slot){ .name = xstrdup(a->name), .due_ms = now, .code = -1 };
	} else {
		*sl = *prev;
		*prev = (struct slot){ 0 };
	}
	sl->acct = a;
	sl->interval_ms = slot_interval(s, a);
	/* A shorter new interval takes effect now, not after the old one. */
	if (prev != NULL && sl->state == SLOT_IDLE && sl->end_ms + sl->interval_ms < sl->due_ms)
		sl->due_ms = sl->end_ms + sl->interval_ms;
}

/* Slots for the selected accounts of s->cfg, in config order, carrying
 * over the state of old ones by name; polls still running for accounts
 * the new config dropped keep a slot (acct NULL) until they end. */
static void build_slots(struct sched *s, struct slot *old, size_t nold, int64_t now)
{
	size_t n = 0;

	s->slots = xcalloc(s->cfg->naccounts + nold + 1, sizeof *s->slots);
	for (size_t i = 0; i < s->cfg->naccounts; i++) {
		const struct account *a = &s->cfg->accounts[i];

		if (selected(&s->opts, a->name))
			fill_slot(s, &s->slots[n++], a, find_slot(old, nold, a->name), now);
	}
	for (size_t i = 0; i < nold; i++) {
		if (old[i].name != NULL && old[i].state == SLOT_RUNNING) {
			s->slots[n] = old[i];
			s->slots[n++].acct = NULL;
		} else {
			free(old[i].name);
		}
	}
	s->nslots = n;
}

static int jobs(const struct sched *s)
{
	return s->opts.jobs > 0 ? s->opts.jobs : s->cfg->jobs;
}

static uint32_t next_rnd(struct sched *s)
{
	/* xorshift32: jitter needs spread, not secrecy. */
	s->rnd ^= s->rnd << 13;
	s->rnd ^= s->rnd >> 17;
	s->rnd ^= s->rnd << 5;
	return s->rnd;
}

/* --- life cycle ----------------------------------------------------------- */

static int check_names(const struct config *cfg, const struct sched_opts *o,
		       struct pf_error *err)
{
	for (int i = 0; i < o->nnames; i++)
		if (config_find(cfg, o->names[i]) == NULL)
			return pf_error_set(err, PF_ERR_CONFIG, "no account '%s' in %s",
					    o->names[i], cfg->path);
	return 0;
}

static int open_pipe(struct sched *s, struct pf_error *err)
{
	if (pipe2(s->pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return pf_error_errno(err, PF_ERR_INTERNAL, errno,
				      "cannot make the scheduler's signal pipe (pipe2)");
	wake_fd = s->pipe_fds[1];
	return 0;
}

struct sched *sched_new(struct config *cfg, const struct sched_opts *opts,
			struct pf_error *err)
{
	struct sched *s = xcalloc(1, sizeof *s);

	s->cfg = cfg;
	s->opts = *opts;
	s->pipe_fds[0] = s->pipe_fds[1] = -1;
	s->path = xstrdup(cfg->path);
	/* Any seed but 0, which xorshift would keep forever. */
	s->rnd = ((uint32_t)getpid() ^ (uint32_t)pf_now_ms()) | 1u;
	if (check_names(cfg, opts, err) < 0)
		goto fail;
	build_slots(s, NULL, 0, pf_now_ms());
	if (s->nslots > 1 || opts->daemon)
		if (open_pipe(s, err) < 0)
			goto fail;
	return s;
fail:
	sched_free(s);
	return NULL;
}

void sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nslots; i++)
		free(s->slots[i].name);
	free(s->slots);
	if (s->pipe_fds[0] >= 0) {
		wake_fd = -1;
		close(s->pipe_fds[0]);
		close(s->pipe_fds[1]);
	}
	config_free(s->cfg);
	free(s->path);
	free(s);
}

/* --- polls ----------------------------------------------------------------- */

/* The child: poll, then leave without returning into the parent's loop
 * (and without the parent's atexit handlers). */
static void __attribute__((noreturn)) child_run(struct sched *s, struct slot *sl,
						 pid_t parent, const sigset_t *old_mask)
{
	int code;

	close(s->pipe_fds[0]);
	close(s->pipe_fds[1]);
	wake_fd = -1;
	/* A poll must not outlive its daemon (kill -9 of the parent): the
	 * next popfetch would find the account locked. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
		_exit(pf_error_exit_code(PF_ERR_INTERNAL));
	poll_process_signals(1);
	/* Blocked across fork (start_poll): a stop forwarded at once is
	 * delivered now, to the poll's own handler. */
	(void)sigprocmask(SIG_SETMASK, old_mask, NULL);
	code = s->opts.poll(s->cfg, sl->acct, s->opts.ctx);
	fflush(stdout);
	fflush(stderr);
	_exit(code);
}

static void poll_ended(struct sched *s, struct slot *sl, int code, int64_t now);

static void start_poll(struct sched *s, struct slot *sl, int64_t now)
{
	pid_t parent = getpid(), pid;
	sigset_t all, old_mask;
	int fork_errno;

	/* Unwritten stdio buffers would be written twice, by both processes. */
	fflush(stdout);
	fflush(stderr);
	/* Until the child has its own handlers, a signal would run ours there. */
	sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, &old_mask);
	pid = fork();
	if (pid == 0)
		child_run(s, sl, parent, &old_mask);
	fork_errno = errno;
	(void)sigprocmask(SIG_SETMASK, &old_mask, NULL);
	if (pid < 0) {
		errno = fork_errno;
		log_error("%s: cannot start the poll (fork): %s", sl->name, strerror(errno));
		poll_ended(s, sl, pf_error_exit_code(PF_ERR_INTERNAL), now);
		return;
	}
	sl->pid = pid;
	s->running++;
	set_state(sl, SLOT_RUNNING);
}

static void log_reschedule(const struct slot *sl, int code, int64_t now)
{
	double secs = (double)(sl->due_ms - now) / 1000.0;

	/* A busy lock was logged by the poll itself (main.c). */
	if (sl->failures > 0 && code != pf_error_exit_code(PF_ERR_LOCKED))
		log_error("%s: poll failed (exit %d); backing off: next poll in %.1f s",
			  sl->name, code, secs);
	else
		log_verbose("%s: next poll in %.1f s", sl->name, secs);
}

/* The poll's process leaves the server's [LOGIN-DELAY] or the refused-login
 * backoff in the account's record (wall clock): polling before it ends
 * would only be refused again. */
static void respect_login_backoff(struct sched *s, struct slot *sl, int64_t now)
{
	struct backoff b;
	time_t wall = time(NULL);

	backoff_load(s->cfg->state_dir, sl->name, &b);
	if (b.retry_after > wall && now + (int64_t)(b.retry_after - wall) * 1000 > sl->due_ms)
		sl->due_ms = now + (int64_t)(b.retry_after - wall) * 1000;
}

/* Records a poll's end and, in daemon mode, when the account is due next.
 * A busy lock is not the account's failure: its poll is skipped, the
 * schedule unchanged (DESIGN.md section 8). */
static void poll_ended(struct sched *s, struct slot *sl, int code, int64_t now)
{
	sl->code = code;
	sl->end_ms = now;
	if (!s->opts.daemon || s->stopping || sl->acct == NULL) {
		sl->due_ms = INT64_MAX;
		set_state(sl, SLOT_IDLE);
		return;
	}
	if (code == SCHED_EXIT_NEW_MAIL || code == SCHED_EXIT_NO_MAIL)
		sl->failures = 0;
	else if (code != pf_error_exit_code(PF_ERR_LOCKED) && sl->failures < SCHED_FAILURES_MAX)
		sl->failures++;
	sl->due_ms = sched_next_due_ms(now, sl->interval_ms, sl->failures, next_rnd(s));
	respect_login_backoff(s, sl, now);
	status_schedule(s->cfg->state_dir, sl->name, time(NULL) + (time_t)((sl->due_ms - now) / 1000),
			sl->failures);
	set_state(sl, sl->failures > 0 ? SLOT_BACKING_OFF : SLOT_IDLE);
	log_reschedule(sl, code, now);
}

static int status_code(const struct slot *sl, int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	log_error("%s: the poll was killed by signal %d", sl->name,
		  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return pf_error_exit_code(PF_ERR_INTERNAL);
}

/* Drops slots of accounts a reload removed once their polls ended. */
static void compact_slots(struct sched *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nslots; i++) {
		if (s->slots[i].acct == NULL && s->slots[i].state != SLOT_RUNNING)
			free(s->slots[i].name);
		else
			s->slots[n++] = s->slots[i];
	}
	s->nslots = n;
}

static void reap(struct sched *s)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < s->nslots; i++) {
			struct slot *sl = &s->slots[i];

			if (sl->state != SLOT_RUNNING || sl->pid != pid)
				continue;
			s->running--;
			sl->pid = 0;
			poll_ended(s, sl, status_code(sl, status), pf_now_ms());
			break;
		}
	}
	compact_slots(s);
}

static void start_due(struct sched *s)
{
	int64_t now = pf_now_ms();

	for (size_t i = 0; i < s->nslots && s->running < jobs(s); i++) {
		struct slot *sl = &s->slots[i];

		if (sl->acct != NULL && sl->state != SLOT_RUNNING && sl->due_ms <= now)
			start_poll(s, sl, now);
	}
}

/* --- events ---------------------------------------------------------------- */

static void signal_children(struct sched *s, int sig)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].state == SLOT_RUNNING)
			(void)kill(s->slots[i].pid, sig);
}

static void handle_stop(struct sched *s)
{
	if (sig_stops >= 1 && s->stopping == 0) {
		s->stopping = 1;
		if (s->running > 0)
			log_info("stopping: %d poll(s) finish the message in flight and quit",
				 s->running);
		else
			log_info("stopping");
		signal_children(s, SIGTERM);
	}
	if (sig_stops >= 2 && s->stopping == 1) {
		s->stopping = 2;
		log_warn("second stop signal: killing %d poll(s) (no mail is lost)", s->running);
		signal_children(s, SIGKILL);
	}
}

static void reload(struct sched *s)
{
	struct config *cfg = NULL, *old = s->cfg;
	struct pf_error err = { 0 };
	struct slot *slots = s->slots;

	if (config_load(s->path, &cfg, &err) < 0) {
		log_error("%s; the previous configuration stays in use", err.msg);
		return;
	}
	for (int i = 0; i < s->opts.nnames; i++)
		if (config_find(cfg, s->opts.names[i]) == NULL)
			log_warn("no account '%s' in %s any more", s->opts.names[i], cfg->path);
	s->cfg = cfg;
	build_slots(s, slots, s->nslots, pf_now_ms());
	free(slots);
	/* Children have their own copies: freeing ours cannot pull a poll's
	 * config from under it. */
	config_free(old);
	log_info("reloaded %s: %zu account(s)", s->path, s->nslots);
}

static void handle_signals(struct sched *s)
{
	handle_stop(s);
	if (sig_reload) {
		sig_reload = 0;
		if (!s->stopping)
			reload(s);
	}
	if (sig_poll_now) {
		sig_poll_now = 0;
		log_info("SIGUSR1: polling every account now");
		for (size_t i = 0; i < s->nslots; i++)
			if (s->slots[i].state != SLOT_RUNNING)
				s->slots[i].due_ms = pf_now_ms();
	}
}

/* Sleeps until the next account is due, a poll ends or a signal comes. */
static void wait_event(struct sched *s)
{
	int64_t due = INT64_MAX;
	struct pollfd p = { .fd = s->pipe_fds[0], .events = POLLIN };
	char buf[64];

	if (s->running < jobs(s) && !s->stopping)
		for (size_t i = 0; i < s->nslots; i++)
			if (s->slots[i].acct != NULL && s->slots[i].state != SLOT_RUNNING &&
			    s->slots[i].due_ms < due)
				due = s->slots[i].due_ms;
	if (poll(&p, 1, sched_timeout_ms(due, pf_now_ms())) > 0)
		while (read(s->pipe_fds[0], buf, sizeof buf) > 0)
			continue;
}

static int finished(const struct sched *s)
{
	if (s->running > 0)
		return 0;
	if (s->stopping || s->opts.daemon)
		return s->stopping;
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].code < 0)
			return 0;
	return 1;
}

static int one_shot_code(const struct sched *s)
{
	int codes[PF_CONFIG_ACCOUNTS_MAX];
	size_t n = 0;

	for (size_t i = 0; i < s->nslots && n < PF_CONFIG_ACCOUNTS_MAX; i++)
		codes[n++] = s->slots[i].code;
	return sched_combine_codes(codes, n);
}

/* A one-shot run of one account: no fork (see scheduler.h). */
static int run_in_process(struct sched *s)
{
	poll_process_signals(0);
	return s->opts.poll(s->cfg, s->slots[0].acct, s->opts.ctx);
}

int sched_run(struct sched *s)
{
	if (!s->opts.daemon && s->nslots == 1)
		return run_in_process(s);
	if (!s->opts.daemon && s->nslots == 0)
		return SCHED_EXIT_NO_MAIL;
	parent_signals(s->opts.daemon);
	if (s->opts.daemon)
		log_info("polling %zu account(s) until stopped", s->nslots);
	for (;;) {
		handle_signals(s);
		reap(s);
		if (!s->stopping)
			start_due(s);
		if (finished(s))
			break;
		wait_event(s);
	}
	if (s->opts.daemon) {
		log_info("stopped");
		return 0;
	}
	return one_shot_code(s);
}
