// SPDX-License-Identifier: MIT
/*
 * Thin syscall wrappers: one call each, -errno on failure. See sys.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sys.h"

__thread uint64_t zc__sys_count;

/* Turn a libc "-1 and errno" result into "-errno". */
static inline long ret(long r)
{
	zc__sys_count++;
	return r < 0 ? -errno : r;
}

ssize_t zc_sys_copy_file_range(int in, int64_t *off_in, int out, int64_t *off_out,
			       size_t len)
{
	return ret(copy_file_range(in, (loff_t *)off_in, out, (loff_t *)off_out, len, 0));
}

ssize_t zc_sys_splice(int in, int64_t *off_in, int out, int64_t *off_out, size_t len,
		      unsigned int flags)
{
	return ret(splice(in, (loff_t *)off_in, out, (loff_t *)off_out, len, flags));
}

ssize_t zc_sys_sendfile(int out, int in, int64_t *offset, size_t len)
{
	return ret(sendfile(out, in, (off_t *)offset, len));
}

ssize_t zc_sys_read(int fd, void *buf, size_t len)
{
	return ret(read(fd, buf, len));
}

ssize_t zc_sys_pread(int fd, void *buf, size_t len, int64_t off)
{
	return ret(pread(fd, buf, len, off));
}

ssize_t zc_sys_write(int fd, const void *buf, size_t len)
{
	return ret(write(fd, buf, len));
}

ssize_t zc_sys_pwrite(int fd, const void *buf, size_t len, int64_t off)
{
	return ret(pwrite(fd, buf, len, off));
}

ssize_t zc_sys_send(int fd, const void *buf, size_t len, int flags)
{
	return ret(send(fd, buf, len, flags));
}

/* The mapping comes back through *addr so the return value stays -errno. */
long zc_sys_mmap(void **addr, size_t len, int prot, int flags, int fd, int64_t off)
{
	void *p = mmap(*addr, len, prot, flags, fd, off);

	zc__sys_count++;
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

int zc_sys_munmap(void *addr, size_t len)
{
	return ret(munmap(addr, len));
}

int zc_sys_fstat(int fd, struct stat *st)
{
	return ret(fstat(fd, st));
}

int zc_sys_fstatfs(int fd, struct statfs *st)
{
	return ret(fstatfs(fd, st));
}

int64_t zc_sys_lseek(int fd, int64_t off, int whence)
{
	return ret(lseek(fd, off, whence));
}

int zc_sys_pipe2(int fds[2], int flags)
{
	return ret(pipe2(fds, flags));
}

int zc_sys_fcntl(int fd, int cmd, long arg)
{
	return ret(fcntl(fd, cmd, arg));
}

int zc_sys_ioctl(int fd, unsigned long req, void *arg)
{
	return ret(ioctl(fd, req, arg));
}

int zc_sys_poll(struct pollfd *fds, unsigned int nfds, int timeout)
{
	return ret(poll(fds, nfds, timeout));
}

int zc_sys_close(int fd)
{
	return ret(close(fd));
}

/* pthread_sigmask returns the error number instead of setting errno. */
int zc_sys_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	zc__sys_count++;
	return -pthread_sigmask(how, set, old);
}

int zc_sys_sigpending(sigset_t *set)
{
	return ret(sigpending(set));
}

/* Take one pending signal from set without waiting. */
int zc_sys_sigtimedwait(const sigset_t *set)
{
	static const struct timespec zero;

	return ret(sigtimedwait(set, NULL, &zero));
}
