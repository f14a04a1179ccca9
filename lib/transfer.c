// SPDX-License-Identifier: MIT
/*
 * zc_transfer(): look at both fds, pick the paths that suit the pair, and
 * move the bytes, falling back to the next path when the kernel says no.
 *
 * Every path keeps one promise (internal.h): a step either reports bytes
 * that reached dst, with the source advanced by exactly that much, or moves
 * nothing. So switching paths mid-transfer never loses or repeats a byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define CFR ZC_PATH_COPY_FILE_RANGE
#define SPLICE ZC_PATH_SPLICE
#define SENDFILE ZC_PATH_SENDFILE
#define MMAP ZC_PATH_MMAP_WRITE
#define RW ZC_PATH_READ_WRITE
#define CLONE ZC_PATH_CLONE

static const zc__path_fn path_fn[] = {
	[CFR] = zc__path_cfr,
	[SPLICE] = zc__path_splice,
	[SENDFILE] = zc__path_sendfile,
	[MMAP] = zc__path_mmap,
	[RW] = zc__path_rw,
	[CLONE] = zc__path_clone,
};

static const unsigned int path_off_flag[] = {
	[CFR] = ZC_NO_COPY_FILE_RANGE,
	[SPLICE] = ZC_NO_SPLICE,
	[SENDFILE] = ZC_NO_SENDFILE,
	[MMAP] = ZC_NO_MMAP,
	[RW] = 0,
	[ZC_PATH_VMSPLICE] = 0,
	[CLONE] = ZC_NO_REFLINK,
};

/* The ZC_NO_* flag that rules path out, 0 if none can (read_write, vmsplice). */
unsigned int zc__path_off_flag(uint32_t path)
{
	return path < sizeof(path_off_flag) / sizeof(path_off_flag[0]) ? path_off_flag[path] : 0;
}

/*
 * The paths for each pair, best first. zcopy(7) gives the reasons and
 * tests/bench/results/2026-11-23/ the runs behind them.
 * file->file: copy_file_range lets the filesystem reflink or offload. On
 * ext4, which can do neither, splice through the pooled pipe was faster up
 * to a few hundred MiB per call but fell into a slow mode at 1 GiB, and was
 * no faster once held to 128 KiB writes: copy_file_range stays first.
 * file->socket: one sendfile, through the kernel's own 64 KiB pipe. Two
 * splices through the pooled pipe won no run clearly enough to pay for the
 * second syscall and the pipe: sockets keep sendfile at every size.
 * file->device: into /dev/null and the like the pooled pipe does win from
 * 1 MiB, unless dst is non-blocking: what it cannot take goes back to the
 * file and costs the pooled pipe, while sendfile sends just what fits.
 * file->pipe: one splice straight into the caller's pipe.
 * pipe or socket source: splice, straight or through the pooled pipe
 * (path-splice.c says when a pipe source takes the pooled pipe).
 * A file that reports size 0 (procfs, sysfs, or empty) can only be read.
 */
static const uint8_t file_to_file[] = { CFR, SPLICE, SENDFILE, MMAP, RW, 0 };
static const uint8_t file_to_pipe[] = { SPLICE, SENDFILE, MMAP, RW, 0 };
static const uint8_t file_to_other[] = { SENDFILE, SPLICE, MMAP, RW, 0 };
static const uint8_t big_file_to_other[] = { SPLICE, SENDFILE, MMAP, RW, 0 };
static const uint8_t stream_to_any[] = { SPLICE, RW, 0 };
static const uint8_t device_to_any[] = { SPLICE, SENDFILE, RW, 0 };
static const uint8_t read_only[] = { RW, 0 };

#define SPLICE_BEATS_SENDFILE (1024u * 1024)

/* At most this much is left to read (no lseek: an fd's own offset counts as 0). */
static uint64_t file_left(const struct zc__xfer *x)
{
	return zc__src_left(x, x->src.off ? *x->src.off : 0, x->want);
}

static bool dst_blocks(const struct zc__xfer *x)
{
	int fl = zc__sys_fcntl(x->dst.fd, F_GETFL, 0);

	return fl >= 0 && !(fl & O_NONBLOCK);
}

static const uint8_t *pick_chain(const struct zc__xfer *x)
{
	uint32_t src = x->src.type, dst = x->dst.type;

	if (src == ZC_FD_PIPE || src == ZC_FD_SOCKET)
		return stream_to_any;
	/* Devices, block devices included, have no st_size to map or trust. */
	if (src != ZC_FD_FILE && src != ZC_FD_SHM)
		return device_to_any;
	if (x->src.st.st_size == 0)
		return read_only;
	if (zc__seekable(&x->dst))
		return file_to_file;
	if (dst == ZC_FD_PIPE)
		return file_to_pipe;
	if (dst != ZC_FD_SOCKET && file_left(x) >= SPLICE_BEATS_SENDFILE && dst_blocks(x))
		return big_file_to_other;
	return file_to_other;
}

/*
 * splice and sendfile out of a file into a pipe or a socket hand the
 * reader references to the page cache, not copies: under ZC_SNAPSHOT they
 * are left out. Into a file they copy before the call returns.
 */
static bool lends_pages(const struct zc__xfer *x, uint8_t path)
{
	return (x->flags & ZC_SNAPSHOT) && (path == SPLICE || path == SENDFILE) &&
	       zc__seekable(&x->src) && !zc__seekable(&x->dst);
}

/* The pair's chain less the paths the caller or the environment ruled out. */
static void build_chain(struct zc__xfer *x)
{
	unsigned int off = x->flags | zc__disabled;
	const uint8_t *p;

	x->nchain = 0;
	x->ci = 0;
	for (p = pick_chain(x); *p; p++) {
		if (off & path_off_flag[*p])
			continue;
		/* sendfile writes at dst's own offset only. */
		if (*p == SENDFILE && x->dst.off)
			continue;
		/* Where copy_file_range may share extents, it is a clone by another name. */
		if (*p == CFR && (x->flags & ZC_NO_REFLINK) && x->dst.may_clone)
			continue;
		if (lends_pages(x, *p))
			continue;
		x->chain[x->nchain++] = *p;
	}
}

/* Errors that mean "not this way", after which the next path may work. */
bool zc__falls_back(uint32_t path, int err)
{
	switch (err) {
	case EINVAL:
	case ENOSYS:
	case EXDEV:
	case EOPNOTSUPP:
	case EPERM:
	case ESPIPE:
	case ENODEV:
	case EOVERFLOW:
	case ETXTBSY:
		return path != RW;
	case EBADF:
		/* copy_file_range and FICLONERANGE refuse an O_APPEND dst with EBADF. */
		return path == CFR || path == CLONE;
	case ENOTTY:
		/* A filesystem without FICLONERANGE may not know the ioctl at all. */
		return path == CLONE;
	case EACCES:
	case EFAULT:
		/* A page the mapping could not bring in that read(2) can: path-mmap.c */
		return path == MMAP;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		/* No pooled pipe or no address space: the plain paths need neither. */
		return path == SPLICE || path == MMAP;
	}
	return false;
}

void zc__note_moved(struct zc__xfer *x, uint32_t path, uint64_t n)
{
	struct zc_stats *s = x->stats;

	x->moved += n;
	if (s->path != path && s->npaths < ZC_STATS_MAX)
		s->paths[s->npaths++] = path;
	s->path = path;
}

void zc__note_fallback(struct zc__xfer *x, uint32_t path, int err)
{
	struct zc_stats *s = x->stats;

	if (s->nfallbacks < ZC_STATS_MAX) {
		s->fallback_path[s->nfallbacks] = path;
		s->fallback_errno[s->nfallbacks] = err;
		s->nfallbacks++;
	}
}

/*
 * copy_file_range, sendfile and splice report 0 on procfs and sysfs files
 * that do have content (their size says 0 or 4096): a 0 before any byte
 * moved is only believed from read(). So is a 0 short of the size fstat
 * gave: FUSE takes a short read into the page cache for the end of the
 * file and answers the next splice from there with 0, where read() asks
 * the filesystem again. At a real end of file the position has reached
 * the size and the 0 stands, at the cost of one lseek for a call that
 * went to the end of an fd's own offset.
 */
static bool maybe_fake_eof(const struct zc__xfer *x, uint32_t path)
{
	int64_t pos;

	if (path == RW || !zc__seekable(&x->src))
		return false;
	if (x->moved == 0)
		return true;
	if (x->src.type == ZC_FD_BLOCK)
		return false;
	pos = zc__end_pos(&x->src);
	return pos >= 0 && pos < x->src.st.st_size;
}

/* One step of the path in use; false when the run must stop. */
static bool step(struct zc__xfer *x, uint64_t upto)
{
	uint8_t path = x->chain[x->ci];
	ssize_t r;

	x->err_side = ZC_SIDE_NONE;
	r = path_fn[path](x, upto - x->moved);
	if (r > 0) {
		zc__note_moved(x, path, (uint64_t)r);
		if (x->err)
			return false;
		if (x->fallback) {
			zc__note_fallback(x, path, x->fallback);
			x->fallback = 0;
			x->ci++;
		}
		return true;
	}
	if (r == 0 && !maybe_fake_eof(x, path)) {
		x->eof = true;
		return false;
	}
	/* A step that dropped bytes sets x->err: no path may go on past the hole. */
	if (r < 0 && (x->err || !zc__falls_back(path, (int)-r))) {
		x->err = x->err ? x->err : (int)-r;
		return false;
	}
	zc__note_fallback(x, path, (int)-r);
	x->ci = r == 0 ? x->nchain - 1 : x->ci + 1;	/* only read() can tell a real EOF */
	return true;
}

static void run_upto(struct zc__xfer *x, uint64_t upto)
{
	while (x->ci < x->nchain && x->moved < upto && step(x, upto))
		;
}

bool zc__progress(struct zc__xfer *x)
{
	const struct zc__progress *p = &x->progress;

	if (!p->fn || x->err)
		return !x->err;
	if (p->fn(x->moved, p->total, x->stats->path, p->arg) == 0)
		return true;
	x->err = ECANCELED;
	return false;
}

/* run_upto in pieces of the progress chunk, telling the callback after each. */
static void copy(struct zc__xfer *x, uint64_t upto)
{
	uint64_t piece, before;

	if (!x->progress.fn) {
		run_upto(x, upto);
		return;
	}
	while (x->moved < upto && !x->err && !x->eof && x->ci < x->nchain) {
		piece = ZC_MIN(upto - x->moved, x->progress.chunk);
		before = x->moved;
		run_upto(x, x->moved + piece);
		/* The step that only found the end moved nothing: nothing to tell. */
		if (x->moved > before && !zc__progress(x))
			return;
	}
}

/*
 * Between files on a filesystem that can share extents, a clone of the
 * whole range comes before anything else (and before the hole walk: a
 * clone keeps holes by itself); with ZC_REFLINK_ONLY it is all there is.
 */
static bool wants_clone(const struct zc__xfer *x)
{
	if ((x->flags & ZC_NO_REFLINK) || (zc__disabled & ZC_NO_REFLINK))
		return false;
	if (x->src.type != ZC_FD_FILE || x->dst.type != ZC_FD_FILE)
		return false;
	return (x->flags & ZC_REFLINK_ONLY) || x->dst.may_clone;
}

/* Whether the clone settled the call (moved it all, or ended it). */
static bool clone_all(struct zc__xfer *x)
{
	ssize_t r = zc__path_clone(x, x->want);
	bool only = x->flags & ZC_REFLINK_ONLY;

	if (r > 0) {
		zc__note_moved(x, CLONE, (uint64_t)r);
		zc__progress(x);	/* the callback hears of it; there is nothing left to stop */
		return true;
	}
	if (r == 0)
		return true;
	if (!zc__falls_back(CLONE, (int)-r)) {
		x->err = (int)-r;
		return true;
	}
	zc__note_fallback(x, CLONE, (int)-r);
	if (only)
		x->err = r == -EXDEV ? EXDEV : EOPNOTSUPP;
	return only;
}

static void run(struct zc__xfer *x)
{
	build_chain(x);
	if (wants_clone(x) && clone_all(x))
		return;
	if (x->flags & ZC_REFLINK_ONLY) {
		x->err = EOPNOTSUPP;	/* not two files: nothing can be cloned */
		return;
	}
	if (zc__walks_holes(x))
		zc__walk_holes(x, copy);
	else
		copy(x, x->want);
}

/*
 * Copying a file onto itself is fine between ranges that do not overlap.
 * An unbounded or overlapping copy would read its own output and never end.
 * As the kernel does, a dst not open for writing is EBADF before anything
 * else; and the ranges are the bytes that can be copied, so a source at
 * its end (cat <&3 >&4 with fd 3 at EOF) copies nothing and succeeds.
 */
static int check_same_file(struct zc__xfer *x)
{
	int64_t src_pos, dst_pos;
	uint64_t n;
	int fl;

	if (x->src.st.st_dev != x->dst.st.st_dev || x->src.st.st_ino != x->dst.st.st_ino)
		return 0;
	fl = zc__sys_fcntl(x->dst.fd, F_GETFL, 0);
	if (fl >= 0 && (fl & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	src_pos = zc__end_pos(&x->src);
	dst_pos = zc__end_pos(&x->dst);
	if (src_pos < 0 || dst_pos < 0 || fl < 0)
		return (int)(src_pos < 0 ? src_pos : dst_pos < 0 ? dst_pos : fl);
	/* A block device has no st_size: judge it by len, as before. */
	n = x->want;
	if (x->src.type != ZC_FD_BLOCK)
		n = zc__src_left(x, src_pos, n);
	if (n == 0)
		return 0;
	if (x->want == (uint64_t)SSIZE_MAX)
		return -EINVAL;
	if ((fl & O_APPEND) && !x->dst.off)
		dst_pos = x->dst.st.st_size;
	if ((uint64_t)src_pos < (uint64_t)dst_pos + n && (uint64_t)dst_pos < (uint64_t)src_pos + n)
		return -EINVAL;
	return 0;
}

static int check_end(struct zc__end *e)
{
	int r = zc__fd_probe(e);

	if (r < 0)
		return r;
	if (e->type == ZC_FD_DIR)
		return -EISDIR;
	if (e->off && (!zc__seekable(e) || *e->off < 0))
		return zc__seekable(e) ? -EINVAL : -ESPIPE;
	return 0;
}

/*
 * ZC_GROW_PIPES: a 1 MiB pipe moved file->pipe and pipe->pipe several times
 * faster at 1 GiB per call, but below 1 MiB per call the resize cost more
 * than it gave, and a grown source pipe did not help a file destination
 * (tests/bench/results/2026-11-23/). So only large calls grow, and a source
 * pipe only when the destination is a pipe too.
 */
#define GROW_PIPES_MIN (1024u * 1024)

static void grow_pipes(struct zc__xfer *x)
{
	if (!(x->flags & ZC_GROW_PIPES) || x->want < GROW_PIPES_MIN)
		return;
	if (x->dst.type == ZC_FD_PIPE) {
		zc__pipe_grow(x->dst.fd);
		if (x->src.type == ZC_FD_PIPE)
			zc__pipe_grow(x->src.fd);
	}
}

/*
 * pwrite(2) on an O_APPEND fd appends wherever the offset says, so an
 * explicit dst offset there would be advanced past bytes that went elsewhere.
 */
static int check_dst_offset(const struct zc__end *e)
{
	int fl = zc__sys_fcntl(e->fd, F_GETFL, 0);

	if (fl < 0)
		return fl;
	return fl & O_APPEND ? -EINVAL : 0;
}

/* What a destination must pass, for zc_transfer_at() and the region calls alike. */
int zc__prepare_dst(struct zc__xfer *x)
{
	int r = check_end(&x->dst);

	x->stats->dst_type = x->dst.type;
	if (r == 0 && x->dst.off)
		r = check_dst_offset(&x->dst);
	return r < 0 ? zc__blame(x, ZC_SIDE_DST, r) : 0;
}

static int prepare(struct zc__xfer *x)
{
	int r = zc__blame(x, ZC_SIDE_SRC, check_end(&x->src));

	x->stats->src_type = x->src.type;
	if (r == 0)
		r = zc__prepare_dst(x);
	if (r == 0 && zc__seekable(&x->src) && zc__seekable(&x->dst))
		r = check_same_file(x);
	return r;
}

/*
 * The guard is two rt_sigprocmask calls, which at 4 KiB per call is a fifth
 * of a splice into a pipe (zcopy(7)); a caller that has SIGPIPE in hand
 * says so with ZC_NO_SIGPIPE_GUARD and does not pay for it.
 */
bool zc__needs_sigpipe_guard(unsigned int flags, uint32_t dst_type)
{
	if (flags & ZC_NO_SIGPIPE_GUARD)
		return false;
	return dst_type == ZC_FD_PIPE || dst_type == ZC_FD_SOCKET;
}

/* What every call, transfer or relay move, reports when it ends. */
void zc__xfer_report(struct zc__xfer *x, uint64_t sys0)
{
	x->stats->bytes = x->moved;
	x->stats->error = x->err;
	if (x->err)
		x->stats->error_side = zc__error_side(x, x->err);
	x->stats->syscalls = zc__sys_count - sys0;
	if (zc__debug)
		zc__debug_line(x);
}

/*
 * What every transfer does around its own prepare and run steps (the region
 * calls have theirs): the flags check, stats (x->stats may be NULL),
 * ZC_GROW_PIPES once both ends passed, SIGPIPE kept away, the ZCOPY_DEBUG
 * line, and the count convention of write(2): bytes moved if any, even when
 * an error ended the call (stats says which), else -errno or 0.
 */
ssize_t zc__xfer_call(struct zc__xfer *x, int (*prep)(struct zc__xfer *),
		      void (*go)(struct zc__xfer *))
{
	struct zc__sigpipe sp = { .active = false };
	uint64_t sys0 = zc__sys_count;
	int r;

	if (!x->stats)
		x->stats = &x->own_stats;
	memset(x->stats, 0, sizeof(*x->stats));
	r = (x->flags & ~ZC_XFER_FLAGS) || (x->flags & ZC_REFLINK_FLAGS) == ZC_REFLINK_FLAGS ?
		    -EINVAL :
		    prep(x);
	if (r == 0)
		grow_pipes(x);
	if (r < 0) {
		x->err = -r;
	} else if (x->want) {
		if (zc__needs_sigpipe_guard(x->flags, x->dst.type))
			zc__sigpipe_block(&sp);
		go(x);
		zc__sigpipe_restore(&sp, x->err);
	}
	zc__xfer_report(x, sys0);
	if (x->moved)
		return (ssize_t)x->moved;
	return -x->err;
}

ssize_t zc__transfer_at(int src_fd, int64_t *src_off, int dst_fd, int64_t *dst_off,
			uint64_t len, unsigned int flags, struct zc_stats *stats)
{
	struct zc__xfer x = {
		.src = { .fd = src_fd, .off = src_off },
		.dst = { .fd = dst_fd, .off = dst_off },
		.want = ZC_MIN(len, (uint64_t)SSIZE_MAX),
		.flags = flags,
		.stats = stats,
	};

	return zc__xfer_call(&x, prepare, run);
}

/*
 * Take the caller's struct zc_opts, of whatever size it was built with,
 * by openat2's rule: the first version's fields are all needed, later
 * ones missing from an older caller's struct are zero (so every field
 * added must mean "as before" at zero), and bytes past the fields this
 * version knows must be zero, or the caller asks for something it would
 * silently not get: E2BIG.
 */
#define OPTS_SIZE_VER0 (offsetof(struct zc_opts, arg) + sizeof(void *))
#define OPTS_SIZE_MAX 4096

static int read_opts(const struct zc_opts *in, struct zc_opts *o)
{
	const unsigned char *p = (const unsigned char *)in;
	uint32_t i;

	memset(o, 0, sizeof(*o));
	if (!in || in->size < OPTS_SIZE_VER0)
		return -EINVAL;
	if (in->size > OPTS_SIZE_MAX)
		return -E2BIG;
	for (i = sizeof(*o); i < in->size; i++)
		if (p[i])
			return -E2BIG;
	memcpy(o, in, ZC_MIN(in->size, (uint32_t)sizeof(*o)));
	if (o->src_off < ZC_OFF_NONE || o->dst_off < ZC_OFF_NONE)
		return -EINVAL;
	return 0;
}

#define PROGRESS_CHUNK (8u * 1024 * 1024)

/* What the callback is told the call will move: a file's rest, else len if given. */
static void progress_total(struct zc__xfer *x)
{
	int64_t pos;

	x->progress.total = x->want == (uint64_t)SSIZE_MAX ? ZC_TOTAL_UNKNOWN : x->want;
	if (x->src.type != ZC_FD_FILE && x->src.type != ZC_FD_SHM)
		return;
	pos = zc__end_pos(&x->src);
	if (pos >= 0 && x->src.st.st_size > 0)
		x->progress.total = zc__src_left(x, pos, x->want);
}

static int prepare_opts(struct zc__xfer *x)
{
	int r = prepare(x);

	if (r == 0 && x->progress.fn)
		progress_total(x);
	return r;
}

static ssize_t transfer_opts(int src_fd, int dst_fd, const struct zc_opts *in,
			     struct zc_stats *stats)
{
	struct zc_opts o;
	int r = read_opts(in, &o);
	struct zc__xfer x = {
		.src = { .fd = src_fd, .off = o.src_off >= 0 ? &o.src_off : NULL },
		.dst = { .fd = dst_fd, .off = o.dst_off >= 0 ? &o.dst_off : NULL },
		.want = ZC_MIN(o.len, (uint64_t)SSIZE_MAX),
		.flags = o.flags,
		.progress = { o.progress, o.arg, o.chunk ? o.chunk : PROGRESS_CHUNK, 0 },
		.stats = stats,
	};

	if (r < 0) {
		if (stats)
			memset(stats, 0, sizeof(*stats));
		return r;
	}
	return zc__xfer_call(&x, prepare_opts, run);
}

ZC_EXPORT ssize_t zc_transfer_opts(int src_fd, int dst_fd, const struct zc_opts *opts,
				   struct zc_stats *stats)
{
	return zc__ret(transfer_opts(src_fd, dst_fd, opts, stats));
}

ZC_EXPORT ssize_t zc_transfer_at(int src_fd, uint64_t *src_off, int dst_fd, uint64_t *dst_off,
				 size_t len, unsigned int flags, struct zc_stats *stats)
{
	return zc__ret(zc__transfer_at(src_fd, (int64_t *)src_off, dst_fd, (int64_t *)dst_off,
				       len, flags, stats));
}

ZC_EXPORT ssize_t zc_transfer_ex(int src_fd, int dst_fd, size_t len, unsigned int flags,
				 struct zc_stats *stats)
{
	return zc__ret(zc__transfer_at(src_fd, NULL, dst_fd, NULL, len, flags, stats));
}

ZC_EXPORT ssize_t zc_transfer(int src_fd, int dst_fd, size_t len, unsigned int flags)
{
	return zc__ret(zc__transfer_at(src_fd, NULL, dst_fd, NULL, len, flags, NULL));
}
