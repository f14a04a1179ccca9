/* SPDX-License-Identifier: MIT */
/* What the parts of the zcopy command share: the progress line and the -v report. */
#ifndef ZCOPY_CMD_H
#define ZCOPY_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include <zcopy.h>

struct progress {
	bool on;
	uint64_t total;	/* bytes expected, 0 when not known */
	double start;
	double drawn;	/* when the line was last drawn */
};

double now(void);

/* Draw only when asked for and stderr is a terminal; total 0 means unknown. */
void progress_start(struct progress *pg, bool wanted, uint64_t total);
void progress_draw(struct progress *pg, uint64_t done, bool last);

/* Fold one call's stats into the running total of a copy. */
void stats_merge(struct zc_stats *sum, const struct zc_stats *st);

/* The -v lines: paths, fd types, fallbacks, bytes and rate. */
void report(const struct zc_stats *sum, double secs);

#endif /* ZCOPY_CMD_H */
