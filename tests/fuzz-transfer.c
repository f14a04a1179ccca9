// SPDX-License-Identifier: MIT
/*
 * libFuzzer target over zc_transfer_at()'s arguments and a fault schedule
 * (meson -Dfuzz=true, clang only). The input picks the two endpoints (file,
 * memfd, pipe, UNIX socket, /dev/null, a directory, a closed fd), explicit
 * offsets or not, the start offsets, the length, the flags and up to four
 * faults for the seam of tests/fault.c; the rest of the input is the data.
 *
 * Whatever the input, the call must keep its promise: the return value and
 * the stats agree, the destination holds exactly the prefix of the source
 * that was reported, the offsets moved by exactly that much, and no fd is
 * left open. Anything else aborts, which libFuzzer reports with the input.
 *
 * Stream ends are filled or sized up front so that no call can block: the
 * data stays below what a pipe or a socket holds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault.h"
#include "helpers.h"
#include "internal.h"

#define MAX_DATA 60000
#define MAX_FAULTS 4

enum kind { K_FILE, K_MEMFD, K_PIPE, K_UNIX, K_NULL, K_DIR, K_BAD, K_MAX };

struct end {
	enum kind kind;
	int fd;
	int peer;	/* the other end of a pipe or socket, or -1 */
};

struct input {
	const uint8_t *p;
	size_t left;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "fuzz-transfer: %s failed at line %d\n", #cond, \
				__LINE__);                                       \
			abort();                                                 \
		}                                                                \
	} while (0)

static uint64_t take(struct input *in, size_t n)
{
	uint64_t v = 0;

	while (n-- && in->left) {
		v = v << 8 | *in->p++;
		in->left--;
	}
	return v;
}

static bool seekable(enum kind k)
{
	return k == K_FILE || k == K_MEMFD;
}

static int file_fd(enum kind k)
{
	if (k == K_MEMFD)
		return memfd_create("fuzz", MFD_CLOEXEC);
	return open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t r;

	while (n) {
		r = write(fd, p, n);
		CHECK(r > 0);
		p += r;
		n -= (size_t)r;
	}
}

/*
 * fds[0] is read from, fds[1] written to. Nobody reads a stream dst during
 * the call, so it must hold all the data: a pipe gets 256 slots, since every
 * spliced piece, however short, takes one.
 */
static void stream_pair(enum kind k, int fds[2])
{
	if (k == K_PIPE) {
		CHECK(pipe2(fds, O_CLOEXEC) == 0);
		CHECK(fcntl(fds[1], F_SETPIPE_SZ, 1 << 20) > 0);
	} else {
		CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
	}
}

/*
 * Open one end. A source holds data[0, n) and reads to EOF without blocking;
 * a stream dst keeps its peer for collect().
 */
static void open_end(struct end *e, bool src, const uint8_t *data, size_t n)
{
	int fds[2];

	e->fd = -1;
	e->peer = -1;
	if (seekable(e->kind)) {
		e->fd = file_fd(e->kind);
		CHECK(e->fd >= 0);
		if (src)
			write_all(e->fd, data, n);
	} else if (e->kind == K_PIPE || e->kind == K_UNIX) {
		stream_pair(e->kind, fds);
		e->fd = src ? fds[0] : fds[1];
		if (src) {
			write_all(fds[1], data, n);
			close(fds[1]);
		} else {
			e->peer = fds[0];
		}
	} else if (e->kind == K_NULL) {
		e->fd = open("/dev/null", (src ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
	} else if (e->kind == K_DIR) {
		e->fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
}

/* Everything dst received: a seekable file from offset 0, else the peer drained. */
static size_t collect(const struct end *e, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	if (seekable(e->kind)) {
		while (n < cap && (r = pread(e->fd, buf + n, cap - n, (off_t)n)) > 0)
			n += (size_t)r;
		return n;
	}
	if (e->peer < 0)
		return 0;
	close(e->fd);
	while (n < cap && (r = read(e->peer, buf + n, cap - n)) > 0)
		n += (size_t)r;
	return n;
}

static void close_end(struct end *e)
{
	if (e->fd >= 0 && (seekable(e->kind) || e->peer < 0))
		close(e->fd);
	if (e->peer >= 0)
		close(e->peer);
}

/*
 * Calls a fault may hit. lseek and munmap are left out: on a regular file
 * and a mapping of our own they cannot fail, and the library trusts that.
 */
static const enum t_sys fault_sys[] = {
	T_NR_copy_file_range, T_NR_splice, T_NR_sendfile, T_NR_read, T_NR_pread,
	T_NR_write, T_NR_pwrite, T_NR_send, T_NR_mmap, T_NR_fstat, T_NR_fstatfs,
	T_NR_pipe2, T_NR_fcntl, T_NR_poll, T_NR_sigmask,
};

static const int errs[] = {
	EINTR, EAGAIN, ENOSYS, EINVAL, EXDEV, EOPNOTSUPP, EPERM, EPIPE, ENOSPC, EIO,
	ENOMEM, EMFILE, ENFILE, EFAULT, EBADF, ESPIPE,
};

struct fspec {
	enum t_sys sys;
	unsigned int nth;
	unsigned int how;
	int err;
};

/* The faults a test may give: a data call may fail, be short or say 0; others only fail. */
static unsigned int parse_faults(struct input *in, struct fspec *f)
{
	unsigned int n = (unsigned int)take(in, 1) % (MAX_FAULTS + 1), i;

	for (i = 0; i < n; i++) {
		f[i].sys = fault_sys[take(in, 1) % (sizeof(fault_sys) / sizeof(fault_sys[0]))];
		f[i].nth = (unsigned int)take(in, 1) % 6;
		f[i].how = (unsigned int)take(in, 1);
		f[i].err = errs[take(in, 1) % (sizeof(errs) / sizeof(errs[0]))];
		/*
		 * EINTR or EAGAIN on every write or poll would be retried forever,
		 * as it must be: data calls and poll fail once, on their nth call.
		 */
		if (f[i].nth == 0 && (f[i].sys <= T_NR_send || f[i].sys == T_NR_poll))
			f[i].nth = 1;
	}
	return n;
}

static void add_faults(const struct fspec *f, unsigned int n, int src_fd, int dst_fd)
{
	unsigned int i;

	t_fault_reset();
	for (i = 0; i < n; i++) {
		int fd = f[i].how & 1 ? src_fd : f[i].how & 2 ? dst_fd : -1;
		unsigned int k = (f[i].how >> 2) % 3;
		enum t_fault_kind kind = k == 0 ? T_FAIL : k == 1 ? T_SHORT : T_ZERO;

		/* pipe2, mmap and the rest have no count to cut short or to zero. */
		if (f[i].sys > T_NR_send)
			kind = T_FAIL;
		t_fault_add_fd(t_sys_name(f[i].sys), f[i].nth, fd, kind, f[i].err);
	}
}

static uint8_t got[MAX_DATA + 70000];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct end src, dst;
	struct zc_stats st;
	struct fspec faults[MAX_FAULTS];
	const uint8_t *text;
	unsigned int nfaults;
	uint64_t src_off, dst_off, src_start, dst_start, moved;
	unsigned int flags;
	size_t len, n, body, want, avail;
	bool at;
	int fds;
	ssize_t r;

	(void)zc_path_name((uint32_t)take(&in, 1) << 24 | (uint32_t)take(&in, 1));
	(void)zc_fd_type_name((uint32_t)take(&in, 1));
	src.kind = (enum kind)(take(&in, 1) % K_MAX);
	dst.kind = (enum kind)(take(&in, 1) % K_MAX);
	flags = (unsigned int)take(&in, 1);
	flags = flags & 0x80 ? flags << 24 : flags & 0x1f;	/* now and then, unknown bits */
	at = take(&in, 1) & 1;
	src_start = take(&in, 2) % (MAX_DATA + 1);
	dst_start = take(&in, 2) % 70000;
	len = (size_t)take(&in, 4);
	if (len & 0x80000000u)
		len = ZC_ALL;
	nfaults = parse_faults(&in, faults);

	/* The rest of the input is the source's data. */
	body = in.left < MAX_DATA ? in.left : MAX_DATA;
	text = in.p;
	zc__pipe_discard();
	fds = t_fd_count();
	open_end(&src, true, text, body);
	open_end(&dst, false, NULL, 0);
	if (!seekable(src.kind))
		src_start = 0;
	if (!seekable(dst.kind))
		dst_start = 0;
	avail = src.kind == K_NULL ? 0 : src_start < body ? body - src_start : 0;
	src_off = src_start;
	dst_off = dst_start;
	if (seekable(src.kind) && !at)
		CHECK(lseek(src.fd, (off_t)src_start, SEEK_SET) == (off_t)src_start);
	if (seekable(dst.kind) && !at)
		CHECK(lseek(dst.fd, (off_t)dst_start, SEEK_SET) == (off_t)dst_start);

	add_faults(faults, nfaults, src.fd, dst.fd);
	r = zc_transfer_at(src.fd, at && seekable(src.kind) ? &src_off : NULL, dst.fd,
			   at && seekable(dst.kind) ? &dst_off : NULL, len, flags, &st);
	if (r < 0) {
		CHECK(errno != 0 && errno == st.error && st.bytes == 0);
	} else {
		CHECK(st.bytes == (uint64_t)r);
	}
	CHECK((st.npaths == 0) == (st.bytes == 0));
	CHECK(st.npaths <= ZC_STATS_MAX && st.nfallbacks <= ZC_STATS_MAX);
	t_fault_reset();
	moved = r > 0 ? (uint64_t)r : 0;
	want = len < avail ? len : avail;
	CHECK(moved <= want);
	if (seekable(src.kind)) {
		CHECK(at ? src_off == src_start + moved
			 : (uint64_t)lseek(src.fd, 0, SEEK_CUR) == src_start + moved);
	}
	if (seekable(dst.kind)) {
		CHECK(at ? dst_off == dst_start + moved
			 : (uint64_t)lseek(dst.fd, 0, SEEK_CUR) == dst_start + moved);
	}
	if (dst.kind != K_NULL && dst.kind != K_DIR && dst.kind != K_BAD) {
		n = collect(&dst, got, sizeof(got));
		if (seekable(dst.kind) && moved)
			CHECK(n == dst_start + moved);
		if (!seekable(dst.kind) || moved)
			CHECK(n - (seekable(dst.kind) ? dst_start : 0) == moved);
		if (moved)
			CHECK(memcmp(got + n - moved, text + src_start, moved) == 0);
	}
	close_end(&src);
	close_end(&dst);
	zc__pipe_discard();
	CHECK(t_fd_count() == fds);
	return 0;
}
