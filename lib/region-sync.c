// SPDX-License-Identifier: MIT
/*
 * Locks that live inside a region and work between processes: a robust,
 * process-shared, error-checking mutex and a process-shared semaphore.
 *
 * Robust is what keeps a lock from being held forever: when its holder
 * dies, the kernel (through the robust futex list every thread registers)
 * marks it, and the next locker gets the lock with EOWNERDEAD. The data it
 * guards may be half updated; that locker repairs it and calls
 * zc_mutex_consistent(). Unlocking without doing so makes the mutex
 * unusable for good (ENOTRECOVERABLE), which is the honest answer when the
 * data cannot be repaired.
 *
 * The last word of the ZC_MUTEX_SIZE bytes, after glibc's mutex, keeps that
 * story for every process: DIRTY from EOWNERDEAD until zc_mutex_consistent,
 * GONE once the mutex cannot be recovered. A lock call that finds GONE
 * answers ENOTRECOVERABLE without asking glibc, whose trylock gets that
 * answer wrong (release_stale). The values are magic numbers, not bits, so
 * that the bytes of a mutex set up before this word existed mean nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include "region.h"

#define STATE_OFF (ZC_MUTEX_SIZE - sizeof(uint32_t))
#define MX_DIRTY 0x7a63640au	/* the holder died; not consistent yet */
#define MX_GONE 0x7a63670au	/* not recoverable */

_Static_assert(sizeof(pthread_mutex_t) <= STATE_OFF, "ZC_MUTEX_SIZE too small");
_Static_assert(sizeof(sem_t) <= ZC_SEM_SIZE, "ZC_SEM_SIZE too small");

/*
 * Where a lock of size bytes goes: inside the region, aligned, and in a
 * mapping that can be written (a lock is written even to be read).
 */
static int place(struct zc_region *r, uint64_t off, uint64_t size, uint32_t flags,
		 void **at)
{
	if (!r || !r->addr || (flags & ~ZC_LOCK_INIT) || off % 8 || off > r->size ||
	    r->size - off < size)
		return -EINVAL;
	if (r->flags & ZC_REGION_RDONLY)
		return -EACCES;
	*at = (char *)r->addr + off;
	return 0;
}

/* The exported calls that hand out a lock: the pointer, or NULL with errno. */
static void *ret_lock(void *at, int e)
{
	return zc__ret(e) < 0 ? NULL : at;
}

static uint32_t *state_of(struct zc_mutex *m)
{
	return (uint32_t *)((char *)m + STATE_OFF);
}

static uint32_t state(struct zc_mutex *m)
{
	return __atomic_load_n(state_of(m), __ATOMIC_ACQUIRE);
}

static void set_state(struct zc_mutex *m, uint32_t v)
{
	__atomic_store_n(state_of(m), v, __ATOMIC_RELEASE);
}

static int mutex_init(struct zc_mutex *zm)
{
	pthread_mutex_t *m = (pthread_mutex_t *)zm;
	pthread_mutexattr_t a;
	int e = -pthread_mutexattr_init(&a);

	if (e < 0)
		return e;
	e = -pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (e == 0)
		e = -pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	/* Relocking or unlocking someone else's lock is a bug to report, not a hang. */
	if (e == 0)
		e = -pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	if (e == 0)
		e = zc__sys_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	if (e == 0)
		set_state(zm, 0);
	return e;
}

ZC_EXPORT struct zc_mutex *zc_region_mutex(struct zc_region *r, uint64_t off, uint32_t flags)
{
	void *m = NULL;
	int e = place(r, off, ZC_MUTEX_SIZE, flags, &m);

	if (e == 0 && (flags & ZC_LOCK_INIT))
		e = mutex_init(m);
	return ret_lock(m, e);
}

#ifdef __GLIBC__
/*
 * glibc's pthread_mutex_trylock (2.36 at least) takes a not-recoverable
 * robust mutex to look at it, and then, comparing the old lock word with
 * its own thread id where it means 0, does not give it back: it returns
 * ENOTRECOVERABLE with the caller's id left in the word. Nothing ever
 * clears that, so every lock in every other process would wait forever.
 * Give it back as glibc's unlock does: the word to 0 if it is still ours,
 * then wake whoever began to wait (FUTEX_WAITERS), who takes it, finds it
 * not recoverable and says so. The word's layout is the kernel's
 * robust-futex ABI; a glibc without the bug leaves 0 there, and this does
 * nothing.
 */
static void release_stale(pthread_mutex_t *m)
{
	int *word = &m->__data.__lock;
	int tid = zc__sys_gettid();
	int v = __atomic_load_n(word, __ATOMIC_RELAXED);

	while ((v & FUTEX_TID_MASK) == tid) {
		if (__atomic_compare_exchange_n(word, &v, 0, false, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED)) {
			if (v & FUTEX_WAITERS)
				zc__sys_futex_wake((uint32_t *)word, INT_MAX);
			return;
		}
	}
}
#else
static void release_stale(pthread_mutex_t *m)
{
	(void)m;
}
#endif

/* What a lock call learnt goes into the state word for everyone. */
static int note(struct zc_mutex *m, int e)
{
	if (e == -EOWNERDEAD)
		set_state(m, MX_DIRTY);
	else if (e == -ENOTRECOVERABLE)
		set_state(m, MX_GONE);
	return e;
}

static int mutex_lock(struct zc_mutex *m, bool try)
{
	int e;

	if (!m)
		return -EINVAL;
	if (state(m) == MX_GONE)
		return -ENOTRECOVERABLE;
	if (!try)
		return note(m, zc__sys_mutex_lock((pthread_mutex_t *)m));
	e = note(m, zc__sys_mutex_trylock((pthread_mutex_t *)m));
	if (e == -ENOTRECOVERABLE)
		release_stale((pthread_mutex_t *)m);
	return e;
}

ZC_EXPORT int zc_mutex_lock(struct zc_mutex *m)
{
	return zc__ret(mutex_lock(m, false));
}

ZC_EXPORT int zc_mutex_trylock(struct zc_mutex *m)
{
	return zc__ret(mutex_lock(m, true));
}

/*
 * The holder of a DIRTY mutex that unlocks it has made it not recoverable
 * (glibc marks it so); saying GONE at once spares the next lockers glibc's
 * trylock. A failed unlock (EPERM: not the holder) changes nothing.
 */
static int mutex_unlock(struct zc_mutex *m)
{
	bool dirty;
	int e;

	if (!m)
		return -EINVAL;
	dirty = state(m) == MX_DIRTY;
	e = zc__sys_mutex_unlock((pthread_mutex_t *)m);
	if (e == 0 && dirty)
		set_state(m, MX_GONE);
	return e;
}

ZC_EXPORT int zc_mutex_unlock(struct zc_mutex *m)
{
	return zc__ret(mutex_unlock(m));
}

static int mutex_consistent(struct zc_mutex *m)
{
	int e;

	if (!m)
		return -EINVAL;
	e = zc__sys_mutex_consistent((pthread_mutex_t *)m);
	if (e == 0)
		set_state(m, 0);
	return e;
}

ZC_EXPORT int zc_mutex_consistent(struct zc_mutex *m)
{
	return zc__ret(mutex_consistent(m));
}

ZC_EXPORT struct zc_sem *zc_region_sem(struct zc_region *r, uint64_t off, uint32_t value,
				       uint32_t flags)
{
	void *s = NULL;
	int e = place(r, off, ZC_SEM_SIZE, flags, &s);

	if (e == 0 && (flags & ZC_LOCK_INIT))
		e = zc__sys_sem_init(s, value);
	return ret_lock(s, e);
}

/* A signal does not end a wait: the caller asked for the semaphore, not for EINTR. */
static int sem_wait_intr(sem_t *s)
{
	int e;

	if (!s)
		return -EINVAL;
	do
		e = zc__sys_sem_wait(s);
	while (e == -EINTR);
	return e;
}

ZC_EXPORT int zc_sem_wait(struct zc_sem *s)
{
	return zc__ret(sem_wait_intr((sem_t *)s));
}

ZC_EXPORT int zc_sem_trywait(struct zc_sem *s)
{
	return zc__ret(s ? zc__sys_sem_trywait((sem_t *)s) : -EINVAL);
}

/* Wait at most timeout_ns; ETIMEDOUT after that. The deadline is on CLOCK_REALTIME. */
static int sem_timedwait_intr(sem_t *s, uint64_t timeout_ns)
{
	struct timespec t;
	int e;

	if (!s)
		return -EINVAL;
	e = zc__sys_clock_gettime(CLOCK_REALTIME, &t);
	if (e < 0)
		return e;
	t.tv_sec += (time_t)(timeout_ns / 1000000000u);
	t.tv_nsec += (long)(timeout_ns % 1000000000u);
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	do
		e = zc__sys_sem_timedwait(s, &t);
	while (e == -EINTR);
	return e;
}

ZC_EXPORT int zc_sem_timedwait(struct zc_sem *s, uint64_t timeout_ns)
{
	return zc__ret(sem_timedwait_intr((sem_t *)s, timeout_ns));
}

ZC_EXPORT int zc_sem_post(struct zc_sem *s)
{
	return zc__ret(s ? zc__sys_sem_post((sem_t *)s) : -EINVAL);
}
