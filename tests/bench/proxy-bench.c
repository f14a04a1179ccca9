// SPDX-License-Identifier: MIT
/*
 * proxy-bench: the same loopback workloads through each TCP proxy named on
 * the command line, in one run, with the proxy's throughput and CPU.
 *
 *   proxy-bench [--reps N] [--secs S] [--bulk-mib M] [--only LIST] NAME=COMMAND...
 *
 * COMMAND runs under /bin/sh -c with %L replaced by the port the proxy must
 * listen on (127.0.0.1) and %T by the upstream's; it must exec the proxy
 * itself, so that its pid is the proxy's (tests/bench/proxy.sh gives the
 * commands). This program is the upstream (a thread) and the clients (the
 * main thread), both on epoll, moving bytes as cheaply as they can
 * (sendfile from a memfd, splice into /dev/null, MSG_TRUNC reads, echo
 * through a relay), so the proxy is what is measured. The first byte a
 * client sends tells the upstream what to be: S a sink, E an echo, P a
 * source that sends until the connection goes.
 *
 * Workloads, each run once per proxy per repetition, the proxies in a new
 * shuffled order each time:
 *   bulk-N     N connections share BULK bytes client -> upstream (1 GiB)
 *   slow-N     bulk-N beside 8 connections whose clients read 1 KiB/s from
 *              an upstream that sends without end
 *   msg-SIZE-N N connections each sending SIZE bytes and waiting for the echo,
 *              for S seconds
 *   conn-N     N clients each connecting, sending 64 bytes, reading the echo and
 *              closing, again and again, for S seconds
 * For each: GB/s through the proxy (bytes in both directions over wall time),
 * the proxy's CPU seconds per GB (utime + stime + cutime + cstime from
 * /proc/PID/stat, so forked children count; for conn-N, microseconds per
 * connection), and round trips/s for msg, connections/s for conn-N.
 * Medians over the repetitions go to stdout as a markdown table.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zcopy.h>

#define SRC_SIZE (1u << 20)	/* the memfd every sender sends from */
#define MAX_PROXIES 8
#define MAX_REPS 15
#define MAX_CONNS 1024
#define SLOW_READERS 8
#define SMALL 64

enum wl_kind { BULK, SLOW, MSG, CONN };

struct workload {
	const char *name;
	enum wl_kind kind;
	unsigned int nconn;
	size_t size;		/* MSG: message size */
};

static const struct workload workloads[] = {
	{ "bulk-1", BULK, 1, 0 },	{ "bulk-64", BULK, 64, 0 },
	{ "bulk-512", BULK, 512, 0 },	{ "slow-64", SLOW, 64, 0 },
	{ "msg-4K-1", MSG, 1, 4096 },	{ "msg-4K-64", MSG, 64, 4096 },
	{ "msg-4K-512", MSG, 512, 4096 }, { "msg-1M-1", MSG, 1, 1 << 20 },
	{ "msg-1M-64", MSG, 64, 1 << 20 }, { "msg-1M-512", MSG, 512, 1 << 20 },
	{ "conn-64", CONN, 64, 0 },
};
#define NWL (sizeof(workloads) / sizeof(workloads[0]))

struct result {
	double gbps;		/* GB/s through the proxy */
	double cpu_per_gb;	/* proxy CPU seconds per GB */
	double per_sec;		/* connections (conn) or round trips (msg) per second */
	bool ok;
};

struct proxy {
	const char *name;
	const char *cmd;
	pid_t pid;
	int port;
	struct result res[NWL][MAX_REPS];
};

static int src_fd;		/* memfd of SRC_SIZE bytes */
static int upstream_port;
static double opt_secs = 2;
static uint64_t opt_bulk = 1ull << 30;
static int opt_reps = 3;
static const char *opt_only;
static uint64_t sunk;		/* bytes the upstream sinks received, all connections */
static pthread_mutex_t sunk_lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noreturn)) static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int listen_on(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t alen = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4096) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
		die("listen");
	return fd;
}

/*
 * A port for a proxy to listen on, below the ephemeral range, so that none
 * of the thousands of client connections of a run takes it meanwhile.
 */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd, port, tries;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (tries = 0; tries < 1000; tries++) {
		port = 20000 + rand() % 12000;
		a.sin_port = htons((uint16_t)port);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			close(fd);
			return port;
		}
		close(fd);
	}
	die("free_port");
}

/* Upstream: one thread, one epoll set. */

enum up_mode { UP_NEW, UP_SINK, UP_ECHO, UP_PUSH };

struct up_conn {
	int fd;
	enum up_mode mode;
	struct zc_relay *relay;
	uint64_t off;
	uint64_t got;
};

struct upstream {
	int ep, lfd, devnull, pipe[2];
};

static void up_close(struct up_conn *c)
{
	/* Counted before the close that tells the client its stream is all in. */
	if (c->mode == UP_SINK) {
		pthread_mutex_lock(&sunk_lock);
		sunk += c->got;
		pthread_mutex_unlock(&sunk_lock);
	}
	close(c->fd);
	zc_relay_free(c->relay);
	free(c);
}

static void up_set(struct upstream *u, struct up_conn *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	epoll_ctl(u->ep, EPOLL_CTL_MOD, c->fd, &e);
}

/* Sink: socket -> pipe -> /dev/null until the end. */
static bool up_sink(struct upstream *u, struct up_conn *c)
{
	ssize_t n;

	for (;;) {
		n = splice(c->fd, NULL, u->pipe[1], NULL, 1 << 20, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n <= 0)
			return n < 0 && errno == EAGAIN;
		c->got += (uint64_t)n;
		while (n > 0) {
			ssize_t m = splice(u->pipe[0], NULL, u->devnull, NULL, (size_t)n, SPLICE_F_MOVE);

			if (m <= 0)
				return false;
			n -= m;
		}
	}
}

static bool up_echo(struct upstream *u, struct up_conn *c)
{
	ssize_t n = zc_relay_move(c->relay, c->fd, c->fd, ZC_ALL, ZC_NO_SIGPIPE_GUARD, NULL);

	if (n == 0 || (n < 0 && errno != EAGAIN))
		return false;
	up_set(u, c, zc_relay_pending(c->relay) ? EPOLLOUT : EPOLLIN);
	return true;
}

static bool up_push(struct upstream *u, struct up_conn *c)
{
	ssize_t n;

	(void)u;
	for (;;) {
		off_t off = (off_t)(c->off % SRC_SIZE);

		n = sendfile(c->fd, src_fd, &off, SRC_SIZE - (size_t)(c->off % SRC_SIZE));
		if (n <= 0)
			return n < 0 && errno == EAGAIN;
		c->off += (uint64_t)n;
	}
}

static bool up_first(struct upstream *u, struct up_conn *c)
{
	char m;
	ssize_t n = recv(c->fd, &m, 1, 0);

	if (n <= 0)
		return n < 0 && errno == EAGAIN;
	c->mode = m == 'S' ? UP_SINK : m == 'E' ? UP_ECHO : UP_PUSH;
	if (c->mode == UP_ECHO) {
		c->relay = zc_relay_new(0, 0);
		return c->relay && up_echo(u, c);
	}
	if (c->mode == UP_PUSH) {
		up_set(u, c, EPOLLOUT);
		return up_push(u, c);
	}
	return up_sink(u, c);
}

static void up_accept(struct upstream *u)
{
	struct epoll_event e = { .events = EPOLLIN };
	struct up_conn *c;
	int fd;

	while ((fd = accept4(u->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = calloc(1, sizeof(*c));
		if (!c)
			die("calloc");
		c->fd = fd;
		e.data.ptr = c;
		epoll_ctl(u->ep, EPOLL_CTL_ADD, fd, &e);
	}
}

static void *upstream_main(void *arg)
{
	struct upstream *u = arg;
	struct epoll_event ev[256];
	struct up_conn *c;
	bool ok;
	int i, n;

	for (;;) {
		n = epoll_wait(u->ep, ev, 256, -1);
		for (i = 0; i < n; i++) {
			c = ev[i].data.ptr;
			if (!c) {
				up_accept(u);
				continue;
			}
			if (c->mode == UP_NEW)
				ok = up_first(u, c);
			else if (c->mode == UP_SINK)
				ok = up_sink(u, c);
			else if (c->mode == UP_ECHO)
				ok = up_echo(u, c);
			else
				ok = up_push(u, c);
			if (!ok)
				up_close(c);
		}
	}
	return NULL;
}

static void upstream_start(void)
{
	static struct upstream u;
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	pthread_t t;

	u.lfd = listen_on(0);
	getsockname(u.lfd, (struct sockaddr *)&a, &alen);
	upstream_port = ntohs(a.sin_port);
	u.ep = epoll_create1(EPOLL_CLOEXEC);
	u.devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (u.ep < 0 || u.devnull < 0 || pipe2(u.pipe, O_CLOEXEC) < 0 ||
	    fcntl(u.pipe[1], F_SETPIPE_SZ, 1 << 20) < 0 ||
	    epoll_ctl(u.ep, EPOLL_CTL_ADD, u.lfd, &e) < 0 ||
	    pthread_create(&t, NULL, upstream_main, &u) != 0)
		die("upstream");
	pthread_detach(t);
}

/* Clients */

enum cl_state { CL_CONNECTING, CL_SENDING, CL_READING, CL_DRAINING, CL_DONE };

struct client {
	int fd;
	enum cl_state state;
	char mode;		/* S, E or P */
	uint64_t to_send;	/* bytes left to send in this message or stream */
	uint64_t to_read;	/* bytes left to read back */
	uint64_t off;		/* in the memfd */
	double next_read;	/* slow readers: when to read their next KiB */
	bool slow;
};

struct run {
	const struct workload *w;
	int ep;
	int port;
	struct client cl[MAX_CONNS + SLOW_READERS];
	unsigned int n;
	unsigned int active;	/* bulk: streams not finished */
	uint64_t bytes;		/* through the proxy, both directions */
	uint64_t done;		/* round trips or connections completed */
	uint64_t slow_bytes;
	bool stopping;
	bool failed;
};

static void cl_watch(struct run *r, struct client *c, int op, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (epoll_ctl(r->ep, op, c->fd, &e) < 0 && op != EPOLL_CTL_DEL)
		die("epoll_ctl");
}

static void cl_connect(struct run *r, struct client *c)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)r->port) };
	int one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = CL_CONNECTING;
	c->off = 0;
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS)
		die("connect");
	cl_watch(r, c, EPOLL_CTL_ADD, EPOLLOUT);
}

/* What a client sends next, after its mode byte. */
static void cl_begin(struct run *r, struct client *c)
{
	const struct workload *w = r->w;

	if (c->slow) {
		c->mode = 'P';
		c->to_send = 0;
	} else if (w->kind == BULK || w->kind == SLOW) {
		c->mode = 'S';
		c->to_send = opt_bulk / w->nconn;
	} else {
		c->mode = 'E';
		c->to_send = w->kind == MSG ? w->size : SMALL - 1;
	}
	c->to_read = c->mode == 'E' ? c->to_send : 0;
	if (send(c->fd, &c->mode, 1, MSG_NOSIGNAL) != 1)
		die("send mode");
	c->state = c->slow ? CL_READING : CL_SENDING;
	c->next_read = now() + 1;
}

static void cl_finish_stream(struct run *r, struct client *c)
{
	shutdown(c->fd, SHUT_WR);
	c->state = CL_DRAINING;
	cl_watch(r, c, EPOLL_CTL_MOD, EPOLLIN);
}

/* What one send or receive did: 1 bytes moved, 0 it would block, -1 it failed. */
static int cl_moved(struct run *r, struct client *c, ssize_t n)
{
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		r->failed = true;
		c->state = CL_DONE;
		return -1;
	}
	r->bytes += (uint64_t)n;
	return 1;
}

static void cl_send(struct run *r, struct client *c)
{
	ssize_t n;

	while (c->to_send) {
		off_t off = (off_t)(c->off % SRC_SIZE);
		size_t len = SRC_SIZE - (size_t)off;

		n = sendfile(c->fd, src_fd, &off, len < c->to_send ? len : c->to_send);
		if (cl_moved(r, c, n) <= 0)
			return;
		c->off += (uint64_t)n;
		c->to_send -= (uint64_t)n;
	}
	if (c->mode == 'S') {
		cl_finish_stream(r, c);
		return;
	}
	c->state = CL_READING;
	cl_watch(r, c, EPOLL_CTL_MOD, EPOLLIN);
}

static void cl_next(struct run *r, struct client *c);

static void cl_read(struct run *r, struct client *c)
{
	ssize_t n;

	while (c->to_read) {
		n = recv(c->fd, NULL, c->to_read, MSG_TRUNC | MSG_DONTWAIT);
		if (cl_moved(r, c, n) <= 0)
			return;
		c->to_read -= (uint64_t)n;
	}
	r->done++;
	cl_next(r, c);
}

/* A round trip is over: another one, a new connection, or stop. */
static void cl_next(struct run *r, struct client *c)
{
	if (r->w->kind == CONN || r->stopping) {
		cl_watch(r, c, EPOLL_CTL_DEL, 0);
		close(c->fd);
		c->state = CL_DONE;
		if (!r->stopping) {
			cl_connect(r, c);
			return;
		}
		r->active--;
		return;
	}
	c->to_send = c->to_read = r->w->size;
	c->state = CL_SENDING;
	cl_watch(r, c, EPOLL_CTL_MOD, EPOLLOUT);
	cl_send(r, c);
}

/* Bulk: the upstream closed after taking everything. */
static void cl_drain(struct run *r, struct client *c)
{
	char b[256];
	ssize_t n = recv(c->fd, b, sizeof(b), MSG_DONTWAIT);

	if (n < 0 && errno == EAGAIN)
		return;
	if (n != 0)
		r->failed = true;
	cl_watch(r, c, EPOLL_CTL_DEL, 0);
	close(c->fd);
	c->state = CL_DONE;
	r->active--;
}

static void cl_slow(struct run *r, struct client *c)
{
	ssize_t n;

	if (now() < c->next_read)
		return;
	n = recv(c->fd, NULL, 1024, MSG_TRUNC | MSG_DONTWAIT);
	if (n > 0)
		r->slow_bytes += (uint64_t)n;
	c->next_read += 1;
}

static void cl_event(struct run *r, struct client *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	switch (c->state) {
	case CL_CONNECTING:
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			r->failed = true;
			c->state = CL_DONE;
			return;
		}
		cl_begin(r, c);
		cl_watch(r, c, EPOLL_CTL_MOD, c->slow ? 0 : EPOLLOUT);
		if (!c->slow)
			cl_send(r, c);
		break;
	case CL_SENDING:
		cl_send(r, c);
		break;
	case CL_READING:
		cl_read(r, c);
		break;
	case CL_DRAINING:
		cl_drain(r, c);
		break;
	case CL_DONE:
		break;
	}
}

static uint64_t proxy_cpu_ticks(pid_t pid)
{
	unsigned long long ut, st, cut, cst;
	char path[64], buf[1024], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		die(path);
	fclose(f);
	/* After the command name, which may hold spaces: field 14 on is utime, stime, cutime, cstime. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
			 &ut, &st, &cut, &cst) != 4)
		die("stat");
	return ut + st + cut + cst;
}

static bool finished(const struct run *r, double t0)
{
	if (r->w->kind == BULK || r->w->kind == SLOW)
		return r->active == 0;
	return r->stopping && r->active == 0 && now() > t0;
}

static void run_workload(struct proxy *p, const struct workload *w, struct result *res)
{
	static struct run r;
	struct epoll_event ev[256];
	uint64_t cpu0, cpu1;
	unsigned int i, slow = w->kind == SLOW ? SLOW_READERS : 0;
	double t0, t1 = 0, deadline;
	int n;

	memset(&r, 0, sizeof(r));
	r.w = w;
	r.port = p->port;
	r.n = w->nconn;
	r.active = w->nconn;
	r.ep = epoll_create1(EPOLL_CLOEXEC);
	pthread_mutex_lock(&sunk_lock);
	sunk = 0;
	pthread_mutex_unlock(&sunk_lock);
	/* The slow readers first, so that their relays are full when the rest starts. */
	for (i = 0; i < slow; i++) {
		r.cl[w->nconn + i].slow = true;
		cl_connect(&r, &r.cl[w->nconn + i]);
	}
	if (slow) {
		for (t0 = now(); now() < t0 + 0.5;) {
			n = epoll_wait(r.ep, ev, 256, 50);
			for (i = 0; i < (unsigned int)(n > 0 ? n : 0); i++)
				cl_event(&r, ev[i].data.ptr);
		}
	}
	cpu0 = proxy_cpu_ticks(p->pid);
	t0 = now();
	deadline = t0 + opt_secs;
	for (i = 0; i < w->nconn; i++)
		cl_connect(&r, &r.cl[i]);
	while (!finished(&r, t0) && !r.failed) {
		n = epoll_wait(r.ep, ev, 256, 20);
		for (i = 0; i < (unsigned int)(n > 0 ? n : 0); i++)
			cl_event(&r, ev[i].data.ptr);
		for (i = 0; i < slow; i++)
			cl_slow(&r, &r.cl[w->nconn + i]);
		if ((w->kind == MSG || w->kind == CONN) && now() >= deadline && !r.stopping)
			r.stopping = true, t1 = now();
		if (now() > t0 + 300)
			r.failed = true;
	}
	if (w->kind == BULK || w->kind == SLOW)
		t1 = now();
	/* Children of a forking proxy are reaped a little later. */
	usleep(100000);
	cpu1 = proxy_cpu_ticks(p->pid);
	for (i = 0; i < w->nconn + slow; i++)
		if (r.cl[i].state != CL_DONE)
			close(r.cl[i].fd);
	close(r.ep);
	if ((w->kind == BULK || w->kind == SLOW) && !r.failed) {
		pthread_mutex_lock(&sunk_lock);
		r.failed = sunk != r.bytes;	/* the upstream must have had every byte */
		pthread_mutex_unlock(&sunk_lock);
	}
	res->ok = !r.failed;
	res->gbps = (double)r.bytes / (t1 - t0) / 1e9;
	res->cpu_per_gb = (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK) /
			  ((double)r.bytes / 1e9);
	/* Per connection, a few bytes each, the cost is per connection: in microseconds. */
	if (w->kind == CONN)
		res->cpu_per_gb = (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK) * 1e6 /
				  (double)(r.done ? r.done : 1);
	res->per_sec = (double)r.done / (t1 - t0);
	if (!res->ok)
		fprintf(stderr, "proxy-bench: %s %s failed\n", p->name, w->name);
}

/* Proxies */

static bool proxy_try_start(struct proxy *p)
{
	char cmd[2048], *o = cmd;
	const char *s;
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd, tries;

	p->port = free_port();
	for (s = p->cmd; *s && o < cmd + sizeof(cmd) - 16; s++) {
		if (s[0] == '%' && (s[1] == 'L' || s[1] == 'T')) {
			o += sprintf(o, "%d", s[1] == 'L' ? p->port : upstream_port);
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	fflush(NULL);
	p->pid = fork();
	if (p->pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)p->port);
	for (tries = 0; tries < 500; tries++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			/* A probe the upstream takes as a push: it ends at the close. */
			send(fd, "P", 1, MSG_NOSIGNAL);
			close(fd);
			usleep(50000);
			return true;
		}
		close(fd);
		if (waitpid(p->pid, NULL, WNOHANG) == p->pid)
			break;
		usleep(10000);
	}
	fprintf(stderr, "proxy-bench: %s did not listen: %s\n", p->name, cmd);
	return false;
}

/* The port may have been taken between the check and the proxy's bind: try others. */
static void proxy_start(struct proxy *p)
{
	int tries;

	for (tries = 0; tries < 3; tries++) {
		if (proxy_try_start(p))
			return;
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	exit(1);
}

static void proxy_stop(struct proxy *p)
{
	kill(p->pid, SIGTERM);
	waitpid(p->pid, NULL, 0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const struct proxy *p, size_t w, int field)
{
	double v[MAX_REPS];
	int i, n = 0;

	for (i = 0; i < opt_reps; i++) {
		const struct result *r = &p->res[w][i];

		if (r->ok)
			v[n++] = field == 0 ? r->gbps : field == 1 ? r->cpu_per_gb : r->per_sec;
	}
	if (!n)
		return -1;
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool selected(const struct workload *w)
{
	char list[512], *tok, *save;

	if (!opt_only)
		return true;
	snprintf(list, sizeof(list), "%s", opt_only);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strcmp(tok, w->name) == 0)
			return true;
	return false;
}

/* One cell with the given number of decimals, or "failed". */
static void print_cell(double v, int decimals)
{
	if (v < 0)
		printf(" failed |");
	else
		printf(" %.*f |", decimals, v);
}

static bool has_rate(const struct workload *w)
{
	return w->kind == MSG || w->kind == CONN;
}

/*
 * One table of one figure (0 GB/s, 1 CPU s/GB, 2 per second): a row per
 * workload, a column per proxy; with ref >= 0, as ratios to proxy ref.
 */
static void table(const struct proxy *px, int np, const char *title, int field, int decimals,
		  int ref)
{
	double v, r;
	size_t w;
	int i;

	printf("\n%s\n\n| workload |", title);
	for (i = 0; i < np; i++)
		printf(" %s |", px[i].name);
	printf("\n|---|");
	for (i = 0; i < np; i++)
		printf("--:|");
	printf("\n");
	for (w = 0; w < NWL; w++) {
		if (!selected(&workloads[w]) || (field == 2 && !has_rate(&workloads[w])))
			continue;
		printf("| %s |", workloads[w].name);
		for (i = 0; i < np; i++) {
			v = median(&px[i], w, field);
			r = ref >= 0 ? median(&px[ref], w, field) : 1;
			print_cell(v < 0 || r <= 0 ? -1 : v / r, ref >= 0 ? 2 : decimals);
		}
		printf("\n");
	}
}

static void report(const struct proxy *px, int np)
{
	int i, ref = -1;

	for (i = 0; i < np; i++)
		if (strcmp(px[i].name, "haproxy") == 0)
			ref = i;
	table(px, np, "GB/s through the proxy (both directions for msg and conn)", 0, 3, -1);
	table(px, np, "CPU seconds of the proxy process per GB (conn: microseconds per connection)",
	      1, 2, -1);
	table(px, np, "Round trips (msg) or connections (conn) per second", 2, 0, -1);
	if (ref < 0)
		return;
	table(px, np, "GB/s, times haproxy's", 0, 2, ref);
	table(px, np, "CPU per GB (conn: per connection), times haproxy's", 1, 2, ref);
	table(px, np, "Per second, times haproxy's", 2, 2, ref);
}

static void make_source(void)
{
	char *buf = malloc(SRC_SIZE);
	size_t i;

	src_fd = memfd_create("proxy-bench", MFD_CLOEXEC);
	if (!buf || src_fd < 0)
		die("memfd");
	for (i = 0; i < SRC_SIZE; i++)
		buf[i] = (char)(i * 2654435761u >> 24);
	if (write(src_fd, buf, SRC_SIZE) != SRC_SIZE)
		die("write");
	free(buf);
}

static void shuffle(int *order, int n)
{
	int i, j, t;

	for (i = n - 1; i > 0; i--) {
		j = rand() % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

int main(int argc, char **argv)
{
	static struct proxy px[MAX_PROXIES];
	int np = 0, i, rep, order[MAX_PROXIES];
	struct rlimit rl;
	size_t w;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			opt_reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--secs") == 0 && i + 1 < argc)
			opt_secs = atof(argv[++i]);
		else if (strcmp(argv[i], "--bulk-mib") == 0 && i + 1 < argc)
			opt_bulk = strtoull(argv[++i], NULL, 0) << 20;
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			opt_only = argv[++i];
		else if (strchr(argv[i], '=') && np < MAX_PROXIES)
			px[np].name = strndup(argv[i], (size_t)(strchr(argv[i], '=') - argv[i])),
			px[np++].cmd = strchr(argv[i], '=') + 1;
		else
			return fprintf(stderr, "usage: proxy-bench [--reps N] [--secs S] "
					       "[--bulk-mib M] [--only LIST] NAME=COMMAND...\n"), 2;
	}
	if (np == 0 || opt_reps < 1 || opt_reps > MAX_REPS)
		return fprintf(stderr, "proxy-bench: no proxy, or --reps not 1-%d\n", MAX_REPS), 2;
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	srand((unsigned int)time(NULL));
	make_source();
	upstream_start();
	for (i = 0; i < np; i++)
		order[i] = i;
	for (rep = 0; rep < opt_reps; rep++) {
		shuffle(order, np);
		for (i = 0; i < np; i++) {
			struct proxy *p = &px[order[i]];

			proxy_start(p);
			for (w = 0; w < NWL; w++) {
				if (!selected(&workloads[w]))
					continue;
				run_workload(p, &workloads[w], &p->res[w][rep]);
				fprintf(stderr, "rep %d %-10s %-11s %.3f GB/s %.2f CPU s/GB %.0f/s\n",
					rep + 1, p->name, workloads[w].name, p->res[w][rep].gbps,
					p->res[w][rep].cpu_per_gb, p->res[w][rep].per_sec);
			}
			proxy_stop(p);
		}
	}
	printf("Medians of %d repetitions; bulk: %llu MiB per run; msg and conn: %.1f s each.\n",
	       opt_reps, (unsigned long long)(opt_bulk >> 20), opt_secs);
	report(px, np);
	return 0;
}
