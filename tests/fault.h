/* SPDX-License-Identifier: MIT */
/*
 * The fault seam: unit tests link the library's internal archive with
 * -Wl,--wrap=zc_sys_NAME for every wrapper in lib/sys.h, so each call the
 * library makes to the kernel passes through tests/fault.c first. There a
 * schedule decides whether the Nth call fails, comes back short, returns 0,
 * or runs a callback before reaching the kernel.
 *
 * Schedules, counters and the call trace belong to the calling thread, so
 * threads that transfer at once never fire each other's faults.
 */
#ifndef T_FAULT_H
#define T_FAULT_H

#include <stddef.h>

/* Every wrapper in lib/sys.h, in its order. */
enum t_sys {
	T_SYS_COPY_FILE_RANGE,
	T_SYS_SPLICE,
	T_SYS_SENDFILE,
	T_SYS_READ,
	T_SYS_PREAD,
	T_SYS_WRITE,
	T_SYS_PWRITE,
	T_SYS_SEND,
	T_SYS_MMAP,
	T_SYS_MUNMAP,
	T_SYS_FSTAT,
	T_SYS_FSTATFS,
	T_SYS_LSEEK,
	T_SYS_PIPE2,
	T_SYS_FCNTL,
	T_SYS_IOCTL,
	T_SYS_POLL,
	T_SYS_CLOSE,
	T_SYS_SIGMASK,
	T_SYS_SIGPENDING,
	T_SYS_SIGTIMEDWAIT,
	/* shared-memory regions */
	T_SYS_OPEN,
	T_SYS_LINKAT,
	T_SYS_UNLINKAT,
	T_SYS_FSTATAT,
	T_SYS_FCHMOD,
	T_SYS_FTRUNCATE,
	T_SYS_FALLOCATE,
	T_SYS_FLOCK,
	T_SYS_FSETXATTR,
	T_SYS_FGETXATTR,
	T_SYS_GETDENTS64,
	T_SYS_MEMFD_CREATE,
	T_SYS_SHMGET,
	T_SYS_SHMAT,
	T_SYS_SHMDT,
	T_SYS_SHMCTL,
	T_SYS_MSYNC,
	T_SYS_MREMAP,
	T_SYS_SENDMSG,
	T_SYS_RECVMSG,
	T_SYS_VMSPLICE,
	T_SYS_MUTEX_INIT,
	T_SYS_MUTEX_LOCK,
	T_SYS_MUTEX_TRYLOCK,
	T_SYS_MUTEX_UNLOCK,
	T_SYS_MUTEX_CONSISTENT,
	T_SYS_SEM_INIT,
	T_SYS_SEM_WAIT,
	T_SYS_SEM_TRYWAIT,
	T_SYS_SEM_TIMEDWAIT,
	T_SYS_SEM_POST,
	T_SYS_CLOCK_GETTIME,
	T_SYS_MAX,
};

enum t_fault_kind {
	T_FAIL,		/* return -err without calling the kernel */
	T_SHORT,	/* call the kernel for at most 1 byte */
	T_ZERO,		/* return 0 without calling the kernel */
	T_CALL,		/* run fn(arg), then make the real call */
};

/* "splice" -> T_SYS_SPLICE; T_SYS_MAX if no wrapper has that name. */
enum t_sys t_sys_id(const char *name);
const char *t_sys_name(enum t_sys id);

/*
 * Fire on the nth call (from 1) of sys made since t_fault_reset(), counting
 * only calls that read from or write to fd when fd >= 0. nth 0 fires on
 * every such call.
 */
void t_fault_add_fd(const char *sys, unsigned int nth, int fd, enum t_fault_kind kind, int err);
void t_fault_add(const char *sys, unsigned int nth, enum t_fault_kind kind, int err);
void t_fault_add_fn(const char *sys, unsigned int nth, void (*fn)(void *), void *arg);

/* Drop the schedule and zero the counters and the trace. */
void t_fault_reset(void);
/* How many faults have fired since the reset. */
unsigned int t_fault_fired(void);
/* Calls of sys since the reset, faulted ones included. */
unsigned int t_fault_calls(enum t_sys sys);

/* One call as the library made it: which wrapper, and its data fds (or -1). */
struct t_call {
	enum t_sys sys;
	int in;		/* fd it reads from */
	int out;	/* fd it writes to (or waits on) */
	unsigned int nth;	/* this call is the nth of its sys */
};

#define T_TRACE_MAX 256
/* The calls since the reset, in order; at most T_TRACE_MAX are kept. */
size_t t_fault_trace(const struct t_call **calls);

#endif /* T_FAULT_H */
