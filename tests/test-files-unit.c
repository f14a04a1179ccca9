// SPDX-License-Identifier: MIT
/*
 * Files through the fault seam: every failure the kernel can give the hole
 * walk (lseek SEEK_DATA/SEEK_HOLE, fallocate, ftruncate) and mmap_write
 * (madvise, EFAULT from write) ends in the bytes that landed and the
 * error, or in a slower path that finishes the copy; never in a silent
 * short copy or a loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "fault.h"
#include "helpers.h"
#include "internal.h"

#define MiB (1024u * 1024)
#define ALL_OFF (ZC_NO_COPY_FILE_RANGE | ZC_NO_SPLICE | ZC_NO_SENDFILE | ZC_NO_MMAP)
#define ONLY_MMAP (ALL_OFF & ~ZC_NO_MMAP)
#define SIZE (300u * 1024 + 77)

/* hole, 100001 bytes of data at 1 MiB + 7, hole to 3 MiB + 123 */
static const struct t_island island[] = { { MiB + 7, 100001 } };
#define SPARSE_SIZE (3 * MiB + 123)

/*
 * Each test gets a source and a destination from its setup, and its
 * teardown closes them and drops the fault schedule, also when an
 * assertion ended the test early.
 */
struct fx {
	unsigned char *want;	/* the source's bytes */
	int src, dst;
};

static int dense_setup(void **state)
{
	static unsigned int seed;
	struct fx *f = t_alloc(sizeof(*f));

	f->want = t_pattern(SIZE, ++seed);
	f->src = t_file_with(f->want, SIZE);
	f->dst = t_file_empty(0);
	t_fault_reset();
	*state = f;
	return 0;
}

/* hole, island, hole: the source of the walk's tests */
static int sparse_setup(void **state)
{
	struct fx *f = t_alloc(sizeof(*f));

	f->src = t_file_empty(0);
	f->dst = t_file_empty(0);
	f->want = t_sparse_fill(f->src, SPARSE_SIZE, island, 1, 6);
	t_fault_reset();
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	t_fault_reset();
	close(f->src);
	close(f->dst);
	free(f->want);
	free(f);
	return 0;
}

/* EFAULT from write() with the file whole: mmap_write gives way to read_write. */
static void test_mmap_efault_falls_back(void **state)
{
	struct fx *f = *state;
	struct zc_stats st;

	close(f->dst);
	f->dst = t_file_empty(O_APPEND);	/* the pair mmap_write serves first */
	t_fault_add("write", 1, T_FAIL, EFAULT);
	assert_int_equal(zc_transfer_ex(f->src, f->dst, ZC_ALL, ONLY_MMAP, &st), SIZE);
	assert_int_equal(st.error, 0);
	assert_int_equal(st.fallback_path[0], ZC_PATH_MMAP_WRITE);
	assert_int_equal(st.fallback_errno[0], EFAULT);
	assert_int_equal(st.path, ZC_PATH_READ_WRITE);
	t_assert_file(f->dst, f->want, SIZE);
}

/* EFAULT after one byte, and the page really cannot be read: EIO, the byte stands. */
static void test_mmap_efault_eio(void **state)
{
	struct fx *f = *state;
	struct zc_stats st;

	t_fault_add("write", 1, T_SHORT, 0);
	t_fault_add("write", 2, T_FAIL, EFAULT);
	t_fault_add("pread", 1, T_FAIL, EIO);
	assert_int_equal(zc_transfer_ex(f->src, f->dst, ZC_ALL, ONLY_MMAP, &st), 1);
	assert_int_equal(st.error, EIO);
	assert_int_equal(st.error_side, ZC_SIDE_SRC);
	t_assert_file(f->dst, f->want, 1);
	assert_int_equal(lseek(f->src, 0, SEEK_CUR), 1);
}

/* Pages that fail to come in fail the call at once, as the source's EIO. */
static void test_mmap_populate_eio(void **state)
{
	struct fx *f = *state;
	struct zc_stats st;

	t_fault_add("madvise", 1, T_FAIL, EFAULT);
	t_fault_add("pread", 1, T_FAIL, EIO);
	assert_int_equal(zc_transfer_ex(f->src, f->dst, ZC_ALL, ONLY_MMAP, &st), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(st.error_side, ZC_SIDE_SRC);
	assert_int_equal(t_fault_calls(T_NR_write), 0);
}

static void truncate_to_zero(void *arg)
{
	assert_int_equal(ftruncate(*(int *)arg, 0), 0);
}

/* The file truncated under the mapping: end of input, not an error. */
static void test_mmap_truncated(void **state)
{
	struct fx *f = *state;
	struct zc_stats st;

	t_fault_add_fn("madvise", 1, truncate_to_zero, &f->src);
	t_fault_add("madvise", 1, T_FAIL, EFAULT);
	assert_int_equal(zc_transfer_ex(f->src, f->dst, ZC_ALL, ONLY_MMAP, &st), 0);
	assert_int_equal(st.error, 0);
}

/* A kernel without MADV_POPULATE_READ (EINVAL): pages come in during write(). */
static void test_mmap_no_populate(void **state)
{
	struct fx *f = *state;
	struct zc_stats st;

	t_fault_add("madvise", 0, T_FAIL, EINVAL);
	assert_int_equal(zc_transfer_ex(f->src, f->dst, ZC_ALL, ONLY_MMAP, &st), SIZE);
	assert_int_equal(st.path, ZC_PATH_MMAP_WRITE);
	t_assert_file(f->dst, f->want, SIZE);
}

/* Where the filesystem says the island's data ends: SEEK_HOLE, block-rounded. */
static off_t data_end(int src)
{
	off_t end = lseek(src, island[0].off, SEEK_HOLE);

	assert_true(end >= (off_t)(island[0].off + island[0].len));
	assert_int_equal(lseek(src, 0, SEEK_SET), 0);
	return end;
}

static uint64_t data_start(int src)
{
	off_t start = lseek(src, 0, SEEK_DATA);

	assert_true(start >= 0 && start <= (off_t)island[0].off);
	assert_int_equal(lseek(src, 0, SEEK_SET), 0);
	return (uint64_t)start;
}

/* SEEK_DATA failing for real: the rest is copied densely, byte for byte. */
static void test_walk_lseek_fails(void **state)
{
	static const int errs[] = { EIO, EINVAL, ENOSYS };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		struct zc_stats st;
		struct fx *f;
		void *one;

		sparse_setup(&one);
		f = one;
		/* The third lseek is the walk's first SEEK_DATA (after both positions). */
		t_fault_add("lseek", 3, T_FAIL, errs[i]);
		assert_int_equal(zc_transfer_ex(f->src, f->dst, ZC_ALL, 0, &st), SPARSE_SIZE);
		assert_int_equal(st.error, 0);
		assert_int_equal(st.holes, 0);
		t_assert_file(f->dst, f->want, SPARSE_SIZE);
		assert_int_equal(lseek(f->src, 0, SEEK_CUR), SPARSE_SIZE);
		fx_teardown(&one);
	}
}

/* No hole punching on this filesystem: zeros are written over the old bytes. */
static void test_walk_punch_unsupported(void **state)
{
	struct fx *f = *state;
	unsigned char *old = t_alloc(SPARSE_SIZE);
	struct zc_stats st;

	memset(old, 0x5a, SPARSE_SIZE);
	assert_int_equal(pwrite(f->dst, old, SPARSE_SIZE, 0), SPARSE_SIZE);
	t_fault_add("fallocate", 0, T_FAIL, EOPNOTSUPP);
	assert_int_equal(zc_transfer_ex(f->src, f->dst, ZC_ALL, 0, &st), SPARSE_SIZE);
	assert_int_equal(st.error, 0);
	assert_true(t_fault_fired() >= 2);
	t_assert_file(f->dst, f->want, SPARSE_SIZE);
	free(old);
}

/* The punch fails for real: the call ends there with the bytes before it. */
static void test_walk_punch_eio(void **state)
{
	struct fx *f = *state;
	unsigned char *old = t_alloc(SPARSE_SIZE);
	off_t end = data_end(f->src);
	struct zc_stats st;

	memset(old, 0x5a, SPARSE_SIZE);
	assert_int_equal(pwrite(f->dst, old, SPARSE_SIZE, 0), SPARSE_SIZE);
	assert_int_equal(lseek(f->dst, 0, SEEK_SET), 0);
	t_fault_add("fallocate", 2, T_FAIL, EIO);
	/* The leading hole and the island landed; the trailing hole did not. */
	assert_int_equal(zc_transfer_ex(f->src, f->dst, ZC_ALL, 0, &st), end);
	assert_int_equal(st.error, EIO);
	assert_int_equal(st.error_side, ZC_SIDE_DST);
	assert_int_equal(lseek(f->src, 0, SEEK_CUR), end);
	assert_int_equal(lseek(f->dst, 0, SEEK_CUR), end);
	memcpy(old, f->want, (size_t)end);
	t_assert_file(f->dst, old, SPARSE_SIZE);
	free(old);
}

/* The size cannot be set after a trailing hole: the hole is not counted. */
static void test_walk_truncate_fails(void **state)
{
	struct fx *f = *state;
	off_t end = data_end(f->src);
	uint64_t start = data_start(f->src);
	struct zc_stats st;
	struct stat sb;

	t_fault_add("ftruncate", 1, T_FAIL, ENOSPC);
	assert_int_equal(zc_transfer_ex(f->src, f->dst, ZC_ALL, 0, &st), end);
	assert_int_equal(st.error, ENOSPC);
	assert_int_equal(st.error_side, ZC_SIDE_DST);
	assert_int_equal(st.holes, start);
	assert_int_equal(fstat(f->dst, &sb), 0);
	assert_int_equal(sb.st_size, end);
	assert_int_equal(lseek(f->src, 0, SEEK_CUR), end);
	assert_int_equal(lseek(f->dst, 0, SEEK_CUR), end);
	t_assert_file(f->dst, f->want, (size_t)end);
}

/* EINTR and short writes while writing zeros: all of them land. */
static void test_walk_zeros_interrupted(void **state)
{
	struct fx *f = *state;
	unsigned char *old = t_alloc(SPARSE_SIZE);

	memset(old, 0x77, SPARSE_SIZE);
	assert_int_equal(pwrite(f->dst, old, SPARSE_SIZE, 0), SPARSE_SIZE);
	t_fault_add("fallocate", 0, T_FAIL, EOPNOTSUPP);
	t_fault_add("pwrite", 1, T_FAIL, EINTR);
	t_fault_add("pwrite", 2, T_SHORT, 0);
	assert_int_equal(zc_transfer(f->src, f->dst, ZC_ALL, 0), SPARSE_SIZE);
	t_assert_file(f->dst, f->want, SPARSE_SIZE);
	free(old);
}

static void punch_island(void *arg)
{
	/* The data SEEK_DATA found is gone by the time SEEK_HOLE looks. */
	assert_int_equal(ftruncate(*(int *)arg, MiB), 0);
}

/* The source shrinks between SEEK_DATA and SEEK_HOLE: the walk still ends. */
static void test_walk_shrinks(void **state)
{
	struct fx *f = *state;
	ssize_t n;

	t_fault_add_fn("lseek", 4, punch_island, &f->src);	/* the first SEEK_HOLE */
	n = zc_transfer(f->src, f->dst, ZC_ALL, 0);
	/* Whatever the walk made of it, only zeros, and no more than the old size. */
	assert_true(n >= 0 && n <= (ssize_t)SPARSE_SIZE);
	{
		size_t len, i;
		unsigned char *got = t_read_file(f->dst, &len);

		for (i = 0; i < len; i++)
			assert_int_equal(got[i], 0);
		free(got);
	}
}

/* ZCOPY_DEBUG says how many bytes stayed holes. */
static void test_walk_debug_line(void **state)
{
	struct fx *f = *state;
	int err_fd = t_file_empty(0), saved = dup(STDERR_FILENO);
	uint64_t holes = SPARSE_SIZE - ((uint64_t)data_end(f->src) - data_start(f->src));
	char line[512] = "", expect[64];
	ssize_t n;

	snprintf(expect, sizeof(expect), " holes=%llu ", (unsigned long long)holes);
	assert_int_equal(dup2(err_fd, STDERR_FILENO), STDERR_FILENO);
	zc__debug = 1;
	n = zc_transfer(f->src, f->dst, ZC_ALL, 0);
	zc__debug = 0;
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	assert_int_equal(n, SPARSE_SIZE);
	assert_true(pread(err_fd, line, sizeof(line) - 1, 0) > 0);
	if (!strstr(line, expect))
		fail_msg("debug line: %s", line);
	close(err_fd);
}

/*
 * What the clone ioctl says decides: a refusal is EOPNOTSUPP (EXDEV across
 * filesystems) under ZC_REFLINK_ONLY, a failure of the filesystem is itself,
 * and nothing moves either way. ext4 is never asked by a default copy.
 */
static void test_clone_errors(void **state)
{
	static const struct {
		int err, want;
	} cases[] = {
		{ EOPNOTSUPP, EOPNOTSUPP }, { ENOTTY, EOPNOTSUPP }, { EINVAL, EOPNOTSUPP },
		{ EXDEV, EXDEV }, { EIO, EIO }, { ENOSPC, ENOSPC }, { EDQUOT, EDQUOT },
		{ ENOMEM, ENOMEM },
	};
	unsigned char *p = t_pattern(SIZE, 8);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int src = t_file_with(p, SIZE), dst = t_file_empty(0);
		struct zc_stats st;

		t_fault_reset();
		t_fault_add("ioctl", 1, T_FAIL, cases[i].err);
		assert_int_equal(zc_transfer_ex(src, dst, ZC_ALL, ZC_REFLINK_ONLY, &st), -1);
		assert_int_equal(errno, cases[i].want);
		assert_int_equal(st.bytes, 0);
		assert_int_equal(lseek(src, 0, SEEK_CUR), 0);
		assert_int_equal(lseek(dst, 0, SEEK_END), 0);
		t_fault_reset();
		assert_int_equal(zc_transfer_ex(src, dst, ZC_ALL, 0, &st), SIZE);
		assert_int_equal(t_fault_calls(T_NR_ioctl), 0);
		t_assert_file(dst, p, SIZE);
		close(src);
		close(dst);
	}
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mmap_efault_falls_back, dense_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_mmap_efault_eio, dense_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_mmap_populate_eio, dense_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_mmap_truncated, dense_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_mmap_no_populate, dense_setup, fx_teardown),
		cmocka_unit_test(test_walk_lseek_fails),
		cmocka_unit_test_setup_teardown(test_walk_punch_unsupported, sparse_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_walk_punch_eio, sparse_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_walk_truncate_fails, sparse_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_walk_zeros_interrupted, sparse_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_walk_shrinks, sparse_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_walk_debug_line, sparse_setup, fx_teardown),
		cmocka_unit_test(test_clone_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
