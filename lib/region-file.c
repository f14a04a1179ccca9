// SPDX-License-Identifier: MIT
/*
 * File-backed regions: a file loaded by mmap.
 *
 * By default the mapping is read-only and shared: the bytes are the page
 * cache's own, nothing is copied. ZC_REGION_PRIVATE maps copy-on-write, so
 * the caller may write without changing the file; only the pages written
 * are copied. ZC_REGION_COPY copies the file into a memfd once, which
 * gives a region that no truncation of the file can affect and that can be
 * sealed and passed on.
 *
 * A file truncated while mapped makes every load past its new end raise
 * SIGBUS. The library therefore never reads a file-backed mapping itself:
 * it copies with the file's fd (copy_file_range, splice, sendfile), and
 * zc_region_transfer hands a private mapping to the kernel (vmsplice,
 * write), which returns EFAULT instead of faulting. The caller's own loads
 * get the SIGBUS; zcopy(7) says how to live with it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "region.h"

#define LOAD_FLAGS (ZC_REGION_RDONLY | ZC_REGION_PRIVATE | ZC_REGION_COPY)

/*
 * Copy size bytes of fd into a new memfd region. A file that shrinks during
 * the copy gives a shorter region, never one with a tail of zeros
 * pretending to be content.
 */
static int load_copy(struct zc_region *r, int fd, uint64_t size)
{
	int64_t in = 0, out = 0;
	ssize_t n = 1;
	int e = r->fd = zc__memfd_new("zcopy-load", size);

	if (e < 0)
		return e;
	e = 0;
	r->kind = ZC_REGION_MEMFD;
	r->flags = ZC_REGION_CREATED | ZC_REGION_UNSEALED | ZC_REGION_COPY;
	while (e == 0 && (uint64_t)in < size && n > 0) {
		n = zc__transfer_at(fd, &in, r->fd, &out, size - (uint64_t)in, 0, NULL);
		if (n < 0)
			e = (int)n;
	}
	if (e == 0 && (uint64_t)in < size)
		e = zc__sys_ftruncate(r->fd, in);
	if (e < 0)
		return e;
	return zc__region_map_fd(r, (uint64_t)in, true);
}

static int load_fd(struct zc_region *r, int fd, uint32_t flags)
{
	struct stat st;
	int e;

	if ((flags & ~LOAD_FLAGS) || (flags & ZC_REGION_PRIVATE && flags & ZC_REGION_COPY))
		return -EINVAL;
	e = zc__sys_fstat(fd, &st);
	if (e == 0 && !S_ISREG(st.st_mode))
		e = -EINVAL;
	if (e == 0 && (uint64_t)st.st_size > SIZE_MAX)
		e = -EFBIG;
	if (e < 0)
		return e;
	if (flags & ZC_REGION_COPY)
		return load_copy(r, fd, (uint64_t)st.st_size);
	/* The region keeps its own fd, so the caller may close theirs. */
	r->fd = zc__sys_fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (r->fd < 0)
		return r->fd;
	r->kind = ZC_REGION_FILE;
	r->flags = flags & ZC_REGION_PRIVATE ? flags & LOAD_FLAGS : ZC_REGION_RDONLY;
	return zc__region_map_fd(r, (uint64_t)st.st_size, !(flags & ZC_REGION_PRIVATE));
}

int zc__region_load_fd(struct zc_region *r, int fd, uint32_t flags)
{
	int e = zc__region_begin(r);

	return zc__region_end(r, e < 0 ? e : load_fd(r, fd, flags));
}

ZC_EXPORT int zc_region_load_fd(struct zc_region *r, int fd, uint32_t flags)
{
	return zc__ret(zc__region_load_fd(r, fd, flags));
}

static int region_load(struct zc_region *r, const char *path, uint32_t flags)
{
	int fd, e = zc__region_begin(r);

	if (e == 0 && !path)
		e = -EINVAL;
	if (e < 0)
		return e;
	/*
	 * O_NONBLOCK: opening a FIFO without a writer would wait for one
	 * forever; this way it opens at once and load_fd refuses it. The flag
	 * goes again before the region's own fd is made from this one.
	 */
	fd = zc__sys_open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	e = zc__sys_fcntl(fd, F_SETFL, 0);
	if (e == 0)
		e = zc__region_load_fd(r, fd, flags);
	zc__sys_close(fd);
	return e;
}

ZC_EXPORT int zc_region_load(struct zc_region *r, const char *path, uint32_t flags)
{
	return zc__ret(region_load(r, path, flags));
}
