// SPDX-License-Identifier: MIT
/*
 * Relays under the fault seam. A scripted event loop (feed src, move, drain
 * dst, in fixed steps) runs once clean and records every call the library
 * makes; then each call in turn fails with EAGAIN or EINTR, comes back 1
 * byte short, refuses splice (EINVAL), runs out of fds or memory for a pipe,
 * or fails for good with EPIPE or ECONNRESET, on dst with bytes pending or
 * on src. After each: what reached dst is exactly a prefix of the source,
 * the calls' return values add up to it, a passing fault loses nothing (the
 * stream completes), and a fatal one is reported, then again on every
 * later call.
 *
 * Then the property: random interleavings of partial feeds, partial drains
 * and moves of random lengths, with random passing faults scheduled before
 * moves, deliver exactly the source stream. T_SEED and T_CASES as in
 * test-property.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "fault.h"
#include "helpers.h"
#include "internal.h"
#include "relay-pump.h"

#define SIZE (100u * 1024 + 11)
#define STEP_FEED (40u * 1024 + 3)
#define STEP_MOVE (30u * 1024)
#define STEP_DRAIN (6u * 1024 + 5)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const unsigned char *pattern;
static sigset_t mask0;

struct scen {
	const char *name;
	enum t_kind src;	/* T_UNIX, T_PIPE or T_FILE */
	enum t_kind dst;	/* T_UNIX or T_PIPE */
	unsigned int relay_flags;
	uint32_t pipe_size;
};

struct loop {
	const struct scen *s;
	int src_r, src_w, dst_r, dst_w;
	size_t fed;
	unsigned char *got;
	size_t got_len;
	uint64_t returned;	/* sum of what the calls said they delivered */
	int err;		/* first errno other than EAGAIN, 0 if none */
	bool sticky;		/* every call after err said err again */
	bool ended;		/* a call returned 0 */
	uint64_t max_pending;
};

static void nonblock(int fd)
{
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

static void loop_open(struct loop *l, const struct scen *s)
{
	int fds[2], small = 16384;

	*l = (struct loop){ .s = s, .src_w = -1, .sticky = true };
	if (s->src == T_FILE) {
		l->src_r = t_file_with(pattern, SIZE);
		l->fed = SIZE;
	} else {
		t_stream_pair(s->src, fds);
		l->src_r = fds[0];
		l->src_w = fds[1];
		nonblock(l->src_w);
	}
	t_stream_pair(s->dst, fds);
	l->dst_r = fds[0];
	l->dst_w = fds[1];
	/* dst fills after a few KiB, so bytes wait in the relay between calls. */
	if (s->dst == T_PIPE)
		assert_true(fcntl(l->dst_w, F_SETPIPE_SZ, small) > 0);
	else
		assert_int_equal(setsockopt(l->dst_w, SOL_SOCKET, SO_SNDBUF, &small,
					    sizeof(small)), 0);
	nonblock(l->src_r);
	nonblock(l->dst_r);
	nonblock(l->dst_w);
	l->got = malloc(SIZE + 1);
	assert_non_null(l->got);
}

static void loop_feed(struct loop *l)
{
	size_t n = ZC_MIN(STEP_FEED, SIZE - l->fed);
	ssize_t r;

	if (l->src_w < 0)
		return;
	r = write(l->src_w, pattern + l->fed, n);
	l->fed += r > 0 ? (size_t)r : 0;
	if (l->fed == SIZE) {
		close(l->src_w);
		l->src_w = -1;
	}
}

static void loop_drain(struct loop *l, size_t n)
{
	ssize_t r;

	r = read(l->dst_r, l->got + l->got_len, ZC_MIN(n, SIZE + 1 - l->got_len));
	l->got_len += r > 0 ? (size_t)r : 0;
}

static void loop_move(struct loop *l, struct zc_relay *relay)
{
	struct zc_stats st;
	ssize_t r = zc_relay_move(relay, l->src_r, l->dst_w, STEP_MOVE, 0, &st);
	int err = r < 0 ? errno : 0;

	if (r >= 0)
		assert_int_equal(st.bytes, (uint64_t)r);
	l->returned += r > 0 ? (uint64_t)r : 0;
	if (r == 0)
		l->ended = true;
	l->max_pending = ZC_MAX(l->max_pending, zc_relay_pending(relay));
	if (l->err && err != l->err)
		l->sticky = false;
	if (!l->err && err && err != EAGAIN)
		l->err = err;
}

/* The scripted loop; stops at the end, or a few calls after an error. */
static void loop_run(struct loop *l, struct zc_relay *relay)
{
	unsigned int i, after = 0;

	for (i = 0; i < 2000 && !l->ended && after < 3; i++) {
		loop_feed(l);
		loop_move(l, relay);
		loop_drain(l, STEP_DRAIN);
		after += l->err && l->sticky;
	}
}

/* Collect what is left in dst, close everything. */
static void loop_close(struct loop *l)
{
	ssize_t r;

	if (l->src_w >= 0)
		close(l->src_w);
	close(l->src_r);
	close(l->dst_w);
	do {
		r = read(l->dst_r, l->got + l->got_len, SIZE + 1 - l->got_len);
		l->got_len += r > 0 ? (size_t)r : 0;
	} while (r > 0 && l->got_len <= SIZE);
	close(l->dst_r);
}

enum cls {
	PASS,		/* the stream completes, no error but EAGAIN */
	RETRY,		/* one call fails with the errno, the stream completes */
	FATAL,		/* the errno ends the relay and sticks */
};

struct fcase {
	enum t_sys sys;
	unsigned int nth;
	enum t_fault_kind kind;
	int err;
	enum cls cls;
};

static const char *kind_name(enum t_fault_kind k)
{
	return k == T_SHORT ? "short" : k == T_ZERO ? "zero" : "fail";
}

static void check(const struct scen *s, const struct fcase *c, const struct loop *l,
		  unsigned int fired)
{
	char ctx[160];

	snprintf(ctx, sizeof(ctx), "%s: %s #%u %s %s", s->name, t_sys_name(c->sys), c->nth,
		 kind_name(c->kind), c->kind == T_FAIL ? zc__errno_name(c->err) : "");
	if (!fired)
		fail_msg("%s: the fault never fired", ctx);
	/* Whatever happened, dst has exactly what the calls reported, from the start. */
	if (l->got_len != l->returned || memcmp(l->got, pattern, l->got_len) != 0)
		fail_msg("%s: dst has %zu bytes (%s), the calls said %llu", ctx, l->got_len,
			 memcmp(l->got, pattern, ZC_MIN(l->got_len, SIZE)) ? "not the source" :
									    "a prefix",
			 (unsigned long long)l->returned);
	switch (c->cls) {
	case PASS:
	case RETRY:
		if (!l->ended || l->got_len != SIZE)
			fail_msg("%s: the stream did not complete (%zu of %u bytes, error %s)",
				 ctx, l->got_len, SIZE, l->err ? zc__errno_name(l->err) : "none");
		if (c->cls == PASS && l->err)
			fail_msg("%s: a call failed with %s", ctx, zc__errno_name(l->err));
		if (c->cls == RETRY && l->err != c->err)
			fail_msg("%s: no call reported it", ctx);
		break;
	case FATAL:
		if (l->err != c->err || !l->sticky)
			fail_msg("%s: ended with %s, %s", ctx,
				 l->err ? zc__errno_name(l->err) : "no error",
				 l->sticky ? "sticky" : "not reported again");
		break;
	}
}

static void run_case(const struct scen *s, const struct fcase *c)
{
	int fds0 = t_fd_count();
	struct zc_relay *relay;
	unsigned int fired;
	struct loop l;

	loop_open(&l, s);
	relay = zc_relay_new(s->pipe_size, s->relay_flags);
	assert_non_null(relay);
	zc__relay_pool_drop();	/* every run makes the same calls */
	t_fault_reset();
	if (c)
		t_fault_add(t_sys_name(c->sys), c->nth, c->kind, c->err);
	loop_run(&l, relay);
	fired = t_fault_fired();
	t_fault_reset();
	/* A failed restore leaves SIGPIPE blocked, which would change the next runs' calls. */
	assert_int_equal(sigprocmask(SIG_SETMASK, &mask0, NULL), 0);
	zc_relay_free(relay);
	loop_close(&l);
	if (c)
		check(s, c, &l, fired);
	free(l.got);
	assert_true(t_fd_count() <= fds0 + 2);
}

/* The faults to try on one recorded call. */
static size_t faults_for(const struct t_call *call, const struct loop *l, struct fcase *out)
{
	bool from_src = call->in == l->src_r, to_dst = call->out == l->dst_w;
	size_t n = 0;

#define ADD(k, e, c) (out[n++] = (struct fcase){ call->sys, call->nth, k, e, c })
	switch (call->sys) {
	case T_NR_splice:
	case T_NR_read:
	case T_NR_write:
		ADD(T_FAIL, EINTR, PASS);
		ADD(T_SHORT, 0, PASS);
		if (from_src || to_dst)
			ADD(T_FAIL, EAGAIN, PASS);
		if (call->sys == T_NR_splice)
			ADD(T_FAIL, EINVAL, PASS);	/* splice refused: read/write takes over */
		if (from_src)
			ADD(T_FAIL, ECONNRESET, FATAL);
		if (to_dst) {
			ADD(T_FAIL, EPIPE, FATAL);
			ADD(T_FAIL, ECONNRESET, FATAL);
		}
		break;
	case T_NR_pipe2:
		ADD(T_FAIL, EMFILE, PASS);
		ADD(T_FAIL, ENFILE, PASS);
		ADD(T_FAIL, ENOMEM, PASS);
		break;
	case T_NR_fcntl:
		ADD(T_FAIL, EPERM, PASS);
		break;
	case T_NR_fstat:
		ADD(T_FAIL, EIO, RETRY);
		break;
	case T_NR_sigmask:
	case T_NR_sigpending:
	case T_NR_sigtimedwait:
		ADD(T_FAIL, EINVAL, PASS);
		break;
	default:
		break;
	}
#undef ADD
	return n;
}

static const struct scen scens[] = {
	{ "unix->unix", T_UNIX, T_UNIX, 0, 0 },
	{ "pipe->unix", T_PIPE, T_UNIX, 0, 0 },
	{ "unix->pipe", T_UNIX, T_PIPE, 0, 0 },
	{ "file->unix", T_FILE, T_UNIX, 0, 0 },
	{ "unix->unix 12 KiB pipe", T_UNIX, T_UNIX, 0, 12288 },
	{ "unix->unix read/write", T_UNIX, T_UNIX, ZC_NO_SPLICE, 0 },
	{ "pipe->pipe read/write", T_PIPE, T_PIPE, ZC_NO_SPLICE, 0 },
};

static void test_every_step(void **state)
{
	struct t_call calls[T_TRACE_MAX];
	struct fcase cases[8];
	const struct t_call *trace;
	size_t i, j, k, n, m, total = 0;
	struct loop l;

	(void)state;
	for (i = 0; i < COUNT(scens); i++) {
		/* The clean run: it completes, and its calls are the steps to fault. */
		struct zc_relay *relay = zc_relay_new(scens[i].pipe_size, scens[i].relay_flags);

		loop_open(&l, &scens[i]);
		zc__relay_pool_drop();
		t_fault_reset();
		loop_run(&l, relay);
		n = t_fault_trace(&trace);
		assert_true(n < T_TRACE_MAX);
		memcpy(calls, trace, n * sizeof(*trace));
		/* The faulted runs compare fds with the ones of this run. */
		for (j = 0; j < n; j++) {
			calls[j].in = calls[j].in == l.src_r ? 1 : calls[j].in == l.dst_w ? 2 : 0;
			calls[j].out = calls[j].out == l.dst_w ? 2 : calls[j].out == l.src_r ? 1 : 0;
		}
		zc_relay_free(relay);
		loop_close(&l);
		assert_true(l.ended);
		/* dst was full at times: faults hit bytes waiting in the relay too. */
		if (l.max_pending == 0)
			fail_msg("%s: nothing was ever pending", scens[i].name);
		t_assert_bytes(l.got, l.got_len, pattern, SIZE);
		free(l.got);
		for (j = 0; j < n; j++) {
			struct loop ids = { .src_r = 1, .dst_w = 2 };

			m = faults_for(&calls[j], &ids, cases);
			for (k = 0; k < m; k++)
				run_case(&scens[i], &cases[k]);
			total += m;
		}
		print_message("%s: %zu calls, each faulted\n", scens[i].name, n);
	}
	print_message("%zu faulted runs\n", total);
}

/* Property: random interleavings with random passing faults. */
struct prop {
	struct t_pump *p;
	unsigned int faults;
};

static void random_faults(struct t_pump *p, void *arg)
{
	static const enum t_sys sys[] = { T_NR_splice, T_NR_read, T_NR_write, T_NR_pipe2 };
	struct prop *pr = arg;
	enum t_sys s;

	t_fault_reset();
	if (t_pump_rnd(p, 3))
		return;
	s = sys[t_pump_rnd(p, COUNT(sys))];
	pr->faults++;
	switch (t_pump_rnd(p, 4)) {
	case 0:
		t_fault_add(t_sys_name(s), 1 + t_pump_rnd(p, 3), T_SHORT, 0);
		break;
	case 1:
		/* pipe2(2) is never interrupted: it fails for want of fds instead. */
		t_fault_add(t_sys_name(s), 1 + t_pump_rnd(p, 3), T_FAIL,
			    s == T_NR_pipe2 ? ENFILE : EINTR);
		break;
	case 2:
		t_fault_add(t_sys_name(s), 1 + t_pump_rnd(p, 3), T_FAIL,
			    s == T_NR_pipe2 ? EMFILE : EAGAIN);
		break;
	default:
		/* Rarely: splice refused for good, the relay goes on by read/write. */
		if (t_pump_rnd(p, 8) == 0)
			t_fault_add("splice", 1 + t_pump_rnd(p, 2), T_FAIL, EINVAL);
		break;
	}
}

static void test_property(void **state)
{
	static const enum t_kind srcs[] = { T_PIPE, T_UNIX, T_TCP, T_FILE, T_MEMFD };
	static const enum t_kind dsts[] = { T_PIPE, T_UNIX, T_TCP, T_FILE };
	const char *se = getenv("T_SEED"), *ca = getenv("T_CASES");
	uint32_t seed = se ? (uint32_t)strtoul(se, NULL, 0) : (uint32_t)time(NULL);
	unsigned int cases = ca ? (unsigned int)strtoul(ca, NULL, 0) : 300, i;
	unsigned char *data = t_pattern(400u * 1024, seed);
	struct prop pr = { 0 };
	uint32_t rng = seed | 1;

	(void)state;
	print_message("seed %u, %u cases (T_SEED=%u to repeat)\n", seed, cases, seed);
	for (i = 0; i < cases; i++) {
		struct t_pump p = { .data = data, .seed = seed + i };

		rng ^= rng << 13;
		rng ^= rng >> 17;
		rng ^= rng << 5;
		p.src_kind = srcs[rng % COUNT(srcs)];
		p.dst_kind = dsts[(rng >> 8) % COUNT(dsts)];
		p.len = (rng >> 4) % (400u * 1024);
		p.small_buffers = rng & 0x10000;
		p.pipe_size = rng & 0x20000 ? 4096 * (1 + (rng >> 20) % 8) : 0;
		p.relay_flags = (rng >> 24) % 8 == 0 ? ZC_NO_SPLICE : 0;
		p.move_flags = rng & 0x40000 ? ZC_NO_SIGPIPE_GUARD : 0;
		p.before_move = random_faults;
		p.arg = &pr;
		t_pump_run(&p);
		t_fault_reset();
	}
	print_message("%u random faults\n", pr.faults);
	free(data);
}

/*
 * ZCOPY_DEBUG: one line per call, as for zc_transfer, with the fd types,
 * the bytes and the path; and a splice refusal shows as a fallback.
 */
static void test_debug_line(void **state)
{
	int src[2], dst[2], err[2], saved = dup(STDERR_FILENO);
	struct zc_relay *relay = zc_relay_new(0, 0);
	char line[1024], want[128];
	ssize_t n;

	(void)state;
	t_unix_pair(src);
	t_unix_pair(dst);
	nonblock(src[0]);
	nonblock(dst[1]);
	assert_int_equal(pipe2(err, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(write(src[1], pattern, 5000), 5000);
	assert_int_equal(dup2(err[1], STDERR_FILENO), STDERR_FILENO);
	zc__debug = 1;
	n = zc_relay_move(relay, src[0], dst[1], ZC_ALL, ZC_NO_SIGPIPE_GUARD, NULL);
	t_fault_reset();
	t_fault_add("splice", 1, T_FAIL, EINVAL);
	assert_int_equal(write(src[1], pattern, 300), 300);
	zc_relay_move(relay, src[0], dst[1], ZC_ALL, ZC_NO_SIGPIPE_GUARD, NULL);
	t_fault_reset();
	zc__debug = 0;
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_int_equal(n, 5000);
	n = read(err[0], line, sizeof(line) - 1);
	assert_true(n > 0);
	line[n] = '\0';
	snprintf(want, sizeof(want), "zcopy: src=%d(socket) dst=%d(socket) bytes=5000 path=splice ",
		 src[0], dst[1]);
	if (!strstr(line, want) || !strstr(line, "bytes=300 path=read_write fallback=splice:EINVAL"))
		fail_msg("the debug lines were: %s", line);
	zc_relay_free(relay);
	close(src[0]);
	close(src[1]);
	close(dst[0]);
	close(dst[1]);
	close(err[0]);
	close(err[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_step),
		cmocka_unit_test(test_debug_line),
		cmocka_unit_test(test_property),
	};

	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_SETMASK, NULL, &mask0);
	pattern = t_pattern(SIZE, 5);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
