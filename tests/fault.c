// SPDX-License-Identifier: MIT
/*
 * The fault seam (fault.h): a __wrap_zc_sys_NAME for every wrapper in
 * lib/sys.h. Each one asks the calling thread's schedule what to do and
 * otherwise passes the call on to __real_zc_sys_NAME unchanged.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "fault.h"
#include "sys.h"

#define T_FAULT_MAX 64	/* room for one fault on every wrapper */

struct fault {
	enum t_sys sys;
	unsigned int nth;
	int fd;
	enum t_fault_kind kind;
	int err;
	void (*fn)(void *);
	void *arg;
	unsigned int seen;
};

static const char *const sys_names[T_SYS_MAX] = {
	[T_SYS_COPY_FILE_RANGE] = "copy_file_range",
	[T_SYS_SPLICE] = "splice",
	[T_SYS_SENDFILE] = "sendfile",
	[T_SYS_READ] = "read",
	[T_SYS_PREAD] = "pread",
	[T_SYS_WRITE] = "write",
	[T_SYS_PWRITE] = "pwrite",
	[T_SYS_SEND] = "send",
	[T_SYS_MMAP] = "mmap",
	[T_SYS_MUNMAP] = "munmap",
	[T_SYS_FSTAT] = "fstat",
	[T_SYS_FSTATFS] = "fstatfs",
	[T_SYS_LSEEK] = "lseek",
	[T_SYS_PIPE2] = "pipe2",
	[T_SYS_FCNTL] = "fcntl",
	[T_SYS_IOCTL] = "ioctl",
	[T_SYS_POLL] = "poll",
	[T_SYS_CLOSE] = "close",
	[T_SYS_SIGMASK] = "sigmask",
	[T_SYS_SIGPENDING] = "sigpending",
	[T_SYS_SIGTIMEDWAIT] = "sigtimedwait",
	[T_SYS_OPEN] = "open",
	[T_SYS_LINKAT] = "linkat",
	[T_SYS_UNLINKAT] = "unlinkat",
	[T_SYS_FSTATAT] = "fstatat",
	[T_SYS_FCHMOD] = "fchmod",
	[T_SYS_FTRUNCATE] = "ftruncate",
	[T_SYS_FALLOCATE] = "fallocate",
	[T_SYS_FLOCK] = "flock",
	[T_SYS_FSETXATTR] = "fsetxattr",
	[T_SYS_FGETXATTR] = "fgetxattr",
	[T_SYS_GETDENTS64] = "getdents64",
	[T_SYS_MEMFD_CREATE] = "memfd_create",
	[T_SYS_SHMGET] = "shmget",
	[T_SYS_SHMAT] = "shmat",
	[T_SYS_SHMDT] = "shmdt",
	[T_SYS_SHMCTL] = "shmctl",
	[T_SYS_MSYNC] = "msync",
	[T_SYS_MREMAP] = "mremap",
	[T_SYS_SENDMSG] = "sendmsg",
	[T_SYS_RECVMSG] = "recvmsg",
	[T_SYS_VMSPLICE] = "vmsplice",
	[T_SYS_MUTEX_INIT] = "mutex_init",
	[T_SYS_MUTEX_LOCK] = "mutex_lock",
	[T_SYS_MUTEX_TRYLOCK] = "mutex_trylock",
	[T_SYS_MUTEX_UNLOCK] = "mutex_unlock",
	[T_SYS_MUTEX_CONSISTENT] = "mutex_consistent",
	[T_SYS_SEM_INIT] = "sem_init",
	[T_SYS_SEM_WAIT] = "sem_wait",
	[T_SYS_SEM_TRYWAIT] = "sem_trywait",
	[T_SYS_SEM_TIMEDWAIT] = "sem_timedwait",
	[T_SYS_SEM_POST] = "sem_post",
	[T_SYS_CLOCK_GETTIME] = "clock_gettime",
};

static __thread struct fault sched[T_FAULT_MAX];
static __thread unsigned int nsched;
static __thread unsigned int calls[T_SYS_MAX];
static __thread unsigned int fired;
static __thread struct t_call trace[T_TRACE_MAX];
static __thread size_t ntrace;

enum t_sys t_sys_id(const char *name)
{
	unsigned int i;

	for (i = 0; i < T_SYS_MAX; i++)
		if (strcmp(sys_names[i], name) == 0)
			break;
	return (enum t_sys)i;
}

const char *t_sys_name(enum t_sys id)
{
	return id < T_SYS_MAX ? sys_names[id] : "?";
}

static void add(const char *sys, unsigned int nth, int fd, enum t_fault_kind kind, int err,
		void (*fn)(void *), void *arg)
{
	enum t_sys id = t_sys_id(sys);

	/* A misspelt name or a full schedule is a bug in the test: stop loudly. */
	if (id == T_SYS_MAX || nsched == T_FAULT_MAX)
		__builtin_trap();
	sched[nsched++] = (struct fault){ .sys = id, .nth = nth, .fd = fd, .kind = kind,
					  .err = err, .fn = fn, .arg = arg };
}

void t_fault_add_fd(const char *sys, unsigned int nth, int fd, enum t_fault_kind kind, int err)
{
	add(sys, nth, fd, kind, err, NULL, NULL);
}

void t_fault_add(const char *sys, unsigned int nth, enum t_fault_kind kind, int err)
{
	add(sys, nth, -1, kind, err, NULL, NULL);
}

void t_fault_add_fn(const char *sys, unsigned int nth, void (*fn)(void *), void *arg)
{
	add(sys, nth, -1, T_CALL, 0, fn, arg);
}

void t_fault_reset(void)
{
	nsched = 0;
	fired = 0;
	ntrace = 0;
	memset(calls, 0, sizeof(calls));
}

unsigned int t_fault_fired(void)
{
	return fired;
}

unsigned int t_fault_calls(enum t_sys sys)
{
	return sys < T_SYS_MAX ? calls[sys] : 0;
}

size_t t_fault_trace(const struct t_call **out)
{
	*out = trace;
	return ntrace;
}

/*
 * Count the call, then let every matching fault see it. Returns true with
 * *ret set when the call must not reach the kernel; a T_SHORT fault may have
 * cut *len to 1 when it does.
 */
static bool intercept(enum t_sys sys, int in, int out, size_t *len, long *ret)
{
	bool skip = false;
	unsigned int i;

	calls[sys]++;
	if (ntrace < T_TRACE_MAX)
		trace[ntrace++] = (struct t_call){ sys, in, out, calls[sys] };
	for (i = 0; i < nsched; i++) {
		struct fault *f = &sched[i];

		if (f->sys != sys || (f->fd >= 0 && f->fd != in && f->fd != out))
			continue;
		f->seen++;
		if ((f->nth && f->seen != f->nth) || skip)
			continue;
		fired++;
		switch (f->kind) {
		case T_FAIL:
		case T_ZERO:
			*ret = f->kind == T_FAIL ? -f->err : 0;
			skip = true;
			break;
		case T_SHORT:
			if (len && *len > 1)
				*len = 1;
			break;
		case T_CALL:
			f->fn(f->arg);
			break;
		}
	}
	/* A faked call still counts as one in zc_stats.syscalls. */
	if (skip)
		zc__sys_count++;
	return skip;
}

/* Declares __real_zc_sys_NAME and __wrap_zc_sys_NAME with the seam's signature. */
#define SEAM(type, name, params)                 \
	type __real_zc_sys_##name params;        \
	type __wrap_zc_sys_##name params

/* The body of a wrapper: ask the schedule, then make the real call. */
#define PASS(id, in, out, lenp, call)                 \
	do {                                          \
		long r_;                              \
		if (intercept(id, in, out, lenp, &r_)) \
			return r_;                    \
		return __real_zc_sys_##call;          \
	} while (0)

SEAM(ssize_t, copy_file_range, (int in, int64_t *off_in, int out, int64_t *off_out,
				 size_t len));
ssize_t __wrap_zc_sys_copy_file_range(int in, int64_t *off_in, int out, int64_t *off_out,
				      size_t len)
{
	PASS(T_SYS_COPY_FILE_RANGE, in, out, &len,
	     copy_file_range(in, off_in, out, off_out, len));
}

SEAM(ssize_t, splice, (int in, int64_t *off_in, int out, int64_t *off_out, size_t len,
			unsigned int flags));
ssize_t __wrap_zc_sys_splice(int in, int64_t *off_in, int out, int64_t *off_out, size_t len,
			     unsigned int flags)
{
	PASS(T_SYS_SPLICE, in, out, &len, splice(in, off_in, out, off_out, len, flags));
}

SEAM(ssize_t, sendfile, (int out, int in, int64_t *offset, size_t len));
ssize_t __wrap_zc_sys_sendfile(int out, int in, int64_t *offset, size_t len)
{
	PASS(T_SYS_SENDFILE, in, out, &len, sendfile(out, in, offset, len));
}

SEAM(ssize_t, read, (int fd, void *buf, size_t len));
ssize_t __wrap_zc_sys_read(int fd, void *buf, size_t len)
{
	PASS(T_SYS_READ, fd, -1, &len, read(fd, buf, len));
}

SEAM(ssize_t, pread, (int fd, void *buf, size_t len, int64_t off));
ssize_t __wrap_zc_sys_pread(int fd, void *buf, size_t len, int64_t off)
{
	PASS(T_SYS_PREAD, fd, -1, &len, pread(fd, buf, len, off));
}

SEAM(ssize_t, write, (int fd, const void *buf, size_t len));
ssize_t __wrap_zc_sys_write(int fd, const void *buf, size_t len)
{
	PASS(T_SYS_WRITE, -1, fd, &len, write(fd, buf, len));
}

SEAM(ssize_t, pwrite, (int fd, const void *buf, size_t len, int64_t off));
ssize_t __wrap_zc_sys_pwrite(int fd, const void *buf, size_t len, int64_t off)
{
	PASS(T_SYS_PWRITE, -1, fd, &len, pwrite(fd, buf, len, off));
}

SEAM(ssize_t, send, (int fd, const void *buf, size_t len, int flags));
ssize_t __wrap_zc_sys_send(int fd, const void *buf, size_t len, int flags)
{
	PASS(T_SYS_SEND, -1, fd, &len, send(fd, buf, len, flags));
}

SEAM(long, mmap, (void **addr, size_t len, int prot, int flags, int fd, int64_t off));
long __wrap_zc_sys_mmap(void **addr, size_t len, int prot, int flags, int fd, int64_t off)
{
	PASS(T_SYS_MMAP, fd, -1, NULL, mmap(addr, len, prot, flags, fd, off));
}

SEAM(int, munmap, (void *addr, size_t len));
int __wrap_zc_sys_munmap(void *addr, size_t len)
{
	PASS(T_SYS_MUNMAP, -1, -1, NULL, munmap(addr, len));
}

SEAM(int, fstat, (int fd, struct stat *st));
int __wrap_zc_sys_fstat(int fd, struct stat *st)
{
	PASS(T_SYS_FSTAT, fd, -1, NULL, fstat(fd, st));
}

SEAM(int, fstatfs, (int fd, struct statfs *st));
int __wrap_zc_sys_fstatfs(int fd, struct statfs *st)
{
	PASS(T_SYS_FSTATFS, fd, -1, NULL, fstatfs(fd, st));
}

SEAM(int64_t, lseek, (int fd, int64_t off, int whence));
int64_t __wrap_zc_sys_lseek(int fd, int64_t off, int whence)
{
	PASS(T_SYS_LSEEK, fd, -1, NULL, lseek(fd, off, whence));
}

SEAM(int, pipe2, (int fds[2], int flags));
int __wrap_zc_sys_pipe2(int fds[2], int flags)
{
	PASS(T_SYS_PIPE2, -1, -1, NULL, pipe2(fds, flags));
}

SEAM(int, fcntl, (int fd, int cmd, long arg));
int __wrap_zc_sys_fcntl(int fd, int cmd, long arg)
{
	PASS(T_SYS_FCNTL, fd, -1, NULL, fcntl(fd, cmd, arg));
}

SEAM(int, ioctl, (int fd, unsigned long req, void *arg));
int __wrap_zc_sys_ioctl(int fd, unsigned long req, void *arg)
{
	PASS(T_SYS_IOCTL, fd, -1, NULL, ioctl(fd, req, arg));
}

SEAM(int, poll, (struct pollfd *fds, unsigned int nfds, int timeout));
int __wrap_zc_sys_poll(struct pollfd *fds, unsigned int nfds, int timeout)
{
	PASS(T_SYS_POLL, -1, nfds ? fds[0].fd : -1, NULL, poll(fds, nfds, timeout));
}

SEAM(int, close, (int fd));
int __wrap_zc_sys_close(int fd)
{
	PASS(T_SYS_CLOSE, fd, -1, NULL, close(fd));
}

SEAM(int, sigmask, (int how, const sigset_t *set, sigset_t *old));
int __wrap_zc_sys_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	PASS(T_SYS_SIGMASK, -1, -1, NULL, sigmask(how, set, old));
}

SEAM(int, sigpending, (sigset_t *set));
int __wrap_zc_sys_sigpending(sigset_t *set)
{
	PASS(T_SYS_SIGPENDING, -1, -1, NULL, sigpending(set));
}

SEAM(int, sigtimedwait, (const sigset_t *set));
int __wrap_zc_sys_sigtimedwait(const sigset_t *set)
{
	PASS(T_SYS_SIGTIMEDWAIT, -1, -1, NULL, sigtimedwait(set));
}

/* Shared-memory regions (region.c, shm-*.c). */

SEAM(int, open, (const char *path, int flags, uint32_t mode));
int __wrap_zc_sys_open(const char *path, int flags, uint32_t mode)
{
	PASS(T_SYS_OPEN, -1, -1, NULL, open(path, flags, mode));
}

SEAM(int, linkat, (int olddir, const char *oldpath, int newdir, const char *newpath,
		   int flags));
int __wrap_zc_sys_linkat(int olddir, const char *oldpath, int newdir, const char *newpath,
			 int flags)
{
	PASS(T_SYS_LINKAT, -1, -1, NULL, linkat(olddir, oldpath, newdir, newpath, flags));
}

SEAM(int, unlinkat, (int dir, const char *path, int flags));
int __wrap_zc_sys_unlinkat(int dir, const char *path, int flags)
{
	PASS(T_SYS_UNLINKAT, -1, -1, NULL, unlinkat(dir, path, flags));
}

SEAM(int, fstatat, (int dir, const char *path, struct stat *st, int flags));
int __wrap_zc_sys_fstatat(int dir, const char *path, struct stat *st, int flags)
{
	PASS(T_SYS_FSTATAT, -1, -1, NULL, fstatat(dir, path, st, flags));
}

SEAM(int, fchmod, (int fd, uint32_t mode));
int __wrap_zc_sys_fchmod(int fd, uint32_t mode)
{
	PASS(T_SYS_FCHMOD, fd, -1, NULL, fchmod(fd, mode));
}

SEAM(int, ftruncate, (int fd, int64_t len));
int __wrap_zc_sys_ftruncate(int fd, int64_t len)
{
	PASS(T_SYS_FTRUNCATE, -1, fd, NULL, ftruncate(fd, len));
}

SEAM(int, fallocate, (int fd, int mode, int64_t off, int64_t len));
int __wrap_zc_sys_fallocate(int fd, int mode, int64_t off, int64_t len)
{
	PASS(T_SYS_FALLOCATE, -1, fd, NULL, fallocate(fd, mode, off, len));
}

SEAM(int, flock, (int fd, int op));
int __wrap_zc_sys_flock(int fd, int op)
{
	PASS(T_SYS_FLOCK, fd, -1, NULL, flock(fd, op));
}

SEAM(int, fsetxattr, (int fd, const char *name, const void *value, size_t size,
		      int flags));
int __wrap_zc_sys_fsetxattr(int fd, const char *name, const void *value, size_t size,
			    int flags)
{
	PASS(T_SYS_FSETXATTR, -1, fd, NULL, fsetxattr(fd, name, value, size, flags));
}

SEAM(ssize_t, fgetxattr, (int fd, const char *name, void *value, size_t size));
ssize_t __wrap_zc_sys_fgetxattr(int fd, const char *name, void *value, size_t size)
{
	PASS(T_SYS_FGETXATTR, fd, -1, NULL, fgetxattr(fd, name, value, size));
}

SEAM(ssize_t, getdents64, (int fd, void *buf, size_t len));
ssize_t __wrap_zc_sys_getdents64(int fd, void *buf, size_t len)
{
	PASS(T_SYS_GETDENTS64, fd, -1, &len, getdents64(fd, buf, len));
}

SEAM(int, memfd_create, (const char *name, unsigned int flags));
int __wrap_zc_sys_memfd_create(const char *name, unsigned int flags)
{
	PASS(T_SYS_MEMFD_CREATE, -1, -1, NULL, memfd_create(name, flags));
}

SEAM(int, shmget, (int32_t key, size_t size, int flags));
int __wrap_zc_sys_shmget(int32_t key, size_t size, int flags)
{
	PASS(T_SYS_SHMGET, -1, -1, NULL, shmget(key, size, flags));
}

SEAM(long, shmat, (int shmid, void **addr, int flags));
long __wrap_zc_sys_shmat(int shmid, void **addr, int flags)
{
	PASS(T_SYS_SHMAT, -1, -1, NULL, shmat(shmid, addr, flags));
}

SEAM(int, shmdt, (const void *addr));
int __wrap_zc_sys_shmdt(const void *addr)
{
	PASS(T_SYS_SHMDT, -1, -1, NULL, shmdt(addr));
}

SEAM(int, shmctl, (int shmid, int cmd, struct shmid_ds *ds));
int __wrap_zc_sys_shmctl(int shmid, int cmd, struct shmid_ds *ds)
{
	PASS(T_SYS_SHMCTL, -1, -1, NULL, shmctl(shmid, cmd, ds));
}

SEAM(int, msync, (void *addr, size_t len, int flags));
int __wrap_zc_sys_msync(void *addr, size_t len, int flags)
{
	PASS(T_SYS_MSYNC, -1, -1, NULL, msync(addr, len, flags));
}

SEAM(long, mremap, (void **addr, size_t old_len, size_t new_len, int flags));
long __wrap_zc_sys_mremap(void **addr, size_t old_len, size_t new_len, int flags)
{
	PASS(T_SYS_MREMAP, -1, -1, NULL, mremap(addr, old_len, new_len, flags));
}

/* A short send goes out as the first byte of the first iovec, fds and all. */
SEAM(ssize_t, sendmsg, (int fd, const struct msghdr *msg, int flags));
ssize_t __wrap_zc_sys_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct msghdr m = *msg;
	struct iovec iov = { NULL, 0 };

	if (m.msg_iovlen) {
		iov = m.msg_iov[0];
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
	}
	PASS(T_SYS_SENDMSG, -1, fd, m.msg_iovlen ? &iov.iov_len : NULL, sendmsg(fd, &m, flags));
}

SEAM(ssize_t, recvmsg, (int fd, struct msghdr *msg, int flags));
ssize_t __wrap_zc_sys_recvmsg(int fd, struct msghdr *msg, int flags)
{
	PASS(T_SYS_RECVMSG, fd, -1, msg->msg_iovlen ? &msg->msg_iov[0].iov_len : NULL, recvmsg(fd, msg, flags));
}

SEAM(ssize_t, vmsplice, (int fd, const struct iovec *iov, unsigned long n,
			 unsigned int flags));
ssize_t __wrap_zc_sys_vmsplice(int fd, const struct iovec *iov, unsigned long n,
			       unsigned int flags)
{
	struct iovec one = n ? iov[0] : (struct iovec){ NULL, 0 };

	PASS(T_SYS_VMSPLICE, -1, fd, &one.iov_len,
	     vmsplice(fd, n ? &one : iov, n ? 1 : 0, flags));
}

SEAM(int, mutex_init, (pthread_mutex_t *m, const pthread_mutexattr_t *attr));
int __wrap_zc_sys_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
	PASS(T_SYS_MUTEX_INIT, -1, -1, NULL, mutex_init(m, attr));
}

SEAM(int, mutex_lock, (pthread_mutex_t *m));
int __wrap_zc_sys_mutex_lock(pthread_mutex_t *m)
{
	PASS(T_SYS_MUTEX_LOCK, -1, -1, NULL, mutex_lock(m));
}

SEAM(int, mutex_trylock, (pthread_mutex_t *m));
int __wrap_zc_sys_mutex_trylock(pthread_mutex_t *m)
{
	PASS(T_SYS_MUTEX_TRYLOCK, -1, -1, NULL, mutex_trylock(m));
}

SEAM(int, mutex_unlock, (pthread_mutex_t *m));
int __wrap_zc_sys_mutex_unlock(pthread_mutex_t *m)
{
	PASS(T_SYS_MUTEX_UNLOCK, -1, -1, NULL, mutex_unlock(m));
}

SEAM(int, mutex_consistent, (pthread_mutex_t *m));
int __wrap_zc_sys_mutex_consistent(pthread_mutex_t *m)
{
	PASS(T_SYS_MUTEX_CONSISTENT, -1, -1, NULL, mutex_consistent(m));
}

SEAM(int, sem_init, (sem_t *s, unsigned int value));
int __wrap_zc_sys_sem_init(sem_t *s, unsigned int value)
{
	PASS(T_SYS_SEM_INIT, -1, -1, NULL, sem_init(s, value));
}

SEAM(int, sem_wait, (sem_t *s));
int __wrap_zc_sys_sem_wait(sem_t *s)
{
	PASS(T_SYS_SEM_WAIT, -1, -1, NULL, sem_wait(s));
}

SEAM(int, sem_trywait, (sem_t *s));
int __wrap_zc_sys_sem_trywait(sem_t *s)
{
	PASS(T_SYS_SEM_TRYWAIT, -1, -1, NULL, sem_trywait(s));
}

SEAM(int, sem_timedwait, (sem_t *s, const struct timespec *abs));
int __wrap_zc_sys_sem_timedwait(sem_t *s, const struct timespec *abs)
{
	PASS(T_SYS_SEM_TIMEDWAIT, -1, -1, NULL, sem_timedwait(s, abs));
}

SEAM(int, sem_post, (sem_t *s));
int __wrap_zc_sys_sem_post(sem_t *s)
{
	PASS(T_SYS_SEM_POST, -1, -1, NULL, sem_post(s));
}

SEAM(int, clock_gettime, (int clock, struct timespec *ts));
int __wrap_zc_sys_clock_gettime(int clock, struct timespec *ts)
{
	PASS(T_SYS_CLOCK_GETTIME, -1, -1, NULL, clock_gettime(clock, ts));
}
