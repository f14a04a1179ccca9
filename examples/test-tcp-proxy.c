// SPDX-License-Identifier: MIT
/*
 * tcp-proxy between test clients and a test upstream, on loopback: known
 * byte streams go both ways at once over many connections, one of them
 * read slowly, and arrive whole; an upstream that hangs up ends only its
 * own connection; the proxy stops cleanly and says splice moved the bytes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "../tests/helpers.h"
#include "test-net.h"

#define NCONN 8

static const char *proxy_path;
static struct t_server proxy;
static int upstream = -1;
static unsigned int expect_conns;

/* One end of a relayed connection: a thread sends, another receives. */
struct side {
	int fd;
	const unsigned char *out;
	size_t out_len;
	unsigned int delay_us;
	pthread_t sender, receiver;
	bool sent, received;
	unsigned char *in;
	size_t in_len;
};

static void *sender(void *arg)
{
	struct side *s = arg;

	s->sent = t_send_all(s->fd, s->out, s->out_len) && shutdown(s->fd, SHUT_WR) == 0;
	return NULL;
}

static void *receiver(void *arg)
{
	struct side *s = arg;

	s->received = t_recv_all(s->fd, &s->in, &s->in_len, s->delay_us);
	return NULL;
}

/* A client connected through the proxy, and the upstream end it reached. */
static void open_pair(int *client, int *server)
{
	*client = t_connect(proxy.port);
	assert_true(*client >= 0);
	*server = accept4(upstream, NULL, NULL, SOCK_CLOEXEC);
	assert_true(*server >= 0);
	expect_conns++;
}

static int start(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 30 };
	socklen_t alen = sizeof(a);
	char port[16];
	char *argv[] = { (char *)proxy_path, "-p", "0", port, NULL };

	(void)state;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (upstream < 0 || bind(upstream, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(upstream, NCONN) < 0 || getsockname(upstream, (struct sockaddr *)&a, &alen) < 0 ||
	    setsockopt(upstream, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	snprintf(port, sizeof(port), "%u", ntohs(a.sin_port));
	return t_server_start(&proxy, argv);
}

static int cleanup(void **state)
{
	(void)state;
	if (proxy.pid > 0)
		kill(proxy.pid, SIGKILL);
	return close(upstream);
}

static void test_both_ways(void **state)
{
	static struct side client[NCONN], server[NCONN];
	unsigned char *up[NCONN], *down[NCONN];
	int i;

	(void)state;
	for (i = 0; i < NCONN; i++) {
		open_pair(&client[i].fd, &server[i].fd);
		client[i].out_len = (2u << 20) + (size_t)i * 4099;
		server[i].out_len = (3u << 20) - (size_t)i * 4093;
		up[i] = t_pattern(client[i].out_len, 100 + (uint32_t)i);
		down[i] = t_pattern(server[i].out_len, 200 + (uint32_t)i);
		client[i].out = up[i];
		server[i].out = down[i];
		/* One slow reader on each side: the proxy must wait, not drop or stall. */
		client[i].delay_us = i == 1 ? 500 : 0;
		server[i].delay_us = i == 2 ? 500 : 0;
	}
	for (i = 0; i < NCONN; i++) {
		assert_int_equal(pthread_create(&client[i].receiver, NULL, receiver, &client[i]), 0);
		assert_int_equal(pthread_create(&server[i].receiver, NULL, receiver, &server[i]), 0);
		assert_int_equal(pthread_create(&client[i].sender, NULL, sender, &client[i]), 0);
		assert_int_equal(pthread_create(&server[i].sender, NULL, sender, &server[i]), 0);
	}
	for (i = 0; i < NCONN; i++) {
		pthread_join(client[i].sender, NULL);
		pthread_join(server[i].sender, NULL);
		pthread_join(client[i].receiver, NULL);
		pthread_join(server[i].receiver, NULL);
	}
	for (i = 0; i < NCONN; i++) {
		assert_true(client[i].sent && server[i].sent);
		assert_true(client[i].received && server[i].received);
		t_assert_bytes(server[i].in, server[i].in_len, up[i], client[i].out_len);
		t_assert_bytes(client[i].in, client[i].in_len, down[i], server[i].out_len);
		free(client[i].in);
		free(server[i].in);
		free(up[i]);
		free(down[i]);
		close(client[i].fd);
		close(server[i].fd);
	}
}

/* An upstream that hangs up ends that connection only; the next one works. */
/* An upstream that hangs up ends that connection only; the next one works. */
static void test_upstream_hangs_up(void **state)
{
	unsigned char *data = t_pattern(1u << 20, 9), *got = NULL, byte;
	size_t len;
	ssize_t r;
	int c, s;

	open_pair(&c, &s);
	close(s);
	/* The proxy passes the EOF on... */
	assert_true(t_recv_all(c, &got, &len, 0));
	assert_int_equal(len, 0);
	free(got);
	/* ...then the client's bytes meet the closed upstream, and the proxy lets go. */
	t_send_all(c, data, 1u << 20);
	shutdown(c, SHUT_WR);
	r = recv(c, &byte, 1, 0);
	assert_true(r == 0 || (r < 0 && errno == ECONNRESET));
	close(c);
	free(data);
	test_both_ways(state);
}

static void test_stop(void **state)
{
	char out[512], want[128];
	int status;

	(void)state;
	status = t_server_stop(&proxy, out, sizeof(out));
	proxy.pid = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	snprintf(want, sizeof(want), "tcp-proxy: %u connections, ", expect_conns);
	assert_non_null(strstr(out, want));
	/* Socket to socket: splice only. */
	assert_non_null(strstr(out, " bytes by splice\n"));
	assert_null(strstr(out, "by read_write"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_ways),
		cmocka_unit_test(test_upstream_hangs_up),
		cmocka_unit_test(test_stop),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s TCP-PROXY\n", argv[0]);
		return 2;
	}
	proxy_path = argv[1];
	return cmocka_run_group_tests(tests, start, cleanup);
}
