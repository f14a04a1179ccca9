// SPDX-License-Identifier: MIT
/*
 * clone: the destination's range shares the source's extents (FICLONERANGE),
 * so nothing is copied and no data block is written until one side changes.
 *
 * Tried once per call, for the whole range to the source's end and never in
 * chunks: the kernel wants block-aligned offsets, and a length that is
 * block-aligned or ends at end of file. What it refuses (EINVAL, EXDEV,
 * EOPNOTSUPP...) goes to the next path; EIO, ENOSPC, EDQUOT and ENOMEM are
 * real failures of the filesystem and end the call (zc__falls_back()).
 */
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "internal.h"

ssize_t zc__path_clone(struct zc__xfer *x, uint64_t len)
{
	struct file_clone_range fcr = { .src_fd = x->src.fd };
	int64_t src = zc__end_pos(&x->src), dst = zc__end_pos(&x->dst);
	uint64_t n;
	int r;

	if (src < 0 || dst < 0)
		return src < 0 ? src : dst;
	if (src >= x->src.st.st_size)
		return 0;
	n = ZC_MIN(len, (uint64_t)(x->src.st.st_size - src));
	fcr.src_offset = (uint64_t)src;
	fcr.src_length = n;
	fcr.dest_offset = (uint64_t)dst;
	r = zc__sys_ioctl(x->dst.fd, FICLONERANGE, &fcr);
	if (r < 0)
		return r;
	/* Cloned: both ends move on, as a copy would have moved them. */
	r = zc__end_set(&x->src, src + (int64_t)n);
	if (r == 0)
		r = zc__end_set(&x->dst, dst + (int64_t)n);
	if (r < 0)
		x->err = -r;
	return (ssize_t)n;
}
