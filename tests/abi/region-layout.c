// SPDX-License-Identifier: MIT
/*
 * struct zc_region is mirrored by hand in the ctypes binding: print its
 * layout as "name offset size" lines for the mirror to compare against.
 */
#include <stddef.h>
#include <stdio.h>

#include <zcopy.h>

#define SHOW(field)                                                                       \
	printf("%s %zu %zu\n", #field, offsetof(struct zc_region, field),                 \
	       sizeof(((struct zc_region *)0)->field))

int main(void)
{
	printf("zc_region 0 %zu\n", sizeof(struct zc_region));
	SHOW(size);
	SHOW(kind);
	SHOW(flags);
	SHOW(fd);
	SHOW(shmid);
	SHOW(seals);
	SHOW(reserved);
	SHOW(addr);
	SHOW(name);
	return 0;
}
