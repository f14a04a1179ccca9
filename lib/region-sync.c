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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include "region.h"

_Static_assert(sizeof(pthread_mutex_t) <= ZC_MUTEX_SIZE, "ZC_MUTEX_SIZE too small");
_Static_assert(sizeof(sem_t) <= ZC_SEM_SIZE, "ZC_SEM_SIZE too small");

/*
 * Where a lock of size bytes goes: inside the region, aligned, and in a
 * mapping that can be written (a lock is written even to be read).
 */
static void *place(struct zc_region *r, uint64_t off, uint64_t size, uint32_t flags,
		   uint32_t known)
{
	int err = 0;

	if (!r || !r->addr || (flags & ~known) || off % 8 || off > r->size ||
	    r->size - off < size)
		err = EINVAL;
	else if (r->flags & ZC_REGION_RDONLY)
		err = EACCES;
	if (err) {
		errno = err;
		return NULL;
	}
	return (char *)r->addr + off;
}

static int mutex_init(pthread_mutex_t *m)
{
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
	return e;
}

ZC_EXPORT struct zc_mutex *zc_region_mutex(struct zc_region *r, uint64_t off, uint32_t flags)
{
	void *m = place(r, off, ZC_MUTEX_SIZE, flags, ZC_LOCK_INIT);
	int e;

	if (!m || !(flags & ZC_LOCK_INIT))
		return m;
	e = mutex_init(m);
	return zc__ret(e) < 0 ? NULL : m;
}

ZC_EXPORT int zc_mutex_lock(struct zc_mutex *m)
{
	return zc__ret(m ? zc__sys_mutex_lock((pthread_mutex_t *)m) : -EINVAL);
}

ZC_EXPORT int zc_mutex_trylock(struct zc_mutex *m)
{
	return zc__ret(m ? zc__sys_mutex_trylock((pthread_mutex_t *)m) : -EINVAL);
}

ZC_EXPORT int zc_mutex_unlock(struct zc_mutex *m)
{
	return zc__ret(m ? zc__sys_mutex_unlock((pthread_mutex_t *)m) : -EINVAL);
}

ZC_EXPORT int zc_mutex_consistent(struct zc_mutex *m)
{
	return zc__ret(m ? zc__sys_mutex_consistent((pthread_mutex_t *)m) : -EINVAL);
}

ZC_EXPORT struct zc_sem *zc_region_sem(struct zc_region *r, uint64_t off, uint32_t value,
				       uint32_t flags)
{
	void *s = place(r, off, ZC_SEM_SIZE, flags, ZC_LOCK_INIT);
	int e;

	if (!s || !(flags & ZC_LOCK_INIT))
		return s;
	e = zc__sys_sem_init(s, value);
	return zc__ret(e) < 0 ? NULL : s;
}

/* A signal does not end a wait: the caller asked for the semaphore, not for EINTR. */
ZC_EXPORT int zc_sem_wait(struct zc_sem *s)
{
	int e;

	if (!s)
		return zc__ret(-EINVAL);
	do
		e = zc__sys_sem_wait((sem_t *)s);
	while (e == -EINTR);
	return zc__ret(e);
}

ZC_EXPORT int zc_sem_trywait(struct zc_sem *s)
{
	return zc__ret(s ? zc__sys_sem_trywait((sem_t *)s) : -EINVAL);
}

/* Wait at most timeout_ns; ETIMEDOUT after that. The deadline is on CLOCK_REALTIME. */
ZC_EXPORT int zc_sem_timedwait(struct zc_sem *s, uint64_t timeout_ns)
{
	struct timespec t;
	int e;

	if (!s)
		return zc__ret(-EINVAL);
	e = zc__sys_clock_gettime(CLOCK_REALTIME, &t);
	if (e < 0)
		return zc__ret(e);
	t.tv_sec += (time_t)(timeout_ns / 1000000000u);
	t.tv_nsec += (long)(timeout_ns % 1000000000u);
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	do
		e = zc__sys_sem_timedwait((sem_t *)s, &t);
	while (e == -EINTR);
	return zc__ret(e);
}

ZC_EXPORT int zc_sem_post(struct zc_sem *s)
{
	return zc__ret(s ? zc__sys_sem_post((sem_t *)s) : -EINVAL);
}
