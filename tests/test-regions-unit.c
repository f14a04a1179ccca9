// SPDX-License-Identifier: MIT
/*
 * Region code against a scripted kernel, through the fault seam (fault.h):
 * single steps fail (ENOSPC from fallocate, EINTR from flock, EOPNOTSUPP)
 * or come in pieces (a header sent and received a byte at a time).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "fault.h"
#include "helpers.h"
#include "region.h"
#include "regions-helpers.h"

static bool shm_exists(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	return access(path, F_OK) == 0;
}

static void test_enospc_leaves_nothing(void **state)
{
	int fds = t_fd_count();
	struct zc_region r;
	char name[96];

	(void)state;
	t_rname(name, "unit-full");
	t_fault_reset();
	t_fault_add("fallocate", 0, T_FAIL, ENOSPC);
	assert_int_equal(zc_region_create(&r, name, 4096, 0, 0), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(zc_region_memfd(&r, "u", 4096, 0), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(t_fault_fired(), 2);
	t_fault_reset();
	assert_false(shm_exists(name));
	assert_int_equal(r.fd, -1);
	assert_int_equal(t_fd_count(), fds);

	/* A growth that fails keeps the old size and mapping. */
	assert_int_equal(zc_region_memfd(&r, "u", 4096, 0), 0);
	t_fault_add("fallocate", 1, T_FAIL, ENOSPC);
	assert_int_equal(zc_region_resize(&r, 1 << 20), -1);
	assert_int_equal(errno, ENOSPC);
	t_fault_reset();
	assert_int_equal(r.size, 4096);
	assert_int_equal(lseek(r.fd, 0, SEEK_END), 4096);
	assert_int_equal(zc_region_close(&r), 0);
}

/* Without fallocate the size is still set, by ftruncate. */
static void test_no_fallocate(void **state)
{
	struct zc_region r;

	(void)state;
	t_fault_reset();
	t_fault_add("fallocate", 1, T_FAIL, EOPNOTSUPP);
	assert_int_equal(zc_region_memfd(&r, "u", 12345, 0), 0);
	assert_int_equal(t_fault_calls(T_NR_ftruncate), 1);
	t_fault_reset();
	assert_int_equal(lseek(r.fd, 0, SEEK_END), 12345);
	assert_int_equal(r.size, 12345);
	assert_int_equal(zc_region_close(&r), 0);
}

static void test_flock_eintr(void **state)
{
	struct zc_region r, o;
	char name[96];

	(void)state;
	t_rname(name, "unit-eintr");
	t_fault_reset();
	t_fault_add("flock", 1, T_FAIL, EINTR);
	t_fault_add("flock", 2, T_FAIL, EINTR);
	assert_int_equal(zc_region_create(&r, name, 4096, 0, 0), 0);
	t_fault_add("flock", 1, T_FAIL, EINTR);	/* counted from here */
	assert_int_equal(zc_region_open(&o, name, 0), 0);
	assert_int_equal(t_fault_fired(), 3);
	assert_int_equal(t_fault_calls(T_NR_flock), 5);
	t_fault_reset();
	assert_int_equal(zc_region_remove(&r), 0);
	assert_int_equal(zc_region_close(&o), 0);
	assert_int_equal(zc_region_close(&r), 0);
}

/* A header that goes out and comes in a few bytes at a time arrives whole. */
static void test_header_in_pieces(void **state)
{
	struct zc_region r, got;
	int sv[2], fds;

	(void)state;
	t_unix_pair(sv);
	fds = t_fd_count();
	assert_int_equal(zc_region_memfd(&r, "pieces", 8192, 0), 0);
	memcpy(r.addr, "whole", 5);
	t_fault_reset();
	t_fault_add("sendmsg", 0, T_SHORT, 0);
	t_fault_add("recvmsg", 0, T_SHORT, 0);
	assert_int_equal(zc_region_send(sv[0], &r), 0);
	assert_int_equal(zc_region_recv(sv[1], &got, 0), 0);
	/* One byte and the fd by sendmsg, the rest by send; received a byte a call. */
	assert_int_equal(t_fault_calls(T_NR_sendmsg), 1);
	assert_int_equal(t_fault_calls(T_NR_send), 1);
	assert_true(t_fault_calls(T_NR_recvmsg) > 100);
	t_fault_reset();
	assert_int_equal(got.size, 8192);
	assert_memory_equal(got.addr, "whole", 5);
	assert_int_equal(zc_region_close(&got), 0);
	assert_int_equal(zc_region_close(&r), 0);
	assert_int_equal(t_fd_count(), fds);
	close(sv[0]);
	close(sv[1]);
}

/*
 * zc_region_cleanup against a region replaced under its name: found() runs
 * between the cleaner's check and its removal and replaces the stale region
 * with a live one (test-regions-stale has that case alone). Here a third
 * process also creates the name in the moment the cleaner has moved it
 * aside, before it can put it back: the live region is then left nameless,
 * the newest one keeps the name, and no private name stays behind.
 */
struct swap {
	char name[96];
	ino_t stale;
	struct zc_region live, newest;
};

static void swap_live(const char *name, void *arg)
{
	struct swap *w = arg;
	struct stat st;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	assert_int_equal(stat(path, &st), 0);
	w->stale = st.st_ino;
	assert_int_equal(unlink(path), 0);
	assert_int_equal(zc_region_create(&w->live, name, 4096, 0, 0), 0);
}

static void create_newest(void *arg)
{
	struct swap *w = arg;

	assert_int_equal(zc_region_create(&w->newest, w->name, 4096, 0, 0), 0);
}

static void test_cleanup_name_taken(void **state)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct swap w;
	struct stat a, b;

	(void)state;
	t_rname(w.name, "unit-swap");
	assert_int_equal(zc_region_create(&w.live, w.name, 4096, 0, 0), 0);
	assert_int_equal(zc_region_close(&w.live), 0);	/* stale: nobody holds it */
	t_fault_reset();
	/* The 1st fstatat checks the name, the 2nd looks at what was moved aside. */
	t_fault_add_fn("fstatat", 2, create_newest, &w);
	assert_int_equal(zc_region_cleanup(w.name, 0, swap_live, &w), 0);
	assert_int_equal(t_fault_fired(), 1);
	t_fault_reset();
	snprintf(path, sizeof(path), "/dev/shm/%s", w.name);
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(fstat(w.newest.fd, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(fstat(w.live.fd, &b), 0);
	assert_int_equal(b.st_nlink, 0);
	snprintf(tmp, sizeof(tmp), "/dev/shm/" ZC__CLEAN_PREFIX "%llx",
		 (unsigned long long)w.stale);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(zc_region_close(&w.live), 0);
	assert_int_equal(zc_region_remove(&w.newest), 0);
	assert_int_equal(zc_region_close(&w.newest), 0);
}

/* A cleaner that died between its two steps left a stale region aside. */
static void test_cleanup_left_aside(void **state)
{
	char name[96], path[PATH_MAX], aside[PATH_MAX];
	struct zc_region r;
	struct stat st;
	bool left;
	int n;

	(void)state;
	t_rname(name, "unit-aside");
	assert_int_equal(zc_region_create(&r, name, 4096, 0, 0), 0);
	assert_int_equal(fstat(r.fd, &st), 0);
	assert_int_equal(zc_region_close(&r), 0);
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	snprintf(aside, sizeof(aside), "/dev/shm/" ZC__CLEAN_PREFIX "%llx",
		 (unsigned long long)st.st_ino);
	assert_int_equal(rename(path, aside), 0);
	n = zc_region_cleanup(strrchr(aside, '/') + 1, 0, NULL, NULL);
	left = unlink(aside) == 0;	/* the sweep would not find it under this name */
	assert_int_equal(n, 1);
	assert_false(left);
}

/*
 * A mutex whose holder died (EOWNERDEAD) and who then unlocks it without
 * repairing: the moment it becomes not recoverable. Another process's
 * trylock that checked the library's state word just before reaches
 * glibc's trylock, which leaves its thread id in the lock word
 * (test-regions-sync: test_glibc_trylock_leaves_owner); a third process
 * already waits in a plain lock by then. The library gives the word back
 * and wakes the waiter, who gets ENOTRECOVERABLE instead of waiting forever.
 */
struct stale {
	struct zc_mutex *m;
	int go[2];
	pid_t holder, waiter;
};

static void lock_and_die(void *arg)
{
	t_check(zc_mutex_lock(arg) == 0);
}

static void dirty_holder(void *arg)
{
	struct stale *s = arg;
	char c;

	t_check(zc_mutex_lock(s->m) == -1 && errno == EOWNERDEAD);
	close(s->go[1]);
	t_ready();
	t_check(read(s->go[0], &c, 1) == 0);
	t_check(zc_mutex_unlock(s->m) == 0);
}

/* Before the real trylock: the holder unlocks, the mutex is now not recoverable. */
static void holder_unlocks(void *arg)
{
	struct stale *s = arg;

	close(s->go[1]);
	assert_int_equal(t_wait_exit(s->holder), 0);
}

static void plain_waiter(void *arg)
{
	struct stale *s = arg;

	alarm(10);
	t_check(pthread_mutex_lock((pthread_mutex_t *)s->m) == ENOTRECOVERABLE);
}

/* Between glibc's trylock and the release: a waiter comes and waits. */
static void waiter_comes(void *arg)
{
	struct stale *s = arg;
	int *word = &((pthread_mutex_t *)s->m)->__data.__lock;
	int i;

	assert_int_equal(*word & FUTEX_TID_MASK, gettid());
	s->waiter = t_spawn(plain_waiter, s);
	for (i = 0; i < 10000 && !(__atomic_load_n(word, __ATOMIC_ACQUIRE) & FUTEX_WAITERS); i++)
		usleep(1000);
	assert_true(*word & FUTEX_WAITERS);
}

static void lock_in_child(void *arg)
{
	alarm(10);
	t_check(zc_mutex_lock(arg) == -1 && errno == ENOTRECOVERABLE);
}

static void test_trylock_releases_stale(void **state)
{
	struct stale s;
	struct zc_region r;

	(void)state;
	assert_int_equal(zc_region_memfd(&r, "stale", 4096, 0), 0);
	s.m = zc_region_mutex(&r, 0, ZC_LOCK_INIT);
	assert_non_null(s.m);
	assert_int_equal(t_wait_exit(t_spawn(lock_and_die, s.m)), 0);
	assert_int_equal(pipe2(s.go, O_CLOEXEC), 0);
	s.holder = t_spawn_ready(dirty_holder, &s);
	close(s.go[0]);
	t_fault_reset();
	t_fault_add_fn("mutex_trylock", 1, holder_unlocks, &s);
	t_fault_add_fn("gettid", 1, waiter_comes, &s);
	assert_int_equal(zc_mutex_trylock(s.m), -1);
	assert_int_equal(errno, ENOTRECOVERABLE);
	assert_int_equal(t_fault_fired(), 2);
	assert_int_equal(t_fault_calls(T_NR_futex_wake), 1);
	t_fault_reset();
	assert_int_equal(t_wait_exit(s.waiter), 0);
	assert_int_equal(((pthread_mutex_t *)s.m)->__data.__lock, 0);
	assert_int_equal(t_wait_exit(t_spawn(lock_in_child, s.m)), 0);
	assert_int_equal(zc_mutex_lock(s.m), -1);
	assert_int_equal(errno, ENOTRECOVERABLE);
	assert_int_equal(zc_region_close(&r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_enospc_leaves_nothing, t_regions_teardown),
		cmocka_unit_test_teardown(test_no_fallocate, t_regions_teardown),
		cmocka_unit_test_teardown(test_flock_eintr, t_regions_teardown),
		cmocka_unit_test_teardown(test_header_in_pieces, t_regions_teardown),
		cmocka_unit_test_teardown(test_trylock_releases_stale, t_regions_teardown),
		cmocka_unit_test_teardown(test_cleanup_name_taken, t_regions_teardown),
		cmocka_unit_test_teardown(test_cleanup_left_aside, t_regions_teardown),
	};

	t_regions_init();
	return cmocka_run_group_tests_name("regions-unit", tests, NULL, NULL);
}
