// SPDX-License-Identifier: MIT
/*
 * Files as files, on real filesystems (the test directory's and tmpfs):
 * holes kept between regular files, written as zeros everywhere else,
 * never allocated by reading, and a walk that ends whatever a concurrent
 * writer does to the source.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"

#define MiB (1024u * 1024)
#define ALL_OFF (ZC_NO_COPY_FILE_RANGE | ZC_NO_SPLICE | ZC_NO_SENDFILE | ZC_NO_MMAP)
#define ONLY(f) (ALL_OFF & ~(f))
#define ZC_MIN_T(a, b) ((a) < (b) ? (a) : (b))

/* Each path forced in turn; read_write is what remains with all four off. */
static const unsigned int forced[] = {
	0,
	ONLY(ZC_NO_COPY_FILE_RANGE),
	ONLY(ZC_NO_SPLICE),
	ONLY(ZC_NO_SENDFILE),
	ONLY(ZC_NO_MMAP),
	ALL_OFF,
};
#define NFORCED (sizeof(forced) / sizeof(forced[0]))

struct layout {
	const char *name;
	uint64_t size;
	struct t_island is[4];
	size_t n;
};

/* Holes at the start, middle and end; odd-sized islands at odd places. */
static const struct layout layouts[] = {
	{ "hole-data-hole", 9 * MiB + 123, { { 3 * MiB + 7, 100001 }, { 6 * MiB, 4097 } }, 2 },
	{ "data-holes-data", 5 * MiB + 4321,
	  { { 0, 5000 }, { MiB + 333, 70001 }, { 5 * MiB + 4321 - 9999, 9999 } }, 3 },
	{ "all-hole", 5 * MiB + 1, { { 0, 0 } }, 0 },
	{ "one-byte", 2 * MiB + 1, { { MiB, 1 } }, 1 },
};
#define NLAYOUTS (sizeof(layouts) / sizeof(layouts[0]))

static int new_file(enum t_kind k)
{
	return k == T_MEMFD ? memfd_create("t", MFD_CLOEXEC) : t_file_empty(0);
}

static uint64_t hole_bytes(const struct layout *l)
{
	uint64_t data = 0;
	size_t i;

	for (i = 0; i < l->n; i++)
		data += l->is[i].len;
	return l->size - data;
}

/* Between files, holes stay holes: same bytes, no more blocks than the source. */
static void test_holes_kept(void **state)
{
	static const enum t_kind kinds[] = { T_FILE, T_MEMFD };
	size_t l, s, d;

	(void)state;
	for (l = 0; l < NLAYOUTS; l++)
		for (s = 0; s < 2; s++)
			for (d = 0; d < 2; d++) {
				const struct layout *ly = &layouts[l];
				int src = new_file(kinds[s]), dst = new_file(kinds[d]);
				unsigned char *want = t_sparse_fill(src, ly->size, ly->is, ly->n, 3);
				struct zc_stats st;

				assert_int_equal(zc_transfer_ex(src, dst, ZC_ALL, 0, &st),
						 (ssize_t)ly->size);
				t_assert_file(dst, want, ly->size);
				assert_int_equal(st.error, 0);
				assert_true(st.holes >= hole_bytes(ly) - 8 * 4096);
				assert_true(t_allocated(dst) <= t_allocated(src) + 64 * 1024);
				assert_int_equal(lseek(src, 0, SEEK_CUR), (off_t)ly->size);
				assert_int_equal(lseek(dst, 0, SEEK_CUR), (off_t)ly->size);
				free(want);
				close(src);
				close(dst);
			}
}

/* ZC_NO_HOLES writes every byte: the copy is dense, and no holes are counted. */
static void test_no_holes(void **state)
{
	const struct layout *ly = &layouts[0];
	int src = t_file_empty(0), dst = t_file_empty(0);
	unsigned char *want = t_sparse_fill(src, ly->size, ly->is, ly->n, 5);
	struct zc_stats st;

	(void)state;
	assert_int_equal(zc_transfer_ex(src, dst, ZC_ALL, ZC_NO_HOLES, &st), (ssize_t)ly->size);
	t_assert_file(dst, want, ly->size);
	assert_int_equal(st.holes, 0);
	assert_true(t_allocated(dst) >= ly->size - 4096);
	free(want);
	close(src);
	close(dst);
}

/* A range that starts and ends inside holes, at explicit offsets: exact bytes and size. */
static void test_holes_len_cut(void **state)
{
	const struct layout *ly = &layouts[0];
	int src = t_file_empty(0), dst = t_file_empty(0);
	unsigned char *want = t_sparse_fill(src, ly->size, ly->is, ly->n, 7);
	uint64_t so = MiB + 5, dof = 11, len = 6 * MiB + 99;
	struct stat sb;

	(void)state;
	assert_int_equal(zc_transfer_at(src, &so, dst, &dof, len, 0, NULL), (ssize_t)len);
	assert_int_equal(so, MiB + 5 + len);
	assert_int_equal(dof, 11 + len);
	assert_int_equal(fstat(dst, &sb), 0);
	assert_int_equal(sb.st_size, (off_t)(11 + len));
	{
		unsigned char *exp = calloc(1, 11 + len);

		memcpy(exp + 11, want + MiB + 5, len);
		t_assert_file(dst, exp, 11 + len);
		free(exp);
	}
	/* The fds' own offsets were not used. */
	assert_int_equal(lseek(src, 0, SEEK_CUR), 0);
	assert_int_equal(lseek(dst, 0, SEEK_CUR), 0);
	free(want);
	close(src);
	close(dst);
}

/* A hole over bytes dst already had reads back as zeros; bytes past the copy stay. */
static void test_holes_over_data(void **state)
{
	static const enum t_kind kinds[] = { T_FILE, T_MEMFD };
	const struct layout *ly = &layouts[1];
	size_t d;

	(void)state;
	for (d = 0; d < 2; d++) {
		int src = t_file_empty(0), dst = new_file(kinds[d]);
		unsigned char *want = t_sparse_fill(src, ly->size, ly->is, ly->n, 9);
		size_t big = ly->size + 12345;
		unsigned char *old = t_pattern(big, 10);

		assert_int_equal(pwrite(dst, old, big, 0), (ssize_t)big);
		assert_int_equal(zc_transfer(src, dst, ZC_ALL, 0), (ssize_t)ly->size);
		memcpy(old, want, ly->size);
		t_assert_file(dst, old, big);
		free(old);
		free(want);
		close(src);
		close(dst);
	}
}

/* O_APPEND cannot leave a hole: holes land as zeros after what was there, on every path. */
static void test_holes_append(void **state)
{
	const struct layout *ly = &layouts[0];
	size_t f;

	(void)state;
	for (f = 0; f < NFORCED; f++) {
		int src = t_memfd_with("", 0), dst = t_file_empty(O_APPEND);
		unsigned char *want = t_sparse_fill(src, ly->size, ly->is, ly->n, 11);
		unsigned char *exp = t_alloc(ly->size + 7);
		uint64_t blocks = t_allocated(src);

		assert_int_equal(write(dst, "HEADER\n", 7), 7);
		assert_int_equal(zc_transfer(src, dst, ZC_ALL, forced[f]), (ssize_t)ly->size);
		memcpy(exp, "HEADER\n", 7);
		memcpy(exp + 7, want, ly->size);
		t_assert_file(dst, exp, ly->size + 7);
		/* Reading the tmpfs source allocated none of its holes. */
		assert_int_equal(t_allocated(src), blocks);
		free(exp);
		free(want);
		close(src);
		close(dst);
	}
}

/* Into a pipe, holes go as zeros; a sparse tmpfs source keeps its allocation. */
static void test_holes_into_pipe(void **state)
{
	const struct layout *ly = &layouts[1];
	size_t f;

	(void)state;
	for (f = 0; f < NFORCED; f++) {
		int src = t_memfd_with("", 0);
		unsigned char *want = t_sparse_fill(src, ly->size, ly->is, ly->n, 13);
		uint64_t blocks = t_allocated(src);
		struct zc_stats st;
		struct t_end sink;

		t_sink_open(&sink, T_PIPE);
		assert_int_equal(zc_transfer_ex(src, sink.fd, ZC_ALL, forced[f], &st),
				 (ssize_t)ly->size);
		t_sink_finish(&sink);
		t_assert_bytes(sink.got, sink.got_len, want, ly->size);
		assert_int_equal(st.holes, 0);
		assert_int_equal(t_allocated(src), blocks);
		free(sink.got);
		free(want);
		close(src);
	}
}

struct scribbler {
	int fd;
	uint64_t size;
	volatile int stop;
};

/* Punch holes and write 0xee runs into the source while it is being copied. */
static void *scribble(void *arg)
{
	struct scribbler *s = arg;
	unsigned char run[8192];
	uint64_t x = 88172645463325252ull, off;

	memset(run, 0xee, sizeof(run));
	while (!s->stop) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		off = x % (s->size - sizeof(run));
		if (x & 1)
			fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
				  (off_t)sizeof(run));
		else
			pwrite(s->fd, run, (size_t)(x >> 40) % sizeof(run) + 1, (off_t)off);
	}
	return NULL;
}

/* The walk ends however the layout changes, and each byte is one the source held. */
static void test_holes_concurrent(void **state)
{
	const struct layout *ly = &layouts[0];
	int src = t_file_empty(0);
	unsigned char *orig = t_sparse_fill(src, ly->size, ly->is, ly->n, 15);
	struct scribbler s = { .fd = src, .size = ly->size };
	pthread_t t;
	int round;

	(void)state;
	alarm(120);	/* a walk that never ends fails the test instead of hanging it */
	assert_int_equal(pthread_create(&t, NULL, scribble, &s), 0);
	for (round = 0; round < 30; round++) {
		int dst = t_file_empty(0);
		uint64_t off = 0;
		size_t len, i;
		unsigned char *got;
		ssize_t n = zc_transfer_at(src, &off, dst, NULL, ZC_ALL, 0, NULL);

		assert_int_equal(n, (ssize_t)ly->size);
		got = t_read_file(dst, &len);
		assert_int_equal(len, ly->size);
		for (i = 0; i < len; i++)
			if (got[i] != orig[i] && got[i] != 0 && got[i] != 0xee)
				fail_msg("round %d: byte %zu is %#x, never in the source", round, i,
					 got[i]);
		free(got);
		close(dst);
	}
	s.stop = 1;
	pthread_join(t, NULL);
	alarm(0);
	free(orig);
	close(src);
}

static int mount_small_tmpfs(const char *dir)
{
	return mount("zc-test", dir, "tmpfs", 0, "size=8m,mode=0700");
}

#define SNAP_SIZE 60001

/* Read exactly len bytes from fd; whatever the writer has left there. */
static void read_exact(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		r = read(fd, buf + got, len - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
}

/*
 * Send SNAP_SIZE bytes of pattern into the stream pair, overwrite the
 * source afterwards with change(), and say whether the reader saw the
 * new bytes. The stream holds it all without a reader (64 KiB pipe).
 */
static bool reader_sees_change(enum t_kind k, int src, const unsigned char *orig,
			       unsigned int flags, void (*change)(void *), void *arg,
			       const struct zc_region *r)
{
	unsigned char *got = t_alloc(SNAP_SIZE);
	int fds[2];
	bool changed;
	ssize_t n;

	t_stream_pair(k, fds);
	if (r)
		n = zc_region_transfer(r, 0, SNAP_SIZE, fds[1], NULL, flags, NULL);
	else
		n = zc_transfer(src, fds[1], SNAP_SIZE, flags);
	assert_int_equal(n, SNAP_SIZE);
	change(arg);
	read_exact(fds[0], got, SNAP_SIZE);
	changed = memcmp(got, orig, SNAP_SIZE) != 0;
	if (flags & ZC_SNAPSHOT)
		t_assert_bytes(got, SNAP_SIZE, orig, SNAP_SIZE);
	free(got);
	close(fds[0]);
	close(fds[1]);
	return changed;
}

static void overwrite_file(void *arg)
{
	unsigned char *b = t_pattern(SNAP_SIZE, 99);

	assert_int_equal(pwrite(*(int *)arg, b, SNAP_SIZE, 0), SNAP_SIZE);
	free(b);
}

static void overwrite_mem(void *arg)
{
	memset(arg, 0x42, SNAP_SIZE);
}

/*
 * ZC_SNAPSHOT: the reader gets the bytes the source held during the call,
 * whatever is written to it afterwards; without it, the lent page-cache
 * pages show the later write (the caveat it exists for).
 */
static void test_snapshot(void **state)
{
	static const enum t_kind sinks[] = { T_PIPE, T_UNIX };
	unsigned char *orig = t_pattern(SNAP_SIZE, 98);
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		int a = t_file_with(orig, SNAP_SIZE), b = t_file_with(orig, SNAP_SIZE);

		if (!reader_sees_change(sinks[i], a, orig, 0, overwrite_file, &a, NULL))
			fprintf(stderr, "# %s: this kernel copied without ZC_SNAPSHOT\n",
				t_kind_name(sinks[i]));
		assert_false(reader_sees_change(sinks[i], b, orig, ZC_SNAPSHOT, overwrite_file,
						&b, NULL));
		close(a);
		close(b);
	}
	/* A System V region goes by vmsplice, which lends the region's own pages. */
	for (i = 0; i < 2; i++) {
		struct zc_region r;

		assert_int_equal(zc_region_sysv_create(&r, 0, SNAP_SIZE, 0600, 0), 0);
		assert_int_equal(zc_region_remove(&r), 0);
		memcpy(r.addr, orig, SNAP_SIZE);
		if (i == 0 && !reader_sees_change(T_PIPE, -1, orig, 0, overwrite_mem, r.addr, &r))
			fprintf(stderr, "# vmsplice: this kernel copied without ZC_SNAPSHOT\n");
		else if (i == 1)
			assert_false(reader_sees_change(T_PIPE, -1, orig, ZC_SNAPSHOT,
							overwrite_mem, r.addr, &r));
		zc_region_close(&r);
	}
	free(orig);
}

/* An empty file and a dense one cost nothing: no holes, same bytes. */
static void test_dense_and_empty(void **state)
{
	unsigned char *p = t_pattern(MiB + 17, 21);
	int src = t_file_with(p, MiB + 17), dst = t_file_empty(0), e = t_file_empty(0);
	struct zc_stats st;

	(void)state;
	assert_int_equal(zc_transfer_ex(e, dst, ZC_ALL, 0, &st), 0);
	assert_int_equal(st.holes, 0);
	assert_int_equal(zc_transfer_ex(src, dst, ZC_ALL, 0, &st), MiB + 17);
	assert_int_equal(st.holes, 0);
	t_assert_file(dst, p, MiB + 17);
	free(p);
	close(src);
	close(dst);
	close(e);
}

/*
 * A sparse file on a nearly full tmpfs, copied to an O_APPEND file (the
 * mmap_write path's pair): mapping its holes would need pages the tmpfs no
 * longer has, and write() then said EFAULT, once taken for end of input.
 * Every byte must arrive, and the source must not grow.
 */
static char tmpfs_dir[32];

/* Unmount the small tmpfs whether the test passed or an assertion left it. */
static int unmount_tmpfs(void **state)
{
	(void)state;
	if (tmpfs_dir[0]) {
		umount2(tmpfs_dir, MNT_DETACH);
		rmdir(tmpfs_dir);
		tmpfs_dir[0] = 0;
	}
	return 0;
}

static void test_full_tmpfs_source(void **state)
{
	char *dir = tmpfs_dir, path[64];
	static const struct t_island ends[] = { { 0, MiB }, { 63 * MiB, MiB } };
	unsigned char *want, *filler;
	int src, fill, dst;
	uint64_t blocks;
	size_t f;

	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "# not root: cannot mount a small tmpfs, skipped\n");
		skip();
	}
	strcpy(tmpfs_dir, "/tmp/zc-tmpfs.XXXXXX");
	assert_non_null(mkdtemp(dir));
	if (mount_small_tmpfs(dir) != 0) {
		rmdir(dir);
		tmpfs_dir[0] = 0;
		fprintf(stderr, "# cannot mount tmpfs here, skipped\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/sparse", dir);
	src = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(src >= 0);
	want = t_sparse_fill(src, 64 * MiB, ends, 2, 51);
	snprintf(path, sizeof(path), "%s/filler", dir);
	fill = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	filler = t_pattern(5 * MiB + MiB / 2, 52);
	assert_int_equal(write(fill, filler, 5 * MiB + MiB / 2), 5 * MiB + MiB / 2);
	blocks = t_allocated(src);
	for (f = 0; f < NFORCED; f++) {
		struct zc_stats st;

		dst = t_file_empty(O_APPEND);
		assert_int_equal(lseek(src, 0, SEEK_SET), 0);
		assert_int_equal(zc_transfer_ex(src, dst, ZC_ALL, forced[f], &st), 64 * MiB);
		assert_int_equal(st.error, 0);
		t_assert_file(dst, want, 64 * MiB);
		assert_int_equal(t_allocated(src), blocks);
		close(dst);
	}
	close(fill);
	close(src);
	free(filler);
	free(want);
}

static struct zc_opts opts(uint64_t chunk, void *arg)
{
	struct zc_opts o = { .size = sizeof(o), .len = ZC_ALL, .src_off = ZC_OFF_NONE,
			     .dst_off = ZC_OFF_NONE, .chunk = chunk, .arg = arg };

	return o;
}

struct seen {
	uint64_t last, total, chunk;
	unsigned int calls, stop_at;
	uint32_t path;
};

static int watch(uint64_t done, uint64_t total, uint32_t path, void *arg)
{
	struct seen *s = arg;

	/* Strictly growing (a call only after bytes moved), never past the total. */
	assert_true(done > s->last);
	if (total != ZC_TOTAL_UNKNOWN)
		assert_true(done <= total);
	s->last = done;
	s->total = total;
	s->path = path;
	return ++s->calls == s->stop_at;
}

/* Progress: monotonic values, the file's size as total, one call per chunk. */
static void test_progress(void **state)
{
	const size_t size = 3 * MiB + 5;
	unsigned char *p = t_pattern(size, 41);
	int src = t_file_with(p, size), dst = t_file_empty(0);
	struct seen s = { 0 };
	struct zc_opts o = opts(256 * 1024, &s);
	struct zc_stats st;

	(void)state;
	o.progress = watch;
	assert_int_equal(zc_transfer_opts(src, dst, &o, &st), size);
	assert_int_equal(s.last, size);
	assert_int_equal(s.total, size);
	assert_int_equal(s.calls, (size + o.chunk - 1) / o.chunk);
	assert_int_equal(s.path, st.path);
	assert_int_equal(st.error, 0);
	t_assert_file(dst, p, size);
	/* A pipe has no size: the total is unknown. */
	{
		struct t_end in;

		t_src_open(&in, T_PIPE, p, size);
		memset(&s, 0, sizeof(s));
		assert_int_equal(ftruncate(dst, 0), 0);
		assert_int_equal(lseek(dst, 0, SEEK_SET), 0);
		assert_int_equal(zc_transfer_opts(in.fd, dst, &o, &st), size);
		assert_int_equal(s.total, ZC_TOTAL_UNKNOWN);
		assert_int_equal(s.last, size);
		t_src_close(&in);
		t_assert_file(dst, p, size);
	}
	free(p);
	close(src);
	close(dst);
}

/* Cancel at every chunk boundary: dst holds exactly the bytes returned. */
static void test_cancel(void **state)
{
	const size_t size = 2 * MiB + 77, chunk = 512 * 1024;
	unsigned char *p = t_pattern(size, 43);
	unsigned int k;

	(void)state;
	for (k = 1; k <= (size + chunk - 1) / chunk; k++) {
		int src = t_file_with(p, size), dst = t_file_empty(0);
		struct seen s = { .stop_at = k };
		struct zc_opts o = opts(chunk, &s);
		struct zc_stats st;
		size_t want = ZC_MIN_T(k * chunk, size);
		ssize_t n;

		o.progress = watch;
		n = zc_transfer_opts(src, dst, &o, &st);
		assert_int_equal(n, want);
		/* Asked to stop after the last chunk too: nothing was left, but it asked. */
		assert_int_equal(st.error, ECANCELED);
		assert_int_equal(lseek(src, 0, SEEK_CUR), (off_t)want);
		t_assert_file(dst, p, want);
		close(src);
		close(dst);
	}
	free(p);
}

/* Cancel while walking a sparse file: the size covers every byte counted. */
static void test_cancel_sparse(void **state)
{
	const struct layout *ly = &layouts[0];
	unsigned int k;

	(void)state;
	for (k = 1; k <= 6; k++) {
		int src = t_file_empty(0), dst = t_file_empty(0);
		unsigned char *want = t_sparse_fill(src, ly->size, ly->is, ly->n, 45);
		struct seen s = { .stop_at = k };
		struct zc_opts o = opts(64 * 1024, &s);
		struct zc_stats st;
		ssize_t n;

		o.progress = watch;
		n = zc_transfer_opts(src, dst, &o, &st);
		assert_true(n > 0 && (size_t)n <= ly->size);
		assert_int_equal(n, s.last);
		t_assert_file(dst, want, (size_t)n);
		free(want);
		close(src);
		close(dst);
	}
}

/* The struct that grows: older is fine, newer must be zero past what we know. */
static void test_opts_size(void **state)
{
	unsigned char *p = t_pattern(10000, 47);
	int src = t_file_with(p, 10000), dst = t_file_empty(0);
	struct {
		struct zc_opts o;
		uint64_t future[4];
	} big;
	struct zc_opts o = opts(0, NULL);

	(void)state;
	memset(&big, 0, sizeof(big));
	big.o = opts(0, NULL);
	big.o.size = sizeof(big);
	big.o.len = 100;
	assert_int_equal(zc_transfer_opts(src, dst, &big.o, NULL), 100);
	big.future[2] = 1;
	assert_int_equal(zc_transfer_opts(src, dst, &big.o, NULL), -1);
	assert_int_equal(errno, E2BIG);
	o.size = 4097;
	assert_int_equal(zc_transfer_opts(src, dst, &o, NULL), -1);
	assert_int_equal(errno, E2BIG);
	o.size = sizeof(o) - 1;
	assert_int_equal(zc_transfer_opts(src, dst, &o, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(zc_transfer_opts(src, dst, NULL, NULL), -1);
	assert_int_equal(errno, EINVAL);
	o = opts(0, NULL);
	o.src_off = -2;
	assert_int_equal(zc_transfer_opts(src, dst, &o, NULL), -1);
	assert_int_equal(errno, EINVAL);
	/* Explicit offsets: the fds' own stay where they were. */
	o = opts(0, NULL);
	o.src_off = 5000;
	o.dst_off = 0;
	assert_int_equal(zc_transfer_opts(src, dst, &o, NULL), 5000);
	assert_int_equal(lseek(src, 0, SEEK_CUR), 100);
	assert_int_equal(lseek(dst, 0, SEEK_CUR), 100);
	t_assert_file(dst, p + 5000, 5000);
	free(p);
	close(src);
	close(dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_holes_kept),
		cmocka_unit_test(test_no_holes),
		cmocka_unit_test(test_holes_len_cut),
		cmocka_unit_test(test_holes_over_data),
		cmocka_unit_test(test_holes_append),
		cmocka_unit_test(test_holes_into_pipe),
		cmocka_unit_test(test_holes_concurrent),
		cmocka_unit_test(test_dense_and_empty),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test_teardown(test_full_tmpfs_source, unmount_tmpfs),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_cancel_sparse),
		cmocka_unit_test(test_opts_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
