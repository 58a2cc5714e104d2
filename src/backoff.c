/* backoff.c - see backoff.h. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "util.h"

#define BACKOFF_MAGIC "popfetch-backoff 1"

static int record_path(char *buf, size_t cap, const char *dir, const char *account,
		       const char *suffix)
{
	int n = snprintf(buf, cap, "%s/%s.backoff%s", dir, account, suffix);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

void backoff_load(const char *state_dir, const char *account, struct backoff *b)
{
	char path[PF_PATH_MAX], line[128], tag[8], why[8] = "auth";
	long long after;
	int failures;
	FILE *f;

	memset(b, 0, sizeof *b);
	if (record_path(path, sizeof path, state_dir, account, "") < 0)
		return;
	f = fopen(path, "re");
	if (f == NULL)
		return;
	if (fgets(line, sizeof line, f) != NULL &&
	    sscanf(line, BACKOFF_MAGIC " %d %lld %4[0-9a-f] %5s", &failures, &after, tag,
		   why) >= 3 &&
	    failures >= 0 && after >= 0) {
		b->reason = strcmp(why, "delay") == 0 ? BACKOFF_LOGIN_DELAY : BACKOFF_AUTH;
		b->auth_failures = failures;
		b->retry_after = (time_t)after;
		memcpy(b->tag, tag, sizeof b->tag);
		b->tag[4] = '\0';
	}
	fclose(f);
}

int backoff_save(const char *state_dir, const char *account, const struct backoff *b,
		 struct pf_error *err)
{
	char path[PF_PATH_MAX], tmp[PF_PATH_MAX], line[128];
	int fd, n;

	if (record_path(path, sizeof path, state_dir, account, "") < 0 ||
	    record_path(tmp, sizeof tmp, state_dir, account, ".tmp") < 0)
		return pf_error_set(err, PF_ERR_LOCAL, "state path for %s is too long", account);
	if (b->auth_failures == 0 && b->retry_after == 0) {
		if (unlink(path) < 0 && errno != ENOENT)
			return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot remove %s", path);
		return 0;
	}
	n = snprintf(line, sizeof line, BACKOFF_MAGIC " %d %lld %s %s\n", b->auth_failures,
		     (long long)b->retry_after, b->tag[0] ? b->tag : "0000",
		     b->reason == BACKOFF_LOGIN_DELAY ? "delay" : "auth");
	if (n < 0 || (size_t)n >= sizeof line)
		return pf_error_set(err, PF_ERR_INTERNAL, "backoff record too long");
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create %s", tmp);
	if (pf_write_all(fd, line, (size_t)n) < 0 || close(fd) < 0) {
		int e = errno;

		(void)unlink(tmp);
		return pf_error_errno(err, PF_ERR_LOCAL, e, "cannot write %s", tmp);
	}
	if (rename(tmp, path) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot rename %s", tmp);
	return 0;
}

void backoff_tag(const char *account, const char *secret, char tag_r[5])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	strcpy(tag_r, "0000");
	if (ctx == NULL)
		return;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, account, strlen(account) + 1) == 1 &&
	    EVP_DigestUpdate(ctx, secret, strlen(secret)) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 2)
		(void)snprintf(tag_r, 5, "%02x%02x", md[0], md[1]);
	EVP_MD_CTX_free(ctx);
	pf_wipe(md, sizeof md);
}

void backoff_auth_failed(struct backoff *b, time_t now)
{
	long long wait = BACKOFF_FIRST_S;
	int over;

	b->auth_failures++;
	b->reason = BACKOFF_AUTH;
	if (b->auth_failures < BACKOFF_AUTH_LIMIT)
		return;
	for (over = BACKOFF_AUTH_LIMIT; over < b->auth_failures && wait < BACKOFF_MAX_S; over++)
		wait *= 2;
	if (wait > BACKOFF_MAX_S)
		wait = BACKOFF_MAX_S;
	b->retry_after = now + (time_t)wait;
}

void backoff_login_delay(struct backoff *b, time_t now, long delay_s)
{
	if (delay_s <= 0)
		delay_s = BACKOFF_LOGIN_DELAY_DEFAULT_S;
	if (delay_s > BACKOFF_MAX_S)
		delay_s = BACKOFF_MAX_S;
	b->reason = BACKOFF_LOGIN_DELAY;
	b->retry_after = now + (time_t)delay_s;
}
