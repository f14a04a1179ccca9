/* SPDX-License-Identifier: MIT */
/*
 * The benchmark suite's shared pieces: endpoints whose far side is a thread
 * of this process (so getrusage sees both sides), a streaming checksum, and
 * the cells the report is made of. Names start with b_.
 */
#ifndef B_BENCH_H
#define B_BENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "zcopy.h"

#define B_REPS_MAX 31
#define B_MIB (1024u * 1024)

/*
 * Endpoint kinds. A region source is a memfd region holding the source
 * file's bytes; b_src_open() reopens its fd like a file's.
 */
enum b_kind {
	B_FILE,		/* page-cached regular file on the bench directory's filesystem */
	B_NULL,		/* /dev/null, destination only */
	B_PIPE,
	B_TCP,		/* loopback TCP connection */
	B_UNIX,		/* UNIX stream socket pair */
	B_REGION,	/* memfd region, source only */
	B_LOAD,		/* the source file loaded with zc_region_load_fd(), source only */
};

/* An order-sensitive 64-bit checksum that can be fed in pieces of any length. */
struct b_sum {
	uint64_t h;
	uint64_t n;
	unsigned char tail[8];
	unsigned int ntail;
};

void b_sum_init(struct b_sum *s);
void b_sum_add(struct b_sum *s, const void *buf, size_t len);
uint64_t b_sum_final(const struct b_sum *s);

/*
 * One end of a timed transfer. A stream source is fed by a thread that
 * sends len bytes of the source file; a stream sink is drained by a thread.
 * Both threads wait at gate, so their start is inside the measured time.
 */
struct b_end {
	enum b_kind kind;
	int fd;			/* the fd the transfer under test uses */
	int peer;		/* the thread's end, or -1 */
	pthread_t thread;
	bool has_thread;
	bool source;		/* fed by a thread, rather than drained by one */
	int file;		/* feeder: the source file, read at explicit offsets */
	uint64_t len;		/* feeder: bytes to send; drainer: bytes that arrived */
	bool verify;		/* drainer: read() and checksum instead of splicing away */
	bool plain;		/* peer thread uses read/write instead of splice/sendfile */
	struct b_sum sum;
	pthread_barrier_t *gate;
	int err;		/* errno that stopped the thread early, 0 if none */
};

bool b_is_stream(enum b_kind k);
const char *b_kind_name(enum b_kind k);

/* Returns 0 or -errno. src_path is reopened so each run starts at offset 0. */
int b_src_open(struct b_end *e, enum b_kind k, const char *src_path, int file, uint64_t len);
int b_sink_open(struct b_end *e, enum b_kind k, const char *dir);
/* Start the end's thread, if it has one. */
int b_end_start(struct b_end *e, pthread_barrier_t *gate);
/* Close the fd under test (a drainer sees EOF) and wait for the thread. */
void b_end_finish(struct b_end *e);

/* Drain fd (of kind k) into /dev/null in this thread, as a drainer would; closes fd. */
int b_drain(int fd, enum b_kind k, uint64_t *len);

/* Checksum of fd's first len bytes by pread; -1 on a short file. */
int b_file_sum(int fd, uint64_t len, uint64_t *sum);

/* Write len bytes of a deterministic pattern to fd. Returns 0 or -errno. */
int b_fill(int fd, uint64_t len);

/* Read or write all of buf, retrying on EINTR and short counts; 0 or -errno. */
int b_write_all(int fd, const void *buf, size_t len);

/* How a method moves one chunk. */
enum b_op {
	B_OP_ZC,	/* zc_transfer_ex() with the method's flags */
	B_OP_RAW,	/* fstat of each fd and the pair's raw syscall: the floor */
	B_OP_LOOP,	/* a plain 128 KiB read/write loop */
};

struct b_method {
	const char *name;
	enum b_op op;
	unsigned int flags;
	uint32_t path;		/* path that must move the bytes, 0 for the library's choice */
	bool sigmask;		/* raw: block SIGPIPE around the call as the library does */
};

/* The cheapest syscalls a caller that knows the pair would make. */
enum b_raw {
	B_RAW_CFR,
	B_RAW_SENDFILE,
	B_RAW_SPLICE,
	B_RAW_VIA_PIPE,		/* splice in and out of a pipe made beforehand */
};

struct b_pair {
	const char *name;
	enum b_kind src;
	enum b_kind dst;
	bool target;		/* held to 1.5x read/write throughput at 0.6x the CPU */
	enum b_raw raw;
};

/* A size: calls of chunk bytes each, one after the other. */
struct b_size {
	uint64_t chunk;
	uint64_t calls;
};

struct b_sample {
	double gbps;
	double cpu_main;	/* CPU s/GB of the thread that moves the bytes */
	double cpu_all;		/* CPU s/GB of the whole process: both sides */
	double sys_gib;		/* system calls per GiB on the moving side */
	double ns_call;
};

enum b_state { B_TODO, B_DONE, B_NA, B_FAILED };

struct b_cell {
	unsigned int pair;
	unsigned int size;
	unsigned int method;
	enum b_state state;
	char note[64];		/* why the cell was skipped or failed */
	uint32_t path;		/* path that moved the bytes (library methods) */
	bool mixed;		/* more than one path moved bytes */
	const char *verified;	/* how the bytes were checked */
	unsigned int n;
	struct b_sample s[B_REPS_MAX];
	struct b_sample med, lo, hi;
};

struct b_suite {
	const struct b_pair *pairs;
	unsigned int npairs;
	const struct b_method *methods;
	unsigned int nmethods;
	struct b_size sizes[4];
	unsigned int nsizes;
	struct b_cell *cells;
	unsigned int ncells;
	unsigned int reps;
	bool plain_peers;
	double sigmask_ns;	/* cost of one block + restore pair of rt_sigprocmask */
	const char *dir;	/* where the source and destination files live */
	const char *out;	/* where the report goes */
};

/* common.c */
/* Seconds on clock id (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID...). */
double b_now(clockid_t id);

/* Shuffle order[0..n) the same way for the same seed. */
void b_shuffle(unsigned int *order, unsigned int n, uint64_t seed);

/* Whether name is one of the comma-separated list; an empty or NULL list has all. */
bool b_in_list(const char *list, const char *name);

/*
 * A program's options: each is --name on the command line and, if env is
 * not NULL, that variable in the environment, which the command line
 * overrides. A flag's variable is on when it is a non-zero number.
 */
enum b_opt_type { B_FLAG, B_U64, B_UINT, B_DOUBLE, B_STR };

struct b_opt {
	const char *name;
	const char *env;
	enum b_opt_type type;
	void *to;		/* bool, uint64_t, unsigned int, double or const char * */
};

/* Options every benchmark program takes: --smoke --big --reps --out --dir --pairs. */
struct b_common {
	bool smoke;		/* ZC_BENCH_SMOKE: a quick run */
	uint64_t big_mib;	/* ZC_BENCH_BIG_MIB: 1024, 64 in smoke */
	unsigned int reps;	/* ZC_BENCH_REPS: the program's own, 3 in smoke; capped */
	const char *out;	/* ZC_BENCH_OUT: where the report goes, "." */
	const char *dir;	/* ZC_BENCH_DIR: where files go, T_TMPDIR, else /tmp */
	const char *pairs;	/* ZC_BENCH_PAIRS: the pairs to measure, NULL for all */
};

#define B_EXTRA_MAX 10

/*
 * Fills c and the program's own options (at most B_EXTRA_MAX, which keep
 * what they hold unless given); false on an unknown option or a missing
 * value.
 */
bool b_parse(struct b_common *c, unsigned int full_reps, const struct b_opt *extra,
	     size_t n, int argc, char **argv);

/* report.c */
struct b_cell *b_find(const struct b_suite *b, unsigned int pair, unsigned int size,
		      const char *method);
void b_size_name(uint64_t bytes, char *buf, size_t len);
int b_report(struct b_suite *b);

#endif /* B_BENCH_H */
