// SPDX-License-Identifier: MIT
/*
 * Every failure the kernel can give, at every step of every path, for every
 * pair of endpoint kinds: a clean run records the calls the library makes,
 * then each call in turn fails with EINTR, EAGAIN, a fall-back errno, EPIPE,
 * ENOSPC or EIO, comes back 1 byte short or 0, or finds its source file
 * truncated. After each: the destination holds exactly the prefix of the
 * source that the return value and the stats report, both offsets agree
 * with it, nothing leaked, and where nothing was lost a retry delivers the
 * rest byte for byte.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "fault.h"
#include "helpers.h"
#include "internal.h"
#include "xrun.h"

#define ALL_OFF (ZC_NO_COPY_FILE_RANGE | ZC_NO_SPLICE | ZC_NO_SENDFILE | ZC_NO_MMAP)

/* Three bounce buffers' worth, so read_write takes several steps. */
#define SIZE (2 * ZC_RW_BUF_SIZE + 13)
/* Explicit offsets start off page alignment, to test mmap's window base. */
#define SRC_START 4099
#define DST_START 17

struct scen {
	enum t_kind src;
	enum t_kind dst;
	uint32_t path;		/* the one path allowed besides read_write, or NONE */
	unsigned int flags;
	bool at;		/* explicit offsets on the seekable ends */
	char name[64];
};

enum cls {
	C_COMPLETE,	/* everything arrives in this call, no error */
	C_TRANSIENT,	/* may stop early with err; nothing lost */
	C_FATAL,	/* may stop early with err */
	C_SHORTEN,	/* may stop early without an error (EOF came early) */
};

enum side { ANY, SRC, DST };

struct fault {
	enum t_sys sys;
	unsigned int nth;
	enum side side;
	enum t_fault_kind kind;
	int err;
};

struct fcase {
	struct fault f[2];
	int n;
	bool truncate;		/* cut the source file to half before f[0]'s call */
	enum cls cls;
	int err;		/* the errno the call may end with */
	bool lossless;		/* a retry must deliver the rest */
	char what[96];
};

static const unsigned char *pattern;

static struct t_xrun *scen_open(const struct scen *s, const char *ctx)
{
	struct t_xrun_cfg c = {
		.src = s->src, .dst = s->dst, .flags = s->flags, .at = s->at, .size = SIZE,
		.src_start = s->at ? SRC_START : 0, .dst_start = s->at ? DST_START : 0,
		.len = ZC_ALL,
	};

	return t_xrun_new(&c, pattern, ctx);
}

static void truncate_src(void *arg)
{
	const int *fd = arg;

	if (ftruncate(*fd, SIZE / 2) != 0)
		abort();
}

static void install(struct t_xrun *x, const struct fcase *c)
{
	int i, fd;

	t_fault_reset();
	if (c->truncate)
		t_fault_add_fn(t_sys_name(c->f[0].sys), c->f[0].nth, truncate_src, &x->src.fd);
	for (i = 0; i < c->n; i++) {
		const struct fault *f = &c->f[i];

		fd = f->side == SRC ? x->src.fd : f->side == DST ? x->dst.fd : -1;
		t_fault_add_fd(t_sys_name(f->sys), f->nth, fd, f->kind, f->err);
	}
}

/*
 * A path given up on a fall-back errno shows in the stats; F_SETPIPE_SZ and
 * sigmask failures are shrugged off without leaving any path.
 */
static bool fallback_noted(const struct fcase *c, const struct zc_stats *st)
{
	enum t_sys sys = c->f[c->n - 1].sys;
	uint32_t i;

	if (c->cls != C_COMPLETE || !c->err || sys == T_NR_fcntl || sys == T_NR_sigmask ||
	    t_fault_fired() < (unsigned int)c->n)
		return true;
	for (i = 0; i < st->nfallbacks; i++)
		if (st->fallback_errno[i] == c->err)
			return true;
	return false;
}

/* Faulted runs of the current scenario, for its summary line. */
static unsigned int nruns;

static void run_case(const struct scen *s, const struct fcase *c)
{
	char ctx[200];
	struct zc_stats st;
	struct t_xrun *x;
	uint64_t moved;
	ssize_t r;
	int err;

	nruns++;
	snprintf(ctx, sizeof(ctx), "%s, %s", s->name, c->what);
	x = scen_open(s, ctx);
	/*
	 * Bytes past the new end were in flight as the file shrank: sendfile and
	 * splice hand over page references, and mmap sees the zeroed tail of the
	 * last page. Only what lies before the cut must arrive intact.
	 */
	if (c->truncate)
		x->intact = SIZE / 2 - x->c.src_start;
	install(x, c);
	r = t_xrun_go(x, ZC_ALL, &st);
	err = errno;
	t_xrun_check_stats(x, r, err, &st);
	if (st.error && st.error != c->err)
		fail_msg("%s: ended with %s, expected %s", ctx, zc__errno_name(st.error),
			 c->err ? zc__errno_name(c->err) : "no error");
	moved = r > 0 ? (uint64_t)r : 0;
	t_expect(x, moved <= t_xrun_want(x));
	switch (c->cls) {
	case C_COMPLETE:
		t_expect(x, moved == t_xrun_want(x) && st.error == 0);
		t_expect(x, fallback_noted(c, &st));
		break;
	case C_TRANSIENT:
	case C_FATAL:
		t_expect(x, moved == t_xrun_want(x) || st.error == c->err);
		break;
	case C_SHORTEN:
		t_expect(x, st.error == 0);
		break;
	}
	t_xrun_end(x, moved, c->lossless);
}

static void add_fault(struct fcase *c, enum t_sys sys, unsigned int nth, enum side side,
		      enum t_fault_kind kind, int err)
{
	c->f[c->n++] = (struct fault){ sys, nth, side, kind, err };
}

static const char *kind_name(enum t_fault_kind k, int err)
{
	switch (k) {
	case T_FAIL:
		return zc__errno_name(err);
	case T_SHORT:
		return "1 byte";
	case T_ZERO:
		return "0";
	default:
		return "call";
	}
}

/* One fault on the nth call of sys (0: every call). */
static void one(const struct scen *s, enum t_sys sys, unsigned int nth, enum side side,
		enum t_fault_kind kind, int err, enum cls cls, bool lossless)
{
	struct fcase c = { .cls = cls, .lossless = lossless };

	/* write and splice to dst returning 0 is reported as EIO. */
	c.err = kind == T_FAIL ? err : kind == T_ZERO && cls == C_FATAL ? EIO : 0;

	add_fault(&c, sys, nth, side, kind, err);
	snprintf(c.what, sizeof(c.what), "%s #%u%s: %s", t_sys_name(sys), nth,
		 side == SRC ? " on src" : side == DST ? " on dst" : "", kind_name(kind, err));
	run_case(s, &c);
}

/* The nth call comes back 1 byte short, the next one fails: a mid-transfer fault. */
static void mid(const struct scen *s, enum t_sys short_sys, unsigned int short_nth,
		enum t_sys sys, unsigned int nth, int err, enum cls cls, bool lossless)
{
	struct fcase c = { .cls = cls, .err = err, .lossless = lossless };

	add_fault(&c, short_sys, short_nth, ANY, T_SHORT, 0);
	add_fault(&c, sys, nth, ANY, T_FAIL, err);
	snprintf(c.what, sizeof(c.what), "%s #%u: 1 byte, then %s #%u: %s", t_sys_name(short_sys),
		 short_nth, t_sys_name(sys), nth, zc__errno_name(err));
	run_case(s, &c);
}

static void truncated(const struct scen *s, enum t_sys sys, unsigned int nth)
{
	struct fcase c = { .cls = C_SHORTEN, .truncate = true };

	c.f[0] = (struct fault){ .sys = sys, .nth = nth };
	snprintf(c.what, sizeof(c.what), "source truncated before %s #%u", t_sys_name(sys), nth);
	run_case(s, &c);
}

static bool is_path_call(enum t_sys sys)
{
	return sys == T_NR_copy_file_range || sys == T_NR_splice || sys == T_NR_sendfile;
}

/* Errors that mean "not this way": the engine must move on and lose nothing. */
static const int fallback_errs[] = { ENOSYS, EINVAL, EXDEV, EOPNOTSUPP, EPERM };
#define NFALLBACK (sizeof(fallback_errs) / sizeof(fallback_errs[0]))

static void data_step(const struct scen *s, const struct t_call *c, int src_fd, int dst_fd)
{
	bool sk = t_seekable(s->src), on_src = c->in == src_fd, on_dst = c->out == dst_fd;
	unsigned int i;

	one(s, c->sys, c->nth, ANY, T_FAIL, EINTR, C_TRANSIENT, true);
	one(s, c->sys, c->nth, ANY, T_SHORT, 0, C_COMPLETE, true);
	/* 0 from a call that reads the source is an early EOF, else an error. */
	if (on_src || !on_dst)
		one(s, c->sys, c->nth, ANY, T_ZERO, 0, C_SHORTEN, true);
	else
		one(s, c->sys, c->nth, ANY, T_ZERO, 0, C_FATAL, sk);
	if (on_src && !on_dst) {
		one(s, c->sys, c->nth, SRC, T_FAIL, EAGAIN, C_TRANSIENT, true);
		one(s, c->sys, c->nth, SRC, T_FAIL, EIO, C_FATAL, true);
	}
	if (on_dst) {
		one(s, c->sys, c->nth, DST, T_FAIL, EAGAIN, C_TRANSIENT, true);
		one(s, c->sys, c->nth, DST, T_FAIL, EPIPE, C_FATAL, sk);
		one(s, c->sys, c->nth, DST, T_FAIL, ENOSPC, C_FATAL, sk);
		one(s, c->sys, c->nth, DST, T_FAIL, EIO, C_FATAL, sk);
	}
	if (is_path_call(c->sys)) {
		for (i = 0; i < NFALLBACK; i++) {
			one(s, c->sys, c->nth, ANY, T_FAIL, fallback_errs[i], C_COMPLETE, true);
			mid(s, c->sys, c->nth, c->sys, c->nth + 1, fallback_errs[i], C_COMPLETE,
			    true);
		}
	}
	/* Writing from a mapping of a file that shrank: EFAULT ends it early. */
	if (s->path == ZC_PATH_MMAP_WRITE && (c->sys == T_NR_write || c->sys == T_NR_pwrite))
		one(s, c->sys, c->nth, ANY, T_FAIL, EFAULT, C_SHORTEN, true);
	if (sk)
		truncated(s, c->sys, c->nth);
}

static void other_step(const struct scen *s, const struct t_call *c, int dst_fd)
{
	switch (c->sys) {
	case T_NR_mmap:
		one(s, c->sys, c->nth, ANY, T_FAIL, ENOMEM, C_COMPLETE, true);
		one(s, c->sys, c->nth, ANY, T_FAIL, ENODEV, C_COMPLETE, true);
		one(s, c->sys, c->nth, ANY, T_FAIL, EACCES, C_COMPLETE, true);
		one(s, c->sys, c->nth, ANY, T_FAIL, EPERM, C_COMPLETE, true);
		/* The second window fails after the first one moved a byte. */
		mid(s, s->at && t_seekable(s->dst) ? T_NR_pwrite : T_NR_write, 1, c->sys,
		    c->nth + 1, ENODEV, C_COMPLETE, true);
		truncated(s, c->sys, c->nth);
		break;
	case T_NR_pipe2:
		/* No pooled pipe: splice gives way to a path that needs none. */
		one(s, c->sys, 0, ANY, T_FAIL, EMFILE, C_COMPLETE, true);
		one(s, c->sys, 0, ANY, T_FAIL, ENFILE, C_COMPLETE, true);
		break;
	case T_NR_fcntl:
		/*
		 * On the destination it is F_GETFL, checking an explicit offset
		 * against O_APPEND: without the answer the call cannot go on.
		 */
		if (c->in == dst_fd) {
			one(s, c->sys, c->nth, ANY, T_FAIL, EIO, C_FATAL, true);
			break;
		}
		/* On the pooled pipe, F_[GS]ETPIPE_SZ refused: it works at its default size. */
		one(s, c->sys, c->nth, ANY, T_FAIL, EPERM, C_COMPLETE, true);
		one(s, c->sys, c->nth, ANY, T_FAIL, EBUSY, C_COMPLETE, true);
		break;
	case T_NR_fstat:
		one(s, c->sys, c->nth, ANY, T_FAIL, EIO, C_FATAL, true);
		break;
	case T_NR_sigmask:
		one(s, c->sys, 0, ANY, T_FAIL, EINVAL, C_COMPLETE, true);
		break;
	default:
		break;
	}
}

/* Run the scenario clean, then fault each call it made in turn. */
static void scenario(const struct scen *s)
{
	struct t_call calls[T_TRACE_MAX];
	const struct t_call *tr;
	char ctx[100];
	struct zc_stats st;
	struct t_xrun *x;
	size_t n, i;
	int src_fd, dst_fd;
	ssize_t r;

	snprintf(ctx, sizeof(ctx), "%s, no fault", s->name);
	x = scen_open(s, ctx);
	t_fault_reset();
	r = t_xrun_go(x, ZC_ALL, &st);
	t_xrun_check_stats(x, r, errno, &st);
	t_expect(x, r == (ssize_t)t_xrun_want(x));
	n = t_fault_trace(&tr);
	memcpy(calls, tr, n * sizeof(*tr));
	src_fd = x->src.fd;
	dst_fd = x->dst.fd;
	t_xrun_end(x, (uint64_t)r, false);

	/* The fds of a fresh run are the same numbers: the same calls use them. */
	nruns = 0;
	for (i = 0; i < n; i++) {
		if (t_moves_data(calls[i].sys))
			data_step(s, &calls[i], src_fd, dst_fd);
		else if (calls[i].nth == 1 || calls[i].sys == T_NR_mmap)
			other_step(s, &calls[i], dst_fd);
	}
	print_message("%s: %zu calls, %u faulted runs\n", s->name, n, nruns);
}

static void test_scenario(void **state)
{
	scenario(*state);
}

static void scen_name(struct scen *s)
{
	snprintf(s->name, sizeof(s->name), "%s->%s %s%s", t_kind_name(s->src),
		 t_kind_name(s->dst), s->path ? zc_path_name(s->path) : "auto",
		 s->at ? " at" : "");
}

/*
 * Mid-transfer fallback, seen from the stats and the ZCOPY_DEBUG line:
 * splice moves one byte, then the kernel refuses splice and read_write
 * carries the rest.
 */
static void test_mid_fallback_stats(void **state)
{
	struct scen s = { T_FILE, T_TCP, ZC_PATH_SPLICE, ALL_OFF & ~ZC_NO_SPLICE, false, "" };
	char line[512] = "";
	struct zc_stats st;
	struct t_xrun *x;
	int err_fd, saved;
	ssize_t r, n;

	(void)state;
	scen_name(&s);
	x = scen_open(&s, s.name);
	t_fault_reset();
	t_fault_add("splice", 1, T_SHORT, 0);
	t_fault_add("splice", 3, T_FAIL, EINVAL);

	err_fd = t_file_empty(0);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(err_fd, STDERR_FILENO), STDERR_FILENO);
	zc__debug = 1;
	r = t_xrun_go(x, ZC_ALL, &st);
	zc__debug = 0;
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);

	assert_int_equal(r, SIZE);
	assert_int_equal(st.error, 0);
	assert_int_equal(st.npaths, 2);
	assert_int_equal(st.paths[0], ZC_PATH_SPLICE);
	assert_int_equal(st.paths[1], ZC_PATH_READ_WRITE);
	assert_int_equal(st.nfallbacks, 1);
	assert_int_equal(st.fallback_path[0], ZC_PATH_SPLICE);
	assert_int_equal(st.fallback_errno[0], EINVAL);
	n = pread(err_fd, line, sizeof(line) - 1, 0);
	assert_true(n > 0);
	close(err_fd);
	if (!strstr(line, " path=splice,read_write fallback=splice:EINVAL "))
		fail_msg("debug line: %s", line);
	t_fault_reset();
	t_xrun_end(x, SIZE, false);
}

/* No pooled pipe to be had: socket to socket still arrives whole, by read/write. */
static void test_emfile(void **state)
{
	struct scen s = { T_UNIX, T_TCP, ZC_PATH_NONE, 0, false, "" };
	struct zc_stats st;
	struct t_xrun *x;

	(void)state;
	scen_name(&s);
	x = scen_open(&s, s.name);
	t_fault_reset();
	t_fault_add("pipe2", 0, T_FAIL, EMFILE);
	assert_int_equal(t_xrun_go(x, ZC_ALL, &st), SIZE);
	assert_int_equal(t_fault_fired(), 1);
	assert_int_equal(st.npaths, 1);
	assert_int_equal(st.path, ZC_PATH_READ_WRITE);
	assert_int_equal(st.fallback_path[0], ZC_PATH_SPLICE);
	assert_int_equal(st.fallback_errno[0], EMFILE);
	t_xrun_end(x, SIZE, false);
}

/*
 * EIO from a call that reads and writes at once (a straight splice) is the
 * source's when reading the source fails too, else the destination's; the
 * steps that read and write apart say which failed.
 */
static void test_error_side_eio(void **state)
{
	static const struct {
		const char *sys;
		unsigned int flags;
		bool probe_fails;
		uint32_t side;
	} cases[] = {
		{ "splice", ALL_OFF & ~ZC_NO_SPLICE, false, ZC_SIDE_DST },
		{ "splice", ALL_OFF & ~ZC_NO_SPLICE, true, ZC_SIDE_SRC },
		{ "read", ALL_OFF, false, ZC_SIDE_SRC },
		{ "write", ALL_OFF, false, ZC_SIDE_DST },
		{ "mmap", ALL_OFF & ~ZC_NO_MMAP, false, ZC_SIDE_SRC },
	};
	struct zc_stats st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int src = t_file_with(pattern, SIZE), p[2];

		assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
		t_fault_reset();
		t_fault_add(cases[i].sys, 1, T_FAIL, EIO);
		if (cases[i].probe_fails)
			t_fault_add("pread", 1, T_FAIL, EIO);
		assert_int_equal(zc_transfer_ex(src, p[1], 4096, cases[i].flags, &st), -1);
		assert_int_equal(errno, EIO);
		if (st.error_side != cases[i].side)
			fail_msg("case %zu (%s): side %u", i, cases[i].sys, st.error_side);
		t_fault_reset();
		close(src);
		close(p[0]);
		close(p[1]);
	}
}

/*
 * Every wrapper in lib/syscalls.h goes through the seam in this link (the
 * --wrap list meson makes from the same file), and a fault on one fires.
 */
static void test_seam_complete(void **state)
{
	const char *missing = t_seam_unwrapped();

	(void)state;
	if (missing)
		fail_msg("zc__sys_%s is not routed through tests/fault.c", missing);
	t_fault_reset();
	t_fault_add("ioctl", 0, T_FAIL, ENOTRECOVERABLE);
	assert_int_equal(zc__sys_ioctl(-1, 0, NULL), -ENOTRECOVERABLE);
	assert_int_equal(t_fault_fired(), 1);
	assert_int_equal(t_fault_calls(T_NR_ioctl), 1);
	t_fault_reset();
}

/* Each path on its own (read_write always stays), as in test-pairs. */
static const struct {
	uint32_t path;
	unsigned int flags;
} forced[] = {
	{ ZC_PATH_NONE, 0 },
	{ ZC_PATH_COPY_FILE_RANGE, ALL_OFF & ~ZC_NO_COPY_FILE_RANGE },
	{ ZC_PATH_SPLICE, ALL_OFF & ~ZC_NO_SPLICE },
	{ ZC_PATH_SENDFILE, ALL_OFF & ~ZC_NO_SENDFILE },
	{ ZC_PATH_MMAP_WRITE, ALL_OFF & ~ZC_NO_MMAP },
	{ ZC_PATH_READ_WRITE, ALL_OFF },
};
#define NFORCED (sizeof(forced) / sizeof(forced[0]))

/* Whether forcing path gives a run of its own, not just read_write again. */
static bool applies(uint32_t path, enum t_kind src, enum t_kind dst)
{
	switch (path) {
	case ZC_PATH_COPY_FILE_RANGE:
		return t_seekable(src) && t_seekable(dst);
	case ZC_PATH_SENDFILE:
	case ZC_PATH_MMAP_WRITE:
		return t_seekable(src);
	}
	return true;
}

int main(void)
{
	static const enum t_kind srcs[] = { T_FILE, T_MEMFD, T_PIPE, T_TCP, T_UNIX };
	static const enum t_kind dsts[] = { T_FILE, T_MEMFD, T_PIPE, T_TCP, T_UNIX, T_NULL };
	static struct scen scens[2 * 5 * 6 * NFORCED];
	static struct CMUnitTest tests[2 * 5 * 6 * NFORCED + 4];
	size_t i, j, f, n = 0, t = 0;
	int at, r;

	/* A feeder whose reader the library closed early must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	pattern = t_pattern(SIZE, 4);
	tests[t++] = (struct CMUnitTest){ "seam covers syscalls.h", test_seam_complete, NULL, NULL, NULL };
	tests[t++] = (struct CMUnitTest){ "mid-transfer fallback stats", test_mid_fallback_stats,
					  NULL, NULL, NULL };
	tests[t++] = (struct CMUnitTest){ "EMFILE", test_emfile, NULL, NULL, NULL };
	tests[t++] = (struct CMUnitTest){ "EIO: whose fd", test_error_side_eio, NULL, NULL, NULL };
	for (at = 0; at < 2; at++) {
		for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
			for (j = 0; j < sizeof(dsts) / sizeof(dsts[0]); j++) {
				for (f = 0; f < NFORCED; f++) {
					struct scen *s = &scens[n];

					if (!applies(forced[f].path, srcs[i], dsts[j]))
						continue;
					if (at && !t_seekable(srcs[i]) && !t_seekable(dsts[j]))
						continue;
					*s = (struct scen){ srcs[i], dsts[j], forced[f].path,
							    forced[f].flags, at, "" };
					scen_name(s);
					tests[t++] = (struct CMUnitTest){ s->name, test_scenario,
									  NULL, NULL, s };
					n++;
				}
			}
		}
	}
	r = _cmocka_run_group_tests("faults", tests, t, NULL, NULL);
	free((void *)pattern);
	return r;
}
