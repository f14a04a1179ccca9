/* SPDX-License-Identifier: MIT */
/*
 * The fault seam: unit tests link the library's internal archive with
 * -Wl,--wrap=zc__sys_NAME for every wrapper in lib/sys.h, so each call the
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

/* T_NR_NAME for every wrapper zc__sys_NAME, in the order of lib/syscalls.h. */
enum t_sys {
#define ZC_SYSCALL(name, type, params, args, in, out, lenp, seam) T_NR_##name,
#include "syscalls.h"
	T_NR_MAX,
};

/* The calls that move data come first in the list, up to send. */
static inline int t_moves_data(enum t_sys sys)
{
	return sys <= T_NR_send;
}

enum t_fault_kind {
	T_FAIL,		/* return -err without calling the kernel */
	T_SHORT,	/* call the kernel for at most 1 byte */
	T_ZERO,		/* return 0 without calling the kernel */
	T_CALL,		/* run fn(arg), then make the real call */
};

/* "splice" -> T_NR_splice; T_NR_MAX if no wrapper has that name. */
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

/* The first wrapper the test's link does not route through the seam, or NULL. */
const char *t_seam_unwrapped(void);

#endif /* T_FAULT_H */
