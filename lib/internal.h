/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces shared by the files of lib/. Nothing here is exported:
 * the library builds with -fvisibility=hidden and only ZC_EXPORT symbols,
 * listed in zcopy.map, leave it.
 */
#ifndef ZC_INTERNAL_H
#define ZC_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "zcopy.h"
#include "sys.h"

#define ZC_EXPORT __attribute__((visibility("default")))
#define ZC_TLS __thread __attribute__((tls_model("initial-exec")))

#define ZC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ZC_MAX(a, b) ((a) > (b) ? (a) : (b))

/*
 * Every exported call is a shell over a core that returns a count, 0 or
 * -errno, and ends in this: the public convention of sendfile(2) and
 * splice(2), -1 with errno set. Cores call cores, never an export.
 */
static inline long zc__ret(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/*
 * sendfile, splice and read/write move at most MAX_RW_COUNT (INT_MAX rounded
 * down to a page) per call; asking for more is silently truncated, so every
 * path asks for at most this much and loops.
 */
#define ZC_CALL_MAX 0x7ffff000UL

/* The bounce buffer of read_write, and the mmap window of mmap_write. */
#define ZC_RW_BUF_SIZE (128u * 1024)
#define ZC_MMAP_WINDOW (8u * 1024 * 1024)

/*
 * Writes from one file into another go in pieces of at most 128 KiB: ext4
 * fell into a slow mode, its time in the copy into the page cache, on 1 GiB
 * copied in 1 MiB pieces through a pipe, and not with 128 KiB pieces. From a
 * socket the whole pooled pipe won instead, from fewer, fuller socket
 * reads. tests/bench/results/2026-11-23/ has the runs.
 */
#define ZC_FILE_PIECE (128u * 1024)

/* One side of a transfer. */
struct zc__end {
	int fd;
	uint32_t type;		/* ZC_FD_* */
	bool may_clone;		/* a regular file on a filesystem that can share extents */
	int64_t *off;		/* explicit offset, or NULL for the fd's own */
	struct stat st;
};

#define ZC_CHAIN_MAX 6

/* A progress callback and its argument, as zc_transfer_opts() takes them. */
struct zc__progress {
	int (*fn)(uint64_t done, uint64_t total, uint32_t path, void *arg);
	void *arg;
	uint64_t chunk;		/* bytes between calls of fn */
	uint64_t total;		/* what fn is told the call will move, or ZC_ALL */
};

/* One transfer, as the paths see it. */
struct zc__xfer {
	struct zc__end src;
	struct zc__end dst;
	uint64_t want;		/* bytes asked for; UINT64_MAX until EOF */
	uint64_t moved;		/* bytes that reached dst (holes skipped count too) */
	unsigned int flags;
	int err;		/* errno that must end the call after this step */
	int fallback;		/* errno for which the path must be left after this step */
	uint32_t err_side;	/* ZC_SIDE_* of the last failure, where a step knows it */
	bool eof;		/* the source said end of input */
	uint8_t chain[ZC_CHAIN_MAX];	/* the paths for this pair, chosen once per call */
	uint8_t nchain;
	uint8_t ci;		/* the one in use: paths given up on stay given up */
	struct zc__progress progress;
	struct zc_stats *stats;	/* the caller's, or own_stats */
	struct zc_stats own_stats;
};

/* Move bytes by the chain until x->moved reaches upto, end of input or an error. */
typedef void (*zc__copy_fn)(struct zc__xfer *x, uint64_t upto);

/* holes.c */
bool zc__walks_holes(const struct zc__xfer *x);
void zc__walk_holes(struct zc__xfer *x, zc__copy_fn copy);

/* transfer.c: tell the caller's callback; false when it asked to stop (x->err set) */
bool zc__progress(struct zc__xfer *x);

/*
 * A path moves up to len bytes and returns how many reached dst (> 0), 0 at
 * end of input, or -errno with nothing moved and both offsets unchanged.
 * When it has moved bytes and then hits an error it cannot undo, it returns
 * the count and leaves the errno in x->err. A step that took bytes from a
 * source that cannot take them back and could not deliver them also sets
 * x->err when it returns -errno, so that no other path carries on as if
 * nothing was lost.
 */
typedef ssize_t (*zc__path_fn)(struct zc__xfer *x, uint64_t len);

/* transfer.c: whether err from path means "try the next path" */
bool zc__falls_back(uint32_t path, int err);
unsigned int zc__path_off_flag(uint32_t path);
/* transfer.c: steps the region calls share with zc_transfer_at() */
#define ZC_XFER_FLAGS (ZC_NO_COPY_FILE_RANGE | ZC_NO_SPLICE | ZC_NO_SENDFILE | ZC_NO_MMAP | \
		       ZC_GROW_PIPES | ZC_NO_SIGPIPE_GUARD | ZC_NO_HOLES | ZC_NO_REFLINK | \
		       ZC_REFLINK_ONLY | ZC_SNAPSHOT)
#define ZC_REFLINK_FLAGS (ZC_NO_REFLINK | ZC_REFLINK_ONLY)
int zc__prepare_dst(struct zc__xfer *x);
void zc__note_moved(struct zc__xfer *x, uint32_t path, uint64_t n);
void zc__note_fallback(struct zc__xfer *x, uint32_t path, int err);
/* transfer.c: one transfer around its prepare and run steps; bytes or -errno */
ssize_t zc__xfer_call(struct zc__xfer *x, int (*prep)(struct zc__xfer *),
		      void (*go)(struct zc__xfer *));
ssize_t zc__transfer_at(int src_fd, int64_t *src_off, int dst_fd, int64_t *dst_off,
			uint64_t len, unsigned int flags, struct zc_stats *stats);

ssize_t zc__path_cfr(struct zc__xfer *x, uint64_t len);
ssize_t zc__path_splice(struct zc__xfer *x, uint64_t len);
ssize_t zc__path_sendfile(struct zc__xfer *x, uint64_t len);
ssize_t zc__path_mmap(struct zc__xfer *x, uint64_t len);
ssize_t zc__path_rw(struct zc__xfer *x, uint64_t len);
ssize_t zc__path_clone(struct zc__xfer *x, uint64_t len);

/* sigpipe.c: keep the kernel's SIGPIPE away from the caller */
struct zc__sigpipe {
	bool active;
	bool was_blocked;
	bool was_pending;
	sigset_t old;
};
void zc__sigpipe_block(struct zc__sigpipe *s);
void zc__sigpipe_restore(struct zc__sigpipe *s, int err);
/* transfer.c: whether a call to dst_type must keep SIGPIPE away (ZC_NO_SIGPIPE_GUARD) */
bool zc__needs_sigpipe_guard(unsigned int flags, uint32_t dst_type);
/* transfer.c: fill the stats from x and write the ZCOPY_DEBUG line */
void zc__xfer_report(struct zc__xfer *x, uint64_t sys0);

/* fdtype.c */
int zc__fd_probe(struct zc__end *e);
bool zc__seekable(const struct zc__end *e);

/* Of len, what a regular file source still holds from pos (by its fstat size). */
static inline uint64_t zc__src_left(const struct zc__xfer *x, int64_t pos, uint64_t len)
{
	int64_t left = x->src.st.st_size - pos;

	return ZC_MIN(len, (uint64_t)(left > 0 ? left : 0));
}

/* A regular file with fewer blocks than its size: it has holes. */
static inline bool zc__sparse(const struct zc__end *e)
{
	return (uint64_t)e->st.st_blocks * 512 < (uint64_t)e->st.st_size;
}

/* How much of len to hand one write or splice into dst (ZC_FILE_PIECE). */
static inline size_t zc__dst_piece(const struct zc__xfer *x, size_t len)
{
	bool file_to_file = x->dst.type == ZC_FD_FILE && zc__seekable(&x->src);

	return file_to_file ? ZC_MIN(len, (size_t)ZC_FILE_PIECE) : len;
}

/* A step that failed (err, +errno or -errno, not 0) on one fd says which. */
static inline int zc__blame(struct zc__xfer *x, uint32_t side, int err)
{
	if (err)
		x->err_side = side;
	return err;
}

/* io.c: helpers the paths share */
int64_t zc__end_pos(const struct zc__end *e);
int zc__end_set(struct zc__end *e, int64_t pos);
int zc__end_move(struct zc__end *e, int64_t n);
int zc__src_rewind(struct zc__xfer *x, uint64_t n);
int zc__wait_fd(int fd, short events);
uint32_t zc__error_side(const struct zc__xfer *x, int err);
size_t zc__write_all(struct zc__xfer *x, const char *buf, size_t len, int *err);
ssize_t zc__deliver(struct zc__xfer *x, const char *buf, size_t n);

/* pipe-pool.c: the calling thread's intermediate pipe and bounce buffer */
struct zc__pipe {
	int rd;
	int wr;
	uint32_t size;
};
int zc__pipe_get(struct zc__pipe **p);
void zc__pipe_discard(void);
char *zc__rw_buffer(void);
int zc__pipe_grow(int fd);

/* relay-pool.c: pipes lent to relays while bytes wait in them */
int zc__relay_pipe_get(struct zc__pipe *p, uint32_t asked);
void zc__relay_pipe_put(struct zc__pipe *p, uint32_t asked);
void zc__relay_pipe_close(struct zc__pipe *p);
void zc__relay_pool_drop(void);

/* debug.c: settings read from the environment once, at load */
extern int zc__debug;
extern unsigned int zc__disabled;
void zc__env_load(void);
void zc__debug_line(const struct zc__xfer *x);
const char *zc__errno_name(int err);

#endif /* ZC_INTERNAL_H */
