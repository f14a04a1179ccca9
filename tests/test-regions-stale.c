// SPDX-License-Identifier: MIT
/*
 * Stale-region cleanup: a region whose creator was killed is found and
 * removed; one still held by a live process, one a live creator holds, and
 * a file this library did not create are left alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"
#include "regions-helpers.h"

static char prefix[96];

static void tagged(char *out, const char *tag)
{
	snprintf(out, 128, "%s%s", prefix, tag);
}

static void create_and_wait(void *arg)
{
	struct zc_region r;

	t_check(zc_region_create(&r, arg, 4096, 0, 0) == 0);
	memcpy(r.addr, "alive", 5);
	t_ready();
	pause();
}

/* A creator that makes its region and is then killed with SIGKILL. */
static void killed_creator(char *name)
{
	t_kill(t_spawn_ready(create_and_wait, name));
}

static bool exists(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	return access(path, F_OK) == 0;
}

struct seen {
	int n;
	char last[128];
};

static void note_found(const char *name, void *arg)
{
	struct seen *s = arg;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", name);
}

static void test_killed_creator(void **state)
{
	char dead[128], held[128], live[128], foreign[128], path[PATH_MAX];
	struct zc_region h, l;
	struct seen s = { 0 };
	int fd;

	(void)state;
	tagged(dead, "dead");
	tagged(held, "held");
	tagged(live, "live");
	tagged(foreign, "foreign");
	killed_creator(dead);
	killed_creator(held);
	assert_int_equal(zc_region_open(&h, held, 0), 0);	/* a reader still holds it */
	assert_int_equal(zc_region_close(&h), 0);
	assert_int_equal(zc_region_open(&h, held, 0), 0);
	assert_memory_equal(h.addr, "alive", 5);
	assert_int_equal(zc_region_create(&l, live, 4096, 0, 0), 0);
	snprintf(path, sizeof(path), "/dev/shm/%s", foreign);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(zc_region_cleanup(prefix, ZC_CLEANUP_LIST_ONLY, note_found, &s), 1);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.last, dead);
	assert_true(exists(dead));
	assert_int_equal(zc_region_cleanup(prefix, 0, note_found, &s), 1);
	assert_false(exists(dead));
	assert_true(exists(held) && exists(live) && exists(foreign));
	assert_int_equal(zc_region_cleanup(prefix, 0, NULL, NULL), 0);

	/* Once the last holder is gone, its region is stale too. */
	assert_int_equal(zc_region_close(&h), 0);
	assert_int_equal(zc_region_cleanup(prefix, 0, NULL, NULL), 1);
	assert_false(exists(held));
	assert_int_equal(zc_region_open(&h, held, 0), -1);
	assert_int_equal(errno, ENOENT);
	assert_true(exists(live) && exists(foreign));
	assert_int_equal(zc_region_remove(&l), 0);
	assert_int_equal(zc_region_close(&l), 0);
	assert_int_equal(unlink(path), 0);
}

/*
 * Between the cleaner's check that a name leads to the stale object and its
 * removal, another process unlinks the name and creates a live region under
 * it. found() runs at exactly that point, so it plays the other process.
 */
struct replace {
	char name[128];
	struct zc_region live;
	int n;
};

static void replace_it(const char *name, void *arg)
{
	struct replace *p = arg;

	p->n++;
	assert_string_equal(name, p->name);
	assert_int_equal(zc_region_unlink(name), 0);
	assert_int_equal(zc_region_create(&p->live, name, 8192, 0, 0), 0);
	memcpy(p->live.addr, "live", 4);
}

static void test_replaced_during_cleanup(void **state)
{
	struct replace p = { .n = 0 };
	char path[PATH_MAX];
	struct stat a, b;
	struct zc_region o;

	(void)state;
	tagged(p.name, "replaced");
	killed_creator(p.name);
	assert_int_equal(zc_region_cleanup(prefix, 0, replace_it, &p), 0);
	assert_int_equal(p.n, 1);
	/* The name still leads to the live region, which is untouched. */
	snprintf(path, sizeof(path), "/dev/shm/%s", p.name);
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(fstat(p.live.fd, &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	assert_int_equal(zc_region_open(&o, p.name, 0), 0);
	assert_int_equal(o.size, 8192);
	assert_memory_equal(o.addr, "live", 4);
	assert_int_equal(zc_region_close(&o), 0);
	/* It is held, so a second pass leaves it alone too. */
	assert_int_equal(zc_region_cleanup(prefix, 0, NULL, NULL), 0);
	assert_true(exists(p.name));
	assert_int_equal(zc_region_remove(&p.live), 0);
	assert_int_equal(zc_region_close(&p.live), 0);
}

static void test_bad_prefix(void **state)
{
	(void)state;
	assert_int_equal(zc_region_cleanup("a/b", 0, NULL, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(zc_region_cleanup(prefix, 0x10, NULL, NULL), -1);
	assert_int_equal(errno, EINVAL);
	/* Leading slashes are part of no name, as for the regions themselves. */
	assert_int_equal(zc_region_cleanup("//zcr-nothing-here-", 0, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_killed_creator, t_regions_teardown),
		cmocka_unit_test_teardown(test_replaced_during_cleanup, t_regions_teardown),
		cmocka_unit_test_teardown(test_bad_prefix, t_regions_teardown),
	};

	t_regions_init();
	t_rname(prefix, "stale-");
	return cmocka_run_group_tests_name("regions-stale", tests, NULL, NULL);
}
