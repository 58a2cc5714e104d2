/* test_fs_sync.c - when syncfs may replace per-file fsyncs: never when
 * switched off or on tmpfs, always on a trusted local file system of a
 * Linux 5.8 or later kernel; syncfs itself reports a bad descriptor. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/utsname.h>
#include <sys/vfs.h>
#endif

#include "fs_sync.h"

static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void trusted__when_switched_off__then_0(void **state)
{
	int fd = open_dir(".");

	(void)state;
	assert_int_equal(setenv("POPFETCH_NO_SYNCFS", "1", 1), 0);
	assert_int_equal(fs_syncfs_trusted(fd), 0);
	unsetenv("POPFETCH_NO_SYNCFS");
	close(fd);
}

/* tmpfs keeps nothing across a crash: no syncfs shortcut to trust. */
static void trusted__on_tmpfs__then_0(void **state)
{
	char dir[] = "/tmp/test_fs_sync.XXXXXX";
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	if (mount("tmpfs", dir, "tmpfs", 0, "size=64k") < 0) {
		rmdir(dir);
		skip();
	}
	fd = open_dir(dir);
	assert_int_equal(fs_syncfs_trusted(fd), 0);
	close(fd);
	assert_int_equal(umount(dir), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* The build directory, when it is on ext4 (as on the CI machine) and the
 * kernel is 5.8 or later: trusted.  Skipped elsewhere. */
static void trusted__on_ext4_of_a_new_kernel__then_1(void **state)
{
#ifdef __linux__
	struct statfs sf;
	struct utsname u;
	unsigned major = 0, minor = 0;
	int fd = open_dir(".");

	(void)state;
	assert_int_equal(fstatfs(fd, &sf), 0);
	assert_int_equal(uname(&u), 0);
	if (sscanf(u.release, "%u.%u", &major, &minor) != 2 || sf.f_type != 0xEF53 ||
	    major < 5 || (major == 5 && minor < 8)) {
		close(fd);
		skip();
	}
	assert_int_equal(fs_syncfs_trusted(fd), 1);
	assert_int_equal(fs_syncfs(fd), 0);
	close(fd);
#else
	(void)state;
	skip();
#endif
}

static void syncfs__when_bad_fd__then_fails(void **state)
{
	(void)state;
	errno = 0;
	assert_int_equal(fs_syncfs(-1), -1);
	assert_true(errno == EBADF || errno == ENOSYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(trusted__when_switched_off__then_0),
		cmocka_unit_test(trusted__on_tmpfs__then_0),
		cmocka_unit_test(trusted__on_ext4_of_a_new_kernel__then_1),
		cmocka_unit_test(syncfs__when_bad_fd__then_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
