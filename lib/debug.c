// SPDX-License-Identifier: MIT
/*
 * Seeing what a call did: names for paths and fd types, the environment
 * settings ZCOPY_DEBUG and ZCOPY_DISABLE, and the ZCOPY_DEBUG line.
 *
 * The environment is read once, when the library is loaded, with
 * secure_getenv so a setuid program ignores it. Changing it later has no
 * effect: a hot path must not parse strings, and getenv is not thread-safe
 * against setenv.
 */
#define _GNU_SOURCE
#include <bsd/string.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define STR(x) #x
#define XSTR(x) STR(x)

int zc__debug;
unsigned int zc__disabled;

static const char *const path_names[] = {
	[ZC_PATH_NONE] = "none",
	[ZC_PATH_COPY_FILE_RANGE] = "copy_file_range",
	[ZC_PATH_SPLICE] = "splice",
	[ZC_PATH_SENDFILE] = "sendfile",
	[ZC_PATH_MMAP_WRITE] = "mmap_write",
	[ZC_PATH_READ_WRITE] = "read_write",
	[ZC_PATH_VMSPLICE] = "vmsplice",
	[ZC_PATH_CLONE] = "clone",
};

static const char *const type_names[] = {
	[ZC_FD_UNKNOWN] = "unknown",
	[ZC_FD_FILE] = "file",
	[ZC_FD_SHM] = "shm",
	[ZC_FD_PIPE] = "pipe",
	[ZC_FD_SOCKET] = "socket",
	[ZC_FD_CHAR] = "char",
	[ZC_FD_TTY] = "tty",
	[ZC_FD_BLOCK] = "block",
	[ZC_FD_DIR] = "dir",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *path_name(uint32_t path)
{
	return path < COUNT(path_names) ? path_names[path] : NULL;
}

static const char *fd_type_name(uint32_t type)
{
	return type < COUNT(type_names) ? type_names[type] : NULL;
}

ZC_EXPORT const char *zc_path_name(uint32_t path)
{
	return path_name(path);
}

ZC_EXPORT const char *zc_fd_type_name(uint32_t type)
{
	return fd_type_name(type);
}

ZC_EXPORT const char *zc_version(void)
{
	return XSTR(ZC_VERSION_MAJOR) "." XSTR(ZC_VERSION_MINOR) "." XSTR(ZC_VERSION_PATCH);
}

const char *zc__errno_name(int err)
{
	const char *name = err ? strerrorname_np(err) : "EOF";

	return name ? name : "E?";
}

/* "splice,sendfile" -> ZC_NO_SPLICE | ZC_NO_SENDFILE; unknown names are ignored. */
static unsigned int parse_disable(const char *list)
{
	char buf[256], *tok, *save;
	unsigned int mask = 0, i;

	strlcpy(buf, list, sizeof(buf));
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		for (i = 1; i < COUNT(path_names); i++)
			if (strcmp(tok, path_names[i]) == 0)
				mask |= zc__path_off_flag(i);
	return mask;
}

void zc__env_load(void)
{
	const char *dbg = secure_getenv("ZCOPY_DEBUG");
	const char *dis = secure_getenv("ZCOPY_DISABLE");

	zc__debug = dbg && *dbg && strcmp(dbg, "0") != 0;
	zc__disabled = dis ? parse_disable(dis) : 0;
}

__attribute__((constructor)) static void debug_init(void)
{
	zc__env_load();
}

static void append_paths(char *line, size_t size, const struct zc_stats *s)
{
	uint32_t i;

	strlcat(line, " path=", size);
	if (s->npaths == 0)
		strlcat(line, "none", size);
	for (i = 0; i < s->npaths; i++) {
		if (i)
			strlcat(line, ",", size);
		strlcat(line, path_name(s->paths[i]), size);
	}
}

static void append_fallbacks(char *line, size_t size, const struct zc_stats *s)
{
	char item[64];
	uint32_t i;

	if (s->nfallbacks == 0)
		return;
	strlcat(line, " fallback=", size);
	for (i = 0; i < s->nfallbacks; i++) {
		snprintf(item, sizeof(item), "%s%s:%s", i ? "," : "",
			 path_name(s->fallback_path[i]), zc__errno_name(s->fallback_errno[i]));
		strlcat(line, item, size);
	}
}

/*
 * One line per call, written with a single write(2) so that lines from
 * several threads do not interleave:
 *   zcopy: src=3(file) dst=4(socket) bytes=1048589 path=sendfile syscalls=5
 * with " holes=N" after the paths when N bytes of holes were kept as holes.
 */
void zc__debug_line(const struct zc__xfer *x)
{
	const struct zc_stats *s = x->stats;
	char line[512], tail[96];
	struct zc__sigpipe sp;
	ssize_t r;
	int n;

	snprintf(line, sizeof(line), "zcopy: src=%d(%s) dst=%d(%s) bytes=%llu", x->src.fd,
		 fd_type_name(s->src_type), x->dst.fd, fd_type_name(s->dst_type),
		 (unsigned long long)s->bytes);
	append_paths(line, sizeof(line), s);
	append_fallbacks(line, sizeof(line), s);
	if (s->holes) {
		snprintf(tail, sizeof(tail), " holes=%llu", (unsigned long long)s->holes);
		strlcat(line, tail, sizeof(line));
	}
	n = snprintf(tail, sizeof(tail), " syscalls=%llu%s%s\n", (unsigned long long)s->syscalls,
		     s->error ? " error=" : "", s->error ? zc__errno_name(s->error) : "");
	if (n > 0)
		strlcat(line, tail, sizeof(line));
	/* stderr may be a pipe whose reader is gone: that must not kill either. */
	zc__sigpipe_block(&sp);
	r = zc__sys_write(STDERR_FILENO, line, strlen(line));
	zc__sigpipe_restore(&sp, r < 0 ? (int)-r : 0);
}
