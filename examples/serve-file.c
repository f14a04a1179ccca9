// SPDX-License-Identifier: MIT
/*
 * serve-file FILE [PORT]: load FILE as a read-only region (the page cache's
 * own pages, no copy) and send it to a socket with zc_region_transfer.
 *
 * With PORT, serve every client that connects to 127.0.0.1:PORT. Without,
 * send it once to a child over a UNIX socket pair, which checks every byte
 * against the file: the self-test the build runs.
 *
 * If FILE is truncated while loaded, sending simply ends early: the library
 * reads it through its fd. This program's own check in the child reads the
 * mapping and would get SIGBUS past the new end; a server that must read
 * the bytes itself should load with ZC_REGION_COPY instead.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zcopy.h>

static int send_region(const struct zc_region *r, int sock)
{
	struct zc_stats st;
	uint64_t off = 0;
	ssize_t n;

	while (off < r->size) {
		n = zc_region_transfer(r, off, (size_t)(r->size - off), sock, NULL, 0, &st);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return perror("zc_region_transfer"), -1;
		off += (uint64_t)n;
	}
	fprintf(stderr, "serve-file: %llu bytes by %s\n", (unsigned long long)off,
		zc_path_name(st.path));
	return 0;
}

/* The child's side of the self-test: everything arrives, byte for byte. */
static int check_received(const struct zc_region *r, int sock)
{
	char buf[65536];
	uint64_t got = 0;
	ssize_t n;

	while ((n = read(sock, buf, sizeof(buf))) > 0) {
		if (got + (uint64_t)n > r->size ||
		    memcmp(buf, (const char *)r->addr + got, (size_t)n) != 0)
			return 1;
		got += (uint64_t)n;
	}
	return n == 0 && got == r->size ? 0 : 1;
}

static int self_test(const struct zc_region *r)
{
	int sv[2], status, rc;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return perror("socketpair"), 1;
	pid = fork();
	if (pid < 0)
		return perror("fork"), 1;
	if (pid == 0) {
		close(sv[0]);
		_exit(check_received(r, sv[1]));
	}
	close(sv[1]);
	rc = send_region(r, sv[0]) < 0;
	close(sv[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		rc = 1;
	fprintf(stderr, "serve-file: self-test %s\n", rc ? "FAILED" : "passed");
	return rc;
}

static int serve(const struct zc_region *r, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c, one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 16) < 0)
		return perror("listen"), 1;
	for (;;) {
		c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			return perror("accept"), 1;
		}
		send_region(r, c);
		close(c);
	}
}

int main(int argc, char **argv)
{
	struct zc_region r;
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: serve-file FILE [PORT]\n");
		return 2;
	}
	if (zc_region_load(&r, argv[1], 0) < 0)
		return perror(argv[1]), 1;
	rc = argc == 3 ? serve(&r, atoi(argv[2])) : self_test(&r);
	zc_region_close(&r);
	return rc;
}
