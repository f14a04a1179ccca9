// SPDX-License-Identifier: MIT
/*
 * zcfuse: a FUSE filesystem for the tests that passes a backing directory
 * through, and fails or shortens reads of the files whose names ask for it.
 *
 *   zcfuse BACKING MOUNTPOINT [FUSE options]     (tests/fs/zcfuse-mount.sh)
 *
 * Every file and directory of BACKING shows under MOUNTPOINT and every
 * change goes through to it. Tokens in a file's name set faults on reads
 * through the mount (writes are never touched):
 *
 *   @eio=N     a read that asks for any byte at or past offset N fails with
 *              EIO; the bytes before N read fine (K and M suffixes: 1M is
 *              1048576). The page cache reads ahead in large requests, so a
 *              reader may get its EIO some way before N, never after it.
 *   @short=N   each read returns at most N bytes. Implies @direct: a short
 *              count into the page cache would be taken for end of file.
 *   @direct    open with direct_io, so every read(2) reaches this process
 *              and shared mmap(2) of the file fails (ENODEV).
 *
 * For example "big@eio=1M" reads as big up to 1 MiB and then fails, and
 * "data@short=4000@eio=2M" does both. Without @direct the page cache is
 * still dropped at every open, so faults hit each new reader again.
 */
#define FUSE_USE_VERSION 35
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* The backing directory, opened once before mounting; every call is relative to it. */
static int backing = -1;

struct zcf_file {
	int fd;
	uint64_t eio_at;	/* UINT64_MAX: never */
	size_t short_max;	/* 0: whole reads */
	bool direct;
};

/* "/a/b" -> "a/b", "/" -> ".": the name of the same entry under the backing fd. */
static const char *rel(const char *path)
{
	return path[1] ? path + 1 : ".";
}

static int neg_errno(int r)
{
	return r < 0 ? -errno : r;
}

/* The number after "@NAME=" in the base name, or false if it is not there. */
static bool name_token(const char *path, const char *name, uint64_t *val)
{
	const char *base = strrchr(path, '/'), *p;
	char key[32], *end;

	snprintf(key, sizeof(key), "@%s=", name);
	p = strstr(base ? base + 1 : path, key);
	if (!p)
		return false;
	*val = strtoull(p + strlen(key), &end, 10);
	if (*end == 'K' || *end == 'k')
		*val <<= 10;
	else if (*end == 'M' || *end == 'm')
		*val <<= 20;
	return true;
}

static void set_faults(struct zcf_file *f, const char *path, struct fuse_file_info *fi)
{
	const char *base = strrchr(path, '/');
	uint64_t v;

	f->eio_at = name_token(path, "eio", &v) ? v : UINT64_MAX;
	f->short_max = name_token(path, "short", &v) ? (size_t)v : 0;
	f->direct = f->short_max || strstr(base ? base : path, "@direct");
	fi->direct_io = f->direct;
	fi->keep_cache = 0;
	fi->fh = (uintptr_t)f;
}

static struct zcf_file *file_of(struct fuse_file_info *fi)
{
	return (struct zcf_file *)(uintptr_t)fi->fh;
}

static void *zcf_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	/* Sizes must follow the backing file at once when a test rewrites it. */
	cfg->attr_timeout = 0;
	cfg->entry_timeout = 0;
	cfg->negative_timeout = 0;
	return NULL;
}

static int zcf_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	if (fi)
		return neg_errno(fstat(file_of(fi)->fd, st));
	return neg_errno(fstatat(backing, rel(path), st, AT_SYMLINK_NOFOLLOW));
}

static int zcf_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	int fd = openat(backing, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	(void)off, (void)fi, (void)flags;
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	while ((de = readdir(d)))
		if (fill(buf, de->d_name, NULL, 0, 0))
			break;
	closedir(d);
	return 0;
}

static int open_common(const char *path, int flags, mode_t mode,
		       struct fuse_file_info *fi)
{
	struct zcf_file *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->fd = openat(backing, rel(path), (flags & ~O_NOFOLLOW) | O_CLOEXEC, mode);
	if (f->fd < 0) {
		free(f);
		return -errno;
	}
	set_faults(f, path, fi);
	return 0;
}

static int zcf_open(const char *path, struct fuse_file_info *fi)
{
	return open_common(path, fi->flags, 0, fi);
}

static int zcf_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return open_common(path, fi->flags | O_CREAT, mode, fi);
}

static int zcf_release(const char *path, struct fuse_file_info *fi)
{
	struct zcf_file *f = file_of(fi);

	(void)path;
	close(f->fd);
	free(f);
	return 0;
}

static int zcf_read(const char *path, char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct zcf_file *f = file_of(fi);
	ssize_t n;

	(void)path;
	if (size && (uint64_t)off + size > f->eio_at)
		return -EIO;
	if (f->short_max && size > f->short_max)
		size = f->short_max;
	n = pread(f->fd, buf, size, off);
	return n < 0 ? -errno : (int)n;
}

static int zcf_write(const char *path, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	ssize_t n = pwrite(file_of(fi)->fd, buf, size, off);

	(void)path;
	return n < 0 ? -errno : (int)n;
}

static int zcf_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	int fd, r;

	if (fi)
		return neg_errno(ftruncate(file_of(fi)->fd, size));
	fd = openat(backing, rel(path), O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = neg_errno(ftruncate(fd, size));
	close(fd);
	return r;
}

static int zcf_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	int fd = file_of(fi)->fd;

	(void)path;
	return neg_errno(datasync ? fdatasync(fd) : fsync(fd));
}

static int zcf_fallocate(const char *path, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	(void)path;
	return neg_errno(fallocate(file_of(fi)->fd, mode, off, len));
}

/* cp asks where the data is; the backing file knows. */
static off_t zcf_lseek(const char *path, off_t off, int whence, struct fuse_file_info *fi)
{
	off_t r = lseek(file_of(fi)->fd, off, whence);

	(void)path;
	return r < 0 ? -errno : r;
}

static int zcf_statfs(const char *path, struct statvfs *sv)
{
	(void)path;
	return neg_errno(fstatvfs(backing, sv));
}

static int zcf_mkdir(const char *path, mode_t mode)
{
	return neg_errno(mkdirat(backing, rel(path), mode));
}

static int zcf_unlink(const char *path)
{
	return neg_errno(unlinkat(backing, rel(path), 0));
}

static int zcf_rmdir(const char *path)
{
	return neg_errno(unlinkat(backing, rel(path), AT_REMOVEDIR));
}

static int zcf_rename(const char *from, const char *to, unsigned int flags)
{
	return neg_errno(renameat2(backing, rel(from), backing, rel(to), flags));
}

static int zcf_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	if (fi)
		return neg_errno(fchmod(file_of(fi)->fd, mode));
	return neg_errno(fchmodat(backing, rel(path), mode, 0));
}

static int zcf_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	if (fi)
		return neg_errno(fchown(file_of(fi)->fd, uid, gid));
	return neg_errno(fchownat(backing, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW));
}

static int zcf_utimens(const char *path, const struct timespec ts[2],
		       struct fuse_file_info *fi)
{
	if (fi)
		return neg_errno(futimens(file_of(fi)->fd, ts));
	return neg_errno(utimensat(backing, rel(path), ts, AT_SYMLINK_NOFOLLOW));
}

/*
 * No copy_file_range: the kernel then copies through read and write, so
 * the faults above apply to every path a caller may take.
 */
static const struct fuse_operations zcf_ops = {
	.init = zcf_init,
	.getattr = zcf_getattr,
	.readdir = zcf_readdir,
	.open = zcf_open,
	.create = zcf_create,
	.release = zcf_release,
	.read = zcf_read,
	.write = zcf_write,
	.truncate = zcf_truncate,
	.fsync = zcf_fsync,
	.fallocate = zcf_fallocate,
	.lseek = zcf_lseek,
	.statfs = zcf_statfs,
	.mkdir = zcf_mkdir,
	.unlink = zcf_unlink,
	.rmdir = zcf_rmdir,
	.rename = zcf_rename,
	.chmod = zcf_chmod,
	.chown = zcf_chown,
	.utimens = zcf_utimens,
};

int main(int argc, char **argv)
{
	if (argc < 3 || argv[1][0] == '-') {
		fprintf(stderr, "usage: zcfuse BACKING MOUNTPOINT [FUSE options]\n");
		return 2;
	}
	backing = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (backing < 0) {
		perror(argv[1]);
		return 1;
	}
	/* The daemon changes to / once mounted: paths must not depend on the cwd. */
	argv[1] = argv[0];
	return fuse_main(argc - 1, argv + 1, &zcf_ops, NULL);
}
