/* util.c - see util.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"

#include "util.h"

static void oom(void)
{
	static const char msg[] = "popfetch: out of memory\n";

	(void)!write(STDERR_FILENO, msg, sizeof msg - 1);
	/* Nothing was deleted that is not durable locally: exiting is safe. */
	_exit(12);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom();
	return q;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom();
	return p;
}

void pf_wipe(void *p, size_t n)
{
	/* A volatile function pointer keeps the compiler from proving the
	 * stores dead, which explicit_bzero also does where it exists. */
	static void *(*const volatile memset_v)(void *, int, size_t) = memset;

	if (p != NULL)
		memset_v(p, 0, n);
}

void pf_free_secret(char *s)
{
	if (s == NULL)
		return;
	pf_wipe(s, strlen(s));
	free(s);
}

int pf_has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int pf_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int64_t pf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pf_step(const char *name)
{
	static long count;
	static long stop_at = -1;
	const char *env;

	(void)name;
	if (stop_at == -1) {
		env = getenv("POPFETCH_TEST_STOP_AFTER_STEP");
		stop_at = (env != NULL && *env != '\0') ? strtol(env, NULL, 10) : 0;
	}
	count++;
	if (stop_at > 0 && count == stop_at) {
		const char *log = getenv("POPFETCH_TEST_STEP_LOG");

		if (log != NULL)
			fprintf(stderr, "popfetch: test hook: killed after step %ld (%s)\n",
				count, name);
		raise(SIGKILL);
	}
}

int pf_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pf_mkdirs(const char *path, unsigned mode)
{
	char buf[PF_PATH_MAX];
	size_t len = strlen(path), i;

	if (len == 0 || len >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	/* Create each ancestor in turn; EEXIST is fine when it is a directory,
	 * which the final mkdir or the caller's open(O_DIRECTORY) confirms. */
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST)
			return -1;
		buf[i] = i < len ? '/' : '\0';
	}
	return 0;
}

int pf_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc, e;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

char *pf_join_path(const char *a, const char *b)
{
	char buf[PF_PATH_MAX];
	int n = snprintf(buf, sizeof buf, "%s/%s", a, b);

	if (n < 0 || (size_t)n >= sizeof buf)
		return NULL;
	return xstrdup(buf);
}
