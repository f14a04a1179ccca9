// SPDX-License-Identifier: MIT
/*
 * Names of POSIX regions. shm_open(3) strips every leading slash, so "x",
 * "/x" and "//x" name one object, a file "x" in /dev/shm. What is left must
 * be one path component: no other slash, not "." or "..", at most NAME_MAX
 * bytes. Checking here gives EINVAL or ENAMETOOLONG before any syscall,
 * instead of whatever openat would make of "../etc".
 */
#define _GNU_SOURCE
#include <bsd/string.h>
#include <errno.h>
#include <string.h>

#include "region.h"

int zc__shm_name(const char *name, char out[ZC__NAME_SIZE])
{
	if (!name)
		return -EINVAL;
	while (*name == '/')
		name++;
	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	if (strlcpy(out, name, ZC__NAME_SIZE) >= ZC__NAME_SIZE) {
		out[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

/* "/dev/shm/" + a name already checked by zc__shm_name(). */
int zc__shm_path(const char *name, char *path, size_t size)
{
	strlcpy(path, ZC__SHM_DIR "/", size);
	if (strlcat(path, name, size) >= size)
		return -ENAMETOOLONG;
	return 0;
}
