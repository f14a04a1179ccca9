// SPDX-License-Identifier: MIT
/*
 * zcopy: copy files and streams through zc_transfer(), like cp and cat, and
 * show which way the kernel moved the bytes.
 *
 *   zcopy [OPTION]... SRC DST
 *   zcopy [OPTION]... SRC... DIR
 *   zcopy [OPTION]... -t DIR SRC...
 *
 * "-" is standard input as a SRC and standard output as DST. See zcopy(1).
 */
#define _GNU_SOURCE
#include <bsd/err.h>
#include <bsd/libutil.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

/*
 * With -p the library calls back after each chunk: the default 8 MiB from a
 * file, where smaller chunks would split copy_file_range into more calls,
 * and 64 KiB from a stream, one default pipe's worth, so that a slow
 * writer still moves the line.
 */
#define PROGRESS_CHUNK_STREAM (64u << 10)

/* New files from standard input get what a shell redirection gives them. */
#define STDIN_MODE 0666

struct opts {
	bool verbose;
	bool progress;
	bool no_target_dir;	/* -T */
	bool several;		/* more than one SRC: name each in the -v report */
	unsigned int flags;	/* ZC_* for zc_transfer() */
	unsigned int sparse;	/* --sparse, --reflink: the last one given counts */
	unsigned int reflink;
	uint64_t length;	/* --length: bytes per SRC, UINT64_MAX for all */
	uint64_t size;		/* -s: bytes -p expects, 0 if not given */
	const char *target_dir;	/* -t */
};

/* One SRC to one DST: the names as given ("-" for a standard fd) and the fds. */
struct job {
	const char *src;
	const char *dst;
	int in;
	int out;
	struct stat in_st;
};

enum {
	OPT_NO_CFR = 0x100,
	OPT_NO_SPLICE,
	OPT_NO_SENDFILE,
	OPT_NO_MMAP,
	OPT_LENGTH,
	OPT_SPARSE,
	OPT_REFLINK,
};

static const struct option long_opts[] = {
	{ "verbose", no_argument, NULL, 'v' },
	{ "progress", no_argument, NULL, 'p' },
	{ "size", required_argument, NULL, 's' },
	{ "length", required_argument, NULL, OPT_LENGTH },
	{ "sparse", required_argument, NULL, OPT_SPARSE },
	{ "reflink", optional_argument, NULL, OPT_REFLINK },
	{ "target-directory", required_argument, NULL, 't' },
	{ "no-target-directory", no_argument, NULL, 'T' },
	{ "no-copy-file-range", no_argument, NULL, OPT_NO_CFR },
	{ "no-splice", no_argument, NULL, OPT_NO_SPLICE },
	{ "no-sendfile", no_argument, NULL, OPT_NO_SENDFILE },
	{ "no-mmap", no_argument, NULL, OPT_NO_MMAP },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/*
 * The WHEN words of --sparse and --reflink, spelt as cp(1) spells them, and
 * the flags each asks of zc_transfer(). A word cp has and the library does
 * not offer is refused, not quietly ignored.
 */
static const struct when {
	int opt;
	const char *word;
	unsigned int flags;
} whens[] = {
	{ OPT_SPARSE, "auto", 0 },
	{ OPT_SPARSE, "never", ZC_NO_HOLES },
	{ OPT_REFLINK, "auto", 0 },
	{ OPT_REFLINK, "always", ZC_REFLINK_ONLY },
	{ OPT_REFLINK, "never", ZC_NO_REFLINK },
};

static void usage(void)
{
	printf("Usage: zcopy [OPTION]... SRC DST\n"
	       "  or:  zcopy [OPTION]... SRC... DIR\n"
	       "  or:  zcopy [OPTION]... -t DIR SRC...\n"
	       "Copy SRC to DST, or each SRC into DIR, the cheapest way the kernel allows.\n"
	       "SRC \"-\" is standard input, DST \"-\" standard output.\n\n"
	       "  -v, --verbose              print the path used and the rate to stderr\n"
	       "  -p, --progress             show progress on a terminal\n"
	       "  -s, --size=SIZE            the size -p expects\n"
	       "      --length=N             copy at most N bytes of each SRC\n"
	       "      --sparse=WHEN          holes in DST: auto, never\n"
	       "      --reflink[=WHEN]       share DST's blocks with SRC: auto, always, never\n"
	       "  -t, --target-directory=DIR copy every SRC into DIR\n"
	       "  -T, --no-target-directory  DST is a file, even a directory's name\n"
	       "      --no-copy-file-range, --no-splice, --no-sendfile, --no-mmap\n"
	       "                             do not use that path\n"
	       "  -h, --help                 show this help and exit\n"
	       "  -V, --version              show the library version and exit\n\n"
	       "SIZE and N are bytes, or with a suffix k, M, G, T (powers of 1024).\n");
}

/* Like cp: a word about what was wrong, a pointer to --help, status 1. */
static _Noreturn void bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static _Noreturn void bad_usage(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vwarnx(fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "Try 'zcopy --help' for more information.\n");
	exit(EXIT_FAILURE);
}

static uint64_t parse_size(const char *opt, const char *s)
{
	uint64_t n;

	/* expand_number() takes "-1" for 2^64-1: only digits may lead. */
	if (!isdigit((unsigned char)s[0]) || expand_number(s, &n) < 0)
		bad_usage("invalid %s: '%s'", opt, s);
	return n;
}

static unsigned int parse_when(int opt, const char *name, const char *word)
{
	size_t i;

	for (i = 0; i < sizeof(whens) / sizeof(whens[0]); i++)
		if (whens[i].opt == opt && strcmp(whens[i].word, word) == 0)
			return whens[i].flags;
	bad_usage("invalid argument '%s' for '--%s'", word, name);
}

static bool parse_opt(int c, struct opts *o)
{
	switch (c) {
	case 'v':
		o->verbose = true;
		break;
	case 'p':
		o->progress = true;
		break;
	case 's':
		o->size = parse_size("size", optarg);
		break;
	case OPT_LENGTH:
		o->length = parse_size("length", optarg);
		break;
	case OPT_SPARSE:
		o->sparse = parse_when(c, "sparse", optarg);
		break;
	case OPT_REFLINK:
		/* As in cp, a bare --reflink means always. */
		o->reflink = parse_when(c, "reflink", optarg ? optarg : "always");
		break;
	case 't':
		o->target_dir = optarg;
		break;
	case 'T':
		o->no_target_dir = true;
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
	default:
		return false;
	}
	return true;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "vps:t:ThV", long_opts, NULL)) != -1) {
		if (parse_opt(c, o))
			continue;
		if (c == 'h') {
			usage();
			exit(EXIT_SUCCESS);
		}
		if (c == 'V') {
			printf("zcopy (libzcopy %s)\n", zc_version());
			exit(EXIT_SUCCESS);
		}
		bad_usage(NULL);
	}
	o->flags |= o->sparse | o->reflink;
	if (o->target_dir && o->no_target_dir)
		bad_usage("cannot combine --target-directory (-t) and --no-target-directory (-T)");
	if (optind == argc)
		bad_usage("missing file operand");
	if (!o->target_dir && argc - optind == 1)
		bad_usage("missing destination file operand after '%s'", argv[optind]);
	if (o->no_target_dir && argc - optind > 2)
		bad_usage("extra operand '%s'", argv[optind + 2]);
}

static bool is_std(const char *name)
{
	return strcmp(name, "-") == 0;
}

static const char *src_name(const struct job *j)
{
	return is_std(j->src) ? "standard input" : j->src;
}

static const char *dst_name(const struct job *j)
{
	return is_std(j->dst) ? "standard output" : j->dst;
}

/* Standard fds found closed at start; each holds a placeholder since. */
static bool std_closed[3];

/*
 * The next open() would reuse a closed 0, 1 or 2: the output file would
 * become standard input, or the messages meant for stderr would go into it.
 * Park an O_PATH fd there, on which every read and write fails with EBADF,
 * and remember that "-" means a closed fd, which cat reports as EBADF.
 */
static void park_std_fds(void)
{
	int fd;

	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		std_closed[fd] = true;
		/* The lowest free fd is this one: those below it are open. */
		if (open("/", O_PATH | O_CLOEXEC) != fd)
			exit(EXIT_FAILURE);
	}
}

static int fail(int err, const char *name)
{
	warnc(err, "%s", name);
	return -1;
}

static int open_src(struct job *j)
{
	if (is_std(j->src)) {
		if (std_closed[STDIN_FILENO])
			return fail(EBADF, src_name(j));
		j->in = STDIN_FILENO;
	} else {
		j->in = open(j->src, O_RDONLY | O_CLOEXEC);
		if (j->in < 0)
			return fail(errno, j->src);
	}
	if (fstat(j->in, &j->in_st) < 0)
		return fail(errno, src_name(j));
	/* zc_transfer() refuses it too, but DST would be truncated by then. */
	if (S_ISDIR(j->in_st.st_mode))
		return fail(EISDIR, src_name(j));
	return 0;
}

/* Like cp: the source's permission bits, less the umask that open() applies. */
static mode_t new_mode(const struct job *j)
{
	if (is_std(j->src))
		return STDIN_MODE;
	return j->in_st.st_mode & (S_IRWXU | S_IRWXG | S_IRWXO);
}

/*
 * Opened without O_TRUNC: an existing DST is cut only once it is known not
 * to be SRC itself, which would lose the data before the first byte is read.
 */
static int open_dst(struct job *j)
{
	struct stat st;

	if (is_std(j->dst)) {
		if (std_closed[STDOUT_FILENO])
			return fail(EBADF, dst_name(j));
		j->out = STDOUT_FILENO;
	} else {
		j->out = open(j->dst, O_WRONLY | O_CREAT | O_CLOEXEC, new_mode(j));
		if (j->out < 0)
			return fail(errno, j->dst);
	}
	if (fstat(j->out, &st) < 0)
		return fail(errno, dst_name(j));
	if (S_ISREG(st.st_mode) && S_ISREG(j->in_st.st_mode) &&
	    st.st_dev == j->in_st.st_dev && st.st_ino == j->in_st.st_ino) {
		warnx("%s and %s are the same file", src_name(j), dst_name(j));
		return -1;
	}
	/*
	 * Only a DST that holds bytes is cut. ext4 and btrfs take a truncate to
	 * 0 for a file being replaced and write it back in close(): a new 64 MiB
	 * copy waited 40-90 ms there, where cp, creating it, waits for nothing.
	 */
	if (!is_std(j->dst) && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    ftruncate(j->out, 0) < 0)
		return fail(errno, j->dst);
	return 0;
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

/* The library's progress callback: redraw with what this copy moved so far. */
struct tick {
	struct progress *pg;
	uint64_t before;	/* bytes moved by earlier calls of the copy */
};

static int tick(uint64_t done, uint64_t total, uint32_t path, void *arg)
{
	struct tick *t = arg;

	(void)total;	/* -s and --length make our own */
	(void)path;
	progress_draw(t->pg, t->before + done, false);
	return 0;
}

/*
 * Move SRC to DST, up to --length; returns 0, or -1 with errno. A call that
 * moved fewer bytes than asked without an error has met the end of the
 * input; a non-blocking end that would block is waited for, then resumed.
 */
static int copy(const struct opts *o, const struct job *j, struct zc_stats *sum,
		struct progress *pg)
{
	struct tick t = { .pg = pg };
	struct zc_opts zo = {
		.size = sizeof(zo),
		.flags = o->flags,
		.src_off = ZC_OFF_NONE,
		.dst_off = ZC_OFF_NONE,
		.chunk = S_ISREG(j->in_st.st_mode) ? 0 : PROGRESS_CHUNK_STREAM,
		.progress = pg->on ? tick : NULL,
		.arg = &t,
	};
	uint64_t left = o->length;
	struct zc_stats st;
	ssize_t n;

	while (left) {
		/* A call moves at most SSIZE_MAX; a full one is no end of input. */
		zo.len = MIN(left, (uint64_t)SSIZE_MAX);
		t.before = sum->bytes;
		n = zc_transfer_opts(j->in, j->out, &zo, &st);
		stats_merge(sum, &st);
		if (n > 0)
			left -= (uint64_t)n;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n < 0 || st.error == EAGAIN || st.error == EINTR) {
			if (wait_ready(j->in, j->out) < 0) {
				sum->error_side = ZC_SIDE_NONE;	/* poll(), on both */
				return -1;
			}
			continue;
		}
		if (st.error) {
			errno = st.error;
			return -1;
		}
		if ((uint64_t)n < zo.len)
			break;
	}
	return 0;
}

/* What -p expects: -s, else what is left of a regular file; never past --length. */
static uint64_t expected(const struct opts *o, const struct job *j)
{
	uint64_t size = o->size;
	off_t pos;

	if (!size && S_ISREG(j->in_st.st_mode)) {
		pos = lseek(j->in, 0, SEEK_CUR);
		if (pos >= 0 && pos < j->in_st.st_size)
			size = (uint64_t)(j->in_st.st_size - pos);
	}
	if (o->length != UINT64_MAX && (!size || size > o->length))
		size = o->length;
	return size;
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

/* The library says whose fd an error came from: name that operand. */
static int blame(const struct job *j, const struct zc_stats *sum, int err)
{
	if (sum->error_side == ZC_SIDE_DST)
		return fail(err, dst_name(j));
	if (sum->error_side == ZC_SIDE_SRC)
		return fail(err, src_name(j));
	warnc(err, "%s to %s", src_name(j), dst_name(j));
	return -1;
}

static int transfer(const struct opts *o, const struct job *j)
{
	struct zc_stats sum = { 0 };
	struct progress pg;
	int r, err;

	progress_start(&pg, o->progress, o->progress ? expected(o, j) : 0);
	r = copy(o, j, &sum, &pg);
	err = errno;
	progress_draw(&pg, sum.bytes, true);
	if (o->verbose && o->several)
		fprintf(stderr, "zcopy: %s -> %s\n", src_name(j), dst_name(j));
	if (o->verbose)
		report(&sum, now() - pg.start);
	if (r == 0)
		return 0;
	if (err == EPIPE && sum.error_side == ZC_SIDE_DST)
		end_on_epipe();
	return blame(j, &sum, err);
}

static int copy_file(const struct opts *o, const char *src, const char *dst)
{
	struct job j = { .src = src, .dst = dst, .in = -1, .out = -1 };
	int r;

	r = open_src(&j);
	if (r == 0)
		r = open_dst(&j);
	if (r == 0)
		r = transfer(o, &j);
	if (j.in > STDERR_FILENO)
		close(j.in);
	/* NFS and friends report a failed write back only at close. */
	if (j.out > STDERR_FILENO && close(j.out) < 0 && r == 0)
		r = fail(errno, j.dst);
	return r;
}

/* "a/b/" -> "b": the name cp gives a source's copy in a directory. */
static const char *base_name(const char *path, size_t *len)
{
	const char *end = path + strlen(path), *start;

	while (end > path + 1 && end[-1] == '/')
		end--;
	start = end;
	while (start > path && start[-1] != '/')
		start--;
	*len = (size_t)(end - start);
	return start;
}

static int copy_into(const struct opts *o, const char *src, const char *dir)
{
	const char *base;
	char *dst;
	size_t len;
	int r;

	if (is_std(src)) {
		warnx("standard input has no name to give its copy in %s", dir);
		return -1;
	}
	base = base_name(src, &len);
	if (asprintf(&dst, "%s/%.*s", dir, (int)len, base) < 0)
		return fail(errno, src);
	r = copy_file(o, src, dst);
	free(dst);
	return r;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !is_std(path) && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Where several sources or -t must go: says why it cannot be DIR. */
static int check_dir(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return fail(errno, path);
	return S_ISDIR(st.st_mode) ? 0 : fail(ENOTDIR, path);
}

/* Like cp: every SRC is tried, and any that failed makes the status 1. */
static int run(struct opts *o, char **ops, int nops)
{
	const char *dst = o->target_dir ? o->target_dir : ops[--nops];
	bool into = o->target_dir || (!o->no_target_dir && is_dir(dst));
	int i, status = EXIT_SUCCESS;

	/* Several into standard output go one after another, as with cat. */
	if ((o->target_dir || (nops > 1 && !is_std(dst))) && check_dir(dst) < 0)
		return EXIT_FAILURE;
	if (is_std(dst) && std_closed[STDOUT_FILENO]) {
		fail(EBADF, "standard output");
		return EXIT_FAILURE;
	}
	o->several = nops > 1;
	for (i = 0; i < nops; i++)
		if ((into ? copy_into(o, ops[i], dst) : copy_file(o, ops[i], dst)) < 0)
			status = EXIT_FAILURE;
	return status;
}

int main(int argc, char **argv)
{
	struct opts o = { .length = UINT64_MAX };

	park_std_fds();
	parse_args(argc, argv, &o);
	return run(&o, argv + optind, argc - optind);
}
