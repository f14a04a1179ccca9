// SPDX-License-Identifier: MIT
/*
 * tcp-proxy: accept TCP connections on 127.0.0.1 and relay each, in both
 * directions, to a server on 127.0.0.1:TARGET, socket to socket by splice.
 *
 *   tcp-proxy [-p PORT] [-m relay|rw|transfer] [-P PIPE-SIZE] TARGET
 *
 * One thread, one epoll set, level-triggered, every socket non-blocking,
 * and one zc_relay per direction of each connection: bytes a relay took
 * from one side that the other cannot take yet wait in the relay, and that
 * direction waits for its destination to be writable instead of its source
 * to be readable. No call waits, so a peer that never reads holds only its
 * own connection (and one pipe) while the others run.
 *
 * What a proxy must do at the edges:
 *   - end of input in one direction becomes shutdown(SHUT_WR) on the other
 *     side once every byte before it is delivered; the other direction goes
 *     on (half-close), and the connection ends when both have;
 *   - an error on either side (a reset, a write to a side that is gone)
 *     loses bytes in flight, so both sides are closed with a reset
 *     (SO_LINGER 0), never with a clean end that would look complete;
 *   - the upstream connect is non-blocking; when it fails, the client is
 *     reset;
 *   - at the fd limit, accept() would keep the listening socket readable
 *     forever: a spare fd is given up to accept and drop the connection;
 *   - idle connections cost their two sockets and two small relays: a
 *     relay holds a pipe only while bytes wait in it.
 *
 * Relays get 1 MiB pipes (-P; 0 for the kernel's 64 KiB): a relay holds one
 * only while bytes wait in it, and 64 KiB pipes took 1.2 to 1.8 times the
 * CPU per GB on loopback streams (tests/bench/results/2026-11-29-relay/).
 * Past the user's pipe allowance the kernel gives smaller pipes, which still
 * work. Both sockets have TCP_NODELAY: with Nagle on, 1 MiB request-response
 * exchanges ran 5x slower, the tail of each waiting for an ACK.
 *
 * -m rw runs the same loop with relays on read/write (ZC_NO_SPLICE); -m
 * transfer calls zc_transfer() for a slice only once the destination is
 * writable, the way this proxy worked before relays existed. Both are there
 * to be measured against (tests/bench/proxy.sh). SIGINT or SIGTERM stop the
 * proxy, which prints what it relayed, by path, to standard error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zcopy.h>

#include "loopback.h"

/* Bytes one direction moves per wakeup, so that one busy connection cannot starve the rest. */
#define SLICE (256u * 1024)
#define PIPE_SIZE (1024u * 1024)
#define EVENTS 256

enum mode { M_RELAY, M_RW, M_TRANSFER };

struct conn;

/* What an epoll event points to: one socket of a connection. */
struct side {
	struct conn *c;
	int k;			/* 0 client, 1 upstream */
};

struct conn {
	int fd[2];			/* [0] client, [1] upstream */
	struct zc_relay *relay[2];	/* relay[k] moves fd[k] -> fd[1 - k] */
	bool done[2];			/* direction k passed its end of input on */
	bool want_out[2];		/* -m transfer: direction k waits for room */
	bool connecting;
	bool dead;
	uint32_t ev[2];			/* events registered for fd[k]; 0: not in the set */
	struct side side[2];
	struct conn *prev, *next;	/* the live ones, to close at exit */
	struct conn *next_dead;
};

struct proxy {
	int ep;
	int listen_fd;
	int spare_fd;		/* given up at the fd limit to drop a connection */
	enum mode mode;
	uint32_t pipe_size;
	struct sockaddr_in target;
	struct conn *live;
	struct conn *dead;	/* closed during this batch of events, freed after it */
	uint64_t accepted;
	uint64_t refused;	/* upstream connect failed */
	uint64_t aborted;	/* ended by an error */
	uint64_t path_bytes[PATHS_MAX];
};

static bool waits_out(const struct proxy *p, const struct conn *c, int k)
{
	if (c->done[k])
		return false;
	return p->mode == M_TRANSFER ? c->want_out[k] : zc_relay_pending(c->relay[k]) > 0;
}

/* fd[k] is the source of direction k and the destination of direction 1 - k. */
static uint32_t wanted(const struct proxy *p, const struct conn *c, int k)
{
	uint32_t ev = 0;

	if (c->connecting)
		return k == 1 ? EPOLLOUT : 0;
	if (!c->done[k] && !waits_out(p, c, k))
		ev |= EPOLLIN;
	if (waits_out(p, c, 1 - k))
		ev |= EPOLLOUT;
	return ev;
}

/*
 * An fd nobody waits on leaves the set: epoll reports EPOLLHUP and EPOLLERR
 * whatever the mask, and would wake the loop for them forever. The
 * direction that uses that fd next meets the error in time.
 */
static void sync_events(struct proxy *p, struct conn *c)
{
	struct epoll_event e;
	uint32_t ev;
	int k, op;

	for (k = 0; k < 2; k++) {
		ev = wanted(p, c, k);
		if (ev == c->ev[k])
			continue;
		op = !ev ? EPOLL_CTL_DEL : c->ev[k] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
		e = (struct epoll_event){ .events = ev, .data.ptr = &c->side[k] };
		if (epoll_ctl(p->ep, op, c->fd[k], &e) == 0)
			c->ev[k] = ev;
	}
}

/* A reset tells the peer that bytes were lost; a plain close would look like a clean end. */
static void reset_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void conn_close(struct proxy *p, struct conn *c, bool reset)
{
	int k;

	if (c->dead)
		return;
	c->dead = true;
	p->aborted += reset;
	for (k = 0; k < 2; k++) {
		if (c->fd[k] < 0)
			continue;
		if (reset)
			reset_close(c->fd[k]);
		else
			close(c->fd[k]);	/* leaves the epoll set with it */
		zc_relay_free(c->relay[k]);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		p->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next_dead = p->dead;
	p->dead = c;
}

static bool writable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	return poll(&pfd, 1, 0) == 1;
}

static ssize_t move_transfer(struct conn *c, int k, struct zc_stats *st)
{
	if (!writable(c->fd[1 - k])) {
		c->want_out[k] = true;
		errno = EAGAIN;
		return -1;
	}
	c->want_out[k] = false;
	return zc_transfer_ex(c->fd[k], c->fd[1 - k], SLICE, ZC_NO_SIGPIPE_GUARD, st);
}

/* Move direction k as far as it goes now; false when the connection ended. */
static bool step(struct proxy *p, struct conn *c, int k)
{
	struct zc_stats st = { .bytes = 0 };
	ssize_t n;

	if (p->mode == M_TRANSFER)
		n = move_transfer(c, k, &st);
	else
		n = zc_relay_move(c->relay[k], c->fd[k], c->fd[1 - k], SLICE,
				  ZC_NO_SIGPIPE_GUARD, &st);
	count_path(p->path_bytes, &st);
	if (n > 0 && st.error != 0 && st.error != EAGAIN)
		n = -1, errno = st.error;
	if (n < 0 && errno != EAGAIN) {
		conn_close(p, c, true);
		return false;
	}
	if (n == 0) {
		c->done[k] = true;
		shutdown(c->fd[1 - k], SHUT_WR);
		if (c->done[1 - k]) {
			conn_close(p, c, false);
			return false;
		}
	}
	return true;
}

static void connected(struct proxy *p, struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == EINPROGRESS)
		return;
	if (err) {
		p->refused++;
		conn_close(p, c, true);
		return;
	}
	c->connecting = false;
}

static void handle(struct proxy *p, struct side *s, uint32_t rev)
{
	struct conn *c = s->c;
	int k = s->k;
	bool err = rev & (EPOLLERR | EPOLLHUP);

	if (c->dead)
		return;
	if (c->connecting) {
		connected(p, c);
		if (!c->dead)
			sync_events(p, c);
		return;
	}
	if ((c->ev[k] & EPOLLIN) && (rev & EPOLLIN || err) && !step(p, c, k))
		return;
	if ((c->ev[k] & EPOLLOUT) && (rev & EPOLLOUT || err) && !step(p, c, 1 - k))
		return;
	sync_events(p, c);
}

static int connect_target(const struct proxy *p, bool *pending)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	*pending = false;
	if (connect(fd, (const struct sockaddr *)&p->target, sizeof(p->target)) == 0)
		return fd;
	if (errno == EINPROGRESS) {
		*pending = true;
		return fd;
	}
	close(fd);
	return -1;
}

/*
 * Bytes leave as soon as they come: Nagle would hold the tail of each
 * message the peer sent until the next ACK, a delay the peer never asked for.
 */
static void no_delay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void open_conn(struct proxy *p, int client)
{
	struct conn *c = calloc(1, sizeof(*c));
	unsigned int flags = p->mode == M_RW ? ZC_NO_SPLICE : 0;
	bool pending = false;
	int k, up;

	up = c ? connect_target(p, &pending) : -1;
	if (up < 0) {
		p->refused += c != NULL;
		reset_close(client);
		free(c);
		return;
	}
	no_delay(client);
	no_delay(up);
	*c = (struct conn){ .fd = { client, up }, .connecting = pending, .next = p->live };
	if (p->live)
		p->live->prev = c;
	p->live = c;
	for (k = 0; k < 2; k++) {
		c->side[k] = (struct side){ c, k };
		c->relay[k] = p->mode == M_TRANSFER ? NULL : zc_relay_new(p->pipe_size, flags);
		if (p->mode != M_TRANSFER && !c->relay[k]) {
			conn_close(p, c, true);
			return;
		}
	}
	p->accepted++;
	sync_events(p, c);
}

/* At the fd limit: take the connection with the spare fd, and drop it. */
static void shed(struct proxy *p)
{
	int fd;

	if (p->spare_fd < 0)
		return;
	close(p->spare_fd);
	fd = accept(p->listen_fd, NULL, NULL);
	if (fd >= 0)
		reset_close(fd);
	p->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void accept_conns(struct proxy *p)
{
	int fd;

	for (;;) {
		fd = accept4(p->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			open_conn(p, fd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE)
			shed(p);
		else if (errno != EINTR && errno != ECONNABORTED)
			return;
	}
}

static void free_dead(struct proxy *p)
{
	struct conn *c;

	while ((c = p->dead)) {
		p->dead = c->next_dead;
		free(c);
	}
}

static int loop(struct proxy *p)
{
	struct epoll_event ev[EVENTS];
	int i, n;

	while (!stop_requested()) {
		n = epoll_wait(p->ep, ev, EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("tcp-proxy: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL)
				accept_conns(p);
			else
				handle(p, ev[i].data.ptr, ev[i].events);
		}
		free_dead(p);
	}
	return 0;
}

/* Thousands of connections need two fds each: take all the fds allowed. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void print_summary(const struct proxy *p)
{
	fprintf(stderr, "tcp-proxy: %" PRIu64 " connections, %" PRIu64 " refused, %" PRIu64
		" reset", p->accepted, p->refused, p->aborted);
	print_paths(p->path_bytes);
}

static int usage(void)
{
	fprintf(stderr, "usage: tcp-proxy [-p PORT] [-m relay|rw|transfer] [-P PIPE-SIZE] "
			"TARGET-PORT\n");
	return 2;
}

static int parse_args(struct proxy *p, int argc, char **argv, const char **port)
{
	int opt, target;

	while ((opt = getopt(argc, argv, "p:m:P:")) != -1) {
		if (opt == 'p')
			*port = optarg;
		else if (opt == 'P')
			p->pipe_size = (uint32_t)strtoul(optarg, NULL, 0);
		else if (opt == 'm' && strcmp(optarg, "relay") == 0)
			p->mode = M_RELAY;
		else if (opt == 'm' && strcmp(optarg, "rw") == 0)
			p->mode = M_RW;
		else if (opt == 'm' && strcmp(optarg, "transfer") == 0)
			p->mode = M_TRANSFER;
		else
			return -1;
	}
	if (argc - optind != 1)
		return -1;
	target = parse_port(argv[optind]);
	if (target <= 0)
		return -1;
	p->target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->target.sin_port = htons((uint16_t)target);
	return 0;
}

int main(int argc, char **argv)
{
	struct proxy p = { .target = { .sin_family = AF_INET }, .pipe_size = PIPE_SIZE };
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };
	const char *port = "0";
	int status;

	if (parse_args(&p, argc, argv, &port) < 0)
		return usage();
	/* A peer gone mid-write is an error to handle, not a signal to die of. */
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	catch_stop_signals();
	p.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	p.listen_fd = listen_loopback("tcp-proxy", port);
	p.ep = epoll_create1(EPOLL_CLOEXEC);
	if (p.listen_fd < 0 || p.ep < 0 || epoll_ctl(p.ep, EPOLL_CTL_ADD, p.listen_fd, &e) < 0)
		return 1;
	status = loop(&p);
	while (p.live)
		conn_close(&p, p.live, true);
	free_dead(&p);
	close(p.ep);
	close(p.listen_fd);
	if (p.spare_fd >= 0)
		close(p.spare_fd);
	print_summary(&p);
	return status;
}
