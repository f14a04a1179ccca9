// SPDX-License-Identifier: MIT
/*
 * mmap_write: map a window of the source file and write() it to dst, one
 * copy instead of read/write's two.
 *
 * The library never touches the mapping itself; only the kernel reads it,
 * inside write(). A page the kernel cannot bring in (the file truncated
 * under us, a read error, no memory for the page) makes write() return a
 * short count or EFAULT, never a SIGBUS in the caller. EFAULT alone does
 * not say which of those it was, so the file is asked (src_fault()).
 *
 * Pages are brought in by MADV_POPULATE_READ before the write, not by
 * MAP_POPULATE: a page that fails to read (EIO from the filesystem) then
 * fails that call at once, where a write() from it may retry the fault
 * without end on some filesystems (FUSE).
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22	/* Linux 5.14 */
#endif

/*
 * The kernel could not read the mapped page holding byte at. The file may
 * have shrunk (end of input: 0), a read of it may fail for real (that
 * error, the source's), or read(2) can get it where the mapping could not
 * (no memory for the page): -EFAULT, which leaves this path for the next.
 */
static int src_fault(struct zc__xfer *x, int64_t at)
{
	struct stat st;
	ssize_t r;
	char byte;

	if (zc__sys_fstat(x->src.fd, &st) == 0 && st.st_size <= at)
		return 0;
	r = zc__sys_pread(x->src.fd, &byte, 1, at);
	if (r < 0)
		return zc__blame(x, ZC_SIDE_SRC, (int)r);
	return r == 0 ? 0 : -EFAULT;
}

/*
 * A read fault on a hole of a tmpfs file (memfd, /dev/shm) allocates the
 * page: mapping a sparse shm source would fill its holes, and on a full
 * tmpfs take the last free space. read(2) and splice read holes as zeros
 * without allocating, so such sources go by the other paths.
 */
static bool maps_holes(const struct zc__xfer *x)
{
	return x->src.type == ZC_FD_SHM && zc__sparse(&x->src);
}

/* Map [base, base + len) of the source with its pages in; -errno if not. */
static int map_window(struct zc__xfer *x, void **map, size_t len, int64_t base, int64_t pos)
{
	int r = (int)zc__sys_mmap(map, len, PROT_READ, MAP_SHARED, x->src.fd, base);

	if (r < 0)
		return zc__blame(x, ZC_SIDE_SRC, r);
	r = zc__sys_madvise(*map, len, MADV_POPULATE_READ);
	if (r == 0 || r == -EINVAL)	/* EINVAL: a kernel before 5.14 faults them in write() */
		return 0;
	zc__sys_munmap(*map, len);
	r = src_fault(x, pos);
	return r == 0 ? 1 : r;
}

ssize_t zc__path_mmap(struct zc__xfer *x, uint64_t len)
{
	int64_t page = sysconf(_SC_PAGESIZE);
	int64_t pos = zc__end_pos(&x->src), base;
	size_t n, done, maplen;
	void *map = NULL;
	int err, r;

	if (pos < 0)
		return pos;
	if (maps_holes(x))
		return -EOPNOTSUPP;
	if (pos >= x->src.st.st_size)
		return 0;
	n = ZC_MIN(len, (uint64_t)(x->src.st.st_size - pos));
	n = ZC_MIN(n, ZC_MMAP_WINDOW);
	base = pos & ~(page - 1);
	maplen = n + (size_t)(pos - base);

	r = map_window(x, &map, maplen, base, pos);
	if (r != 0)
		return r > 0 ? 0 : r;	/* 1: the file ends at pos now */
	done = zc__write_all(x, (char *)map + (pos - base), n, &err);
	zc__sys_munmap(map, maplen);
	if (err == EFAULT)
		err = -src_fault(x, pos + (int64_t)done);
	else
		zc__blame(x, ZC_SIDE_DST, err);

	r = zc__end_set(&x->src, pos + (int64_t)done);
	if (r < 0)
		err = zc__blame(x, ZC_SIDE_SRC, -r);
	if (done == 0)
		return -err;
	if (err == EFAULT)
		x->fallback = err;
	else
		x->err = err;
	return (ssize_t)done;
}
