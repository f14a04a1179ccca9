// SPDX-License-Identifier: MIT
/*
 * file-server against many concurrent clients: fast ones, slow ones with a
 * small receive buffer (partial sends, EAGAIN), ones that send the request
 * in pieces. Every byte of every body is compared; the refusals get their
 * status; the server stops cleanly and says sendfile moved the bodies.
 *
 * Then what a public server meets: a FIFO among the files, a NUL in a
 * request, a file renamed over while it is being sent, HEAD and byte ranges
 * (a resumed download, a range past 2 GiB of a sparse file), connections
 * that go silent, and the fd limit reached.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "../tests/helpers.h"
#include "test-net.h"

#define BIG ((4u << 20) + 13)
#define NCLIENTS 32
/*
 * A slow reader's receive buffer: small enough that the server's sends come
 * back short, not below the loopback MSS (64 KiB), where a zero window is
 * only reopened by TCP's persist timer and the test would crawl.
 */
#define SMALL_RCVBUF (64 * 1024)
/* How long a test waits for an answer that must come at once. */
#define QUICK_S 5

#define OK "HTTP/1.0 200 OK\r\n"
#define NOT_FOUND "HTTP/1.0 404 Not Found\r\n"
#define BAD_REQUEST "HTTP/1.0 400 Bad Request\r\n"

static const char *server_path;
static char dir[] = "/tmp/file-server-test.XXXXXX";
static struct t_server server;
/* A second server, started by a test for options of its own. */
static struct t_server other;
static unsigned char *big;
static unsigned int expect_responses;

struct fetch {
	pthread_t thread;
	const char *request;
	size_t request_len;	/* 0: strlen(request) */
	int port;		/* 0: the main server's */
	unsigned int timeout_s;	/* give up after this much silence; 0: t_connect's */
	bool small_rcvbuf;
	unsigned int delay_us;	/* between reads: a slow reader */
	bool in_pieces;
	bool ok;
	unsigned char *got;
	size_t len;
};

/* Connect and send f's request; the connection, or -1. */
static int fetch_send(struct fetch *f)
{
	size_t n = f->request_len ? f->request_len : strlen(f->request), half = n / 2;
	struct timeval tv = { .tv_sec = f->timeout_s };
	int fd = t_connect(f->port ? f->port : server.port), small = SMALL_RCVBUF;

	if (fd < 0)
		return -1;
	if (f->timeout_s)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (f->small_rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (f->in_pieces) {
		f->ok = t_send_all(fd, f->request, half);
		usleep(20000);
		f->ok = f->ok && t_send_all(fd, f->request + half, n - half);
	} else {
		f->ok = t_send_all(fd, f->request, n);
	}
	return fd;
}

/* The whole answer on fd, which is closed. */
static void fetch_recv(struct fetch *f, int fd)
{
	f->ok = f->ok && t_recv_all(fd, &f->got, &f->len, f->delay_us);
	close(fd);
}

static void *fetch(void *arg)
{
	struct fetch *f = arg;
	int fd = fetch_send(f);

	if (fd >= 0)
		fetch_recv(f, fd);
	return NULL;
}

/* An answer split at the blank line. */
struct answer {
	char *head;	/* status line and header lines, each ending "\r\n"; malloc'd */
	const unsigned char *body;
	size_t len;
	unsigned long long content_length;
};

static void split(const struct fetch *f, const char *status, struct answer *a)
{
	char *end, *cl;

	assert_true(f->ok);
	a->head = strndup((const char *)f->got, f->len);
	assert_non_null(a->head);
	end = strstr(a->head, "\r\n\r\n");
	assert_non_null(end);
	a->body = f->got + (end + 4 - a->head);
	a->len = f->len - (size_t)(end + 4 - a->head);
	end[2] = '\0';
	assert_int_equal(strncmp(a->head, status, strlen(status)), 0);
	cl = strstr(a->head, "\r\nContent-Length: ");
	assert_non_null(cl);
	assert_int_equal(sscanf(cl, "\r\nContent-Length: %llu", &a->content_length), 1);
}

/* The body of a response with the given status line, or NULL. */
static const unsigned char *body_of(const struct fetch *f, const char *status, size_t *len)
{
	struct answer a;

	split(f, status, &a);
	assert_int_equal(a.content_length, a.len);
	free(a.head);
	*len = a.len;
	return a.body;
}

/* f's answer must be status with want[0, len) as its body. */
static void expect_body(const struct fetch *f, const char *status, const void *want, size_t len)
{
	size_t got;
	const unsigned char *body = body_of(f, status, &got);

	t_assert_bytes(body, got, want, len);
}

static void write_file(const char *name, const void *data, size_t len)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* file-server on dir with a small send buffer and, if not NULL, an idle timeout. */
static int start_server(struct t_server *s, const char *idle_timeout)
{
	/* A send buffer far below a body: every big response goes in short sends. */
	char *argv[9] = { (char *)server_path, "-p", "0", "-b", "65536" };
	int n = 5;

	if (idle_timeout) {
		argv[n++] = "-t";
		argv[n++] = (char *)idle_timeout;
	}
	argv[n] = dir;
	return t_server_start(s, argv);
}

static int start(void **state)
{
	char sub[128];

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	big = t_pattern(BIG, 7);
	write_file("big", big, BIG);
	write_file("one", "x", 1);
	write_file("empty", "", 0);
	write_file(".hidden", "secret", 6);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	mkdir(sub, 0755);
	return start_server(&server, NULL);
}

static int cleanup(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	(void)state;
	if (server.pid > 0)
		kill(server.pid, SIGKILL);
	if (other.pid > 0)
		kill(other.pid, SIGKILL);
	free(big);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, e->d_type == DT_DIR ? AT_REMOVEDIR : 0);
	closedir(d);
	return rmdir(dir);
}

static void test_many_clients(void **state)
{
	static struct fetch f[NCLIENTS];
	int i;

	(void)state;
	for (i = 0; i < NCLIENTS; i++) {
		f[i].request = i % 4 == 3 ? "GET /one HTTP/1.0\r\n\r\n" :
					    "GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
		f[i].small_rcvbuf = i % 4 == 1;
		f[i].delay_us = i % 4 == 1 ? 1000 : 0;
		f[i].in_pieces = i % 4 == 2;
		assert_int_equal(pthread_create(&f[i].thread, NULL, fetch, &f[i]), 0);
	}
	for (i = 0; i < NCLIENTS; i++)
		assert_int_equal(pthread_join(f[i].thread, NULL), 0);
	for (i = 0; i < NCLIENTS; i++) {
		if (i % 4 == 3)
			expect_body(&f[i], OK, "x", 1);
		else
			expect_body(&f[i], OK, big, BIG);
		expect_responses++;
		free(f[i].got);
		f[i].got = NULL;
	}
}

/* A request of len bytes (0: a string) must get status and an empty body, at once. */
static void check_n(const char *request, size_t len, const char *status)
{
	struct fetch f = { .request = request, .request_len = len, .timeout_s = QUICK_S };
	size_t blen;

	fetch(&f);
	body_of(&f, status, &blen);
	assert_int_equal(blen, 0);
	free(f.got);
	expect_responses++;
}

static void check(const char *request, const char *status)
{
	check_n(request, 0, status);
}

static void test_refusals(void **state)
{
	(void)state;
	check("GET /empty HTTP/1.0\r\n\r\n", OK);
	check("GET /missing HTTP/1.0\r\n\r\n", NOT_FOUND);
	check("GET /.hidden HTTP/1.0\r\n\r\n", NOT_FOUND);
	check("GET /../big HTTP/1.0\r\n\r\n", NOT_FOUND);
	check("GET /sub HTTP/1.0\r\n\r\n", NOT_FOUND);
	check("PUT /big HTTP/1.0\r\n\r\n", BAD_REQUEST);
	check("GET /big\r\n\r\n", BAD_REQUEST);
}

/* A NUL hides the rest of the request from string functions: refused at once. */
static void test_nul_byte(void **state)
{
	static const char in_name[] = "GET /o\0ne HTTP/1.0\r\n\r\n";
	static const char in_header[] = "GET /one HTTP/1.0\r\nHost: a\0b\r\n\r\n";
	static const char first[] = "\0GET /one HTTP/1.0\r\n\r\n";

	(void)state;
	check_n(in_name, sizeof(in_name) - 1, BAD_REQUEST);
	check_n(in_header, sizeof(in_header) - 1, BAD_REQUEST);
	check_n(first, sizeof(first) - 1, BAD_REQUEST);
}

/* A FIFO among the files is refused at once, and nobody waits behind it. */
static void test_fifo(void **state)
{
	struct fetch fifo = { .request = "GET /fifo HTTP/1.0\r\n\r\n", .timeout_s = QUICK_S };
	struct fetch one = { .request = "GET /one HTTP/1.0\r\n\r\n", .timeout_s = QUICK_S };
	char path[128];
	size_t len;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0644), 0);
	/* Opening a FIFO blocks until a writer comes: none will. */
	fd = fetch_send(&fifo);
	assert_true(fd >= 0);
	fetch(&one);
	expect_body(&one, OK, "x", 1);
	fetch_recv(&fifo, fd);
	body_of(&fifo, NOT_FOUND, &len);
	assert_int_equal(len, 0);
	free(one.got);
	free(fifo.got);
	expect_responses += 2;
}

/* A file renamed over mid-send: the next GET gets the new file, the old GET the old. */
static void test_renamed_over(void **state)
{
	const size_t fresh_len = (1u << 20) + 7;
	struct fetch old = { .request = "GET /a HTTP/1.0\r\n\r\n", .timeout_s = QUICK_S,
			     .small_rcvbuf = true };
	struct fetch now = { .request = "GET /a HTTP/1.0\r\n\r\n", .timeout_s = QUICK_S };
	unsigned char *fresh = t_pattern(fresh_len, 9);
	char from[128], to[128];
	struct pollfd p;

	(void)state;
	write_file("a", big, BIG);
	p.fd = fetch_send(&old);
	p.events = POLLIN;
	assert_true(p.fd >= 0);
	/* Answered: the old a is open, and 4 MiB cannot fit in the socket buffers. */
	assert_int_equal(poll(&p, 1, QUICK_S * 1000), 1);
	write_file("a.new", fresh, fresh_len);
	snprintf(from, sizeof(from), "%s/a.new", dir);
	snprintf(to, sizeof(to), "%s/a", dir);
	assert_int_equal(rename(from, to), 0);
	fetch(&now);
	expect_body(&now, OK, fresh, fresh_len);
	fetch_recv(&old, p.fd);
	expect_body(&old, OK, big, BIG);
	free(now.got);
	free(old.got);
	free(fresh);
	expect_responses += 2;
}

/* HEAD: the headers a GET would get, Content-Length included, and no body. */
static void head(const char *request, const char *status, unsigned long long length)
{
	struct fetch f = { .request = request, .timeout_s = QUICK_S };
	struct answer a;

	fetch(&f);
	split(&f, status, &a);
	assert_int_equal(a.content_length, length);
	assert_int_equal(a.len, 0);
	free(a.head);
	free(f.got);
	expect_responses++;
}

static void test_head(void **state)
{
	(void)state;
	head("HEAD /big HTTP/1.0\r\n\r\n", OK, BIG);
	head("HEAD /one HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", OK, 1);
	head("HEAD /empty HTTP/1.0\r\n\r\n", OK, 0);
	head("HEAD /missing HTTP/1.0\r\n\r\n", NOT_FOUND, 0);
	head("HEAD /big HTTP/1.0\r\nRange: bytes=10-19\r\n\r\n",
	     "HTTP/1.0 206 Partial Content\r\n", 10);
	check("HEAD /big\r\n\r\n", BAD_REQUEST);
	check("HEA /big HTTP/1.0\r\n\r\n", BAD_REQUEST);
}

/*
 * GET name, of size bytes, with the header lines given: the answer must be
 * code with want[0, len) as its body, which is the file from byte first on.
 */
static void ranged(const char *name, const char *lines, unsigned long long size, int code,
		   unsigned long long first, const void *want, size_t len)
{
	char request[256], range[128];
	struct fetch f = { .request = request, .timeout_s = QUICK_S };
	struct answer a;

	snprintf(request, sizeof(request), "GET /%s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n",
		 name, lines);
	fetch(&f);
	if (code == 206) {
		split(&f, "HTTP/1.0 206 Partial Content\r\n", &a);
		snprintf(range, sizeof(range), "\r\nContent-Range: bytes %llu-%llu/%llu\r\n",
			 first, first + len - 1, size);
		assert_non_null(strstr(a.head, range));
	} else if (code == 416) {
		split(&f, "HTTP/1.0 416 Range Not Satisfiable\r\n", &a);
		snprintf(range, sizeof(range), "\r\nContent-Range: bytes */%llu\r\n", size);
		assert_non_null(strstr(a.head, range));
	} else {
		split(&f, OK, &a);
		assert_null(strstr(a.head, "\r\nContent-Range:"));
		assert_non_null(strstr(a.head, "\r\nAccept-Ranges: bytes\r\n"));
	}
	assert_int_equal(a.content_length, a.len);
	t_assert_bytes(a.body, a.len, want, len);
	free(a.head);
	free(f.got);
	expect_responses++;
}

static void test_ranges(void **state)
{
	char line[64];

	(void)state;
	ranged("big", "Range: bytes=0-0\r\n", BIG, 206, 0, big, 1);
	ranged("big", "Range: bytes=100-1099\r\n", BIG, 206, 100, big + 100, 1000);
	ranged("big", "Range: bytes=4194000-\r\n", BIG, 206, 4194000, big + 4194000, BIG - 4194000);
	ranged("big", "Range: bytes=-13\r\n", BIG, 206, BIG - 13, big + BIG - 13, 13);
	ranged("big", "range:bytes=7-8 \r\n", BIG, 206, 7, big + 7, 2);
	/* A last byte past the end stops at the end; so does a suffix longer than the file. */
	ranged("big", "Range: bytes=5-99999999999\r\n", BIG, 206, 5, big + 5, BIG - 5);
	ranged("big", "Range: bytes=-99999999\r\n", BIG, 206, 0, big, BIG);
	snprintf(line, sizeof(line), "Range: bytes=%u-%u\r\n", BIG - 1, BIG - 1);
	ranged("big", line, BIG, 206, BIG - 1, big + BIG - 1, 1);
	/* No byte of the range in the file. */
	snprintf(line, sizeof(line), "Range: bytes=%u-\r\n", BIG);
	ranged("big", line, BIG, 416, 0, NULL, 0);
	snprintf(line, sizeof(line), "Range: bytes=%u-%u\r\n", BIG + 10, BIG + 20);
	ranged("big", line, BIG, 416, 0, NULL, 0);
	ranged("big", "Range: bytes=-0\r\n", BIG, 416, 0, NULL, 0);
	ranged("empty", "Range: bytes=0-\r\n", 0, 416, 0, NULL, 0);
	ranged("one", "Range: bytes=1-1\r\n", 1, 416, 0, NULL, 0);
	/* Ranges the server may ignore, and does: the whole file. */
	ranged("big", "Range: bytes=0-1,5-6\r\n", BIG, 200, 0, big, BIG);
	ranged("big", "Range: bytes=9-3\r\n", BIG, 200, 0, big, BIG);
	ranged("big", "Range: bytes=1-2x\r\n", BIG, 200, 0, big, BIG);
	ranged("big", "Range: bytes=--2\r\n", BIG, 200, 0, big, BIG);
	ranged("big", "Range: bytes=99999999999999999999-\r\n", BIG, 200, 0, big, BIG);
	ranged("big", "Range: items=0-1\r\n", BIG, 200, 0, big, BIG);
	ranged("empty", "Range: bytes=-1\r\n", 0, 200, 0, "", 0);
	/* If-Range is not checked, so its Range cannot be trusted: the whole file. */
	ranged("big", "Range: bytes=0-1\r\nIf-Range: \"x\"\r\n", BIG, 200, 0, big, BIG);
	ranged("one", "X-Range: bytes=0-0\r\n", 1, 200, 0, "x", 1);
}

/* A download cut off after an uneven count of bytes, finished by a Range request. */
static void test_resume(void **state)
{
	enum { CUT = 1000003 };
	static unsigned char got[CUT];
	struct fetch cut = { .request = "GET /big HTTP/1.0\r\n\r\n", .timeout_s = QUICK_S };
	int fd = fetch_send(&cut);
	size_t have = 0, hdr;
	char line[64];
	ssize_t n;
	char *end;

	(void)state;
	assert_true(fd >= 0);
	while (have < CUT) {
		n = recv(fd, got + have, CUT - have, 0);
		assert_true(n > 0);
		have += (size_t)n;
	}
	close(fd);
	expect_responses++;
	end = memmem(got, have, "\r\n\r\n", 4);
	assert_non_null(end);
	hdr = (size_t)(end + 4 - (char *)got);
	have -= hdr;
	/* What came is the start of the file, and the rest comes from where it stopped. */
	t_assert_bytes(got + hdr, have, big, have);
	snprintf(line, sizeof(line), "Range: bytes=%zu-\r\n", have);
	ranged("big", line, BIG, 206, have, big + have, BIG - have);
}

#define GIB (1ull << 30)

/* Offsets past 2 GiB, which a 32-bit off_t or int would break, on a sparse file. */
static void test_sparse_range(void **state)
{
	const unsigned long long size = 3 * GIB + 7777, at = 2 * GIB + 4093;
	const size_t data_len = (100u << 10) + 3;
	static const unsigned char zeros[100];
	unsigned char *data = t_pattern(data_len, 11), *want = calloc(data_len + 143, 1);
	char path[128], line[96];
	int fd;

	(void)state;
	assert_non_null(want);
	snprintf(path, sizeof(path), "%s/sparse", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	assert_int_equal(pwrite(fd, data, data_len, (off_t)at), (ssize_t)data_len);
	close(fd);
	/* 93 zeros, the data, 50 zeros. */
	memcpy(want + 93, data, data_len);
	snprintf(line, sizeof(line), "Range: bytes=%llu-%llu\r\n", at - 93, at + data_len + 49);
	ranged("sparse", line, size, 206, at - 93, want, data_len + 143);
	ranged("sparse", "Range: bytes=-100\r\n", size, 206, size - 100, zeros, 100);
	snprintf(line, sizeof(line), "Range: bytes=%llu-\r\n", size);
	ranged("sparse", line, size, 416, 0, NULL, 0);
	head("HEAD /sparse HTTP/1.0\r\n\r\n", OK, size);
	free(data);
	free(want);
}

/* A client that vanishes mid-body costs its connection, not the server. */
static void test_client_vanishes(void **state)
{
	const char req[] = "GET /big HTTP/1.0\r\n\r\n";
	char buf[100];
	int fd = t_connect(server.port), small = SMALL_RCVBUF;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	assert_true(t_send_all(fd, req, sizeof(req) - 1));
	assert_true(recv(fd, buf, sizeof(buf), MSG_WAITALL) > 0);
	close(fd);
	expect_responses++;
	test_many_clients(state);
}

static void test_stop(void **state)
{
	char out[512], want[256];
	int status;

	(void)state;
	status = t_server_stop(&server, out, sizeof(out));
	server.pid = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	snprintf(want, sizeof(want), "file-server: %u responses, ", expect_responses);
	assert_non_null(strstr(out, want));
	/* 64 KiB send buffers cannot take 4 MiB at once: sends came back short. */
	assert_null(strstr(out, " 0 short sends"));
	/* Files into TCP sockets: sendfile, which may also carry the vanished client's part. */
	assert_non_null(strstr(out, " bytes by sendfile\n"));
	assert_null(strstr(out, "by splice"));
	assert_null(strstr(out, "by read_write"));
}

static void stop_other(void)
{
	char out[512];
	int status = t_server_stop(&other, out, sizeof(out));

	other.pid = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A connection that sends what it is given, then nothing, is closed in about a second. */
static void closed_when_idle(const char *request)
{
	struct fetch f = { .request = request, .port = other.port, .timeout_s = QUICK_S };
	struct timespec t0;
	double waited;
	char c;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = fetch_send(&f);
	assert_true(fd >= 0 && f.ok);
	assert_int_equal(recv(fd, &c, 1, 0), 0);
	waited = seconds_since(&t0);
	close(fd);
	assert_true(waited >= 0.9);
	assert_true(waited < QUICK_S - 1);
}

static void test_idle_timeout(void **state)
{
	struct fetch stalled = { .request = "GET /big HTTP/1.0\r\n\r\n", .timeout_s = QUICK_S,
				 .small_rcvbuf = true };
	struct fetch one = { .request = "GET /one HTTP/1.0\r\n\r\n", .timeout_s = QUICK_S };
	unsigned char buf[65536];
	size_t got = 0;
	ssize_t n;
	int fd;

	(void)state;
	assert_int_equal(start_server(&other, "1"), 0);
	closed_when_idle("");
	closed_when_idle("GET /one HTTP/1.0\r\n");
	/* A reader that stops taking the body is dropped too: it gets less than all. */
	stalled.port = other.port;
	fd = fetch_send(&stalled);
	assert_true(fd >= 0 && stalled.ok);
	sleep(3);
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		got += (size_t)n;
	assert_true(n == 0 || errno == ECONNRESET);
	assert_true(got > 0 && got < BIG);
	close(fd);
	/* A client that keeps going is served. */
	one.port = other.port;
	fetch(&one);
	assert_true(one.ok);
	assert_int_equal(strncmp((char *)one.got, OK, strlen(OK)), 0);
	free(one.got);
	stop_other();
}

#define FD_LIMIT 16

/* Open fds of process pid that count against the limit (inherited ones may lie above). */
static int fd_count(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' && atoi(e->d_name) < FD_LIMIT;
	closedir(d);
	return n;
}

/* User and system CPU time of process pid so far, in ms. */
static long cpu_ms(pid_t pid)
{
	char path[64], stat[1024], *p;
	unsigned long user, sys;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	assert_true(n > 0);
	stat[n] = '\0';
	/* Fields 14 and 15, counted after the command name, which may hold anything. */
	p = strrchr(stat, ')');
	assert_non_null(p);
	assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&user, &sys), 2);
	return (long)((user + sys) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

/*
 * At the fd limit a listening socket stays readable while accept fails, so
 * a server that retries at once spins. It must wait, answer 503 where a
 * file cannot be opened, and serve again once connections close.
 */
static void test_fd_limit(void **state)
{
	struct rlimit lim = { .rlim_cur = FD_LIMIT, .rlim_max = FD_LIMIT };
	struct fetch f = { .request = "GET /one HTTP/1.0\r\n\r\n", .timeout_s = QUICK_S };
	int idle[FD_LIMIT + 8], n = 0, i, tries, base;
	size_t len;
	long cpu;

	(void)state;
	assert_int_equal(start_server(&other, NULL), 0);
	assert_int_equal(prlimit(other.pid, RLIMIT_NOFILE, &lim, NULL), 0);
	/* Silent connections take all of the server's fds but one. */
	base = fd_count(other.pid);
	assert_true(base < FD_LIMIT - 2);
	while (base + n < FD_LIMIT - 1) {
		idle[n] = t_connect(other.port);
		assert_true(idle[n++] >= 0);
	}
	for (tries = 0; fd_count(other.pid) < FD_LIMIT - 1 && tries < 500; tries++)
		usleep(10000);
	assert_int_equal(fd_count(other.pid), FD_LIMIT - 1);
	/* The last one goes to this client, which leaves none to open the file with. */
	f.port = other.port;
	fetch(&f);
	body_of(&f, "HTTP/1.0 503 Service Unavailable\r\n", &len);
	assert_int_equal(len, 0);
	free(f.got);
	f.got = NULL;
	/* More than the server can take: they wait in the listen backlog. */
	for (i = 0; i < 8; i++) {
		idle[n] = t_connect(other.port);
		assert_true(idle[n++] >= 0);
	}
	cpu = cpu_ms(other.pid);
	sleep(3);
	cpu = cpu_ms(other.pid) - cpu;
	printf("file-server at its fd limit used %ld ms of CPU in 3 s\n", cpu);
	assert_true(cpu < 300);
	while (n)
		close(idle[--n]);
	fetch(&f);
	expect_body(&f, OK, "x", 1);
	free(f.got);
	stop_other();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_clients),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_sparse_range),
		cmocka_unit_test(test_renamed_over),
		cmocka_unit_test(test_client_vanishes),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_fd_limit),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE-SERVER\n", argv[0]);
		return 2;
	}
	server_path = argv[1];
	return cmocka_run_group_tests(tests, start, cleanup);
}
