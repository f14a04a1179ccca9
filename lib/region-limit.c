// SPDX-License-Identifier: MIT
/*
 * Whether the memory for a region can be had at all, asked before any of
 * it is taken.
 *
 * tmpfs and memfd pages are charged to the memory cgroup of the process
 * that takes them. zc__region_reserve takes them all at once, which turns a
 * full /dev/shm into ENOSPC; but a cgroup at its limit is not a full
 * filesystem: the kernel reclaims what it can, then its OOM killer kills a
 * process of the cgroup, likely the caller, inside the call. And a memfd
 * has no size limit of its own: with no cgroup limit, a big one drives the
 * whole machine into the OOM killer. So a size the process cannot hold is
 * refused first, with ENOMEM:
 *
 *   - more than a cgroup it is in allows: at its own level and every level
 *     above, the limit less the usage, plus, only when that is not enough,
 *     the file cache the cgroup could reclaim and the swap it may still use;
 *   - more than the machine has: MemAvailable plus SwapFree.
 *
 * It is an estimate made before the memory is taken: a size that fits can
 * still fail if others take memory meanwhile (the kernel then acts as it
 * always did), but a size that cannot fit is never tried. A file that
 * cannot be read limits nothing. The cost, per region made or grown, is one
 * read each of /proc/meminfo, /proc/self/cgroup and the limit of every
 * cgroup level up to the top; usage, memory.stat and swap are read only at
 * a level with a limit, the last two only when the size comes near it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "region.h"

#define FILE_BUF 4096

/* What one cgroup version calls its files. */
struct cg_files {
	const char *mount;	/* under the root */
	const char *limit, *usage;
	const char *swap_limit, *swap_usage;	/* v1: memory and swap together */
	const char *active, *inactive;	/* file cache, in memory.stat */
	bool swap_with_memory;
};

static const struct cg_files v2 = {
	"/sys/fs/cgroup", "memory.max", "memory.current", "memory.swap.max",
	"memory.swap.current", "active_file", "inactive_file", false,
};

static const struct cg_files v1 = {
	"/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes",
	"memory.memsw.limit_in_bytes", "memory.memsw.usage_in_bytes", "total_active_file",
	"total_inactive_file", true,
};

/* What the machine has: available memory and swap, and both in total. */
struct machine {
	uint64_t avail;
	uint64_t swap_free;
	uint64_t total;
};

/*
 * A small kernel file, NUL-terminated; its length or -errno. procfs and
 * cgroupfs hand such a file over whole in one read.
 */
static ssize_t slurp(const char *path, char *buf, size_t size)
{
	int fd = zc__sys_open(path, O_RDONLY | O_CLOEXEC, 0);
	ssize_t n;

	if (fd < 0)
		return fd;
	do
		n = zc__sys_read(fd, buf, size - 1);
	while (n == -EINTR);
	zc__sys_close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* The decimal number at s; UINT64_MAX for "max" or one too big. */
static uint64_t number(const char *s)
{
	uint64_t v = 0;

	if (strncmp(s, "max", 3) == 0)
		return UINT64_MAX;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return UINT64_MAX;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	return v;
}

static const char *next_line(const char *p)
{
	p = strchr(p, '\n');
	return p ? p + 1 : NULL;
}

/* The number after "key" ("key value" or "Key: value kB") on a line of buf, or def. */
static uint64_t field(const char *buf, const char *key, uint64_t def)
{
	size_t len = strlen(key);
	const char *p;

	for (p = buf; p; p = next_line(p)) {
		if (strncmp(p, key, len) != 0 || (p[len] != ' ' && p[len] != ':'))
			continue;
		for (p += len + 1; *p == ' '; p++)
			;
		return number(p);
	}
	return def;
}

static int read_number(const char *dir, const char *file, uint64_t *v)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return -ENAMETOOLONG;
	n = slurp(path, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 ? (int)n : -EINVAL;
	*v = number(buf);
	return 0;
}

static void read_machine(const char *root, struct machine *m)
{
	char path[PATH_MAX], buf[FILE_BUF];
	uint64_t avail, total;

	*m = (struct machine){ UINT64_MAX, 0, UINT64_MAX };
	snprintf(path, sizeof(path), "%s/proc/meminfo", root);
	if (slurp(path, buf, sizeof(buf)) <= 0)
		return;
	/* In KiB; a field missing (MemAvailable came in Linux 3.14) limits nothing. */
	m->swap_free = field(buf, "SwapFree", 0) * 1024;
	avail = field(buf, "MemAvailable", UINT64_MAX);
	if (avail != UINT64_MAX)
		m->avail = avail * 1024 + m->swap_free;
	total = field(buf, "MemTotal", UINT64_MAX);
	if (total != UINT64_MAX)
		m->total = (total + field(buf, "SwapTotal", 0)) * 1024;
}

static uint64_t add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Swap this level still lets its memory go to, beyond mem_room. */
static uint64_t swap_room(const char *dir, const struct cg_files *f, const struct machine *m,
			  uint64_t mem_room)
{
	uint64_t limit, usage, room;

	if (m->swap_free == 0)
		return 0;
	if (read_number(dir, f->swap_limit, &limit) < 0 || limit == UINT64_MAX ||
	    read_number(dir, f->swap_usage, &usage) < 0)
		return m->swap_free;	/* no swap limit here */
	room = limit > usage ? limit - usage : 0;
	/* v1 counts memory and swap together: what it leaves beyond the memory */
	if (f->swap_with_memory)
		room = room > mem_room ? room - mem_room : 0;
	return ZC_MIN(room, m->swap_free);
}

/* Whether size more bytes fit in the cgroup at dir: 0 or -ENOMEM. */
static int level_fits(const char *dir, const struct cg_files *f, const struct machine *m,
		      uint64_t size)
{
	char path[PATH_MAX], buf[FILE_BUF];
	uint64_t limit, usage, room;

	/* No limit here, or none tighter than the machine itself. */
	if (read_number(dir, f->limit, &limit) < 0 || limit >= m->total ||
	    read_number(dir, f->usage, &usage) < 0)
		return 0;
	room = limit > usage ? limit - usage : 0;
	if (size <= room)
		return 0;
	room = add(room, swap_room(dir, f, m, room));
	if (snprintf(path, sizeof(path), "%s/memory.stat", dir) < (int)sizeof(path) &&
	    slurp(path, buf, sizeof(buf)) > 0)
		room = add(room, add(field(buf, f->active, 0), field(buf, f->inactive, 0)));
	return size > room ? -ENOMEM : 0;
}

/* Whether a v1 line's list of controllers has the memory controller. */
static bool has_memory(const char *ctl)
{
	size_t len;

	for (;;) {
		len = strcspn(ctl, ",");
		if (len == 6 && strncmp(ctl, "memory", 6) == 0)
			return true;
		if (!ctl[len])
			return false;
		ctl += len + 1;
	}
}

/*
 * The memory controller's cgroup from /proc/self/cgroup, as a directory:
 * v1's "N:...memory...:/path" where memory has a hierarchy of its own, else
 * v2's "0::/path". false if neither, or for a path that leaves the mount (a
 * cgroup outside this process's cgroup namespace).
 */
static bool find_cgroup(const char *root, char *dir, size_t size, const struct cg_files **f)
{
	char buf[FILE_BUF], path[PATH_MAX], *line, *save = NULL, *ctl, *end, *cg = NULL;

	snprintf(path, sizeof(path), "%s/proc/self/cgroup", root);
	if (slurp(path, buf, sizeof(buf)) <= 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		ctl = strchr(line, ':');
		end = ctl ? strchr(ctl + 1, ':') : NULL;
		if (!end)
			continue;
		*end = '\0';
		if (has_memory(++ctl)) {
			cg = end + 1;
			*f = &v1;
			break;
		}
		if (ctl[0] == '\0') {
			cg = end + 1;
			*f = &v2;
		}
	}
	if (!cg || cg[0] != '/' || strstr(cg, "/.."))
		return false;
	/* The top is the mount itself, without a slash after it. */
	return (size_t)snprintf(dir, size, "%s%s%s", root, (*f)->mount,
				cg[1] ? cg : "") < size;
}

int zc__region_fits_at(const char *root, uint64_t size)
{
	const struct cg_files *f = NULL;
	char dir[PATH_MAX], *slash;
	size_t base;
	struct machine m;
	int e;

	read_machine(root, &m);
	if (size > m.avail)
		return -ENOMEM;
	if (!find_cgroup(root, dir, sizeof(dir), &f))
		return 0;
	/* Every level up to the top must have room: the tightest one decides. */
	base = strlen(root) + strlen(f->mount);
	for (;;) {
		e = level_fits(dir, f, &m, size);
		slash = strrchr(dir + base, '/');
		if (e < 0 || !slash)
			return e;
		*slash = '\0';
	}
}

int zc__region_fits(uint64_t size)
{
	return zc__region_fits_at("", size);
}
