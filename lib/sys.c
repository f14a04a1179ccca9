// SPDX-License-Identifier: MIT
/*
 * Thin syscall wrappers: one call each, -errno on failure. See sys.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "sys.h"

__thread uint64_t zc__sys_count;

/*
 * Every wrapper ends in one of these three, which count the call for
 * zc_stats.syscalls and turn the result into "value or -errno".
 */

/* A libc call that returns -1 and sets errno. */
static inline long ret(long r)
{
	zc__sys_count++;
	return r < 0 ? -errno : r;
}

/* A pthread call, which returns the error number itself. */
static inline int ret_err(int err)
{
	zc__sys_count++;
	return -err;
}

/* A call that returns an address, or failed: the address goes to *addr. */
static inline long ret_addr(void *p, void *failed, void **addr)
{
	zc__sys_count++;
	if (p == failed)
		return -errno;
	*addr = p;
	return 0;
}

ssize_t zc__sys_copy_file_range(int in, int64_t *off_in, int out, int64_t *off_out,
			       size_t len)
{
	return ret(copy_file_range(in, (loff_t *)off_in, out, (loff_t *)off_out, len, 0));
}

ssize_t zc__sys_splice(int in, int64_t *off_in, int out, int64_t *off_out, size_t len,
		      unsigned int flags)
{
	return ret(splice(in, (loff_t *)off_in, out, (loff_t *)off_out, len, flags));
}

ssize_t zc__sys_sendfile(int out, int in, int64_t *offset, size_t len)
{
	return ret(sendfile(out, in, (off_t *)offset, len));
}

ssize_t zc__sys_read(int fd, void *buf, size_t len)
{
	return ret(read(fd, buf, len));
}

ssize_t zc__sys_pread(int fd, void *buf, size_t len, int64_t off)
{
	return ret(pread(fd, buf, len, off));
}

ssize_t zc__sys_write(int fd, const void *buf, size_t len)
{
	return ret(write(fd, buf, len));
}

ssize_t zc__sys_pwrite(int fd, const void *buf, size_t len, int64_t off)
{
	return ret(pwrite(fd, buf, len, off));
}

ssize_t zc__sys_send(int fd, const void *buf, size_t len, int flags)
{
	return ret(send(fd, buf, len, flags));
}

/* The mapping comes back through *addr so the return value stays -errno. */
long zc__sys_mmap(void **addr, size_t len, int prot, int flags, int fd, int64_t off)
{
	return ret_addr(mmap(*addr, len, prot, flags, fd, off), MAP_FAILED, addr);
}

int zc__sys_munmap(void *addr, size_t len)
{
	return ret(munmap(addr, len));
}

int zc__sys_madvise(void *addr, size_t len, int advice)
{
	return ret(madvise(addr, len, advice));
}

int zc__sys_fstat(int fd, struct stat *st)
{
	return ret(fstat(fd, st));
}

int zc__sys_fstatfs(int fd, struct statfs *st)
{
	return ret(fstatfs(fd, st));
}

int64_t zc__sys_lseek(int fd, int64_t off, int whence)
{
	return ret(lseek(fd, off, whence));
}

int zc__sys_pipe2(int fds[2], int flags)
{
	return ret(pipe2(fds, flags));
}

int zc__sys_fcntl(int fd, int cmd, long arg)
{
	return ret(fcntl(fd, cmd, arg));
}

int zc__sys_ioctl(int fd, unsigned long req, void *arg)
{
	return ret(ioctl(fd, req, arg));
}

int zc__sys_poll(struct pollfd *fds, unsigned int nfds, int timeout)
{
	return ret(poll(fds, nfds, timeout));
}

int zc__sys_close(int fd)
{
	return ret(close(fd));
}

/* pthread_sigmask returns the error number instead of setting errno. */
int zc__sys_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return ret_err(pthread_sigmask(how, set, old));
}

int zc__sys_sigpending(sigset_t *set)
{
	return ret(sigpending(set));
}

/* Take one pending signal from set without waiting. */
int zc__sys_sigtimedwait(const sigset_t *set)
{
	static const struct timespec zero;

	return ret(sigtimedwait(set, NULL, &zero));
}

/* Shared-memory regions */

int zc__sys_open(const char *path, int flags, uint32_t mode)
{
	return ret(open(path, flags, (mode_t)mode));
}

int zc__sys_linkat(int olddir, const char *oldpath, int newdir, const char *newpath,
		  int flags)
{
	return ret(linkat(olddir, oldpath, newdir, newpath, flags));
}

int zc__sys_unlinkat(int dir, const char *path, int flags)
{
	return ret(unlinkat(dir, path, flags));
}

int zc__sys_renameat2(int olddir, const char *oldpath, int newdir, const char *newpath,
		      unsigned int flags)
{
	return ret(renameat2(olddir, oldpath, newdir, newpath, flags));
}

int zc__sys_fstatat(int dir, const char *path, struct stat *st, int flags)
{
	return ret(fstatat(dir, path, st, flags));
}

int zc__sys_fchmod(int fd, uint32_t mode)
{
	return ret(fchmod(fd, (mode_t)mode));
}

int zc__sys_ftruncate(int fd, int64_t len)
{
	return ret(ftruncate(fd, len));
}

/* fallocate(2), not posix_fallocate(3): the latter falls back to writing zeros. */
int zc__sys_fallocate(int fd, int mode, int64_t off, int64_t len)
{
	return ret(fallocate(fd, mode, off, len));
}

int zc__sys_flock(int fd, int op)
{
	return ret(flock(fd, op));
}

int zc__sys_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)
{
	return ret(fsetxattr(fd, name, value, size, flags));
}

ssize_t zc__sys_fgetxattr(int fd, const char *name, void *value, size_t size)
{
	return ret(fgetxattr(fd, name, value, size));
}

ssize_t zc__sys_getdents64(int fd, void *buf, size_t len)
{
	return ret(getdents64(fd, buf, len));
}

int zc__sys_memfd_create(const char *name, unsigned int flags)
{
	return ret(memfd_create(name, flags));
}

int zc__sys_shmget(int32_t key, size_t size, int flags)
{
	return ret(shmget((key_t)key, size, flags));
}

/* Like zc__sys_mmap: the address comes back through *addr. */
long zc__sys_shmat(int shmid, void **addr, int flags)
{
	return ret_addr(shmat(shmid, *addr, flags), (void *)-1, addr);
}

int zc__sys_shmdt(const void *addr)
{
	return ret(shmdt(addr));
}

int zc__sys_shmctl(int shmid, int cmd, struct shmid_ds *ds)
{
	return ret(shmctl(shmid, cmd, ds));
}

int zc__sys_msync(void *addr, size_t len, int flags)
{
	return ret(msync(addr, len, flags));
}

long zc__sys_mremap(void **addr, size_t old_len, size_t new_len, int flags)
{
	return ret_addr(mremap(*addr, old_len, new_len, flags), MAP_FAILED, addr);
}

ssize_t zc__sys_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return ret(sendmsg(fd, msg, flags));
}

ssize_t zc__sys_recvmsg(int fd, struct msghdr *msg, int flags)
{
	return ret(recvmsg(fd, msg, flags));
}

ssize_t zc__sys_vmsplice(int fd, const struct iovec *iov, unsigned long n, unsigned int flags)
{
	return ret(vmsplice(fd, iov, n, flags));
}

/* The pthread calls return the error number instead of setting errno. */
int zc__sys_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
	return ret_err(pthread_mutex_init(m, attr));
}

int zc__sys_mutex_lock(pthread_mutex_t *m)
{
	return ret_err(pthread_mutex_lock(m));
}

int zc__sys_mutex_trylock(pthread_mutex_t *m)
{
	return ret_err(pthread_mutex_trylock(m));
}

int zc__sys_mutex_unlock(pthread_mutex_t *m)
{
	return ret_err(pthread_mutex_unlock(m));
}

int zc__sys_mutex_consistent(pthread_mutex_t *m)
{
	return ret_err(pthread_mutex_consistent(m));
}

int zc__sys_gettid(void)
{
	return ret(gettid());
}

/* Wake up to n waiters on a futex word that other processes may share. */
int zc__sys_futex_wake(uint32_t *word, int n)
{
	return ret(syscall(SYS_futex, word, FUTEX_WAKE, n, NULL, NULL, 0));
}

int zc__sys_sem_init(sem_t *s, unsigned int value)
{
	return ret(sem_init(s, 1, value));
}

int zc__sys_sem_wait(sem_t *s)
{
	return ret(sem_wait(s));
}

int zc__sys_sem_trywait(sem_t *s)
{
	return ret(sem_trywait(s));
}

int zc__sys_sem_timedwait(sem_t *s, const struct timespec *abs)
{
	return ret(sem_timedwait(s, abs));
}

int zc__sys_sem_post(sem_t *s)
{
	return ret(sem_post(s));
}

int zc__sys_clock_gettime(int clock, struct timespec *ts)
{
	return ret(clock_gettime(clock, ts));
}
