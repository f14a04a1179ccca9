// SPDX-License-Identifier: MIT
/*
 * Locks inside a region between processes: the robust mutex excludes, and
 * when its holder is killed the next locker gets EOWNERDEAD and can repair;
 * the semaphore carries items from a producer to a consumer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"
#include "regions-helpers.h"

#define ROUNDS 20000
#define ITEMS 2000

/* The shared layout: a lock, a semaphore, and what they guard. */
struct shared {
	char lock[ZC_MUTEX_SIZE];
	char items[ZC_SEM_SIZE];
	uint64_t counter;
	uint64_t a, b;	/* kept equal under the lock */
	uint64_t slot[ITEMS];
};

static char name[96];

static struct shared *at(struct zc_region *r)
{
	return r->addr;
}

static void open_shared(struct zc_region *r, struct zc_mutex **m)
{
	t_check(zc_region_open(r, name, 0) == 0);
	*m = zc_region_mutex(r, 0, 0);
	t_check(*m != NULL);
}

static void counter_child(void *arg)
{
	struct zc_region r;
	struct zc_mutex *m;
	int i;

	(void)arg;
	open_shared(&r, &m);
	for (i = 0; i < ROUNDS; i++) {
		t_check(zc_mutex_lock(m) == 0);
		at(&r)->counter++;
		t_check(zc_mutex_unlock(m) == 0);
	}
	zc_region_close(&r);
}

static void setup_region(struct zc_region *r, struct zc_mutex **m)
{
	t_rname(name, "sync");
	assert_int_equal(zc_region_create(r, name, sizeof(struct shared), 0, 0), 0);
	*m = zc_region_mutex(r, 0, ZC_LOCK_INIT);
	assert_non_null(*m);
}

static void test_mutex_excludes(void **state)
{
	struct zc_region r;
	struct zc_mutex *m;
	pid_t a, b;

	(void)state;
	setup_region(&r, &m);
	a = t_spawn(counter_child, NULL);
	b = t_spawn(counter_child, NULL);
	assert_int_equal(t_wait_exit(a), 0);
	assert_int_equal(t_wait_exit(b), 0);
	assert_int_equal(at(&r)->counter, 2 * ROUNDS);
	/* Error-checking: relocking is EDEADLK, not a hang. */
	assert_int_equal(zc_mutex_lock(m), 0);
	assert_int_equal(zc_mutex_lock(m), -1);
	assert_int_equal(errno, EDEADLK);
	assert_int_equal(zc_mutex_unlock(m), 0);
	assert_int_equal(zc_mutex_unlock(m), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(zc_region_unlink(name), 0);
	assert_int_equal(zc_region_close(&r), 0);
}

/* Take the lock, leave the data half updated, and wait to be killed. */
static void dying_holder(void *arg)
{
	struct zc_region r;
	struct zc_mutex *m;

	(void)arg;
	open_shared(&r, &m);
	t_check(zc_mutex_lock(m) == 0);
	at(&r)->a++;
	t_ready();
	pause();
}

static void kill_holder(void)
{
	t_kill(t_spawn_ready(dying_holder, NULL));
}

static void other_locker(void *arg)
{
	struct zc_region r;
	struct zc_mutex *m;

	(void)arg;
	open_shared(&r, &m);
	t_check(zc_mutex_trylock(m) == -1 && errno == EBUSY);
	zc_region_close(&r);
}

static void test_holder_killed(void **state)
{
	struct zc_region r;
	struct zc_mutex *m;

	(void)state;
	setup_region(&r, &m);
	kill_holder();
	/* The next locker is told, holds the lock, and repairs. */
	assert_int_equal(zc_mutex_lock(m), -1);
	assert_int_equal(errno, EOWNERDEAD);
	assert_int_equal(at(&r)->a, 1);
	assert_int_equal(t_wait_exit(t_spawn(other_locker, NULL)), 0);
	at(&r)->b = at(&r)->a;
	assert_int_equal(zc_mutex_consistent(m), 0);
	assert_int_equal(zc_mutex_unlock(m), 0);
	assert_int_equal(zc_mutex_lock(m), 0);
	assert_int_equal(zc_mutex_unlock(m), 0);

	/* Not repaired: unusable for good, for everyone, rather than wrong. */
	kill_holder();
	assert_int_equal(zc_mutex_trylock(m), -1);
	assert_int_equal(errno, EOWNERDEAD);
	assert_int_equal(zc_mutex_unlock(m), 0);
	assert_int_equal(zc_mutex_lock(m), -1);
	assert_int_equal(errno, ENOTRECOVERABLE);
	assert_int_equal(zc_region_unlink(name), 0);
	assert_int_equal(zc_region_close(&r), 0);
}

/*
 * What glibc does on its own, with plain pthreads: a robust mutex whose
 * holder died and was then unlocked without pthread_mutex_consistent() is
 * not recoverable, and pthread_mutex_trylock() says so; glibc 2.36 takes
 * the lock to find that out and leaves the caller's thread id in the lock
 * word. No unlock ever clears it, so any other process's trylock gets
 * EBUSY and its lock waits forever, where both should fail with
 * ENOTRECOVERABLE. The test for the library's calls is the next one.
 */
static void plain_lock_and_die(void *arg)
{
	t_check(pthread_mutex_lock(arg) == 0);
}

static void plain_trylock(void *arg)
{
	_exit(pthread_mutex_trylock(arg));
}

static void test_glibc_trylock_leaves_owner(void **state)
{
	pthread_mutexattr_t a;
	pthread_mutex_t *m;
	int word, other;

	(void)state;
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(pthread_mutexattr_init(&a), 0);
	assert_int_equal(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
	assert_int_equal(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
	assert_int_equal(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK), 0);
	assert_int_equal(pthread_mutex_init(m, &a), 0);
	pthread_mutexattr_destroy(&a);
	assert_int_equal(t_wait_exit(t_spawn(plain_lock_and_die, m)), 0);
	assert_int_equal(pthread_mutex_trylock(m), EOWNERDEAD);
	assert_int_equal(pthread_mutex_unlock(m), 0);
	assert_int_equal(pthread_mutex_trylock(m), ENOTRECOVERABLE);
	word = m->__data.__lock;
	other = t_wait_exit(t_spawn(plain_trylock, m));
	assert_int_equal(munmap(m, 4096), 0);
	if (word == 0 && other == ENOTRECOVERABLE) {
		print_message("this glibc gives the lock back on that path: no bug to show\n");
		skip();
	}
	assert_int_equal(word & FUTEX_TID_MASK, gettid());
	assert_int_equal(other, EBUSY);
}

/* Every call in another process says ENOTRECOVERABLE, and none waits. */
static void not_recoverable_here(void *arg)
{
	struct zc_region r;
	struct zc_mutex *m;

	(void)arg;
	alarm(10);	/* a lock that waits forever fails the test instead of hanging it */
	open_shared(&r, &m);
	t_check(zc_mutex_lock(m) == -1 && errno == ENOTRECOVERABLE);
	t_check(zc_mutex_trylock(m) == -1 && errno == ENOTRECOVERABLE);
	t_check(zc_mutex_lock(m) == -1 && errno == ENOTRECOVERABLE);
	zc_region_close(&r);
}

static void test_trylock_not_recoverable(void **state)
{
	struct zc_region r;
	struct zc_mutex *m;

	(void)state;
	setup_region(&r, &m);
	kill_holder();
	assert_int_equal(zc_mutex_trylock(m), -1);
	assert_int_equal(errno, EOWNERDEAD);
	assert_int_equal(zc_mutex_unlock(m), 0);
	assert_int_equal(zc_mutex_trylock(m), -1);
	assert_int_equal(errno, ENOTRECOVERABLE);
	assert_int_equal(t_wait_exit(t_spawn(not_recoverable_here, NULL)), 0);
	/* Here too: not EDEADLK, which would say this thread holds it. */
	assert_int_equal(zc_mutex_lock(m), -1);
	assert_int_equal(errno, ENOTRECOVERABLE);
	assert_int_equal(zc_mutex_trylock(m), -1);
	assert_int_equal(errno, ENOTRECOVERABLE);
	assert_int_equal(t_wait_exit(t_spawn(not_recoverable_here, NULL)), 0);
	assert_int_equal(zc_region_unlink(name), 0);
	assert_int_equal(zc_region_close(&r), 0);
}

static void producer(void *arg)
{
	struct zc_region r;
	struct zc_sem *items;
	int i;

	(void)arg;
	t_check(zc_region_open(&r, name, 0) == 0);
	items = zc_region_sem(&r, ZC_MUTEX_SIZE, 0, 0);
	t_check(items != NULL);
	for (i = 0; i < ITEMS; i++) {
		at(&r)->slot[i] = (uint64_t)i * 2654435761u;
		t_check(zc_sem_post(items) == 0);
	}
	zc_region_close(&r);
}

static void test_semaphore(void **state)
{
	struct zc_region r;
	struct zc_mutex *m;
	struct zc_sem *items;
	pid_t pid;
	int i;

	(void)state;
	setup_region(&r, &m);
	items = zc_region_sem(&r, ZC_MUTEX_SIZE, 0, ZC_LOCK_INIT);
	assert_non_null(items);
	assert_int_equal(zc_sem_trywait(items), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(zc_sem_timedwait(items, 1000000), -1);
	assert_int_equal(errno, ETIMEDOUT);
	pid = t_spawn(producer, NULL);
	for (i = 0; i < ITEMS; i++) {
		assert_int_equal(zc_sem_wait(items), 0);
		assert_int_equal(at(&r)->slot[i], (uint64_t)i * 2654435761u);
	}
	assert_int_equal(t_wait_exit(pid), 0);
	assert_int_equal(zc_sem_trywait(items), -1);
	assert_int_equal(zc_sem_post(items), 0);
	assert_int_equal(zc_sem_timedwait(items, 5000000000ull), 0);
	assert_int_equal(zc_region_unlink(name), 0);
	assert_int_equal(zc_region_close(&r), 0);
}

static void test_bad_places(void **state)
{
	struct zc_region r, ro;

	(void)state;
	assert_int_equal(zc_region_memfd(&r, "locks", 4096, 0), 0);
	assert_null(zc_region_mutex(&r, 4, ZC_LOCK_INIT));
	assert_int_equal(errno, EINVAL);
	assert_null(zc_region_mutex(&r, 4096 - ZC_MUTEX_SIZE + 8, ZC_LOCK_INIT));
	assert_int_equal(errno, EINVAL);
	assert_null(zc_region_mutex(&r, UINT64_MAX - 7, ZC_LOCK_INIT));
	assert_int_equal(errno, EINVAL);
	assert_null(zc_region_mutex(&r, 0, 0x10));
	assert_int_equal(errno, EINVAL);
	assert_null(zc_region_mutex(NULL, 0, 0));
	assert_null(zc_region_sem(&r, 4096 - ZC_SEM_SIZE + 8, 0, ZC_LOCK_INIT));
	assert_null(zc_region_sem(&r, 0, 0xffffffffu, ZC_LOCK_INIT));
	assert_int_equal(errno, EINVAL);
	assert_non_null(zc_region_mutex(&r, 4096 - ZC_MUTEX_SIZE, ZC_LOCK_INIT));
	assert_non_null(zc_region_sem(&r, 4096 - ZC_SEM_SIZE, 1, ZC_LOCK_INIT));
	assert_int_equal(zc_mutex_lock(NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(zc_sem_post(NULL), -1);

	assert_int_equal(zc_region_load_fd(&ro, r.fd, 0), 0);
	assert_null(zc_region_mutex(&ro, 0, 0));
	assert_int_equal(errno, EACCES);
	assert_int_equal(zc_region_close(&ro), 0);
	assert_int_equal(zc_region_close(&r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_mutex_excludes, t_regions_teardown),
		cmocka_unit_test_teardown(test_holder_killed, t_regions_teardown),
		cmocka_unit_test_teardown(test_glibc_trylock_leaves_owner, t_regions_teardown),
		cmocka_unit_test_teardown(test_trylock_not_recoverable, t_regions_teardown),
		cmocka_unit_test_teardown(test_semaphore, t_regions_teardown),
		cmocka_unit_test_teardown(test_bad_places, t_regions_teardown),
	};

	t_regions_init();
	return cmocka_run_group_tests_name("regions-sync", tests, NULL, NULL);
}
