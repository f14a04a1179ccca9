// SPDX-License-Identifier: MIT
/*
 * Every pair of endpoint kinds, with every path forced in turn: every byte
 * arrives, the offsets end where a read/write loop would leave them, and
 * the stats name the path that must have moved the bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"

#define ALL_OFF (ZC_NO_COPY_FILE_RANGE | ZC_NO_SPLICE | ZC_NO_SENDFILE | ZC_NO_MMAP)

static const size_t sizes[] = { 0, 1, 4095, 4097, (1u << 20) + 13 };

/* Each path on its own: everything else is ruled out (read_write always stays). */
static const struct {
	uint32_t path;
	unsigned int flags;
} forced[] = {
	{ ZC_PATH_NONE, 0 },	/* the library's own choice */
	{ ZC_PATH_COPY_FILE_RANGE, ALL_OFF & ~ZC_NO_COPY_FILE_RANGE },
	{ ZC_PATH_SPLICE, ALL_OFF & ~ZC_NO_SPLICE },
	{ ZC_PATH_SENDFILE, ALL_OFF & ~ZC_NO_SENDFILE },
	{ ZC_PATH_MMAP_WRITE, ALL_OFF & ~ZC_NO_MMAP },
	{ ZC_PATH_READ_WRITE, ALL_OFF },
};

struct pair {
	enum t_kind src;
	enum t_kind dst;
};

static bool is_file(enum t_kind k)
{
	return k == T_FILE || k == T_MEMFD;
}

/*
 * The path that must move the bytes when only `path` (and read_write) is
 * allowed. The kernel's rules, stated independently of the library's table:
 * copy_file_range needs two files on one filesystem (the test files live on
 * one, memfds on tmpfs); sendfile and mmap need a file source; splice takes
 * anything here.
 */
static uint32_t works(uint32_t path, enum t_kind src, enum t_kind dst)
{
	switch (path) {
	case ZC_PATH_COPY_FILE_RANGE:
		return is_file(src) && src == dst;
	case ZC_PATH_SPLICE:
		return true;
	case ZC_PATH_SENDFILE:
	case ZC_PATH_MMAP_WRITE:
		return is_file(src);
	}
	return true;
}

/*
 * The library's choice: the best path that works for the pair (zcopy(7)).
 * From a file into a socket, sendfile; into a blocking device, the same
 * below 1 MiB and splice through the library's large pipe from there on.
 */
static uint32_t auto_path(enum t_kind src, enum t_kind dst, size_t size)
{
	if (!is_file(src))
		return ZC_PATH_SPLICE;
	if (works(ZC_PATH_COPY_FILE_RANGE, src, dst) && is_file(dst))
		return ZC_PATH_COPY_FILE_RANGE;
	if (is_file(dst) || dst == T_PIPE || (dst == T_NULL && size >= 1024 * 1024))
		return ZC_PATH_SPLICE;
	return ZC_PATH_SENDFILE;
}

static uint32_t expected_path(uint32_t path, enum t_kind src, enum t_kind dst, size_t size)
{
	if (path == ZC_PATH_NONE)
		return auto_path(src, dst, size);
	return works(path, src, dst) ? path : ZC_PATH_READ_WRITE;
}

static void one(const struct pair *p, uint32_t path, unsigned int flags, size_t size)
{
	unsigned char *data = t_pattern(size, (uint32_t)size);
	struct zc_stats st;
	struct t_end src, dst;
	ssize_t r;

	t_src_open(&src, p->src, data, size);
	t_sink_open(&dst, p->dst);
	/*
	 * splice into a socket holds the source pipe's lock while it waits for
	 * room; under valgrind the feeder's close() of that pipe then holds up
	 * every thread, the drain included. Room for the whole size avoids it.
	 */
	t_sink_roomy(&dst);
	r = zc_transfer_ex(src.fd, dst.fd, ZC_ALL, flags, &st);
	if (r != (ssize_t)size)
		fail_msg("%s->%s %s size %zu: returned %zd errno %d", t_kind_name(p->src),
			 t_kind_name(p->dst), zc_path_name(path), size, r, errno);
	assert_int_equal(st.bytes, size);
	assert_int_equal(st.error, 0);
	if (size) {
		if (st.path != expected_path(path, p->src, p->dst, size))
			fail_msg("%s->%s forced %s size %zu: moved by %s, expected %s",
				 t_kind_name(p->src), t_kind_name(p->dst), zc_path_name(path), size,
				 zc_path_name(st.path),
				 zc_path_name(expected_path(path, p->src, p->dst, size)));
		assert_int_equal(st.npaths, 1);
	} else {
		assert_int_equal(st.npaths, 0);
	}
	if (is_file(p->src))
		assert_int_equal(lseek(src.fd, 0, SEEK_CUR), size);
	if (is_file(p->dst))
		assert_int_equal(lseek(dst.fd, 0, SEEK_CUR), size);
	t_sink_finish(&dst);
	t_src_close(&src);
	if (p->dst != T_NULL)
		t_assert_bytes(dst.got, dst.got_len, data, size);
	free(dst.got);
	free(data);
}

static void test_pair(void **state)
{
	const struct pair *p = *state;
	size_t f, s;

	for (f = 0; f < sizeof(forced) / sizeof(forced[0]); f++)
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			one(p, forced[f].path, forced[f].flags, sizes[s]);
}

int main(void)
{
	static const enum t_kind srcs[] = { T_FILE, T_MEMFD, T_PIPE, T_TCP, T_UNIX };
	static const enum t_kind dsts[] = { T_FILE, T_MEMFD, T_PIPE, T_TCP, T_UNIX, T_NULL };
	enum { NSRC = sizeof(srcs) / sizeof(srcs[0]), NDST = sizeof(dsts) / sizeof(dsts[0]) };
	static struct pair pairs[NSRC * NDST];
	static char names[NSRC * NDST][32];
	struct CMUnitTest tests[NSRC * NDST];
	size_t i, j, n = 0;

	for (i = 0; i < NSRC; i++) {
		for (j = 0; j < NDST; j++, n++) {
			pairs[n] = (struct pair){ srcs[i], dsts[j] };
			snprintf(names[n], sizeof(names[n]), "%s->%s", t_kind_name(srcs[i]),
				 t_kind_name(dsts[j]));
			tests[n] = (struct CMUnitTest){ .name = names[n], .test_func = test_pair,
							.initial_state = &pairs[n] };
		}
	}
	return _cmocka_run_group_tests("pairs", tests, n, NULL, NULL);
}
