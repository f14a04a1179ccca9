// SPDX-License-Identifier: MIT
/*
 * read_write: the path that always works, through a per-thread buffer.
 */
#include <errno.h>

#include "internal.h"

static ssize_t read_once(struct zc__xfer *x, char *buf, size_t len)
{
	ssize_t r;

	if (!x->src.off)
		return zc__sys_read(x->src.fd, buf, len);
	r = zc__sys_pread(x->src.fd, buf, len, *x->src.off);
	if (r > 0)
		*x->src.off += r;
	return r;
}

ssize_t zc__path_rw(struct zc__xfer *x, uint64_t len)
{
	char *buf = zc__rw_buffer();
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	n = read_once(x, buf, ZC_MIN(len, ZC_RW_BUF_SIZE));
	if (n < 0)
		return zc__blame(x, ZC_SIDE_SRC, (int)n);
	if (n == 0)
		return 0;
	return zc__deliver(x, buf, (size_t)n);
}
