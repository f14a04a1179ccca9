// SPDX-License-Identifier: MIT
/*
 * Named POSIX regions between real processes: names, modes whatever the
 * umask, EEXIST and open-or-create races with exactly one creator, size
 * discovery, atomic publish, ENOSPC at create instead of SIGBUS later.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"
#include "regions-helpers.h"

static void shm_stat(const char *name, struct stat *st)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	assert_int_equal(stat(path, st), 0);
}

static bool shm_exists(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	return access(path, F_OK) == 0;
}

static void expect_fail(int r, int err)
{
	assert_int_equal(r, -1);
	assert_int_equal(errno, err);
}

static void test_bad_names(void **state)
{
	static const char *const bad[] = { "", "/", "//", "a/b", "/a/b", ".", "/.", "..",
					   "//..", "x/" };
	char longest[300], path[PATH_MAX];
	struct zc_region r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_fail(zc_region_create(&r, bad[i], 4096, 0, 0), EINVAL);
		assert_int_equal(r.kind, ZC_REGION_NONE);
		assert_int_equal(r.fd, -1);
		expect_fail(zc_region_open(&r, bad[i], 0), EINVAL);
		expect_fail(zc_region_unlink(bad[i]), EINVAL);
	}
	expect_fail(zc_region_create(&r, NULL, 4096, 0, 0), EINVAL);
	expect_fail(zc_region_create(NULL, "x", 4096, 0, 0), EINVAL);

	/* NAME_MAX bytes is the longest name; one more is ENAMETOOLONG. */
	t_rname(longest, "");
	memset(longest + strlen(longest), 'n', sizeof(longest) - strlen(longest));
	longest[256] = '\0';
	expect_fail(zc_region_create(&r, longest, 4096, 0, 0), ENAMETOOLONG);
	expect_fail(zc_region_open(&r, longest, 0), ENAMETOOLONG);
	longest[255] = '\0';
	assert_int_equal(zc_region_create(&r, longest, 4096, 0, 0), 0);
	assert_true(shm_exists(longest));
	assert_int_equal(zc_region_unlink(longest), 0);
	assert_int_equal(zc_region_close(&r), 0);

	/* Not a regular file under the name: refused, and a FIFO does not hang. */
	t_rname(longest, "fifo");
	snprintf(path, sizeof(path), "/dev/shm/%s", longest);
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_fail(zc_region_open(&r, longest, ZC_REGION_RDONLY), EINVAL);
	expect_fail(zc_region_open(&r, longest, 0), EINVAL);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	expect_fail(zc_region_open(&r, longest, ZC_REGION_RDONLY), ELOOP);
	assert_int_equal(unlink(path), 0);
}

static void test_bad_sizes_flags(void **state)
{
	struct zc_region r;
	char name[96];

	(void)state;
	t_rname(name, "size");
	expect_fail(zc_region_create(&r, name, 0, 0, 0), EINVAL);
	expect_fail(zc_region_create(&r, name, (uint64_t)INT64_MAX + 1, 0, 0), EFBIG);
	expect_fail(zc_region_create(&r, name, 4096, 010000, 0), EINVAL);
	expect_fail(zc_region_create(&r, name, 4096, 0, 0x80000000u), EINVAL);
	expect_fail(zc_region_create(&r, name, 4096, 0,
				     ZC_REGION_OPEN_OR_CREATE | ZC_REGION_UNPUBLISHED), EINVAL);
	expect_fail(zc_region_open(&r, name, ZC_REGION_OPEN_OR_CREATE), EINVAL);
	expect_fail(zc_region_open(&r, name, 0), ENOENT);
	assert_false(shm_exists(name));
}

/* "x", "/x" and "//x" are one object; a write through one is read through another. */
static void test_same_object(void **state)
{
	struct zc_region a, b, c;
	char name[96], slash[100], two[100];

	(void)state;
	t_rname(name, "same");
	snprintf(slash, sizeof(slash), "/%s", name);
	snprintf(two, sizeof(two), "//%s", name);
	assert_int_equal(zc_region_create(&a, slash, 8192, 0, 0), 0);
	assert_string_equal(a.name, name);
	assert_int_equal(zc_region_open(&b, name, 0), 0);
	assert_int_equal(zc_region_open(&c, two, 0), 0);
	memcpy(a.addr, "hello", 5);
	assert_memory_equal(b.addr, "hello", 5);
	assert_memory_equal(c.addr, "hello", 5);
	expect_fail(zc_region_create(&b, two, 8192, 0, 0), EEXIST);
	assert_int_equal(zc_region_unlink(two), 0);
	expect_fail(zc_region_unlink(name), ENOENT);
	assert_int_equal(zc_region_close(&a), 0);
	assert_int_equal(zc_region_close(&b), 0);
	assert_int_equal(zc_region_close(&c), 0);
}

static void test_close_harmless(void **state)
{
	int fd0 = fcntl(0, F_GETFD), fds = t_fd_count();
	struct zc_region r;
	char name[96];

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(zc_region_close(&r), 0);
	assert_int_equal(zc_region_close(&r), 0);
	assert_int_equal(zc_region_close(NULL), 0);
	assert_int_equal(fcntl(0, F_GETFD), fd0);	/* fd 0 of a zeroed struct untouched */

	t_rname(name, "close");
	assert_int_equal(zc_region_create(&r, name, 4096, 0, 0), 0);
	assert_int_equal(t_fd_count(), fds + 1);
	assert_int_equal(zc_region_unlink(name), 0);
	assert_int_equal(zc_region_close(&r), 0);
	assert_int_equal(r.kind, ZC_REGION_NONE);
	assert_int_equal(r.fd, -1);
	assert_null(r.addr);
	assert_int_equal(zc_region_close(&r), 0);
	assert_int_equal(t_fd_count(), fds);
	assert_int_equal(fcntl(0, F_GETFD), fd0);
}

/* Exactly the mode asked, whatever the umask, and the umask left alone. */
static void test_mode_umask(void **state)
{
	static const uint32_t modes[] = { 0, 0600, 0644, 0666, 0640, 0400 };
	mode_t old = umask(077);
	struct zc_region r;
	struct stat st;
	char name[96];
	size_t i;

	(void)state;
	t_rname(name, "mode");
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		umask(i % 2 ? 0777 : 022);
		assert_int_equal(zc_region_create(&r, name, 4096, modes[i], 0), 0);
		shm_stat(name, &st);
		assert_int_equal(st.st_mode & 07777, modes[i] ? modes[i] : 0600);
		assert_int_equal(umask(022), i % 2 ? 0777 : 022);
		assert_int_equal(zc_region_unlink(name), 0);
		assert_int_equal(zc_region_close(&r), 0);
	}
	umask(old);
}

static void child_writes(void *arg)
{
	const char *name = arg;
	unsigned char *want = t_pattern(65536, 7);
	struct zc_region r;

	t_check(zc_region_open(&r, name, 0) == 0);
	t_check(r.size == 65536);
	t_check(memcmp(r.addr, want, 32768) == 0);	/* the parent's half */
	memcpy((char *)r.addr + 32768, want + 32768, 32768);
	t_check(zc_region_close(&r) == 0);
	free(want);
}

/* Two processes see each other's writes; size comes from the segment. */
static void test_two_processes(void **state)
{
	unsigned char *want = t_pattern(65536, 7);
	struct zc_region r;
	char name[96];

	(void)state;
	t_rname(name, "fork");
	assert_int_equal(zc_region_create(&r, name, 65536, 0, 0), 0);
	assert_true(r.flags & ZC_REGION_CREATED);
	assert_int_equal(r.size, 65536);
	memcpy(r.addr, want, 32768);
	assert_int_equal(t_wait_exit(t_spawn(child_writes, name)), 0);
	t_assert_bytes(r.addr, r.size, want, 65536);
	assert_int_equal(zc_region_unlink(name), 0);
	assert_int_equal(zc_region_close(&r), 0);
	free(want);
}

static void test_size_on_open(void **state)
{
	struct zc_region r, o;
	struct stat st;
	char name[96];

	(void)state;
	t_rname(name, "sizes");
	assert_int_equal(zc_region_create(&r, name, 12345, 0, 0), 0);
	shm_stat(name, &st);
	assert_int_equal(st.st_size, 12345);
	/* Space is taken at create: the blocks are there before any touch. */
	assert_true((uint64_t)st.st_blocks * 512 >= 12345);
	assert_int_equal(zc_region_open(&o, name, ZC_REGION_RDONLY), 0);
	assert_int_equal(o.size, 12345);
	assert_true(o.flags & ZC_REGION_RDONLY);
	assert_false(o.flags & ZC_REGION_CREATED);
	/* open-or-create of an existing one opens it and keeps its size. */
	assert_int_equal(zc_region_close(&o), 0);
	assert_int_equal(zc_region_create(&o, name, 999999, 0, ZC_REGION_OPEN_OR_CREATE), 0);
	assert_false(o.flags & ZC_REGION_CREATED);
	assert_int_equal(o.size, 12345);
	assert_int_equal(zc_region_close(&o), 0);

	/* Resized by its creator: the next opener finds the new size. */
	memset(r.addr, 0x42, 12345);
	assert_int_equal(zc_region_resize(&r, 4 * 4096 + 1), 0);
	assert_int_equal(zc_region_open(&o, name, 0), 0);
	assert_int_equal(o.size, 4 * 4096 + 1);
	assert_int_equal(((unsigned char *)o.addr)[12344], 0x42);
	assert_int_equal(((unsigned char *)o.addr)[12345], 0);
	assert_int_equal(zc_region_unlink(name), 0);
	assert_int_equal(zc_region_close(&o), 0);
	assert_int_equal(zc_region_close(&r), 0);
}

struct race {
	char name[96];
	int gate[2];
	uint32_t flags;
};

/* Exit 10 when this process created the region, 20 when it opened it. */
static void racer(void *arg)
{
	struct race *rc = arg;
	struct zc_region r;
	int e;

	t_gate_wait(rc->gate);
	e = zc_region_create(&r, rc->name, 4096, 0, rc->flags);
	if (e < 0) {
		t_check(errno == EEXIST && !(rc->flags & ZC_REGION_OPEN_OR_CREATE));
		_exit(20);
	}
	t_check(r.size == 4096);
	e = r.flags & ZC_REGION_CREATED ? 10 : 20;
	zc_region_close(&r);
	_exit(e);
}

static void race(uint32_t flags, const char *tag)
{
	struct race rc = { .flags = flags };
	int round;

	t_rname(rc.name, tag);
	for (round = 0; round < 25; round++) {
		assert_int_equal(t_race(racer, &rc, rc.gate, 4), 1);
		assert_int_equal(zc_region_unlink(rc.name), 0);
	}
}

static void test_create_race(void **state)
{
	(void)state;
	race(0, "race-excl");
	race(ZC_REGION_OPEN_OR_CREATE, "race-ooc");
}

struct publish {
	char name[96];
	int ready[2];
};

/* Open as soon as the name exists: what is seen must be the whole content. */
static void early_opener(void *arg)
{
	struct publish *p = arg;
	unsigned char *want = t_pattern(4 << 20, 3);
	struct zc_region r;
	int e;

	close(p->ready[0]);
	close(p->ready[1]);	/* tell the parent we are looking */
	while ((e = zc_region_open(&r, p->name, ZC_REGION_RDONLY)) < 0)
		t_check(errno == ENOENT);
	t_check(r.size == 4 << 20);
	t_check(memcmp(r.addr, want, 4 << 20) == 0);
	zc_region_close(&r);
	free(want);
}

static void test_atomic_publish(void **state)
{
	unsigned char *data;
	struct publish p;
	struct zc_region r, other;
	char c;
	pid_t pid;

	(void)state;
	t_rname(p.name, "publish");
	assert_int_equal(pipe(p.ready), 0);
	pid = t_spawn(early_opener, &p);
	close(p.ready[1]);
	assert_int_equal(read(p.ready[0], &c, 1), 0);
	close(p.ready[0]);

	data = t_pattern(4 << 20, 3);	/* after the fork: the child has its own */
	assert_int_equal(zc_region_create(&r, p.name, 4 << 20, 0, ZC_REGION_UNPUBLISHED), 0);
	assert_true(r.flags & ZC_REGION_UNPUBLISHED);
	assert_false(shm_exists(p.name));
	expect_fail(zc_region_open(&other, p.name, 0), ENOENT);
	memcpy(r.addr, data, 2 << 20);
	usleep(20000);	/* a slow producer: the opener keeps trying meanwhile */
	memcpy((char *)r.addr + (2 << 20), data + (2 << 20), 2 << 20);
	assert_int_equal(zc_region_publish(&r), 0);
	assert_false(r.flags & ZC_REGION_UNPUBLISHED);
	expect_fail(zc_region_publish(&r), EINVAL);
	assert_int_equal(t_wait_exit(pid), 0);

	/* A second creator that fills and publishes late loses with EEXIST. */
	assert_int_equal(zc_region_create(&other, p.name, 4096, 0, ZC_REGION_UNPUBLISHED), 0);
	expect_fail(zc_region_publish(&other), EEXIST);
	assert_int_equal(zc_region_close(&other), 0);

	assert_int_equal(zc_region_unlink(p.name), 0);
	assert_int_equal(zc_region_close(&r), 0);
	free(data);
}

/* An unpublished region closed without publishing leaves nothing behind. */
static void test_unpublished_vanishes(void **state)
{
	struct zc_region r;
	char name[96];

	(void)state;
	t_rname(name, "vanish");
	assert_int_equal(zc_region_create(&r, name, 4096, 0, ZC_REGION_UNPUBLISHED), 0);
	assert_int_equal(zc_region_close(&r), 0);
	assert_false(shm_exists(name));
}

static void touch_all(struct zc_region *r)
{
	size_t i;

	for (i = 0; i < r->size; i += 4096)
		((volatile char *)r->addr)[i] = 1;
}

/*
 * In a private mount namespace, /dev/shm is a 1 MiB tmpfs: a region larger
 * than what is free fails with ENOSPC at create, and one that fits can be
 * touched whole without SIGBUS. Exit 77 if no namespace can be had.
 */
static void small_tmpfs(void *arg)
{
	const char *name = arg;
	struct zc_region a, b;
	char other[120];

	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=1m") < 0)
		_exit(77);
	t_check(zc_region_create(&a, name, 2 << 20, 0, 0) == -1 && errno == ENOSPC);
	t_check(access("/dev/shm", F_OK) == 0);
	t_check(zc_region_create(&a, name, 640 << 10, 0, 0) == 0);
	touch_all(&a);
	snprintf(other, sizeof(other), "%s-b", name);
	t_check(zc_region_create(&b, other, 640 << 10, 0, 0) == -1 && errno == ENOSPC);
	t_check(zc_region_open(&b, other, 0) == -1 && errno == ENOENT);
	t_check(zc_region_close(&a) == 0);
}

static void test_enospc(void **state)
{
	struct statvfs sv;
	struct zc_region r;
	char name[96];
	int st;

	(void)state;
	t_rname(name, "full");
	st = t_wait_exit(t_spawn(small_tmpfs, name));
	if (st == 77)
		print_message("no private mount namespace: larger-than-free case only\n");
	else
		assert_int_equal(st, 0);
	/* Larger than the whole of /dev/shm: ENOSPC at once, nothing left behind. */
	assert_int_equal(statvfs("/dev/shm", &sv), 0);
	expect_fail(zc_region_create(&r, name, (uint64_t)sv.f_blocks * sv.f_frsize + (1 << 20),
				     0, 0), ENOSPC);
	assert_false(shm_exists(name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bad_names, t_regions_teardown),
		cmocka_unit_test_teardown(test_bad_sizes_flags, t_regions_teardown),
		cmocka_unit_test_teardown(test_same_object, t_regions_teardown),
		cmocka_unit_test_teardown(test_close_harmless, t_regions_teardown),
		cmocka_unit_test_teardown(test_mode_umask, t_regions_teardown),
		cmocka_unit_test_teardown(test_two_processes, t_regions_teardown),
		cmocka_unit_test_teardown(test_size_on_open, t_regions_teardown),
		cmocka_unit_test_teardown(test_create_race, t_regions_teardown),
		cmocka_unit_test_teardown(test_atomic_publish, t_regions_teardown),
		cmocka_unit_test_teardown(test_unpublished_vanishes, t_regions_teardown),
		cmocka_unit_test_teardown(test_enospc, t_regions_teardown),
	};

	t_regions_init();
	return cmocka_run_group_tests_name("regions-posix", tests, NULL, NULL);
}
