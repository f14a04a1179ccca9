// SPDX-License-Identifier: MIT
/*
 * Keeping a sparse source's holes: walk it with SEEK_DATA/SEEK_HOLE and
 * move only the data ranges, each through the normal path chain; a hole
 * costs two offsets moved forward, not its size in zeros written (and, on
 * the destination's disk, allocated).
 *
 * Only between regular files, and only when the source is sparse (fewer
 * blocks than its size says): a dense file pays nothing for this. A hole
 * that lands past the destination's end is skipped and the size set at
 * the end, as cp --sparse=auto does; one that lands over bytes the
 * destination already held is punched out (or, where the filesystem cannot
 * punch, written as zeros), so the copy never keeps stale bytes.
 *
 * A writer may punch or fill the source while we walk it. Every round moves
 * at least a byte or skips a hole, so the walk ends; after WALK_SURPRISES
 * answers that contradict each other, the rest is copied densely, which is
 * right whatever the layout became.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>

#include "internal.h"

#define WALK_SURPRISES 8

/*
 * Sparse regular file into a regular file at a position that a skipped
 * hole can leave unwritten: not O_APPEND, where every write lands at the
 * end and a hole must be written as zeros (read_write does that, reading
 * the holes as zeros without allocating them).
 */
bool zc__walks_holes(const struct zc__xfer *x)
{
	int fl;

	if ((x->flags & ZC_NO_HOLES) || !zc__sparse(&x->src))
		return false;
	if ((x->src.type != ZC_FD_FILE && x->src.type != ZC_FD_SHM) ||
	    (x->dst.type != ZC_FD_FILE && x->dst.type != ZC_FD_SHM))
		return false;
	if (x->dst.off)
		return true;	/* zc_transfer_at refused O_APPEND already */
	fl = zc__sys_fcntl(x->dst.fd, F_GETFL, 0);
	return fl >= 0 && !(fl & O_APPEND);
}

/* Zeros over [at, at + n) of dst, where punching a hole is not supported. */
static int write_zeros(struct zc__xfer *x, int64_t at, uint64_t n)
{
	char *zeros = zc__rw_buffer();
	int64_t off = at;
	size_t piece;
	int err = 0;

	if (!zeros)
		return -ENOMEM;
	memset(zeros, 0, ZC_RW_BUF_SIZE);
	while (n && !err) {
		piece = (size_t)ZC_MIN(n, (uint64_t)ZC_RW_BUF_SIZE);
		ssize_t r = zc__sys_pwrite(x->dst.fd, zeros, piece, off);

		if (r == -EINTR)
			continue;
		if (r <= 0)
			err = r ? (int)r : -EIO;
		else {
			off += r;
			n -= (uint64_t)r;
		}
	}
	return err;
}

/*
 * The n bytes of hole at dst position at: nothing to do past the end the
 * destination had when the walk began, zeros over what it held before.
 */
static int clear_under(struct zc__xfer *x, int64_t at, uint64_t n, int64_t dst_size)
{
	int r;

	if (at >= dst_size)
		return 0;
	n = ZC_MIN(n, (uint64_t)(dst_size - at));
	r = zc__sys_fallocate(x->dst.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, at,
			      (int64_t)n);
	if (r == -EOPNOTSUPP || r == -ENOSYS)
		r = write_zeros(x, at, n);
	return r;
}

struct walk {
	int64_t src0;		/* source position when the walk began */
	int64_t dst0;		/* destination position then */
	int64_t dst_size;	/* destination size then */
	int64_t stop;		/* source position where the walk ends */
	unsigned int surprises;
	uint64_t tail;		/* hole bytes skipped since the last data */
};

static int skip_hole(struct zc__xfer *x, struct walk *w, uint64_t n)
{
	int r = clear_under(x, w->dst0 + (int64_t)x->moved, n, w->dst_size);

	if (r == 0)
		r = zc__end_move(&x->src, (int64_t)n);
	if (r == 0)
		r = zc__end_move(&x->dst, (int64_t)n);
	if (r < 0) {
		x->err = -zc__blame(x, ZC_SIDE_DST, r);
		return r;
	}
	x->moved += n;
	x->stats->holes += n;
	w->tail += n;
	return 0;
}

/*
 * The next data range at or after cur, as [*data, *end), clipped to the
 * walk; 1 when the rest of the walk is hole, -errno when the file cannot
 * be walked (copy the rest densely).
 */
static int next_data(struct zc__xfer *x, struct walk *w, int64_t cur, int64_t *data,
		     int64_t *end)
{
	int64_t d = zc__sys_lseek(x->src.fd, cur, SEEK_DATA), h;

	if (d == -ENXIO || (d >= 0 && d >= w->stop)) {
		*data = *end = w->stop;
		return 1;
	}
	if (d < 0)
		return (int)d;
	h = zc__sys_lseek(x->src.fd, d, SEEK_HOLE);
	if (h < 0 && h != -ENXIO)
		return (int)h;
	/* Data found, then no hole after it (truncated between): a surprise. */
	if (d < cur || h <= d) {
		w->surprises++;
		*data = cur;
		*end = w->stop;
		return 0;
	}
	*data = d;
	*end = ZC_MIN(h, w->stop);
	return 0;
}

/*
 * A hole at the very end: give the destination its size. If that fails,
 * the tail hole did not land: take it back from the count and the offsets.
 */
static void set_size(struct zc__xfer *x, struct walk *w)
{
	int64_t end = w->dst0 + (int64_t)x->moved;
	struct stat st;
	int r = zc__sys_fstat(x->dst.fd, &st);

	if (r == 0 && st.st_size < end)
		r = zc__sys_ftruncate(x->dst.fd, end);
	if (r == 0)
		return;
	x->err = -zc__blame(x, ZC_SIDE_DST, r);
	x->moved -= w->tail;
	x->stats->holes -= w->tail;
	zc__end_move(&x->src, -(int64_t)w->tail);
	zc__end_move(&x->dst, -(int64_t)w->tail);
}

static void walk(struct zc__xfer *x, struct walk *w, zc__copy_fn copy)
{
	int64_t cur, data = 0, end = 0;
	int r;

	while (!x->err && !x->eof && (cur = w->src0 + (int64_t)x->moved) < w->stop) {
		if (w->surprises > WALK_SURPRISES)
			break;
		r = next_data(x, w, cur, &data, &end);
		if (r < 0)
			break;
		if (data > cur && (skip_hole(x, w, (uint64_t)(data - cur)) < 0 ||
				   !zc__progress(x)))
			break;
		if (r > 0)
			continue;
		w->tail = 0;
		copy(x, (uint64_t)(end - w->src0));
		if (x->moved < (uint64_t)(end - w->src0) && !x->err && !x->eof)
			w->surprises++;
	}
	/* Dense from here: the walk could not go on, or the file grew. */
	if (!x->err && !x->eof) {
		uint64_t before = x->moved;

		copy(x, x->want);
		if (x->moved > before)
			w->tail = 0;
	}
	/* Also when the caller cancelled: dst must hold every byte counted. */
	if (w->tail && (!x->err || x->err == ECANCELED))
		set_size(x, w);
}

void zc__walk_holes(struct zc__xfer *x, zc__copy_fn copy)
{
	struct walk w = { .dst_size = x->dst.st.st_size };
	int64_t *src_off = x->src.off, pos;

	w.src0 = zc__end_pos(&x->src);
	w.dst0 = zc__end_pos(&x->dst);
	if (w.src0 < 0 || w.dst0 < 0) {
		x->err = (int)-(w.src0 < 0 ? w.src0 : w.dst0);
		return;
	}
	w.stop = w.src0 + (int64_t)zc__src_left(x, w.src0, x->want);
	/*
	 * SEEK_DATA and SEEK_HOLE move the fd's offset: walk on a private one
	 * and set the fd's after, to where the copy ended or, for a caller's
	 * explicit offset, back to where it was.
	 */
	pos = src_off ? zc__sys_lseek(x->src.fd, 0, SEEK_CUR) : w.src0;
	if (pos < 0) {
		x->err = zc__blame(x, ZC_SIDE_SRC, (int)-pos);
		return;
	}
	if (!src_off)
		x->src.off = &pos;
	walk(x, &w, copy);
	x->src.off = src_off;
	pos = zc__sys_lseek(x->src.fd, pos, SEEK_SET);
	if (pos < 0 && !x->err)
		x->err = zc__blame(x, ZC_SIDE_SRC, (int)-pos);
}
