// SPDX-License-Identifier: MIT
/*
 * Region code against a scripted kernel: the library's objects linked
 * statically with -Wl,--wrap=zc_sys_* so that single steps can fail (ENOSPC
 * from fallocate, EINTR from flock, EOPNOTSUPP) or come in pieces (a header
 * sent and received a few bytes at a time).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"
#include "regions-helpers.h"

int __real_zc_sys_fallocate(int fd, int mode, int64_t off, int64_t len);
int __real_zc_sys_flock(int fd, int op);
ssize_t __real_zc_sys_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t __real_zc_sys_sendmsg(int fd, const struct msghdr *msg, int flags);

/* What the next calls should do; 0 means "the real thing". */
static int fallocate_err, flock_eintr, recv_piece, send_piece;

int __wrap_zc_sys_fallocate(int fd, int mode, int64_t off, int64_t len);
int __wrap_zc_sys_fallocate(int fd, int mode, int64_t off, int64_t len)
{
	return fallocate_err ? -fallocate_err : __real_zc_sys_fallocate(fd, mode, off, len);
}

int __wrap_zc_sys_flock(int fd, int op);
int __wrap_zc_sys_flock(int fd, int op)
{
	if (flock_eintr > 0) {
		flock_eintr--;
		return -EINTR;
	}
	return __real_zc_sys_flock(fd, op);
}

/* Hand out at most recv_piece bytes per call, as a stream socket may. */
ssize_t __wrap_zc_sys_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t __wrap_zc_sys_recvmsg(int fd, struct msghdr *msg, int flags)
{
	if (recv_piece && msg->msg_iov[0].iov_len > (size_t)recv_piece)
		msg->msg_iov[0].iov_len = (size_t)recv_piece;
	return __real_zc_sys_recvmsg(fd, msg, flags);
}

ssize_t __wrap_zc_sys_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t __wrap_zc_sys_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct msghdr m = *msg;
	struct iovec iov = msg->msg_iov[0];

	if (send_piece && iov.iov_len > (size_t)send_piece) {
		iov.iov_len = (size_t)send_piece;
		m.msg_iov = &iov;
	}
	return __real_zc_sys_sendmsg(fd, &m, flags);
}

static bool shm_exists(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	return access(path, F_OK) == 0;
}

static void test_enospc_leaves_nothing(void **state)
{
	int fds = t_fd_count();
	struct zc_region r;
	char name[96];

	(void)state;
	t_rname(name, "unit-full");
	fallocate_err = ENOSPC;
	assert_int_equal(zc_region_create(&r, name, 4096, 0, 0), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(zc_region_memfd(&r, "u", 4096, 0), -1);
	assert_int_equal(errno, ENOSPC);
	fallocate_err = 0;
	assert_false(shm_exists(name));
	assert_int_equal(r.fd, -1);
	assert_int_equal(t_fd_count(), fds);

	/* A growth that fails keeps the old size and mapping. */
	assert_int_equal(zc_region_memfd(&r, "u", 4096, 0), 0);
	fallocate_err = ENOSPC;
	assert_int_equal(zc_region_resize(&r, 1 << 20), -1);
	assert_int_equal(errno, ENOSPC);
	fallocate_err = 0;
	assert_int_equal(r.size, 4096);
	assert_int_equal(lseek(r.fd, 0, SEEK_END), 4096);
	assert_int_equal(zc_region_close(&r), 0);
}

/* Without fallocate the size is still set, by ftruncate. */
static void test_no_fallocate(void **state)
{
	struct zc_region r;

	(void)state;
	fallocate_err = EOPNOTSUPP;
	assert_int_equal(zc_region_memfd(&r, "u", 12345, 0), 0);
	fallocate_err = 0;
	assert_int_equal(lseek(r.fd, 0, SEEK_END), 12345);
	assert_int_equal(r.size, 12345);
	assert_int_equal(zc_region_close(&r), 0);
}

static void test_flock_eintr(void **state)
{
	struct zc_region r, o;
	char name[96];

	(void)state;
	t_rname(name, "unit-eintr");
	flock_eintr = 2;
	assert_int_equal(zc_region_create(&r, name, 4096, 0, 0), 0);
	flock_eintr = 3;
	assert_int_equal(zc_region_open(&o, name, 0), 0);
	assert_int_equal(flock_eintr, 0);
	assert_int_equal(zc_region_remove(&r), 0);
	assert_int_equal(zc_region_close(&o), 0);
	assert_int_equal(zc_region_close(&r), 0);
}

/* A header that goes out and comes in a few bytes at a time arrives whole. */
static void test_header_in_pieces(void **state)
{
	static const int pieces[] = { 1, 7, 100 };
	struct zc_region r, got;
	int sv[2], fds;
	size_t i;

	(void)state;
	t_unix_pair(sv);
	fds = t_fd_count();
	assert_int_equal(zc_region_memfd(&r, "pieces", 8192, 0), 0);
	memcpy(r.addr, "whole", 5);
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		send_piece = recv_piece = pieces[i];
		assert_int_equal(zc_region_send(sv[0], &r), 0);
		assert_int_equal(zc_region_recv(sv[1], &got, 0), 0);
		send_piece = recv_piece = 0;
		assert_int_equal(got.size, 8192);
		assert_memory_equal(got.addr, "whole", 5);
		assert_int_equal(zc_region_close(&got), 0);
	}
	assert_int_equal(zc_region_close(&r), 0);
	assert_int_equal(t_fd_count(), fds);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_enospc_leaves_nothing, t_regions_teardown),
		cmocka_unit_test_teardown(test_no_fallocate, t_regions_teardown),
		cmocka_unit_test_teardown(test_flock_eintr, t_regions_teardown),
		cmocka_unit_test_teardown(test_header_in_pieces, t_regions_teardown),
	};

	t_regions_init();
	return cmocka_run_group_tests_name("regions-unit", tests, NULL, NULL);
}
