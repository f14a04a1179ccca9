// SPDX-License-Identifier: MIT
/*
 * Regions in a small memory cgroup. tmpfs and memfd pages are charged to
 * the cgroup of whoever takes them, and a cgroup at its limit does not say
 * ENOSPC: its OOM killer kills. A child moved into a cgroup of 64 MiB must
 * get ENOMEM for 256 MiB from every call that reserves memory, be able to
 * use 16 MiB, and live to say so.
 *
 * The test makes the cgroup itself, as root, under the process's own
 * memory cgroup (v1) or at the top of the unified hierarchy (v2, where a
 * cgroup that holds processes cannot give controllers to its children),
 * and removes it afterwards. Where none can be made it is skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"
#include "regions-helpers.h"

#define LIMIT (64u << 20)
#define BIG (256u << 20)
#define SMALL (16u << 20)

static char cg[PATH_MAX];	/* the cgroup made for the test, "" if none */
static const char *limit_file, *swap_file;
static bool enabled_memory;	/* we gave the v2 root's children the controller */

static bool write_to(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text);
}

static bool read_from(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0;
}

/* This process's memory cgroup: v1's path, or v2's with *v2 set. */
static bool own_cgroup(char *path, size_t size, bool *v2)
{
	char buf[4096], *line, *save = NULL, *c, *p;

	if (!read_from("/proc/self/cgroup", buf, sizeof(buf)))
		return false;
	*v2 = true;
	path[0] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		c = strchr(line, ':');
		p = c ? strchr(c + 1, ':') : NULL;
		if (!p)
			continue;
		*p = '\0';
		if (strcmp(c + 1, "") == 0 && *v2)
			snprintf(path, size, "%s", p + 1);
		if (strstr(c + 1, "memory")) {
			snprintf(path, size, "%s", p + 1);
			*v2 = false;
			break;
		}
	}
	return path[0] != '\0';
}

/* A new cgroup with LIMIT bytes of memory and no swap, into cg; why not, if not. */
static const char *make_cgroup(void)
{
	char own[PATH_MAX], ctl[256];
	bool v2;

	if (geteuid() != 0)
		return "not root";
	if (!own_cgroup(own, sizeof(own), &v2))
		return "no memory cgroup in /proc/self/cgroup";
	if (v2) {
		if (!read_from("/sys/fs/cgroup/cgroup.controllers", ctl, sizeof(ctl)) ||
		    !strstr(ctl, "memory"))
			return "cgroup v2 without the memory controller";
		if (!read_from("/sys/fs/cgroup/cgroup.subtree_control", ctl, sizeof(ctl)))
			return "cannot read /sys/fs/cgroup/cgroup.subtree_control";
		if (!strstr(ctl, "memory")) {
			if (!write_to("/sys/fs/cgroup", "cgroup.subtree_control", "+memory"))
				return "cannot enable the memory controller in /sys/fs/cgroup";
			enabled_memory = true;
		}
		snprintf(cg, sizeof(cg), "/sys/fs/cgroup/" T_REGION_PREFIX "%d-limit",
			 (int)getpid());
		limit_file = "memory.max";
		swap_file = "memory.swap.max";
	} else {
		snprintf(cg, sizeof(cg), "/sys/fs/cgroup/memory%s/" T_REGION_PREFIX "%d-limit",
			 strcmp(own, "/") ? own : "", (int)getpid());
		limit_file = "memory.limit_in_bytes";
		swap_file = "memory.memsw.limit_in_bytes";
	}
	if (mkdir(cg, 0755) < 0) {
		cg[0] = '\0';
		return "cannot make a cgroup (read-only cgroup filesystem?)";
	}
	snprintf(ctl, sizeof(ctl), "%u", LIMIT);
	if (!write_to(cg, limit_file, ctl))
		return "cannot set the cgroup's memory limit";
	/* No swap to hold more than the limit (absent without swap accounting). */
	write_to(cg, swap_file, v2 ? "0" : ctl);
	return NULL;
}

static void remove_cgroup(void)
{
	int i;

	/* v1 may need a moment after the last task has gone */
	for (i = 0; cg[0] && i < 100 && rmdir(cg) < 0 && errno == EBUSY; i++)
		usleep(10000);
	cg[0] = '\0';
	/* As it was; fails harmlessly if others have come to use it meanwhile. */
	if (enabled_memory)
		write_to("/sys/fs/cgroup", "cgroup.subtree_control", "-memory");
	enabled_memory = false;
}

static int setup(void **state)
{
	const char *why = make_cgroup();

	*state = (void *)why;
	if (why)
		remove_cgroup();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	remove_cgroup();
	return t_regions_teardown(state);
}

static void expect_enomem(int r, struct zc_region *reg)
{
	t_check(r == -1 && errno == ENOMEM);
	t_check(reg->kind == ZC_REGION_NONE && reg->fd == -1 && reg->addr == NULL);
}

/* Inside the cgroup: refusals for what cannot fit, real use of what can. */
static void in_small_cgroup(void *arg)
{
	char name[96], file[] = "/tmp/zcr-limit-XXXXXX";
	struct zc_region r;
	int fd;

	(void)arg;
	expect_enomem(zc_region_memfd(&r, "big", BIG, 0), &r);
	t_check(zc_region_memfd(&r, "small", SMALL, 0) == 0);
	memset(r.addr, 0x5a, SMALL);
	/* Growing past the limit: refused, and the region keeps its size. */
	t_check(zc_region_resize(&r, BIG) == -1 && errno == ENOMEM);
	t_check(r.size == SMALL && ((unsigned char *)r.addr)[SMALL - 1] == 0x5a);
	t_check(zc_region_close(&r) == 0);

	t_rname(name, "limit");
	expect_enomem(zc_region_create(&r, name, BIG, 0, 0), &r);
	t_check(zc_region_open(&r, name, 0) == -1 && errno == ENOENT);
	t_check(zc_region_create(&r, name, SMALL, 0, 0) == 0);
	memset(r.addr, 0xa5, SMALL);
	t_check(zc_region_remove(&r) == 0);
	t_check(zc_region_close(&r) == 0);

	/* A copy of a sparse file takes the memory the file does not. */
	fd = mkstemp(file);
	t_check(fd >= 0);
	t_check(unlink(file) == 0);
	t_check(ftruncate(fd, BIG) == 0);
	expect_enomem(zc_region_load_fd(&r, fd, ZC_REGION_COPY), &r);
	t_check(zc_region_load_fd(&r, fd, 0) == 0);	/* the page cache's own: allowed */
	t_check(zc_region_close(&r) == 0);
	close(fd);
}

/* Waits until the parent has moved it into the cgroup. */
static void gated_child(void *arg)
{
	t_gate_wait(arg);
	in_small_cgroup(NULL);
}

static void test_small_cgroup(void **state)
{
	const char *why = *state;
	char pid[32];
	int gate[2], st;
	pid_t child;

	if (why) {
		print_message("skipped: %s\n", why);
		skip();
	}
	t_gate_open(gate);
	child = t_spawn(gated_child, gate);
	snprintf(pid, sizeof(pid), "%d", (int)child);
	if (!write_to(cg, "cgroup.procs", pid)) {
		kill(child, SIGKILL);
		waitpid(child, &st, 0);
		fail_msg("cannot move the child into %s", cg);
	}
	t_gate_release(gate);
	assert_int_equal(waitpid(child, &st, 0), child);
	remove_cgroup();
	/* The OOM killer's SIGKILL is what this test is about. */
	if (WIFSIGNALED(st))
		fail_msg("child killed by signal %d in a %u MiB cgroup", WTERMSIG(st),
			 LIMIT >> 20);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_small_cgroup, setup, teardown),
	};

	t_regions_init();
	return cmocka_run_group_tests_name("regions-limit", tests, NULL, NULL);
}
