// SPDX-License-Identifier: MIT
/*
 * Endpoints for the benchmark. The far side of every pipe and socket is a
 * thread of this process, so RUSAGE_SELF covers both sides of a transfer.
 *
 * By default the far side moves bytes as cheaply as the kernel allows (a
 * feeder splices or sendfiles from the page-cached source, a drainer
 * splices into /dev/null), so the figures show the side under test rather
 * than a copy on the other side. The run that checks the bytes reads them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define PEER_BUF (128u * 1024)
#define PEER_STEP B_MIB

static const char *const kind_names[] = {
	[B_FILE] = "file", [B_NULL] = "null", [B_PIPE] = "pipe",
	[B_TCP] = "tcp", [B_UNIX] = "unix", [B_REGION] = "region",
	[B_LOAD] = "load",
};

const char *b_kind_name(enum b_kind k)
{
	return kind_names[k];
}

bool b_is_stream(enum b_kind k)
{
	return k == B_PIPE || k == B_TCP || k == B_UNIX;
}

static uint64_t rotl(uint64_t x, unsigned int r)
{
	return (x << r) | (x >> (64 - r));
}

static void mix(struct b_sum *s, uint64_t w)
{
	s->h = rotl(s->h ^ w, 27) * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
}

void b_sum_init(struct b_sum *s)
{
	memset(s, 0, sizeof(*s));
	s->h = 0xCBF29CE484222325ull;
}

void b_sum_add(struct b_sum *s, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t w;

	s->n += len;
	while (s->ntail && len) {
		s->tail[s->ntail++] = *p++;
		len--;
		if (s->ntail == 8) {
			memcpy(&w, s->tail, 8);
			mix(s, w);
			s->ntail = 0;
		}
	}
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		mix(s, w);
	}
	while (len--)
		s->tail[s->ntail++] = *p++;
}

uint64_t b_sum_final(const struct b_sum *s)
{
	struct b_sum t = *s;
	uint64_t w = 0;

	if (t.ntail) {
		memcpy(&w, t.tail, t.ntail);
		mix(&t, w);
	}
	mix(&t, t.n);
	return t.h;
}

int b_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t r;

	while (len) {
		r = write(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r ? -errno : -EIO;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int b_fill(int fd, uint64_t len)
{
	uint64_t *buf = malloc(B_MIB), x = 0x2545F4914F6CDD1Dull, done = 0;
	size_t i, n;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	while (r == 0 && done < len) {
		for (i = 0; i < B_MIB / 8; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = x;
		}
		n = len - done < B_MIB ? (size_t)(len - done) : B_MIB;
		r = b_write_all(fd, buf, n);
		done += n;
	}
	free(buf);
	return r;
}

int b_file_sum(int fd, uint64_t len, uint64_t *sum)
{
	char *buf = malloc(B_MIB);
	struct b_sum s;
	uint64_t done = 0;
	ssize_t r = 0;

	if (!buf)
		return -1;
	b_sum_init(&s);
	while (done < len) {
		r = pread(fd, buf, len - done < B_MIB ? len - done : B_MIB, (off_t)done);
		if (r <= 0)
			break;
		b_sum_add(&s, buf, (size_t)r);
		done += (uint64_t)r;
	}
	free(buf);
	*sum = b_sum_final(&s);
	return done == len ? 0 : -1;
}

static int tcp_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r = -1;

	fds[0] = fds[1] = -1;
	if (l < 0)
		return -errno;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &alen) < 0)
		goto out;
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&a, sizeof(a)) < 0)
		goto out;
	fds[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (fds[1] >= 0)
		r = 0;
out:
	if (r < 0) {
		r = -errno;
		if (fds[0] >= 0)
			close(fds[0]);
	}
	close(l);
	return r;
}

/* fds[0] is read from, fds[1] written to, whatever the kind. */
static int stream_pair(enum b_kind k, int fds[2])
{
	if (k == B_PIPE)
		return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0;
	if (k == B_TCP)
		return tcp_pair(fds);
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 ? -errno : 0;
}

static ssize_t feed_plain(struct b_end *e, char *buf, off_t off, size_t n)
{
	ssize_t r = pread(e->file, buf, n, off);

	if (r <= 0)
		return r < 0 ? -1 : 0;
	return b_write_all(e->peer, buf, (size_t)r) < 0 ? -1 : r;
}

static void *feeder(void *arg)
{
	struct b_end *e = arg;
	char *buf = e->plain ? malloc(PEER_BUF) : NULL;
	off_t off = 0;
	uint64_t left;
	ssize_t r;
	size_t n;

	pthread_barrier_wait(e->gate);
	while ((left = e->len - (uint64_t)off) > 0) {
		n = left < PEER_STEP ? (size_t)left : PEER_STEP;
		if (e->plain) {
			r = buf ? feed_plain(e, buf, off, n < PEER_BUF ? n : PEER_BUF) : -1;
			off += r > 0 ? r : 0;
		} else if (e->kind == B_PIPE) {
			r = splice(e->file, &off, e->peer, NULL, n, SPLICE_F_MOVE);
		} else {
			r = sendfile(e->peer, e->file, &off, n);
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			e->err = r ? errno : EIO;
			break;
		}
	}
	free(buf);
	close(e->peer);
	return NULL;
}

static ssize_t drain_read(struct b_end *e, char *buf)
{
	ssize_t r = read(e->peer, buf, PEER_BUF);

	if (r > 0 && e->verify)
		b_sum_add(&e->sum, buf, (size_t)r);
	return r;
}

/* Splice up to a step from a socket into /dev/null through our own pipe. */
static ssize_t drain_via(struct b_end *e, int devnull, const int p[2])
{
	ssize_t r = splice(e->peer, NULL, p[1], NULL, PEER_STEP, SPLICE_F_MOVE), w;
	size_t left = r > 0 ? (size_t)r : 0;

	while (left) {
		w = splice(p[0], NULL, devnull, NULL, left, SPLICE_F_MOVE);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		left -= (size_t)w;
	}
	return r;
}

static void *drainer(void *arg)
{
	struct b_end *e = arg;
	bool copy = e->verify || e->plain;
	char *buf = copy ? malloc(PEER_BUF) : NULL;
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC), p[2] = { -1, -1 };
	ssize_t r;

	if (!copy && e->kind != B_PIPE && pipe2(p, O_CLOEXEC) == 0)
		fcntl(p[1], F_SETPIPE_SZ, PEER_STEP);
	pthread_barrier_wait(e->gate);
	for (;;) {
		if (copy)
			r = buf ? drain_read(e, buf) : -1;
		else if (e->kind == B_PIPE)
			r = splice(e->peer, NULL, devnull, NULL, PEER_STEP, SPLICE_F_MOVE);
		else
			r = p[0] >= 0 ? drain_via(e, devnull, p) : -1;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			e->err = r < 0 ? (errno ? errno : EIO) : 0;
			break;
		}
		e->len += (uint64_t)r;
	}
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
	if (devnull >= 0)
		close(devnull);
	free(buf);
	close(e->peer);
	return NULL;
}

static void end_init(struct b_end *e, enum b_kind k)
{
	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->fd = e->peer = e->file = -1;
	b_sum_init(&e->sum);
}

int b_src_open(struct b_end *e, enum b_kind k, const char *src_path, int file, uint64_t len)
{
	int fds[2], r;

	end_init(e, k);
	e->len = len;
	e->file = file;
	e->source = true;
	if (k == B_FILE || k == B_REGION || k == B_LOAD) {
		e->fd = open(src_path, O_RDONLY | O_CLOEXEC);
		return e->fd < 0 ? -errno : 0;
	}
	if (!b_is_stream(k))
		return -EINVAL;
	r = stream_pair(k, fds);
	if (r < 0)
		return r;
	e->fd = fds[0];
	e->peer = fds[1];
	e->has_thread = true;
	return 0;
}

int b_sink_open(struct b_end *e, enum b_kind k, const char *dir)
{
	int fds[2], r;

	end_init(e, k);
	if (k == B_FILE)
		e->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	else if (k == B_NULL)
		e->fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (!b_is_stream(k))
		return e->fd < 0 ? -errno : 0;
	r = stream_pair(k, fds);
	if (r < 0)
		return r;
	e->fd = fds[1];
	e->peer = fds[0];
	e->has_thread = true;
	return 0;
}

int b_end_start(struct b_end *e, pthread_barrier_t *gate)
{
	if (!e->has_thread)
		return 0;
	e->gate = gate;
	if (pthread_create(&e->thread, NULL, e->source ? feeder : drainer, e) != 0) {
		e->has_thread = false;
		close(e->peer);
		return -EAGAIN;
	}
	return 0;
}

int b_drain(int fd, enum b_kind k, uint64_t *len)
{
	pthread_barrier_t gate;
	struct b_end e;

	end_init(&e, k);
	e.peer = fd;
	e.gate = &gate;
	pthread_barrier_init(&gate, NULL, 1);
	drainer(&e);
	pthread_barrier_destroy(&gate);
	*len = e.len;
	return e.err ? -e.err : 0;
}

void b_end_finish(struct b_end *e)
{
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
	if (e->has_thread)
		pthread_join(e->thread, NULL);
	e->has_thread = false;
}
