// SPDX-License-Identifier: MIT
/*
 * The engine's promises on real fds: offsets, lengths, O_APPEND, same-file
 * copies, errors, signals, non-blocking fds, threads, fork, large files,
 * special files and the environment settings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"

#define ALL_OFF (ZC_NO_COPY_FILE_RANGE | ZC_NO_SPLICE | ZC_NO_SENDFILE | ZC_NO_MMAP)
#define ONLY(f) (ALL_OFF & ~(f))

/* Each path forced in turn; read_write is what remains with all four off. */
static const unsigned int path_flags[] = {
	0,
	ONLY(ZC_NO_COPY_FILE_RANGE),
	ONLY(ZC_NO_SPLICE),
	ONLY(ZC_NO_SENDFILE),
	ONLY(ZC_NO_MMAP),
	ALL_OFF,
};
#define NFLAGS (sizeof(path_flags) / sizeof(path_flags[0]))

static char *self_exe;

/* Reads start at src's offset, writes at dst's; both advance by the count. */
static void test_offsets_and_lengths(void **state)
{
	const size_t size = 100000;
	unsigned char *data = t_pattern(size, 1);
	size_t f;

	(void)state;
	for (f = 0; f < NFLAGS; f++) {
		int src = t_file_with(data, size);
		int dst = t_file_empty(0);
		ssize_t r;

		assert_int_equal(lseek(src, 777, SEEK_SET), 777);
		assert_int_equal(pwrite(dst, "head", 4, 0), 4);
		assert_int_equal(lseek(dst, 4, SEEK_SET), 4);

		/* len smaller than what is left */
		r = zc_transfer(src, dst, 4097, path_flags[f]);
		assert_int_equal(r, 4097);
		assert_int_equal(lseek(src, 0, SEEK_CUR), 777 + 4097);
		assert_int_equal(lseek(dst, 0, SEEK_CUR), 4 + 4097);

		/* len larger than what is left: stops at EOF */
		r = zc_transfer(src, dst, size * 3, path_flags[f]);
		assert_int_equal(r, size - 777 - 4097);
		assert_int_equal(lseek(src, 0, SEEK_CUR), size);

		/* at EOF: 0, offsets unchanged */
		assert_int_equal(zc_transfer(src, dst, ZC_ALL, path_flags[f]), 0);
		assert_int_equal(lseek(dst, 0, SEEK_CUR), 4 + size - 777);

		unsigned char *want = malloc(4 + size - 777);
		memcpy(want, "head", 4);
		memcpy(want + 4, data + 777, size - 777);
		t_assert_file(dst, want, 4 + size - 777);
		free(want);
		close(src);
		close(dst);
	}
	free(data);
}

static void test_len_zero(void **state)
{
	int src = t_file_with("abc", 3), dst = t_file_empty(0);

	(void)state;
	assert_int_equal(zc_transfer(src, dst, 0, 0), 0);
	assert_int_equal(lseek(src, 0, SEEK_CUR), 0);
	assert_int_equal(lseek(dst, 0, SEEK_END), 0);
	/* a bad fd is still reported with len 0, like write(2) */
	assert_int_equal(zc_transfer(src, -1, 0, 0), -1);
	assert_int_equal(errno, EBADF);
	close(src);
	close(dst);
}

/* O_APPEND: every path either writes at the end or falls back to one that does. */
static void test_append(void **state)
{
	const size_t size = 70001;
	unsigned char *data = t_pattern(size, 2);
	size_t f;

	(void)state;
	for (f = 0; f < NFLAGS; f++) {
		int src = t_file_with(data, size);
		int dst = t_file_empty(O_APPEND);
		struct zc_stats st;

		assert_int_equal(write(dst, data, 10), 10);
		assert_int_equal(lseek(dst, 0, SEEK_SET), 0);
		assert_int_equal(zc_transfer_ex(src, dst, ZC_ALL, path_flags[f], &st), size);
		assert_int_equal(st.bytes, size);
		unsigned char *want = malloc(size + 10);
		memcpy(want, data, 10);
		memcpy(want + 10, data, size);
		t_assert_file(dst, want, size + 10);
		free(want);
		close(src);
		close(dst);
	}
	free(data);
}

/* Same file on both sides: disjoint bounded ranges copy, anything else is EINVAL. */
static void test_same_file(void **state)
{
	const size_t size = 50000;
	unsigned char *data = t_pattern(size, 3);
	int fd = t_file_with(data, size);
	char path[64];
	size_t f;

	(void)state;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	for (f = 0; f < NFLAGS; f++) {
		int rd = open(path, O_RDONLY | O_CLOEXEC);
		int wr = open(path, O_WRONLY | O_CLOEXEC);

		assert_true(rd >= 0 && wr >= 0);
		/* [0, 1000) -> [size, size + 1000): disjoint, grows by exactly 1000 */
		assert_int_equal(lseek(wr, 0, SEEK_END), (off_t)(size + f * 1000));
		assert_int_equal(zc_transfer(rd, wr, 1000, path_flags[f]), 1000);
		/* unbounded: would read its own output */
		assert_int_equal(zc_transfer(rd, wr, ZC_ALL, path_flags[f]), -1);
		assert_int_equal(errno, EINVAL);
		/* overlapping: [1000, 3000) -> [2000, 4000) */
		assert_int_equal(lseek(wr, 2000, SEEK_SET), 2000);
		assert_int_equal(zc_transfer(rd, wr, 2000, path_flags[f]), -1);
		assert_int_equal(errno, EINVAL);
		/* the very same fd: both offsets are one */
		assert_int_equal(zc_transfer(fd, fd, 10, path_flags[f]), -1);
		assert_int_equal(errno, EINVAL);
		/* a read-only dst is EBADF, as the kernel says, same file or not */
		assert_int_equal(lseek(rd, 0, SEEK_SET), 0);
		assert_int_equal(zc_transfer(rd, rd, 10, path_flags[f]), -1);
		assert_int_equal(errno, EBADF);
		/* a source at its end copies nothing, even unbounded: cat <&3 >&4 */
		assert_int_equal(lseek(rd, 0, SEEK_END), (off_t)(size + (f + 1) * 1000));
		assert_int_equal(zc_transfer(rd, wr, ZC_ALL, path_flags[f]), 0);
		assert_int_equal(zc_transfer(rd, wr, 5, path_flags[f]), 0);
		close(rd);
		close(wr);
	}
	assert_int_equal(lseek(fd, 0, SEEK_END), (off_t)(size + NFLAGS * 1000));
	unsigned char *want = malloc(size + NFLAGS * 1000);
	memcpy(want, data, size);
	for (f = 0; f < NFLAGS; f++)
		memcpy(want + size + f * 1000, data, 1000);
	t_assert_file(fd, want, size + NFLAGS * 1000);
	free(want);
	close(fd);
	free(data);
}

/* Which fd an error came from: stats.error_side, on every path. */
static void test_error_side(void **state)
{
	unsigned char *data = t_pattern(70001, 9);
	int src = t_file_with(data, 70001), dst = t_file_empty(0);
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
	int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int wo = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct zc_stats st;
	int p[2];
	size_t f;

	(void)state;
	for (f = 0; f < NFLAGS; f++) {
		assert_int_equal(lseek(src, 0, SEEK_SET), 0);
		assert_int_equal(zc_transfer_ex(src, full, ZC_ALL, path_flags[f], &st), -1);
		assert_int_equal(errno, ENOSPC);
		assert_int_equal(st.error_side, ZC_SIDE_DST);
		assert_int_equal(zc_transfer_ex(src, ro, ZC_ALL, path_flags[f], &st), -1);
		assert_int_equal(errno, EBADF);
		assert_int_equal(st.error_side, ZC_SIDE_DST);
		assert_int_equal(zc_transfer_ex(wo, dst, ZC_ALL, path_flags[f], &st), -1);
		assert_int_equal(errno, EBADF);
		assert_int_equal(st.error_side, ZC_SIDE_SRC);
		assert_int_equal(zc_transfer_ex(-1, dst, ZC_ALL, path_flags[f], &st), -1);
		assert_int_equal(st.error_side, ZC_SIDE_SRC);
		assert_int_equal(zc_transfer_ex(src, -1, ZC_ALL, path_flags[f], &st), -1);
		assert_int_equal(st.error_side, ZC_SIDE_DST);
		assert_int_equal(zc_transfer_ex(dir, dst, ZC_ALL, path_flags[f], &st), -1);
		assert_int_equal(st.error_side, ZC_SIDE_SRC);
		assert_int_equal(zc_transfer_ex(src, dir, ZC_ALL, path_flags[f], &st), -1);
		assert_int_equal(st.error_side, ZC_SIDE_DST);
		/* A reader gone: EPIPE is the writer's. */
		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		close(p[0]);
		assert_int_equal(lseek(src, 0, SEEK_SET), 0);
		assert_int_equal(zc_transfer_ex(src, p[1], ZC_ALL, path_flags[f], &st), -1);
		assert_int_equal(errno, EPIPE);
		assert_int_equal(st.error_side, ZC_SIDE_DST);
		close(p[1]);
		/* No error, no side. */
		assert_int_equal(lseek(src, 0, SEEK_SET), 0);
		assert_int_equal(zc_transfer_ex(src, dst, 5, path_flags[f], &st), 5);
		assert_int_equal(st.error_side, ZC_SIDE_NONE);
	}
	/* Unknown flags are nobody's fd. */
	assert_int_equal(zc_transfer_ex(src, dst, 5, 0x80000000u, &st), -1);
	assert_int_equal(st.error_side, ZC_SIDE_NONE);
	close(src);
	close(dst);
	close(full);
	close(ro);
	close(wo);
	close(dir);
	free(data);
}

static void test_bad_fds(void **state)
{
	int src = t_file_with("hello", 5), dst = t_file_empty(0);
	int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int wo = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int p[2], closed = dup(src);
	uint64_t off = 0;
	size_t f;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	close(closed);
	for (f = 0; f < NFLAGS; f++) {
		errno = 0;
		assert_int_equal(zc_transfer(-1, dst, 5, path_flags[f]), -1);
		assert_int_equal(errno, EBADF);
		assert_int_equal(zc_transfer(src, closed, 5, path_flags[f]), -1);
		assert_int_equal(errno, EBADF);
		/* a read-only destination */
		assert_int_equal(lseek(src, 0, SEEK_SET), 0);
		assert_int_equal(zc_transfer(src, ro, 5, path_flags[f]), -1);
		assert_int_equal(errno, EBADF);
		assert_int_equal(lseek(src, 0, SEEK_CUR), 0);
		/* a write-only source */
		assert_int_equal(zc_transfer(wo, dst, 5, path_flags[f]), -1);
		assert_int_equal(errno, EBADF);
		/* directories */
		assert_int_equal(zc_transfer(dir, dst, 5, path_flags[f]), -1);
		assert_int_equal(errno, EISDIR);
		assert_int_equal(zc_transfer(src, dir, 5, path_flags[f]), -1);
		assert_int_equal(errno, EISDIR);
	}
	assert_int_equal(zc_transfer(src, dst, 5, 0x80000000u), -1);
	assert_int_equal(errno, EINVAL);
	/* explicit offsets only make sense on files */
	assert_int_equal(zc_transfer_at(p[0], &off, dst, NULL, 5, 0, NULL), -1);
	assert_int_equal(errno, ESPIPE);
	assert_int_equal(zc_transfer_at(src, NULL, p[1], &off, 5, 0, NULL), -1);
	assert_int_equal(errno, ESPIPE);
	off = UINT64_MAX;
	assert_int_equal(zc_transfer_at(src, &off, dst, NULL, 5, 0, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(lseek(dst, 0, SEEK_END), 0);
	/* an explicit offset on an O_APPEND file could not be honoured */
	int app = t_file_empty(O_APPEND);

	off = 0;
	assert_int_equal(zc_transfer_at(src, NULL, app, &off, 5, 0, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(off, 0);
	assert_int_equal(lseek(app, 0, SEEK_END), 0);
	close(app);
	close(src);
	close(dst);
	close(ro);
	close(wo);
	close(dir);
	close(p[0]);
	close(p[1]);
}

struct epipe_case {
	enum t_kind src;
	enum t_kind dst;
	unsigned int flags;
};

/* Runs in a child with SIGPIPE at its default: dying of it fails the test. */
static void epipe_child(void *arg)
{
	const struct epipe_case *c = arg;
	unsigned char *data = t_pattern(300000, 4);
	struct t_end src;
	sigset_t pending;
	int fds[2], i;
	ssize_t r = 0;

	t_src_open(&src, c->src, data, 300000);
	if (c->dst == T_PIPE) {
		if (pipe2(fds, O_CLOEXEC))
			_exit(10);
	} else if (c->dst == T_TCP) {
		t_tcp_pair(fds);
	} else {
		t_unix_pair(fds);
	}
	close(fds[0]);	/* no reader */
	/*
	 * A TCP socket whose peer closed takes one more burst before the peer's
	 * RST comes back; send a byte and wait for the RST so the transfer
	 * meets a connection that is known to be gone.
	 */
	if (c->dst == T_TCP) {
		send(fds[1], "x", 1, MSG_NOSIGNAL);
		usleep(20000);
	}
	for (i = 0; i < 10 && (r = zc_transfer(src.fd, fds[1], ZC_ALL, c->flags)) > 0; i++)
		;
	if (r != -1 || (errno != EPIPE && !(c->dst == T_TCP && errno == ECONNRESET)))
		_exit(11);
	sigpending(&pending);
	if (sigismember(&pending, SIGPIPE))
		_exit(12);
	close(fds[1]);
	t_src_close(&src);
	free(data);
}

static void test_epipe_no_sigpipe(void **state)
{
	static const enum t_kind srcs[] = { T_FILE, T_PIPE, T_TCP };
	static const enum t_kind dsts[] = { T_PIPE, T_TCP, T_UNIX };
	size_t i, j, f;

	(void)state;
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3; j++) {
			for (f = 0; f < NFLAGS; f++) {
				struct epipe_case c = { srcs[i], dsts[j], path_flags[f] };
				int status = t_in_child(epipe_child, &c);

				if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
					fail_msg("%s->%s flags %#x: status %#x", t_kind_name(c.src),
						 t_kind_name(c.dst), c.flags, status);
			}
		}
	}
}

/* A caller that blocks SIGPIPE and has one pending keeps both as they were. */
static void sigpipe_state_child(void *arg)
{
	int fds[2], src = t_file_with("0123456789", 10);
	sigset_t set, mask, pending;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (pipe2(fds, O_CLOEXEC))
		_exit(10);
	close(fds[0]);
	/* blocked, not pending: the library's own SIGPIPE must not stay pending */
	if (zc_transfer(src, fds[1], 10, 0) != -1 || errno != EPIPE)
		_exit(11);
	sigpending(&pending);
	if (sigismember(&pending, SIGPIPE))
		_exit(12);
	/* blocked and pending: it stays pending */
	raise(SIGPIPE);
	if (zc_transfer(src, fds[1], 10, 0) != -1 || errno != EPIPE)
		_exit(13);
	sigpending(&pending);
	sigprocmask(SIG_BLOCK, NULL, &mask);
	if (!sigismember(&pending, SIGPIPE) || !sigismember(&mask, SIGPIPE))
		_exit(14);
	_exit(0);
}

static void test_sigpipe_state_kept(void **state)
{
	(void)state;
	assert_int_equal(t_in_child(sigpipe_state_child, NULL), 0);
}

static void set_nonblock(int fd)
{
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

/*
 * A non-blocking destination with a slow reader: calls return short counts
 * or EAGAIN, never spin inside, and the bytes arrive exactly once.
 */
static void nonblock_case(enum t_kind src_kind, unsigned int flags)
{
	const size_t size = 3 * 1024 * 1024 + 17;
	unsigned char *data = t_pattern(size, 5);
	struct t_end src, dst;
	size_t moved = 0;
	int sndbuf = 4096, eagain = 0;

	t_src_open(&src, src_kind, data, size);
	t_sink_open(&dst, T_TCP);
	assert_int_equal(setsockopt(dst.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	set_nonblock(dst.fd);
	while (moved < size) {
		ssize_t r = zc_transfer(src.fd, dst.fd, size - moved, flags);

		if (r < 0) {
			struct pollfd pfd = { .fd = dst.fd, .events = POLLOUT };

			assert_int_equal(errno, EAGAIN);
			eagain++;
			assert_int_equal(poll(&pfd, 1, 10000), 1);
			continue;
		}
		assert_true(r > 0);
		moved += (size_t)r;
	}
	assert_int_equal(moved, size);
	if (src_kind == T_FILE)
		assert_true(eagain > 0);
	t_sink_finish(&dst);
	t_src_close(&src);
	t_assert_bytes(dst.got, dst.got_len, data, size);
	free(dst.got);
	free(data);
}

static void test_nonblocking_slow_reader(void **state)
{
	size_t f;

	(void)state;
	for (f = 0; f < NFLAGS; f++) {
		nonblock_case(T_FILE, path_flags[f]);
		nonblock_case(T_TCP, path_flags[f]);
	}
}

/* An empty non-blocking source: -1/EAGAIN at once, nothing moved. */
static void test_nonblocking_empty_source(void **state)
{
	int fds[2], dst = t_file_empty(0);
	size_t f;

	(void)state;
	t_tcp_pair(fds);
	set_nonblock(fds[0]);
	for (f = 0; f < NFLAGS; f++) {
		assert_int_equal(zc_transfer(fds[0], dst, ZC_ALL, path_flags[f]), -1);
		assert_int_equal(errno, EAGAIN);
	}
	/* bytes then nothing: the count, then EAGAIN */
	assert_int_equal(write(fds[1], "abcdef", 6), 6);
	usleep(10000);
	assert_int_equal(zc_transfer(fds[0], dst, ZC_ALL, 0), 6);
	assert_int_equal(zc_transfer(fds[0], dst, ZC_ALL, 0), -1);
	assert_int_equal(errno, EAGAIN);
	t_assert_file(dst, "abcdef", 6);
	close(fds[0]);
	close(fds[1]);
	close(dst);
}

/* Thousands of calls through every path leave no fd behind. */
static void test_no_fd_growth(void **state)
{
	unsigned char *data = t_pattern(10000, 6);
	int before, i;

	(void)state;
	/* the first call of a thread makes its pooled pipe: count after that */
	struct t_end src, dst;

	t_src_open(&src, T_TCP, data, 10000);
	t_sink_open(&dst, T_TCP);
	assert_int_equal(zc_transfer(src.fd, dst.fd, ZC_ALL, 0), 10000);
	t_sink_finish(&dst);
	t_src_close(&src);
	free(dst.got);

	before = t_fd_count();
	for (i = 0; i < 3000; i++) {
		int s = t_file_with(data, 10000 - (size_t)i);
		int d = t_file_empty(0);

		assert_int_equal(zc_transfer(s, d, ZC_ALL, path_flags[i % NFLAGS]),
				 10000 - i);
		close(s);
		close(d);
	}
	assert_int_equal(t_fd_count(), before);
	free(data);
}

struct worker {
	int id;
	int ok;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	size_t size = 200000 + (size_t)w->id * 333;
	unsigned char *data = t_pattern(size, (uint32_t)w->id);
	int round;

	w->ok = 1;
	for (round = 0; round < 20 && w->ok; round++) {
		int src[2], dst = t_file_empty(0);
		size_t done = 0, got_len;
		unsigned char *got;

		t_unix_pair(src);
		/* writer side fed in pieces from this thread: 64 KiB at a time */
		while (done < size) {
			size_t n = size - done < 65536 ? size - done : 65536;

			if (write(src[1], data + done, n) != (ssize_t)n) {
				w->ok = 0;
				break;
			}
			if (zc_transfer(src[0], dst, n, (unsigned int)round % 2 ? ALL_OFF : 0) !=
			    (ssize_t)n)
				w->ok = 0;
			done += n;
		}
		got = t_read_file(dst, &got_len);
		if (got_len != size || memcmp(got, data, size))
			w->ok = 0;
		free(got);
		close(src[0]);
		close(src[1]);
		close(dst);
	}
	free(data);
	return NULL;
}

static void test_threads(void **state)
{
	struct worker w[8];
	pthread_t t[8];
	int i;

	(void)state;
	for (i = 0; i < 8; i++) {
		w[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].ok, 1);
	}
}

/* Socket to socket goes through the pooled pipe; prove the bytes arrive. */
static void socket_roundtrip(uint32_t seed)
{
	unsigned char *data = t_pattern(500000, seed);
	struct t_end src, dst;

	t_src_open(&src, T_TCP, data, 500000);
	t_sink_open(&dst, T_TCP);
	if (zc_transfer(src.fd, dst.fd, ZC_ALL, 0) != 500000)
		_exit(20);
	t_sink_finish(&dst);
	t_src_close(&src);
	if (dst.got_len != 500000 || memcmp(dst.got, data, 500000))
		_exit(21);
	free(dst.got);
	free(data);
}

/* After fork both processes splice at once; neither may see the other's bytes. */
static void test_fork_with_pooled_pipe(void **state)
{
	int status, i;
	pid_t pid;

	(void)state;
	socket_roundtrip(100);	/* the pooled pipe now exists */
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (i = 0; i < 20; i++)
			socket_roundtrip(200 + (uint32_t)i);
		_exit(0);
	}
	for (i = 0; i < 20; i++)
		socket_roundtrip(300 + (uint32_t)i);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* More than 2 GiB, past the per-call cap of 0x7ffff000, on every path. */
static void test_sparse_over_2g(void **state)
{
	const off_t size = (off_t)0x80000000 + 4097;
	int src = t_file_empty(0), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	size_t f;

	(void)state;
	assert_int_equal(pwrite(src, "tail", 4, size - 4), 4);
	for (f = 0; f < NFLAGS; f++) {
		struct zc_stats st;

		assert_int_equal(lseek(src, 0, SEEK_SET), 0);
		assert_int_equal(zc_transfer_ex(src, null, ZC_ALL, path_flags[f], &st), size);
		assert_int_equal(st.bytes, size);
		assert_int_equal(lseek(src, 0, SEEK_CUR), size);
	}
	close(src);
	close(null);
}

/* The same >2 GiB sparse file into a file, checked by content. */
static void test_sparse_over_2g_file(void **state)
{
	const off_t size = (off_t)0x80000000 + 4097;
	int src = t_file_empty(0), dst = t_file_empty(0);
	char tail[5] = { 0 };

	(void)state;
	assert_int_equal(pwrite(src, "tail", 4, size - 4), 4);
	assert_int_equal(zc_transfer(src, dst, ZC_ALL, 0), size);
	assert_int_equal(lseek(dst, 0, SEEK_END), size);
	assert_int_equal(pread(dst, tail, 4, size - 4), 4);
	assert_string_equal(tail, "tail");
	close(src);
	close(dst);
}

/* procfs reports size 0 yet has content: it must copy like cat would. */
static void test_procfs(void **state)
{
	int src, dst;
	size_t f, want_len, got_len;
	unsigned char *want, *got;

	(void)state;
	src = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	assert_true(src >= 0);
	want = t_read_file(src, &want_len);
	assert_true(want_len > 0);
	close(src);
	for (f = 0; f < NFLAGS; f++) {
		src = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
		dst = t_file_empty(0);
		assert_int_equal(zc_transfer(src, dst, ZC_ALL, path_flags[f]), want_len);
		got = t_read_file(dst, &got_len);
		t_assert_bytes(got, got_len, want, want_len);
		free(got);
		close(src);
		close(dst);
	}
	free(want);
}

/* /dev/zero as a source and a character device as a destination. */
static void test_dev_zero(void **state)
{
	const size_t size = (1u << 20) + 13;
	unsigned char *zeros = calloc(1, size);
	size_t f;

	(void)state;
	for (f = 0; f < NFLAGS; f++) {
		int src = open("/dev/zero", O_RDONLY | O_CLOEXEC);
		int dst = t_file_empty(0);
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		assert_int_equal(zc_transfer(src, dst, size, path_flags[f]), size);
		t_assert_file(dst, zeros, size);
		assert_int_equal(zc_transfer(src, null, size, path_flags[f]), size);
		close(src);
		close(dst);
		close(null);
	}
	free(zeros);
}

/* A terminal in both directions, through a raw pseudo-terminal. */
static void test_tty(void **state)
{
	const size_t size = 3000;
	unsigned char *data = t_pattern(size, 7);
	struct termios raw;
	int master, slave;
	size_t f;

	(void)state;
	assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
	assert_int_equal(tcgetattr(slave, &raw), 0);
	cfmakeraw(&raw);
	assert_int_equal(tcsetattr(slave, TCSANOW, &raw), 0);
	for (f = 0; f < NFLAGS; f++) {
		int src = t_file_with(data, size), dst = t_file_empty(0);
		unsigned char buf[4096];
		size_t got = 0;
		struct zc_stats st;

		/* file -> tty */
		assert_int_equal(zc_transfer_ex(src, slave, ZC_ALL, path_flags[f], &st), size);
		assert_int_equal(st.dst_type, ZC_FD_TTY);
		while (got < size) {
			ssize_t r = read(master, buf + got, sizeof(buf) - got);

			assert_true(r > 0);
			got += (size_t)r;
		}
		t_assert_bytes(buf, got, data, size);

		/* tty -> file */
		assert_int_equal(write(master, data, size), size);
		got = 0;
		while (got < size) {
			ssize_t r = zc_transfer_ex(slave, dst, size - got, path_flags[f], &st);

			assert_true(r > 0);
			assert_int_equal(st.src_type, ZC_FD_TTY);
			got += (size_t)r;
		}
		t_assert_file(dst, data, size);
		close(src);
		close(dst);
	}
	close(master);
	close(slave);
	free(data);
}

/*
 * A block device reports st_size 0; it must still use the zero-copy paths
 * and deliver every byte. A loop device over a pattern file stands in.
 */
static void test_block_device(void **state)
{
	const size_t size = 3 * 1024 * 1024 + 512;
	unsigned char *data = t_pattern(size, 12);
	int ctl, loop_nr, dev, backing = t_file_with(data, size);
	char path[32];
	size_t f;

	(void)state;
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0 && (errno == EACCES || errno == EPERM || errno == ENOENT)) {
		close(backing);
		free(data);
		skip();	/* loop devices need root and the loop driver */
	}
	assert_true(ctl >= 0);
	loop_nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	assert_true(loop_nr >= 0);
	snprintf(path, sizeof(path), "/dev/loop%d", loop_nr);
	dev = open(path, O_RDWR | O_CLOEXEC);
	assert_true(dev >= 0);
	assert_int_equal(ioctl(dev, LOOP_SET_FD, backing), 0);
	for (f = 0; f < NFLAGS; f++) {
		int dst = t_file_empty(0);
		struct zc_stats st;

		assert_int_equal(lseek(dev, 0, SEEK_SET), 0);
		assert_int_equal(zc_transfer_ex(dev, dst, ZC_ALL, path_flags[f], &st), size);
		assert_int_equal(st.src_type, ZC_FD_BLOCK);
		if (path_flags[f] == 0)
			assert_int_equal(st.path, ZC_PATH_SPLICE);
		t_assert_file(dst, data, size);
		close(dst);
	}
	/* The same device on both sides: overlapping ranges are refused, whatever st_size says. */
	{
		int dev2 = open(path, O_RDWR | O_CLOEXEC);
		uint64_t so = 0, dof = 4096;

		assert_true(dev2 >= 0);
		assert_int_equal(zc_transfer_at(dev, &so, dev2, &dof, 65536, 0, NULL), -1);
		assert_int_equal(errno, EINVAL);
		dof = 65536;
		assert_int_equal(zc_transfer_at(dev, &so, dev2, &dof, 65536, 0, NULL), 65536);
		close(dev2);
	}
	ioctl(dev, LOOP_CLR_FD, 0);
	close(dev);
	close(ctl);
	close(backing);
	free(data);
}

/* ZC_GROW_PIPES: only asked-for, only on large calls, never shrinking. */
static void test_grow_pipes(void **state)
{
	const size_t size = 2 * 1024 * 1024 + 5;
	unsigned char *data = t_pattern(size, 13);
	struct t_end src, dst;
	int p[2], q[2];

	(void)state;
	/* without the flag the caller's pipe keeps its size */
	t_src_open(&src, T_FILE, data, size);
	t_sink_open(&dst, T_PIPE);
	assert_int_equal(fcntl(dst.fd, F_SETPIPE_SZ, 65536), 65536);
	assert_int_equal(zc_transfer(src.fd, dst.fd, size, 0), size);
	assert_int_equal(fcntl(dst.fd, F_GETPIPE_SZ), 65536);
	/* a small call with the flag leaves it too */
	assert_int_equal(lseek(src.fd, 0, SEEK_SET), 0);
	assert_int_equal(zc_transfer(src.fd, dst.fd, 4096, ZC_GROW_PIPES), 4096);
	assert_int_equal(fcntl(dst.fd, F_GETPIPE_SZ), 65536);
	/* a large one grows it to 1 MiB */
	assert_int_equal(zc_transfer(src.fd, dst.fd, size - 4096, ZC_GROW_PIPES), size - 4096);
	assert_int_equal(fcntl(dst.fd, F_GETPIPE_SZ), 1024 * 1024);
	t_sink_finish(&dst);
	t_src_close(&src);
	assert_int_equal(dst.got_len, 2 * size);
	t_assert_bytes(dst.got + size, size, data, size);
	free(dst.got);

	/* a source pipe grows too when the destination is a pipe */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(pipe2(q, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], data, 60000), 60000);
	close(p[1]);
	assert_int_equal(zc_transfer(p[0], q[1], ZC_ALL, ZC_GROW_PIPES), 60000);
	assert_int_equal(fcntl(q[1], F_GETPIPE_SZ), 1024 * 1024);
	assert_int_equal(fcntl(p[0], F_GETPIPE_SZ), 1024 * 1024);
	assert_int_equal(read(q[0], data + 100000, 60000), 60000);
	assert_memory_equal(data + 100000, data, 60000);
	close(p[0]);
	close(q[0]);
	close(q[1]);
	free(data);
}

/* Explicit offsets: used and advanced, the fds' own offsets untouched. */
static void test_explicit_offsets(void **state)
{
	const size_t size = 123457;
	unsigned char *data = t_pattern(size, 8);
	size_t f;

	(void)state;
	for (f = 0; f < NFLAGS; f++) {
		int src = t_file_with(data, size), dst = t_file_empty(0);
		uint64_t so = 1001, doff = 5;
		struct zc_stats st;

		assert_int_equal(lseek(src, 7, SEEK_SET), 7);
		assert_int_equal(zc_transfer_at(src, &so, dst, &doff, 50000, path_flags[f], &st),
				 50000);
		assert_int_equal(so, 1001 + 50000);
		assert_int_equal(doff, 5 + 50000);
		assert_int_equal(lseek(src, 0, SEEK_CUR), 7);
		assert_int_equal(lseek(dst, 0, SEEK_CUR), 0);
		/* src explicit, dst at its own offset */
		assert_int_equal(lseek(dst, 60000, SEEK_SET), 60000);
		assert_int_equal(zc_transfer_at(src, &so, dst, NULL, ZC_ALL, path_flags[f], &st),
				 size - 51001);
		assert_int_equal(so, size);
		assert_int_equal(lseek(dst, 0, SEEK_CUR), 60000 + size - 51001);

		unsigned char *got, *want = calloc(1, 60000 + size - 51001);
		size_t got_len;

		memcpy(want + 5, data + 1001, 50000);
		memcpy(want + 60000, data + 51001, size - 51001);
		got = t_read_file(dst, &got_len);
		t_assert_bytes(got, got_len, want, 60000 + size - 51001);
		free(want);
		free(got);
		close(src);
		close(dst);
	}
	free(data);
}

struct sender {
	int file;
	const unsigned char *data;
	size_t size;
	int ok;
};

/* One shared file fd, many clients: each sends the whole file from offset 0. */
static void *sender_main(void *arg)
{
	struct sender *s = arg;
	int round;

	s->ok = 1;
	for (round = 0; round < 10; round++) {
		struct t_end dst;
		uint64_t off = 0;

		t_sink_open(&dst, T_TCP);
		while (off < s->size) {
			ssize_t r = zc_transfer_at(s->file, &off, dst.fd, NULL, 65536, 0, NULL);

			if (r <= 0) {
				s->ok = 0;
				break;
			}
		}
		t_sink_finish(&dst);
		if (dst.got_len != s->size || memcmp(dst.got, s->data, s->size))
			s->ok = 0;
		free(dst.got);
	}
	return NULL;
}

static void test_shared_file_many_clients(void **state)
{
	const size_t size = 1000003;
	unsigned char *data = t_pattern(size, 9);
	int file = t_file_with(data, size);
	struct sender s[6];
	pthread_t t[6];
	int i;

	(void)state;
	for (i = 0; i < 6; i++) {
		s[i] = (struct sender){ .file = file, .data = data, .size = size };
		assert_int_equal(pthread_create(&t[i], NULL, sender_main, &s[i]), 0);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(s[i].ok, 1);
	}
	assert_int_equal(lseek(file, 0, SEEK_CUR), 0);
	close(file);
	free(data);
}

/*
 * The environment is read once at load, so these run the test program again
 * with the variables set; the child makes one transfer and exits.
 */
static void env_child_transfer(void)
{
	unsigned char *data = t_pattern(100000, 10);
	int src = t_file_with(data, 100000), dst = t_file_empty(0);

	if (zc_transfer(src, dst, ZC_ALL, 0) != 100000)
		_exit(30);
	_exit(0);
}

static char *run_env_child(const char *debug, const char *disable)
{
	static char out[4096];
	int p[2], status;
	ssize_t n, len = 0;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 2);
		if (debug)
			setenv("ZCOPY_DEBUG", debug, 1);
		else
			unsetenv("ZCOPY_DEBUG");
		if (disable)
			setenv("ZCOPY_DISABLE", disable, 1);
		else
			unsetenv("ZCOPY_DISABLE");
		execl(self_exe, self_exe, "--env-child", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], out + len, sizeof(out) - 1 - (size_t)len)) > 0)
		len += n;
	out[len] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return out;
}

/* The debug line to a stderr pipe without a reader must not kill the caller. */
static void test_env_debug_closed_stderr(void **state)
{
	int p[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 2);
		signal(SIGPIPE, SIG_DFL);
		setenv("ZCOPY_DEBUG", "1", 1);
		execl(self_exe, self_exe, "--env-child", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_env_debug_disable(void **state)
{
	char *out;

	(void)state;
	out = run_env_child(NULL, NULL);
	assert_string_equal(out, "");
	out = run_env_child("0", NULL);
	assert_string_equal(out, "");
	out = run_env_child("1", NULL);
	assert_non_null(strstr(out, "zcopy: src="));
	assert_non_null(strstr(out, "(file) dst="));
	assert_non_null(strstr(out, " bytes=100000 path=copy_file_range syscalls="));
	assert_null(strchr(strchr(out, '\n') + 1, '\n'));	/* exactly one line */
	out = run_env_child("1", "copy_file_range,splice");
	assert_non_null(strstr(out, " bytes=100000 path=sendfile "));
	out = run_env_child("1", "copy_file_range, splice ,sendfile,mmap_write");
	assert_non_null(strstr(out, " bytes=100000 path=read_write "));
}

/* The debug line names each path that moved bytes and each fallback's errno. */
static void test_stats_fallback(void **state)
{
	unsigned char *data = t_pattern(30000, 11);
	int src = t_file_with(data, 30000), dst = t_file_empty(O_APPEND);
	struct zc_stats st;

	(void)state;
	/* copy_file_range: EBADF on O_APPEND; splice and sendfile: EINVAL */
	assert_int_equal(zc_transfer_ex(src, dst, ZC_ALL, 0, &st), 30000);
	assert_int_equal(st.path, ZC_PATH_MMAP_WRITE);
	assert_int_equal(st.nfallbacks, 3);
	assert_int_equal(st.fallback_path[0], ZC_PATH_COPY_FILE_RANGE);
	assert_int_equal(st.fallback_errno[0], EBADF);
	assert_int_equal(st.fallback_path[1], ZC_PATH_SPLICE);
	assert_int_equal(st.fallback_errno[1], EINVAL);
	assert_int_equal(st.fallback_path[2], ZC_PATH_SENDFILE);
	assert_int_equal(st.fallback_errno[2], EINVAL);
	assert_true(st.syscalls >= 5);
	t_assert_file(dst, data, 30000);
	assert_string_equal(zc_path_name(ZC_PATH_READ_WRITE), "read_write");
	assert_string_equal(zc_path_name(ZC_PATH_NONE), "none");
	assert_null(zc_path_name(99));
	assert_string_equal(zc_fd_type_name(ZC_FD_SOCKET), "socket");
	assert_null(zc_fd_type_name(99));
	close(src);
	close(dst);
	free(data);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets_and_lengths),
		cmocka_unit_test(test_len_zero),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_same_file),
		cmocka_unit_test(test_bad_fds),
		cmocka_unit_test(test_error_side),
		cmocka_unit_test(test_epipe_no_sigpipe),
		cmocka_unit_test(test_sigpipe_state_kept),
		cmocka_unit_test(test_nonblocking_slow_reader),
		cmocka_unit_test(test_nonblocking_empty_source),
		cmocka_unit_test(test_no_fd_growth),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_fork_with_pooled_pipe),
		cmocka_unit_test(test_sparse_over_2g),
		cmocka_unit_test(test_sparse_over_2g_file),
		cmocka_unit_test(test_procfs),
		cmocka_unit_test(test_dev_zero),
		cmocka_unit_test(test_tty),
		cmocka_unit_test(test_explicit_offsets),
		cmocka_unit_test(test_shared_file_many_clients),
		cmocka_unit_test(test_env_debug_disable),
		cmocka_unit_test(test_env_debug_closed_stderr),
		cmocka_unit_test(test_block_device),
		cmocka_unit_test(test_grow_pipes),
		cmocka_unit_test(test_stats_fallback),
	};

	self_exe = realpath("/proc/self/exe", NULL);
	if (argc > 1 && strcmp(argv[1], "--env-child") == 0)
		env_child_transfer();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
