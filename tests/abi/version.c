// SPDX-License-Identifier: MIT
/*
 * The version is meson's project version, written once in meson.build. The
 * header keeps it as plain macros (it is not generated), so this checks
 * that they, and zc_version() of the library built with them, agree with it.
 */
#include <stdio.h>
#include <string.h>

#include <zcopy.h>

#define STR(x) #x
#define XSTR(x) STR(x)

int main(void)
{
	const char *header = XSTR(ZC_VERSION_MAJOR) "." XSTR(ZC_VERSION_MINOR) "."
		XSTR(ZC_VERSION_PATCH);
	int bad = 0;

	if (strcmp(header, ZC_MESON_VERSION) != 0) {
		fprintf(stderr, "zcopy.h says %s, meson.build %s\n", header, ZC_MESON_VERSION);
		bad = 1;
	}
	if (strcmp(zc_version(), ZC_MESON_VERSION) != 0) {
		fprintf(stderr, "zc_version() says %s, meson.build %s\n", zc_version(),
			ZC_MESON_VERSION);
		bad = 1;
	}
	return bad;
}
