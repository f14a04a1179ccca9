// SPDX-License-Identifier: MIT
/*
 * Files loaded by mmap: read-only from the page cache, copy-on-write, or as
 * a memfd copy; empty files, a sparse file above 2 GiB, and a file
 * truncated while loaded, which must not raise SIGBUS inside the library.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"
#include "regions-helpers.h"

#define SIZE ((1u << 20) + 333)

static void expect_fail(int r, int err)
{
	assert_int_equal(r, -1);
	assert_int_equal(errno, err);
}

static void test_bad_args(void **state)
{
	struct zc_region r;
	int fd = t_file_with("abc", 3), fds = t_fd_count();

	(void)state;
	expect_fail(zc_region_load(&r, NULL, 0), EINVAL);
	expect_fail(zc_region_load(&r, "/nonexistent/zcopy", 0), ENOENT);
	assert_int_equal(r.kind, ZC_REGION_NONE);
	expect_fail(zc_region_load(&r, "/tmp", 0), EINVAL);
	expect_fail(zc_region_load_fd(&r, -1, 0), EBADF);
	expect_fail(zc_region_load_fd(&r, fd, 0x8000), EINVAL);
	expect_fail(zc_region_load_fd(&r, fd, ZC_REGION_PRIVATE | ZC_REGION_COPY), EINVAL);
	expect_fail(zc_region_load_fd(NULL, fd, 0), EINVAL);
	assert_int_equal(t_fd_count(), fds);
	close(fd);
}

/*
 * A FIFO nobody writes to: open(2) of it would wait for a writer forever.
 * The child has an alarm, so a load that blocks fails the test.
 */
static void child_loads_fifo(void *arg)
{
	const char *path = arg;
	int fds = t_fd_count();
	struct zc_region r;

	alarm(10);
	t_check(zc_region_load(&r, path, 0) == -1 && errno == EINVAL);
	t_check(zc_region_load(&r, path, ZC_REGION_COPY) == -1 && errno == EINVAL);
	t_check(r.kind == ZC_REGION_NONE && r.fd == -1);
	t_check(t_fd_count() == fds);
}

static void test_load_fifo(void **state)
{
	char dir[] = "/tmp/zcr-fifo-XXXXXX", path[64];
	struct zc_region r;
	int st, fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	st = t_in_child(child_loads_fifo, path);
	assert_int_equal(unlink(path), 0);

	/* A regular file by path: its fd has the flags a plain open gives. */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "plain", 5), 5);
	close(fd);
	assert_int_equal(zc_region_load(&r, path, 0), 0);
	assert_int_equal(r.size, 5);
	assert_memory_equal(r.addr, "plain", 5);
	assert_int_equal(fcntl(r.fd, F_GETFL) & O_NONBLOCK, 0);
	assert_int_equal(zc_region_close(&r), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The child loads the file too: it sees the parent's write, the parent sees its. */
static void child_rewrites(void *arg)
{
	int fd = *(int *)arg;
	struct zc_region r;

	t_check(zc_region_load_fd(&r, fd, 0) == 0);
	t_check(memcmp((char *)r.addr + 200, "parent", 6) == 0);
	t_check(pwrite(fd, "child", 5, 100) == 5);
	t_check(memcmp((char *)r.addr + 100, "child", 5) == 0);
	t_check(zc_region_close(&r) == 0);
}

/* Read-only load shares the page cache: another process's write shows. */
static void test_load_shared(void **state)
{
	unsigned char *data = t_pattern(SIZE, 31);
	int fd = t_file_with(data, SIZE), fds = t_fd_count();
	struct zc_region r;

	(void)state;
	assert_int_equal(zc_region_load_fd(&r, fd, 0), 0);
	assert_int_equal(r.kind, ZC_REGION_FILE);
	assert_int_equal(r.size, SIZE);
	assert_true(r.flags & ZC_REGION_RDONLY);
	assert_int_not_equal(r.fd, fd);
	assert_int_equal(fcntl(r.fd, F_GETFD), FD_CLOEXEC);
	t_assert_bytes(r.addr, r.size, data, SIZE);
	assert_int_equal(pwrite(fd, "parent", 6, 200), 6);
	assert_int_equal(t_wait_exit(t_spawn(child_rewrites, &fd)), 0);
	memcpy(data + 100, "child", 5);
	memcpy(data + 200, "parent", 6);
	t_assert_bytes(r.addr, r.size, data, SIZE);
	close(fd);
	assert_int_equal(t_fd_count(), fds);	/* the region's own dup, the caller's gone */
	t_assert_bytes(r.addr, r.size, data, SIZE);
	assert_int_equal(zc_region_close(&r), 0);
	assert_int_equal(t_fd_count(), fds - 1);
	free(data);
}

static void test_load_private_and_copy(void **state)
{
	unsigned char *data = t_pattern(SIZE, 32);
	int fd = t_file_with(data, SIZE);
	struct zc_region p, c;
	size_t got_len;
	unsigned char *got;

	(void)state;
	assert_int_equal(zc_region_load_fd(&p, fd, ZC_REGION_PRIVATE), 0);
	assert_int_equal(p.kind, ZC_REGION_FILE);
	assert_true(p.flags & ZC_REGION_PRIVATE);
	assert_false(p.flags & ZC_REGION_RDONLY);
	assert_int_equal(zc_region_load_fd(&c, fd, ZC_REGION_COPY), 0);
	assert_int_equal(c.kind, ZC_REGION_MEMFD);
	assert_int_equal(c.size, SIZE);
	t_assert_bytes(p.addr, p.size, data, SIZE);
	t_assert_bytes(c.addr, c.size, data, SIZE);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);	/* the caller's offset untouched */

	/* Writes to either stay out of the file. */
	memset(p.addr, 'p', 4096);
	memset((char *)c.addr + 4096, 'c', 4096);
	got = t_read_file(fd, &got_len);
	t_assert_bytes(got, got_len, data, SIZE);
	free(got);

	/* The copy does not see the file change or shrink; it can be sealed. */
	assert_int_equal(ftruncate(fd, 10), 0);
	memset(data + 4096, 'c', 4096);
	t_assert_bytes(c.addr, c.size, data, SIZE);
	assert_int_equal(zc_region_seal(&c, ZC_SEAL_HANDOUT), 0);
	assert_int_equal(zc_region_close(&p), 0);
	assert_int_equal(zc_region_close(&c), 0);
	close(fd);
	free(data);
}

static void test_load_empty(void **state)
{
	static const uint32_t modes[] = { 0, ZC_REGION_RDONLY, ZC_REGION_PRIVATE, ZC_REGION_COPY };
	int fd = t_file_empty(0), fds = t_fd_count();
	struct zc_region r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(zc_region_load_fd(&r, fd, modes[i]), 0);
		assert_int_equal(r.size, 0);
		assert_null(r.addr);
		assert_int_not_equal(r.kind, ZC_REGION_NONE);
		assert_true(r.fd >= 0);
		assert_int_equal(zc_region_close(&r), 0);
		assert_int_equal(t_fd_count(), fds);
	}
	close(fd);
}

/* A 3 GiB sparse file: offsets past 2^31 load and read right. */
static void test_load_sparse_big(void **state)
{
	const uint64_t big = 3ull << 30, at = (2ull << 30) + 12345;
	unsigned char *data = t_pattern(65536, 33), zero[4096] = { 0 };
	int fd = t_file_empty(0);
	struct zc_region r;
	char path[64];

	(void)state;
	assert_int_equal(ftruncate(fd, (off_t)big), 0);
	assert_int_equal(pwrite(fd, data, 65536, (off_t)at), 65536);
	assert_int_equal(pwrite(fd, data, 100, (off_t)(big - 100)), 100);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	assert_int_equal(zc_region_load(&r, path, 0), 0);
	assert_int_equal(r.size, big);
	t_assert_bytes((char *)r.addr + at, 65536, data, 65536);
	t_assert_bytes((char *)r.addr + big - 100, 100, data, 100);
	t_assert_bytes((char *)r.addr + (1ull << 30), 4096, zero, 4096);
	t_assert_bytes((char *)r.addr + at - 4096, 4096, zero, 4096);
	assert_int_equal(zc_region_close(&r), 0);
	close(fd);
	free(data);
}

static void library_after_truncate(void *arg)
{
	int fd = *(int *)arg;
	struct zc_region ro, cow;

	t_check(zc_region_load_fd(&ro, fd, 0) == 0);
	t_check(zc_region_load_fd(&cow, fd, ZC_REGION_PRIVATE) == 0);
	t_check(ftruncate(fd, 0) == 0);
	t_check(zc_region_sync(&ro, 0, 0, 0) == 0);
	t_check(zc_region_sync(&cow, 0, 0, ZC_SYNC_ASYNC) == 0);
	t_check(zc_region_close(&ro) == 0);
	t_check(zc_region_close(&cow) == 0);
	/* Loading the now empty file gives an empty region, not a stale size. */
	t_check(zc_region_load_fd(&ro, fd, 0) == 0 && ro.size == 0);
	t_check(zc_region_close(&ro) == 0);
}

static void own_load_after_truncate(void *arg)
{
	int fd = *(int *)arg;
	struct zc_region r;

	t_check(zc_region_load_fd(&r, fd, 0) == 0);
	t_check(ftruncate(fd, 0) == 0);
	if (((volatile char *)r.addr)[SIZE - 1] == 0x7f)
		_exit(3);
	_exit(4);
}

static void test_truncated_while_loaded(void **state)
{
	unsigned char *data = t_pattern(SIZE, 34);
	int fd = t_file_with(data, SIZE), status;

	(void)state;
	assert_int_equal(t_wait_exit(t_spawn(library_after_truncate, &fd)), 0);

	/* The caller's own load past the new end gets SIGBUS, as zcopy(7) says. */
	assert_int_equal(ftruncate(fd, SIZE), 0);
	status = t_in_child(own_load_after_truncate, &fd);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGBUS);
	close(fd);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bad_args, t_regions_teardown),
		cmocka_unit_test_teardown(test_load_fifo, t_regions_teardown),
		cmocka_unit_test_teardown(test_load_shared, t_regions_teardown),
		cmocka_unit_test_teardown(test_load_private_and_copy, t_regions_teardown),
		cmocka_unit_test_teardown(test_load_empty, t_regions_teardown),
		cmocka_unit_test_teardown(test_load_sparse_big, t_regions_teardown),
		cmocka_unit_test_teardown(test_truncated_while_loaded, t_regions_teardown),
	};

	t_regions_init();
	return cmocka_run_group_tests_name("regions-file", tests, NULL, NULL);
}
