// SPDX-License-Identifier: MIT
/*
 * The benchmark suite: for every fd pair and size, zc_transfer's own
 * choice, each path forced by flags, the raw syscalls a caller who knows
 * the pair would make, and a plain read/write loop.
 *
 * Cells are interleaved: every repetition runs each cell once, in an order
 * shuffled anew, so noise from the rest of the machine falls on all of them
 * alike. The first round checks the bytes (and which path moved them) and
 * is not timed.
 *
 * Usage: bench [--smoke] [--big MiB] [--reps N] [--out DIR] [--dir DIR]
 *              [--pairs a,b] [--methods a,b] [--sizes 4K,64K,1M,big] [--budget s]
 *              [--plain-peers]
 *        bench --cat [FILE]   zc_transfer FILE (or stdin) to stdout
 *        bench --drain        stdin to /dev/null by splice; prints the count
 * The environment can say the same: ZC_BENCH_SMOKE=1, ZC_BENCH_BIG_MIB,
 * ZC_BENCH_REPS, ZC_BENCH_OUT, ZC_BENCH_DIR, ZC_BENCH_PAIRS, ZC_BENCH_METHODS,
 * ZC_BENCH_SIZES, ZC_BENCH_BUDGET.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define NO_ALL (ZC_NO_COPY_FILE_RANGE | ZC_NO_SPLICE | ZC_NO_SENDFILE | ZC_NO_MMAP)
#define ONLY(f) (NO_ALL & ~(f))
#define LOOP_BUF (128u * 1024)
#define RAW_PIPE B_MIB
#define RAW_MAX_CHUNK (64u * 1024)

static const struct b_pair pairs[] = {
	{ "file->file", B_FILE, B_FILE, false, B_RAW_CFR },
	{ "file->null", B_FILE, B_NULL, false, B_RAW_SENDFILE },
	{ "file->pipe", B_FILE, B_PIPE, true, B_RAW_SPLICE },
	{ "file->tcp", B_FILE, B_TCP, true, B_RAW_SENDFILE },
	{ "file->unix", B_FILE, B_UNIX, false, B_RAW_SENDFILE },
	{ "pipe->file", B_PIPE, B_FILE, false, B_RAW_SPLICE },
	{ "tcp->file", B_TCP, B_FILE, true, B_RAW_VIA_PIPE },
	{ "tcp->tcp", B_TCP, B_TCP, true, B_RAW_VIA_PIPE },
	{ "pipe->pipe", B_PIPE, B_PIPE, true, B_RAW_SPLICE },
	{ "region->socket", B_REGION, B_TCP, false, B_RAW_SENDFILE },
	{ "load->socket", B_LOAD, B_TCP, false, B_RAW_SENDFILE },
};

static const struct b_method methods[] = {
	{ "auto", B_OP_ZC, 0, ZC_PATH_NONE, false },
	{ "auto+grow", B_OP_ZC, ZC_GROW_PIPES, ZC_PATH_NONE, false },
	{ "auto+noguard", B_OP_ZC, ZC_NO_SIGPIPE_GUARD, ZC_PATH_NONE, false },
	{ "copy_file_range", B_OP_ZC, ONLY(ZC_NO_COPY_FILE_RANGE), ZC_PATH_COPY_FILE_RANGE,
	  false },
	{ "splice", B_OP_ZC, ONLY(ZC_NO_SPLICE), ZC_PATH_SPLICE, false },
	{ "sendfile", B_OP_ZC, ONLY(ZC_NO_SENDFILE), ZC_PATH_SENDFILE, false },
	{ "mmap_write", B_OP_ZC, ONLY(ZC_NO_MMAP), ZC_PATH_MMAP_WRITE, false },
	{ "read_write", B_OP_ZC, NO_ALL, ZC_PATH_READ_WRITE, false },
	{ "raw", B_OP_RAW, 0, ZC_PATH_NONE, false },
	{ "raw+sigmask", B_OP_RAW, 0, ZC_PATH_NONE, true },
	{ "rw-loop", B_OP_LOOP, 0, ZC_PATH_NONE, false },
};

#define NPAIRS (sizeof(pairs) / sizeof(pairs[0]))
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

struct opts {
	struct b_common c;
	const char *methods;
	const char *sizes;
	double budget;
	bool plain_peers;
};

/* The source file every run reads, page-cached, and its prefix checksums. */
struct source {
	int fd;
	char path[64];
	uint64_t len;
	uint64_t sums[4];
	struct zc_region reg;	/* the same bytes in a memfd, for region->socket */
	char reg_path[64];
	struct zc_region load;	/* the file itself loaded, for load->socket */
	char load_path[64];
};

/* One run of one cell: what the moving side holds. */
struct run {
	const struct b_pair *pair;
	const struct b_method *m;
	int src;
	int dst;
	const struct zc_region *reg;	/* region source, or NULL */
	uint64_t off;		/* region source: next byte to send */
	char *buf;
	int pipe[2];
	sigset_t sigpipe;
	uint64_t syscalls;
	uint32_t path;
	bool mixed;
	bool fell_back;
};

static void note_stats(struct run *r, const struct zc_stats *st)
{
	uint32_t i;

	r->syscalls += st->syscalls;
	if (st->nfallbacks)
		r->fell_back = true;
	for (i = 0; i < st->npaths; i++) {
		if (!r->path)
			r->path = st->paths[i];
		else if (r->path != st->paths[i])
			r->mixed = true;
	}
}

static ssize_t op_zc(struct run *r, size_t len)
{
	struct zc_stats st;
	ssize_t n;

	if (r->reg)
		n = zc_region_transfer(r->reg, r->off, len, r->dst, NULL, r->m->flags, &st);
	else
		n = zc_transfer_ex(r->src, r->dst, len, r->m->flags, &st);
	note_stats(r, &st);
	if (n > 0)
		r->off += (uint64_t)n;
	return n;
}

/* The plain way to send memory: write() straight from the mapping. */
static ssize_t op_loop_region(struct run *r, size_t len)
{
	const char *p = (const char *)r->reg->addr + r->off;
	size_t done = 0, n;

	while (done < len) {
		n = len - done < LOOP_BUF ? len - done : LOOP_BUF;
		r->syscalls++;
		if (b_write_all(r->dst, p + done, n) < 0)
			return done ? (ssize_t)done : -1;
		done += n;
	}
	r->off += done;
	return (ssize_t)done;
}

static ssize_t op_loop(struct run *r, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(r->src, r->buf, len - done < LOOP_BUF ? len - done : LOOP_BUF);
		r->syscalls++;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (ssize_t)done : n;
		r->syscalls++;
		if (b_write_all(r->dst, r->buf, (size_t)n) < 0)
			return -1;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* Empty the raw pipe into dst. */
static int raw_drain(struct run *r, size_t n)
{
	ssize_t w;

	while (n) {
		w = splice(r->pipe[0], NULL, r->dst, NULL, n, SPLICE_F_MOVE);
		r->syscalls++;
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t raw_step(struct run *r, size_t len)
{
	ssize_t n;

	r->syscalls++;
	switch (r->pair->raw) {
	case B_RAW_CFR:
		return copy_file_range(r->src, NULL, r->dst, NULL, len, 0);
	case B_RAW_SENDFILE:
		return sendfile(r->dst, r->src, NULL, len);
	case B_RAW_SPLICE:
		return splice(r->src, NULL, r->dst, NULL, len, SPLICE_F_MOVE);
	case B_RAW_VIA_PIPE:
		n = splice(r->src, NULL, r->pipe[1], NULL, len < RAW_PIPE ? len : RAW_PIPE,
			   SPLICE_F_MOVE);
		if (n > 0 && raw_drain(r, (size_t)n) < 0)
			return -1;
		return n;
	}
	return -1;
}

/* The least a call that detects the fd types must do: fstat both, then move. */
static ssize_t op_raw(struct run *r, size_t len)
{
	struct stat a, b;
	sigset_t old;
	size_t done = 0;
	ssize_t n = 0;

	fstat(r->src, &a);
	fstat(r->dst, &b);
	r->syscalls += 2;
	if (r->m->sigmask) {
		pthread_sigmask(SIG_BLOCK, &r->sigpipe, &old);
		r->syscalls += 2;
	}
	while (done < len) {
		n = raw_step(r, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (r->m->sigmask)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	return done ? (ssize_t)done : n;
}

static ssize_t op(struct run *r, size_t len)
{
	if (r->m->op == B_OP_ZC)
		return op_zc(r, len);
	if (r->m->op == B_OP_RAW)
		return op_raw(r, len);
	if (r->reg)
		return op_loop_region(r, len);
	return op_loop(r, len);
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(err));
	exit(1);
}

static int run_prepare(struct run *r, const struct b_suite *b, const struct b_cell *c)
{
	memset(r, 0, sizeof(*r));
	r->pair = &b->pairs[c->pair];
	r->m = &b->methods[c->method];
	r->pipe[0] = r->pipe[1] = -1;
	sigemptyset(&r->sigpipe);
	sigaddset(&r->sigpipe, SIGPIPE);
	if (r->m->op == B_OP_LOOP && !(r->buf = malloc(LOOP_BUF)))
		return -ENOMEM;
	if (r->m->op == B_OP_RAW && r->pair->raw == B_RAW_VIA_PIPE) {
		if (pipe2(r->pipe, O_CLOEXEC) < 0)
			return -errno;
		fcntl(r->pipe[1], F_SETPIPE_SZ, RAW_PIPE);
	}
	return 0;
}

static void run_release(struct run *r)
{
	free(r->buf);
	if (r->pipe[0] >= 0) {
		close(r->pipe[0]);
		close(r->pipe[1]);
	}
}

/* Move the cell's bytes, chunk by chunk. Returns the bytes moved. */
static uint64_t run_calls(struct run *r, const struct b_size *sz, int *err)
{
	uint64_t done = 0, total = sz->chunk * sz->calls, want;
	ssize_t n;

	*err = 0;
	while (done < total) {
		want = total - done < sz->chunk ? total - done : sz->chunk;
		n = op(r, (size_t)want);
		if (n <= 0) {
			*err = n ? errno : EIO;
			break;
		}
		done += (uint64_t)n;
	}
	return done;
}

static void cell_fail(struct b_cell *c, const char *why, int err)
{
	c->state = B_FAILED;
	snprintf(c->note, sizeof(c->note), "%s%s%s", why, err ? ": " : "",
		 err ? strerror(err) : "");
}

/* The checked round: right bytes, and the forced path really moved them. */
static void cell_check(struct b_cell *c, const struct run *r, const struct b_end *dst,
		       uint64_t moved, uint64_t expect, uint64_t total)
{
	uint64_t got = 0;

	c->path = r->path;
	c->mixed = r->mixed;
	if (moved != total) {
		cell_fail(c, "short transfer", 0);
		return;
	}
	if (r->m->path && (r->path != r->m->path || r->mixed || r->fell_back)) {
		c->state = B_NA;
		snprintf(c->note, sizeof(c->note), "falls back to %s",
			 zc_path_name(r->path) ? zc_path_name(r->path) : "?");
		return;
	}
	if (dst->kind == B_NULL) {
		c->verified = "count";
		return;
	}
	c->verified = "checksum";
	if (dst->kind == B_FILE) {
		if (b_file_sum(dst->fd, total, &got) < 0)
			got = ~expect;
	} else {
		got = dst->len == total ? b_sum_final(&dst->sum) : ~expect;
	}
	if (got != expect)
		cell_fail(c, "bytes differ", 0);
}

static int ends_open(const struct b_suite *b, const struct source *src, const struct run *r,
		     struct b_end *in, struct b_end *out, uint64_t total)
{
	const char *path = r->pair->src == B_REGION ? src->reg_path :
			   r->pair->src == B_LOAD ? src->load_path : src->path;
	int e = b_src_open(in, r->pair->src, path, src->fd, total);

	if (e < 0)
		return e;
	e = b_sink_open(out, r->pair->dst, b->dir);
	if (e < 0) {
		b_end_finish(in);
		return e;
	}
	in->plain = out->plain = b->plain_peers;
	return 0;
}

/*
 * One run of a cell; the first one (check) verifies instead of being timed.
 * CPU time comes from the thread and process CPU clocks: the same figures
 * as getrusage(RUSAGE_THREAD / RUSAGE_SELF), but to the nanosecond rather
 * than the tick, which matters for runs of a few milliseconds.
 */
static void cell_run(struct b_suite *b, const struct source *src, struct b_cell *c,
		     bool check)
{
	const struct b_size *sz = &b->sizes[c->size];
	uint64_t total = sz->chunk * sz->calls, moved;
	struct b_end in, out;
	pthread_barrier_t gate;
	struct run r;
	double t0, t1, c0, c1, m0, m1;
	int err, threads;

	err = run_prepare(&r, b, c);
	if (err == 0)
		err = ends_open(b, src, &r, &in, &out, total);
	if (err < 0) {
		run_release(&r);
		cell_fail(c, "setup", -err);
		return;
	}
	r.src = in.fd;
	r.dst = out.fd;
	if (r.pair->src == B_REGION)
		r.reg = &src->reg;
	else if (r.pair->src == B_LOAD)
		r.reg = &src->load;
	out.verify = check;
	threads = in.has_thread + out.has_thread;
	pthread_barrier_init(&gate, NULL, (unsigned int)threads + 1);
	if (b_end_start(&in, &gate) < 0 || b_end_start(&out, &gate) < 0)
		die("pthread_create", EAGAIN);

	t0 = b_now(CLOCK_MONOTONIC);
	c0 = b_now(CLOCK_PROCESS_CPUTIME_ID);
	m0 = b_now(CLOCK_THREAD_CPUTIME_ID);
	pthread_barrier_wait(&gate);
	moved = run_calls(&r, sz, &err);
	m1 = b_now(CLOCK_THREAD_CPUTIME_ID);
	if (b_is_stream(out.kind))
		b_end_finish(&out);
	b_end_finish(&in);
	t1 = b_now(CLOCK_MONOTONIC);
	c1 = b_now(CLOCK_PROCESS_CPUTIME_ID);
	pthread_barrier_destroy(&gate);
	if (!err && b_is_stream(out.kind) && out.len != total)
		err = out.err ? out.err : EIO;
	if (!err && in.err)
		err = in.err;

	if (err) {
		cell_fail(c, "transfer", err);
	} else if (check) {
		cell_check(c, &r, &out, moved, src->sums[c->size], total);
	} else if (c->n < B_REPS_MAX) {
		struct b_sample *s = &c->s[c->n++];

		s->gbps = (double)total / 1e9 / (t1 - t0);
		s->cpu_main = (m1 - m0) / ((double)total / 1e9);
		s->cpu_all = (c1 - c0) / ((double)total / 1e9);
		s->sys_gib = (double)r.syscalls * (double)(1u << 30) / (double)total;
		s->ns_call = (t1 - t0) * 1e9 / (double)sz->calls;
	}
	b_end_finish(&out);
	run_release(&r);
}

static bool has_pipe(const struct b_pair *p)
{
	return p->src == B_PIPE || p->dst == B_PIPE;
}

/* Methods that cannot apply to a pair are not even tried. */
static bool applies(const struct b_pair *p, const struct b_method *m,
		    const struct b_size *sz)
{
	/* The per-call floor and the guard only matter where calls are cheap. */
	if (m->op == B_OP_RAW || (m->flags & ZC_NO_SIGPIPE_GUARD))
		return sz->chunk <= RAW_MAX_CHUNK;
	if (m->flags & ZC_GROW_PIPES)
		return has_pipe(p);
	switch (m->path) {
	case ZC_PATH_COPY_FILE_RANGE:
		return p->src == B_FILE && p->dst == B_FILE;
	case ZC_PATH_SENDFILE:
	case ZC_PATH_MMAP_WRITE:
		return p->src == B_FILE || p->src == B_REGION || p->src == B_LOAD;
	}
	return true;
}

/* Names --sizes takes, in the order of sizes_make(). */
static const char *const size_names[] = { "4K", "64K", "1M", "big" };

static void cells_make(struct b_suite *b, const struct opts *o)
{
	unsigned int p, s, m;

	b->cells = calloc(b->npairs * b->nsizes * b->nmethods, sizeof(*b->cells));
	if (!b->cells)
		die("calloc", ENOMEM);
	for (s = 0; s < b->nsizes; s++)
		for (p = 0; p < b->npairs; p++)
			for (m = 0; m < b->nmethods; m++) {
				struct b_cell *c = &b->cells[b->ncells];

				if (!b_in_list(o->c.pairs, b->pairs[p].name) ||
				    !b_in_list(o->methods, b->methods[m].name) ||
				    !b_in_list(o->sizes, size_names[s]) ||
				    !applies(&b->pairs[p], &b->methods[m], &b->sizes[s]))
					continue;
				c->pair = p;
				c->size = s;
				c->method = m;
				b->ncells++;
			}
}

static void source_make(struct source *src, const struct b_suite *b)
{
	struct b_sum sum;
	uint64_t done = 0, end;
	char *buf = malloc(B_MIB);
	unsigned int i;
	ssize_t n;

	src->len = 0;
	for (i = 0; i < b->nsizes; i++)
		if (b->sizes[i].chunk * b->sizes[i].calls > src->len)
			src->len = b->sizes[i].chunk * b->sizes[i].calls;
	src->fd = open(b->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (src->fd < 0)
		die(b->dir, errno);
	if (!buf || b_fill(src->fd, src->len) < 0 || fdatasync(src->fd) < 0)
		die("writing the source file", errno);
	snprintf(src->path, sizeof(src->path), "/proc/self/fd/%d", src->fd);

	/* Read it once: every run then finds it in the page cache. */
	b_sum_init(&sum);
	while (done < src->len) {
		n = pread(src->fd, buf, B_MIB, (off_t)done);
		if (n <= 0)
			die("reading the source file", n ? errno : EIO);
		for (i = 0; i < b->nsizes; i++) {
			struct b_sum part = sum;

			end = b->sizes[i].chunk * b->sizes[i].calls;
			if (done >= end || done + (uint64_t)n < end)
				continue;
			b_sum_add(&part, buf, (size_t)(end - done));
			src->sums[i] = b_sum_final(&part);
		}
		b_sum_add(&sum, buf, (size_t)n);
		done += (uint64_t)n;
	}
	free(buf);
}

static bool measures(const struct b_suite *b, enum b_kind src)
{
	unsigned int i;

	for (i = 0; i < b->ncells; i++)
		if (b->pairs[b->cells[i].pair].src == src)
			return true;
	return false;
}

/* The source's bytes as regions, made only when a region pair is measured. */
static void region_make(struct source *src, const struct b_suite *b)
{
	uint64_t done = 0;
	ssize_t n;

	memset(&src->reg, 0, sizeof(src->reg));
	memset(&src->load, 0, sizeof(src->load));
	src->reg.fd = src->reg.shmid = src->load.fd = src->load.shmid = -1;
	if (measures(b, B_LOAD)) {
		if (zc_region_load_fd(&src->load, src->fd, 0) < 0)
			die("zc_region_load_fd", errno);
		snprintf(src->load_path, sizeof(src->load_path), "/proc/self/fd/%d",
			 src->load.fd);
	}
	if (!measures(b, B_REGION))
		return;
	if (zc_region_memfd(&src->reg, "bench", src->len, 0) < 0)
		die("zc_region_memfd", errno);
	while (done < src->len) {
		n = pread(src->fd, (char *)src->reg.addr + done, src->len - done, (off_t)done);
		if (n <= 0)
			die("filling the region", n ? errno : EIO);
		done += (uint64_t)n;
	}
	snprintf(src->reg_path, sizeof(src->reg_path), "/proc/self/fd/%d", src->reg.fd);
}

/* What blocking SIGPIPE and restoring the mask costs, per call. */
static double sigmask_cost(void)
{
	sigset_t set, old;
	unsigned int i, n = 200000;
	double t0;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	t0 = b_now(CLOCK_MONOTONIC);
	for (i = 0; i < n; i++) {
		pthread_sigmask(SIG_BLOCK, &set, &old);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	return (b_now(CLOCK_MONOTONIC) - t0) * 1e9 / n;
}

/*
 * Repetitions stop early when the next one would overrun the time budget,
 * so a busy machine makes the run less precise rather than longer; three
 * are always made, for a median.
 */
static void suite_run(struct b_suite *b, const struct source *src, double budget)
{
	double t0 = b_now(CLOCK_MONOTONIC), last = t0, t;
	unsigned int i, rep, *order = malloc(b->ncells * sizeof(*order));

	if (!order)
		die("malloc", ENOMEM);
	for (i = 0; i < b->ncells; i++) {
		order[i] = i;
		cell_run(b, src, &b->cells[i], true);
	}
	fprintf(stderr, "bench: checked %u cells in %.1f s\n", b->ncells,
		b_now(CLOCK_MONOTONIC) - t0);
	for (rep = 0; rep < b->reps; rep++) {
		b_shuffle(order, b->ncells, rep + 1);
		for (i = 0; i < b->ncells; i++)
			if (b->cells[order[i]].state == B_TODO)
				cell_run(b, src, &b->cells[order[i]], false);
		t = b_now(CLOCK_MONOTONIC);
		fprintf(stderr, "bench: repetition %u/%u done at %.1f s\n", rep + 1, b->reps,
			t - t0);
		if (rep + 1 >= 3 && rep + 1 < b->reps && 2 * t - last - t0 > budget) {
			fprintf(stderr, "bench: %u repetitions: over the %.0f s budget\n",
				rep + 1, budget);
			b->reps = rep + 1;
		}
		last = t;
	}
	free(order);
	for (i = 0; i < b->ncells; i++)
		if (b->cells[i].state == B_TODO)
			b->cells[i].state = B_DONE;
}

/* bench --cat [FILE]: FILE or stdin to stdout with zc_transfer, for peers.sh. */
static int cat_main(const char *path)
{
	int in = path ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	ssize_t n;

	if (in < 0)
		die(path, errno);
	do
		n = zc_transfer(in, 1, ZC_ALL, 0);
	while (n > 0);
	if (n < 0)
		die("zc_transfer", errno);
	return 0;
}

/* bench --drain: stdin to /dev/null as the suite's drainers do; prints the count. */
static int drain_main(void)
{
	struct stat st = { 0 };
	enum b_kind k = B_FILE;
	uint64_t len;
	int r;

	if (fstat(0, &st) == 0 && S_ISFIFO(st.st_mode))
		k = B_PIPE;
	else if (S_ISSOCK(st.st_mode))
		k = B_TCP;
	r = b_drain(0, k, &len);
	if (r < 0)
		die("drain", -r);
	printf("%llu\n", (unsigned long long)len);
	return 0;
}

static void usage(void)
{
	fputs("usage: bench [--smoke] [--big MiB] [--reps N] [--out DIR] [--dir DIR]\n"
	      "             [--pairs a,b] [--methods a,b] [--sizes 4K,64K,1M,big]\n"
	      "             [--budget seconds] [--plain-peers]\n"
	      "       bench --cat [FILE] | bench --drain\n", stderr);
	exit(2);
}

static void opts_parse(struct opts *o, int argc, char **argv)
{
	const struct b_opt own[] = {
		{ "--methods", "ZC_BENCH_METHODS", B_STR, &o->methods },
		{ "--sizes", "ZC_BENCH_SIZES", B_STR, &o->sizes },
		{ "--budget", "ZC_BENCH_BUDGET", B_DOUBLE, &o->budget },
		{ "--plain-peers", NULL, B_FLAG, &o->plain_peers },
	};

	if (!b_parse(&o->c, 7, own, sizeof(own) / sizeof(own[0]), argc, argv))
		usage();
	if (o->budget <= 0)
		o->budget = o->c.smoke ? 45 : 480;
}

/* Full runs move 16 MiB at 4 KiB a call, up to one big call; smoke runs a quarter. */
static void sizes_make(struct b_suite *b, const struct opts *o)
{
	static const struct b_size full[] = {
		{ 4096, 4096 }, { 65536, 1024 }, { B_MIB, 128 },
	};
	unsigned int i, div = o->c.smoke ? 4 : 1;

	for (i = 0; i < 3; i++) {
		b->sizes[i].chunk = full[i].chunk;
		b->sizes[i].calls = full[i].calls / div;
	}
	b->sizes[3].chunk = o->c.big_mib * B_MIB;
	b->sizes[3].calls = 1;
	b->nsizes = 4;
}

int main(int argc, char **argv)
{
	struct b_suite b = { .pairs = pairs, .npairs = NPAIRS, .methods = methods,
			     .nmethods = NMETHODS };
	struct source src;
	struct opts o = { 0 };
	int r;

	if (argc > 1 && !strcmp(argv[1], "--cat"))
		return cat_main(argc > 2 ? argv[2] : NULL);
	if (argc > 1 && !strcmp(argv[1], "--drain"))
		return drain_main();
	signal(SIGPIPE, SIG_IGN);
	opts_parse(&o, argc, argv);
	sizes_make(&b, &o);
	b.reps = o.c.reps;
	b.plain_peers = o.plain_peers;
	b.dir = o.c.dir;
	b.out = o.c.out;
	cells_make(&b, &o);
	if (!b.ncells) {
		fputs("bench: no cell matches --pairs and --methods\n", stderr);
		return 2;
	}
	source_make(&src, &b);
	region_make(&src, &b);
	b.sigmask_ns = sigmask_cost();
	fprintf(stderr, "bench: %u cells, %u repetitions, biggest size %llu MiB, in %s\n",
		b.ncells, b.reps, (unsigned long long)o.c.big_mib, b.dir);
	suite_run(&b, &src, o.budget);
	close(src.fd);
	zc_region_close(&src.reg);
	zc_region_close(&src.load);
	r = b_report(&b);
	free(b.cells);
	return r;
}
