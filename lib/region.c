// SPDX-License-Identifier: MIT
/*
 * What every kind of region shares: mapping the fd behind it, reserving its
 * space, and closing it.
 *
 * A region is plain data that callers (and FFI code) may zero, copy or close
 * twice. A zeroed struct has fd 0, which is a real descriptor, so "is there
 * an fd to close" is decided by kind, never by fd alone: ZC_REGION_NONE owns
 * nothing, and close leaves fd and shmid at -1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "region.h"

void zc__region_reset(struct zc_region *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->shmid = -1;
}

/* Every call that fills a region starts from an empty one. */
int zc__region_begin(struct zc_region *r)
{
	if (!r)
		return -EINVAL;
	zc__region_reset(r);
	return 0;
}

/* And ends with it filled, or closed and empty again if e says it failed. */
int zc__region_end(struct zc_region *r, int e)
{
	if (e < 0 && r)
		zc__region_close(r);
	return e;
}

/* A region must hold something, be mappable and fit an off_t. */
int zc__region_check_size(uint64_t size)
{
	if (size == 0)
		return -EINVAL;
	if (size > (uint64_t)INT64_MAX || size > (uint64_t)SIZE_MAX)
		return -EFBIG;
	return 0;
}

/*
 * Give the object its size and take the pages now. tmpfs allocates a page
 * on first touch; when /dev/shm is full that touch raises SIGBUS in whoever
 * makes it. fallocate fails with ENOSPC here instead, and on tmpfs it
 * changes nothing when it fails, so a region that cannot grow keeps its size.
 * A filesystem without fallocate only gets its size set.
 *
 * The pages are charged to the caller's memory cgroup, whose limit is no
 * ENOSPC but its OOM killer: a size the process cannot hold (less the have
 * bytes it holds already) is refused first, with ENOMEM (region-limit.c).
 */
/* Whether the filesystem of fd (a sized tmpfs) lacks room for need bytes. */
static bool fs_full(int fd, uint64_t need)
{
	struct statfs sf;

	return zc__sys_fstatfs(fd, &sf) == 0 && sf.f_blocks &&
	       need > (uint64_t)sf.f_bavail * (uint64_t)sf.f_bsize;
}

int zc__region_reserve(int fd, uint64_t have, uint64_t size)
{
	int r = size > have ? zc__region_fits(size - have) : 0;

	/* A full /dev/shm stays ENOSPC, as fallocate says it, whatever the memory. */
	if (r == -ENOMEM && fs_full(fd, size - have))
		r = -ENOSPC;
	if (r == 0)
		r = zc__sys_fallocate(fd, 0, 0, (int64_t)size);
	if (r == -EOPNOTSUPP)
		r = zc__sys_ftruncate(fd, (int64_t)size);
	return r;
}

/* Map size bytes of r->fd, shared with every other mapper or private (COW). */
int zc__region_map_fd(struct zc_region *r, uint64_t size, bool shared)
{
	int prot = PROT_READ;
	void *addr = NULL;
	long e;

	r->size = 0;
	r->addr = NULL;
	if (size == 0)
		return 0;	/* mmap refuses length 0; an empty region maps nothing */
	if (!(r->flags & ZC_REGION_RDONLY))
		prot |= PROT_WRITE;
	e = zc__sys_mmap(&addr, (size_t)size, prot, shared ? MAP_SHARED : MAP_PRIVATE, r->fd, 0);
	if (e < 0)
		return (int)e;
	r->addr = addr;
	r->size = size;
	return 0;
}

static int region_sync(struct zc_region *r, uint64_t off, uint64_t len, uint32_t flags)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), start, end;
	int ms = flags & ZC_SYNC_ASYNC ? MS_ASYNC : MS_SYNC;

	if (!r || !r->addr || off > r->size || (flags & ~(ZC_SYNC_ASYNC | ZC_SYNC_INVALIDATE)))
		return -EINVAL;
	if (len == 0 || len > r->size - off)
		len = r->size - off;
	if (flags & ZC_SYNC_INVALIDATE)
		ms |= MS_INVALIDATE;
	/* msync wants a page-aligned start; the region starts on a page. */
	start = ((uintptr_t)r->addr + (uintptr_t)off) & ~(page - 1);
	end = (uintptr_t)r->addr + (uintptr_t)(off + len);
	if (end == start)
		return 0;
	return zc__sys_msync((void *)start, end - start, ms);
}

ZC_EXPORT int zc_region_sync(struct zc_region *r, uint64_t off, uint64_t len, uint32_t flags)
{
	return zc__ret(region_sync(r, off, len, flags));
}

/* Grow with space reserved like at create, for the pages the fd lacks. */
static int grow(struct zc_region *r, uint64_t size)
{
	struct stat st;
	int e = zc__sys_fstat(r->fd, &st);

	return e < 0 ? e : zc__region_reserve(r->fd, (uint64_t)st.st_blocks * 512, size);
}

/*
 * Grow or shrink, then move the mapping to the new size. Shrinking is what
 * makes other processes' loads past the new end SIGBUS: a region handed out
 * should be sealed against it.
 */
static int region_resize(struct zc_region *r, uint64_t size)
{
	void *addr;
	long e;

	if (!r || !r->addr)
		return -EINVAL;
	/* The kind first: a SysV region has no fd, and that is not its caller's mistake. */
	if (r->kind != ZC_REGION_POSIX && r->kind != ZC_REGION_MEMFD)
		return -EOPNOTSUPP;
	if (r->fd < 0 || (r->flags & ZC_REGION_PRIVATE))
		return -EINVAL;
	e = zc__region_check_size(size);
	if (e == 0 && size > r->size)
		e = grow(r, size);
	else if (e == 0 && size < r->size)
		e = zc__sys_ftruncate(r->fd, (int64_t)size);
	if (e < 0)
		return (int)e;
	addr = r->addr;
	e = zc__sys_mremap(&addr, (size_t)r->size, (size_t)size, MREMAP_MAYMOVE);
	if (e < 0)
		return (int)e;
	r->addr = addr;
	r->size = size;
	return 0;
}

ZC_EXPORT int zc_region_resize(struct zc_region *r, uint64_t size)
{
	return zc__ret(region_resize(r, size));
}

/*
 * The name goes (POSIX) or the key (SysV, IPC_RMID); the memory stays with
 * whoever has it mapped, until the last of them lets go.
 */
static int region_remove(struct zc_region *r)
{
	if (r && r->kind == ZC_REGION_SYSV && r->shmid >= 0)
		return zc__sys_shmctl(r->shmid, IPC_RMID, NULL);
	if (r && r->kind == ZC_REGION_POSIX && r->name[0])
		return zc__region_unlink(r->name);
	return -EINVAL;
}

ZC_EXPORT int zc_region_remove(struct zc_region *r)
{
	return zc__ret(region_remove(r));
}

static int unmap(struct zc_region *r)
{
	if (!r->addr)
		return 0;
	if (r->kind == ZC_REGION_SYSV)
		return zc__sys_shmdt(r->addr);
	return zc__sys_munmap(r->addr, (size_t)r->size);
}

int zc__region_close(struct zc_region *r)
{
	int err = 0, e;

	if (!r)
		return 0;
	if (r->kind != ZC_REGION_NONE) {
		err = unmap(r);
		if (r->fd >= 0) {
			e = zc__sys_close(r->fd);
			err = err ? err : e;
		}
	}
	zc__region_reset(r);
	if (err == -EINTR)
		err = 0;	/* the fd is gone all the same on Linux */
	return err;
}

ZC_EXPORT int zc_region_close(struct zc_region *r)
{
	return zc__ret(zc__region_close(r));
}
