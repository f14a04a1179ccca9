// SPDX-License-Identifier: MIT
/*
 * Small steps the paths share: giving bytes back to a seekable source,
 * waiting for a non-blocking destination, and writing a buffer out whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "internal.h"

/* Where the next byte of an end is read or written: its explicit offset or the fd's. */
int64_t zc__end_pos(const struct zc__end *e)
{
	return e->off ? *e->off : zc__sys_lseek(e->fd, 0, SEEK_CUR);
}

/*
 * Whose fd an error that ended the call came from, where no step said:
 * copy_file_range, sendfile and a straight splice read and write in one
 * call. Errors only a writer gets go to dst; an I/O error goes to a
 * seekable source if reading a byte of it where the call stopped fails too.
 */
uint32_t zc__error_side(const struct zc__xfer *x, int err)
{
	char byte;
	int64_t pos;
	int fl;

	if (x->err_side)
		return x->err_side;
	switch (err) {
	case EBADF:
		/* The one not open for its part: src for reading, dst for writing. */
		fl = zc__sys_fcntl(x->src.fd, F_GETFL, 0);
		return fl < 0 || (fl & O_ACCMODE) == O_WRONLY ? ZC_SIDE_SRC : ZC_SIDE_DST;
	case EPIPE:
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return ZC_SIDE_DST;
	case EIO:
		if (!zc__seekable(&x->src))
			return ZC_SIDE_SRC;
		pos = zc__end_pos(&x->src);
		if (pos < 0 || zc__sys_pread(x->src.fd, &byte, 1, pos) < 0)
			return ZC_SIDE_SRC;
		return ZC_SIDE_DST;
	}
	return ZC_SIDE_NONE;
}

/* Put an end's position at pos, or move it by n: its explicit offset or the fd's. */
static int end_seek(struct zc__end *e, int64_t n, int whence)
{
	int64_t r;

	if (e->off) {
		*e->off = whence == SEEK_SET ? n : *e->off + n;
		return 0;
	}
	r = zc__sys_lseek(e->fd, n, whence);
	return r < 0 ? (int)r : 0;
}

int zc__end_set(struct zc__end *e, int64_t pos)
{
	return end_seek(e, pos, SEEK_SET);
}

int zc__end_move(struct zc__end *e, int64_t n)
{
	return end_seek(e, n, SEEK_CUR);
}

/* Put n bytes that were read but never delivered back into the source. */
int zc__src_rewind(struct zc__xfer *x, uint64_t n)
{
	return zc__end_move(&x->src, -(int64_t)n);
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
	zc__blame(x, ZC_SIDE_DST, err);
	if (seekable) {
		r = zc__src_rewind(x, n - done);
		if (r < 0)
			err = zc__blame(x, ZC_SIDE_SRC, -r);
	}
	if (done == 0)
		return -err;
	x->err = err;
	return (ssize_t)done;
}
