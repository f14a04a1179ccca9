/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the region tests: names and keys unique to one test run, a
 * sweep that removes whatever a test left behind (even one that failed
 * midway), and child processes that report failures by exit status.
 */
#ifndef T_REGIONS_HELPERS_H
#define T_REGIONS_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "zcopy.h"

/* Every object a region test makes starts with this. */
#define T_REGION_PREFIX "zcr-"
/* SysV keys of the region tests: 0x7a63pppn, pid bits and a number. */
#define T_KEY_BASE 0x7a630000
#define T_KEY_MASK 0x7fff0000

/* Remember this process as the owner of the names; call first in main. */
void t_regions_init(void);

/* "zcr-<pid>-<tag>" into out (at least 96 bytes). */
void t_rname(char *out, const char *tag);
/* A SysV key for this run; n < 16. */
int32_t t_rkey(unsigned int n);

/*
 * Remove every /dev/shm name and SysV segment of this run, or of any run
 * when all is set. Returns how many there were.
 */
int t_regions_sweep(int all);

/* cmocka per-test teardown: sweep, and fail a test that left something. */
int t_regions_teardown(void **state);

/*
 * In a child, cmocka's asserts would jump back into the parent's test
 * runner: children check with this and exit non-zero instead.
 */
#define t_check(cond)                                                                   \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: child check failed: %s\n", __FILE__,    \
				__LINE__, #cond);                                       \
			_exit(1);                                                       \
		}                                                                       \
	} while (0)

/* Run fn(arg) in a child that exits 0 unless a t_check fails; its pid. */
pid_t t_spawn(void (*fn)(void *), void *arg);
/* Wait for a child and return its exit status; a signal fails the test. */
int t_wait_exit(pid_t pid);

/* A pipe used as a one-shot start signal between processes. */
void t_gate_open(int g[2]);
void t_gate_wait(int g[2]);
void t_gate_release(int g[2]);

/*
 * Run fn(arg) in a child and return once it has called t_ready() (or
 * ended); t_kill() then kills it with SIGKILL and reaps it.
 */
pid_t t_spawn_ready(void (*fn)(void *), void *arg);
void t_ready(void);
void t_kill(pid_t pid);

/*
 * Start n children of fn(arg) at once (each begins with t_gate_wait(gate))
 * and return how many exited with 10 ("I created it"); the others must
 * exit with 20 ("I opened it").
 */
int t_race(void (*fn)(void *), void *arg, int gate[2], int n);

/*
 * A region's header as it went over the wire: t_recv_raw takes the bytes
 * waiting on sock (closing any fd that came with them) and returns how
 * many; t_send_fds sends such bytes again with n fds (at most 8) beside them.
 */
ssize_t t_recv_raw(int sock, void *buf, size_t size);
void t_send_fds(int sock, const void *buf, size_t len, const int *fds, int n);

#endif /* T_REGIONS_HELPERS_H */
