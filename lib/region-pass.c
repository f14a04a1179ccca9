// SPDX-License-Identifier: MIT
/*
 * Passing a region to another process over a UNIX socket: its fd travels as
 * SCM_RIGHTS, its kind, size and name in a small header beside it.
 *
 * The receiver trusts nothing in the header. The fd's real size comes from
 * fstat and its seals from F_GET_SEALS before anything is mapped: a header
 * claiming more than the fd holds is refused (mapping it would SIGBUS on the
 * first load past the end), and an fd that can still shrink is reported
 * with ZC_REGION_UNSEALED, or refused under ZC_REGION_NEED_SEALS.
 */
#define _GNU_SOURCE
#include <bsd/string.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "region.h"

#define WIRE_MAGIC 0x7a637267u	/* "zcrg" */
#define WIRE_VERSION 1u

struct wire {
	uint32_t magic;
	uint32_t version;
	uint32_t kind;
	uint32_t flags;
	uint64_t size;
	int32_t shmid;
	uint32_t seals;
	char name[ZC__NAME_SIZE];
};

union cmsg_fd {
	struct cmsghdr h;
	char buf[CMSG_SPACE(sizeof(int) * 4)];
};

static bool has_fd(uint32_t kind)
{
	return kind == ZC_REGION_POSIX || kind == ZC_REGION_MEMFD || kind == ZC_REGION_FILE;
}

/*
 * The rest of a header whose first bytes (and the fd) went in one sendmsg.
 * Stopping halfway would leave the peer's stream out of step, so a
 * non-blocking socket is waited for.
 */
static int send_rest(int sock, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = zc__sys_send(sock, p, len, MSG_NOSIGNAL);
		if (n == -EINTR)
			continue;
		if (n == -EAGAIN)
			n = zc__wait_fd(sock, POLLOUT);
		if (n < 0)
			return (int)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int region_send(int sock, const struct zc_region *r)
{
	struct wire w = { .magic = WIRE_MAGIC, .version = WIRE_VERSION };
	struct iovec iov = { &w, sizeof(w) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	union cmsg_fd c;
	ssize_t n;

	/* A private mapping holds changes its fd does not: there is nothing to pass. */
	if (!r || (r->flags & ZC_REGION_PRIVATE) ||
	    (has_fd(r->kind) ? r->fd < 0 : r->kind != ZC_REGION_SYSV))
		return -EINVAL;
	w.kind = r->kind;
	w.flags = r->flags & ZC_REGION_RDONLY;
	w.size = r->size;
	w.shmid = r->shmid;
	w.seals = r->seals;
	strlcpy(w.name, r->name, sizeof(w.name));
	if (r->fd >= 0 && has_fd(r->kind)) {
		memset(&c, 0, sizeof(c));
		m.msg_control = c.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int));
		c.h.cmsg_level = SOL_SOCKET;
		c.h.cmsg_type = SCM_RIGHTS;
		c.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&c.h), &r->fd, sizeof(int));
	}
	do
		n = zc__sys_sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n == -EINTR);
	if (n < 0)
		return (int)n;
	return send_rest(sock, (const char *)&w + n, sizeof(w) - (size_t)n);
}

ZC_EXPORT int zc_region_send(int sock, const struct zc_region *r)
{
	return zc__ret(region_send(sock, r));
}

/*
 * Keep the first fd that arrived in *fd and close any others: a region
 * needs one, and an extra one is the sender's to regret, not a reason to
 * refuse the region (zc_region_recv(3)). Descriptors past the room in the
 * control buffer were closed by the kernel (MSG_CTRUNC); the first always
 * fits.
 */
static void take_fds(struct msghdr *m, int *fd)
{
	struct cmsghdr *h;
	size_t i, n;
	int f;

	for (h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR(m, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&f, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (*fd < 0)
				*fd = f;
			else
				zc__sys_close(f);
		}
	}
}

/* One whole header; the fds that came with its first byte land in *fd. */
static int recv_wire(int sock, struct wire *w, int *fd)
{
	struct iovec iov = { w, sizeof(*w) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	union cmsg_fd c;
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(*w)) {
		iov.iov_base = (char *)w + got;
		iov.iov_len = sizeof(*w) - got;
		m.msg_control = got ? NULL : c.buf;
		m.msg_controllen = got ? 0 : sizeof(c.buf);
		n = zc__sys_recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
		if (n == -EINTR || (n == -EAGAIN && got && zc__wait_fd(sock, POLLIN) == 0))
			continue;
		if (n < 0)
			return (int)n;
		if (got == 0)
			take_fds(&m, fd);
		if (n == 0)
			return got ? -EBADMSG : -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

/*
 * Check the fd against the header: a regular file holding at least the
 * size claimed, with seals as the caller requires. Returns the size to map.
 */
static int64_t check_fd(struct zc_region *r, const struct wire *w, uint32_t flags)
{
	struct stat st;
	int e = zc__sys_fstat(r->fd, &st), fl;

	if (e < 0)
		return e;
	if (!S_ISREG(st.st_mode) || w->size > (uint64_t)st.st_size || w->size > SIZE_MAX)
		return -EBADMSG;
	r->seals = zc__seals_of(r->fd);
	if (!(r->seals & ZC_SEAL_SHRINK)) {
		if (flags & ZC_REGION_NEED_SEALS)
			return -EPERM;
		r->flags |= ZC_REGION_UNSEALED;
	}
	fl = zc__sys_fcntl(r->fd, F_GETFL, 0);
	if (fl < 0)
		return fl;
	/* A write seal makes a writable shared mapping fail with EPERM. */
	if ((fl & O_ACCMODE) == O_RDONLY || (r->seals & (ZC_SEAL_WRITE | ZC_SEAL_FUTURE_WRITE)))
		r->flags |= ZC_REGION_RDONLY;
	return (int64_t)w->size;
}

static int take_region(struct zc_region *r, const struct wire *w, uint32_t flags)
{
	int64_t size;

	if (w->magic != WIRE_MAGIC || w->version != WIRE_VERSION)
		return -EBADMSG;
	r->kind = w->kind;
	r->flags = (w->flags | flags) & ZC_REGION_RDONLY;
	strlcpy(r->name, w->name, sizeof(r->name));
	if (w->kind == ZC_REGION_SYSV) {
		/* A segment needs no fd: one that came along is extra, like the others. */
		if (r->fd >= 0)
			zc__sys_close(r->fd);
		return zc__sysv_attach(r, w->shmid, w->size);
	}
	if (!has_fd(w->kind) || r->fd < 0)
		return -EBADMSG;
	size = check_fd(r, w, flags);
	if (size < 0)
		return (int)size;
	return zc__region_map_fd(r, (uint64_t)size, true);
}

static int region_recv(int sock, struct zc_region *r, uint32_t flags)
{
	struct wire w = { 0 };	/* recv_wire fills it; cppcheck cannot see that */
	int e;

	if (flags & ~(ZC_REGION_RDONLY | ZC_REGION_NEED_SEALS))
		return -EINVAL;
	e = recv_wire(sock, &w, &r->fd);
	if (e == 0)
		e = take_region(r, &w, flags);
	if (e < 0) {
		/* kind may not say so yet: whatever fd arrived is ours to close */
		if (r->fd >= 0 && r->kind == ZC_REGION_NONE)
			zc__sys_close(r->fd);
		if (r->kind == ZC_REGION_NONE)
			r->fd = -1;
	}
	return e;
}

ZC_EXPORT int zc_region_recv(int sock, struct zc_region *r, uint32_t flags)
{
	int e = zc__region_begin(r);

	return zc__ret(zc__region_end(r, e < 0 ? e : region_recv(sock, r, flags)));
}
