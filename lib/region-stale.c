// SPDX-License-Identifier: MIT
/*
 * Finding and removing named regions nobody holds any more.
 *
 * A PID in the object would be a guess: PIDs are reused, and a region
 * handed to other processes outlives its creator. Instead every holder
 * keeps a shared flock on the object (region-posix.c), which the kernel drops
 * when the last fd of that holder goes, however it ends. Whoever can take
 * the lock exclusively therefore knows that no process holds the region
 * through this library, and unlinks it while it holds the lock: an opener
 * that raced in waits for the lock, sees the link count at 0 and reports
 * ENOENT.
 *
 * The name is never unlinked as such: unlinkat removes whatever the name
 * leads to when it runs, and between the check that it leads to the stale
 * object and the unlink, another process may unlink it and create a live
 * region under it, which would lose its name (remove_stale).
 *
 * Only objects with this library's mark (an xattr set before the name
 * appeared) are considered, so other programs' files in /dev/shm are never
 * touched.
 */
#define _GNU_SOURCE
#include <bsd/string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "region.h"

#define DENTS_SIZE 8192

struct cleanup {
	int dir;		/* ZC__SHM_DIR */
	const char *prefix;
	size_t prefix_len;
	uint32_t flags;
	void (*found)(const char *name, void *arg);
	void *arg;
	int count;
};

static bool marked(int fd)
{
	char v[8];

	return zc__sys_fgetxattr(fd, ZC__MARK_XATTR, v, sizeof(v)) == 1 && v[0] == '1';
}

/* The name still leads to the object we hold open (st), nobody replaced it. */
static bool same_object(int fd, const char *path, struct stat *st)
{
	struct stat b;

	return zc__sys_fstat(fd, st) == 0 && zc__sys_fstatat(AT_FDCWD, path, &b,
							     AT_SYMLINK_NOFOLLOW) == 0 &&
	       st->st_dev == b.st_dev && st->st_ino == b.st_ino && st->st_nlink > 0;
}

/*
 * Unlink the stale object st under name, but only that object. The name
 * first moves to one of our own (rename is atomic: what the name led to is
 * then under ours, where nobody else looks), which is unlinked once it is
 * seen to be the stale object. The private name comes from the inode
 * number: only the holder of that object's exclusive lock uses it.
 *
 * Anything else found there, a live region that took the name after the
 * check, goes back with RENAME_NOREPLACE. That fails only if a third
 * process created the name in the moment between the two renames, when no
 * object had it: the live region then keeps working for its holders but
 * without a name, as if it had been unlinked just before that create, and
 * its private name goes too rather than stay behind.
 */
static int remove_stale(struct cleanup *c, const char *name, const struct stat *st)
{
	char tmp[48];
	struct stat now;
	int e;

	snprintf(tmp, sizeof(tmp), ZC__CLEAN_PREFIX "%llx", (unsigned long long)st->st_ino);
	/* Left so by a cleaner that died: nobody else uses the name, so it is ours. */
	if (strcmp(name, tmp) == 0)
		return zc__sys_unlinkat(c->dir, tmp, 0);
	e = zc__sys_renameat2(c->dir, name, c->dir, tmp, RENAME_NOREPLACE);
	if (e < 0)
		return e;
	e = zc__sys_fstatat(c->dir, tmp, &now, AT_SYMLINK_NOFOLLOW);
	if (e == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino)
		return zc__sys_unlinkat(c->dir, tmp, 0);
	if (zc__sys_renameat2(c->dir, tmp, c->dir, name, RENAME_NOREPLACE) < 0)
		zc__sys_unlinkat(c->dir, tmp, 0);
	return -EAGAIN;
}

static void consider(struct cleanup *c, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	if (strncmp(name, c->prefix, c->prefix_len) != 0 ||
	    zc__shm_path(name, path, sizeof(path)) < 0)
		return;
	fd = zc__sys_open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (marked(fd) && zc__sys_flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	    same_object(fd, path, &st)) {
		if (c->found)
			c->found(name, c->arg);
		if ((c->flags & ZC_CLEANUP_LIST_ONLY) || remove_stale(c, name, &st) == 0)
			c->count++;
	}
	zc__sys_close(fd);	/* drops the lock, after the unlink */
}

static int scan(struct cleanup *c, int dir)
{
	char buf[DENTS_SIZE] __attribute__((aligned(8)));
	struct dirent64 *d;
	ssize_t n, i;

	while ((n = zc__sys_getdents64(dir, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i += d->d_reclen) {
			d = (struct dirent64 *)(buf + i);
			if (d->d_type == DT_REG || d->d_type == DT_UNKNOWN)
				consider(c, d->d_name);
		}
	}
	return (int)n;
}

static int region_cleanup(const char *prefix, uint32_t flags,
			  void (*found)(const char *name, void *arg), void *arg)
{
	struct cleanup c = { .flags = flags, .found = found, .arg = arg };
	int dir, e;

	if (flags & ~ZC_CLEANUP_LIST_ONLY)
		return -EINVAL;
	prefix = prefix ? prefix : "";
	while (*prefix == '/')
		prefix++;
	if (strchr(prefix, '/') || strlen(prefix) > ZC_REGION_NAME_MAX)
		return -EINVAL;
	c.prefix = prefix;
	c.prefix_len = strlen(prefix);
	dir = zc__sys_open(ZC__SHM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dir < 0)
		return dir;
	c.dir = dir;
	e = scan(&c, dir);
	zc__sys_close(dir);
	return e < 0 ? e : c.count;
}

ZC_EXPORT int zc_region_cleanup(const char *prefix, uint32_t flags,
				void (*found)(const char *name, void *arg), void *arg)
{
	return zc__ret(region_cleanup(prefix, flags, found, arg));
}
