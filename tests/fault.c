// SPDX-License-Identifier: MIT
/*
 * The fault seam (fault.h): a __wrap_zc__sys_NAME for every wrapper in
 * lib/syscalls.h. Each one asks the calling thread's schedule what to do and
 * otherwise passes the call on to __real_zc__sys_NAME unchanged.
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

static const char *const sys_names[T_NR_MAX] = {
#define ZC_SYSCALL(name, type, params, args, in, out, lenp, seam) [T_NR_##name] = #name,
#include "syscalls.h"
};

static __thread struct fault sched[T_FAULT_MAX];
static __thread unsigned int nsched;
static __thread unsigned int calls[T_NR_MAX];
static __thread unsigned int fired;
static __thread struct t_call trace[T_TRACE_MAX];
static __thread size_t ntrace;

enum t_sys t_sys_id(const char *name)
{
	unsigned int i;

	for (i = 0; i < T_NR_MAX; i++)
		if (strcmp(sys_names[i], name) == 0)
			break;
	return (enum t_sys)i;
}

const char *t_sys_name(enum t_sys id)
{
	return id < T_NR_MAX ? sys_names[id] : "?";
}

static void add(const char *sys, unsigned int nth, int fd, enum t_fault_kind kind, int err,
		void (*fn)(void *), void *arg)
{
	enum t_sys id = t_sys_id(sys);

	/* A misspelt name or a full schedule is a bug in the test: stop loudly. */
	if (id == T_NR_MAX || nsched == T_FAULT_MAX)
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
	return sys < T_NR_MAX ? calls[sys] : 0;
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

/* Declares __real_zc__sys_NAME and __wrap_zc__sys_NAME with the seam's signature. */
#define ZC_SYSCALL(name, type, params, args, in, out, lenp, seam) \
	type __real_zc__sys_##name params;                        \
	type __wrap_zc__sys_##name params;
#include "syscalls.h"

/* The body of a wrapper: ask the schedule, then make the real call. */
#define PASS(name, in, out, lenp, args)                       \
	do {                                                  \
		long r_;                                      \
		if (intercept(T_NR_##name, in, out, lenp, &r_)) \
			return r_;                            \
		return __real_zc__sys_##name args;            \
	} while (0)

/* The hooks of every PLAIN entry in syscalls.h, generated from the list. */
#define SEAM_PLAIN(name, type, params, args, in, out, lenp) \
	type __wrap_zc__sys_##name params                   \
	{                                                   \
		PASS(name, in, out, lenp, args);            \
	}
#define SEAM_OWN(name, type, params, args, in, out, lenp)
#define ZC_SYSCALL(name, type, params, args, in, out, lenp, seam) \
	SEAM_##seam(name, type, params, args, in, out, lenp)
#include "syscalls.h"

/* The OWN entries: a short send goes out as the first byte of the first iovec. */
ssize_t __wrap_zc__sys_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct msghdr m = *msg;
	struct iovec iov = { NULL, 0 };

	if (m.msg_iovlen) {
		iov = m.msg_iov[0];
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
	}
	PASS(sendmsg, -1, fd, m.msg_iovlen ? &iov.iov_len : NULL, (fd, &m, flags));
}

ssize_t __wrap_zc__sys_vmsplice(int fd, const struct iovec *iov, unsigned long n,
				unsigned int flags)
{
	struct iovec one = n ? iov[0] : (struct iovec){ NULL, 0 };

	PASS(vmsplice, -1, fd, &one.iov_len, (fd, n ? &one : iov, n ? 1 : 0, flags));
}

/*
 * The first wrapper that the link does not route through this file, or NULL.
 * With -Wl,--wrap=zc__sys_NAME every reference to zc__sys_NAME, these and the
 * library's, is bound to __wrap_zc__sys_NAME; without it, to the real one.
 */
typedef void (*t_fn)(void);

/*
 * The addresses pass through volatile storage: a compiler that takes two
 * declared functions to be distinct (clang does) would otherwise fold the
 * comparison away before the linker has had its say.
 */
static bool same_fn(t_fn a, t_fn b)
{
	t_fn volatile va = a, vb = b;

	return va == vb;
}

const char *t_seam_unwrapped(void)
{
#define ZC_SYSCALL(name, type, params, args, in, out, lenp, seam)          \
	if (!same_fn((t_fn)zc__sys_##name, (t_fn)__wrap_zc__sys_##name)) \
		return #name;
#include "syscalls.h"
	return NULL;
}
