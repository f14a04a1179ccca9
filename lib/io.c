// SPDX-License-Identifier: MIT
/*
 * Small steps the paths share: giving bytes back to a seekable source,
 * waiting for a non-blocking destination, and writing a buffer out whole.
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "internal.h"

/* Where the next byte of an end is read or written: its explicit offset or the fd's. */
int64_t zc__end_pos(const struct zc__end *e)
{
	return e->off ? *e->off : zc__sys_lseek(e->fd, 0, SEEK_CUR);
}

/* Put n bytes that were read but never delivered back into the source. */
int zc__src_rewind(struct zc__xfer *x, uint64_t n)
{
	int64_t r;

	if (x->src.off) {
		*x->src.off -= (int64_t)n;
		return 0;
	}
	r = zc__sys_lseek(x->src.fd, -(int64_t)n, SEEK_CUR);
	return r < 0 ? (int)r : 0;
}

/*
 * Bytes already taken from a source that cannot give them back must reach
 * the destination before the call returns, even when it is non-blocking;
 * and a message half received must arrive whole. Signals do not end a wait.
 */
int zc__wait_fd(int fd, short events)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	do
		r = zc__sys_poll(&pfd, 1, -1);
	while (r == -EINTR);
	return r < 0 ? r : 0;
}

static ssize_t write_once(struct zc__xfer *x, const char *buf, size_t len)
{
	ssize_t r;

	len = zc__dst_piece(x, len);
	if (!x->dst.off)
		return zc__sys_write(x->dst.fd, buf, len);
	r = zc__sys_pwrite(x->dst.fd, buf, len, *x->dst.off);
	if (r > 0)
		*x->dst.off += r;
	return r;
}

/*
 * Write buf to dst until all of it is written or dst fails. Returns the
 * bytes written and leaves the errno that stopped it in *err (0 if none).
 */
size_t zc__write_all(struct zc__xfer *x, const char *buf, size_t len, int *err)
{
	size_t done = 0;
	ssize_t r;

	*err = 0;
	while (done < len) {
		r = write_once(x, buf + done, len - done);
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			*err = r ? (int)-r : EIO;
			break;
		}
		done += (size_t)r;
	}
	return done;
}

/*
 * Deliver n bytes already taken from the source. What dst refuses goes back
 * to a seekable source; a source that cannot take it back waits for a
 * non-blocking dst instead, so nothing is lost to EAGAIN. Returns the bytes
 * delivered (leaving a later error in x->err), or -errno if none were.
 */
ssize_t zc__deliver(struct zc__xfer *x, const char *buf, size_t n)
{
	bool seekable = zc__seekable(&x->src);
	size_t done = 0;
	int err, r;

	for (;;) {
		done += zc__write_all(x, buf + done, n - done, &err);
		if (done == n)
			return (ssize_t)n;
		if (err != EAGAIN || seekable)
			break;
		r = zc__wait_fd(x->dst.fd, POLLOUT);
		if (r < 0) {
			err = -r;
			break;
		}
	}
	if (seekable) {
		r = zc__src_rewind(x, n - done);
		if (r < 0)
			err = -r;
	}
	if (done == 0)
		return -err;
	x->err = err;
	return (ssize_t)done;
}
