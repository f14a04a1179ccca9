/* SPDX-License-Identifier: MIT */
/*
 * One transfer under test, and the checks every transfer must pass however
 * it ended: the destination holds exactly the prefix of the source that the
 * return value and the stats report, and both offsets agree with it. Shared
 * by the fault, property and fuzz tests.
 */
#ifndef T_XRUN_H
#define T_XRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "helpers.h"

/* Where a seekable fd's own offset sits when explicit offsets are used: it must stay. */
#define T_FD_POS 7

struct t_xrun_cfg {
	enum t_kind src;
	enum t_kind dst;
	unsigned int flags;
	bool at;		/* explicit offsets on the seekable ends */
	size_t size;		/* bytes of data the source is made from */
	size_t src_start;	/* the first byte the transfer reads */
	size_t dst_start;	/* where a seekable dst is written from */
	size_t len;		/* bytes asked for, ZC_ALL for all */
};

struct t_xrun {
	struct t_xrun_cfg c;
	const unsigned char *data;
	struct t_end src;
	struct t_end dst;
	uint64_t src_off;
	uint64_t dst_off;
	uint64_t intact;	/* how much of dst must match the source */
	const char *ctx;	/* said first in every failure */
	int fds;		/* fds open before the run */
};

bool t_seekable(enum t_kind k);

/*
 * Drop the pooled pipe (so every run makes the same calls), count the fds,
 * and open both ends. A stream source yields data[src_start, size).
 *
 * The run lives on the heap and t_xrun_end() frees it: when a check fails,
 * cmocka leaves the test while the feed and drain threads still use the
 * ends, so they must not be in the test's stack frame.
 */
struct t_xrun *t_xrun_new(const struct t_xrun_cfg *c, const unsigned char *data,
			  const char *ctx);
/* zc_transfer_at() for up to len more bytes (ZC_ALL: to the end). */
ssize_t t_xrun_go(struct t_xrun *x, size_t len, struct zc_stats *st);
/* The bytes a clean run moves. */
size_t t_xrun_want(const struct t_xrun *x);

void t_xrun_check_stats(struct t_xrun *x, ssize_t r, int err, const struct zc_stats *st);
void t_xrun_check_offsets(struct t_xrun *x, uint64_t moved);
/* Call again, without faults, until t_xrun_want() bytes moved. Returns the total. */
uint64_t t_xrun_retry(struct t_xrun *x, uint64_t moved);
/*
 * After a call that moved `moved` bytes: check the offsets, retry to the end
 * if nothing can have been lost, close both ends, check that dst holds
 * exactly the bytes that moved, and that no fd is left over.
 */
void t_xrun_end(struct t_xrun *x, uint64_t moved, bool retry);

#define t_expect(x, cond)                                                             \
	do {                                                                          \
		if (!(cond))                                                          \
			fail_msg("%s: expected %s (%s:%d)", (x)->ctx, #cond, __FILE__, \
				 __LINE__);                                           \
	} while (0)

#endif /* T_XRUN_H */
