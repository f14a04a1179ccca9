// SPDX-License-Identifier: MIT
/*
 * file-server: serve the files of one directory over HTTP/1.0 on
 * 127.0.0.1, the bodies sent with zc_transfer_at().
 *
 *   file-server [-p PORT] [-b SNDBUF] [-t SECONDS] DIR
 *
 * The classic sendfile server, with what the sketches leave out:
 *  - every socket is non-blocking and one poll() loop serves every client,
 *    so a slow reader holds up nobody;
 *  - a file is opened once and its fd shared by all the clients reading it:
 *    each client keeps its own offset and passes it explicitly, because
 *    the fd's own offset would be shared by all of them;
 *  - files are shared by what they are (device, inode, mtime, size), not by
 *    name: after `mv new a` the next GET of a sends the new file, while the
 *    downloads under way finish the old one;
 *  - only regular files are opened, and with O_NONBLOCK, so a FIFO in DIR
 *    cannot stop the server in open() waiting for a writer;
 *  - partial sends (of the header and of the body) resume where they
 *    stopped, and EAGAIN waits for POLLOUT;
 *  - a client that goes away costs its connection, never the server: the
 *    library keeps SIGPIPE away and send() uses MSG_NOSIGNAL;
 *  - after the body the write side is shut and the request side drained
 *    before close(), so unread request bytes cannot turn the close into a
 *    reset that destroys the end of the body in flight;
 *  - a connection that makes no progress for -t seconds (default 30) is
 *    closed: the request must arrive whole within that time of the accept,
 *    and the client must take some of the response within it of each send;
 *  - out of fds, accept() fails but leaves the connection queued, so poll()
 *    reports it again at once: the server stops accepting until a
 *    connection closes or a second has passed, instead of spinning; a file
 *    it cannot open for want of an fd is answered 503, not 404.
 *
 * -b sets each client socket's send buffer (SO_SNDBUF), the kernel memory a
 * client may hold; smaller means more, shorter sends.
 *
 * GET /NAME serves DIR/NAME, a regular file; names with '/' or a leading
 * '.' are not served. HEAD gets the same headers without the body. A Range
 * header with one byte range (bytes=N-M, bytes=N-, bytes=-N) gets 206 and
 * those bytes, which is how a download resumes; 416 if none of them is in
 * the file. A request with a NUL byte gets 400. SIGINT or SIGTERM stop the
 * server, which prints what it sent, by path, to standard error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zcopy.h>

#include "loopback.h"

#define REQ_MAX 4096
/* Bytes sent to one client per turn, so one fast reader cannot starve the rest. */
#define SLICE (1u << 20)
/* Out of fds, accepting waits this long unless a connection closes first. */
#define ACCEPT_PAUSE_MS 1000

/* A file being served, shared by all its clients. */
struct file {
	struct file *next;
	unsigned int refs;
	int fd;
	/* What the file is; its name may point to another file by now. */
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	uint64_t size;
};

enum state {
	READ_REQUEST,
	SEND_HEADER,
	SEND_BODY,
	DRAIN,		/* response sent, write side shut; waiting for the client's EOF */
};

struct client {
	int fd;
	enum state state;
	int64_t deadline;	/* ms on the monotonic clock: closed if no progress by then */
	size_t req_len;
	char req[REQ_MAX];
	size_t hdr_len;
	size_t hdr_sent;
	char hdr[320];
	struct file *file;
	uint64_t off;	/* next byte of the file to send */
	uint64_t end;	/* one past the last byte to send */
};

struct server {
	int dir;
	int listen_fd;
	int sndbuf;	/* SO_SNDBUF for clients, 0 for the kernel's default */
	int64_t idle_ms;
	int64_t accept_paused_until;	/* ms; 0 while accepting */
	struct file *files;
	struct client **clients;
	size_t nclients;
	size_t cap;
	uint64_t responses;
	uint64_t short_sends;	/* times a socket took less than offered */
	uint64_t path_bytes[PATHS_MAX];
};

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Device and inode say which file a name stands for now. The mtime and size
 * catch a file rewritten in place: an entry shared since would promise its
 * clients the old length.
 */
static bool same_file(const struct file *f, const struct stat *st)
{
	return f->dev == st->st_dev && f->ino == st->st_ino &&
	       f->mtime.tv_sec == st->st_mtim.tv_sec && f->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       f->size == (uint64_t)st->st_size;
}

/* Open DIR/name, a regular file, to be shared; NULL with errno. */
static struct file *file_open(struct server *s, const char *name)
{
	struct file *f;
	struct stat st;
	int fd;

	/*
	 * O_NONBLOCK: should name have become a FIFO since it was looked at,
	 * open() returns instead of waiting for a writer. A regular file's
	 * reads ignore the flag.
	 */
	fd = openat(s->dir, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = ENOENT;
		return NULL;
	}
	f = malloc(sizeof(*f));
	if (!f) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	*f = (struct file){ .next = s->files, .refs = 1, .fd = fd, .dev = st.st_dev,
			    .ino = st.st_ino, .mtime = st.st_mtim, .size = (uint64_t)st.st_size };
	s->files = f;
	return f;
}

/*
 * The file DIR/name is now, shared if it is already open. NULL with errno:
 * ENOENT when there is no regular file, EMFILE or ENOMEM when the server
 * is out of them.
 */
static struct file *file_get(struct server *s, const char *name)
{
	struct file *f;
	struct stat st;

	/* Looked at before it is opened: opening a FIFO or a device may block or act. */
	if (fstatat(s->dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return NULL;
	if (!S_ISREG(st.st_mode)) {
		errno = ENOENT;
		return NULL;
	}
	for (f = s->files; f; f = f->next)
		if (same_file(f, &st)) {
			f->refs++;
			return f;
		}
	return file_open(s, name);
}

static void file_put(struct server *s, struct file *f)
{
	struct file **p;

	if (--f->refs)
		return;
	for (p = &s->files; *p != f; p = &(*p)->next)
		;
	*p = f->next;
	close(f->fd);
	free(f);
}

static void client_close(struct server *s, size_t i)
{
	struct client *c = s->clients[i];

	if (c->file)
		file_put(s, c->file);
	close(c->fd);
	free(c);
	s->clients[i] = s->clients[--s->nclients];
	/* An fd is free again: worth accepting if we were out of them. */
	s->accept_paused_until = 0;
}

/* A client gets idle_ms from now to make progress. */
static void touch(const struct server *s, struct client *c)
{
	c->deadline = now_ms() + s->idle_ms;
}

static bool add_client(struct server *s, int fd)
{
	struct client *c;

	if (s->nclients == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct client **n = realloc(s->clients, cap * sizeof(*n));

		if (!n)
			return false;
		s->clients = n;
		s->cap = cap;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return false;
	c->fd = fd;
	touch(s, c);
	s->clients[s->nclients++] = c;
	if (s->sndbuf)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &s->sndbuf, sizeof(s->sndbuf));
	return true;
}

static void pause_accepting(struct server *s)
{
	s->accept_paused_until = now_ms() + ACCEPT_PAUSE_MS;
}

static void accept_clients(struct server *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			/*
			 * Out of fds or memory, accept() leaves the connection queued
			 * and the socket readable: polling it again at once would spin.
			 */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				pause_accepting(s);
			return;		/* EAGAIN: all taken; anything else: the next poll retries */
		}
		if (!add_client(s, fd)) {
			close(fd);
			pause_accepting(s);
			return;
		}
	}
}

/* The status line and headers; more holds extra header lines or "". */
static void respond(struct client *c, const char *status, uint64_t len, const char *more)
{
	c->hdr_len = (size_t)snprintf(c->hdr, sizeof(c->hdr),
				      "HTTP/1.0 %s\r\nContent-Length: %" PRIu64 "\r\n%s"
				      "Content-Type: application/octet-stream\r\n"
				      "Accept-Ranges: bytes\r\n"
				      "Connection: close\r\n\r\n", status, len, more);
	c->state = SEND_HEADER;
}

static bool servable(const char *name)
{
	return *name && *name != '.' && !strchr(name, '/');
}

/* "GET /NAME HTTP/1.x" or "HEAD /NAME HTTP/1.x" into name; false for anything else. */
static bool parse_request_line(const char *req, char *name, size_t size, bool *head)
{
	const char *p, *end;

	*head = strncmp(req, "HEAD /", 6) == 0;
	if (!*head && strncmp(req, "GET /", 5) != 0)
		return false;
	p = strchr(req, '/') + 1;
	end = strchr(p, ' ');
	if (!end || (size_t)(end - p) >= size || strncmp(end, " HTTP/1.", 8) != 0)
		return false;
	memcpy(name, p, (size_t)(end - p));
	name[end - p] = '\0';
	return true;
}

/* The value of the header field name, or NULL; it runs to the end of its line. */
static const char *header(const char *req, const char *name)
{
	const char *line = strchr(req, '\n');
	size_t n = strlen(name);

	/* The field lines follow the request line, up to the empty line. */
	while (line && line[1] != '\r' && line[1] != '\n') {
		line++;
		if (strncasecmp(line, name, n) == 0 && line[n] == ':')
			return line + n + 1 + strspn(line + n + 1, " \t");
		line = strchr(line, '\n');
	}
	return NULL;
}

/* Digits at *p into *v, and *p past them; false if there are none or too many. */
static bool parse_u64(const char **p, uint64_t *v)
{
	const char *d;

	*v = 0;
	for (d = *p; *d >= '0' && *d <= '9'; d++) {
		if (*v > (UINT64_MAX - (uint64_t)(*d - '0')) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*d - '0');
	}
	if (d == *p)
		return false;
	*p = d;
	return true;
}

/* Only blanks are left of the header value. */
static bool at_end(const char *p)
{
	p += strspn(p, " \t");
	return *p == '\r' || *p == '\n' || *p == '\0';
}

enum range { WHOLE, PART, UNSATISFIABLE };

/*
 * The one byte range a Range header value v asks of a file of size bytes,
 * as [*first, *end). WHOLE when there is none to honour: no header, another
 * unit, a malformed or too long number, or several ranges. RFC 9110 lets a
 * server ignore any Range; several ranges would need a multipart body, so
 * they get the whole file (200), which holds every byte they asked for.
 */
static enum range parse_range(const char *v, uint64_t size, uint64_t *first, uint64_t *end)
{
	uint64_t a, b = UINT64_MAX;

	if (!v || strncmp(v, "bytes=", 6) != 0)
		return WHOLE;
	v += 6;
	if (*v == '-') {	/* bytes=-N: the last N bytes */
		v++;
		if (!parse_u64(&v, &a) || !at_end(v))
			return WHOLE;
		if (a == 0)
			return UNSATISFIABLE;
		/* An empty file has no last byte to name in a Content-Range. */
		if (size == 0)
			return WHOLE;
		*first = size - (a < size ? a : size);
		*end = size;
		return PART;
	}
	/* bytes=N-M, or bytes=N- up to the end */
	if (!parse_u64(&v, &a) || *v++ != '-')
		return WHOLE;
	if (!at_end(v) && (!parse_u64(&v, &b) || !at_end(v)))
		return WHOLE;
	if (b < a)
		return WHOLE;
	if (a >= size)
		return UNSATISFIABLE;
	*first = a;
	*end = b < size ? b + 1 : size;
	return PART;
}

/*
 * The headers for c's file and the part of it to send: 200 and all of it,
 * 206 and the range asked for, or 416 and nothing; HEAD sends no body.
 */
static void respond_file(struct client *c, bool head)
{
	uint64_t size = c->file->size;
	enum range r = WHOLE;
	char range[100];

	c->off = 0;
	c->end = size;
	/*
	 * If-Range wants the range only if the file is still the one the client
	 * has part of; nothing here can tell, so it gets the whole file.
	 */
	if (!header(c->req, "If-Range"))
		r = parse_range(header(c->req, "Range"), size, &c->off, &c->end);
	switch (r) {
	case PART:
		snprintf(range, sizeof(range), "Content-Range: bytes %" PRIu64 "-%" PRIu64
			 "/%" PRIu64 "\r\n", c->off, c->end - 1, size);
		respond(c, "206 Partial Content", c->end - c->off, range);
		break;
	case UNSATISFIABLE:
		snprintf(range, sizeof(range), "Content-Range: bytes */%" PRIu64 "\r\n", size);
		respond(c, "416 Range Not Satisfiable", 0, range);
		c->end = c->off;
		break;
	case WHOLE:
		respond(c, "200 OK", size, "");
		break;
	}
	if (head)
		c->end = c->off;
}

static void route(struct server *s, struct client *c)
{
	char name[256];
	bool head;

	if (!parse_request_line(c->req, name, sizeof(name), &head)) {
		respond(c, "400 Bad Request", 0, "");
		return;
	}
	if (!servable(name)) {
		respond(c, "404 Not Found", 0, "");
		return;
	}
	c->file = file_get(s, name);
	/* Out of fds or memory is the server's trouble, and passes; 404 would say "no such file". */
	if (!c->file && (errno == EMFILE || errno == ENFILE || errno == ENOMEM)) {
		respond(c, "503 Service Unavailable", 0, "");
		return;
	}
	if (!c->file) {
		respond(c, "404 Not Found", 0, "");
		return;
	}
	respond_file(c, head);
}

/* Returns false when the client is done with. */
static bool read_request(struct server *s, struct client *c)
{
	ssize_t n = recv(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len, 0);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;	/* gone before asking */
	c->req_len += (size_t)n;
	c->req[c->req_len] = '\0';
	/* A NUL would end the request early for every string function here. */
	if (memchr(c->req + c->req_len - n, '\0', (size_t)n))
		respond(c, "400 Bad Request", 0, "");
	else if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
		route(s, c);
	else if (c->req_len == sizeof(c->req) - 1)
		respond(c, "431 Request Header Fields Too Large", 0, "");
	return true;
}

static bool finish(struct client *c)
{
	if (shutdown(c->fd, SHUT_WR) < 0)
		return false;
	c->state = DRAIN;
	return true;
}

static bool send_header(struct server *s, struct client *c)
{
	ssize_t n = send(c->fd, c->hdr + c->hdr_sent, c->hdr_len - c->hdr_sent, MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	touch(s, c);
	c->hdr_sent += (size_t)n;
	if (c->hdr_sent < c->hdr_len) {
		s->short_sends++;
		return true;
	}
	s->responses++;
	if (!c->file || c->off == c->end)
		return finish(c);
	c->state = SEND_BODY;
	return true;
}

static bool send_body(struct server *s, struct client *c)
{
	uint64_t left = c->end - c->off;
	struct zc_stats st;
	ssize_t n;

	n = zc_transfer_at(c->file->fd, &c->off, c->fd, NULL, left < SLICE ? left : SLICE, 0,
			   &st);
	count_path(s->path_bytes, &st);
	if (n < 0 && errno == EAGAIN)
		s->short_sends++;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	/* The file shrank under us: the promised length cannot be kept. */
	if (n == 0)
		return false;
	touch(s, c);
	if (st.error == EAGAIN)
		s->short_sends++;
	else if (st.error && st.error != EINTR)
		return false;
	return c->off < c->end || finish(c);
}

static bool drain(struct client *c)
{
	char buf[512];
	ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

	return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
}

static bool serve(struct server *s, struct client *c)
{
	switch (c->state) {
	case READ_REQUEST:
		return read_request(s, c);
	case SEND_HEADER:
		return send_header(s, c);
	case SEND_BODY:
		return send_body(s, c);
	case DRAIN:
		return drain(c);
	}
	return false;
}

static short wanted(const struct client *c)
{
	return c->state == READ_REQUEST || c->state == DRAIN ? POLLIN : POLLOUT;
}

/* Close the clients that made no progress in time. */
static void expire(struct server *s)
{
	int64_t now = now_ms();
	size_t i;

	for (i = s->nclients; i-- > 0;)
		if (s->clients[i]->deadline <= now)
			client_close(s, i);
}

/* poll()'s timeout: until the first deadline, or the end of a pause in accepting. */
static int next_timeout(const struct server *s)
{
	int64_t next = s->accept_paused_until ? s->accept_paused_until : INT64_MAX, now;
	size_t i;

	for (i = 0; i < s->nclients; i++)
		if (s->clients[i]->deadline < next)
			next = s->clients[i]->deadline;
	if (next == INT64_MAX)
		return -1;
	now = now_ms();
	return next <= now ? 0 : (int)(next - now < INT_MAX ? next - now : INT_MAX);
}

static int loop(struct server *s)
{
	struct pollfd *pfd = NULL;
	size_t i, n;

	while (!stop_requested()) {
		struct pollfd *np = realloc(pfd, (s->nclients + 1) * sizeof(*pfd));

		if (!np)
			break;
		pfd = np;
		if (s->accept_paused_until && now_ms() >= s->accept_paused_until)
			s->accept_paused_until = 0;
		/* poll() skips a negative fd: the listening socket while accepting pauses. */
		pfd[0] = (struct pollfd){ .fd = s->accept_paused_until ? -1 : s->listen_fd,
					  .events = POLLIN };
		for (i = 0; i < s->nclients; i++)
			pfd[i + 1] = (struct pollfd){ .fd = s->clients[i]->fd,
						      .events = wanted(s->clients[i]) };
		n = s->nclients;
		if (poll(pfd, n + 1, next_timeout(s)) < 0) {
			if (errno == EINTR)
				continue;
			perror("file-server: poll");
			break;
		}
		/* Backwards, so that closing (which moves the last client into i) is safe. */
		for (i = n; i-- > 0;)
			if (pfd[i + 1].revents && !serve(s, s->clients[i]))
				client_close(s, i);
		expire(s);
		if (pfd[0].revents)
			accept_clients(s);
	}
	free(pfd);
	return stop_requested() ? 0 : 1;
}

static void print_summary(const struct server *s)
{
	fprintf(stderr, "file-server: %" PRIu64 " responses, %" PRIu64 " short sends",
		s->responses, s->short_sends);
	print_paths(s->path_bytes);
}

static int usage(void)
{
	fprintf(stderr, "usage: file-server [-p PORT] [-b SNDBUF] [-t SECONDS] DIR\n");
	return 2;
}

/* "30" -> 30000 ms; -1 unless a whole number of seconds from 1 to a day. */
static int64_t parse_timeout(const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > 86400)
		return -1;
	return (int64_t)v * 1000;
}

int main(int argc, char **argv)
{
	struct server s = { .listen_fd = -1, .idle_ms = 30000 };
	const char *port = "0";
	int opt, status;

	while ((opt = getopt(argc, argv, "p:b:t:")) != -1) {
		if (opt == 'p')
			port = optarg;
		else if (opt == 'b')
			s.sndbuf = atoi(optarg);
		else if (opt == 't')
			s.idle_ms = parse_timeout(optarg);
		else
			return usage();
	}
	if (argc - optind != 1 || s.idle_ms < 0)
		return usage();
	s.dir = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s.dir < 0) {
		fprintf(stderr, "file-server: %s: %m\n", argv[optind]);
		return 1;
	}
	catch_stop_signals();
	s.listen_fd = listen_loopback("file-server", port);
	if (s.listen_fd < 0) {
		close(s.dir);
		return 1;
	}
	status = loop(&s);
	while (s.nclients)
		client_close(&s, s.nclients - 1);
	free(s.clients);
	close(s.listen_fd);
	close(s.dir);
	print_summary(&s);
	return status;
}
