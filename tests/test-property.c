// SPDX-License-Identifier: MIT
/*
 * Property: for random fd pairs, sizes, offsets, lengths, flags and fault
 * schedules, every call keeps the promise of tests/xrun.h: dst holds exactly
 * the reported prefix of the source, the offsets agree, the error is one the
 * schedule injected, and when no byte can have been lost a retry delivers
 * the rest. A run without faults moves exactly what was asked.
 *
 * T_SEED picks the seed (default: the time), T_CASES the number of cases
 * (default 2000); the seed is printed first and in every failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "fault.h"
#include "helpers.h"
#include "internal.h"
#include "xrun.h"

#define MAX_SIZE (700u * 1024)
#define MAX_FAULTS 3
#define FLAG_BITS (ZC_NO_COPY_FILE_RANGE | ZC_NO_SPLICE | ZC_NO_SENDFILE | ZC_NO_MMAP | \
		   ZC_GROW_PIPES)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum side { ANY, SRC, DST };

struct pfault {
	enum t_sys sys;
	unsigned int nth;
	enum side side;
	enum t_fault_kind kind;
	int err;
};

struct pcase {
	struct t_xrun_cfg c;
	struct pfault f[MAX_FAULTS];
	int n;
	bool truncate;		/* cut the source before f[0]'s call, not a fault */
	size_t cut;
};

static const unsigned char *pattern;
static uint32_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return n ? rng % n : 0;
}

static const enum t_sys fault_sys[] = {
	T_NR_copy_file_range, T_NR_splice, T_NR_sendfile, T_NR_read, T_NR_pread,
	T_NR_write, T_NR_pwrite, T_NR_mmap, T_NR_pipe2, T_NR_fcntl, T_NR_poll,
};
static const int fault_errs[] = {
	EINTR, EAGAIN, ENOSYS, EINVAL, EXDEV, EOPNOTSUPP, EPERM, EPIPE, ENOSPC, EIO,
	ENOMEM, EMFILE, ENFILE,
};
/* Errors that make the engine leave splice, which writes the pipe out instead. */
static const int refusals[] = { ENOSYS, EINVAL, EXDEV, EOPNOTSUPP, EPERM, ENOMEM };

static bool among(int err, const int *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == err)
			return true;
	return false;
}

static size_t pick_size(void)
{
	static const size_t edges[] = { 0, 1, 4095, 4096, 4097, 65536, ZC_RW_BUF_SIZE + 1 };

	return rnd(3) ? rnd(MAX_SIZE) : edges[rnd(COUNT(edges))];
}

static void pick_fault(struct pfault *f)
{
	f->sys = fault_sys[rnd(COUNT(fault_sys))];
	f->nth = 1 + rnd(4);
	f->side = (enum side)rnd(3);
	f->kind = rnd(10) < 7 ? T_FAIL : rnd(2) ? T_SHORT : T_ZERO;
	f->err = f->kind == T_FAIL ? fault_errs[rnd(COUNT(fault_errs))] : 0;
	/* Only the two ends say EAGAIN, and poll only EINTR: the pooled pipe blocks. */
	if (f->err == EAGAIN && f->side == ANY)
		f->side = rnd(2) ? SRC : DST;
	if (f->sys == T_NR_poll)
		f->err = EINTR, f->kind = T_FAIL;
	/* Only calls that move bytes can say 0 or come back short; pipe2 and mmap cannot. */
	if (f->kind != T_FAIL && f->sys > T_NR_send)
		f->err = EIO, f->kind = T_FAIL;
}

static void pick(struct pcase *p)
{
	struct t_xrun_cfg *c = &p->c;
	int i;

	memset(p, 0, sizeof(*p));
	c->src = (enum t_kind)rnd(T_NULL);
	c->dst = (enum t_kind)rnd(T_KIND_MAX);
	c->flags = rnd(UINT32_MAX) & FLAG_BITS;
	c->at = rnd(2);
	c->size = pick_size();
	c->src_start = rnd(2) ? 0 : rnd((uint32_t)c->size + 1);
	c->dst_start = t_seekable(c->dst) && rnd(2) ? rnd(10000) : 0;
	c->len = rnd(2) ? ZC_ALL : rnd((uint32_t)c->size + 2);
	p->n = (int)rnd(MAX_FAULTS + 1);
	for (i = 0; i < p->n; i++)
		pick_fault(&p->f[i]);
	if (p->n && t_seekable(c->src) && rnd(8) == 0) {
		p->truncate = true;
		p->cut = rnd((uint32_t)c->size + 1);
	}
}

/* Whether a retry must get every byte: nothing taken from the source was dropped. */
static bool lossless(const struct pcase *p)
{
	int i;

	if (p->truncate)
		return false;
	if (t_seekable(p->c.src))
		return true;
	for (i = 0; i < p->n; i++) {
		const struct pfault *f = &p->f[i];

		if (f->kind == T_SHORT || f->err == EINTR || f->err == EAGAIN || f->side == SRC)
			continue;
		if (f->sys == T_NR_splice && among(f->err, refusals, COUNT(refusals)))
			continue;
		if (f->sys == T_NR_copy_file_range || f->sys == T_NR_sendfile ||
		    f->sys == T_NR_mmap || f->sys == T_NR_pipe2 || f->sys == T_NR_fcntl)
			continue;
		return false;
	}
	return true;
}

static bool may_end_with(const struct pcase *p, int err)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (p->f[i].err == err || (p->f[i].kind == T_ZERO && err == EIO))
			return true;
	return false;
}

static bool may_end_early(const struct pcase *p)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (p->f[i].kind == T_ZERO)
			return true;
	return p->truncate;
}

static struct t_xrun *cut_run;
static size_t cut_at;

static void cut_src(void *arg)
{
	(void)arg;
	if (ftruncate(cut_run->src.fd, (off_t)cut_at) != 0)
		abort();
}

static void install(struct t_xrun *x, const struct pcase *p)
{
	int i, fd;

	t_fault_reset();
	if (p->truncate) {
		cut_run = x;
		cut_at = p->cut;
		t_fault_add_fn(t_sys_name(p->f[0].sys), p->f[0].nth, cut_src, NULL);
	}
	for (i = 0; i < p->n; i++) {
		const struct pfault *f = &p->f[i];

		fd = f->side == SRC ? x->src.fd : f->side == DST ? x->dst.fd : -1;
		t_fault_add_fd(t_sys_name(f->sys), f->nth, fd, f->kind, f->err);
	}
}

static void describe(char *buf, size_t size, uint32_t seed, unsigned int n, const struct pcase *p)
{
	static const char *const sides[] = { "", " on src", " on dst" };
	const struct t_xrun_cfg *c = &p->c;
	size_t len;
	int i;

	len = (size_t)snprintf(buf, size, "seed %u case %u: %s->%s size %zu from %zu to %zu%s len %zd flags %#x%s",
			       seed, n, t_kind_name(c->src), t_kind_name(c->dst), c->size,
			       c->src_start, c->dst_start, c->at ? " at" : "",
			       c->len == ZC_ALL ? (ssize_t)-1 : (ssize_t)c->len, c->flags,
			       p->truncate ? ", cut" : "");
	for (i = 0; i < p->n && len < size; i++) {
		const struct pfault *f = &p->f[i];

		len += (size_t)snprintf(buf + len, size - len, ", %s #%u%s %s", t_sys_name(f->sys),
					f->nth, sides[f->side],
					f->kind == T_FAIL ? zc__errno_name(f->err) :
					f->kind == T_SHORT ? "short" : "zero");
	}
}

static void one_case(uint32_t seed, unsigned int n)
{
	char ctx[400];
	struct zc_stats st;
	struct pcase p;
	struct t_xrun *x;
	uint64_t moved;
	size_t want;
	ssize_t r;
	int err;

	pick(&p);
	describe(ctx, sizeof(ctx), seed, n, &p);
	x = t_xrun_new(&p.c, pattern, ctx);
	want = t_xrun_want(x);
	if (p.truncate)
		x->intact = p.cut > p.c.src_start ? p.cut - p.c.src_start : 0;
	install(x, &p);
	r = t_xrun_go(x, p.c.len, &st);
	err = errno;
	t_xrun_check_stats(x, r, err, &st);
	moved = r > 0 ? (uint64_t)r : 0;
	t_expect(x, moved <= want);
	if (st.error && !may_end_with(&p, st.error))
		fail_msg("%s: ended with %s, which was never injected", ctx,
			 zc__errno_name(st.error));
	if (t_fault_fired() == 0)
		t_expect(x, moved == want && st.error == 0);
	if (moved < want && !st.error)
		t_expect(x, may_end_early(&p));
	t_xrun_end(x, moved, lossless(&p));
}

static void test_property(void **state)
{
	const char *s = getenv("T_SEED"), *c = getenv("T_CASES");
	uint32_t seed = s && *s ? (uint32_t)strtoul(s, NULL, 0) : (uint32_t)time(NULL);
	unsigned int cases = c && *c ? (unsigned int)strtoul(c, NULL, 0) : 2000, i;

	(void)state;
	print_message("seed %u, %u cases (T_SEED=%u to repeat)\n", seed, cases, seed);
	rng = seed ? seed : 1;
	for (i = 0; i < cases; i++)
		one_case(seed, i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_property),
	};
	unsigned char *p = t_pattern(MAX_SIZE, 5);
	int r;

	/* A feeder whose reader the library closed early must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	pattern = p;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	free(p);
	return r;
}
