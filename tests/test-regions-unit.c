// SPDX-License-Identifier: MIT
/*
 * Region code against a scripted kernel, through the fault seam (fault.h):
 * single steps fail (ENOSPC from fallocate, EINTR from flock, EOPNOTSUPP)
 * or come in pieces (a header sent and received a byte at a time).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
 * region-limit.c on a made-up machine: a tree with proc/meminfo,
 * proc/self/cgroup and sys/fs/cgroup/... under a temporary root.
 */
#define MIB (1ull << 20)

static char fake[64];

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX], *p;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fake, rel);
	for (p = strchr(path + strlen(fake) + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
		*p = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Into dir/file, where dir ends with a slash. */
static void put_in(const char *dir, const char *file, const char *text)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "%s%s", dir, file);
	put(rel, text);
}

static void put_bytes(const char *dir, const char *file, unsigned long long n)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu\n", n);
	put_in(dir, file, text);
}

/* 8 GiB of memory, 4 GiB of it available, and swap as given (MiB). */
static void put_meminfo(unsigned int swap_total, unsigned int swap_free)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "MemTotal:        8388608 kB\nMemFree:         1048576 kB\n"
		 "MemAvailable:    4194304 kB\nBuffers:               0 kB\n"
		 "SwapTotal:       %8u kB\nSwapFree:        %8u kB\n",
		 swap_total * 1024, swap_free * 1024);
	put("proc/meminfo", text);
}

static int make_fake(void **state)
{
	(void)state;
	snprintf(fake, sizeof(fake), "/tmp/zcr-fits-XXXXXX");
	assert_non_null(mkdtemp(fake));
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)type;
	(void)f;
	return remove(path);
}

static int remove_fake(void **state)
{
	(void)state;
	return nftw(fake, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void expect_fit(uint64_t size, int want)
{
	assert_int_equal(zc__region_fits_at(fake, size), want);
}

/* No cgroup limit: what the machine has available, swap included. */
static void test_fits_machine(void **state)
{
	(void)state;
	expect_fit(1ull << 60, 0);	/* nothing readable limits nothing */
	put_meminfo(0, 0);
	put("proc/self/cgroup", "0::/\n");
	expect_fit(4096 * MIB, 0);
	expect_fit(4096 * MIB + 1, -ENOMEM);
	put_meminfo(2048, 1024);
	expect_fit(5120 * MIB, 0);
	expect_fit(5120 * MIB + 1, -ENOMEM);
	/* Before Linux 3.14 there is no MemAvailable: no refusal on a guess. */
	put("proc/meminfo", "MemTotal: 8388608 kB\nMemFree: 1024 kB\n");
	expect_fit(1ull << 40, 0);
}

/* cgroup v2: every level up from the process's own, reclaimable cache, swap. */
static void test_fits_v2(void **state)
{
	const char *b = "sys/fs/cgroup/a/b/";

	(void)state;
	put_meminfo(0, 0);
	put("proc/self/cgroup", "0::/a/b\n");
	put_bytes(b, "memory.max", 64 * MIB);
	put_bytes(b, "memory.current", 10 * MIB);
	put("sys/fs/cgroup/a/memory.max", "max\n");
	put("sys/fs/cgroup/a/memory.current", "123456789\n");
	expect_fit(54 * MIB, 0);
	expect_fit(54 * MIB + 1, -ENOMEM);
	/* File cache the cgroup can give back counts; its shmem (anon LRU) does not. */
	put_in(b, "memory.stat",
	       "anon 0\nfile 16777216\nshmem 8388608\ninactive_anon 8388608\n"
	       "inactive_file 5242880\nactive_file 3145728\nunevictable 0\n");
	expect_fit(62 * MIB, 0);
	expect_fit(62 * MIB + 1, -ENOMEM);
	/* Swap it may still use, no more than there is free. */
	put_meminfo(1024, 100);
	expect_fit(162 * MIB, 0);
	expect_fit(162 * MIB + 1, -ENOMEM);
	put_bytes(b, "memory.swap.max", 40 * MIB);
	put_bytes(b, "memory.swap.current", 10 * MIB);
	expect_fit(92 * MIB, 0);
	expect_fit(92 * MIB + 1, -ENOMEM);
	/* A tighter parent decides, whatever its child allows. */
	put_bytes("sys/fs/cgroup/a/", "memory.max", 40 * MIB);
	put_bytes("sys/fs/cgroup/a/", "memory.current", 30 * MIB);
	put("sys/fs/cgroup/a/memory.swap.max", "0\n");
	put("sys/fs/cgroup/a/memory.swap.current", "0\n");
	expect_fit(10 * MIB, 0);
	expect_fit(10 * MIB + 1, -ENOMEM);
	/* Over its limit already (lowered under it): nothing more. */
	put_bytes("sys/fs/cgroup/a/", "memory.current", 50 * MIB);
	expect_fit(4096, -ENOMEM);
}

/* cgroup v1: memory has a hierarchy of its own, and memsw counts swap with it. */
static void test_fits_v1(void **state)
{
	const char *x = "sys/fs/cgroup/memory/x/";

	(void)state;
	put_meminfo(1024, 512);
	put("proc/self/cgroup", "12:pids:/p\n4:cpuset,memory,freezer:/x\n0::/u\n");
	put_bytes("sys/fs/cgroup/memory/", "memory.limit_in_bytes", 9223372036854771712ull);
	put_bytes("sys/fs/cgroup/memory/", "memory.usage_in_bytes", 6000 * MIB);
	/* The v2 line's cgroup is not where memory is counted here. */
	put_bytes("sys/fs/cgroup/u/", "memory.max", 4096);
	put_bytes("sys/fs/cgroup/u/", "memory.current", 0);
	put_bytes(x, "memory.limit_in_bytes", 100 * MIB);
	put_bytes(x, "memory.usage_in_bytes", 30 * MIB);
	put_in(x, "memory.stat",
	       "cache 1\nactive_file 99999999\ninactive_file 99999999\n"
	       "total_inactive_file 1048576\ntotal_active_file 1048576\n");
	/* Memory and swap together: 150 MiB of which 30 MiB used, so 50 MiB of swap. */
	put_bytes(x, "memory.memsw.limit_in_bytes", 150 * MIB);
	put_bytes(x, "memory.memsw.usage_in_bytes", 30 * MIB);
	expect_fit(70 * MIB, 0);
	expect_fit(122 * MIB, 0);
	expect_fit(122 * MIB + 1, -ENOMEM);
	/* A path that leaves the mount is no cgroup of ours to read. */
	put("proc/self/cgroup", "4:memory:/../x\n");
	expect_fit(1024 * MIB, 0);
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
	for (i = 0; i < 10000 && !(__atomic_load_n(word, __ATOMIC_ACQUIRE) & FUTEX_WAITERS);
	     i++)
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
		cmocka_unit_test_setup_teardown(test_fits_machine, make_fake, remove_fake),
		cmocka_unit_test_setup_teardown(test_fits_v2, make_fake, remove_fake),
		cmocka_unit_test_setup_teardown(test_fits_v1, make_fake, remove_fake),
		cmocka_unit_test_teardown(test_cleanup_name_taken, t_regions_teardown),
		cmocka_unit_test_teardown(test_cleanup_left_aside, t_regions_teardown),
	};

	t_regions_init();
	return cmocka_run_group_tests_name("regions-unit", tests, NULL, NULL);
}
