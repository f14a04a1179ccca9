// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback.h"

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

void catch_stop_signals(void)
{
	/* No SA_RESTART: the signal must wake the poll() that waits for work. */
	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool stop_requested(void)
{
	return stopping;
}

int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int parse_port(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < 0 || v > 65535)
		return -1;
	return (int)v;
}

int listen_loopback(const char *prog, const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int one = 1, p = parse_port(port), fd;

	if (p < 0) {
		fprintf(stderr, "%s: bad port: %s\n", prog, port);
		return -1;
	}
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)p);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		fprintf(stderr, "%s: 127.0.0.1:%s: %m\n", prog, port);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	printf("listening on 127.0.0.1:%u\n", ntohs(a.sin_port));
	fflush(stdout);
	return fd;
}

void count_path(uint64_t bytes[PATHS_MAX], const struct zc_stats *st)
{
	/* A call that took more than one path counts for the last. */
	if (st->path < PATHS_MAX)
		bytes[st->path] += st->bytes;
}

void print_paths(const uint64_t bytes[PATHS_MAX])
{
	unsigned int p;

	for (p = 0; p < PATHS_MAX; p++)
		if (bytes[p])
			fprintf(stderr, ", %" PRIu64 " bytes by %s", bytes[p], zc_path_name(p));
	fputc('\n', stderr);
}
