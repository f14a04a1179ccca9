// SPDX-License-Identifier: MIT
/*
 * tcp-proxy between test clients and a test upstream, on loopback: known
 * byte streams go both ways at once over many connections, one of them
 * read slowly, and arrive whole; an upstream that hangs up ends only its
 * own connection; half-closes pass through in each direction; a reset on
 * one side resets the other; a refused upstream resets the client; a
 * thousand idle connections hold no pipe; a client that never reads and
 * eight that read 1 KiB/s do not hold up the others, whose every byte is
 * checked; the proxy stops cleanly and says splice moved the bytes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "../tests/helpers.h"
#include "test-net.h"

#define NCONN 8

static const char *proxy_path;
static char *proxy_mode = "relay";	/* -m: relay, rw or transfer */
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
	char *argv[] = { (char *)proxy_path, "-m", proxy_mode, "-p", "0", port, NULL };

	(void)state;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (upstream < 0 || bind(upstream, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(upstream, SOMAXCONN) < 0 || getsockname(upstream, (struct sockaddr *)&a, &alen) < 0 ||
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

/* NCONN connections, MiB each way (about), all at once; every byte checked. */
static void both_ways(size_t mib)
{
	static struct side client[NCONN], server[NCONN];
	unsigned char *up[NCONN], *down[NCONN];
	int i;

	for (i = 0; i < NCONN; i++) {
		open_pair(&client[i].fd, &server[i].fd);
		client[i].out_len = (mib << 20) + (size_t)i * 4099;
		server[i].out_len = ((mib + 1) << 20) - (size_t)i * 4093;
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

static void test_both_ways(void **state)
{
	(void)state;
	both_ways(2);
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


/* Everything until EOF; false if the stream ended otherwise. */
static bool recv_to_eof(int fd, unsigned char **buf, size_t *len)
{
	return t_recv_all(fd, buf, len, 0);
}

/* One side ends its stream; the other keeps sending, and both arrive whole. */
static void half_close(bool client_first)
{
	unsigned char *a = t_pattern(100003, 31), *b = t_pattern(300007, 32), *got;
	int c, s, first, second;
	size_t len;

	open_pair(&c, &s);
	first = client_first ? c : s;
	second = client_first ? s : c;
	assert_true(t_send_all(first, a, 100003));
	assert_int_equal(shutdown(first, SHUT_WR), 0);
	assert_true(recv_to_eof(second, &got, &len));
	t_assert_bytes(got, len, a, 100003);
	free(got);
	/* The direction still open goes on after the other ended. */
	assert_true(t_send_all(second, b, 300007));
	assert_int_equal(shutdown(second, SHUT_WR), 0);
	assert_true(recv_to_eof(first, &got, &len));
	t_assert_bytes(got, len, b, 300007);
	free(got);
	close(c);
	close(s);
	free(a);
	free(b);
}

static void test_half_close(void **state)
{
	(void)state;
	half_close(true);
	half_close(false);
}

static void reset_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(fd);
}

/* Read until the stream ends; the errno it ended with, 0 for a clean end. */
static int recv_end(int fd)
{
	char buf[65536];
	ssize_t r;

	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
		;
	return r == 0 ? 0 : errno;
}

/* A reset on either side is a reset on the other, not a clean end. */
static void test_reset(void **state)
{
	unsigned char *data = t_pattern(65536, 33), *got = malloc(65536);
	size_t n = 0;
	ssize_t r;
	int c, s, k;

	(void)state;
	for (k = 0; k < 2; k++) {
		open_pair(&c, &s);
		/* Bytes went through, so the relay is running when the reset comes. */
		assert_true(t_send_all(k ? s : c, data, 65536));
		for (n = 0; n < 65536; n += (size_t)r) {
			r = recv(k ? c : s, got + n, 65536 - n, 0);
			assert_true(r > 0);
		}
		reset_close(k ? s : c);
		assert_int_equal(recv_end(k ? c : s), ECONNRESET);
		close(k ? c : s);
	}
	free(data);
	free(got);
}

/*
 * A port that refuses connections: bound, so that no other test's socket
 * can take it meanwhile, and never listened on. *fd keeps it; close it after.
 */
static int closed_port(int *fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(*fd, (struct sockaddr *)&a, &alen), 0);
	return ntohs(a.sin_port);
}

/* An upstream that refuses the connection: the client is reset, the proxy goes on. */
static void test_connect_refused(void **state)
{
	struct t_server other;
	char port[16], out[512];
	char *argv[] = { (char *)proxy_path, "-m", proxy_mode, "-p", "0", port, NULL };
	int c, i, status, held;

	(void)state;
	snprintf(port, sizeof(port), "%d", closed_port(&held));
	assert_int_equal(t_server_start(&other, argv), 0);
	for (i = 0; i < 3; i++) {
		c = t_connect(other.port);
		assert_true(c >= 0);
		assert_int_equal(recv_end(c), ECONNRESET);
		close(c);
	}
	status = t_server_stop(&other, out, sizeof(out));
	close(held);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!strstr(out, "3 connections, 3 refused"))
		fail_msg("the proxy said: %s", out);
}

static int proxy_fds(void)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)proxy.pid);
	dir = opendir(path);
	assert_non_null(dir);
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The proxy has closed what it should, within a few seconds. */
static void wait_proxy_fds(int at_most)
{
	double end = now() + 10;

	while (proxy_fds() > at_most && now() < end)
		usleep(10000);
	assert_true(proxy_fds() <= at_most);
}

/* Send into fd until it takes no more for a while: the proxy holds what it can. */
static size_t stuff(int fd, const unsigned char *data, size_t len)
{
	size_t done = 0;
	int idle = 0;
	ssize_t r;

	while (done < len && idle < 20) {
		r = send(fd, data + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r > 0) {
			done += (size_t)r;
			idle = 0;
		} else {
			idle++;
			usleep(5000);
		}
	}
	return done;
}

#define IDLE 1000

/*
 * A thousand idle connections and one whose client never reads: the idle
 * ones hold no pipe, the stuck one holds one, and traffic on other
 * connections runs meanwhile and arrives whole.
 */
static void test_idle_and_stuck(void **state)
{
	static int ic[IDLE], is[IDLE];
	unsigned char *data = t_pattern(32u << 20, 34);
	int base, sc, ss, i;
	size_t sent;

	(void)state;
	t_need_fds(2 * IDLE + 256);
	base = proxy_fds();
	for (i = 0; i < IDLE; i++)
		open_pair(&ic[i], &is[i]);
	open_pair(&sc, &ss);
	sent = stuff(ss, data, 32u << 20);
	assert_true(sent > (1u << 20));
	/* Two sockets per connection; one pipe, the stuck relay's; maybe one pooled. */
	assert_true(proxy_fds() <= base + 2 * (IDLE + 1) + 4);
	both_ways(2);
	for (i = 0; i < IDLE; i++) {
		close(ic[i]);
		close(is[i]);
	}
	/* The stuck client gets what it was sent, in order, once it reads. */
	{
		unsigned char *got;
		size_t len;

		assert_int_equal(shutdown(ss, SHUT_WR), 0);
		assert_true(recv_to_eof(sc, &got, &len));
		t_assert_bytes(got, len, data, sent);
		free(got);
	}
	close(sc);
	close(ss);
	wait_proxy_fds(base + 2);
	free(data);
}

#define SLOW 8

struct slow {
	int c, s;
	const unsigned char *data;
	size_t len;
	size_t got;
	bool ok;
	volatile bool stop;
	pthread_t reader, sender;
};

/* The upstream sends without end (until its connection goes). */
static void *slow_sender(void *arg)
{
	struct slow *sl = arg;

	t_send_all(sl->s, sl->data, sl->len);
	return NULL;
}

/* The client reads 1 KiB a second and checks it. */
static void *slow_reader(void *arg)
{
	struct slow *sl = arg;
	unsigned char buf[1024];
	ssize_t r;

	sl->ok = true;
	while (!sl->stop && sl->ok) {
		r = recv(sl->c, buf, sizeof(buf), 0);
		if (r <= 0)
			break;
		sl->ok = memcmp(buf, sl->data + sl->got, (size_t)r) == 0;
		sl->got += (size_t)r;
		usleep(1000000);
	}
	return NULL;
}

/*
 * Eight clients reading 1 KiB/s, their upstreams sending as fast as the
 * proxy takes: the fast connections alongside still complete, byte for
 * byte, well within the time they take alone (printed, not asserted: the
 * 10% comparison is the benchmark's, tests/bench/proxy.sh).
 */
static void test_slow_readers(void **state)
{
	static struct slow sl[SLOW];
	unsigned char *data = t_pattern(64u << 20, 35);
	double t0, alone, beside;
	int i;

	(void)state;
	t0 = now();
	both_ways(4);
	alone = now() - t0;
	for (i = 0; i < SLOW; i++) {
		sl[i] = (struct slow){ .data = data, .len = 64u << 20 };
		open_pair(&sl[i].c, &sl[i].s);
		assert_int_equal(pthread_create(&sl[i].sender, NULL, slow_sender, &sl[i]), 0);
		assert_int_equal(pthread_create(&sl[i].reader, NULL, slow_reader, &sl[i]), 0);
	}
	usleep(300000);		/* the slow ones' buffers and relays fill up */
	t0 = now();
	both_ways(4);
	beside = now() - t0;
	print_message("fast connections: %.2f s alone, %.2f s beside %d slow readers\n", alone,
		      beside, SLOW);
	assert_true(beside < 10 * alone + 5);
	for (i = 0; i < SLOW; i++) {
		sl[i].stop = true;
		shutdown(sl[i].c, SHUT_RDWR);
		pthread_join(sl[i].reader, NULL);
		close(sl[i].c);
		pthread_join(sl[i].sender, NULL);
		close(sl[i].s);
		assert_true(sl[i].ok);
		assert_true(sl[i].got > 0);
	}
	free(data);
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
	/* Socket to socket: splice only, unless read/write was asked for. */
	if (strcmp(proxy_mode, "rw") == 0) {
		assert_non_null(strstr(out, " bytes by read_write\n"));
		assert_null(strstr(out, "by splice"));
	} else {
		assert_non_null(strstr(out, " bytes by splice\n"));
		assert_null(strstr(out, "by read_write"));
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_ways),
		cmocka_unit_test(test_upstream_hangs_up),
		cmocka_unit_test(test_half_close),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_idle_and_stuck),
		cmocka_unit_test(test_slow_readers),
		cmocka_unit_test(test_stop),
	};

	if (argc == 3)
		proxy_mode = argv[2];
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s TCP-PROXY [relay|rw|transfer]\n", argv[0]);
		return 2;
	}
	proxy_path = argv[1];
	return cmocka_run_group_tests(tests, start, cleanup);
}
