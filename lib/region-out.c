// SPDX-License-Identifier: MIT
/*
 * Zero-copy out: send a slice of a region to any fd.
 *
 * A region whose fd holds what is mapped (POSIX, memfd, a shared file
 * load) goes through zc_transfer_at on that fd, with all of its paths and
 * fallbacks. A region that is only memory (System V, a copy-on-write load)
 * goes by vmsplice: the pages themselves enter a pipe, the caller's if dst
 * is one, else the thread's pooled pipe and on to dst by splice. When dst
 * refuses splice the rest goes by write(), one copy.
 *
 * vmsplice shares pages, it does not copy them: until the reader has
 * drained the pipe (or, for a socket, the kernel has sent the bytes) a
 * change to the slice can show up in what is sent. Keep it still until
 * then. A mapping that faults (a truncated file under a private load)
 * makes vmsplice and write return EFAULT; no SIGBUS is raised.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>

#include "region.h"

/* A transfer whose source is a region's memory. */
struct mem_out {
	struct zc__xfer x;	/* first: the engine's steps get &m->x */
	const struct zc_region *r;
};

static const char *src_at(const struct zc__xfer *x, const struct zc_region *r)
{
	return (const char *)r->addr + *x->src.off;
}

static ssize_t vmsplice_once(int pipe_wr, const char *p, size_t n, unsigned int fl)
{
	struct iovec iov = { (void *)p, n };
	ssize_t r;

	do
		r = zc__sys_vmsplice(pipe_wr, &iov, 1, fl);
	while (r == -EINTR);
	return r;
}

/* Move n bytes now in the pooled pipe to dst; what dst refuses is dropped. */
static ssize_t pipe_to_dst(struct zc__xfer *x, struct zc__pipe *p, size_t n)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = zc__sys_splice(p->rd, NULL, x->dst.fd, x->dst.off, n - done, SPLICE_F_MOVE);
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			/* The slice is still in the region: only the pipe must be emptied. */
			zc__pipe_discard();
			if (done == 0)
				return r ? r : -EIO;
			x->err = (int)-r;
			break;
		}
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/*
 * One step of vmsplice: straight into a pipe dst, or through the pooled
 * pipe. SPLICE_F_NONBLOCK on the pooled pipe: an unaligned slice needs one
 * more pipe slot than its byte count suggests, and we are its only reader.
 */
static ssize_t step_vmsplice(struct zc__xfer *x, const struct zc_region *r, uint64_t len,
			     unsigned int dst_nonblock)
{
	struct zc__pipe *p;
	ssize_t n;
	int e;

	len = ZC_MIN(len, ZC_CALL_MAX);
	if (x->dst.type == ZC_FD_PIPE)
		return vmsplice_once(x->dst.fd, src_at(x, r), (size_t)len, dst_nonblock);
	e = zc__pipe_get(&p);
	if (e < 0)
		return e;
	/* Into a file, no more than one piece, so one splice drains it (internal.h). */
	n = vmsplice_once(p->wr, src_at(x, r), zc__dst_piece(x, ZC_MIN((size_t)len, p->size)),
			  SPLICE_F_NONBLOCK);
	if (n <= 0)
		return n;
	return pipe_to_dst(x, p, (size_t)n);
}

static ssize_t step_write(struct zc__xfer *x, const struct zc_region *r, uint64_t len)
{
	size_t n = zc__write_all(x, src_at(x, r), ZC_MIN(len, ZC_CALL_MAX), &x->err);

	if (n == 0) {
		n = (size_t)x->err;
		x->err = 0;
		return -(ssize_t)n;
	}
	return (ssize_t)n;
}

static void note(struct zc__xfer *x, uint32_t path, uint64_t n)
{
	*x->src.off += (int64_t)n;
	zc__note_moved(x, path, n);
}

static bool vmsplice_refused(int err)
{
	return err == EINVAL || err == ENOSYS || err == EOPNOTSUPP || err == EBADF ||
	       err == ENOMEM || err == EMFILE || err == ENFILE;
}

/* vmsplice ignores the pipe's O_NONBLOCK and goes by its own flag only. */
static unsigned int nonblock_flag(const struct zc__xfer *x)
{
	int fl = x->dst.type == ZC_FD_PIPE ? zc__sys_fcntl(x->dst.fd, F_GETFL, 0) : 0;

	return fl > 0 && (fl & O_NONBLOCK) ? SPLICE_F_NONBLOCK : 0;
}

static void run(struct zc__xfer *x)
{
	const struct zc_region *r = ((struct mem_out *)x)->r;
	/* vmsplice lends the region's pages: not for a snapshot. */
	bool splice_ok = !((x->flags | zc__disabled) & (ZC_NO_SPLICE | ZC_SNAPSHOT));
	unsigned int nonblock = splice_ok ? nonblock_flag(x) : 0;
	ssize_t n;

	while (x->moved < x->want && !x->err) {
		if (splice_ok) {
			n = step_vmsplice(x, r, x->want - x->moved, nonblock);
			if (n < 0 && vmsplice_refused((int)-n)) {
				zc__note_fallback(x, ZC_PATH_VMSPLICE, (int)-n);
				splice_ok = false;
				continue;
			}
		} else {
			n = step_write(x, r, x->want - x->moved);
		}
		if (n < 0)
			x->err = (int)-n;
		else if (n == 0)
			x->err = EIO;
		else
			note(x, splice_ok ? ZC_PATH_VMSPLICE : ZC_PATH_READ_WRITE, (uint64_t)n);
	}
}

static int prepare(struct zc__xfer *x)
{
	x->stats->src_type = ZC_FD_SHM;
	return zc__prepare_dst(x);
}

static ssize_t from_memory(const struct zc_region *r, uint64_t off, uint64_t len, int dst_fd,
			   uint64_t *dst_off, unsigned int flags, struct zc_stats *stats)
{
	int64_t pos = (int64_t)off;
	struct mem_out m = {
		.x = {
			.src = { .fd = -1, .type = ZC_FD_SHM, .off = &pos },
			.dst = { .fd = dst_fd, .off = (int64_t *)dst_off },
			.want = len,
			.flags = flags,
			.stats = stats,
		},
		.r = r,
	};

	return zc__xfer_call(&m.x, prepare, run);
}

/* The fd holds exactly what is mapped, so the fd paths can do the work. */
static bool fd_backed(const struct zc_region *r)
{
	return r->fd >= 0 && r->kind != ZC_REGION_SYSV && !(r->flags & ZC_REGION_PRIVATE);
}

static ssize_t region_transfer(const struct zc_region *r, uint64_t off, size_t len,
			       int dst_fd, uint64_t *dst_off, unsigned int flags,
			       struct zc_stats *stats)
{
	int64_t src = (int64_t)off;
	uint64_t n;

	if (!r || r->kind == ZC_REGION_NONE || off > r->size || (flags & ~ZC_XFER_FLAGS))
		return -EINVAL;
	n = ZC_MIN((uint64_t)len, r->size - off);
	n = ZC_MIN(n, (uint64_t)SSIZE_MAX);
	if (fd_backed(r))
		return zc__transfer_at(r->fd, &src, dst_fd, (int64_t *)dst_off, n, flags, stats);
	return from_memory(r, off, n, dst_fd, dst_off, flags, stats);
}

ZC_EXPORT ssize_t zc_region_transfer(const struct zc_region *r, uint64_t off, size_t len,
				     int dst_fd, uint64_t *dst_off, unsigned int flags,
				     struct zc_stats *stats)
{
	return zc__ret(region_transfer(r, off, len, dst_fd, dst_off, flags, stats));
}
