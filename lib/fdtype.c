// SPDX-License-Identifier: MIT
/*
 * What kind of file an fd is, from one fstat.
 */
#include <errno.h>
#include <linux/magic.h>
#include <sys/sysmacros.h>

#include "internal.h"

/*
 * Telling tmpfs (memfd, shm_open, /dev/shm) from a disk filesystem takes an
 * fstatfs, which a small transfer cannot afford on every call. The answer is
 * a property of the mount, so remember it per st_dev.
 */
#define DEV_CACHE 4

struct fs_info {
	dev_t dev;
	uint32_t type;		/* 0: free slot */
	bool may_clone;
};

/*
 * Filesystems whose FICLONERANGE or copy_file_range may share extents
 * instead of copying: the ones ZC_NO_REFLINK keeps copy_file_range away
 * from, and the only ones a default copy asks to clone (elsewhere the
 * ioctl would only cost a syscall to say no).
 */
static bool fs_may_clone(long f_type)
{
	switch ((unsigned long)f_type) {
	case 0x9123683eUL:	/* btrfs */
	case 0x58465342UL:	/* xfs */
	case 0x7461636fUL:	/* ocfs2 */
	case 0xca451a4eUL:	/* bcachefs */
	case 0x2fc12fc1UL:	/* zfs */
	case 0x794c7630UL:	/* overlayfs, as its upper layer can */
	case 0x6969UL:		/* nfs, server-side copy */
	case 0xfe534d42UL:	/* smb2 */
	case 0xff534d42UL:	/* cifs */
		return true;
	}
	return false;
}

static ZC_TLS struct fs_info dev_cache[DEV_CACHE];
static ZC_TLS unsigned int dev_cache_next;

static const struct fs_info *regular_fs(int fd, dev_t dev)
{
	struct fs_info *c;
	struct statfs sfs;
	unsigned int i;

	for (i = 0; i < DEV_CACHE; i++)
		if (dev_cache[i].type && dev_cache[i].dev == dev)
			return &dev_cache[i];

	c = &dev_cache[dev_cache_next++ % DEV_CACHE];
	c->dev = dev;
	c->type = ZC_FD_FILE;
	c->may_clone = false;
	if (zc__sys_fstatfs(fd, &sfs) < 0)
		return c;
	if (sfs.f_type == TMPFS_MAGIC || sfs.f_type == HUGETLBFS_MAGIC)
		c->type = ZC_FD_SHM;
	c->may_clone = fs_may_clone(sfs.f_type);
	return c;
}

/*
 * Terminals are character devices with well-known majors: the console and
 * virtual terminals (4), /dev/tty and ptmx (5), and pseudo-terminal slaves
 * (136-143). Checking the major saves the TCGETS ioctl isatty() would make.
 */
static bool tty_major(dev_t rdev)
{
	unsigned int m = major(rdev);

	return m == 4 || m == 5 || (m >= 136 && m <= 143);
}

int zc__fd_probe(struct zc__end *e)
{
	const struct fs_info *fs;
	int r = zc__sys_fstat(e->fd, &e->st);

	if (r < 0)
		return r;

	switch (e->st.st_mode & S_IFMT) {
	case S_IFREG:
		fs = regular_fs(e->fd, e->st.st_dev);
		e->type = fs->type;
		e->may_clone = fs->may_clone;
		break;
	case S_IFIFO:
		e->type = ZC_FD_PIPE;
		break;
	case S_IFSOCK:
		e->type = ZC_FD_SOCKET;
		break;
	case S_IFCHR:
		e->type = tty_major(e->st.st_rdev) ? ZC_FD_TTY : ZC_FD_CHAR;
		break;
	case S_IFBLK:
		e->type = ZC_FD_BLOCK;
		break;
	case S_IFDIR:
		e->type = ZC_FD_DIR;
		break;
	default:
		e->type = ZC_FD_UNKNOWN;
		break;
	}
	return 0;
}

/* Files whose offset means something, so bytes read can be given back. */
bool zc__seekable(const struct zc__end *e)
{
	return e->type == ZC_FD_FILE || e->type == ZC_FD_SHM || e->type == ZC_FD_BLOCK;
}
