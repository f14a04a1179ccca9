// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "relay-pump.h"

#define SMALL 4096

uint32_t t_pump_rnd(struct t_pump *p, uint32_t n)
{
	p->rng ^= p->rng << 13;
	p->rng ^= p->rng >> 17;
	p->rng ^= p->rng << 5;
	return n ? p->rng % n : 0;
}

static void nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

static void shrink(enum t_kind k, int fds[2])
{
	int v = SMALL;

	if (k == T_PIPE) {
		assert_true(fcntl(fds[1], F_SETPIPE_SZ, SMALL) >= SMALL);
		return;
	}
	/* A TCP window that small waits on the kernel's timers, for seconds. */
	if (k == T_TCP)
		return;
	assert_int_equal(setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	assert_int_equal(setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
}

static void open_ends(struct t_pump *p)
{
	int fds[2];

	if (p->src_kind == T_FILE || p->src_kind == T_MEMFD) {
		p->src_r = p->src_kind == T_FILE ? t_file_with(p->data, p->len) :
						  t_memfd_with(p->data, p->len);
		p->src_w = -1;
		p->fed = p->len;
	} else {
		t_stream_pair(p->src_kind, fds);
		if (p->small_buffers)
			shrink(p->src_kind, fds);
		p->src_r = fds[0];
		p->src_w = fds[1];
		nonblock(p->src_w);
	}
	if (p->dst_kind == T_FILE) {
		p->dst_w = t_file_empty(0);
		p->dst_r = -1;
	} else {
		t_stream_pair(p->dst_kind, fds);
		if (p->small_buffers)
			shrink(p->dst_kind, fds);
		p->dst_r = fds[0];
		p->dst_w = fds[1];
		nonblock(p->dst_r);
	}
	nonblock(p->src_r);
	nonblock(p->dst_w);
}

static void feed(struct t_pump *p)
{
	size_t n = 1 + t_pump_rnd(p, 3 * SMALL + 7);
	ssize_t r;

	if (p->src_w < 0)
		return;
	if (p->fed < p->len) {
		r = write(p->src_w, p->data + p->fed, n < p->len - p->fed ? n : p->len - p->fed);
		assert_true(r > 0 || errno == EAGAIN);
		p->fed += r > 0 ? (size_t)r : 0;
	}
	if (p->fed == p->len) {
		close(p->src_w);
		p->src_w = -1;
	}
}

/* Read up to n bytes from dst; how many came. */
static size_t drain(struct t_pump *p, size_t n)
{
	ssize_t r;

	if (p->dst_r < 0)
		return 0;
	p->got = realloc(p->got, p->got_len + n);
	assert_non_null(p->got);
	r = read(p->dst_r, p->got + p->got_len, n);
	assert_true(r >= 0 || errno == EAGAIN);
	p->got_len += r > 0 ? (size_t)r : 0;
	return r > 0 ? (size_t)r : 0;
}

static bool drain_some(struct t_pump *p)
{
	return drain(p, 65536) > 0;
}

/* One call: bytes, 0 only once everything has moved, or -1 EAGAIN. */
static bool move(struct t_pump *p, struct zc_relay *relay, uint64_t *moved)
{
	static const size_t lens[] = { 1, 4096, 65536, 100003, ZC_ALL };
	size_t len = lens[t_pump_rnd(p, 5)];
	struct zc_stats st;
	uint64_t pend;
	ssize_t r;

	if (len == 1)
		len = 1 + t_pump_rnd(p, 9000);
	if (p->before_move)
		p->before_move(p, p->arg);
	r = zc_relay_move(relay, p->src_r, p->dst_w, len, p->move_flags, &st);
	p->moves++;
	if (r < 0) {
		if (errno != EAGAIN)
			fail_msg("seed %u: zc_relay_move: %s", p->seed, strerror(errno));
		assert_int_equal(st.bytes, 0);
		p->eagain++;
		return true;
	}
	assert_int_equal(st.bytes, (uint64_t)r);
	if (st.path)
		p->paths |= 1u << st.path;
	*moved += (uint64_t)r;
	pend = zc_relay_pending(relay);
	if (pend > p->max_pending)
		p->max_pending = pend;
	/* Nothing is delivered that was not fed, nothing taken that is not accounted for. */
	assert_true(*moved + pend <= p->fed);
	if (r > 0)
		return true;
	assert_int_equal(*moved, p->len);
	assert_int_equal(pend, 0);
	return false;
}

void t_pump_run(struct t_pump *p)
{
	int fds0 = t_fd_count();
	struct zc_relay *relay;
	uint64_t moved = 0;
	uint32_t op;
	bool more = true;

	p->rng = p->seed | 1;
	p->fed = p->got_len = 0;
	p->got = NULL;
	open_ends(p);
	relay = zc_relay_new(p->pipe_size, p->relay_flags);
	assert_non_null(relay);
	while (more) {
		op = t_pump_rnd(p, 4);
		if (op == 0)
			feed(p);
		else if (op == 1)
			drain(p, 1 + t_pump_rnd(p, 3 * SMALL));
		else
			more = move(p, relay, &moved);
		/* The calls above never wait: the test would hang here if one did. */
	}
	zc_relay_free(relay);
	close(p->src_r);
	if (p->dst_kind == T_FILE) {
		free(p->got);
		p->got = t_read_file(p->dst_w, &p->got_len);
		close(p->dst_w);
	} else {
		/* What TCP holds in the sender's queue comes as it is read. */
		close(p->dst_w);
		assert_int_equal(fcntl(p->dst_r, F_SETFL, 0), 0);
		while (drain_some(p))
			;
		close(p->dst_r);
	}
	if (p->got_len != p->len || memcmp(p->got, p->data, p->len) != 0)
		print_error("%s->%s, seed %u:\n", t_kind_name(p->src_kind),
			    t_kind_name(p->dst_kind), p->seed);
	t_assert_bytes(p->got, p->got_len, p->data, p->len);
	free(p->got);
	p->got = NULL;
	/* One thread's relays need one pipe at a time, which the pool may keep. */
	assert_true(t_fd_count() <= fds0 + 2);
}
