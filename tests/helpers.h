/* SPDX-License-Identifier: MIT */
/*
 * Shared test helpers: pattern data, endpoints of every kind, byte checks.
 * Names start with t_ so they never clash with the library's.
 */
#ifndef T_HELPERS_H
#define T_HELPERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "zcopy.h"

/* Endpoint kinds a test can ask for. */
enum t_kind {
	T_FILE,		/* regular file on the test directory's filesystem */
	T_MEMFD,	/* memfd on tmpfs */
	T_PIPE,
	T_TCP,		/* loopback TCP connection */
	T_UNIX,		/* UNIX stream socket pair */
	T_NULL,		/* /dev/null, destination only */
	T_KIND_MAX,
};

const char *t_kind_name(enum t_kind k);

/*
 * One end of a transfer under test. A source yields data[0, len) then EOF;
 * for pipes and sockets a thread feeds it. A sink collects what it gets;
 * for pipes and sockets a thread drains it.
 */
struct t_end {
	enum t_kind kind;
	int fd;		/* the fd handed to the library */
	int peer;	/* the other end, owned by the thread, or -1 */
	pthread_t thread;
	bool has_thread;
	const unsigned char *data;	/* source: what to feed */
	size_t len;
	unsigned char *got;	/* sink: what arrived */
	size_t got_len;
	size_t got_cap;
	unsigned int delay_us;	/* sink: sleep between reads (a slow reader) */
};

/* Deterministic pseudo-random bytes; the same seed gives the same bytes. */
unsigned char *t_pattern(size_t len, uint32_t seed);

/* malloc that fails the test instead of returning NULL. */
void *t_alloc(size_t len);

/* A fresh temporary file holding data[0, len), offset 0. */
int t_file_with(const void *data, size_t len);
/* A fresh empty temporary file opened with flags (O_RDWR is added). */
int t_file_empty(int flags);
/* A memfd holding data[0, len), offset 0. */
int t_memfd_with(const void *data, size_t len);

/* A connected loopback TCP pair, or a UNIX stream pair. */
void t_tcp_pair(int fds[2]);
void t_unix_pair(int fds[2]);
/* A pipe, TCP or UNIX pair by kind: fds[0] is read from, fds[1] written to. */
void t_stream_pair(enum t_kind k, int fds[2]);

void t_src_open(struct t_end *e, enum t_kind k, const void *data, size_t len);
void t_src_close(struct t_end *e);
void t_sink_open(struct t_end *e, enum t_kind k);
/* Close the library's end, wait for the drain and read back what arrived. */
void t_sink_finish(struct t_end *e);
/*
 * Let a pipe or socket sink take about 1 MiB without its reader: a call into
 * it then never blocks on the drain thread. Under valgrind, which runs one
 * thread at a time and keeps running a thread stuck in close(), a splice that
 * waits for the drain while a feeder closes its pipe would never end.
 */
void t_sink_roomy(struct t_end *e);

/* A data island of a sparse file: len bytes of pattern at off. */
struct t_island {
	uint64_t off;
	uint64_t len;
};

/*
 * Give the empty file fd the size size, holes everywhere but the islands,
 * which hold pattern bytes (seed). Returns the whole expected content
 * (size bytes, zeros in the holes), which the caller frees; fd's offset
 * is left at 0.
 */
unsigned char *t_sparse_fill(int fd, uint64_t size, const struct t_island *is, size_t n,
			     uint32_t seed);
/* Bytes the file takes on its filesystem (st_blocks * 512). */
uint64_t t_allocated(int fd);

/* The whole content of a file from offset 0; caller frees. */
unsigned char *t_read_file(int fd, size_t *len);

/* Assert that the file fd holds exactly data[0, len), from offset 0. */
void t_assert_file(int fd, const void *data, size_t len);

/* Count of open fds in this process. */
int t_fd_count(void);
/* Raise the fd limit to allow n open fds, or skip the test saying why. */
void t_need_fds(unsigned long n);

/* Run fn in a forked child with default signal dispositions; its wait status. */
int t_in_child(void (*fn)(void *), void *arg);

/* Assert that a == b byte for byte, saying where they first differ. */
#define t_assert_bytes(a, alen, b, blen) t__assert_bytes(a, alen, b, blen, __FILE__, __LINE__)
void t__assert_bytes(const void *a, size_t alen, const void *b, size_t blen, const char *file,
		     int line);

#endif /* T_HELPERS_H */
