// SPDX-License-Identifier: MIT
/*
 * No SIGPIPE and no SIGBUS may ever reach a caller. Each case runs in a
 * forked child with default dispositions and an empty mask, so a signal
 * that got through kills it and the parent sees the signal in its status.
 *
 * SIGPIPE: every path that writes to a pipe or socket whose reader is gone
 * (splice, sendfile, write from a mapping, write from the bounce buffer),
 * with SIGPIPE unblocked, blocked, and blocked and already pending: the call
 * fails with EPIPE, the mask is what it was, and SIGPIPE is pending after
 * the call exactly when it was before.
 *
 * ZC_NO_SIGPIPE_GUARD hands SIGPIPE back to the caller: shown by a child
 * that dies of it, one that ignores it and one that finds it pending.
 *
 * SIGBUS: the mmap_write source is truncated just before the mapping is
 * made or just before it is written from: the call ends early, no signal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "fault.h"
#include "helpers.h"

#define ALL_OFF (ZC_NO_COPY_FILE_RANGE | ZC_NO_SPLICE | ZC_NO_SENDFILE | ZC_NO_MMAP)
#define ONLY(flag) (ALL_OFF & ~(flag))
#define SIZE (300u * 1024 + 5)

/* Exit codes of a child that saw something wrong. */
enum {
	BAD_RESULT = 2,
	BAD_MASK,
	BAD_PENDING,
	BAD_BYTES,
};

enum mode {
	UNBLOCKED,
	BLOCKED,	/* blocked by the caller, not pending */
	PENDING,	/* blocked by the caller and already pending */
};

static const char *const mode_names[] = { "unblocked", "blocked", "pending" };

struct pipe_case {
	enum t_kind src;	/* T_FILE or T_PIPE */
	enum t_kind dst;	/* T_PIPE, T_UNIX or T_TCP, with its reader gone */
	unsigned int flags;
	enum mode mode;
};

static int child_fail(int code, const char *what)
{
	fprintf(stderr, "child: %s (errno %d)\n", what, errno);
	_exit(code);
}

static bool sigpipe_pending(void)
{
	sigset_t set;

	sigpending(&set);
	return sigismember(&set, SIGPIPE);
}

/* A source of SIZE bytes: a file, or a pipe already full and closed behind. */
static int make_src(enum t_kind k, const unsigned char *data)
{
	int fds[2];

	if (k == T_FILE)
		return t_file_with(data, SIZE);
	if (pipe2(fds, O_CLOEXEC) != 0 || fcntl(fds[1], F_SETPIPE_SZ, 1 << 20) < 0 ||
	    write(fds[1], data, SIZE) != (ssize_t)SIZE)
		child_fail(BAD_RESULT, "source pipe");
	close(fds[1]);
	return fds[0];
}

/* A destination nobody reads any more: writing to it raises SIGPIPE. */
static int make_dead_dst(enum t_kind k)
{
	int fds[2];

	if (k == T_PIPE) {
		if (pipe2(fds, O_CLOEXEC) != 0)
			child_fail(BAD_RESULT, "pipe");
		close(fds[0]);
		return fds[1];
	}
	if (k == T_UNIX) {
		t_unix_pair(fds);
		close(fds[1]);
		return fds[0];
	}
	/* TCP: a shut-down sending side says EPIPE at once, not after an RST. */
	t_tcp_pair(fds);
	close(fds[1]);
	shutdown(fds[0], SHUT_WR);
	return fds[0];
}

static void sigpipe_child(void *arg)
{
	const struct pipe_case *c = arg;
	unsigned char *data = t_pattern(SIZE, 7);
	sigset_t pipe_set, before, after;
	int src, dst;
	ssize_t r;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (c->mode != UNBLOCKED)
		sigprocmask(SIG_BLOCK, &pipe_set, NULL);
	if (c->mode == PENDING)
		raise(SIGPIPE);
	sigprocmask(SIG_SETMASK, NULL, &before);
	src = make_src(c->src, data);
	dst = make_dead_dst(c->dst);

	r = zc_transfer(src, dst, ZC_ALL, c->flags);
	if (r != -1 || errno != EPIPE)
		child_fail(BAD_RESULT, "expected -1 with EPIPE");
	sigprocmask(SIG_SETMASK, NULL, &after);
	if (sigismember(&before, SIGPIPE) != sigismember(&after, SIGPIPE))
		child_fail(BAD_MASK, "SIGPIPE's place in the mask changed");
	if (sigpipe_pending() != (c->mode == PENDING))
		child_fail(BAD_PENDING, "SIGPIPE pending differs from before the call");
	close(src);
	close(dst);
	free(data);
}

static void expect_clean_exit(int status, const char *what)
{
	if (WIFSIGNALED(status))
		fail_msg("%s: child killed by %s", what, strsignal(WTERMSIG(status)));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s: child exited with %d", what, WEXITSTATUS(status));
}

static void test_sigpipe(void **state)
{
	static const struct {
		enum t_kind src;
		unsigned int flags;
		const char *name;
	} ways[] = {
		{ T_FILE, 0, "auto" },
		{ T_FILE, ONLY(ZC_NO_SPLICE), "splice" },
		{ T_FILE, ONLY(ZC_NO_SENDFILE), "sendfile" },
		{ T_FILE, ONLY(ZC_NO_MMAP), "mmap_write" },
		{ T_FILE, ALL_OFF, "read_write" },
		{ T_PIPE, 0, "splice from a pipe" },
		{ T_PIPE, ALL_OFF, "read_write from a pipe" },
	};
	static const enum t_kind dsts[] = { T_PIPE, T_UNIX, T_TCP };
	char what[128];
	size_t w, d;
	int m;

	(void)state;
	for (w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
		for (d = 0; d < sizeof(dsts) / sizeof(dsts[0]); d++) {
			for (m = UNBLOCKED; m <= PENDING; m++) {
				struct pipe_case c = { ways[w].src, dsts[d], ways[w].flags, m };

				snprintf(what, sizeof(what), "%s->%s %s, SIGPIPE %s",
					 t_kind_name(c.src), t_kind_name(c.dst), ways[w].name,
					 mode_names[m]);
				expect_clean_exit(t_in_child(sigpipe_child, &c), what);
			}
		}
	}
}

/*
 * ZC_NO_SIGPIPE_GUARD: the library makes no signal-mask call at all, so the
 * kernel's SIGPIPE reaches the caller as it would from write(2): it kills at
 * the default action, vanishes when ignored, stays pending when blocked.
 */
enum caller_sigpipe {
	AT_DEFAULT,
	AS_BLOCKED,
	AS_IGNORED,
};

static const char *const caller_names[] = { "at its default", "blocked", "ignored" };

struct unguarded_case {
	enum t_kind dst;
	enum caller_sigpipe how;
};

static void unguarded_child(void *arg)
{
	const struct unguarded_case *c = arg;
	unsigned char *data = t_pattern(SIZE, 8);
	sigset_t pipe_set;
	int src, dst;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (c->how == AS_BLOCKED)
		sigprocmask(SIG_BLOCK, &pipe_set, NULL);
	if (c->how == AS_IGNORED)
		signal(SIGPIPE, SIG_IGN);
	src = make_src(T_FILE, data);
	dst = make_dead_dst(c->dst);
	t_fault_reset();
	if (zc_transfer(src, dst, ZC_ALL, ZC_NO_SIGPIPE_GUARD) != -1 || errno != EPIPE)
		child_fail(BAD_RESULT, "expected -1 with EPIPE");
	if (t_fault_calls(T_NR_sigmask) != 0)
		child_fail(BAD_MASK, "the library touched the signal mask");
	if (sigpipe_pending() != (c->how == AS_BLOCKED))
		child_fail(BAD_PENDING, "SIGPIPE pending is not what the kernel left");
	close(src);
	close(dst);
	free(data);
}

static void test_sigpipe_unguarded(void **state)
{
	static const enum t_kind dsts[] = { T_PIPE, T_UNIX, T_TCP };
	char what[128];
	size_t d;
	int h, status;

	(void)state;
	for (d = 0; d < sizeof(dsts) / sizeof(dsts[0]); d++) {
		for (h = AT_DEFAULT; h <= AS_IGNORED; h++) {
			struct unguarded_case c = { dsts[d], h };

			snprintf(what, sizeof(what), "file->%s unguarded, SIGPIPE %s",
				 t_kind_name(c.dst), caller_names[h]);
			status = t_in_child(unguarded_child, &c);
			if (h != AT_DEFAULT) {
				expect_clean_exit(status, what);
			} else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGPIPE) {
				fail_msg("%s: child not killed by SIGPIPE (status %#x)", what,
					 status);
			}
		}
	}
}

struct bus_case {
	const char *before;	/* the call the truncation comes just before */
	off_t cut;		/* the file's new size */
	enum t_kind dst;
};

static int bus_src = -1;
static off_t bus_cut;

static void cut_src(void *arg)
{
	(void)arg;
	if (ftruncate(bus_src, bus_cut) != 0)
		child_fail(BAD_RESULT, "ftruncate");
}

static void sigbus_child(void *arg)
{
	const struct bus_case *c = arg;
	unsigned char *data = t_pattern(SIZE, 9);
	struct t_end dst;
	size_t keep;
	ssize_t r;

	bus_src = t_file_with(data, SIZE);
	bus_cut = c->cut;
	t_sink_open(&dst, c->dst);
	t_fault_reset();
	t_fault_add_fn(c->before, 1, cut_src, NULL);
	r = zc_transfer(bus_src, dst.fd, ZC_ALL, ONLY(ZC_NO_MMAP));
	if (r < 0 || t_fault_fired() != 1)
		child_fail(BAD_RESULT, "transfer failed or the file was never cut");
	t_fault_reset();
	t_sink_finish(&dst);
	/* Bytes past the cut may be the zeroed tail of the last page; before it, the data. */
	keep = (size_t)r < (size_t)c->cut ? (size_t)r : (size_t)c->cut;
	if (dst.got_len != (size_t)r || (keep && memcmp(dst.got, data, keep) != 0))
		child_fail(BAD_BYTES, "destination is not the source's prefix");
	close(bus_src);
	free(dst.got);
	free(data);
}

static void test_sigbus(void **state)
{
	static const char *const befores[] = { "mmap", "write" };
	static const off_t cuts[] = { 0, 1, SIZE / 2 };
	static const enum t_kind dsts[] = { T_FILE, T_PIPE, T_UNIX };
	char what[128];
	size_t b, c, d;

	(void)state;
	for (b = 0; b < 2; b++) {
		for (c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
			for (d = 0; d < sizeof(dsts) / sizeof(dsts[0]); d++) {
				struct bus_case bc = { befores[b], cuts[c], dsts[d] };

				snprintf(what, sizeof(what), "file->%s cut to %lld before %s",
					 t_kind_name(dsts[d]), (long long)cuts[c], befores[b]);
				expect_clean_exit(t_in_child(sigbus_child, &bc), what);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigpipe),
		cmocka_unit_test(test_sigpipe_unguarded),
		cmocka_unit_test(test_sigbus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
