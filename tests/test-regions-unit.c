// SPDX-License-Identifier: MIT
/*
 * Region code against a scripted kernel, through the fault seam (fault.h):
 * single steps fail (ENOSPC from fallocate, EINTR from flock, EOPNOTSUPP)
 * or come in pieces (a header sent and received a byte at a time).
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

#include "fault.h"
#include "helpers.h"
#include "regions-helpers.h"

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
	t_fault_reset();
	t_fault_add("fallocate", 0, T_FAIL, ENOSPC);
	assert_int_equal(zc_region_create(&r, name, 4096, 0, 0), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(zc_region_memfd(&r, "u", 4096, 0), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(t_fault_fired(), 2);
	t_fault_reset();
	assert_false(shm_exists(name));
	assert_int_equal(r.fd, -1);
	assert_int_equal(t_fd_count(), fds);

	/* A growth that fails keeps the old size and mapping. */
	assert_int_equal(zc_region_memfd(&r, "u", 4096, 0), 0);
	t_fault_add("fallocate", 1, T_FAIL, ENOSPC);
	assert_int_equal(zc_region_resize(&r, 1 << 20), -1);
	assert_int_equal(errno, ENOSPC);
	t_fault_reset();
	assert_int_equal(r.size, 4096);
	assert_int_equal(lseek(r.fd, 0, SEEK_END), 4096);
	assert_int_equal(zc_region_close(&r), 0);
}

/* Without fallocate the size is still set, by ftruncate. */
static void test_no_fallocate(void **state)
{
	struct zc_region r;

	(void)state;
	t_fault_reset();
	t_fault_add("fallocate", 1, T_FAIL, EOPNOTSUPP);
	assert_int_equal(zc_region_memfd(&r, "u", 12345, 0), 0);
	assert_int_equal(t_fault_calls(T_NR_ftruncate), 1);
	t_fault_reset();
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
	t_fault_reset();
	t_fault_add("flock", 1, T_FAIL, EINTR);
	t_fault_add("flock", 2, T_FAIL, EINTR);
	assert_int_equal(zc_region_create(&r, name, 4096, 0, 0), 0);
	t_fault_add("flock", 1, T_FAIL, EINTR);	/* counted from here */
	assert_int_equal(zc_region_open(&o, name, 0), 0);
	assert_int_equal(t_fault_fired(), 3);
	assert_int_equal(t_fault_calls(T_NR_flock), 5);
	t_fault_reset();
	assert_int_equal(zc_region_remove(&r), 0);
	assert_int_equal(zc_region_close(&o), 0);
	assert_int_equal(zc_region_close(&r), 0);
}

/* A header that goes out and comes in a few bytes at a time arrives whole. */
static void test_header_in_pieces(void **state)
{
	struct zc_region r, got;
	int sv[2], fds;

	(void)state;
	t_unix_pair(sv);
	fds = t_fd_count();
	assert_int_equal(zc_region_memfd(&r, "pieces", 8192, 0), 0);
	memcpy(r.addr, "whole", 5);
	t_fault_reset();
	t_fault_add("sendmsg", 0, T_SHORT, 0);
	t_fault_add("recvmsg", 0, T_SHORT, 0);
	assert_int_equal(zc_region_send(sv[0], &r), 0);
	assert_int_equal(zc_region_recv(sv[1], &got, 0), 0);
	/* One byte and the fd by sendmsg, the rest by send; received a byte a call. */
	assert_int_equal(t_fault_calls(T_NR_sendmsg), 1);
	assert_int_equal(t_fault_calls(T_NR_send), 1);
	assert_true(t_fault_calls(T_NR_recvmsg) > 100);
	t_fault_reset();
	assert_int_equal(got.size, 8192);
	assert_memory_equal(got.addr, "whole", 5);
	assert_int_equal(zc_region_close(&got), 0);
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
