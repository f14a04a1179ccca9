// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "fault.h"
#include "internal.h"
#include "xrun.h"

bool t_seekable(enum t_kind k)
{
	return k == T_FILE || k == T_MEMFD;
}

static bool src_seek(const struct t_xrun *x)
{
	return t_seekable(x->c.src);
}

static bool dst_seek(const struct t_xrun *x)
{
	return t_seekable(x->c.dst);
}

size_t t_xrun_want(const struct t_xrun *x)
{
	size_t avail = x->c.size - x->c.src_start;

	return x->c.len < avail ? x->c.len : avail;
}

static void set_pos(int fd, size_t pos)
{
	assert_int_equal(lseek(fd, (off_t)pos, SEEK_SET), (off_t)pos);
}

struct t_xrun *t_xrun_new(const struct t_xrun_cfg *c, const unsigned char *data,
			  const char *ctx)
{
	struct t_xrun *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	zc__pipe_discard();
	x->fds = t_fd_count();
	x->c = *c;
	x->data = data;
	x->ctx = ctx;
	x->intact = UINT64_MAX;
	if (src_seek(x)) {
		t_src_open(&x->src, c->src, data, c->size);
		x->src_off = c->src_start;
		set_pos(x->src.fd, c->at ? T_FD_POS : c->src_start);
	} else {
		t_src_open(&x->src, c->src, data + c->src_start, c->size - c->src_start);
	}
	t_sink_open(&x->dst, c->dst);
	t_sink_roomy(&x->dst);
	if (dst_seek(x)) {
		x->dst_off = c->dst_start;
		set_pos(x->dst.fd, c->at ? T_FD_POS : c->dst_start);
	}
	return x;
}

ssize_t t_xrun_go(struct t_xrun *x, size_t len, struct zc_stats *st)
{
	bool sa = x->c.at && src_seek(x), da = x->c.at && dst_seek(x);

	return zc_transfer_at(x->src.fd, sa ? &x->src_off : NULL, x->dst.fd,
			      da ? &x->dst_off : NULL, len, x->c.flags, st);
}

void t_xrun_check_offsets(struct t_xrun *x, uint64_t moved)
{
	if (src_seek(x) && x->c.at) {
		t_expect(x, x->src_off == x->c.src_start + moved);
		t_expect(x, lseek(x->src.fd, 0, SEEK_CUR) == T_FD_POS);
	} else if (src_seek(x)) {
		t_expect(x, (uint64_t)lseek(x->src.fd, 0, SEEK_CUR) == x->c.src_start + moved);
	}
	if (dst_seek(x) && x->c.at) {
		t_expect(x, x->dst_off == x->c.dst_start + moved);
		t_expect(x, lseek(x->dst.fd, 0, SEEK_CUR) == T_FD_POS);
	} else if (dst_seek(x)) {
		t_expect(x, (uint64_t)lseek(x->dst.fd, 0, SEEK_CUR) == x->c.dst_start + moved);
	}
}

void t_xrun_check_stats(struct t_xrun *x, ssize_t r, int err, const struct zc_stats *st)
{
	if (r < 0) {
		t_expect(x, err != 0);
		t_expect(x, err == st->error);
		t_expect(x, st->bytes == 0);
	} else {
		t_expect(x, st->bytes == (uint64_t)r);
	}
	t_expect(x, (st->npaths == 0) == (st->bytes == 0));
	if (st->npaths)
		t_expect(x, st->paths[st->npaths - 1] == st->path);
	t_expect(x, st->npaths <= ZC_STATS_MAX && st->nfallbacks <= ZC_STATS_MAX);
}

uint64_t t_xrun_retry(struct t_xrun *x, uint64_t moved)
{
	struct zc_stats st;
	size_t want = t_xrun_want(x);
	ssize_t r;
	int i;

	t_fault_reset();
	for (i = 0; i < 4 && moved < want; i++) {
		r = t_xrun_go(x, x->c.len == ZC_ALL ? ZC_ALL : want - moved, &st);
		t_xrun_check_stats(x, r, errno, &st);
		t_expect(x, r >= 0);
		if (r == 0)
			break;
		moved += (uint64_t)r;
	}
	t_expect(x, moved == want);
	t_xrun_check_offsets(x, moved);
	return moved;
}

static void finish(struct t_xrun *x, uint64_t moved)
{
	const unsigned char *got, *want = x->data + x->c.src_start;
	size_t len, i, start = x->c.dst_start;

	t_sink_finish(&x->dst);
	t_src_close(&x->src);
	got = x->dst.got;
	len = x->dst.got_len;
	/* A seekable dst written from start: a hole of zeros, then the bytes. */
	if (dst_seek(x) && moved && start) {
		t_expect(x, len == start + moved);
		for (i = 0; i < start; i++)
			t_expect(x, got[i] == 0);
		got += start;
		len -= start;
	}
	if (x->c.dst != T_NULL) {
		t_expect(x, len == moved);
		moved = moved < x->intact ? moved : x->intact;
		if (moved && memcmp(got, want, moved) != 0)
			print_error("%s: destination is not the source's prefix\n", x->ctx);
		t_assert_bytes(got, moved, want, moved);
	}
	free(x->dst.got);
	x->dst.got = NULL;
}

void t_xrun_end(struct t_xrun *x, uint64_t moved, bool retry)
{
	t_xrun_check_offsets(x, moved);
	if (retry)
		moved = t_xrun_retry(x, moved);
	t_fault_reset();
	finish(x, moved);
	zc__pipe_discard();
	if (t_fd_count() != x->fds)
		fail_msg("%s: %d fds open before, %d after", x->ctx, x->fds, t_fd_count());
	free(x);
}
