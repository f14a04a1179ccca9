// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-net.h"

/* Read one line, a byte at a time so nothing after it is taken from the pipe. */
static int read_line(int fd, char *line, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r = read(fd, line + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	return 0;
}

int t_server_start(struct t_server *s, char *const argv[])
{
	char line[128];
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	s->out = p[0];
	if (read_line(s->out, line, sizeof(line)) < 0 ||
	    sscanf(line, "listening on 127.0.0.1:%d", &s->port) != 1) {
		fprintf(stderr, "%s did not say where it listens\n", argv[0]);
		t_server_stop(s, line, sizeof(line));
		return -1;
	}
	return 0;
}

int t_server_stop(struct t_server *s, char *out, size_t size)
{
	size_t n = 0;
	ssize_t r;
	int status;

	kill(s->pid, SIGTERM);
	while (n + 1 < size && (r = read(s->out, out + n, size - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	out[n] = '\0';
	close(s->out);
	if (waitpid(s->pid, &status, 0) != s->pid)
		return -1;
	return status;
}

int t_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 30 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

bool t_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t r = send(fd, p, len, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		len -= (size_t)r;
	}
	return true;
}

bool t_recv_all(int fd, unsigned char **buf, size_t *len, unsigned int delay_us)
{
	size_t cap = 1 << 16, want;
	ssize_t r;

	*len = 0;
	*buf = malloc(cap);
	while (*buf) {
		if (*len == cap) {
			unsigned char *n = realloc(*buf, cap *= 2);

			if (!n)
				break;
			*buf = n;
		}
		want = cap - *len;
		if (delay_us && want > 4096)
			want = 4096;
		r = recv(fd, *buf + *len, want, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0)
			return true;
		*len += (size_t)r;
		if (delay_us)
			usleep(delay_us);
	}
	return false;
}
