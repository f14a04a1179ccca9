// SPDX-License-Identifier: MIT
/*
 * Named POSIX regions: files in /dev/shm, as shm_open(3) makes them.
 *
 * Creating goes through an unnamed tmpfs file (O_TMPFILE) that gets its
 * mode, its space, its mark and its liveness lock before linkat(2) gives it
 * a name. So nobody can ever open a region that is half made (wrong mode,
 * short, not yet filled), and of two creators racing for one name the
 * kernel lets exactly one link succeed: the other gets EEXIST.
 *
 * Every holder of a region keeps a shared flock(2) on it. flock belongs to
 * the open file description, so it survives fork and SCM_RIGHTS and goes
 * away only when the last holder's fd is closed, however it dies. A cleaner
 * that can take the lock exclusively knows nobody holds the region
 * (region-stale.c).
 */
#define _GNU_SOURCE
#include <bsd/string.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "region.h"

#define CREATE_FLAGS (ZC_REGION_OPEN_OR_CREATE | ZC_REGION_UNPUBLISHED)
#define OPEN_TRIES 8

/* Blocks only while a cleaner holds the lock to unlink the object. */
static int hold(int fd)
{
	int r;

	do
		r = zc__sys_flock(fd, LOCK_SH);
	while (r == -EINTR);
	return r;
}

/*
 * The mode is set while the file has no name, so it is exact whatever the
 * umask and nobody sees the file with the umask's mode in between; the
 * process umask is never changed, which would race with other threads.
 */
static int make_unnamed(struct zc_region *r, uint64_t size, uint32_t mode)
{
	int e;

	r->fd = zc__sys_open(ZC__SHM_DIR, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (r->fd < 0)
		return r->fd;
	r->kind = ZC_REGION_POSIX;
	e = zc__sys_fchmod(r->fd, mode);
	if (e == 0)
		e = zc__region_reserve(r->fd, 0, size);
	if (e < 0)
		return e;
	/* Without user xattrs (before Linux 6.6) the region just cannot be cleaned. */
	zc__sys_fsetxattr(r->fd, ZC__MARK_XATTR, ZC__MARK_VALUE, 1, 0);
	e = hold(r->fd);
	if (e == 0)
		e = zc__region_map_fd(r, size, true);
	return e;
}

/*
 * linkat through /proc/self/fd works for anyone who may write the
 * directory; AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH, so it is only
 * the way when /proc is not mounted.
 */
static int link_name(int fd, const char *name)
{
	char from[64], to[PATH_MAX];
	int r = zc__shm_path(name, to, sizeof(to));

	if (r < 0)
		return r;
	snprintf(from, sizeof(from), "/proc/self/fd/%d", fd);
	r = zc__sys_linkat(AT_FDCWD, from, AT_FDCWD, to, AT_SYMLINK_FOLLOW);
	if (r == -ENOENT)
		r = zc__sys_linkat(fd, "", AT_FDCWD, to, AT_EMPTY_PATH);
	return r;
}

static int region_publish(struct zc_region *r)
{
	int e;

	if (!r || r->kind != ZC_REGION_POSIX || !(r->flags & ZC_REGION_UNPUBLISHED))
		return -EINVAL;
	e = link_name(r->fd, r->name);
	if (e == 0)
		r->flags &= ~ZC_REGION_UNPUBLISHED;
	return e;
}

ZC_EXPORT int zc_region_publish(struct zc_region *r)
{
	return zc__ret(region_publish(r));
}

/*
 * Open an existing object and map all of it. Returns -ENOENT when there is
 * none, -EAGAIN when it was unlinked between open and lock (try again).
 */
static int open_existing(struct zc_region *r, const char *name, uint32_t flags)
{
	char path[PATH_MAX];
	struct stat st;
	int e;

	zc__region_reset(r);
	strlcpy(r->name, name, sizeof(r->name));
	r->flags = flags & ZC_REGION_RDONLY;
	e = zc__shm_path(name, path, sizeof(path));
	if (e < 0)
		return e;
	/* O_NONBLOCK: a FIFO planted under the name must fail below, not hang here. */
	r->fd = zc__sys_open(path, (flags & ZC_REGION_RDONLY ? O_RDONLY : O_RDWR) | O_NOFOLLOW |
				    O_NONBLOCK | O_CLOEXEC, 0);
	if (r->fd < 0)
		return r->fd;
	r->kind = ZC_REGION_POSIX;
	e = hold(r->fd);
	if (e == 0)
		e = zc__sys_fstat(r->fd, &st);
	if (e < 0)
		return e;
	/* A cleaner took the lock first and unlinked it: it is gone. */
	if (st.st_nlink == 0)
		return -EAGAIN;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > SIZE_MAX)
		return -EFBIG;
	return zc__region_map_fd(r, (uint64_t)st.st_size, true);
}

static int open_retry(struct zc_region *r, const char *name, uint32_t flags)
{
	int e = -EAGAIN, i;

	for (i = 0; i < OPEN_TRIES && e == -EAGAIN; i++) {
		e = open_existing(r, name, flags);
		if (e < 0)
			zc__region_close(r);
	}
	return e == -EAGAIN ? -ENOENT : e;
}

static int region_open(struct zc_region *r, const char *name, uint32_t flags)
{
	char n[ZC__NAME_SIZE];
	int e = flags & ~ZC_REGION_RDONLY ? -EINVAL : zc__shm_name(name, n);

	return e < 0 ? e : open_retry(r, n, flags);
}

ZC_EXPORT int zc_region_open(struct zc_region *r, const char *name, uint32_t flags)
{
	int e = zc__region_begin(r);

	return zc__ret(zc__region_end(r, e < 0 ? e : region_open(r, name, flags)));
}

static int create_new(struct zc_region *r, const char *name, uint64_t size, uint32_t mode,
		      uint32_t flags)
{
	int e;

	zc__region_reset(r);
	strlcpy(r->name, name, sizeof(r->name));
	r->flags = ZC_REGION_CREATED | ZC_REGION_UNPUBLISHED;
	e = make_unnamed(r, size, mode);
	if (e == 0 && !(flags & ZC_REGION_UNPUBLISHED)) {
		e = link_name(r->fd, r->name);
		if (e == 0)
			r->flags &= ~ZC_REGION_UNPUBLISHED;
	}
	if (e < 0)
		zc__region_close(r);
	return e;
}

/*
 * Open or create: whoever links the name first created it. The loser of
 * that race, or a caller that finds the object already there, opens it; an
 * object unlinked between the two attempts sends us round again.
 */
static int open_or_create(struct zc_region *r, const char *name, uint64_t size,
			  uint32_t mode)
{
	int e = -ENOENT, i;

	for (i = 0; i < OPEN_TRIES; i++) {
		e = open_retry(r, name, 0);
		if (e != -ENOENT)
			return e;
		e = create_new(r, name, size, mode, 0);
		if (e != -EEXIST)
			return e;
	}
	return e;
}

static int region_create(struct zc_region *r, const char *name, uint64_t size,
			 uint32_t mode, uint32_t flags)
{
	char n[ZC__NAME_SIZE];
	int e;

	if ((flags & ~CREATE_FLAGS) || (flags & CREATE_FLAGS) == CREATE_FLAGS ||
	    (mode & ~07777u))
		return -EINVAL;
	e = zc__shm_name(name, n);
	if (e == 0)
		e = zc__region_check_size(size);
	if (e < 0)
		return e;
	mode = mode ? mode : 0600;
	if (flags & ZC_REGION_OPEN_OR_CREATE)
		return open_or_create(r, n, size, mode);
	return create_new(r, n, size, mode, flags);
}

ZC_EXPORT int zc_region_create(struct zc_region *r, const char *name, uint64_t size,
			       uint32_t mode, uint32_t flags)
{
	int e = zc__region_begin(r);

	return zc__ret(zc__region_end(r, e < 0 ? e : region_create(r, name, size, mode, flags)));
}

int zc__region_unlink(const char *name)
{
	char n[ZC__NAME_SIZE], path[PATH_MAX];
	int e = zc__shm_name(name, n);

	if (e == 0)
		e = zc__shm_path(n, path, sizeof(path));
	if (e == 0)
		e = zc__sys_unlinkat(AT_FDCWD, path, 0);
	return e;
}

ZC_EXPORT int zc_region_unlink(const char *name)
{
	return zc__ret(zc__region_unlink(name));
}
