// SPDX-License-Identifier: MIT
/*
 * copy_file_range: file to file inside the kernel. Filesystems that can
 * reflink (btrfs, xfs) or offload (NFS, SMB) do so; the rest copy through
 * the page cache without a trip to user space.
 */
#include "internal.h"

ssize_t zc__path_cfr(struct zc__xfer *x, uint64_t len)
{
	return zc__sys_copy_file_range(x->src.fd, x->src.off, x->dst.fd, x->dst.off,
				      ZC_MIN(len, ZC_CALL_MAX));
}
