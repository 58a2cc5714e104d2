/* status.c - see status.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "status.h"
#include "util.h"

#define STATUS_MAGIC "popfetch-status 1"
/* The whole record: a few numbers and one reason line. */
#define STATUS_FILE_MAX (PF_ERRMSG_MAX + 1024)

static int record_path(char *out, size_t cap, const char *state_dir, const char *account,
		       const char *suffix, struct pf_error *err)
{
	int n = snprintf(out, cap, "%s/%s.status%s", state_dir, account, suffix);

	if (n < 0 || (size_t)n >= cap)
		return pf_error_set(err, PF_ERR_LOCAL, "status file path for account %s is too long",
				    account);
	return 0;
}

/* One "key value" line into r; unknown keys are skipped. */
static void parse_line(struct status_rec *r, const char *key, const char *val)
{
	if (strcmp(key, "reason") == 0) {
		(void)snprintf(r->reason, sizeof r->reason, "%s", val);
		return;
	}
	if (strcmp(key, "seconds") == 0) {
		r->seconds = strtod(val, NULL);
		return;
	}
	if (strcmp(key, "ended") == 0)
		r->ended = (time_t)strtoll(val, NULL, 10);
	else if (strcmp(key, "exit") == 0)
		r->exit_code = (int)strtol(val, NULL, 10);
	else if (strcmp(key, "check") == 0)
		r->check_only = (int)strtol(val, NULL, 10);
	else if (strcmp(key, "fresh") == 0)
		r->fresh = strtoul(val, NULL, 10);
	else if (strcmp(key, "delivered") == 0)
		r->delivered = strtoul(val, NULL, 10);
	else if (strcmp(key, "bytes") == 0)
		r->bytes = strtoull(val, NULL, 10);
	else if (strcmp(key, "stored") == 0)
		r->stored = strtoul(val, NULL, 10);
	else if (strcmp(key, "next") == 0)
		r->next_poll = (time_t)strtoll(val, NULL, 10);
	else if (strcmp(key, "failures") == 0)
		r->failures = (unsigned)strtoul(val, NULL, 10);
	else if (strcmp(key, "daemon_pid") == 0)
		r->daemon_pid = strtol(val, NULL, 10);
}

static int parse(char *text, struct status_rec *r)
{
	char *line, *save = NULL, *sp;

	line = strtok_r(text, "\n", &save);
	if (line == NULL || strcmp(line, STATUS_MAGIC) != 0)
		return -1;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		sp = strchr(line, ' ');
		if (sp == NULL)
			continue;
		*sp = '\0';
		parse_line(r, line, sp + 1);
	}
	return 0;
}

int status_load(const char *state_dir, const char *account, struct status_rec *r,
		struct pf_error *err)
{
	char path[PF_PATH_MAX], text[STATUS_FILE_MAX + 1];
	ssize_t n;
	int fd;

	memset(r, 0, sizeof *r);
	if (record_path(path, sizeof path, state_dir, account, "", err) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot open %s", path);
	do
		n = read(fd, text, STATUS_FILE_MAX);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot read %s", path);
	text[n] = '\0';
	if (parse(text, r) < 0) {
		memset(r, 0, sizeof *r);
		return pf_error_set(err, PF_ERR_LOCAL, "%s is not a popfetch status record", path);
	}
	return 1;
}

static int format(const struct status_rec *r, char *out, size_t cap)
{
	int n = snprintf(out, cap,
			 STATUS_MAGIC "\nended %lld\nseconds %.2f\nexit %d\nreason %s\ncheck %d\n"
			 "fresh %lu\ndelivered %lu\nbytes %" PRIu64 "\nstored %lu\nnext %lld\n"
			 "failures %u\ndaemon_pid %ld\n",
			 (long long)r->ended, r->seconds, r->exit_code, r->reason, r->check_only,
			 r->fresh, r->delivered, r->bytes, r->stored, (long long)r->next_poll,
			 r->failures, r->daemon_pid);

	return n < 0 || (size_t)n >= cap ? -1 : n;
}

int status_save(const char *state_dir, const char *account, const struct status_rec *r,
		struct pf_error *err)
{
	char path[PF_PATH_MAX], tmp[PF_PATH_MAX], sfx[32], text[STATUS_FILE_MAX];
	int n = format(r, text, sizeof text), fd;

	(void)snprintf(sfx, sizeof sfx, ".tmp.%ld", (long)getpid());
	if (n < 0)
		return pf_error_set(err, PF_ERR_INTERNAL, "status record of %s does not fit", account);
	if (record_path(path, sizeof path, state_dir, account, "", err) < 0 ||
	    record_path(tmp, sizeof tmp, state_dir, account, sfx, err) < 0)
		return -1;
	if (pf_mkdirs(state_dir, 0700) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create state_dir %s", state_dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create %s", tmp);
	if (pf_write_all(fd, text, (size_t)n) < 0 || fsync(fd) < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot write %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	/* rename replaces the record in one step: a reader sees the old or
	 * the new one, never a mix. */
	if (rename(tmp, path) < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot rename %s to %s", tmp, path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

void status_poll_ended(const struct config *cfg, const struct account *acct, int exit_code,
		       const char *reason, int check_only, const struct fetch_result *res)
{
	struct pf_error err = { 0 };
	struct status_rec r;

	/* A damaged record is replaced; the schedule it held comes back
	 * with the daemon's next update. */
	if (status_load(cfg->state_dir, acct->name, &r, &err) < 0)
		pf_error_clear(&err);
	r.ended = time(NULL);
	r.seconds = res->seconds;
	r.exit_code = exit_code;
	/* One line: the message is sanitised server text at most. */
	log_sanitize(r.reason, sizeof r.reason, reason != NULL ? reason : "",
		     reason != NULL ? strlen(reason) : 0);
	r.check_only = check_only;
	r.fresh = res->fresh;
	r.delivered = res->fetched;
	r.bytes = res->bytes;
	if (res->stored > 0)
		r.stored = res->stored;
	if (status_save(cfg->state_dir, acct->name, &r, &err) < 0)
		log_warn("%s: %s (only popfetch --status misses it)", acct->name, err.msg);
}

void status_schedule(const char *state_dir, const char *account, time_t next_poll,
		     unsigned failures)
{
	struct pf_error err = { 0 };
	struct status_rec r;

	if (status_load(state_dir, account, &r, &err) < 0)
		pf_error_clear(&err);
	r.next_poll = next_poll;
	r.failures = failures;
	r.daemon_pid = (long)getpid();
	if (status_save(state_dir, account, &r, &err) < 0)
		log_warn("%s: %s (only popfetch --status misses it)", account, err.msg);
}

const char *status_exit_class(int code)
{
	static const char *const names[] = {
		"new mail", "no new mail", "network", "authentication", "protocol",
		"configuration", "permissions", "server", "locked", "unknown",
		"local delivery", "TLS",
	};

	return code >= 0 && (size_t)code < sizeof names / sizeof names[0] ? names[code] : "unknown";
}
