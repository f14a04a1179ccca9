// SPDX-License-Identifier: MIT
/*
 * System V regions between processes: modes whatever the umask, EEXIST and
 * open-or-create with exactly one creator, size from the segment, IPC_RMID
 * while attached, and SHMMAX/SHMALL as errnos in a private IPC namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"
#include "regions-helpers.h"

#define SIZE (128u << 10)

static void expect_fail(int r, int err)
{
	assert_int_equal(r, -1);
	assert_int_equal(errno, err);
}

static void test_bad_args(void **state)
{
	struct zc_region r;

	(void)state;
	expect_fail(zc_region_sysv_create(&r, t_rkey(0), 0, 0, 0), EINVAL);
	expect_fail(zc_region_sysv_create(&r, t_rkey(0), 4096, 01000, 0), EINVAL);
	expect_fail(zc_region_sysv_create(&r, t_rkey(0), 4096, 0, ZC_REGION_UNPUBLISHED), EINVAL);
	expect_fail(zc_region_sysv_open(&r, IPC_PRIVATE, 0), EINVAL);
	expect_fail(zc_region_sysv_open(&r, t_rkey(0), 0x40), EINVAL);
	expect_fail(zc_region_sysv_open(&r, t_rkey(0), 0), ENOENT);
	assert_int_equal(r.kind, ZC_REGION_NONE);
	assert_int_equal(r.shmid, -1);
	memset(&r, 0, sizeof(r));
	expect_fail(zc_region_remove(&r), EINVAL);
}

static void child_writes(void *arg)
{
	unsigned char *want = t_pattern(SIZE, 21);
	struct zc_region r;

	(void)arg;
	t_check(zc_region_sysv_open(&r, t_rkey(1), 0) == 0);
	t_check(r.kind == ZC_REGION_SYSV && r.fd == -1);
	t_check(r.size == SIZE);
	t_check(!(r.flags & ZC_REGION_CREATED));
	t_check(memcmp(r.addr, want, SIZE / 2) == 0);
	memcpy((char *)r.addr + SIZE / 2, want + SIZE / 2, SIZE / 2);
	t_check(zc_region_close(&r) == 0);
	free(want);
}

static void test_two_processes_mode(void **state)
{
	unsigned char *want = t_pattern(SIZE, 21);
	mode_t old = umask(077);
	struct zc_region r, again;
	struct shmid_ds ds;

	(void)state;
	assert_int_equal(zc_region_sysv_create(&r, t_rkey(1), SIZE, 0640, 0), 0);
	umask(old);
	assert_true(r.flags & ZC_REGION_CREATED);
	assert_int_equal(r.kind, ZC_REGION_SYSV);
	assert_int_equal(r.fd, -1);
	assert_int_equal(shmctl(r.shmid, IPC_STAT, &ds), 0);
	assert_int_equal(ds.shm_perm.mode & 0777, 0640);
	memcpy(r.addr, want, SIZE / 2);
	assert_int_equal(t_wait_exit(t_spawn(child_writes, NULL)), 0);
	t_assert_bytes(r.addr, r.size, want, SIZE);

	expect_fail(zc_region_sysv_create(&again, t_rkey(1), SIZE, 0, 0), EEXIST);
	assert_int_equal(zc_region_sysv_create(&again, t_rkey(1), 4096, 0,
					       ZC_REGION_OPEN_OR_CREATE), 0);
	assert_false(again.flags & ZC_REGION_CREATED);
	assert_int_equal(again.size, SIZE);
	assert_int_equal(again.shmid, r.shmid);
	assert_int_equal(zc_region_close(&again), 0);
	assert_int_equal(zc_region_sysv_open(&again, t_rkey(1), ZC_REGION_RDONLY), 0);
	assert_true(again.flags & ZC_REGION_RDONLY);
	t_assert_bytes(again.addr, again.size, want, SIZE);
	assert_int_equal(zc_region_close(&again), 0);
	assert_int_equal(zc_region_sysv_create(&again, IPC_PRIVATE, 4096, 0, 0), 0);
	assert_int_not_equal(again.shmid, r.shmid);
	assert_int_equal(zc_region_remove(&again), 0);
	assert_int_equal(zc_region_close(&again), 0);

	assert_int_equal(zc_region_remove(&r), 0);
	assert_int_equal(zc_region_close(&r), 0);
	assert_int_equal(zc_region_close(&r), 0);
	free(want);
}

struct race {
	int gate[2];
};

static void racer(void *arg)
{
	struct race *rc = arg;
	struct zc_region r;
	int st;

	t_gate_wait(rc->gate);
	t_check(zc_region_sysv_create(&r, t_rkey(2), 8192, 0, ZC_REGION_OPEN_OR_CREATE) == 0);
	t_check(r.size == 8192);
	st = r.flags & ZC_REGION_CREATED ? 10 : 20;
	zc_region_close(&r);
	_exit(st);
}

static void test_open_or_create_race(void **state)
{
	struct race rc;
	struct zc_region r;
	int round;

	(void)state;
	for (round = 0; round < 25; round++) {
		assert_int_equal(t_race(racer, &rc, rc.gate, 4), 1);
		assert_int_equal(zc_region_sysv_open(&r, t_rkey(2), 0), 0);
		assert_int_equal(zc_region_remove(&r), 0);
		assert_int_equal(zc_region_close(&r), 0);
	}
}

struct rmid {
	int attached[2];
	int go[2];
	int shmid;
};

/* Attach, say so, wait until the key is gone, then write. */
static void late_writer(void *arg)
{
	struct rmid *m = arg;
	struct zc_region r, gone;
	char c;

	close(m->attached[0]);
	close(m->go[1]);
	t_check(zc_region_sysv_open(&r, t_rkey(3), 0) == 0);
	close(m->attached[1]);
	t_check(read(m->go[0], &c, 1) == 0);
	t_check(zc_region_sysv_open(&gone, t_rkey(3), 0) == -1 && errno == ENOENT);
	memcpy(r.addr, "after rmid", 10);
	t_check(zc_region_close(&r) == 0);
}

static void test_rmid_while_attached(void **state)
{
	struct rmid m;
	struct zc_region r, gone;
	struct shmid_ds ds;
	char c;
	pid_t pid;

	(void)state;
	assert_int_equal(zc_region_sysv_create(&r, t_rkey(3), 4096, 0, 0), 0);
	assert_int_equal(pipe(m.attached), 0);
	assert_int_equal(pipe(m.go), 0);
	pid = t_spawn(late_writer, &m);
	close(m.attached[1]);
	close(m.go[0]);
	assert_int_equal(read(m.attached[0], &c, 1), 0);
	close(m.attached[0]);
	assert_int_equal(zc_region_remove(&r), 0);
	close(m.go[1]);
	assert_int_equal(t_wait_exit(pid), 0);
	assert_memory_equal(r.addr, "after rmid", 10);
	expect_fail(zc_region_sysv_open(&gone, t_rkey(3), 0), ENOENT);
	m.shmid = r.shmid;
	assert_int_equal(zc_region_close(&r), 0);
	/* The last detach took the memory with it. */
	assert_int_equal(shmctl(m.shmid, IPC_STAT, &ds), -1);
}

/* A segment has no descriptor to grow: the page promises EOPNOTSUPP, not EINVAL. */
static void test_resize_unsupported(void **state)
{
	struct zc_region r;

	(void)state;
	assert_int_equal(zc_region_sysv_create(&r, t_rkey(5), 4096, 0, 0), 0);
	memcpy(r.addr, "kept", 4);
	expect_fail(zc_region_resize(&r, 8192), EOPNOTSUPP);
	expect_fail(zc_region_resize(&r, 1024), EOPNOTSUPP);
	assert_int_equal(r.size, 4096);
	assert_memory_equal(r.addr, "kept", 4);
	assert_int_equal(zc_region_remove(&r), 0);
	assert_int_equal(zc_region_close(&r), 0);
	/* A closed region is not mapped: that stays EINVAL. */
	expect_fail(zc_region_resize(&r, 8192), EINVAL);
}

static void pass_receiver(void *arg)
{
	int *sv = arg;
	struct zc_region r;

	t_check(zc_region_recv(sv[1], &r, 0) == 0);
	t_check(r.kind == ZC_REGION_SYSV && r.size == 4096);
	t_check(memcmp(r.addr, "passed", 6) == 0);
	memcpy(r.addr, "answer", 6);
	t_check(zc_region_close(&r) == 0);
}

static void test_pass_sysv(void **state)
{
	struct zc_region r, lie, got;
	int sv[2], fds, fd;
	char hdr[1024];
	ssize_t len;

	(void)state;
	t_unix_pair(sv);
	assert_int_equal(zc_region_sysv_create(&r, IPC_PRIVATE, 4096, 0, 0), 0);
	memcpy(r.addr, "passed", 6);
	assert_int_equal(zc_region_send(sv[0], &r), 0);
	assert_int_equal(t_wait_exit(t_spawn(pass_receiver, sv)), 0);
	assert_memory_equal(r.addr, "answer", 6);
	lie = r;
	lie.size = 1 << 20;
	assert_int_equal(zc_region_send(sv[0], &lie), 0);
	expect_fail(zc_region_recv(sv[1], &lie, 0), EBADMSG);

	/* A segment needs no fd: one that comes with its header is closed. */
	fds = t_fd_count();
	assert_int_equal(zc_region_send(sv[0], &r), 0);
	len = t_recv_raw(sv[1], hdr, sizeof(hdr));
	fd = t_memfd_with("extra", 5);
	t_send_fds(sv[0], hdr, (size_t)len, &fd, 1);
	close(fd);
	assert_int_equal(zc_region_recv(sv[1], &got, 0), 0);
	assert_int_equal(got.kind, ZC_REGION_SYSV);
	assert_int_equal(got.fd, -1);
	assert_memory_equal(got.addr, "answer", 6);
	assert_int_equal(zc_region_close(&got), 0);
	assert_int_equal(t_fd_count(), fds);
	assert_int_equal(zc_region_remove(&r), 0);
	assert_int_equal(zc_region_close(&r), 0);
	close(sv[0]);
	close(sv[1]);
}

static int put(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * shmmax and shmall belong to the IPC namespace: a child lowers them in a
 * namespace of its own. Exit 77 if there is none to be had.
 */
static void small_limits(void *arg)
{
	struct zc_region r;

	(void)arg;
	if (unshare(CLONE_NEWIPC) < 0 || put("/proc/sys/kernel/shmmax", "1048576") < 0 ||
	    put("/proc/sys/kernel/shmall", "512") < 0)
		_exit(77);
	t_check(zc_region_sysv_create(&r, t_rkey(4), 2 << 20, 0, 0) == -1 && errno == EFBIG);
	t_check(zc_region_sysv_create(&r, t_rkey(4), 1 << 20, 0, 0) == 0);
	t_check(zc_region_remove(&r) == 0 && zc_region_close(&r) == 0);
	t_check(put("/proc/sys/kernel/shmmax", "8388608") == 0);
	/* 512 pages is 2 MiB for everything: 4 MiB is past SHMALL. */
	t_check(zc_region_sysv_create(&r, t_rkey(4), 4 << 20, 0, 0) == -1 && errno == ENOSPC);
	t_check(r.kind == ZC_REGION_NONE);
}

static void test_limits(void **state)
{
	int st;

	(void)state;
	st = t_wait_exit(t_spawn(small_limits, NULL));
	if (st == 77) {
		print_message("no private IPC namespace: cannot lower SHMMAX/SHMALL\n");
		return;
	}
	assert_int_equal(st, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bad_args, t_regions_teardown),
		cmocka_unit_test_teardown(test_two_processes_mode, t_regions_teardown),
		cmocka_unit_test_teardown(test_open_or_create_race, t_regions_teardown),
		cmocka_unit_test_teardown(test_rmid_while_attached, t_regions_teardown),
		cmocka_unit_test_teardown(test_resize_unsupported, t_regions_teardown),
		cmocka_unit_test_teardown(test_pass_sysv, t_regions_teardown),
		cmocka_unit_test_teardown(test_limits, t_regions_teardown),
	};

	t_regions_init();
	return cmocka_run_group_tests_name("regions-sysv", tests, NULL, NULL);
}
