// SPDX-License-Identifier: MIT
/*
 * The pipes relays borrow. A relay holds a pipe only while bytes wait in it;
 * once they are delivered the pipe comes back here, empty, for the next
 * relay that takes bytes in. An event loop with ten thousand connections
 * then holds as many pipes as it has relays with bytes pending, usually
 * none or a few, instead of two fds and a pipe's kernel memory each.
 *
 * The pool is shared by every thread under one mutex (a relay is moved by
 * one thread at a time, but different relays run on different threads). It
 * keeps at most POOL_MAX pipes; more come back only when many relays on many
 * threads had bytes pending at once, and are closed.
 *
 * After fork() the child holds the same pipes as the parent: a pipe both
 * took from their pools would mix their bytes. The child closes the pool.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>

#include "internal.h"

#define POOL_MAX 16
/* What the kernel gives a pipe unless told otherwise (pipe(7)). */
#define PIPE_DEFAULT (64u * 1024)

struct pooled {
	struct zc__pipe pipe;
	uint32_t asked;		/* the size the relay asked for, 0 for the default */
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pooled pool[POOL_MAX];
static unsigned int npool;

static void pipe_close(struct zc__pipe *p)
{
	zc__sys_close(p->rd);
	zc__sys_close(p->wr);
	p->rd = p->wr = -1;
}

static void pool_drop_all(void)
{
	while (npool)
		pipe_close(&pool[--npool].pipe);
}

/* Close the pooled pipes, so that the next relay makes its own (tests rely on it). */
void zc__relay_pool_drop(void)
{
	pthread_mutex_lock(&pool_lock);
	pool_drop_all();
	pthread_mutex_unlock(&pool_lock);
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&pool_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&pool_lock);
}

static void fork_child(void)
{
	pool_drop_all();
	pthread_mutex_unlock(&pool_lock);
}

__attribute__((constructor)) static void relay_pool_init(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

__attribute__((destructor)) static void relay_pool_fini(void)
{
	pool_drop_all();
}

static bool take_pooled(struct zc__pipe *p, uint32_t asked)
{
	unsigned int i;
	bool found = false;

	pthread_mutex_lock(&pool_lock);
	for (i = npool; i-- > 0;) {
		if (pool[i].asked != asked)
			continue;
		*p = pool[i].pipe;
		pool[i] = pool[--npool];
		found = true;
		break;
	}
	pthread_mutex_unlock(&pool_lock);
	return found;
}

/*
 * A pipe of the size asked for (0: the kernel's default), non-blocking at
 * both ends so that no splice through it ever waits on the pipe itself.
 * A size the kernel refuses (EPERM past pipe-max-size or the per-user
 * total) leaves the pipe as it is: smaller steps, same bytes.
 */
int zc__relay_pipe_get(struct zc__pipe *p, uint32_t asked)
{
	int fds[2], r;

	if (take_pooled(p, asked))
		return 0;
	r = zc__sys_pipe2(fds, O_CLOEXEC | O_NONBLOCK);
	if (r < 0)
		return r;
	p->rd = fds[0];
	p->wr = fds[1];
	p->size = PIPE_DEFAULT;
	if (asked) {
		r = zc__sys_fcntl(fds[1], F_SETPIPE_SZ, (long)asked);
		if (r < 0)
			r = zc__sys_fcntl(fds[1], F_GETPIPE_SZ, 0);
		if (r > 0)
			p->size = (uint32_t)r;
	}
	return 0;
}

/* Take back an empty pipe; the caller's copy is marked as holding none. */
void zc__relay_pipe_put(struct zc__pipe *p, uint32_t asked)
{
	bool kept = false;

	pthread_mutex_lock(&pool_lock);
	if (npool < POOL_MAX) {
		pool[npool++] = (struct pooled){ .pipe = *p, .asked = asked };
		kept = true;
	}
	pthread_mutex_unlock(&pool_lock);
	if (!kept)
		pipe_close(p);
	p->rd = p->wr = -1;
}

/* A pipe that may hold bytes never goes back to the pool. */
void zc__relay_pipe_close(struct zc__pipe *p)
{
	if (p->rd >= 0)
		pipe_close(p);
}
