/* SPDX-License-Identifier: MIT */
/*
 * The syscall seam: the only place libzcopy talks to the kernel.
 *
 * Each wrapper makes exactly one call, counts it, returns the result or
 * -errno, and decides nothing. The list of them is syscalls.h. Tests link
 * the library's objects statically with -Wl,--wrap=zc__sys_NAME to inject
 * failures into any step; the shared library pays nothing for that.
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

struct iovec;
struct msghdr;
struct shmid_ds;

/* System calls made by this thread, for zc_stats.syscalls. */
extern __thread uint64_t zc__sys_count;

/* zc__sys_NAME() for every entry of syscalls.h. */
#define ZC_SYSCALL(name, type, params, args, in, out, lenp, seam) type zc__sys_##name params;
#include "syscalls.h"

#endif /* ZC_SYS_H */
