// SPDX-License-Identifier: MIT
/*
 * Anonymous regions: memfd_create(2), always with sealing allowed.
 *
 * Handing a memfd out read-only protects nothing: the receiver can open
 * /proc/self/fd/N again with O_RDWR, and can ftruncate it under everyone
 * else's mappings, whose next load past the new end is a SIGBUS. Seals are
 * on the inode, so they hold through every fd and every reopen: seal
 * ZC_SEAL_SHRINK | ZC_SEAL_GROW | ZC_SEAL_FUTURE_WRITE before handing out.
 * FUTURE_WRITE (Linux 5.1) still lets the creator's own mapping write,
 * where F_SEAL_WRITE would fail with EBUSY while that mapping exists.
 */
#define _GNU_SOURCE
#include <bsd/string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "region.h"

_Static_assert(ZC_SEAL_SEAL == F_SEAL_SEAL && ZC_SEAL_SHRINK == F_SEAL_SHRINK &&
	       ZC_SEAL_GROW == F_SEAL_GROW && ZC_SEAL_WRITE == F_SEAL_WRITE &&
	       ZC_SEAL_FUTURE_WRITE == F_SEAL_FUTURE_WRITE, "ZC_SEAL_* are F_SEAL_*");

#define ALL_SEALS (ZC_SEAL_SEAL | ZC_SEAL_SHRINK | ZC_SEAL_GROW | ZC_SEAL_WRITE | \
		   ZC_SEAL_FUTURE_WRITE)

/* A memfd of size zero bytes, space reserved; the fd or -errno. */
int zc__memfd_new(const char *label, uint64_t size)
{
	int fd = zc__sys_memfd_create(label ? label : "zcopy", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int e;

	if (fd < 0 || size == 0)
		return fd;
	e = zc__region_reserve(fd, 0, size);
	if (e < 0) {
		zc__sys_close(fd);
		return e;
	}
	return fd;
}

static int region_memfd(struct zc_region *r, const char *label, uint64_t size,
			uint32_t flags)
{
	int e = flags ? -EINVAL : zc__region_check_size(size);

	if (e == 0)
		e = r->fd = zc__memfd_new(label, size);
	if (e < 0)
		return e;
	r->kind = ZC_REGION_MEMFD;
	r->flags = ZC_REGION_CREATED | ZC_REGION_UNSEALED;
	return zc__region_map_fd(r, size, true);
}

ZC_EXPORT int zc_region_memfd(struct zc_region *r, const char *label, uint64_t size,
			      uint32_t flags)
{
	int e = zc__region_begin(r);

	return zc__ret(zc__region_end(r, e < 0 ? e : region_memfd(r, label, size, flags)));
}

/* The seals on fd as ZC_SEAL_* bits; 0 for a file that cannot have any. */
uint32_t zc__seals_of(int fd)
{
	int s = zc__sys_fcntl(fd, F_GET_SEALS, 0);

	return s < 0 ? 0 : (uint32_t)s & ALL_SEALS;
}

static int region_seal(struct zc_region *r, uint32_t seals)
{
	int e;

	if (!r || r->fd < 0 || r->kind == ZC_REGION_NONE || (seals & ~ALL_SEALS))
		return -EINVAL;
	e = zc__sys_fcntl(r->fd, F_ADD_SEALS, (long)seals);
	r->seals = zc__seals_of(r->fd);
	if (r->seals & ZC_SEAL_SHRINK)
		r->flags &= ~ZC_REGION_UNSEALED;
	return e;
}

ZC_EXPORT int zc_region_seal(struct zc_region *r, uint32_t seals)
{
	return zc__ret(region_seal(r, seals));
}
