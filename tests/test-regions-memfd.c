// SPDX-License-Identifier: MIT
/*
 * memfd regions, seals, and passing regions between processes over
 * SCM_RIGHTS: the receiver sees the sender's bytes, a sealed region cannot
 * be written or resized by the receiver however it reopens the fd, and a
 * header that lies about the size is refused without leaking the fd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"
#include "regions-helpers.h"

#define SIZE (256u << 10)

static void expect_fail(int r, int err)
{
	assert_int_equal(r, -1);
	assert_int_equal(errno, err);
}

static int sock_child;	/* the child's end of the socket pair */

static void test_memfd_basics(void **state)
{
	struct zc_region r;

	(void)state;
	expect_fail(zc_region_memfd(&r, "t", 0, 0), EINVAL);
	expect_fail(zc_region_memfd(&r, "t", 4096, 0x4000), EINVAL);
	expect_fail(zc_region_memfd(NULL, "t", 4096, 0), EINVAL);
	assert_int_equal(zc_region_memfd(&r, NULL, SIZE, 0), 0);
	assert_int_equal(r.kind, ZC_REGION_MEMFD);
	assert_int_equal(r.size, SIZE);
	assert_int_equal(r.seals, 0);
	assert_true(r.flags & ZC_REGION_UNSEALED);
	assert_int_equal(fcntl(r.fd, F_GETFD), FD_CLOEXEC);
	assert_int_equal(lseek(r.fd, 0, SEEK_END), SIZE);
	assert_int_equal(zc_region_seal(&r, 0x100), -1);
	assert_int_equal(zc_region_seal(&r, ZC_SEAL_HANDOUT), 0);
	assert_int_equal(r.seals, ZC_SEAL_HANDOUT);
	assert_false(r.flags & ZC_REGION_UNSEALED);
	/* FUTURE_WRITE leaves the creator's own mapping writable. */
	memset(r.addr, 0x5a, SIZE);
	assert_int_equal(zc_region_close(&r), 0);
}

static void test_resize_sync(void **state)
{
	unsigned char *data = t_pattern(8192, 11);
	struct zc_region r;
	size_t i;

	(void)state;
	assert_int_equal(zc_region_memfd(&r, "resize", 8192, 0), 0);
	memcpy(r.addr, data, 8192);
	assert_int_equal(zc_region_resize(&r, 1 << 20), 0);
	assert_int_equal(r.size, 1 << 20);
	assert_int_equal(lseek(r.fd, 0, SEEK_END), 1 << 20);
	t_assert_bytes(r.addr, 8192, data, 8192);
	for (i = 8192; i < r.size; i++)
		assert_int_equal(((unsigned char *)r.addr)[i], 0);
	assert_int_equal(zc_region_resize(&r, 4096), 0);
	assert_int_equal(lseek(r.fd, 0, SEEK_END), 4096);
	t_assert_bytes(r.addr, 4096, data, 4096);
	expect_fail(zc_region_resize(&r, 0), EINVAL);
	assert_int_equal(zc_region_sync(&r, 0, 0, 0), 0);
	assert_int_equal(zc_region_sync(&r, 100, 10, ZC_SYNC_ASYNC), 0);
	assert_int_equal(zc_region_sync(&r, 4096, 0, 0), 0);
	expect_fail(zc_region_sync(&r, 4097, 0, 0), EINVAL);
	expect_fail(zc_region_sync(&r, 0, 0, 0x80), EINVAL);
	assert_int_equal(zc_region_seal(&r, ZC_SEAL_GROW | ZC_SEAL_SHRINK), 0);
	expect_fail(zc_region_resize(&r, 8192), EPERM);
	expect_fail(zc_region_resize(&r, 1024), EPERM);
	assert_int_equal(r.size, 4096);
	assert_int_equal(zc_region_close(&r), 0);
	free(data);
}

/* The receiving child: recv, check the first half, write the second. */
static void receiver_writes(void *arg)
{
	unsigned char *want = t_pattern(SIZE, 5);
	struct zc_region r;

	(void)arg;
	t_check(zc_region_recv(sock_child, &r, 0) == 0);
	t_check(r.kind == *(uint32_t *)arg);
	t_check(r.size == SIZE);
	t_check(r.flags & ZC_REGION_UNSEALED);
	t_check(!(r.flags & ZC_REGION_RDONLY));
	t_check(memcmp(r.addr, want, SIZE / 2) == 0);
	memcpy((char *)r.addr + SIZE / 2, want + SIZE / 2, SIZE / 2);
	t_check(zc_region_close(&r) == 0);
	free(want);
}

static void pass_and_share(struct zc_region *r, int sock)
{
	unsigned char *want = t_pattern(SIZE, 5);
	uint32_t kind = r->kind;
	pid_t pid = t_spawn(receiver_writes, &kind);

	memcpy(r->addr, want, SIZE / 2);
	assert_int_equal(zc_region_send(sock, r), 0);
	assert_int_equal(t_wait_exit(pid), 0);
	t_assert_bytes(r->addr, r->size, want, SIZE);
	free(want);
}

static void test_pass_memfd(void **state)
{
	int *sv = *state;
	struct zc_region r;

	assert_int_equal(zc_region_memfd(&r, "pass", SIZE, 0), 0);
	pass_and_share(&r, sv[0]);
	assert_int_equal(zc_region_close(&r), 0);
}

static void test_pass_posix(void **state)
{
	int *sv = *state;
	struct zc_region r;
	char name[96];

	t_rname(name, "pass");
	assert_int_equal(zc_region_create(&r, name, SIZE, 0, 0), 0);
	pass_and_share(&r, sv[0]);
	assert_int_equal(zc_region_unlink(name), 0);
	assert_int_equal(zc_region_close(&r), 0);
}

static void expect_eperm_write(int fd)
{
	void *p;

	t_check(write(fd, "x", 1) == -1 && errno == EPERM);
	t_check(pwrite(fd, "x", 1, 0) == -1 && errno == EPERM);
	t_check(ftruncate(fd, 4096) == -1 && errno == EPERM);
	t_check(ftruncate(fd, SIZE * 2) == -1 && errno == EPERM);
	t_check(fallocate(fd, 0, 0, SIZE * 2) == -1 && errno == EPERM);
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	t_check(p == MAP_FAILED && errno == EPERM);
}

/* Sealed: nothing the receiver does to its fd, or to a reopened one, writes. */
static void receiver_sealed(void *arg)
{
	unsigned char *want = t_pattern(SIZE, 9);
	struct zc_region r;
	char path[64];
	int fd2;

	(void)arg;
	t_check(zc_region_recv(sock_child, &r, ZC_REGION_NEED_SEALS) == 0);
	t_check(r.size == SIZE);
	t_check(r.seals == ZC_SEAL_HANDOUT);
	t_check(!(r.flags & ZC_REGION_UNSEALED));
	t_check(r.flags & ZC_REGION_RDONLY);
	t_check(memcmp(r.addr, want, SIZE) == 0);
	expect_eperm_write(r.fd);
	t_check(zc_region_resize(&r, SIZE * 2) == -1 && errno == EPERM);
	t_check(zc_region_resize(&r, 4096) == -1 && errno == EPERM);
	t_check(r.size == SIZE);
	t_check(zc_region_seal(&r, ZC_SEAL_SEAL) == 0);	/* adding seals is allowed */

	snprintf(path, sizeof(path), "/proc/self/fd/%d", r.fd);
	fd2 = open(path, O_RDWR | O_CLOEXEC);
	t_check(fd2 >= 0);
	expect_eperm_write(fd2);
	close(fd2);
	t_check(zc_region_close(&r) == 0);
	free(want);
}

static void test_sealed_receiver(void **state)
{
	unsigned char *data = t_pattern(SIZE, 9);
	int *sv = *state;
	struct zc_region r;
	pid_t pid;

	pid = t_spawn(receiver_sealed, NULL);
	assert_int_equal(zc_region_memfd(&r, "sealed", SIZE, 0), 0);
	memcpy(r.addr, data, SIZE);
	assert_int_equal(zc_region_seal(&r, ZC_SEAL_HANDOUT), 0);
	assert_int_equal(zc_region_send(sv[0], &r), 0);
	assert_int_equal(t_wait_exit(pid), 0);
	t_assert_bytes(r.addr, r.size, data, SIZE);
	assert_int_equal(r.seals, ZC_SEAL_HANDOUT);
	assert_int_equal(zc_region_close(&r), 0);
	free(data);
}

/*
 * A read-only fd alone protects nothing: the receiver gets a read-only
 * region, reopens the fd read-write and writes. That is why seals exist,
 * and why the region says ZC_REGION_UNSEALED.
 */
static void test_unsealed_reported(void **state)
{
	int *sv = *state, before = t_fd_count(), ro;
	struct zc_region r, got, copy;
	char path[64];

	assert_int_equal(zc_region_memfd(&r, "ro", 4096, 0), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", r.fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(ro >= 0);
	copy = r;
	copy.fd = ro;
	assert_int_equal(zc_region_send(sv[0], &copy), 0);
	assert_int_equal(zc_region_recv(sv[1], &got, 0), 0);
	assert_true(got.flags & ZC_REGION_UNSEALED);
	assert_true(got.flags & ZC_REGION_RDONLY);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", got.fd);
	close(ro);
	ro = open(path, O_RDWR | O_CLOEXEC);
	assert_true(ro >= 0);
	assert_int_equal(pwrite(ro, "w", 1, 0), 1);
	assert_int_equal(((char *)r.addr)[0], 'w');
	close(ro);
	assert_int_equal(zc_region_close(&got), 0);

	/* NEED_SEALS refuses it, and the fd that came is closed. */
	assert_int_equal(zc_region_send(sv[0], &r), 0);
	expect_fail(zc_region_recv(sv[1], &got, ZC_REGION_NEED_SEALS), EPERM);
	assert_int_equal(got.fd, -1);
	assert_int_equal(zc_region_close(&r), 0);
	assert_int_equal(t_fd_count(), before);
}

/* A header claiming more than the fd holds is refused, nothing leaks. */
static void test_lying_size(void **state)
{
	int *sv = *state, before = t_fd_count();
	struct zc_region r, got, lie;

	assert_int_equal(zc_region_memfd(&r, "lie", 65536, 0), 0);
	lie = r;
	lie.size = 1 << 20;
	assert_int_equal(zc_region_send(sv[0], &lie), 0);
	expect_fail(zc_region_recv(sv[1], &got, 0), EBADMSG);
	assert_int_equal(got.kind, ZC_REGION_NONE);
	assert_null(got.addr);
	assert_int_equal(t_fd_count(), before + 1);

	/* Shrunk after sending: the receiver sees the real size, not the claim. */
	assert_int_equal(zc_region_send(sv[0], &r), 0);
	assert_int_equal(ftruncate(r.fd, 4096), 0);
	expect_fail(zc_region_recv(sv[1], &got, 0), EBADMSG);
	assert_int_equal(t_fd_count(), before + 1);

	/* Claiming less maps only what was claimed. */
	lie.size = 1000;
	assert_int_equal(zc_region_send(sv[0], &lie), 0);
	assert_int_equal(zc_region_recv(sv[1], &got, 0), 0);
	assert_int_equal(got.size, 1000);
	assert_int_equal(zc_region_close(&got), 0);
	assert_int_equal(zc_region_close(&r), 0);
	assert_int_equal(t_fd_count(), before);
}

static void test_bad_messages(void **state)
{
	int *sv = *state, before = t_fd_count(), pair[2];
	char junk[512];
	struct zc_region r, priv;

	memset(junk, 0x33, sizeof(junk));
	/* Garbage of the header's length: no fd, wrong magic. */
	assert_int_equal(zc_region_memfd(&r, "x", 4096, 0), 0);
	assert_int_equal(zc_region_send(sv[0], &r), 0);
	assert_int_equal(zc_region_close(&r), 0);
	assert_int_equal(zc_region_recv(sv[1], &r, 0), 0);	/* the real one first */
	assert_int_equal(zc_region_close(&r), 0);

	t_unix_pair(pair);
	assert_int_equal(write(pair[0], junk, 300), 300);
	expect_fail(zc_region_recv(pair[1], &r, 0), EBADMSG);
	assert_int_equal(write(pair[0], junk, 10), 10);
	close(pair[0]);
	expect_fail(zc_region_recv(pair[1], &r, 0), EBADMSG);	/* cut short */
	expect_fail(zc_region_recv(pair[1], &r, 0), ECONNRESET);
	close(pair[1]);
	expect_fail(zc_region_recv(sv[1], &r, 0x8000), EINVAL);

	/* A non-blocking socket with nothing in it: EAGAIN, nothing consumed. */
	t_unix_pair(pair);
	assert_int_equal(fcntl(pair[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(pair[0], F_SETFL, O_NONBLOCK), 0);
	expect_fail(zc_region_recv(pair[1], &r, 0), EAGAIN);
	assert_int_equal(zc_region_memfd(&priv, "nb", 4096, 0), 0);
	assert_int_equal(zc_region_send(pair[0], &priv), 0);
	assert_int_equal(zc_region_close(&priv), 0);
	assert_int_equal(zc_region_recv(pair[1], &r, 0), 0);
	assert_int_equal(r.size, 4096);
	assert_int_equal(zc_region_close(&r), 0);
	close(pair[0]);
	close(pair[1]);

	/* Nothing to send: a zeroed region, a private mapping. */
	memset(&r, 0, sizeof(r));
	expect_fail(zc_region_send(sv[0], &r), EINVAL);
	assert_int_equal(zc_region_memfd(&priv, "p", 4096, 0), 0);
	priv.flags |= ZC_REGION_PRIVATE;
	expect_fail(zc_region_send(sv[0], &priv), EINVAL);
	priv.flags &= ~ZC_REGION_PRIVATE;
	assert_int_equal(zc_region_close(&priv), 0);
	assert_int_equal(t_fd_count(), before);
}

/*
 * A valid header whose message carries descriptors beyond the region's:
 * the extras are closed and the region is taken (zc_region_send(3)). Eight
 * are more than the receiver has room for, which the kernel reports with
 * MSG_CTRUNC after closing what did not fit.
 */
static void test_extra_fds(void **state)
{
	int *sv = *state, fds[8], before, i;
	struct zc_region r, got;
	int n[] = { 2, 3, 8 };
	char hdr[1024];
	ssize_t len;

	assert_int_equal(zc_region_memfd(&r, "extra", 12345, 0), 0);
	memcpy(r.addr, "region", 6);
	assert_int_equal(zc_region_send(sv[0], &r), 0);
	len = t_recv_raw(sv[1], hdr, sizeof(hdr));
	fds[0] = r.fd;
	for (i = 1; i < 8; i++)
		fds[i] = t_memfd_with("extra", 5);
	before = t_fd_count();
	for (i = 0; i < 3; i++) {
		t_send_fds(sv[0], hdr, (size_t)len, fds, n[i]);
		assert_int_equal(zc_region_recv(sv[1], &got, 0), 0);
		assert_int_equal(got.kind, ZC_REGION_MEMFD);
		assert_int_equal(got.size, 12345);
		assert_memory_equal(got.addr, "region", 6);
		assert_int_equal(t_fd_count(), before + 1);
		assert_int_equal(zc_region_close(&got), 0);
		assert_int_equal(t_fd_count(), before);
	}
	for (i = 1; i < 8; i++)
		close(fds[i]);
	assert_int_equal(zc_region_close(&r), 0);
}

/*
 * More memory than the machine has: ENOMEM before a page is taken, from
 * every call that reserves. Without that check the memfd would take pages
 * until the OOM killer came; in the child RLIMIT_FSIZE makes fallocate fail
 * with EFBIG first, so a regression fails this test and not the machine.
 */
static void more_than_machine(void *arg)
{
	struct rlimit rl = { 1u << 30, 1u << 30 };
	struct zc_region r;
	char name[96];

	(void)arg;
	signal(SIGXFSZ, SIG_IGN);
	t_check(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	t_check(zc_region_memfd(&r, "huge", 1ull << 50, 0) == -1 && errno == ENOMEM);
	t_check(r.kind == ZC_REGION_NONE && r.fd == -1);
	t_check(zc_region_memfd(&r, "small", 4096, 0) == 0);
	t_check(zc_region_resize(&r, 1ull << 50) == -1 && errno == ENOMEM);
	t_check(r.size == 4096 && lseek(r.fd, 0, SEEK_END) == 4096);
	t_check(zc_region_close(&r) == 0);
	/* Bigger than /dev/shm too: that is ENOSPC, as a full /dev/shm always was. */
	t_rname(name, "huge");
	t_check(zc_region_create(&r, name, 1ull << 50, 0, 0) == -1 && errno == ENOSPC);
}

static void test_more_than_machine(void **state)
{
	(void)state;
	assert_int_equal(t_wait_exit(t_spawn(more_than_machine, NULL)), 0);
}

static int open_pair(void **state)
{
	static int sv[2];

	t_unix_pair(sv);
	sock_child = sv[1];
	*state = sv;
	return 0;
}

static int close_pair(void **state)
{
	int *sv = *state;

	close(sv[0]);
	close(sv[1]);
	return t_regions_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_memfd_basics, t_regions_teardown),
		cmocka_unit_test_teardown(test_resize_sync, t_regions_teardown),
		cmocka_unit_test_teardown(test_more_than_machine, t_regions_teardown),
		cmocka_unit_test_setup_teardown(test_pass_memfd, open_pair, close_pair),
		cmocka_unit_test_setup_teardown(test_pass_posix, open_pair, close_pair),
		cmocka_unit_test_setup_teardown(test_sealed_receiver, open_pair, close_pair),
		cmocka_unit_test_setup_teardown(test_unsealed_reported, open_pair, close_pair),
		cmocka_unit_test_setup_teardown(test_lying_size, open_pair, close_pair),
		cmocka_unit_test_setup_teardown(test_bad_messages, open_pair, close_pair),
		cmocka_unit_test_setup_teardown(test_extra_fds, open_pair, close_pair),
	};

	t_regions_init();
	return cmocka_run_group_tests_name("regions-memfd", tests, NULL, NULL);
}
