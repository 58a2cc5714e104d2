/* fuzz_config.c - libFuzzer target for the configuration loader
 * (config.c, config_text.c, libconfuse): the config file is untrusted
 * input too (a user's typo, a file from elsewhere).
 *
 * Each input becomes the whole main config file, written with mode 0600 to
 * one path that is reused for every input (fast: no directory churn) in a
 * private directory without accounts.d/; HOME and the XDG variables point
 * into that directory, so ~ and $XDG_* expand there.  config_load must
 * either fail with a classified, NUL-terminated one-sentence error or
 * return a configuration that keeps the header's promises; config_free
 * must release everything (LeakSanitizer runs with the fuzzer). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)             \
	do {                    \
		if (!(cond))    \
			abort(); \
	} while (0)

static char dir[64];
static char path[96];

static void cleanup(void)
{
	(void)unlink(path);
	(void)rmdir(dir);
}

/* Once per process: the private directory (removed at exit) and the
 * environment. */
static void setup(void)
{
	static const char *const vars[] = { "HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME" };
	size_t i;
	int n;

	(void)snprintf(dir, sizeof dir, "/tmp/popfetch-fuzz-config.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	n = snprintf(path, sizeof path, "%s/config", dir);
	CHECK(n > 0 && (size_t)n < sizeof path);
	CHECK(atexit(cleanup) == 0);
	for (i = 0; i < sizeof vars / sizeof vars[0]; i++)
		CHECK(setenv(vars[i], dir, 1) == 0);
}

static void write_config(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	CHECK(fd >= 0);
	CHECK(fchmod(fd, 0600) == 0);
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);

		CHECK(w > 0);
		off += (size_t)w;
	}
	CHECK(close(fd) == 0);
}

static int title_ok(const char *s)
{
	size_t i, n = strlen(s);
	const char *first = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	if (n < 1 || n > 64 || strchr(first, s[0]) == NULL)
		return 0;
	for (i = 1; i < n; i++)
		if (strchr(first, s[i]) == NULL && strchr("._@+-", s[i]) == NULL)
			return 0;
	return 1;
}

static void check_config(const struct config *cfg)
{
	size_t i;

	CHECK(cfg->path != NULL && strcmp(cfg->path, path) == 0);
	CHECK(cfg->state_dir != NULL);
	CHECK(cfg->naccounts >= 1 && cfg->naccounts <= PF_CONFIG_ACCOUNTS_MAX);
	CHECK(cfg->accounts != NULL);
	for (i = 0; i < cfg->naccounts; i++) {
		const struct account *a = &cfg->accounts[i];

		CHECK(a->name != NULL && title_ok(a->name));
		CHECK(config_find(cfg, a->name) != NULL);
		CHECK(a->host != NULL && a->port != NULL && a->maildir != NULL);
		CHECK(a->timeout >= 1 && a->timeout <= PF_TIMEOUT_MAX);
		CHECK(a->tls == TLS_IMPLICIT || a->tls == TLS_STARTTLS || a->tls == TLS_NONE);
		CHECK(a->auth >= AUTH_AUTO && a->auth <= AUTH_OAUTHBEARER);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	struct pf_error err = { 0 };

	if (path[0] == '\0')
		setup();
	if (size > PF_CONFIG_FILE_MAX)
		return 0;
	write_config(data, size);
	if (config_load(path, &cfg, &err) == 0) {
		CHECK(cfg != NULL && err.cls == PF_ERR_NONE);
		check_config(cfg);
	} else {
		CHECK(cfg == NULL && err.cls != PF_ERR_NONE);
		CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL && err.msg[0] != '\0');
	}
	config_free(cfg);
	return 0;
}
