// SPDX-License-Identifier: MIT
/*
 * sendfile: from a file (anything the kernel can splice-read) to any fd
 * that takes spliced pages, sockets above all, with no pipe of ours in
 * between. It writes at dst's own offset, so the engine leaves it out when
 * the caller gives an explicit dst offset.
 */
#include "internal.h"

ssize_t zc__path_sendfile(struct zc__xfer *x, uint64_t len)
{
	return zc__sys_sendfile(x->dst.fd, x->src.fd, x->src.off, ZC_MIN(len, ZC_CALL_MAX));
}
