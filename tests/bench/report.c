// SPDX-License-Identifier: MIT
/*
 * The suite's report: medians and spread of every cell, the verdicts the
 * targets ask for, a Markdown file, a CSV file and a gnuplot chart.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* Targets of the suite (see README.md). */
#define SELECT_MIN 0.95		/* auto against the best forced path */
#define SPEEDUP_MIN 1.5		/* auto against the read/write loop, target pairs */
#define CPU_MAX 0.6		/* auto's CPU per GB against the loop's, target pairs */
#define SMALL_MAX 1.2		/* auto's ns per call against the raw floor at 4 KiB */

/* Methods drawn in the chart, in this order. */
static const char *const chart_methods[] = {
	"auto", "auto+grow", "copy_file_range", "splice", "sendfile", "mmap_write",
	"read_write", "rw-loop",
};

#define NCHART (sizeof(chart_methods) / sizeof(chart_methods[0]))

extern char **environ;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median, least and greatest of one field over a cell's samples. */
static void field_stats(struct b_cell *c, size_t off)
{
	double v[B_REPS_MAX];
	unsigned int i;

	for (i = 0; i < c->n; i++)
		memcpy(&v[i], (char *)&c->s[i] + off, sizeof(double));
	qsort(v, c->n, sizeof(double), cmp_double);
	memcpy((char *)&c->lo + off, &v[0], sizeof(double));
	memcpy((char *)&c->hi + off, &v[c->n - 1], sizeof(double));
	v[0] = c->n % 2 ? v[c->n / 2] : (v[c->n / 2 - 1] + v[c->n / 2]) / 2;
	memcpy((char *)&c->med + off, &v[0], sizeof(double));
}

static void cell_stats(struct b_cell *c)
{
	static const size_t fields[] = {
		offsetof(struct b_sample, gbps), offsetof(struct b_sample, cpu_main),
		offsetof(struct b_sample, cpu_all), offsetof(struct b_sample, sys_gib),
		offsetof(struct b_sample, ns_call),
	};
	unsigned int i;

	if (c->state != B_DONE || !c->n)
		return;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		field_stats(c, fields[i]);
}

struct b_cell *b_find(const struct b_suite *b, unsigned int pair, unsigned int size,
		      const char *method)
{
	unsigned int i;

	for (i = 0; i < b->ncells; i++) {
		struct b_cell *c = &b->cells[i];

		if (c->pair == pair && c->size == size && c->state == B_DONE && c->n &&
		    !strcmp(b->methods[c->method].name, method))
			return c;
	}
	return NULL;
}

void b_size_name(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0)
		snprintf(buf, len, "%llu GiB", (unsigned long long)(bytes >> 30));
	else if (bytes >= B_MIB && bytes % B_MIB == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)(bytes >> 20));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)(bytes >> 10));
}

static const char *cell_path(const struct b_suite *b, const struct b_cell *c)
{
	if (b->methods[c->method].op != B_OP_ZC)
		return "-";
	if (c->mixed)
		return "mixed";
	return zc_path_name(c->path) ? zc_path_name(c->path) : "?";
}

/* Where a verdict reads its figures: the medians, or each cell's best repetition. */
enum view { MEDIAN, BEST };

static double gbps(const struct b_cell *c, enum view v)
{
	return v == MEDIAN ? c->med.gbps : c->hi.gbps;
}

static double cpu_main(const struct b_cell *c, enum view v)
{
	return v == MEDIAN ? c->med.cpu_main : c->lo.cpu_main;
}

/* The targets a cell misses, as flags, so the two views can be compared. */
enum miss {
	MISS_SELECT = 1,	/* another path beats auto's by more than 5% */
	MISS_SLOWER = 2,	/* slower than the read/write loop */
	MISS_SPEEDUP = 4,	/* under 1.5x the loop on a target pair */
	MISS_CPU = 8,		/* over 0.6x the loop's CPU on a target pair */
};

static const char *const miss_names[] = {
	"selection", "slower-than-rw", "<1.5x", "cpu>0.6x",
};

/*
 * auto and a forced cell that took the same path ran the same code: their
 * gap is noise, so selection only misses when the best path is another one.
 */
static unsigned int misses(const struct b_suite *b, unsigned int p, const struct b_cell *a,
			   const struct b_cell *best, const struct b_cell *loop, enum view v)
{
	bool target = b->pairs[p].target;
	unsigned int m = 0;

	if (best && best->path != a->path && gbps(a, v) < SELECT_MIN * gbps(best, v))
		m |= MISS_SELECT;
	if (!loop)
		return m;
	if (gbps(a, v) < gbps(loop, v))
		m |= MISS_SLOWER;
	if (target && gbps(a, v) < SPEEDUP_MIN * gbps(loop, v))
		m |= MISS_SPEEDUP;
	if (target && cpu_main(a, v) > CPU_MAX * cpu_main(loop, v))
		m |= MISS_CPU;
	return m;
}

/* Misses on the medians; a "?" marks one the best repetitions do not confirm. */
static void misses_text(unsigned int med, unsigned int best, char *buf, size_t len)
{
	size_t n = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(miss_names) / sizeof(miss_names[0]); i++)
		if (med & (1u << i))
			n += (size_t)snprintf(buf + n, len - n, "%s%s%s", n ? " " : "",
					      miss_names[i], best & (1u << i) ? "" : "?");
	if (!n)
		snprintf(buf, len, "ok");
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

/* The fastest forced path of a pair and size, on the medians. */
static struct b_cell *best_forced(const struct b_suite *b, unsigned int pair,
				  unsigned int size)
{
	struct b_cell *best = NULL;
	unsigned int i;

	for (i = 0; i < b->ncells; i++) {
		struct b_cell *c = &b->cells[i];

		if (c->pair != pair || c->size != size || c->state != B_DONE || !c->n ||
		    b->methods[c->method].op != B_OP_ZC || !b->methods[c->method].path)
			continue;
		if (!best || c->med.gbps > best->med.gbps)
			best = c;
	}
	return best;
}

static void md_verdicts(FILE *f, const struct b_suite *b)
{
	unsigned int s, p, med, top;
	char size[32], miss[96];

	fputs("\n## Verdicts\n\nauto = zc_transfer with no flags; best = fastest path forced by "
	      "flags; rw = the plain 128 KiB read/write loop. CPU is seconds per GB of the "
	      "moving thread (both = the whole process, peer threads included). Misses are "
	      "judged on the medians; a `?` marks one that the best repetition of each cell "
	      "does not confirm (noise). Selection only misses when the faster path is not "
	      "the one auto took.\n\n"
	      "| pair | size | auto GB/s | auto path | best forced | best GB/s | auto/best | "
	      "rw GB/s | auto/rw | CPU auto/rw | CPU both auto/rw | misses |\n"
	      "|---|---|--:|---|---|--:|--:|--:|--:|--:|--:|---|\n", f);
	for (s = 0; s < b->nsizes; s++)
		for (p = 0; p < b->npairs; p++) {
			struct b_cell *a = b_find(b, p, s, "auto"), *loop = b_find(b, p, s, "rw-loop");
			struct b_cell *best = best_forced(b, p, s);

			if (!a)
				continue;
			b_size_name(b->sizes[s].chunk, size, sizeof(size));
			med = misses(b, p, a, best, loop, MEDIAN);
			top = misses(b, p, a, best, loop, BEST);
			misses_text(med, top, miss, sizeof(miss));
			fprintf(f, "| %s | %s | %.2f | %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | "
				"%.2f | %s |\n", b->pairs[p].name, size, a->med.gbps,
				cell_path(b, a), best ? b->methods[best->method].name : "-",
				best ? best->med.gbps : 0, best ? ratio(a->med.gbps, best->med.gbps) : 0,
				loop ? loop->med.gbps : 0,
				loop ? ratio(a->med.gbps, loop->med.gbps) : 0,
				loop ? ratio(a->med.cpu_main, loop->med.cpu_main) : 0,
				loop ? ratio(a->med.cpu_all, loop->med.cpu_all) : 0, miss);
		}
}

static void md_small(FILE *f, const struct b_suite *b)
{
	unsigned int s, p;
	char size[32];

	fprintf(f, "\n## Small transfers\n\nns per call, many calls in a loop. raw = fstat of "
		"each fd and the raw syscall(s) of the pair; raw+sigmask adds the two "
		"rt_sigprocmask calls the library makes around pipe and socket destinations "
		"(alone they cost %.0f ns here); unguarded = zc_transfer with "
		"ZC_NO_SIGPIPE_GUARD, for callers that ignore SIGPIPE. Target: <= %.1f x raw "
		"at 4 KiB.\n\n"
		"| pair | size | auto ns | unguarded ns | raw ns | raw+sigmask ns | auto/raw | "
		"unguarded/raw | auto/(raw+sigmask) | syscalls per call auto | unguarded | "
		"raw |\n"
		"|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n", b->sigmask_ns, SMALL_MAX);
	for (s = 0; s < b->nsizes; s++)
		for (p = 0; p < b->npairs; p++) {
			struct b_cell *a = b_find(b, p, s, "auto"), *r = b_find(b, p, s, "raw");
			struct b_cell *m = b_find(b, p, s, "raw+sigmask");
			struct b_cell *u = b_find(b, p, s, "auto+noguard");
			double per = (double)b->sizes[s].chunk / (double)(1u << 30);

			if (!a || !r)
				continue;
			b_size_name(b->sizes[s].chunk, size, sizeof(size));
			fprintf(f, "| %s | %s | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | "
				"%.1f | %.1f | %.1f |\n",
				b->pairs[p].name, size, a->med.ns_call, u ? u->med.ns_call : 0,
				r->med.ns_call, m ? m->med.ns_call : 0,
				ratio(a->med.ns_call, r->med.ns_call),
				u ? ratio(u->med.ns_call, r->med.ns_call) : 0,
				m ? ratio(a->med.ns_call, m->med.ns_call) : 0, a->med.sys_gib * per,
				u ? u->med.sys_gib * per : 0, r->med.sys_gib * per);
		}
}

static void md_grow(FILE *f, const struct b_suite *b)
{
	unsigned int s, p;
	char size[32];

	fputs("\n## Growing the caller's pipe (ZC_GROW_PIPES)\n\n"
	      "| pair | size | auto GB/s | auto+grow GB/s | grow/auto | CPU both auto | "
	      "CPU both grow |\n|---|---|--:|--:|--:|--:|--:|\n", f);
	for (s = 0; s < b->nsizes; s++)
		for (p = 0; p < b->npairs; p++) {
			struct b_cell *a = b_find(b, p, s, "auto"), *g = b_find(b, p, s, "auto+grow");

			if (!a || !g)
				continue;
			b_size_name(b->sizes[s].chunk, size, sizeof(size));
			fprintf(f, "| %s | %s | %.2f | %.2f | %.2f | %.3f | %.3f |\n",
				b->pairs[p].name, size, a->med.gbps, g->med.gbps,
				ratio(g->med.gbps, a->med.gbps), a->med.cpu_all, g->med.cpu_all);
		}
}

static void md_all(FILE *f, const struct b_suite *b)
{
	unsigned int i;
	char size[32];

	fputs("\n## All cells\n\nspread = (max - min) / median of GB/s over the repetitions.\n\n"
	      "| pair | size | method | path | GB/s | best GB/s | spread | CPU s/GB | "
	      "CPU both s/GB | syscalls/GiB | ns/call | bytes |\n"
	      "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|\n", f);
	for (i = 0; i < b->ncells; i++) {
		const struct b_cell *c = &b->cells[i];

		b_size_name(b->sizes[c->size].chunk, size, sizeof(size));
		fprintf(f, "| %s | %s | %s | ", b->pairs[c->pair].name, size,
			b->methods[c->method].name);
		if (c->state != B_DONE || !c->n) {
			fprintf(f, "%s | | | | | | | | %s |\n", c->state == B_NA ? "n/a" : "FAILED",
				c->note);
			continue;
		}
		fprintf(f, "%s | %.2f | %.2f | %.0f%% | %.3f | %.3f | %.0f | %.0f | %s |\n",
			cell_path(b, c), c->med.gbps, c->hi.gbps,
			100 * ratio(c->hi.gbps - c->lo.gbps, c->med.gbps), c->med.cpu_main,
			c->med.cpu_all, c->med.sys_gib, c->med.ns_call, c->verified);
	}
}

static void md_write(FILE *f, const struct b_suite *b)
{
	struct utsname u;
	unsigned int s;
	char size[32];

	uname(&u);
	fprintf(f, "# libzcopy benchmark\n\nkernel %s, %ld CPUs, %u repetitions interleaved "
		"(medians), peers %s, files in %s. Sizes (per call x calls):",
		u.release, sysconf(_SC_NPROCESSORS_ONLN), b->reps,
		b->plain_peers ? "read/write" : "splice/sendfile", b->dir);
	for (s = 0; s < b->nsizes; s++) {
		b_size_name(b->sizes[s].chunk, size, sizeof(size));
		fprintf(f, " %s x %llu%s", size, (unsigned long long)b->sizes[s].calls,
			s + 1 < b->nsizes ? "," : ".\n");
	}
	md_verdicts(f, b);
	md_small(f, b);
	md_grow(f, b);
	md_all(f, b);
}

static void csv_write(FILE *f, const struct b_suite *b)
{
	unsigned int i;

	fputs("pair,chunk_bytes,calls,method,state,note,path,checked,reps,gbps_median,gbps_min,"
	      "gbps_max,cpu_s_per_gb,cpu_both_s_per_gb,syscalls_per_gib,ns_per_call\n", f);
	for (i = 0; i < b->ncells; i++) {
		const struct b_cell *c = &b->cells[i];
		static const char *const states[] = { "todo", "done", "n/a", "failed" };

		fprintf(f, "%s,%llu,%llu,%s,%s,%s,%s,%s,%u,%.4f,%.4f,%.4f,%.5f,%.5f,%.1f,%.1f\n",
			b->pairs[c->pair].name, (unsigned long long)b->sizes[c->size].chunk,
			(unsigned long long)b->sizes[c->size].calls, b->methods[c->method].name,
			states[c->state], c->note, cell_path(b, c),
			c->verified ? c->verified : "", c->n, c->med.gbps, c->lo.gbps, c->hi.gbps,
			c->med.cpu_main, c->med.cpu_all, c->med.sys_gib, c->med.ns_call);
	}
}

/* Every repetition of every cell, to look at the spread. */
static void samples_write(FILE *f, const struct b_suite *b)
{
	unsigned int i, r;

	fputs("pair,chunk_bytes,method,rep,gbps,cpu_s_per_gb,cpu_both_s_per_gb,syscalls_per_gib,"
	      "ns_per_call\n", f);
	for (i = 0; i < b->ncells; i++) {
		const struct b_cell *c = &b->cells[i];

		for (r = 0; r < c->n; r++)
			fprintf(f, "%s,%llu,%s,%u,%.4f,%.5f,%.5f,%.1f,%.1f\n",
				b->pairs[c->pair].name,
				(unsigned long long)b->sizes[c->size].chunk,
				b->methods[c->method].name, r + 1, c->s[r].gbps, c->s[r].cpu_main,
				c->s[r].cpu_all, c->s[r].sys_gib, c->s[r].ns_call);
	}
}

/* Which chart methods have a figure at size s; returns how many. */
static unsigned int chart_used(const struct b_suite *b, unsigned int s, bool used[NCHART])
{
	unsigned int p, m, n = 0;

	for (m = 0; m < NCHART; m++) {
		used[m] = false;
		for (p = 0; p < b->npairs && !used[m]; p++)
			used[m] = b_find(b, p, s, chart_methods[m]) != NULL;
		n += used[m];
	}
	return n;
}

/* GB/s at one size, a row per pair and a column per method; "-" where none. */
static void chart_data(FILE *f, const struct b_suite *b, unsigned int s)
{
	bool used[NCHART];
	unsigned int p, m;

	chart_used(b, s, used);
	fputs("pair", f);
	for (m = 0; m < NCHART; m++)
		if (used[m])
			fprintf(f, " %s", chart_methods[m]);
	fputc('\n', f);
	for (p = 0; p < b->npairs; p++) {
		bool any = false;

		for (m = 0; m < NCHART; m++)
			any |= b_find(b, p, s, chart_methods[m]) != NULL;
		if (!any)
			continue;
		fputs(b->pairs[p].name, f);
		for (m = 0; m < NCHART; m++) {
			struct b_cell *c = b_find(b, p, s, chart_methods[m]);

			if (c)
				fprintf(f, " %.3f", c->med.gbps);
			else if (used[m])
				fputs(" -", f);
		}
		fputc('\n', f);
	}
}

static void chart_script(FILE *f, const struct b_suite *b, unsigned int s)
{
	bool used[NCHART];
	char size[32];

	b_size_name(b->sizes[s].chunk, size, sizeof(size));
	fprintf(f, "# Draw with: gnuplot bench.gp (apt-get install gnuplot-nox)\n"
		"set terminal pngcairo size 1400,700 font 'sans,11'\n"
		"set output 'bench.png'\n"
		"set title 'libzcopy: GB/s per fd pair and path, %s per call, page-cached source "
		"(median of %u)'\n"
		"set datafile missing '-'\n"
		"set style data histogram\n"
		"set style histogram clustered gap 1\n"
		"set style fill solid 0.9 border -1\n"
		"set boxwidth 0.9\n"
		"set key outside right top vertical\n"
		"set termoption noenhanced\n"
		"set ylabel 'GB/s, log scale (higher is better)'\n"
		"set logscale y\n"
		"set yrange [0.1:*]\n"
		"set ytics (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)\n"
		"set grid ytics\n"
		"set xtics nomirror\n"
		"plot for [i=2:%u] 'bench-chart.dat' using i:xtic(1) title columnheader(i)\n",
		size, b->reps, chart_used(b, s, used) + 1);
}

static FILE *out_open(const struct b_suite *b, const char *name, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", b->out, name);
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
	return f;
}

/* Run gnuplot in the output directory if it is installed. */
static void chart_draw(const struct b_suite *b)
{
	char *argv[] = { "sh", "-c", "cd \"$0\" && command -v gnuplot >/dev/null && "
			 "gnuplot bench.gp", (char *)b->out, NULL };
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, "sh", NULL, NULL, argv, environ) != 0 ||
	    waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "bench: no chart drawn: install gnuplot-nox and run "
			"`gnuplot bench.gp` in %s\n", b->out);
}

static int write_file(const struct b_suite *b, const char *name,
		      void (*fn)(FILE *, const struct b_suite *))
{
	char path[PATH_MAX];
	FILE *f = out_open(b, name, path, sizeof(path));

	if (!f)
		return -1;
	fn(f, b);
	if (fclose(f) != 0)
		return -1;
	fprintf(stderr, "bench: wrote %s\n", path);
	return 0;
}

static void chart_data_big(FILE *f, const struct b_suite *b)
{
	chart_data(f, b, b->nsizes - 1);
}

static void chart_script_big(FILE *f, const struct b_suite *b)
{
	chart_script(f, b, b->nsizes - 1);
}

int b_report(struct b_suite *b)
{
	unsigned int i, failed = 0;
	int r = 0;

	for (i = 0; i < b->ncells; i++) {
		cell_stats(&b->cells[i]);
		if (b->cells[i].state == B_FAILED) {
			fprintf(stderr, "bench: FAILED %s %s %llu: %s\n",
				b->pairs[b->cells[i].pair].name, b->methods[b->cells[i].method].name,
				(unsigned long long)b->sizes[b->cells[i].size].chunk,
				b->cells[i].note);
			failed++;
		}
	}
	md_write(stdout, b);
	r |= write_file(b, "bench.md", md_write);
	r |= write_file(b, "bench.csv", csv_write);
	r |= write_file(b, "bench-samples.csv", samples_write);
	r |= write_file(b, "bench-chart.dat", chart_data_big);
	r |= write_file(b, "bench.gp", chart_script_big);
	if (r == 0)
		chart_draw(b);
	return r || failed ? 1 : 0;
}
