// SPDX-License-Identifier: MIT
// zcopy.h from C++: it must compile with -pedantic -Werror, and its
// extern "C" must hold, or this program would not link against libzcopy.
#include <cstring>
#include <iostream>

#include <zcopy.h>

int main()
{
	zc_stats st = zc_stats();
	uint64_t off = 0;

	if (std::strcmp(zc_path_name(ZC_PATH_READ_WRITE), "read_write") != 0 ||
	    std::strcmp(zc_fd_type_name(ZC_FD_SOCKET), "socket") != 0 || !zc_version()) {
		std::cerr << "wrong names\n";
		return 1;
	}
	if (zc_transfer(-1, -1, ZC_ALL, 0) != -1 || zc_transfer_ex(-1, -1, 1, 0, &st) != -1 ||
	    zc_transfer_at(-1, &off, -1, &off, 1, ZC_NO_SPLICE, &st) != -1)
		return 1;
	return 0;
}
