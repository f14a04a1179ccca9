// SPDX-License-Identifier: MIT
/*
 * splice: page references move instead of bytes. One end of every splice
 * must be a pipe; when neither fd is one, or when only the source is (see
 * straight()), the bytes go through the calling thread's pooled pipe
 * (pipe-pool.c) in two steps, src -> pipe -> dst.
 *
 * Between the two steps the bytes belong to nobody, so the second step must
 * not give up lightly: a non-blocking dst is waited for, a dst that refuses
 * splice gets the rest by write(), and only when dst fails for good (EPIPE,
 * ENOSPC) are they given back to a seekable source or, from a socket, lost
 * as they would be by any read/write loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>

#include "internal.h"

/*
 * Errors on which dst may still take the bytes by write(): every error for
 * which the engine would leave splice for the next path. Any other answer
 * here would drop bytes from a socket and then carry on by read/write, as
 * if nothing had been lost.
 */
static bool write_may_work(int err)
{
	return zc__falls_back(ZC_PATH_SPLICE, err);
}

static ssize_t to_dst(struct zc__xfer *x, int pipe_rd, size_t len)
{
	return zc__sys_splice(pipe_rd, NULL, x->dst.fd, x->dst.off, zc__dst_piece(x, len),
			     SPLICE_F_MOVE);
}

/* Read the rest out of the pipe and write it to dst. Returns the bytes delivered. */
static size_t copy_out(struct zc__xfer *x, struct zc__pipe *p, size_t rest, int *err)
{
	char *buf = zc__rw_buffer();
	size_t done = 0;
	ssize_t r;

	*err = buf ? 0 : ENOMEM;
	while (buf && done < rest) {
		r = zc__sys_read(p->rd, buf, ZC_MIN(rest - done, ZC_RW_BUF_SIZE));
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			*err = r ? (int)-r : EIO;
			break;
		}
		r = zc__deliver(x, buf, (size_t)r);
		if (r <= 0 || x->err) {
			*err = r < 0 ? (int)-r : x->err;
			done += r > 0 ? (size_t)r : 0;
			x->err = 0;
			break;
		}
		done += (size_t)r;
	}
	return done;
}

/*
 * dst refused the last rest bytes in the pipe after done had reached it.
 * Settle them so the pipe is empty and the offsets tell the truth.
 */
static ssize_t settle_rest(struct zc__xfer *x, struct zc__pipe *p, size_t done, size_t rest,
			   int err)
{
	int r;

	if (zc__seekable(&x->src)) {
		zc__pipe_discard();
		r = zc__src_rewind(x, rest);
		if (r < 0)
			err = -r;
		/* What dst took stands; the rest, back in the source, goes by the next path. */
		if (r == 0 && done && write_may_work(err)) {
			x->fallback = err;
			return (ssize_t)done;
		}
	} else if (write_may_work(err)) {
		int why = err;

		done += copy_out(x, p, rest, &err);
		if (!err) {
			x->fallback = why;	/* dst takes write() only: leave splice */
			return (ssize_t)done;
		}
		zc__pipe_discard();
	} else {
		zc__pipe_discard();
	}
	if (done == 0 && zc__seekable(&x->src))
		return -err;
	/* Bytes a socket gave us are gone: the call must end here, even on a fall-back errno. */
	x->err = err;
	return done ? (ssize_t)done : -err;
}

/* Move the n bytes now in the pipe on to dst. */
static ssize_t drain(struct zc__xfer *x, struct zc__pipe *p, size_t n)
{
	size_t done = 0;
	ssize_t r;
	int err;

	while (done < n) {
		r = to_dst(x, p->rd, n - done);
		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (r == -EINTR)
			continue;
		if (r == -EAGAIN && !zc__seekable(&x->src)) {
			r = zc__wait_fd(x->dst.fd, POLLOUT);
			if (r == 0)
				continue;
		}
		err = zc__blame(x, ZC_SIDE_DST, r ? (int)-r : EIO);
		return settle_rest(x, p, done, n - done, err);
	}
	return (ssize_t)n;
}

static ssize_t via_pipe(struct zc__xfer *x, uint64_t len)
{
	struct zc__pipe *p;
	ssize_t n;
	int r;

	r = zc__pipe_get(&p);
	if (r < 0)
		return r;
	/* Take no more than dst takes in one piece, so one splice drains it. */
	len = zc__dst_piece(x, ZC_MIN(len, p->size));
	n = zc__sys_splice(x->src.fd, x->src.off, p->wr, NULL, len, SPLICE_F_MOVE);
	if (n < 0)
		return zc__blame(x, ZC_SIDE_SRC, (int)n);
	if (n == 0)
		return 0;
	return drain(x, p, (size_t)n);
}

/*
 * Out of a pipe into a file or socket, splice holds the pipe's lock until
 * dst has taken the bytes, so whoever feeds that pipe waits out every file
 * write and socket send. Through the pooled pipe the caller's pipe is held
 * only while its pages move, which made pipe->file and pipe->TCP about
 * twice as fast as straight at 1 MiB per call, with less CPU (figures in
 * tests/bench/results/2026-11-23/). A call smaller than a default
 * pipe gains too little to pay for the second splice.
 */
#define POOL_FROM_PIPE_MIN (64u * 1024)

static bool straight(const struct zc__xfer *x)
{
	if (x->dst.type == ZC_FD_PIPE)
		return true;
	return x->src.type == ZC_FD_PIPE && x->want < POOL_FROM_PIPE_MIN;
}

ssize_t zc__path_splice(struct zc__xfer *x, uint64_t len)
{
	len = ZC_MIN(len, ZC_CALL_MAX);
	if (straight(x))
		return zc__sys_splice(x->src.fd, x->src.off, x->dst.fd, x->dst.off,
				     zc__dst_piece(x, len), SPLICE_F_MOVE);
	return via_pipe(x, len);
}
