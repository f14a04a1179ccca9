// SPDX-License-Identifier: MIT
/*
 * What a small call costs once a thread is warm: for each pair at 4 KiB per
 * call, one fstat per fd, the pair's data syscalls, the two rt_sigprocmask
 * of the SIGPIPE guard only on pipe and socket destinations and only without
 * ZC_NO_SIGPIPE_GUARD, and nothing else: no fstatfs, no fcntl, no pipe made,
 * no memory allocated. The seam counts every syscall; malloc is wrapped too.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "fault.h"
#include "helpers.h"

#define CHUNK 4096u
#define CALLS 64u

static unsigned int mallocs;

void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);

void *__wrap_malloc(size_t size)
{
	mallocs++;
	return __real_malloc(size);
}

struct pair {
	const char *name;
	enum t_kind src;
	enum t_kind dst;
	unsigned int data_calls;	/* syscalls that move the bytes */
};

static const struct pair pairs[] = {
	{ "file->file", T_FILE, T_FILE, 1 },		/* copy_file_range */
	{ "file->null", T_FILE, T_NULL, 1 },		/* sendfile */
	{ "file->pipe", T_FILE, T_PIPE, 1 },		/* splice */
	{ "file->tcp", T_FILE, T_TCP, 1 },		/* sendfile */
	{ "file->unix", T_FILE, T_UNIX, 1 },		/* sendfile */
	{ "memfd->tcp", T_MEMFD, T_TCP, 1 },		/* sendfile */
	{ "pipe->file", T_PIPE, T_FILE, 1 },		/* splice */
	{ "pipe->pipe", T_PIPE, T_PIPE, 1 },		/* splice */
	{ "pipe->tcp", T_PIPE, T_TCP, 1 },		/* splice */
	{ "tcp->file", T_TCP, T_FILE, 2 },		/* splice in and out of the pooled pipe */
	{ "tcp->tcp", T_TCP, T_TCP, 2 },
};

/* A pair of fds: the one the library sees, and the test's end of a stream. */
struct end {
	int fd;
	int peer;	/* feeds a stream source or reads a stream sink; -1 for files */
};

static void open_stream(enum t_kind k, struct end *e, bool src)
{
	int fds[2];

	t_stream_pair(k, fds);
	e->fd = src ? fds[0] : fds[1];
	e->peer = src ? fds[1] : fds[0];
}

static void open_src(const struct pair *p, struct end *e, const unsigned char *data)
{
	e->peer = -1;
	if (p->src == T_FILE)
		e->fd = t_file_with(data, (CALLS + 1) * CHUNK);
	else if (p->src == T_MEMFD)
		e->fd = t_memfd_with(data, (CALLS + 1) * CHUNK);
	else
		open_stream(p->src, e, true);
}

static void open_dst(const struct pair *p, struct end *e)
{
	e->peer = -1;
	if (p->dst == T_FILE)
		e->fd = t_file_empty(0);
	else if (p->dst == T_NULL)
		e->fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	else
		open_stream(p->dst, e, false);
	assert_true(e->fd >= 0);
}

/* Put the next chunk in a stream source, all of it readable before the call. */
static void feed(const struct end *src, const unsigned char *chunk)
{
	int ready = 0;

	if (src->peer < 0)
		return;
	assert_int_equal(write(src->peer, chunk, CHUNK), CHUNK);
	while (ready < (int)CHUNK)
		assert_int_equal(ioctl(src->fd, FIONREAD, &ready), 0);
}

/* Take the chunk out of a stream sink and compare it. */
static void drain(const struct end *dst, const unsigned char *chunk)
{
	unsigned char got[CHUNK];
	size_t n = 0;
	ssize_t r;

	if (dst->peer < 0)
		return;
	while (n < CHUNK) {
		r = read(dst->peer, got + n, CHUNK - n);
		assert_true(r > 0);
		n += (size_t)r;
	}
	t_assert_bytes(got, CHUNK, chunk, CHUNK);
}

static void one_call(const struct end *src, const struct end *dst, const unsigned char *chunk,
		     unsigned int flags, struct zc_stats *st)
{
	feed(src, chunk);
	assert_int_equal(zc_transfer_ex(src->fd, dst->fd, CHUNK, flags, st), CHUNK);
	drain(dst, chunk);
}

static void close_end(struct end *e)
{
	close(e->fd);
	if (e->peer >= 0)
		close(e->peer);
}

static void check_pair(const struct pair *p, unsigned int flags)
{
	size_t size = (CALLS + 1) * CHUNK;
	unsigned char *data = t_pattern(size, 41), *got;
	bool guard = (p->dst == T_PIPE || p->dst == T_TCP || p->dst == T_UNIX) &&
		     !(flags & ZC_NO_SIGPIPE_GUARD);
	unsigned int per_call = 2 + p->data_calls + (guard ? 2 : 0), i;
	struct zc_stats st;
	struct end src, dst;
	size_t got_len;

	print_message("%s flags %#x\n", p->name, flags);
	open_src(p, &src, data);
	open_dst(p, &dst);
	one_call(&src, &dst, data, flags, &st);	/* a thread's first call may set up */

	t_fault_reset();
	mallocs = 0;
	for (i = 1; i <= CALLS; i++) {
		one_call(&src, &dst, data + i * CHUNK, flags, &st);
		assert_int_equal(st.syscalls, per_call);
	}
	assert_int_equal(t_fault_calls(T_NR_fstat), 2 * CALLS);
	assert_int_equal(t_fault_calls(T_NR_sigmask), guard ? 2 * CALLS : 0);
	assert_int_equal(t_fault_calls(T_NR_fstatfs), 0);
	assert_int_equal(t_fault_calls(T_NR_fcntl), 0);
	assert_int_equal(t_fault_calls(T_NR_pipe2), 0);
	assert_int_equal(t_fault_calls(T_NR_sigpending), 0);
	assert_int_equal(mallocs, 0);

	if (p->dst == T_FILE) {
		got = t_read_file(dst.fd, &got_len);
		t_assert_bytes(got, got_len, data, size);
		free(got);
	}
	close_end(&src);
	close_end(&dst);
	free(data);
}

static void test_small_calls(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		check_pair(&pairs[i], 0);
		check_pair(&pairs[i], ZC_NO_SIGPIPE_GUARD);
	}
}

/* The first splice of a call out of a pipe: into dst itself, or elsewhere. */
static bool first_splice_into(int pipe_rd, int dst, size_t len)
{
	const struct t_call *calls;
	size_t n, i;

	t_fault_reset();
	assert_int_equal(zc_transfer(pipe_rd, dst, len, 0), len);
	n = t_fault_trace(&calls);
	for (i = 0; i < n; i++)
		if (calls[i].sys == T_NR_splice && calls[i].in == pipe_rd)
			return calls[i].out == dst;
	fail_msg("no splice out of the pipe");
	return false;
}

/*
 * Out of a pipe into a file or socket, calls from 64 KiB on go through the
 * pooled pipe, so the caller's pipe is not held while dst takes the bytes;
 * smaller ones and pipe destinations go straight.
 */
static void test_pipe_source_route(void **state)
{
	static const size_t sizes[] = { CHUNK, 64 * 1024 - 1, 64 * 1024, 300001 };
	static const enum t_kind dsts[] = { T_FILE, T_UNIX, T_PIPE };
	unsigned char *data = t_pattern(300001, 43);
	size_t s, d;

	(void)state;
	for (d = 0; d < sizeof(dsts) / sizeof(dsts[0]); d++) {
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			struct pair p = { "pipe->any", T_PIPE, dsts[d], 1 };
			bool pooled = dsts[d] != T_PIPE && sizes[s] >= 64 * 1024;
			unsigned char *got = malloc(sizes[s]);
			struct end src, dst;
			size_t n = 0;

			assert_non_null(got);
			open_src(&p, &src, data);
			open_dst(&p, &dst);
			assert_true(fcntl(src.peer, F_SETPIPE_SZ, 1 << 20) >= 0);
			if (dst.peer >= 0)
				assert_true(fcntl(dst.fd, F_SETPIPE_SZ, 1 << 20) >= 0 ||
					    setsockopt(dst.fd, SOL_SOCKET, SO_SNDBUF,
						       &(int){ 1 << 20 }, sizeof(int)) == 0);
			assert_int_equal(write(src.peer, data, sizes[s]), sizes[s]);
			assert_int_equal(first_splice_into(src.fd, dst.fd, sizes[s]), !pooled);
			if (dst.peer < 0) {
				free(got);
				got = t_read_file(dst.fd, &n);
			}
			while (n < sizes[s]) {
				ssize_t r = read(dst.peer, got + n, sizes[s] - n);

				assert_true(r > 0);
				n += (size_t)r;
			}
			t_assert_bytes(got, n, data, sizes[s]);
			free(got);
			close_end(&src);
			close_end(&dst);
		}
	}
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_calls),
		cmocka_unit_test(test_pipe_source_route),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
