// SPDX-License-Identifier: MIT
/*
 * What a progress callback costs. zc_transfer_opts() moves a big file (or a
 * stream of the same size) with progress NULL, which makes the call one run
 * of the path chain, and with a callback that only counts, at chunks of
 * 8 MiB (the default), 1 MiB and 64 KiB. A chunk ends the path's steps at
 * its boundary, so the cost is in the extra system calls as much as in the
 * function call.
 *
 * Every repetition runs each cell once: the pairs in a new order, and the
 * variants of a pair one after the other in a new order, so the runs with
 * and without a callback meet the same machine. The report's ratio is the
 * median of each repetition's time with over time without (paired),
 * steadier on a shared machine than a ratio of medians; the call without a
 * callback runs twice, and the ratio of the two is the noise floor. The
 * first round checks the bytes and the callback's calls, untimed.
 *
 * On a shared 2-vCPU machine a callback every 8 MiB cost nothing measurable
 * (CPU within 1.5%, as the call against itself): results/2026-11-29-files.
 *
 * CPU time is the calling thread's CPU clock: what getrusage(RUSAGE_THREAD)
 * adds up as user + system time, but to the nanosecond: getrusage gave 0 for
 * a 64 MiB splice into /dev/null that took 0.8 ms.
 *
 * Usage: progress [--smoke] [--big MiB] [--reps N] [--dir DIR] [--tmpfs DIR]
 *                 [--pairs a,b] [--out DIR]
 * Environment: ZC_BENCH_SMOKE=1, ZC_BENCH_BIG_MIB, ZC_BENCH_REPS,
 * ZC_BENCH_DIR (or T_TMPDIR), ZC_BENCH_TMPFS, ZC_BENCH_PAIRS, ZC_BENCH_OUT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "bench.h"

#define TARGET 1.02	/* at the default chunk: within 2% of no callback */

struct pair {
	const char *name;
	enum b_kind src;
	enum b_kind dst;
	bool src_tmpfs;		/* source file on tmpfs rather than the bench directory */
	bool dst_tmpfs;
};

/*
 * file->null is splice, the fastest path, where a per-chunk cost shows most;
 * file->file is copy_file_range on the bench directory's filesystem, whose
 * writeback makes it noisy, hence the same between tmpfs files; file->tmpfs
 * crosses filesystems (copy_file_range says EXDEV, splice moves the bytes).
 */
static const struct pair pairs[] = {
	{ "file->null", B_FILE, B_NULL, false, false },
	{ "file->file", B_FILE, B_FILE, false, false },
	{ "file->tmpfs", B_FILE, B_FILE, false, true },
	{ "tmpfs->tmpfs", B_FILE, B_FILE, true, true },
	{ "file->pipe", B_FILE, B_PIPE, false, false },
	{ "pipe->pipe", B_PIPE, B_PIPE, false, false },
};

/*
 * 0: progress NULL. The first is the reference every other variant is held
 * to; the second is the same call again, so its ratio to the first shows
 * how far the machine alone moves a ratio.
 */
static const uint64_t chunks[] = { 0, 0, 8 * B_MIB, B_MIB, 64 * 1024 };

#define NPAIRS (sizeof(pairs) / sizeof(pairs[0]))
#define NCHUNKS (sizeof(chunks) / sizeof(chunks[0]))

struct opts {
	struct b_common c;
	const char *tmpfs;
};

struct source {
	int fd;
	char path[64];
	uint64_t sum;
};

struct sample {
	double secs;
	double cpu;		/* CPU seconds of the calling thread */
};

struct cell {
	unsigned int pair;
	unsigned int chunk;
	bool failed;
	char note[80];
	uint32_t path;		/* path that moved the last bytes */
	uint64_t syscalls;	/* per run, from zc_stats */
	uint64_t calls;		/* of the callback, per run */
	unsigned int n;
	struct sample s[B_REPS_MAX];
};

struct run {
	struct source src[2];	/* on the bench directory, on tmpfs */
	uint64_t len;
	const char *dir;
	const char *tmpfs;
	struct cell *cells;
	unsigned int ncells;
	unsigned int reps;
};

struct counter {
	uint64_t calls;
	uint64_t done;
	uint64_t total;
};

/* The trivial callback: what any caller's does at least. */
static int count(uint64_t done, uint64_t total, uint32_t path, void *arg)
{
	struct counter *c = arg;

	(void)path;
	c->calls++;
	c->done = done;
	c->total = total;
	return 0;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "progress: %s: %s\n", what, strerror(err));
	exit(1);
}

/* A file of len pattern bytes in dir, synced and read once into the page cache. */
static void source_make(struct source *s, const char *dir, uint64_t len)
{
	s->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->fd < 0)
		die(dir, errno);
	if (b_fill(s->fd, len) < 0 || fdatasync(s->fd) < 0)
		die("writing the source file", errno);
	if (b_file_sum(s->fd, len, &s->sum) < 0)
		die("reading the source file", EIO);
	snprintf(s->path, sizeof(s->path), "/proc/self/fd/%d", s->fd);
}

/* zc_transfer_opts until the input ends; a stream may take more than one call. */
static int transfer(int in, int out, const struct zc_opts *o, uint64_t len,
		    struct zc_stats *sum)
{
	struct zc_stats st;
	uint64_t done = 0;
	ssize_t n;

	memset(sum, 0, sizeof(*sum));
	while (done < len) {
		n = zc_transfer_opts(in, out, o, &st);
		if (n < 0)
			return errno;
		sum->syscalls += st.syscalls;
		sum->path = st.path;
		if (n == 0)
			break;
		done += (uint64_t)n;
	}
	sum->bytes = done;
	return done == len ? 0 : EIO;
}

static void cell_fail(struct cell *c, const char *why, int err)
{
	c->failed = true;
	snprintf(c->note, sizeof(c->note), "%s%s%s", why, err ? ": " : "",
		 err ? strerror(err) : "");
}

/* The checked run: every byte, and a callback called for every chunk. */
static void cell_check(struct cell *c, const struct run *r, const struct b_end *out,
		       const struct counter *cnt, const struct source *src)
{
	const struct pair *p = &pairs[c->pair];
	uint64_t chunk = chunks[c->chunk], got = 0;

	if (out->kind == B_FILE && b_file_sum(out->fd, r->len, &got) < 0)
		got = ~src->sum;
	else if (out->kind == B_PIPE)
		got = out->len == r->len ? b_sum_final(&out->sum) : ~src->sum;
	if (out->kind != B_NULL && got != src->sum) {
		cell_fail(c, "bytes differ", 0);
		return;
	}
	if (chunk && cnt->calls < r->len / chunk) {
		cell_fail(c, "too few progress calls", 0);
		return;
	}
	/* A file source tells its size; a stream's end is known when it comes. */
	if (chunk && p->src == B_FILE && (cnt->done != r->len || cnt->total != r->len))
		cell_fail(c, "progress did not reach the total", 0);
}

static void cell_run(struct run *r, struct cell *c, bool check)
{
	const struct pair *p = &pairs[c->pair];
	const struct source *src = &r->src[p->src_tmpfs];
	struct counter cnt = { 0 };
	struct zc_opts o = { .size = sizeof(o), .len = ZC_ALL, .src_off = ZC_OFF_NONE,
			     .dst_off = ZC_OFF_NONE, .chunk = chunks[c->chunk],
			     .progress = chunks[c->chunk] ? count : NULL, .arg = &cnt };
	struct b_end in, out;
	struct zc_stats st;
	pthread_barrier_t gate;
	double t0, t1, c0, c1;
	int err;

	err = b_src_open(&in, p->src, src->path, src->fd, r->len);
	if (err < 0) {
		cell_fail(c, "setup", -err);
		return;
	}
	err = b_sink_open(&out, p->dst, p->dst_tmpfs ? r->tmpfs : r->dir);
	if (err < 0) {
		b_end_finish(&in);
		cell_fail(c, "setup", -err);
		return;
	}
	out.verify = check;
	pthread_barrier_init(&gate, NULL, 1u + in.has_thread + out.has_thread);
	if (b_end_start(&in, &gate) < 0 || b_end_start(&out, &gate) < 0)
		die("pthread_create", EAGAIN);

	t0 = b_now(CLOCK_MONOTONIC);
	c0 = b_now(CLOCK_THREAD_CPUTIME_ID);
	pthread_barrier_wait(&gate);
	err = transfer(in.fd, out.fd, &o, r->len, &st);
	c1 = b_now(CLOCK_THREAD_CPUTIME_ID);
	if (b_is_stream(out.kind))
		b_end_finish(&out);	/* the drainer has everything when it sees EOF */
	b_end_finish(&in);
	t1 = b_now(CLOCK_MONOTONIC);
	pthread_barrier_destroy(&gate);
	if (!err && (in.err || out.err))
		err = in.err ? in.err : out.err;

	if (err) {
		cell_fail(c, "transfer", err);
	} else if (check) {
		c->path = st.path;
		c->syscalls = st.syscalls;
		c->calls = cnt.calls;
		cell_check(c, r, &out, &cnt, src);
	} else if (c->n < B_REPS_MAX) {
		c->s[c->n++] = (struct sample){ t1 - t0, c1 - c0 };
	}
	b_end_finish(&out);
}

/* The tmpfs pairs need a tmpfs; without one they are left out, saying so. */
static bool is_tmpfs(const char *dir)
{
	struct statfs s;

	return statfs(dir, &s) == 0 && s.f_type == TMPFS_MAGIC;
}

static void cells_make(struct run *r, const struct opts *o, bool tmpfs)
{
	unsigned int p, k;

	r->cells = calloc(NPAIRS * NCHUNKS, sizeof(*r->cells));
	if (!r->cells)
		die("calloc", ENOMEM);
	for (p = 0; p < NPAIRS; p++) {
		if (!b_in_list(o->c.pairs, pairs[p].name))
			continue;
		if ((pairs[p].src_tmpfs || pairs[p].dst_tmpfs) && !tmpfs) {
			fprintf(stderr, "progress: %s is not a tmpfs: %s left out\n", o->tmpfs,
				pairs[p].name);
			continue;
		}
		for (k = 0; k < NCHUNKS; k++) {
			r->cells[r->ncells].pair = p;
			r->cells[r->ncells].chunk = k;
			r->ncells++;
		}
	}
}

/*
 * One repetition: the pairs in a new order, and the variants of each pair
 * one after the other, in a new order too. A run with a callback and the
 * run without it that it is held to are then a few seconds apart at most,
 * not a whole repetition: the load of a shared machine changes in less.
 */
static void rep_run(struct run *r, unsigned int rep, unsigned int *groups)
{
	unsigned int g, k, ng = r->ncells / NCHUNKS, inner[NCHUNKS];
	struct cell *c;

	b_shuffle(groups, ng, rep + 1);
	for (g = 0; g < ng; g++) {
		for (k = 0; k < NCHUNKS; k++)
			inner[k] = k;
		b_shuffle(inner, NCHUNKS, (uint64_t)rep * ng + g + 1);
		for (k = 0; k < NCHUNKS; k++) {
			c = &r->cells[groups[g] * NCHUNKS + inner[k]];
			if (!c->failed)
				cell_run(r, c, false);
		}
	}
}

static void runs(struct run *r)
{
	unsigned int i, rep, *groups = malloc(r->ncells / NCHUNKS * sizeof(*groups));
	double t0 = b_now(CLOCK_MONOTONIC);

	if (!groups)
		die("malloc", ENOMEM);
	for (i = 0; i < r->ncells / NCHUNKS; i++)
		groups[i] = i;
	for (i = 0; i < r->ncells; i++)
		cell_run(r, &r->cells[i], true);
	fprintf(stderr, "progress: checked %u cells in %.1f s\n", r->ncells,
		b_now(CLOCK_MONOTONIC) - t0);
	for (rep = 0; rep < r->reps; rep++) {
		rep_run(r, rep, groups);
		fprintf(stderr, "progress: repetition %u/%u done at %.1f s\n", rep + 1, r->reps,
			b_now(CLOCK_MONOTONIC) - t0);
	}
	free(groups);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median, least and greatest of v[0..n), which is sorted in place. */
static void spread(double *v, unsigned int n, double out[3])
{
	qsort(v, n, sizeof(*v), cmp_double);
	out[0] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	out[1] = v[0];
	out[2] = v[n - 1];
}

/*
 * A repetition's wall time or CPU time, or either over the same repetition's
 * without a callback.
 */
enum field { F_SECS, F_CPU, F_SECS_RATIO, F_CPU_RATIO };

static double value(const struct cell *c, const struct cell *base, enum field f,
		    unsigned int i)
{
	switch (f) {
	case F_SECS:
		return c->s[i].secs;
	case F_CPU:
		return c->s[i].cpu;
	case F_SECS_RATIO:
		return c->s[i].secs / base->s[i].secs;
	case F_CPU_RATIO:
		break;
	}
	return c->s[i].cpu / base->s[i].cpu;
}

/* Median, least and greatest of one field over the repetitions; false if none. */
static bool field_spread(const struct cell *c, const struct cell *base, enum field f,
			 double out[3])
{
	double v[B_REPS_MAX];
	unsigned int i, n = c->n;

	if (f >= F_SECS_RATIO && base->n < n)
		n = base->n;
	for (i = 0; i < n; i++)
		v[i] = value(c, base, f, i);
	if (n)
		spread(v, n, out);
	return n > 0;
}

static void chunk_name(unsigned int k, char *buf, size_t len)
{
	if (!chunks[k])
		snprintf(buf, len, k ? "none again" : "none");
	else
		b_size_name(chunks[k], buf, len);
}

/*
 * At the default chunk, judged on the paired median; "miss?" when the best
 * repetitions (the least disturbed) do not confirm it.
 */
static const char *verdict(const struct cell *c, double ratio, double best_ratio)
{
	if (chunks[c->chunk] != 8 * B_MIB)
		return "";
	if (ratio <= TARGET)
		return "ok";
	return best_ratio <= TARGET ? "miss?" : "**miss**";
}

static void md_cell(FILE *f, const struct run *r, const struct cell *c, const struct cell *base)
{
	double t[3], cpu[3], tr[3], cr[3], bt[3], gb = (double)r->len / 1e9;
	double gib = (double)r->len / (double)(1u << 30);
	char name[16];

	chunk_name(c->chunk, name, sizeof(name));
	if (c->failed || !field_spread(c, base, F_SECS, t)) {
		fprintf(f, "| %s | %s | failed: %s | | | | | | | | | | |\n",
			pairs[c->pair].name, name, c->note);
		return;
	}
	field_spread(c, base, F_CPU, cpu);
	fprintf(f, "| %s | %s | %s | %.2f | %.2f | %.1f | %.0f | %llu", pairs[c->pair].name, name,
		zc_path_name(c->path), gb / t[0], gb / t[1], cpu[0] * 1e3 / gb,
		(double)c->syscalls / gib, (unsigned long long)c->calls);
	if (c == base || base->failed || !field_spread(c, base, F_SECS_RATIO, tr)) {
		fprintf(f, " | | | | | |\n");
		return;
	}
	field_spread(c, base, F_CPU_RATIO, cr);
	field_spread(base, base, F_SECS, bt);
	fprintf(f, " | %.3f | %.2f-%.2f | %.3f | %.3f | %s |\n", tr[0], tr[1], tr[2], t[1] / bt[1],
		cr[0], verdict(c, tr[0], t[1] / bt[1]));
}

static void md_write(FILE *f, const struct run *r)
{
	struct utsname u;
	unsigned int i;

	if (uname(&u) < 0)
		strcpy(u.release, "?");
	fprintf(f, "# Progress callback cost: %llu MiB, %u repetitions, kernel %s, %ld CPUs\n\n",
		(unsigned long long)(r->len / B_MIB), r->reps, u.release,
		sysconf(_SC_NPROCESSORS_ONLN));
	fprintf(f, "GB/s: median; best: the fastest repetition. CPU ms/GB: the calling "
		   "thread's user + system time, median.\n"
		   "time w/wo: median over the repetitions of the time with a callback over "
		   "the time without in the same repetition (the variants of a pair run "
		   "one after the other), min-max beside it; best w/wo: fastest over "
		   "fastest; CPU w/wo: like time w/wo, of CPU time. `none again` is the "
		   "call without a callback once more: its ratios are the machine's noise.\n"
		   "Target at 8 MiB: time w/wo at most %.2f (`miss?`: the best repetitions "
		   "do not confirm the miss).\n\n", TARGET);
	fprintf(f, "| pair | chunk | path | GB/s | best GB/s | CPU ms/GB | syscalls/GiB "
		   "| callbacks | time w/wo | min-max | best w/wo | CPU w/wo | 8 MiB |\n");
	fprintf(f, "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
	for (i = 0; i < r->ncells; i++)
		md_cell(f, r, &r->cells[i], &r->cells[i - r->cells[i].chunk]);
}

static void samples_write(FILE *f, const struct run *r)
{
	unsigned int i, j;
	char name[16];

	fprintf(f, "pair,chunk,rep,seconds,cpu_seconds\n");
	for (i = 0; i < r->ncells; i++) {
		chunk_name(r->cells[i].chunk, name, sizeof(name));
		for (j = 0; j < r->cells[i].n; j++)
			fprintf(f, "%s,%s,%u,%.6f,%.6f\n", pairs[r->cells[i].pair].name, name,
				j + 1, r->cells[i].s[j].secs, r->cells[i].s[j].cpu);
	}
}

static int report(const struct run *r, const char *out)
{
	char path[4096];
	FILE *f;
	int bad = 0;
	unsigned int i;

	md_write(stdout, r);
	snprintf(path, sizeof(path), "%s/progress.md", out);
	if ((f = fopen(path, "w"))) {
		md_write(f, r);
		bad |= fclose(f) != 0;
	}
	snprintf(path, sizeof(path), "%s/progress-samples.csv", out);
	if ((f = fopen(path, "w"))) {
		samples_write(f, r);
		bad |= fclose(f) != 0;
	}
	if (bad)
		fprintf(stderr, "progress: could not write the report into %s\n", out);
	for (i = 0; i < r->ncells; i++)
		bad |= r->cells[i].failed;
	return bad;
}

static void usage(void)
{
	fputs("usage: progress [--smoke] [--big MiB] [--reps N] [--dir DIR] [--tmpfs DIR]\n"
	      "                [--pairs a,b] [--out DIR]\n", stderr);
	exit(2);
}

static void opts_parse(struct opts *o, int argc, char **argv)
{
	const struct b_opt own[] = {
		{ "--tmpfs", "ZC_BENCH_TMPFS", B_STR, &o->tmpfs },
	};

	o->tmpfs = "/dev/shm";
	if (!b_parse(&o->c, 11, own, sizeof(own) / sizeof(own[0]), argc, argv))
		usage();
}

int main(int argc, char **argv)
{
	struct run r = { 0 };
	struct opts o = { 0 };
	bool uses_tmpfs = false;
	unsigned int i;
	int ret;

	signal(SIGPIPE, SIG_IGN);
	opts_parse(&o, argc, argv);
	r.len = o.c.big_mib * B_MIB;
	r.reps = o.c.reps;
	r.dir = o.c.dir;
	r.tmpfs = o.tmpfs;
	cells_make(&r, &o, is_tmpfs(o.tmpfs));
	if (!r.ncells) {
		fputs("progress: no pair to measure (--pairs)\n", stderr);
		return 2;
	}
	for (i = 0; i < r.ncells; i++)
		uses_tmpfs |= pairs[r.cells[i].pair].src_tmpfs;
	source_make(&r.src[0], o.c.dir, r.len);
	if (uses_tmpfs)
		source_make(&r.src[1], o.tmpfs, r.len);
	fprintf(stderr, "progress: %u cells, %u repetitions, %llu MiB, in %s and %s\n",
		r.ncells, r.reps, (unsigned long long)o.c.big_mib, o.c.dir, o.tmpfs);
	runs(&r);
	ret = report(&r, o.c.out);
	close(r.src[0].fd);
	if (uses_tmpfs)
		close(r.src[1].fd);
	free(r.cells);
	return ret;
}
