/* SPDX-License-Identifier: MIT */
/*
 * A relay driven the way an event loop drives it, in one thread: the test
 * feeds the source and drains the destination in random steps of random
 * sizes, interleaved with zc_relay_move() calls of random lengths, all on
 * non-blocking fds, until the relay reports the end. Shared by the relay
 * tests on real fds and the property test under the fault seam.
 */
#ifndef T_RELAY_PUMP_H
#define T_RELAY_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "helpers.h"

struct t_pump {
	enum t_kind src_kind;	/* T_PIPE, T_TCP, T_UNIX, T_FILE or T_MEMFD */
	enum t_kind dst_kind;	/* T_PIPE, T_TCP, T_UNIX or T_FILE */
	const unsigned char *data;
	size_t len;
	uint32_t seed;
	uint32_t pipe_size;	/* for zc_relay_new */
	unsigned int relay_flags;
	unsigned int move_flags;
	bool small_buffers;	/* 4 KiB UNIX socket buffers and pipes: dst fills up often */
	/* Called before each move, e.g. to schedule faults; may be NULL. */
	void (*before_move)(struct t_pump *p, void *arg);
	void *arg;
	/* Out */
	uint64_t moves;		/* calls of zc_relay_move */
	uint64_t eagain;	/* of them, how many said EAGAIN */
	uint64_t max_pending;
	uint32_t paths;		/* 1 << ZC_PATH_* of every path that moved bytes */
	/* Internal */
	int src_w, src_r, dst_w, dst_r;
	size_t fed;
	unsigned char *got;
	size_t got_len;
	uint32_t rng;
};

uint32_t t_pump_rnd(struct t_pump *p, uint32_t n);
/*
 * Run the whole stream through a relay and check it: every call returns
 * within the rules (bytes, 0 only at the end, -1 EAGAIN otherwise), what
 * came out is the source byte for byte, the totals agree, and no fd is left.
 */
void t_pump_run(struct t_pump *p);

#endif
