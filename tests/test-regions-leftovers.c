// SPDX-License-Identifier: MIT
/*
 * Runs after every other test: no region test may leave a name in /dev/shm
 * or a System V segment behind, whatever happened to it. Removes what it
 * finds, so one bad run does not poison the next.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>
#include <cmocka.h>

#include "regions-helpers.h"

static void test_nothing_left(void **state)
{
	(void)state;
	assert_int_equal(t_regions_sweep(1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_left),
	};

	t_regions_init();
	return cmocka_run_group_tests_name("regions-leftovers", tests, NULL, NULL);
}
