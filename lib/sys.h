/* SPDX-License-Identifier: MIT */
/*
 * The syscall seam: the only place libzcopy talks to the kernel.
 *
 * Each wrapper makes exactly one call, returns the result or -errno, and
 * decides nothing. Tests link the library's objects statically with
 * -Wl,--wrap=zc_sys_NAME to inject failures into any step; the shared
 * library pays nothing for that.
 */
#ifndef ZC_SYS_H
#define ZC_SYS_H

#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

/* System calls made by this thread, for zc_stats.syscalls. */
extern __thread uint64_t zc__sys_count;

ssize_t zc_sys_copy_file_range(int in, int64_t *off_in, int out, int64_t *off_out,
			       size_t len);
ssize_t zc_sys_splice(int in, int64_t *off_in, int out, int64_t *off_out, size_t len,
		      unsigned int flags);
ssize_t zc_sys_sendfile(int out, int in, int64_t *offset, size_t len);
ssize_t zc_sys_read(int fd, void *buf, size_t len);
ssize_t zc_sys_pread(int fd, void *buf, size_t len, int64_t off);
ssize_t zc_sys_write(int fd, const void *buf, size_t len);
ssize_t zc_sys_pwrite(int fd, const void *buf, size_t len, int64_t off);
ssize_t zc_sys_send(int fd, const void *buf, size_t len, int flags);
long zc_sys_mmap(void **addr, size_t len, int prot, int flags, int fd, int64_t off);
int zc_sys_munmap(void *addr, size_t len);
int zc_sys_fstat(int fd, struct stat *st);
int zc_sys_fstatfs(int fd, struct statfs *st);
int64_t zc_sys_lseek(int fd, int64_t off, int whence);
int zc_sys_pipe2(int fds[2], int flags);
int zc_sys_fcntl(int fd, int cmd, long arg);
int zc_sys_ioctl(int fd, unsigned long req, void *arg);
int zc_sys_poll(struct pollfd *fds, unsigned int nfds, int timeout);
int zc_sys_close(int fd);
int zc_sys_sigmask(int how, const sigset_t *set, sigset_t *old);
int zc_sys_sigpending(sigset_t *set);
int zc_sys_sigtimedwait(const sigset_t *set);

/* Shared-memory regions (region.c, shm-*.c) */
struct iovec;
struct msghdr;
struct shmid_ds;
int zc_sys_open(const char *path, int flags, uint32_t mode);
int zc_sys_linkat(int olddir, const char *oldpath, int newdir, const char *newpath,
		  int flags);
int zc_sys_unlinkat(int dir, const char *path, int flags);
int zc_sys_fstatat(int dir, const char *path, struct stat *st, int flags);
int zc_sys_fchmod(int fd, uint32_t mode);
int zc_sys_ftruncate(int fd, int64_t len);
int zc_sys_fallocate(int fd, int mode, int64_t off, int64_t len);
int zc_sys_flock(int fd, int op);
int zc_sys_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags);
ssize_t zc_sys_fgetxattr(int fd, const char *name, void *value, size_t size);
ssize_t zc_sys_getdents64(int fd, void *buf, size_t len);
int zc_sys_memfd_create(const char *name, unsigned int flags);
int zc_sys_shmget(int32_t key, size_t size, int flags);
long zc_sys_shmat(int shmid, void **addr, int flags);
int zc_sys_shmdt(const void *addr);
int zc_sys_shmctl(int shmid, int cmd, struct shmid_ds *ds);
int zc_sys_msync(void *addr, size_t len, int flags);
long zc_sys_mremap(void **addr, size_t old_len, size_t new_len, int flags);
ssize_t zc_sys_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t zc_sys_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t zc_sys_vmsplice(int fd, const struct iovec *iov, unsigned long n, unsigned int flags);

/* Process-shared locks in a region (shm-sync.c); futex calls behind them. */
int zc_sys_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr);
int zc_sys_mutex_lock(pthread_mutex_t *m);
int zc_sys_mutex_trylock(pthread_mutex_t *m);
int zc_sys_mutex_unlock(pthread_mutex_t *m);
int zc_sys_mutex_consistent(pthread_mutex_t *m);
int zc_sys_sem_init(sem_t *s, unsigned int value);
int zc_sys_sem_wait(sem_t *s);
int zc_sys_sem_trywait(sem_t *s);
int zc_sys_sem_timedwait(sem_t *s, const struct timespec *abs);
int zc_sys_sem_post(sem_t *s);
int zc_sys_clock_gettime(int clock, struct timespec *ts);

#endif /* ZC_SYS_H */
