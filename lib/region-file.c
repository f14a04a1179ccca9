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
	uint64_t in = 0, out = 0;
	ssize_t n = 1;

	int e = r->fd = zc__memfd_new("zcopy-load", size);

	if (e < 0)
		return e;
	e = 0;
	r->kind = ZC_REGION_MEMFD;
	r->flags = ZC_REGION_CREATED | ZC_REGION_UNSEALED | ZC_REGION_COPY;
	while (e == 0 && in < size && n > 0) {
		n = zc_transfer_at(fd, &in, r->fd, &out, (size_t)(size - in), 0, NULL);
		if (n < 0)
			e = -errno;
	}
	if (e == 0 && in < size)
		e = zc__sys_ftruncate(r->fd, (int64_t)in);
	if (e < 0)
		return e;
	return zc__region_map_fd(r, in, true);
}

ZC_EXPORT int zc_region_load_fd(struct zc_region *r, int fd, uint32_t flags)
{
	struct stat st;
	int e;

	if (zc__region_begin(r) < 0)
		return -1;
	if ((flags & ~LOAD_FLAGS) || (flags & ZC_REGION_PRIVATE && flags & ZC_REGION_COPY))
		return zc__region_fail(r, EINVAL);
	e = zc__sys_fstat(fd, &st);
	if (e == 0 && !S_ISREG(st.st_mode))
		e = -EINVAL;
	if (e == 0 && (uint64_t)st.st_size > SIZE_MAX)
		e = -EFBIG;
	if (e < 0)
		return zc__region_fail(r, -e);
	if (flags & ZC_REGION_COPY) {
		e = load_copy(r, fd, (uint64_t)st.st_size);
		return e < 0 ? zc__region_fail(r, -e) : 0;
	}
	/* The region keeps its own fd, so the caller may close theirs. */
	r->fd = zc__sys_fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (r->fd < 0)
		return zc__region_fail(r, -r->fd);
	r->kind = ZC_REGION_FILE;
	r->flags = flags & ZC_REGION_PRIVATE ? flags & LOAD_FLAGS : ZC_REGION_RDONLY;
	e = zc__region_map_fd(r, (uint64_t)st.st_size, !(flags & ZC_REGION_PRIVATE));
	return e < 0 ? zc__region_fail(r, -e) : 0;
}

ZC_EXPORT int zc_region_load(struct zc_region *r, const char *path, uint32_t flags)
{
	int fd, e;

	if (!path)
		return zc__ret(-EINVAL);
	fd = zc__sys_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return zc__region_begin(r) < 0 ? -1 : zc__region_fail(r, -fd);
	e = zc_region_load_fd(r, fd, flags);
	zc__sys_close(fd);
	return e;
}
