// SPDX-License-Identifier: MIT
/*
 * Per-thread resources: the intermediate pipe that splice needs when
 * neither end is a pipe, and the bounce buffer of read_write.
 *
 * Making a pipe costs about 10 us, more than a whole 4 KiB splice, so each
 * thread keeps one and reuses it. The pipe is only ever empty between calls
 * (a path that cannot drain it discards it), so no data outlives a call.
 *
 * After fork() the child holds the same pipe fds as the parent: if both
 * spliced through them they would steal each other's bytes. A pthread_atfork
 * handler closes every thread's pipe in the child, which makes its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"

/* A large pipe lets one splice move 1 MiB, many times what a 64 KiB one moves. */
#define POOL_PIPE_SIZE (1024 * 1024)
#define POOL_PIPE_MIN (64 * 1024)

struct thread_res {
	struct zc__pipe pipe;
	char *buf;
	bool registered;
	struct thread_res *next;
};

static ZC_TLS struct thread_res res = { .pipe = { -1, -1, 0 } };

/* Every thread's resources, for the fork child; touched only off the hot path. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct thread_res *registry;
static pthread_key_t exit_key;
static bool exit_key_ok;

static void pipe_close(struct zc__pipe *p)
{
	if (p->rd >= 0) {
		zc__sys_close(p->rd);
		zc__sys_close(p->wr);
	}
	p->rd = p->wr = -1;
	p->size = 0;
}

static void unregister(struct thread_res *r)
{
	struct thread_res **pp;

	pthread_mutex_lock(&registry_lock);
	for (pp = &registry; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	r->registered = false;
}

/* Runs at thread exit, with the exiting thread's resources. */
static void thread_exit(void *arg)
{
	struct thread_res *r = arg;

	unregister(r);
	pipe_close(&r->pipe);
	free(r->buf);
	r->buf = NULL;
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&registry_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&registry_lock);
}

/* Only the forking thread lives on in the child; no pipe may be shared. */
static void fork_child(void)
{
	struct thread_res *r;

	for (r = registry; r; r = r->next)
		pipe_close(&r->pipe);
	pthread_mutex_unlock(&registry_lock);
}

__attribute__((constructor)) static void pool_init(void)
{
	exit_key_ok = pthread_key_create(&exit_key, thread_exit) == 0;
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

__attribute__((destructor)) static void pool_fini(void)
{
	if (res.registered)
		thread_exit(&res);
	if (exit_key_ok)
		pthread_key_delete(exit_key);
}

/* Make sure this thread's resources are freed when it exits. */
static int register_thread(void)
{
	if (res.registered)
		return 0;
	if (!exit_key_ok || pthread_setspecific(exit_key, &res) != 0)
		return -ENOMEM;
	pthread_mutex_lock(&registry_lock);
	res.next = registry;
	registry = &res;
	pthread_mutex_unlock(&registry_lock);
	res.registered = true;
	return 0;
}

/*
 * Enlarge a pipe to 1 MiB, never shrink it. Unprivileged users are held to
 * pipe-max-size and to a per-user total, past which the kernel says EPERM;
 * then try smaller. Returns the new size or -errno.
 */
int zc__pipe_grow(int fd)
{
	int size, r = zc__sys_fcntl(fd, F_GETPIPE_SZ, 0);

	if (r >= POOL_PIPE_SIZE)
		return r;
	for (size = POOL_PIPE_SIZE; size >= POOL_PIPE_MIN; size /= 4) {
		r = zc__sys_fcntl(fd, F_SETPIPE_SZ, size);
		if (r >= 0 || r != -EPERM)
			break;
	}
	return r;
}

int zc__pipe_get(struct zc__pipe **out)
{
	int fds[2];
	int r;

	if (res.pipe.rd >= 0) {
		*out = &res.pipe;
		return 0;
	}
	r = register_thread();
	if (r < 0)
		return r;
	r = zc__sys_pipe2(fds, O_CLOEXEC);
	if (r < 0)
		return r;
	res.pipe.rd = fds[0];
	res.pipe.wr = fds[1];
	/* A pipe that will not grow still works, just in smaller steps. */
	r = zc__pipe_grow(fds[1]);
	if (r < 0)
		r = zc__sys_fcntl(fds[1], F_GETPIPE_SZ, 0);
	res.pipe.size = r > 0 ? (uint32_t)r : 4096;
	*out = &res.pipe;
	return 0;
}

/* The pipe holds bytes that must not reach the next call: drop it. */
void zc__pipe_discard(void)
{
	pipe_close(&res.pipe);
}

char *zc__rw_buffer(void)
{
	if (!res.buf) {
		if (register_thread() < 0)
			return NULL;
		res.buf = malloc(ZC_RW_BUF_SIZE);
	}
	return res.buf;
}
