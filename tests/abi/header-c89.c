/* SPDX-License-Identifier: MIT */
/*
 * zcopy.h must build in the oldest C anyone still compiles with: this file
 * is built with -std=c89 -pedantic -Werror, and links and calls every
 * function, so a missing export or a prototype that drifted shows here.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <zcopy.h>

#define STR(x) #x
#define XSTR(x) STR(x)

int main(void)
{
	const char *want = XSTR(ZC_VERSION_MAJOR) "." XSTR(ZC_VERSION_MINOR) "."
		XSTR(ZC_VERSION_PATCH);
	struct zc_stats st;
	uint64_t off = 0;
	int fds[2];

	if (strcmp(zc_version(), want) != 0) {
		fprintf(stderr, "zc_version() is %s, the header says %s\n", zc_version(), want);
		return 1;
	}
	if (strcmp(zc_path_name(ZC_PATH_SPLICE), "splice") != 0 ||
	    strcmp(zc_fd_type_name(ZC_FD_PIPE), "pipe") != 0) {
		fprintf(stderr, "wrong names\n");
		return 1;
	}
	if (pipe(fds) != 0 || write(fds[1], "abc", 3) != 3 || close(fds[1]) != 0)
		return 1;
	/* A pipe has no offset: the explicit-offset form must refuse it. */
	if (zc_transfer_at(fds[0], &off, fds[1], NULL, 3, 0, NULL) != -1)
		return 1;
	if (zc_transfer_ex(fds[0], -1, ZC_ALL, 0, &st) != -1 || zc_transfer(-1, -1, 1, 0) != -1)
		return 1;
	close(fds[0]);
	return 0;
}
