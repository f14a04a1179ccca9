// SPDX-License-Identifier: MIT
/*
 * Zero-copy out: slices of every kind of region reach every kind of fd
 * byte for byte, by the region's fd or by vmsplice, with offsets, fallback
 * to write(), the ZCOPY_DEBUG line, and no SIGBUS from a truncated file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"
#include "regions-helpers.h"

#define SIZE ((3u << 20) + 4097)

enum rkind { R_POSIX, R_MEMFD, R_SYSV, R_FILE, R_FILE_COW, R_FILE_COPY, R_MAX };

static const char *const rkind_names[] = { "posix", "memfd", "sysv", "file", "file-cow",
					   "file-copy" };

static unsigned char *data;
static int data_fd;
/* argv[0]: /proc/self/exe would be the tool under valgrind, not this test. */
static const char *self;

/* A region of kind k holding data[0, SIZE). */
static void make(struct zc_region *r, enum rkind k)
{
	char name[96];

	switch (k) {
	case R_POSIX:
		t_rname(name, "out");
		assert_int_equal(zc_region_create(r, name, SIZE, 0, 0), 0);
		assert_int_equal(zc_region_remove(r), 0);
		break;
	case R_MEMFD:
		assert_int_equal(zc_region_memfd(r, "out", SIZE, 0), 0);
		break;
	case R_SYSV:
		assert_int_equal(zc_region_sysv_create(r, IPC_PRIVATE, SIZE, 0, 0), 0);
		assert_int_equal(zc_region_remove(r), 0);
		break;
	case R_FILE:
		assert_int_equal(zc_region_load_fd(r, data_fd, 0), 0);
		return;
	case R_FILE_COW:
		assert_int_equal(zc_region_load_fd(r, data_fd, ZC_REGION_PRIVATE), 0);
		return;
	default:
		assert_int_equal(zc_region_load_fd(r, data_fd, ZC_REGION_COPY), 0);
		return;
	}
	memcpy(r->addr, data, SIZE);
}

static bool memory_only(enum rkind k)
{
	return k == R_SYSV || k == R_FILE_COW;
}

static const struct {
	uint64_t off;
	size_t len;
	size_t want;
} slices[] = {
	{ 0, ZC_ALL, SIZE },
	{ 4097, 100000, 100000 },
	{ 1, SIZE, SIZE - 1 },
	{ SIZE - 10, ZC_ALL, 10 },
	{ SIZE, ZC_ALL, 0 },
};

static void one(enum rkind k, enum t_kind dk, unsigned int flags)
{
	struct zc_region r;
	struct zc_stats st;
	struct t_end dst;
	size_t i, total = 0;
	unsigned char *want = malloc(SIZE * 3);
	ssize_t n;

	assert_non_null(want);
	make(&r, k);
	t_sink_open(&dst, dk);
	for (i = 0; i < sizeof(slices) / sizeof(slices[0]); i++) {
		n = zc_region_transfer(&r, slices[i].off, slices[i].len, dst.fd, NULL, flags, &st);
		if (n != (ssize_t)slices[i].want)
			fail_msg("%s -> %s slice %zu: %zd, errno %d", rkind_names[k],
				 t_kind_name(dk), i, n, errno);
		assert_int_equal(st.bytes, slices[i].want);
		assert_int_equal(st.error, 0);
		if (memory_only(k) && slices[i].want) {
			assert_int_equal(st.src_type, ZC_FD_SHM);
			assert_int_equal(st.path, flags & ZC_NO_SPLICE ? ZC_PATH_READ_WRITE
								: ZC_PATH_VMSPLICE);
		}
		memcpy(want + total, data + slices[i].off, slices[i].want);
		total += slices[i].want;
	}
	t_sink_finish(&dst);
	t_assert_bytes(dst.got, dst.got_len, want, total);
	free(dst.got);
	free(want);
	assert_int_equal(zc_region_close(&r), 0);
}

static void test_every_pair(void **state)
{
	static const enum t_kind dsts[] = { T_PIPE, T_UNIX, T_TCP, T_FILE, T_MEMFD };
	int k;
	size_t d;

	(void)state;
	for (k = 0; k < R_MAX; k++) {
		for (d = 0; d < sizeof(dsts) / sizeof(dsts[0]); d++) {
			one((enum rkind)k, dsts[d], 0);
			one((enum rkind)k, dsts[d], ZC_NO_SPLICE);
		}
	}
}

/* An explicit dst offset is used and advanced; the fd's own stays put. */
static void expect_fail(ssize_t r, int err)
{
	assert_int_equal(r, -1);
	assert_int_equal(errno, err);
}

static void test_dst_offset(void **state)
{
	struct zc_region r;
	uint64_t at;
	unsigned char *got;
	size_t got_len;
	int k, fd;

	(void)state;
	for (k = 0; k < R_MAX; k++) {
		make(&r, (enum rkind)k);
		/* an explicit offset on an O_APPEND file could not be honoured */
		fd = t_file_empty(O_APPEND);
		at = 0;
		expect_fail(zc_region_transfer(&r, 0, 100, fd, &at, 0, NULL), EINVAL);
		assert_int_equal(at, 0);
		assert_int_equal(lseek(fd, 0, SEEK_END), 0);
		close(fd);
		fd = t_file_empty(0);
		at = 1000;
		assert_int_equal(zc_region_transfer(&r, 5000, 70000, fd, &at, 0, NULL), 70000);
		assert_int_equal(at, 71000);
		assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
		got = t_read_file(fd, &got_len);
		assert_int_equal(got_len, 71000);
		t_assert_bytes(got + 1000, 70000, data + 5000, 70000);
		free(got);
		close(fd);
		assert_int_equal(zc_region_close(&r), 0);
	}
}

static void test_bad_args(void **state)
{
	struct zc_region r, zero;
	uint64_t at = 0;
	int p[2], dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	(void)state;
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	make(&r, R_SYSV);
	expect_fail(zc_region_transfer(&zero, 0, 1, p[1], NULL, 0, NULL), EINVAL);
	expect_fail(zc_region_transfer(NULL, 0, 1, p[1], NULL, 0, NULL), EINVAL);
	expect_fail(zc_region_transfer(&r, SIZE + 1, 1, p[1], NULL, 0, NULL), EINVAL);
	expect_fail(zc_region_transfer(&r, 0, 1, p[1], NULL, 0x4000, NULL), EINVAL);
	expect_fail(zc_region_transfer(&r, 0, 1, p[1], &at, 0, NULL), ESPIPE);
	expect_fail(zc_region_transfer(&r, 0, 1, dir, NULL, 0, NULL), EISDIR);
	expect_fail(zc_region_transfer(&r, 0, 1, -1, NULL, 0, NULL), EBADF);
	assert_int_equal(zc_region_transfer(&r, 0, 0, p[1], NULL, 0, NULL), 0);

	/* A full non-blocking pipe: EAGAIN, as write(2) would say. */
	assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	assert_true(zc_region_transfer(&r, 0, SIZE, p[1], NULL, 0, NULL) > 0);
	expect_fail(zc_region_transfer(&r, 0, SIZE, p[1], NULL, 0, NULL), EAGAIN);
	assert_int_equal(zc_region_close(&r), 0);
	close(p[0]);
	close(p[1]);
	close(dir);
}

/*
 * Truncated under a loaded region: sending from it ends early with EFAULT
 * or at the new end of file, never with SIGBUS (children die by signal if
 * it came).
 */
static void send_after_truncate(void *arg)
{
	int src = t_file_with(data, SIZE), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int file = t_file_empty(0);
	uint32_t flags = *(uint32_t *)arg;
	struct zc_region r;
	ssize_t n;
	int p[2];

	t_check(pipe2(p, O_CLOEXEC) == 0);
	t_check(zc_region_load_fd(&r, src, flags) == 0);
	t_check(ftruncate(src, 4096) == 0);
	n = zc_region_transfer(&r, 0, SIZE, null, NULL, 0, NULL);
	t_check(n == 4096 || (n == -1 && errno == EFAULT));
	n = zc_region_transfer(&r, 8192, SIZE, p[1], NULL, 0, NULL);
	t_check(n == 0 || (n == -1 && errno == EFAULT));
	/* write(2) to /dev/null never reads the buffer: a file does. */
	n = zc_region_transfer(&r, 8192, SIZE, file, NULL, ZC_NO_SPLICE, NULL);
	t_check(n == 0 || (n == -1 && errno == EFAULT));
	t_check(zc_region_close(&r) == 0);
	close(src);
	close(null);
	close(file);
}

static void test_truncated_source(void **state)
{
	uint32_t modes[] = { 0, ZC_REGION_PRIVATE };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_int_equal(t_wait_exit(t_spawn(send_after_truncate, &modes[i])), 0);
}

/* Slices above 2 GiB of a sparse file, by the fd and by vmsplice. */
static void test_sparse_high_slice(void **state)
{
	const uint64_t big = 3ull << 30, at = (2ull << 30) + 4321;
	int fd = t_file_empty(0);
	struct zc_region ro, cow;
	struct t_end a, b;

	(void)state;
	assert_int_equal(ftruncate(fd, (off_t)big), 0);
	assert_int_equal(pwrite(fd, data, 200000, (off_t)at), 200000);
	assert_int_equal(zc_region_load_fd(&ro, fd, 0), 0);
	assert_int_equal(zc_region_load_fd(&cow, fd, ZC_REGION_PRIVATE), 0);
	t_sink_open(&a, T_PIPE);
	t_sink_open(&b, T_UNIX);
	assert_int_equal(zc_region_transfer(&ro, at, 200000, a.fd, NULL, 0, NULL), 200000);
	assert_int_equal(zc_region_transfer(&cow, at, 200000, b.fd, NULL, 0, NULL), 200000);
	t_sink_finish(&a);
	t_sink_finish(&b);
	t_assert_bytes(a.got, a.got_len, data, 200000);
	t_assert_bytes(b.got, b.got_len, data, 200000);
	free(a.got);
	free(b.got);
	assert_int_equal(zc_region_close(&ro), 0);
	assert_int_equal(zc_region_close(&cow), 0);
	close(fd);
}

/* Re-run of this program with ZCOPY_DEBUG=1: one memory transfer to /dev/null. */
static int debug_child(void)
{
	struct zc_region r;
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (zc_region_sysv_create(&r, IPC_PRIVATE, 8192, 0, 0) < 0 || zc_region_remove(&r) < 0)
		return 1;
	if (zc_region_transfer(&r, 0, 5000, null, NULL, 0, NULL) != 5000)
		return 1;
	zc_region_close(&r);
	return 0;
}

static void test_debug_line(void **state)
{
	char line[512] = "";
	int p[2], status;
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 2);
		setenv("ZCOPY_DEBUG", "1", 1);
		execl(self, self, "debug-child", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], line, sizeof(line) - 1);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(n > 0);
	if (!strstr(line, "zcopy: src=-1(shm)") || !strstr(line, "bytes=5000") ||
	    !strstr(line, "path=vmsplice"))
		fail_msg("debug line: %s", line);
}

static int group_setup(void **state)
{
	(void)state;
	data = t_pattern(SIZE, 41);
	data_fd = t_file_with(data, SIZE);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	close(data_fd);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_every_pair, t_regions_teardown),
		cmocka_unit_test_teardown(test_dst_offset, t_regions_teardown),
		cmocka_unit_test_teardown(test_bad_args, t_regions_teardown),
		cmocka_unit_test_teardown(test_truncated_source, t_regions_teardown),
		cmocka_unit_test_teardown(test_sparse_high_slice, t_regions_teardown),
		cmocka_unit_test_teardown(test_debug_line, t_regions_teardown),
	};

	if (argc > 1 && strcmp(argv[1], "debug-child") == 0)
		return debug_child();
	self = argv[0];
	t_regions_init();
	return cmocka_run_group_tests_name("regions-out", tests, group_setup, group_teardown);
}
