/* token.c - see token.h. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "lock.h"
#include "oauth2.h"
#include "token.h"
#include "util.h"

/* How often a busy lock is tried again while a poll runs. */
#define TOKEN_LOCK_RETRY_MS 100

/* The account's lock, waiting up to timeout_s for a poll to end.  The lock
 * fd, or -1 with err. */
static int lock_wait(const struct config *cfg, const struct account *acct, int timeout_s,
		     struct pf_error *err)
{
	int64_t deadline = pf_now_ms() + (int64_t)timeout_s * 1000;
	struct timespec pause = { 0, TOKEN_LOCK_RETRY_MS * 1000000L };
	int fd;

	for (;;) {
		fd = lock_account(cfg->state_dir, acct->name, err);
		if (fd >= 0 || err->cls != PF_ERR_LOCKED || pf_now_ms() >= deadline)
			return fd;
		pf_error_clear(err);
		nanosleep(&pause, NULL);
	}
}

/* Straight to the descriptor: no stdio buffer keeps a copy of the token. */
static int write_token(FILE *out, const char *token, struct pf_error *err)
{
	int fd = fileno(out);

	if (fflush(out) == EOF || fd < 0 || pf_write_all(fd, token, strlen(token)) < 0 ||
	    pf_write_all(fd, "\n", 1) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot write the token");
	return 0;
}

int token_print(const struct config *cfg, const struct account *acct, FILE *out,
		struct pf_error *err)
{
	char *token = NULL;
	int fd, rc;

	if (!acct->oauth2.enabled)
		return pf_error_set(err, PF_ERR_CONFIG,
				    "account %s has no OAuth2 client (an oauth2 { client_id = ... } "
				    "block), so popfetch holds no token for it", acct->name);
	/* As a poll does: the lock file lives in state_dir. */
	if (pf_mkdirs(cfg->state_dir, 0700) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create state_dir %s",
				      cfg->state_dir);
	fd = lock_wait(cfg, acct, acct->timeout, err);
	if (fd < 0)
		return -1;
	rc = oauth2_access_token(cfg, acct, &token, err);
	/* The refresh is stored: the lock has done its job before the write,
	 * which may block on a slow reader. */
	lock_release(fd);
	if (rc < 0)
		return -1;
	rc = write_token(out, token, err);
	pf_free_secret(token);
	return rc;
}
