// SPDX-License-Identifier: MIT
/*
 * What zcopy tells while and after it copies: the progress line of -p and
 * the report of -v, both on standard error.
 */
#define _GNU_SOURCE
#include <bsd/libutil.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"

#define PROGRESS_EVERY 0.1	/* seconds between redraws */

#define CLAMP(v, lo, hi) ((v) < (lo) ? (lo) : (v) > (hi) ? (hi) : (v))

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "4.8M", "512B": sizes in the style of ls -h, at most four characters. */
#define HUMAN_LEN 5

static const char *human(char buf[HUMAN_LEN], uint64_t n)
{
	if (humanize_number(buf, HUMAN_LEN, (int64_t)n, "", HN_AUTOSCALE,
			    HN_B | HN_DECIMAL | HN_NOSPACE) < 0)
		snprintf(buf, HUMAN_LEN, "?");
	return buf;
}

static int term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

void progress_start(struct progress *pg, bool wanted, uint64_t total)
{
	*pg = (struct progress){
		.on = wanted && isatty(STDERR_FILENO),
		.total = total,
		.start = now(),
	};
}

/* "1:05": minutes and seconds. */
static void clock_text(char *buf, size_t size, uint64_t secs)
{
	snprintf(buf, size, "%" PRIu64 ":%02u", secs / 60, (unsigned int)(secs % 60));
}

/* A stream of unknown size: what went by, how fast, for how long (as pv without -s). */
static void draw_count(uint64_t done, uint64_t rate, double secs)
{
	char a[HUMAN_LEN], r[HUMAN_LEN], t[24];

	clock_text(t, sizeof(t), (uint64_t)secs);
	fprintf(stderr, "\r%s %s/s %s\033[K", human(a, done), human(r, rate), t);
}

static void draw_bar(const struct progress *pg, uint64_t done, uint64_t rate)
{
	char a[HUMAN_LEN], b[HUMAN_LEN], r[HUMAN_LEN], eta[24] = "--:--", text[80];
	char bar[512];
	int width, fill;

	if (done > pg->total)
		done = pg->total;	/* the file grew, or the size given was short */
	if (done == pg->total)
		clock_text(eta, sizeof(eta), 0);
	else if (rate)
		clock_text(eta, sizeof(eta), (pg->total - done) / rate);
	snprintf(text, sizeof(text), " %3d%% %s/%s %s/s ETA %s", (int)(done * 100 / pg->total),
		 human(a, done), human(b, pg->total), human(r, rate), eta);
	width = CLAMP(term_width() - (int)strlen(text) - 3, 10, (int)sizeof(bar) - 1);
	fill = (int)(done * (uint64_t)width / pg->total);
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, ' ', (size_t)(width - fill));
	bar[width] = '\0';
	fprintf(stderr, "\r[%s]%s\033[K", bar, text);
}

void progress_draw(struct progress *pg, uint64_t done, bool last)
{
	double t = now(), secs = t - pg->start;
	uint64_t rate = secs > 0 ? (uint64_t)((double)done / secs) : 0;

	if (!pg->on || (!last && t - pg->drawn < PROGRESS_EVERY))
		return;
	pg->drawn = t;
	if (pg->total)
		draw_bar(pg, done, rate);
	else
		draw_count(done, rate, secs);
	if (last)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Keeps each path once, and each fallback once per errno. */
void stats_merge(struct zc_stats *sum, const struct zc_stats *st)
{
	uint32_t i, j;

	sum->bytes += st->bytes;
	sum->syscalls += st->syscalls;
	sum->error = st->error;
	sum->error_side = st->error_side;
	sum->holes += st->holes;
	if (st->npaths)
		sum->path = st->path;
	sum->src_type = st->src_type;
	sum->dst_type = st->dst_type;
	for (i = 0; i < st->npaths; i++) {
		for (j = 0; j < sum->npaths && sum->paths[j] != st->paths[i]; j++)
			;
		if (j == sum->npaths && j < ZC_STATS_MAX)
			sum->paths[sum->npaths++] = st->paths[i];
	}
	for (i = 0; i < st->nfallbacks; i++) {
		for (j = 0; j < sum->nfallbacks; j++)
			if (sum->fallback_path[j] == st->fallback_path[i] &&
			    sum->fallback_errno[j] == st->fallback_errno[i])
				break;
		if (j == sum->nfallbacks && j < ZC_STATS_MAX) {
			sum->fallback_path[j] = st->fallback_path[i];
			sum->fallback_errno[j] = st->fallback_errno[i];
			sum->nfallbacks++;
		}
	}
}

static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "unknown error";
}

void report(const struct zc_stats *sum, double secs)
{
	char a[HUMAN_LEN], r[HUMAN_LEN];
	uint32_t i;

	fprintf(stderr, "zcopy: path ");
	for (i = 0; i < sum->npaths; i++)
		fprintf(stderr, "%s%s", i ? "," : "", zc_path_name(sum->paths[i]));
	fprintf(stderr, "%s (%s -> %s)\n", sum->npaths ? "" : "none",
		zc_fd_type_name(sum->src_type), zc_fd_type_name(sum->dst_type));
	for (i = 0; i < sum->nfallbacks; i++)
		fprintf(stderr, "zcopy: fell back from %s: %s\n",
			zc_path_name(sum->fallback_path[i]),
			errno_name(sum->fallback_errno[i]));
	if (secs < 1e-6)
		secs = 1e-6;
	fprintf(stderr, "zcopy: %" PRIu64 " bytes (%s) in %.3f s, %s/s\n", sum->bytes,
		human(a, sum->bytes), secs, human(r, (uint64_t)((double)sum->bytes / secs)));
}
