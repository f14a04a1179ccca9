// SPDX-License-Identifier: MIT
/*
 * Relays on real fds: every stream pair splice serves, each run as an event
 * loop would (random feeds, drains and moves on non-blocking fds) and
 * checked byte for byte; a full destination never makes a call wait and
 * never makes it read more; a destination that goes away with bytes pending
 * ends the relay without a signal; many threads at once; and what a relay
 * costs: 10,000 idle relays hold no fd and little memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"
#include "relay-pump.h"

#define SIZE (300u * 1024 + 17)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

static const unsigned char *pattern;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pump(enum t_kind src, enum t_kind dst, uint32_t seed, bool small,
		 uint32_t pipe_size, unsigned int relay_flags)
{
	struct t_pump p = {
		.src_kind = src, .dst_kind = dst, .data = pattern, .len = SIZE, .seed = seed,
		.small_buffers = small, .pipe_size = pipe_size, .relay_flags = relay_flags,
	};

	t_pump_run(&p);
	/* Streams never need read/write, unless it was asked for. */
	if (relay_flags & ZC_NO_SPLICE)
		assert_int_equal(p.paths, 1u << ZC_PATH_READ_WRITE);
	else
		assert_int_equal(p.paths, 1u << ZC_PATH_SPLICE);
	/* A 4 KiB UNIX socket or pipe fills long before the stream ends. */
	if (small && (dst == T_UNIX || dst == T_PIPE))
		assert_true(p.max_pending > 0);
}

static void test_pairs(void **state)
{
	static const enum t_kind srcs[] = { T_PIPE, T_TCP, T_UNIX, T_FILE, T_MEMFD };
	static const enum t_kind dsts[] = { T_PIPE, T_TCP, T_UNIX, T_FILE };
	uint32_t seed = 1;
	size_t i, j;

	(void)state;
	for (i = 0; i < COUNT(srcs); i++) {
		for (j = 0; j < COUNT(dsts); j++) {
			pump(srcs[i], dsts[j], seed++, true, 0, 0);
			pump(srcs[i], dsts[j], seed++, false, 0, 0);
			pump(srcs[i], dsts[j], seed++, true, 3 * 4096 + 1, 0);
			pump(srcs[i], dsts[j], seed++, true, 0, ZC_NO_SPLICE);
		}
	}
}

/* An empty stream ends at once, with 0 and nothing pending. */
static void test_empty(void **state)
{
	struct t_pump p = { .src_kind = T_UNIX, .dst_kind = T_TCP, .data = pattern, .seed = 7 };

	(void)state;
	t_pump_run(&p);
	assert_int_equal(p.paths, 0);
}

static int queued(int fd)
{
	int n = -1;

	assert_int_equal(ioctl(fd, FIONREAD, &n), 0);
	return n;
}

static void set_nonblock(int fd)
{
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}


/* Fill a non-blocking fd's peer until it takes no more; returns the bytes written. */
static size_t fill_up(int fd, const unsigned char *data, size_t len)
{
	size_t done = 0;
	ssize_t r;

	while (done < len && (r = write(fd, data + done, len - done)) > 0)
		done += (size_t)r;
	return done;
}

/*
 * src has plenty, dst has no reader and no room: the first call delivers
 * what fits and keeps the rest, the next ones say EAGAIN at once and take
 * nothing more from src.
 */
static void test_dst_full(void **state)
{
	int src[2], dst[2], before;
	size_t fed;
	double t0;
	ssize_t r;
	struct zc_relay *relay = zc_relay_new(0, 0);

	(void)state;
	assert_non_null(relay);
	t_tcp_pair(src);
	t_unix_pair(dst);
	set_nonblock(src[0]);
	set_nonblock(src[1]);
	set_nonblock(dst[1]);
	fed = fill_up(src[1], pattern, SIZE);
	fed += fill_up(src[1], pattern, SIZE);
	assert_true(fed > 128 * 1024);
	t0 = now();
	r = zc_relay_move(relay, src[0], dst[1], ZC_ALL, 0, NULL);
	assert_true(r > 0);
	assert_true(zc_relay_pending(relay) > 0);
	before = queued(src[0]);
	assert_int_equal(zc_relay_move(relay, src[0], dst[1], ZC_ALL, 0, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(queued(src[0]), before);
	assert_true(now() - t0 < 1.0);
	zc_relay_free(relay);
	close(src[0]);
	close(src[1]);
	close(dst[0]);
	close(dst[1]);
}

struct gone {
	bool rst;	/* TCP dst reset by its peer, else a UNIX dst whose reader closed */
};

/* In a child with SIGPIPE at its default: a signal would kill it. */
static void dst_gone_child(void *arg)
{
	const struct gone *g = arg;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int src[2], dst[2], i;
	struct zc_relay *relay = zc_relay_new(0, 0);
	ssize_t r;

	int small = 4096;

	if (g->rst)
		t_tcp_pair(dst);
	else
		t_unix_pair(dst);
	t_unix_pair(src);
	setsockopt(dst[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(dst[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	set_nonblock(src[0]);
	set_nonblock(src[1]);
	set_nonblock(dst[1]);
	fill_up(src[1], pattern, SIZE);
	if (zc_relay_move(relay, src[0], dst[1], ZC_ALL, 0, NULL) <= 0 ||
	    zc_relay_pending(relay) == 0)
		_exit(10);
	if (g->rst)
		setsockopt(dst[0], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(dst[0]);
	/* The error sticks: every later call says it, and reads nothing more. */
	for (i = 0; i < 3; i++) {
		struct zc_stats st;

		r = zc_relay_move(relay, src[0], dst[1], ZC_ALL, 0, &st);
		if (r != -1)
			_exit(11);
		if (errno != (g->rst ? ECONNRESET : EPIPE) && !(g->rst && errno == EPIPE))
			_exit(12);
		/* The stats say whose fd it was, as a transfer's do. */
		if (errno == EPIPE && st.error_side != ZC_SIDE_DST)
			_exit(13);
	}
	zc_relay_free(relay);
	_exit(0);
}

static void test_dst_gone(void **state)
{
	struct gone g[] = { { false }, { true } };
	int status;
	size_t i;

	(void)state;
	for (i = 0; i < COUNT(g); i++) {
		status = t_in_child(dst_gone_child, &g[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

static void test_bad_args(void **state)
{
	struct zc_relay *relay;
	int p[2];

	(void)state;
	assert_null(zc_relay_new(0, 0x4000));
	assert_int_equal(errno, EINVAL);
	zc_relay_free(NULL);
	assert_int_equal(zc_relay_pending(NULL), 0);
	assert_int_equal(zc_relay_move(NULL, 0, 1, 1, 0, NULL), -1);
	assert_int_equal(errno, EINVAL);
	relay = zc_relay_new(0, 0);
	assert_non_null(relay);
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(zc_relay_move(relay, p[0], p[1], 1, 0x4000, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(zc_relay_move(relay, 9999, p[1], 1, 0, NULL), -1);
	assert_int_equal(errno, EBADF);
	/* Nothing asked, nothing done. */
	assert_int_equal(zc_relay_move(relay, p[0], p[1], 0, 0, NULL), 0);
	zc_relay_free(relay);
	close(p[0]);
	close(p[1]);
}

/* Through a relay from a pipe holding n bytes into a pipe with room; nothing stays. */
static void move_once(struct zc_relay *relay, int src[2], int dst[2], size_t n)
{
	unsigned char buf[2048];

	assert_int_equal(write(src[1], pattern, n), (ssize_t)n);
	assert_int_equal(zc_relay_move(relay, src[0], dst[1], ZC_ALL, 0, NULL), (ssize_t)n);
	assert_int_equal(zc_relay_pending(relay), 0);
	assert_int_equal(read(dst[0], buf, sizeof(buf)), (ssize_t)n);
	assert_memory_equal(buf, pattern, n);
}

#define MANY 10000

/*
 * 10,000 relays that each moved bytes and went idle hold no pipe (the fd
 * count does not move) and only their struct; freeing them leaves nothing.
 */
static void test_many_idle(void **state)
{
	static struct zc_relay *relays[MANY];
	int src[2], dst[2], fds0;
	size_t heap0, heap1;
	size_t i;

	(void)state;
	assert_int_equal(pipe2(src, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(pipe2(dst, O_CLOEXEC | O_NONBLOCK), 0);
	/* One warm call fills the pool with the one pipe all the others share. */
	relays[0] = zc_relay_new(0, 0);
	move_once(relays[0], src, dst, 1000);
	zc_relay_free(relays[0]);
	fds0 = t_fd_count();
	heap0 = mallinfo2().uordblks;
	for (i = 0; i < MANY; i++) {
		relays[i] = zc_relay_new(0, 0);
		assert_non_null(relays[i]);
		move_once(relays[i], src, dst, 1 + i % 2000);
	}
	heap1 = mallinfo2().uordblks;
	assert_int_equal(t_fd_count(), fds0);
	print_message("idle relay: %zu bytes of heap each, no fd\n", (heap1 - heap0) / MANY);
	assert_true((heap1 - heap0) / MANY <= 128);
	for (i = 0; i < MANY; i++)
		zc_relay_free(relays[i]);
	assert_int_equal(t_fd_count(), fds0);
	/* Slack for stdio's buffer, made by the first message. */
	assert_true(mallinfo2().uordblks <= heap0 + 8192);
	close(src[0]);
	close(src[1]);
	close(dst[0]);
	close(dst[1]);
}

static long slab_kib(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long kib = -1;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

#define BUSY 1000

/*
 * A relay with bytes pending holds its pipe: two fds and the pipe's kernel
 * memory. Freed with the bytes still in it, it gives everything back.
 */
static void test_many_pending(void **state)
{
	static struct zc_relay *relays[BUSY];
	int src[2], dst[2], fds0;
	long slab0;
	size_t i;

	(void)state;
	t_need_fds(2 * BUSY + 64);
	assert_int_equal(pipe2(src, O_CLOEXEC | O_NONBLOCK), 0);
	t_unix_pair(dst);
	set_nonblock(dst[1]);
	fill_up(dst[1], pattern, SIZE);		/* dst full: every relay keeps its bytes */
	fds0 = t_fd_count();
	slab0 = slab_kib();
	for (i = 0; i < BUSY; i++) {
		relays[i] = zc_relay_new(0, 0);
		assert_int_equal(write(src[1], pattern, 100), 100);
		assert_int_equal(zc_relay_move(relays[i], src[0], dst[1], ZC_ALL, 0, NULL), -1);
		assert_int_equal(errno, EAGAIN);
		assert_int_equal(zc_relay_pending(relays[i]), 100);
	}
	/* Each holds a pipe; the first may have come from the pool. */
	assert_true(t_fd_count() >= fds0 + 2 * BUSY - 2 && t_fd_count() <= fds0 + 2 * BUSY);
	print_message("relay with bytes pending: 2 fds, about %ld bytes of kernel slab\n",
		      (slab_kib() - slab0) * 1024 / BUSY);
	/* A pipe with bytes in it is closed, never pooled. */
	for (i = 0; i < BUSY; i++)
		zc_relay_free(relays[i]);
	assert_true(t_fd_count() <= fds0);
	close(src[0]);
	close(src[1]);
	close(dst[0]);
	close(dst[1]);
}

#define THREADS 4
#define THREAD_BYTES (3u << 20)

/* One relay per thread between UNIX pairs, fed and drained by the same thread. */
static void *relay_thread(void *arg)
{
	unsigned char *got = malloc(THREAD_BYTES);
	struct zc_relay *relay = zc_relay_new(0, 0);
	size_t fed = 0, n = 0;
	int src[2], dst[2], i;
	bool ok = got && relay;
	ssize_t r;

	(void)arg;
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, src);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, dst);
	while (ok) {
		if (fed < THREAD_BYTES) {
			r = write(src[1], pattern + fed % SIZE,
				  MIN(THREAD_BYTES - fed, SIZE - fed % SIZE));
			fed += r > 0 ? (size_t)r : 0;
			if (fed == THREAD_BYTES)
				shutdown(src[1], SHUT_WR);
		}
		r = zc_relay_move(relay, src[0], dst[1], 65536 + 7, 0, NULL);
		if (r < 0 && errno != EAGAIN)
			ok = false;
		for (i = 0; i < 4 && (r = read(dst[0], got + n, THREAD_BYTES - n)) > 0; i++)
			n += (size_t)r;
		if (n == THREAD_BYTES && zc_relay_move(relay, src[0], dst[1], 1, 0, NULL) == 0)
			break;
	}
	for (i = 0; ok && (size_t)i < THREAD_BYTES; i += SIZE)
		ok = memcmp(got + i, pattern, MIN(SIZE, THREAD_BYTES - (size_t)i)) == 0;
	zc_relay_free(relay);
	free(got);
	close(src[0]);
	close(src[1]);
	close(dst[0]);
	close(dst[1]);
	return ok ? arg : NULL;
}

static void test_threads(void **state)
{
	int tag[THREADS];
	pthread_t t[THREADS];
	void *ret;
	int i;

	(void)state;
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, relay_thread, &tag[i]), 0);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_ptr_equal(ret, &tag[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_dst_full),
		cmocka_unit_test(test_dst_gone),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_many_idle),
		cmocka_unit_test(test_many_pending),
		cmocka_unit_test(test_threads),
	};

	signal(SIGPIPE, SIG_IGN);
	pattern = t_pattern(SIZE, 42);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
