// SPDX-License-Identifier: MIT
/*
 * Relays: zc_transfer for event loops. zc_transfer() must deliver before it
 * returns the bytes it took from a socket, so with a non-blocking dst that
 * fills up it waits in poll(2). A relay owns the pipe those bytes sit in
 * instead, and keeps them there between calls: zc_relay_move() delivers what
 * is pending, takes more from src only once nothing is, and returns as soon
 * as either side would block.
 *
 * Every splice goes through the relay's pipe, even when src or dst is a pipe
 * itself: then EAGAIN from the step into the pipe always means "src has
 * nothing" and EAGAIN from the step out "dst is full, bytes pending", which
 * is what tells the caller whether to wait for src or for dst. Both pipe
 * ends are non-blocking and every splice says SPLICE_F_NONBLOCK, so the only
 * waits left are the ones the caller's own fds ask for.
 *
 * Where splice cannot serve (kTLS receive, some character devices, a file
 * system that refuses it) the relay moves to read/write for good, through
 * a buffer of its own that holds what dst has not taken yet: the same
 * promise, no byte lost or repeated.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RELAY_FLAGS ZC_NO_SPLICE
/* The buffer of read/write mode when the relay asked for no pipe size. */
#define RW_DEFAULT (64u * 1024)
#define RW_MAX (1024u * 1024)

struct zc_relay {
	struct zc__pipe pipe;	/* rd -1 while none is borrowed */
	uint64_t in_pipe;	/* bytes pending in the pipe */
	char *buf;		/* read/write mode: pending bytes at buf + off */
	uint32_t off;
	uint32_t in_buf;	/* bytes pending in buf */
	uint32_t buf_size;
	uint32_t asked;		/* pipe size asked for, 0 for the kernel's */
	unsigned int flags;
	bool rw;		/* splice gave up for good: read/write only */
	bool eof;		/* src has ended */
	bool ever;		/* src has given bytes */
	int err;		/* errno that ended the relay, reported on every call */
	/* What the last pair was, for zc_stats and the SIGPIPE guard. */
	int src_fd;
	int dst_fd;
	uint32_t src_type;
	uint32_t dst_type;
};

static uint64_t pending(const struct zc_relay *r)
{
	return r->in_pipe + r->in_buf;
}

/* Learn what the fds are once per pair, not on every call. */
static int probe(struct zc_relay *r, struct zc__xfer *x)
{
	int err;

	if (r->src_fd != x->src.fd || r->src_type == ZC_FD_UNKNOWN) {
		err = zc__fd_probe(&x->src);
		if (err < 0)
			return err;
		r->src_fd = x->src.fd;
		r->src_type = x->src.type;
	}
	if (r->dst_fd != x->dst.fd || r->dst_type == ZC_FD_UNKNOWN) {
		err = zc__fd_probe(&x->dst);
		if (err < 0)
			return err;
		r->dst_fd = x->dst.fd;
		r->dst_type = x->dst.type;
	}
	x->src.type = r->src_type;
	x->dst.type = r->dst_type;
	x->stats->src_type = r->src_type;
	x->stats->dst_type = r->dst_type;
	return 0;
}

static int buf_get(struct zc_relay *r)
{
	if (!r->buf)
		r->buf = malloc(r->buf_size);
	return r->buf ? 0 : -ENOMEM;
}

/* Give back what an idle relay holds, so that it costs only its struct. */
static void idle_release(struct zc_relay *r)
{
	if (r->pipe.rd >= 0 && r->in_pipe == 0)
		zc__relay_pipe_put(&r->pipe, r->asked);
	if (r->buf && r->in_buf == 0) {
		free(r->buf);
		r->buf = NULL;
	}
}

/*
 * Splice has given up on this relay: carry on by read/write, moving what
 * waits in the pipe into the buffer first, so that it still goes out first.
 */
static int to_rw(struct zc_relay *r, struct zc__xfer *x, int why)
{
	ssize_t n;
	int err;

	zc__note_fallback(x, ZC_PATH_SPLICE, why);
	r->rw = true;
	if (r->in_pipe == 0) {
		idle_release(r);
		return 0;
	}
	/* The kernel rounds pipe sizes up: make room for all it holds. */
	if (r->in_pipe > r->buf_size) {
		free(r->buf);
		r->buf = NULL;
		r->buf_size = (uint32_t)r->in_pipe;
	}
	err = buf_get(r);
	if (err < 0)
		return err;
	while (r->in_pipe) {
		n = zc__sys_read(r->pipe.rd, r->buf + r->in_buf, r->in_pipe);
		if (n == -EINTR)
			continue;
		/* Our own pipe, known to hold in_pipe bytes: anything else is a bug. */
		if (n <= 0)
			return n ? (int)n : -EIO;
		r->in_buf += (uint32_t)n;
		r->in_pipe -= (uint64_t)n;
	}
	zc__relay_pipe_put(&r->pipe, r->asked);
	return 0;
}

/* dst failed for good: the pending bytes stay where they are, the relay stops. */
static int dst_failed(struct zc_relay *r, int err)
{
	r->err = err;
	return -err;
}

static int flush_buf(struct zc_relay *r, struct zc__xfer *x)
{
	ssize_t n;

	while (r->in_buf) {
		n = zc__sys_write(x->dst.fd, r->buf + r->off, r->in_buf);
		if (n == -EINTR)
			continue;
		if (n == -EAGAIN)
			return -EAGAIN;
		if (n <= 0)
			return dst_failed(r, n ? (int)-n : EIO);
		r->off += (uint32_t)n;
		r->in_buf -= (uint32_t)n;
		zc__note_moved(x, ZC_PATH_READ_WRITE, (uint64_t)n);
	}
	r->off = 0;
	return 0;
}

static int flush_pipe(struct zc_relay *r, struct zc__xfer *x)
{
	ssize_t n;

	while (r->in_pipe) {
		n = zc__sys_splice(r->pipe.rd, NULL, x->dst.fd, NULL,
				  ZC_MIN(r->in_pipe, ZC_CALL_MAX),
				  SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == -EINTR)
			continue;
		if (n == -EAGAIN)
			return -EAGAIN;
		/* dst refuses splice: the bytes go on by write(), nothing lost. */
		if (n < 0 && zc__falls_back(ZC_PATH_SPLICE, (int)-n)) {
			n = to_rw(r, x, (int)-n);
			return n < 0 ? (int)n : flush_buf(r, x);
		}
		if (n <= 0)
			return dst_failed(r, n ? (int)-n : EIO);
		r->in_pipe -= (uint64_t)n;
		zc__note_moved(x, ZC_PATH_SPLICE, (uint64_t)n);
	}
	return 0;
}

/* Deliver what is pending: 0 when nothing is left, -EAGAIN when dst is full. */
static int flush(struct zc_relay *r, struct zc__xfer *x)
{
	int err = flush_buf(r, x);

	return err < 0 ? err : flush_pipe(r, x);
}

/* What src said when asked for more: bytes now pending, end of input or error. */
static ssize_t took(struct zc_relay *r, ssize_t n)
{
	if (n > 0)
		r->ever = true;
	else if (n == 0)
		r->eof = true;
	else if (n != -EAGAIN)
		r->err = (int)-n;	/* nothing is pending here: report it now */
	return n;
}

static ssize_t fill_rw(struct zc_relay *r, struct zc__xfer *x, uint64_t len)
{
	ssize_t n;
	int err = buf_get(r);

	if (err < 0)
		return err;
	do
		n = zc__sys_read(x->src.fd, r->buf, ZC_MIN(len, r->buf_size));
	while (n == -EINTR);
	if (n > 0)
		r->in_buf = (uint32_t)n;
	return took(r, n);
}

/*
 * A 0 from splice before src ever gave a byte is only believed from a
 * socket or a pipe: procfs and sysfs files say 0 to splice and have content.
 */
static bool maybe_fake_eof(const struct zc_relay *r)
{
	return !r->ever && r->src_type != ZC_FD_SOCKET && r->src_type != ZC_FD_PIPE;
}

static ssize_t fill_splice(struct zc_relay *r, struct zc__xfer *x, uint64_t len)
{
	ssize_t n;
	int err;

	if (r->pipe.rd < 0) {
		err = zc__relay_pipe_get(&r->pipe, r->asked);
		/* Out of fds or memory for a pipe: this step goes by read/write. */
		if (err < 0) {
			zc__note_fallback(x, ZC_PATH_SPLICE, -err);
			return zc__falls_back(ZC_PATH_SPLICE, -err) ? fill_rw(r, x, len) : err;
		}
	}
	do
		n = zc__sys_splice(x->src.fd, NULL, r->pipe.wr, NULL,
				  ZC_MIN(len, (uint64_t)r->pipe.size),
				  SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (n == -EINTR);
	/* src refuses splice: nothing was taken, so read/write simply takes over. */
	if ((n < 0 && zc__falls_back(ZC_PATH_SPLICE, (int)-n)) || (n == 0 && maybe_fake_eof(r))) {
		err = to_rw(r, x, n ? (int)-n : 0);
		return err < 0 ? err : fill_rw(r, x, len);
	}
	if (n > 0)
		r->in_pipe = (uint64_t)n;
	return took(r, n);
}

static ssize_t fill(struct zc_relay *r, struct zc__xfer *x, uint64_t len)
{
	return r->rw ? fill_rw(r, x, len) : fill_splice(r, x, len);
}

/*
 * Deliver, take, deliver, ... until len bytes reached dst, src has nothing,
 * or dst is full. New bytes are taken only when none are pending, so at any
 * time they sit in one place: the pipe or the buffer.
 */
static int run(struct zc_relay *r, struct zc__xfer *x)
{
	ssize_t n;
	int err;

	for (;;) {
		err = flush(r, x);
		if (err < 0)
			return err;
		if (r->err)
			return -r->err;
		if (r->eof || x->moved >= x->want)
			return 0;
		n = fill(r, x, x->want - x->moved);
		if (n <= 0)
			return (int)n;
	}
}

static int move_checked(struct zc_relay *r, struct zc__xfer *x)
{
	struct zc__sigpipe sp = { .active = false };
	int err;

	if (r->err)
		return -r->err;
	err = probe(r, x);
	if (err < 0 || x->want == 0)
		return err;
	if ((x->flags | zc__disabled) & ZC_NO_SPLICE)
		r->rw = r->rw || r->in_pipe == 0;
	if (zc__needs_sigpipe_guard(r->flags | x->flags, r->dst_type))
		zc__sigpipe_block(&sp);
	err = run(r, x);
	zc__sigpipe_restore(&sp, err == -EAGAIN ? 0 : -err);
	idle_release(r);
	return err;
}

static ssize_t relay_move(struct zc_relay *r, int src_fd, int dst_fd, uint64_t len,
		       unsigned int flags, struct zc_stats *stats)
{
	struct zc__xfer x = {
		.src = { .fd = src_fd },
		.dst = { .fd = dst_fd },
		.want = ZC_MIN(len, (uint64_t)SSIZE_MAX),
		.flags = flags,
		.stats = stats ? stats : &x.own_stats,
	};
	uint64_t sys0 = zc__sys_count;
	int err;

	memset(x.stats, 0, sizeof(*x.stats));
	err = !r || (flags & ~ZC_XFER_FLAGS) ? -EINVAL : move_checked(r, &x);
	x.err = err < 0 ? -err : 0;
	zc__xfer_report(&x, sys0);
	return x.moved ? (ssize_t)x.moved : err;
}

static struct zc_relay *relay_new(uint32_t pipe_size, unsigned int flags, int *err)
{
	struct zc_relay *r;

	*err = flags & ~RELAY_FLAGS ? EINVAL : 0;
	if (*err)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		*err = ENOMEM;
		return NULL;
	}
	r->pipe.rd = r->pipe.wr = -1;
	r->src_fd = r->dst_fd = -1;
	r->asked = pipe_size;
	r->buf_size = pipe_size ? ZC_MIN(ZC_MAX(pipe_size, 4096u), RW_MAX) : RW_DEFAULT;
	r->flags = flags;
	r->rw = flags & ZC_NO_SPLICE;
	return r;
}

static void relay_free(struct zc_relay *r)
{
	if (!r)
		return;
	zc__relay_pipe_close(&r->pipe);
	free(r->buf);
	free(r);
}

ZC_EXPORT struct zc_relay *zc_relay_new(uint32_t pipe_size, unsigned int flags)
{
	int err;
	struct zc_relay *r = relay_new(pipe_size, flags, &err);

	if (!r)
		errno = err;
	return r;
}

ZC_EXPORT void zc_relay_free(struct zc_relay *relay)
{
	relay_free(relay);
}

ZC_EXPORT ssize_t zc_relay_move(struct zc_relay *relay, int src_fd, int dst_fd, size_t len,
				unsigned int flags, struct zc_stats *stats)
{
	return zc__ret(relay_move(relay, src_fd, dst_fd, len, flags, stats));
}

ZC_EXPORT uint64_t zc_relay_pending(const struct zc_relay *relay)
{
	return relay ? pending(relay) : 0;
}
