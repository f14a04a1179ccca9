/* SPDX-License-Identifier: MIT */
/*
 * Every kernel call libzcopy makes, in one list. Include this file after
 * defining ZC_SYSCALL(name, type, params, args, in, out, lenp, seam); it
 * expands to one ZC_SYSCALL() per entry and undefines the macro again.
 *
 *   name    the wrapper is zc__sys_<name>() in sys.c (sys.h declares it)
 *   type    its return type: the result, or -errno
 *   params  its parameter list
 *   args    the same names as a call's argument list
 *   in/out  the fd the call reads from / writes to or waits on, -1 if none,
 *           for the fault seam's per-fd schedules and its call trace
 *   lenp    the length a T_SHORT fault may cut to one byte, or NULL
 *   seam    PLAIN: tests/fault.c generates the wrapper's fault hook from
 *           this line; OWN: fault.c writes it by hand (a short fault there
 *           must not write to the caller's const structs)
 *
 * Adding a syscall is a line here and the wrapper's body in sys.c; the
 * fault seam, its enum of names and the tests' --wrap list follow from this
 * list (HACKING.md). Order matters to one thing only: the calls up to send
 * are the ones that move data (tests/fault.h: t_moves_data()). The list is
 * laid out by hand: clang-format would read the parameter lists as
 * expressions ("sigset_t * set").
 */

/* clang-format off */

/* Moving data */
ZC_SYSCALL(copy_file_range, ssize_t,
	   (int in, int64_t *off_in, int out, int64_t *off_out, size_t len),
	   (in, off_in, out, off_out, len), in, out, &len, PLAIN)
ZC_SYSCALL(splice, ssize_t,
	   (int in, int64_t *off_in, int out, int64_t *off_out, size_t len, unsigned int flags),
	   (in, off_in, out, off_out, len, flags), in, out, &len, PLAIN)
ZC_SYSCALL(sendfile, ssize_t, (int out, int in, int64_t *offset, size_t len),
	   (out, in, offset, len), in, out, &len, PLAIN)
ZC_SYSCALL(read, ssize_t, (int fd, void *buf, size_t len), (fd, buf, len), fd, -1, &len, PLAIN)
ZC_SYSCALL(pread, ssize_t, (int fd, void *buf, size_t len, int64_t off), (fd, buf, len, off),
	   fd, -1, &len, PLAIN)
ZC_SYSCALL(write, ssize_t, (int fd, const void *buf, size_t len), (fd, buf, len), -1, fd,
	   &len, PLAIN)
ZC_SYSCALL(pwrite, ssize_t, (int fd, const void *buf, size_t len, int64_t off),
	   (fd, buf, len, off), -1, fd, &len, PLAIN)
ZC_SYSCALL(send, ssize_t, (int fd, const void *buf, size_t len, int flags),
	   (fd, buf, len, flags), -1, fd, &len, PLAIN)

/* Mappings, fds and their state */
ZC_SYSCALL(mmap, long, (void **addr, size_t len, int prot, int flags, int fd, int64_t off),
	   (addr, len, prot, flags, fd, off), fd, -1, NULL, PLAIN)
ZC_SYSCALL(munmap, int, (void *addr, size_t len), (addr, len), -1, -1, NULL, PLAIN)
ZC_SYSCALL(madvise, int, (void *addr, size_t len, int advice), (addr, len, advice), -1, -1,
	   NULL, PLAIN)
ZC_SYSCALL(fstat, int, (int fd, struct stat *st), (fd, st), fd, -1, NULL, PLAIN)
ZC_SYSCALL(fstatfs, int, (int fd, struct statfs *st), (fd, st), fd, -1, NULL, PLAIN)
ZC_SYSCALL(lseek, int64_t, (int fd, int64_t off, int whence), (fd, off, whence), fd, -1,
	   NULL, PLAIN)
ZC_SYSCALL(pipe2, int, (int fds[2], int flags), (fds, flags), -1, -1, NULL, PLAIN)
ZC_SYSCALL(fcntl, int, (int fd, int cmd, long arg), (fd, cmd, arg), fd, -1, NULL, PLAIN)
ZC_SYSCALL(ioctl, int, (int fd, unsigned long req, void *arg), (fd, req, arg), fd, -1, NULL,
	   PLAIN)
ZC_SYSCALL(poll, int, (struct pollfd *fds, unsigned int nfds, int timeout),
	   (fds, nfds, timeout), -1, nfds ? fds[0].fd : -1, NULL, PLAIN)
ZC_SYSCALL(close, int, (int fd), (fd), fd, -1, NULL, PLAIN)

/* Keeping SIGPIPE away from the caller */
ZC_SYSCALL(sigmask, int, (int how, const sigset_t *set, sigset_t *old), (how, set, old),
	   -1, -1, NULL, PLAIN)
ZC_SYSCALL(sigpending, int, (sigset_t *set), (set), -1, -1, NULL, PLAIN)
ZC_SYSCALL(sigtimedwait, int, (const sigset_t *set), (set), -1, -1, NULL, PLAIN)

/* Shared-memory regions */
ZC_SYSCALL(open, int, (const char *path, int flags, uint32_t mode), (path, flags, mode),
	   -1, -1, NULL, PLAIN)
ZC_SYSCALL(linkat, int,
	   (int olddir, const char *oldpath, int newdir, const char *newpath, int flags),
	   (olddir, oldpath, newdir, newpath, flags), -1, -1, NULL, PLAIN)
ZC_SYSCALL(unlinkat, int, (int dir, const char *path, int flags), (dir, path, flags), -1, -1,
	   NULL, PLAIN)
ZC_SYSCALL(renameat2, int,
	   (int olddir, const char *oldpath, int newdir, const char *newpath, unsigned int flags),
	   (olddir, oldpath, newdir, newpath, flags), -1, -1, NULL, PLAIN)
ZC_SYSCALL(fstatat, int, (int dir, const char *path, struct stat *st, int flags),
	   (dir, path, st, flags), -1, -1, NULL, PLAIN)
ZC_SYSCALL(fchmod, int, (int fd, uint32_t mode), (fd, mode), fd, -1, NULL, PLAIN)
ZC_SYSCALL(ftruncate, int, (int fd, int64_t len), (fd, len), -1, fd, NULL, PLAIN)
ZC_SYSCALL(fallocate, int, (int fd, int mode, int64_t off, int64_t len),
	   (fd, mode, off, len), -1, fd, NULL, PLAIN)
ZC_SYSCALL(flock, int, (int fd, int op), (fd, op), fd, -1, NULL, PLAIN)
ZC_SYSCALL(fsetxattr, int,
	   (int fd, const char *name, const void *value, size_t size, int flags),
	   (fd, name, value, size, flags), -1, fd, NULL, PLAIN)
ZC_SYSCALL(fgetxattr, ssize_t, (int fd, const char *name, void *value, size_t size),
	   (fd, name, value, size), fd, -1, NULL, PLAIN)
ZC_SYSCALL(getdents64, ssize_t, (int fd, void *buf, size_t len), (fd, buf, len), fd, -1,
	   &len, PLAIN)
ZC_SYSCALL(memfd_create, int, (const char *name, unsigned int flags), (name, flags), -1, -1,
	   NULL, PLAIN)
ZC_SYSCALL(shmget, int, (int32_t key, size_t size, int flags), (key, size, flags), -1, -1,
	   NULL, PLAIN)
ZC_SYSCALL(shmat, long, (int shmid, void **addr, int flags), (shmid, addr, flags), -1, -1,
	   NULL, PLAIN)
ZC_SYSCALL(shmdt, int, (const void *addr), (addr), -1, -1, NULL, PLAIN)
ZC_SYSCALL(shmctl, int, (int shmid, int cmd, struct shmid_ds *ds), (shmid, cmd, ds), -1, -1,
	   NULL, PLAIN)
ZC_SYSCALL(msync, int, (void *addr, size_t len, int flags), (addr, len, flags), -1, -1, NULL,
	   PLAIN)
ZC_SYSCALL(mremap, long, (void **addr, size_t old_len, size_t new_len, int flags),
	   (addr, old_len, new_len, flags), -1, -1, NULL, PLAIN)
ZC_SYSCALL(sendmsg, ssize_t, (int fd, const struct msghdr *msg, int flags), (fd, msg, flags),
	   -1, fd, NULL, OWN)
ZC_SYSCALL(recvmsg, ssize_t, (int fd, struct msghdr *msg, int flags), (fd, msg, flags), fd,
	   -1, msg->msg_iovlen ? &msg->msg_iov[0].iov_len : NULL, PLAIN)
ZC_SYSCALL(vmsplice, ssize_t,
	   (int fd, const struct iovec *iov, unsigned long n, unsigned int flags),
	   (fd, iov, n, flags), -1, fd, NULL, OWN)

/* Process-shared locks in a region, and the futex calls behind them */
ZC_SYSCALL(mutex_init, int, (pthread_mutex_t *m, const pthread_mutexattr_t *attr), (m, attr),
	   -1, -1, NULL, PLAIN)
ZC_SYSCALL(mutex_lock, int, (pthread_mutex_t *m), (m), -1, -1, NULL, PLAIN)
ZC_SYSCALL(mutex_trylock, int, (pthread_mutex_t *m), (m), -1, -1, NULL, PLAIN)
ZC_SYSCALL(mutex_unlock, int, (pthread_mutex_t *m), (m), -1, -1, NULL, PLAIN)
ZC_SYSCALL(mutex_consistent, int, (pthread_mutex_t *m), (m), -1, -1, NULL, PLAIN)
ZC_SYSCALL(gettid, int, (void), (), -1, -1, NULL, PLAIN)
ZC_SYSCALL(futex_wake, int, (uint32_t *word, int n), (word, n), -1, -1, NULL, PLAIN)
ZC_SYSCALL(sem_init, int, (sem_t *s, unsigned int value), (s, value), -1, -1, NULL, PLAIN)
ZC_SYSCALL(sem_wait, int, (sem_t *s), (s), -1, -1, NULL, PLAIN)
ZC_SYSCALL(sem_trywait, int, (sem_t *s), (s), -1, -1, NULL, PLAIN)
ZC_SYSCALL(sem_timedwait, int, (sem_t *s, const struct timespec *abs), (s, abs), -1, -1,
	   NULL, PLAIN)
ZC_SYSCALL(sem_post, int, (sem_t *s), (s), -1, -1, NULL, PLAIN)
ZC_SYSCALL(clock_gettime, int, (int clock, struct timespec *ts), (clock, ts), -1, -1, NULL,
	   PLAIN)

#undef ZC_SYSCALL
