// SPDX-License-Identifier: MIT
/*
 * Clones on filesystems that share extents: btrfs and xfs images made and
 * loop-mounted here (root and mkfs.btrfs/mkfs.xfs needed, else skipped
 * with the reason), against ext4 (the test directory), which cannot.
 * Free space says whether blocks were shared or written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"

#define MiB (1024u * 1024)
#define SIZE (8 * MiB + 4097)

struct fs {
	const char *name;
	const char *mkfs;	/* command, image path appended */
	const char *image_size;
	char dir[64];		/* mount point, "" if not mounted */
};

static struct fs fss[] = {
	{ "btrfs", "mkfs.btrfs -q -f", "200M", "" },
	{ "xfs", "mkfs.xfs -q -f -m reflink=1", "320M", "" },
};
#define NFS (sizeof(fss) / sizeof(fss[0]))

static char top[64];
static unsigned char *data;

__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void mount_fs(struct fs *f)
{
	char img[96];

	snprintf(img, sizeof(img), "%s/%s.img", top, f->name);
	snprintf(f->dir, sizeof(f->dir), "%s/%s", top, f->name);
	if (sh("truncate -s %s %s && %s %s >/dev/null 2>&1 && mkdir -p %s && "
	       "mount -o loop %s %s 2>/dev/null", f->image_size, img, f->mkfs, img, f->dir, img,
	       f->dir) != 0) {
		fprintf(stderr, "# %s: cannot make or mount an image here\n", f->name);
		f->dir[0] = 0;
	}
	unlink(img);	/* the loop device keeps it until the unmount */
}

static int setup(void **state)
{
	(void)state;
	data = t_pattern(SIZE, 31);
	if (geteuid() != 0) {
		fprintf(stderr, "# not root: no loop mounts, the clone tests skip\n");
		return 0;
	}
	strcpy(top, "/tmp/zc-clone.XXXXXX");
	if (!mkdtemp(top))
		return -1;
	for (size_t i = 0; i < NFS; i++)
		mount_fs(&fss[i]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFS; i++)
		if (fss[i].dir[0])
			sh("umount %s || umount -l %s", fss[i].dir, fss[i].dir);
	if (top[0])
		sh("rm -rf %s", top);
	free(data);
	return 0;
}

static struct fs *need(const char *name)
{
	for (size_t i = 0; i < NFS; i++)
		if (strcmp(fss[i].name, name) == 0 && fss[i].dir[0])
			return &fss[i];
	return NULL;
}

static int open_in(const struct fs *f, const char *name, int flags)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", f ? f->dir : "/tmp", name);
	fd = open(path, flags | O_RDWR | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	if (!f)
		unlink(path);
	return fd;
}

static int src_in(const struct fs *f)
{
	int fd = open_in(f, "src", O_CREAT | O_TRUNC);

	assert_int_equal(pwrite(fd, data, SIZE, 0), SIZE);
	assert_int_equal(fsync(fd), 0);
	return fd;
}

static uint64_t free_bytes(int fd)
{
	struct statvfs s;

	assert_int_equal(fsync(fd), 0);
	sync();
	assert_int_equal(fstatvfs(fd, &s), 0);
	return (uint64_t)s.f_bfree * s.f_frsize;
}

#define SKIP_UNLESS(f, name)                                                    \
	do {                                                                    \
		if (!(f = need(name))) {                                        \
			fprintf(stderr, "# %s not mounted: skipped\n", name);  \
			skip();                                                 \
		}                                                               \
	} while (0)

static void copy_and_check(const char *fsname, unsigned int flags, uint32_t path, bool shared)
{
	struct fs *f;
	struct zc_stats st;
	uint64_t before, after;
	int src, dst;

	SKIP_UNLESS(f, fsname);
	src = src_in(f);
	dst = open_in(f, "dst", O_CREAT | O_TRUNC);
	before = free_bytes(dst);
	assert_int_equal(zc_transfer_ex(src, dst, ZC_ALL, flags, &st), SIZE);
	after = free_bytes(dst);
	assert_int_equal(st.path, path);
	t_assert_file(dst, data, SIZE);
	/* Shared extents take no data blocks; a real copy takes about SIZE. */
	if (shared)
		assert_true(before - after < SIZE / 4 || after >= before);
	else
		assert_true(before > after && before - after >= SIZE - MiB);
	close(src);
	close(dst);
}

static void test_btrfs_clones(void **state)
{
	(void)state;
	copy_and_check("btrfs", 0, ZC_PATH_CLONE, true);
	copy_and_check("btrfs", ZC_REFLINK_ONLY, ZC_PATH_CLONE, true);
}

static void test_xfs_clones(void **state)
{
	(void)state;
	copy_and_check("xfs", 0, ZC_PATH_CLONE, true);
	copy_and_check("xfs", ZC_REFLINK_ONLY, ZC_PATH_CLONE, true);
}

static int count_calls(uint64_t done, uint64_t total, uint32_t path, void *arg)
{
	(void)done;
	(void)total;
	assert_int_equal(path, ZC_PATH_CLONE);
	++*(unsigned int *)arg;
	return 0;
}

/* A clone is one step, never cut into progress chunks. */
static void test_clone_not_chunked(void **state)
{
	struct fs *f;
	unsigned int calls = 0;
	struct zc_opts o = { .size = sizeof(o), .len = ZC_ALL, .src_off = ZC_OFF_NONE,
			     .dst_off = ZC_OFF_NONE, .chunk = 65536, .progress = count_calls,
			     .arg = &calls };
	int src, dst;

	(void)state;
	SKIP_UNLESS(f, "btrfs");
	src = src_in(f);
	dst = open_in(f, "dst", O_CREAT | O_TRUNC);
	assert_int_equal(zc_transfer_opts(src, dst, &o, NULL), SIZE);
	assert_int_equal(calls, 1);
	t_assert_file(dst, data, SIZE);
	close(src);
	close(dst);
}

/* ZC_NO_REFLINK: blocks of the copy's own, by neither clone nor copy_file_range. */
static void test_no_reflink(void **state)
{
	(void)state;
	if (!need("btrfs") && !need("xfs"))
		skip();
	if (need("btrfs"))
		copy_and_check("btrfs", ZC_NO_REFLINK, ZC_PATH_SPLICE, false);
	if (need("xfs"))
		copy_and_check("xfs", ZC_NO_REFLINK, ZC_PATH_SPLICE, false);
}

/* A range the kernel cannot clone (unaligned): copied by default, refused with REFLINK_ONLY. */
static void test_unaligned(void **state)
{
	struct fs *f;
	struct zc_stats st;
	uint64_t so = 4097, dof = 0;
	struct stat sb;
	int src, dst;

	(void)state;
	SKIP_UNLESS(f, "btrfs");
	src = src_in(f);
	dst = open_in(f, "dst", O_CREAT | O_TRUNC);
	assert_int_equal(zc_transfer_at(src, &so, dst, &dof, ZC_ALL, ZC_REFLINK_ONLY, &st), -1);
	assert_int_equal(errno, EOPNOTSUPP);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(fstat(dst, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	assert_int_equal(so, 4097);
	assert_int_equal(zc_transfer_at(src, &so, dst, &dof, ZC_ALL, 0, &st), SIZE - 4097);
	assert_int_equal(st.fallback_path[0], ZC_PATH_CLONE);
	assert_int_not_equal(st.path, ZC_PATH_CLONE);
	t_assert_file(dst, data + 4097, SIZE - 4097);
	close(src);
	close(dst);
}

/* Across two filesystems there is nothing to share: EXDEV, or a copy by default. */
static void test_cross_fs(void **state)
{
	struct fs *a, *b;
	struct zc_stats st;
	int src, dst;

	(void)state;
	SKIP_UNLESS(a, "btrfs");
	SKIP_UNLESS(b, "xfs");
	src = src_in(a);
	dst = open_in(b, "dst", O_CREAT | O_TRUNC);
	assert_int_equal(zc_transfer_ex(src, dst, ZC_ALL, ZC_REFLINK_ONLY, &st), -1);
	assert_int_equal(errno, EXDEV);
	assert_int_equal(lseek(src, 0, SEEK_CUR), 0);
	assert_int_equal(zc_transfer_ex(src, dst, ZC_ALL, 0, &st), SIZE);
	t_assert_file(dst, data, SIZE);
	close(src);
	close(dst);
}

/* A sparse file cloned keeps its holes: the clone shares the layout. */
static void test_sparse_clone(void **state)
{
	static const struct t_island is[] = { { 2 * MiB, 65536 }, { 9 * MiB, 4096 } };
	struct fs *f;
	int src, dst;
	unsigned char *want;

	(void)state;
	SKIP_UNLESS(f, "btrfs");
	src = open_in(f, "sparse", O_CREAT | O_TRUNC);
	dst = open_in(f, "dst", O_CREAT | O_TRUNC);
	want = t_sparse_fill(src, 16 * MiB, is, 2, 33);
	assert_int_equal(fsync(src), 0);
	assert_int_equal(zc_transfer(src, dst, ZC_ALL, 0), 16 * MiB);
	t_assert_file(dst, want, 16 * MiB);
	assert_true(t_allocated(dst) <= t_allocated(src) + 65536);
	free(want);
	close(src);
	close(dst);
}

/* ext4 cannot clone: REFLINK_ONLY copies nothing, the default copies. */
static void test_ext4_refuses(void **state)
{
	int src = t_file_with(data, SIZE), dst = t_file_empty(0);
	struct zc_stats st;

	(void)state;
	assert_int_equal(zc_transfer_ex(src, dst, ZC_ALL, ZC_REFLINK_ONLY, &st), -1);
	assert_int_equal(errno, EOPNOTSUPP);
	assert_int_equal(lseek(dst, 0, SEEK_END), 0);
	assert_int_equal(lseek(src, 0, SEEK_CUR), 0);
	assert_int_equal(zc_transfer_ex(src, dst, ZC_ALL, ZC_REFLINK_ONLY | ZC_NO_REFLINK, &st),
			 -1);
	assert_int_equal(errno, EINVAL);
	/* Not two files: nothing to clone. */
	{
		int p[2];

		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		assert_int_equal(zc_transfer(src, p[1], 10, ZC_REFLINK_ONLY), -1);
		assert_int_equal(errno, EOPNOTSUPP);
		close(p[0]);
		close(p[1]);
	}
	assert_int_equal(zc_transfer_ex(src, dst, ZC_ALL, 0, &st), SIZE);
	assert_int_not_equal(st.path, ZC_PATH_CLONE);
	t_assert_file(dst, data, SIZE);
	close(src);
	close(dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_btrfs_clones),
		cmocka_unit_test(test_xfs_clones),
		cmocka_unit_test(test_clone_not_chunked),
		cmocka_unit_test(test_no_reflink),
		cmocka_unit_test(test_unaligned),
		cmocka_unit_test(test_cross_fs),
		cmocka_unit_test(test_sparse_clone),
		cmocka_unit_test(test_ext4_refuses),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
