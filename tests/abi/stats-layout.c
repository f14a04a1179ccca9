// SPDX-License-Identifier: MIT
/*
 * struct zc_stats is declared by hand in other languages (ctypes, Rust,
 * Go), so its layout is ABI: these are the sizes and offsets zcopy.h
 * documents, fixed at build time. Run, it prints the layout as
 * "name offset size" lines for the mirrors to compare against.
 */
#include <stddef.h>
#include <stdio.h>

#include <zcopy.h>

#define AT(field, off, size)                                                              \
	_Static_assert(offsetof(struct zc_stats, field) == (off), #field " moved");      \
	_Static_assert(sizeof(((struct zc_stats *)0)->field) == (size), #field " resized")

AT(bytes, 0, 8);
AT(syscalls, 8, 8);
AT(error, 16, 4);
AT(path, 20, 4);
AT(src_type, 24, 4);
AT(dst_type, 28, 4);
AT(npaths, 32, 4);
AT(nfallbacks, 36, 4);
AT(paths, 40, 32);
AT(fallback_path, 72, 32);
AT(fallback_errno, 104, 32);
AT(error_side, 136, 4);
AT(reserved0, 140, 4);
AT(holes, 144, 8);
AT(reserved, 152, 48);
_Static_assert(sizeof(struct zc_stats) == 200, "struct zc_stats resized");
_Static_assert(ZC_STATS_MAX == 8, "ZC_STATS_MAX changed");

#define SHOW(field)                                                                       \
	printf("%s %zu %zu\n", #field, offsetof(struct zc_stats, field),                  \
	       sizeof(((struct zc_stats *)0)->field))

int main(void)
{
	printf("zc_stats 0 %zu\n", sizeof(struct zc_stats));
	SHOW(bytes);
	SHOW(syscalls);
	SHOW(error);
	SHOW(path);
	SHOW(src_type);
	SHOW(dst_type);
	SHOW(npaths);
	SHOW(nfallbacks);
	SHOW(paths);
	SHOW(fallback_path);
	SHOW(fallback_errno);
	SHOW(error_side);
	SHOW(reserved0);
	SHOW(holes);
	SHOW(reserved);
	return 0;
}
