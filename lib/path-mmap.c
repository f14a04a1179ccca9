// SPDX-License-Identifier: MIT
/*
 * mmap_write: map a window of the source file and write() it to dst, one
 * copy instead of read/write's two.
 *
 * The library never touches the mapping itself; only the kernel reads it,
 * inside write(). If the file is truncated under us, that read faults in
 * kernel mode and write() returns a short count or EFAULT: no SIGBUS can
 * reach the caller. A truncated source simply ends early, like read(2).
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

static int src_advance(struct zc__xfer *x, int64_t pos)
{
	int64_t r;

	if (x->src.off) {
		*x->src.off = pos;
		return 0;
	}
	r = zc__sys_lseek(x->src.fd, pos, SEEK_SET);
	return r < 0 ? (int)r : 0;
}

ssize_t zc__path_mmap(struct zc__xfer *x, uint64_t len)
{
	int64_t page = sysconf(_SC_PAGESIZE);
	int64_t pos = zc__end_pos(&x->src), base;
	size_t n, done;
	void *map = NULL;
	int err, r;

	if (pos < 0)
		return pos;
	if (pos >= x->src.st.st_size)
		return 0;
	n = ZC_MIN(len, (uint64_t)(x->src.st.st_size - pos));
	n = ZC_MIN(n, ZC_MMAP_WINDOW);
	base = pos & ~(page - 1);

	/* MAP_POPULATE maps the cached pages in one go instead of a fault each. */
	r = (int)zc__sys_mmap(&map, n + (size_t)(pos - base), PROT_READ,
			     MAP_SHARED | MAP_POPULATE, x->src.fd, base);
	if (r < 0)
		return zc__blame(x, ZC_SIDE_SRC, r);
	done = zc__write_all(x, (char *)map + (pos - base), n, &err);
	zc__blame(x, ZC_SIDE_DST, err);
	zc__sys_munmap(map, n + (size_t)(pos - base));

	r = src_advance(x, pos + (int64_t)done);
	if (r < 0)
		err = -r;
	else if (err == EFAULT)
		err = 0;	/* truncated under us: the file now ends here */
	if (done == 0)
		return -err;
	x->err = err;
	return (ssize_t)done;
}
