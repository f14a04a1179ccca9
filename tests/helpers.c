// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "helpers.h"

static const char *const kind_names[] = {
	[T_FILE] = "file", [T_MEMFD] = "memfd", [T_PIPE] = "pipe",
	[T_TCP] = "tcp", [T_UNIX] = "unix", [T_NULL] = "null",
};

const char *t_kind_name(enum t_kind k)
{
	return kind_names[k];
}

unsigned char *t_pattern(size_t len, uint32_t seed)
{
	unsigned char *p = malloc(len ? len : 1);
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	size_t i;

	assert_non_null(p);
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
	return p;
}

void *t_alloc(size_t len)
{
	void *p = malloc(len ? len : 1);

	if (!p)
		fail_msg("out of memory for %zu bytes", len);
	return p;
}

static void write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t r = write(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		assert_true(r > 0);
		p += r;
		len -= (size_t)r;
	}
}

static const char *test_dir(void)
{
	const char *d = getenv("T_TMPDIR");

	return d && *d ? d : "/tmp";
}

int t_file_empty(int flags)
{
	int fd = open(test_dir(), O_TMPFILE | O_RDWR | O_CLOEXEC | flags, 0600);

	assert_true(fd >= 0);
	return fd;
}

int t_file_with(const void *data, size_t len)
{
	int fd = t_file_empty(0);

	write_all(fd, data, len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

int t_memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("t", MFD_CLOEXEC);

	assert_true(fd >= 0);
	write_all(fd, data, len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

void t_tcp_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(l >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fds[0] >= 0);
	assert_int_equal(connect(fds[0], (struct sockaddr *)&a, sizeof(a)), 0);
	fds[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fds[1] >= 0);
	close(l);
}

void t_unix_pair(int fds[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
}

void t_stream_pair(enum t_kind k, int fds[2])
{
	if (k == T_PIPE)
		assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	else if (k == T_TCP)
		t_tcp_pair(fds);
	else
		t_unix_pair(fds);
}

/* Threads must not use cmocka's asserts: a failed write just ends the feed. */
static void *feeder(void *arg)
{
	struct t_end *e = arg;
	size_t done = 0;
	sigset_t set;
	ssize_t r;

	/* The feed may outlive a reader that a test closes on purpose. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (done < e->len) {
		r = write(e->peer, e->data + done, e->len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	close(e->peer);
	return NULL;
}

void t_src_open(struct t_end *e, enum t_kind k, const void *data, size_t len)
{
	int fds[2];

	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->peer = -1;
	e->data = data;
	e->len = len;
	switch (k) {
	case T_FILE:
		e->fd = t_file_with(data, len);
		return;
	case T_MEMFD:
		e->fd = t_memfd_with(data, len);
		return;
	default:
		t_stream_pair(k, fds);
		e->fd = fds[0];
		e->peer = fds[1];
		assert_int_equal(pthread_create(&e->thread, NULL, feeder, e), 0);
		e->has_thread = true;
	}
}

void t_src_close(struct t_end *e)
{
	close(e->fd);
	if (e->has_thread)
		pthread_join(e->thread, NULL);
}

static void got_append(struct t_end *e, const void *buf, size_t n)
{
	if (e->got_len + n > e->got_cap) {
		e->got_cap = (e->got_len + n) * 2;
		e->got = realloc(e->got, e->got_cap);
		if (!e->got)
			abort();
	}
	memcpy(e->got + e->got_len, buf, n);
	e->got_len += n;
}

static void *drainer(void *arg)
{
	struct t_end *e = arg;
	char buf[65536];
	ssize_t r;

	for (;;) {
		if (e->delay_us)
			usleep(e->delay_us);
		r = read(e->peer, buf, e->delay_us ? 4096 : sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got_append(e, buf, (size_t)r);
	}
	close(e->peer);
	return NULL;
}

void t_sink_open(struct t_end *e, enum t_kind k)
{
	int fds[2];

	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->peer = -1;
	switch (k) {
	case T_FILE:
		e->fd = t_file_empty(0);
		return;
	case T_MEMFD:
		e->fd = t_memfd_with("", 0);
		return;
	case T_NULL:
		e->fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		assert_true(e->fd >= 0);
		return;
	default:
		t_stream_pair(k, fds);
		e->fd = fds[1];
		e->peer = fds[0];
		assert_int_equal(pthread_create(&e->thread, NULL, drainer, e), 0);
		e->has_thread = true;
	}
}

void t_sink_finish(struct t_end *e)
{
	if (e->kind == T_FILE || e->kind == T_MEMFD) {
		free(e->got);
		e->got = t_read_file(e->fd, &e->got_len);
	}
	close(e->fd);
	if (e->has_thread)
		pthread_join(e->thread, NULL);
}

void t_sink_roomy(struct t_end *e)
{
	int size = 4 << 20;

	if (e->kind == T_PIPE) {
		assert_true(fcntl(e->fd, F_SETPIPE_SZ, 1 << 20) > 0);
		return;
	}
	if (e->kind != T_TCP && e->kind != T_UNIX)
		return;
	/* Beyond net.core.wmem_max only with CAP_NET_ADMIN; else as much as allowed. */
	if (setsockopt(e->fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) != 0)
		setsockopt(e->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (e->kind == T_TCP)
		setsockopt(e->peer, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
}

unsigned char *t_sparse_fill(int fd, uint64_t size, const struct t_island *is, size_t n,
			     uint32_t seed)
{
	unsigned char *all = calloc(1, size ? size : 1), *p;
	size_t i;

	assert_non_null(all);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	for (i = 0; i < n; i++) {
		p = t_pattern(is[i].len, seed + (uint32_t)i);
		assert_int_equal(pwrite(fd, p, is[i].len, (off_t)is[i].off), (ssize_t)is[i].len);
		memcpy(all + is[i].off, p, is[i].len);
		free(p);
	}
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return all;
}

uint64_t t_allocated(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

unsigned char *t_read_file(int fd, size_t *len)
{
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0;
	ssize_t r;

	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		r = pread(fd, buf + n, cap - n, (off_t)n);
		assert_true(r >= 0);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

void t_assert_file(int fd, const void *data, size_t len)
{
	size_t got_len;
	unsigned char *got = t_read_file(fd, &got_len);

	t_assert_bytes(got, got_len, data, len);
	free(got);
}

int t_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3;	/* ".", ".." and the DIR's own fd */
}

void t_need_fds(unsigned long n)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max < n) {
		print_message("skipped: RLIMIT_NOFILE hard limit %lu is below %lu\n",
			      (unsigned long)rl.rlim_max, n);
		skip();
	}
	rl.rlim_cur = rl.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

int t_in_child(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		fn(arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

void t__assert_bytes(const void *a, size_t alen, const void *b, size_t blen, const char *file,
		     int line)
{
	const unsigned char *x = a, *y = b;
	size_t i, n = alen < blen ? alen : blen;

	for (i = 0; i < n && x[i] == y[i]; i++)
		;
	if (alen == blen && i == n)
		return;
	print_error("%s:%d: bytes differ: lengths %zu and %zu, first difference at %zu\n",
		       file, line, alen, blen, i);
	_fail(file, line);
}
