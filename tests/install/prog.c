// SPDX-License-Identifier: MIT
/*
 * A user's program, built outside the tree with nothing but
 * `pkg-config --cflags --libs zcopy`: copy a file to standard output and
 * name the path that moved it on standard error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <zcopy.h>

int main(int argc, char **argv)
{
	struct zc_stats st;
	ssize_t n;
	int fd;

	if (argc != 2)
		return 2;
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	n = zc_transfer_ex(fd, STDOUT_FILENO, ZC_ALL, 0, &st);
	close(fd);
	if (n < 0) {
		perror("zc_transfer_ex");
		return 1;
	}
	fprintf(stderr, "libzcopy %s: %zd bytes by %s\n", zc_version(), n, zc_path_name(st.path));
	return 0;
}
