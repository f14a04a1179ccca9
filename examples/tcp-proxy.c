// SPDX-License-Identifier: MIT
/*
 * tcp-proxy: accept TCP connections on 127.0.0.1 and relay each, in both
 * directions, to a server on 127.0.0.1:TARGET, socket to socket through
 * zc_transfer() (splice, by way of the library's pipe).
 *
 *   tcp-proxy [-p PORT] TARGET
 *
 * One poll() loop, non-blocking sockets. Each direction of a connection
 * waits for its source to be readable, then for its destination to be
 * writable, and only then moves a slice: bytes the library has taken from
 * a socket must be delivered before it returns, so offering it a
 * destination that has room keeps one slow peer from stalling the rest.
 * An EOF is passed on as shutdown(SHUT_WR), so half-closed protocols work;
 * an error on either side ends the connection. SIGINT or SIGTERM stop the
 * proxy, which prints what it relayed, by path, to standard error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zcopy.h>

#include "loopback.h"

/* Bytes moved per turn in one direction. */
#define SLICE (256u * 1024)

enum wait {
	WANT_IN,	/* for the source to have bytes (or EOF) */
	WANT_OUT,	/* for the destination to have room */
	DONE,		/* EOF passed on */
};

struct conn {
	int fd[2];		/* [0] client, [1] upstream */
	enum wait dir[2];	/* dir[k] moves fd[k] -> fd[1 - k] */
};

struct proxy {
	int listen_fd;
	struct sockaddr_in target;
	struct conn *conns;
	size_t nconns;
	size_t cap;
	uint64_t accepted;
	uint64_t path_bytes[PATHS_MAX];
};

static int connect_target(const struct proxy *p)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	/* Loopback answers at once, so a blocking connect costs the loop nothing. */
	if (connect(fd, (const struct sockaddr *)&p->target, sizeof(p->target)) < 0 ||
	    set_nonblock(fd) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void conn_close(struct proxy *p, size_t i)
{
	close(p->conns[i].fd[0]);
	close(p->conns[i].fd[1]);
	p->conns[i] = p->conns[--p->nconns];
}

static void accept_conns(struct proxy *p)
{
	int c, u;

	for (;;) {
		c = accept4(p->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0)
			return;
		if (p->nconns == p->cap) {
			size_t cap = p->cap ? p->cap * 2 : 16;
			struct conn *n = realloc(p->conns, cap * sizeof(*n));

			if (!n) {
				close(c);
				return;
			}
			p->conns = n;
			p->cap = cap;
		}
		u = connect_target(p);
		if (u < 0) {
			perror("tcp-proxy: connect");
			close(c);	/* the client sees its connection end */
			continue;
		}
		p->conns[p->nconns++] = (struct conn){ .fd = { c, u }, .dir = { WANT_IN, WANT_IN } };
		p->accepted++;
	}
}

/* Move one slice in direction k; false when the connection must end. */
static bool move(struct proxy *p, struct conn *c, int k)
{
	struct zc_stats st;
	ssize_t n = zc_transfer_ex(c->fd[k], c->fd[1 - k], SLICE, 0, &st);

	count_path(p->path_bytes, &st);
	if (n > 0) {
		c->dir[k] = WANT_IN;
		return st.error == 0 || st.error == EAGAIN || st.error == EINTR;
	}
	if (n == 0) {
		c->dir[k] = DONE;
		return shutdown(c->fd[1 - k], SHUT_WR) == 0;
	}
	c->dir[k] = WANT_IN;
	return errno == EAGAIN || errno == EINTR;
}

static bool writable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	return poll(&pfd, 1, 0) == 1;
}

/* fd[k] has an event: advance the directions it is the source or the destination of. */
static bool handle(struct proxy *p, struct conn *c, int k, short revents)
{
	if (c->dir[k] == WANT_IN && (revents & (POLLIN | POLLHUP | POLLERR))) {
		if (writable(c->fd[1 - k])) {
			if (!move(p, c, k))
				return false;
		} else {
			c->dir[k] = WANT_OUT;
		}
	}
	if (c->dir[1 - k] == WANT_OUT && (revents & (POLLOUT | POLLHUP | POLLERR)))
		return move(p, c, 1 - k);
	return true;
}

static short wanted(const struct conn *c, int k)
{
	return (short)((c->dir[k] == WANT_IN ? POLLIN : 0) |
		       (c->dir[1 - k] == WANT_OUT ? POLLOUT : 0));
}

static void fill(const struct proxy *p, struct pollfd *pfd)
{
	size_t i;
	int k;

	pfd[0] = (struct pollfd){ .fd = p->listen_fd, .events = POLLIN };
	for (i = 0; i < p->nconns; i++) {
		for (k = 0; k < 2; k++) {
			short ev = wanted(&p->conns[i], k);

			/*
			 * An fd nothing waits on is left out (-1): its POLLHUP or
			 * POLLERR would wake the loop forever. The direction that
			 * writes to it meets the error in time.
			 */
			pfd[1 + 2 * i + k] = (struct pollfd){ .fd = ev ? p->conns[i].fd[k] : -1,
							      .events = ev };
		}
	}
}

static int loop(struct proxy *p)
{
	struct pollfd *pfd = NULL;
	struct conn *c;
	size_t i, n;
	bool ok;
	int k;

	while (!stop_requested()) {
		struct pollfd *np = realloc(pfd, (2 * p->nconns + 1) * sizeof(*pfd));

		if (!np)
			break;
		pfd = np;
		fill(p, pfd);
		n = p->nconns;
		if (poll(pfd, 2 * n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("tcp-proxy: poll");
			break;
		}
		/* Backwards, so that closing (which moves the last conn into i) is safe. */
		for (i = n; i-- > 0;) {
			c = &p->conns[i];
			ok = true;
			for (k = 0; k < 2 && ok; k++)
				if (pfd[1 + 2 * i + k].revents)
					ok = handle(p, c, k, pfd[1 + 2 * i + k].revents);
			if (!ok || (c->dir[0] == DONE && c->dir[1] == DONE))
				conn_close(p, i);
		}
		if (pfd[0].revents)
			accept_conns(p);
	}
	free(pfd);
	return stop_requested() ? 0 : 1;
}

static void print_summary(const struct proxy *p)
{
	fprintf(stderr, "tcp-proxy: %" PRIu64 " connections", p->accepted);
	print_paths(p->path_bytes);
}

static int usage(void)
{
	fprintf(stderr, "usage: tcp-proxy [-p PORT] TARGET-PORT\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct proxy p = { .target = { .sin_family = AF_INET } };
	const char *port = "0";
	int opt, status, target;

	while ((opt = getopt(argc, argv, "p:")) != -1) {
		if (opt != 'p')
			return usage();
		port = optarg;
	}
	if (argc - optind != 1)
		return usage();
	target = parse_port(argv[optind]);
	if (target <= 0)
		return usage();
	p.target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p.target.sin_port = htons((uint16_t)target);
	catch_stop_signals();
	p.listen_fd = listen_loopback("tcp-proxy", port);
	if (p.listen_fd < 0)
		return 1;
	status = loop(&p);
	while (p.nconns)
		conn_close(&p, p.nconns - 1);
	free(p.conns);
	close(p.listen_fd);
	print_summary(&p);
	return status;
}
