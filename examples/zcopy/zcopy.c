// SPDX-License-Identifier: MIT
/*
 * zcopy: copy SRC to DST through zc_transfer(), like cat or cp, and show
 * which way the kernel moved the bytes.
 *
 *   zcopy [-v] [-p] [--no-copy-file-range] [--no-splice] [--no-sendfile]
 *         [--no-mmap] SRC DST
 *
 * SRC and DST are paths, or "-" for standard input and standard output.
 * See zcopy(1).
 */
#define _GNU_SOURCE
#include <bsd/libutil.h>
#include <bsd/err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zcopy.h>

#define EXIT_USAGE 2

/* With -p the copy goes in slices this big, so the bar can move between them. */
#define PROGRESS_SLICE (8u << 20)
#define PROGRESS_EVERY 0.1	/* seconds between redraws */

#define CLAMP(v, lo, hi) ((v) < (lo) ? (lo) : (v) > (hi) ? (hi) : (v))

struct opts {
	bool verbose;
	bool progress;
	unsigned int flags;
	const char *src;
	const char *dst;
};

struct progress {
	bool on;
	uint64_t total;
	double start;
	double drawn;	/* when the bar was last drawn */
};

enum {
	OPT_NO_CFR = 0x100,
	OPT_NO_SPLICE,
	OPT_NO_SENDFILE,
	OPT_NO_MMAP,
};

static const struct option long_opts[] = {
	{ "verbose", no_argument, NULL, 'v' },
	{ "progress", no_argument, NULL, 'p' },
	{ "no-copy-file-range", no_argument, NULL, OPT_NO_CFR },
	{ "no-splice", no_argument, NULL, OPT_NO_SPLICE },
	{ "no-sendfile", no_argument, NULL, OPT_NO_SENDFILE },
	{ "no-mmap", no_argument, NULL, OPT_NO_MMAP },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: zcopy [OPTION]... SRC DST\n"
		"Copy SRC to DST (\"-\" for standard input or output) the cheapest way\n"
		"the kernel allows.\n\n"
		"  -v, --verbose          print the path used and the rate to stderr\n"
		"  -p, --progress         show a progress bar on a terminal\n"
		"      --no-copy-file-range, --no-splice, --no-sendfile, --no-mmap\n"
		"                         do not use that path\n"
		"  -h, --help             show this help and exit\n"
		"  -V, --version          show the library version and exit\n");
}

static const char *name_of(const char *path, bool out)
{
	if (strcmp(path, "-") != 0)
		return path;
	return out ? "standard output" : "standard input";
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "vphV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			o->verbose = true;
			break;
		case 'p':
			o->progress = true;
			break;
		case OPT_NO_CFR:
			o->flags |= ZC_NO_COPY_FILE_RANGE;
			break;
		case OPT_NO_SPLICE:
			o->flags |= ZC_NO_SPLICE;
			break;
		case OPT_NO_SENDFILE:
			o->flags |= ZC_NO_SENDFILE;
			break;
		case OPT_NO_MMAP:
			o->flags |= ZC_NO_MMAP;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		case 'V':
			printf("zcopy (libzcopy %s)\n", zc_version());
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (argc - optind != 2) {
		warnx(argc - optind < 2 ? "missing operand" : "too many operands");
		usage(stderr);
		exit(EXIT_USAGE);
	}
	o->src = argv[optind];
	o->dst = argv[optind + 1];
}

static double now(void)
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

/* A bar is only worth drawing on a terminal, for an input of known size. */
static void progress_init(struct progress *pg, const struct opts *o, int in)
{
	struct stat st;
	off_t pos;

	pg->start = now();
	if (!o->progress || !isatty(STDERR_FILENO) || fstat(in, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	pos = lseek(in, 0, SEEK_CUR);
	if (pos < 0 || pos >= st.st_size)
		return;
	pg->total = (uint64_t)(st.st_size - pos);
	pg->on = true;
}

static void progress_draw(struct progress *pg, uint64_t done, bool last)
{
	double t = now(), secs = t - pg->start;
	char a[HUMAN_LEN], b[HUMAN_LEN], r[HUMAN_LEN], eta[24] = "--:--", text[80];
	uint64_t rate = secs > 0 ? (uint64_t)((double)done / secs) : 0;
	char bar[512];
	int pct, width, fill;

	if (!pg->on || (!last && t - pg->drawn < PROGRESS_EVERY))
		return;
	pg->drawn = t;
	if (done > pg->total)
		done = pg->total;	/* the file grew while being copied */
	pct = (int)(done * 100 / pg->total);
	if (done == pg->total) {
		snprintf(eta, sizeof(eta), "0:00");
	} else if (rate) {
		uint64_t left = (pg->total - done) / rate;

		snprintf(eta, sizeof(eta), "%" PRIu64 ":%02u", left / 60, (unsigned int)(left % 60));
	}
	snprintf(text, sizeof(text), " %3d%% %s/%s %s/s ETA %s", pct, human(a, done),
		 human(b, pg->total), human(r, rate), eta);
	width = CLAMP(term_width() - (int)strlen(text) - 3, 10, (int)sizeof(bar) - 1);
	fill = (int)(done * (uint64_t)width / pg->total);
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, ' ', (size_t)(width - fill));
	bar[width] = '\0';
	fprintf(stderr, "\r[%s]%s\033[K", bar, text);
	if (last)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Fold one call's stats into the running total, keeping each path once. */
static void merge(struct zc_stats *sum, const struct zc_stats *st)
{
	uint32_t i, j;

	sum->bytes += st->bytes;
	sum->syscalls += st->syscalls;
	sum->error = st->error;
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

static void report(const struct zc_stats *sum, double secs)
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

/* A non-blocking end said EAGAIN: wait until both ends can go on. */
static int wait_ready(int in, int out)
{
	struct pollfd pfd[2] = {
		{ .fd = in, .events = POLLIN },
		{ .fd = out, .events = POLLOUT },
	};
	int i;

	for (i = 0; i < 2; i++)
		while (poll(&pfd[i], 1, -1) < 0)
			if (errno != EINTR)
				return -1;
	return 0;
}

/*
 * Move everything from in to out; returns 0, or -1 with errno. A call that
 * moved fewer bytes than asked without an error has met the end of the input.
 */
static int copy(int in, int out, const struct opts *o, struct zc_stats *sum,
		struct progress *pg)
{
	size_t want = pg->on ? PROGRESS_SLICE : ZC_ALL;
	struct zc_stats st;
	ssize_t n;

	for (;;) {
		n = zc_transfer_ex(in, out, want, o->flags, &st);
		merge(sum, &st);
		progress_draw(pg, sum->bytes, false);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n < 0 || st.error == EAGAIN || st.error == EINTR) {
			if (wait_ready(in, out) < 0)
				return -1;
			continue;
		}
		if (st.error) {
			errno = st.error;
			return -1;
		}
		if ((size_t)n < want)
			return 0;
	}
}

/*
 * Like cat: when the reader of a pipe goes away, end the way the default
 * SIGPIPE would, silently. The library kept the signal from us, so raise it.
 * A caller that ignores SIGPIPE gets the EPIPE reported instead.
 */
static void end_on_epipe(void)
{
	struct sigaction sa;
	sigset_t set;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
		return;
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(SIGPIPE);
	_exit(128 + SIGPIPE);
}

/* Errors only writing can give are DST's; anything else is blamed on SRC. */
static bool write_side(int err)
{
	return err == EPIPE || err == ENOSPC || err == EDQUOT || err == EFBIG || err == EROFS;
}

static int open_src(const struct opts *o)
{
	int fd = strcmp(o->src, "-") == 0 ? STDIN_FILENO : open(o->src, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		warn("%s", o->src);
	return fd;
}

/* Copying a file onto itself would truncate it before the first byte is read. */
static bool same_file(int in, const struct opts *o)
{
	struct stat a, b;
	int r;

	if (fstat(in, &a) < 0 || !S_ISREG(a.st_mode))
		return false;
	r = strcmp(o->dst, "-") == 0 ? fstat(STDOUT_FILENO, &b) : stat(o->dst, &b);
	return r == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int open_dst(const struct opts *o)
{
	int fd;

	if (strcmp(o->dst, "-") == 0)
		return STDOUT_FILENO;
	fd = open(o->dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		warn("%s", o->dst);
	return fd;
}

static int run(const struct opts *o)
{
	struct zc_stats sum = { 0 };
	struct progress pg = { 0 };
	int in, out, r, err, status = EXIT_FAILURE;

	in = open_src(o);
	if (in < 0)
		return EXIT_FAILURE;
	if (same_file(in, o)) {
		warnx("%s and %s are the same file", name_of(o->src, false),
		      name_of(o->dst, true));
		goto close_in;
	}
	out = open_dst(o);
	if (out < 0)
		goto close_in;
	progress_init(&pg, o, in);
	r = copy(in, out, o, &sum, &pg);
	err = errno;
	progress_draw(&pg, sum.bytes, true);
	if (o->verbose)
		report(&sum, now() - pg.start);
	if (r < 0 && err == EPIPE)
		end_on_epipe();
	if (r < 0 && write_side(err))
		warnc(err, "%s", name_of(o->dst, true));
	else if (r < 0)
		warnc(err, "%s", name_of(o->src, false));
	else
		status = EXIT_SUCCESS;
	if (out != STDOUT_FILENO && close(out) < 0 && status == EXIT_SUCCESS) {
		/* NFS and friends report a failed write back only here. */
		warn("%s", o->dst);
		status = EXIT_FAILURE;
	}
close_in:
	if (in != STDIN_FILENO)
		close(in);
	return status;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };

	parse_args(argc, argv, &o);
	return run(&o);
}
