#!/bin/bash
# SPDX-License-Identifier: MIT
# Build the Debian packages the way a packager does (dpkg-buildpackage), in a
# copy of the source tree, and check what they hold: libzcopy1 the shared
# library, libzcopy-dev the header, archive, zcopy.pc and section 3 and 7
# pages, zcopy the command and its page. Then unpack them into a scratch root
# and use them from there. The source tree is left as it was; so is the copy,
# once `debian/rules clean` has run. CI runs this (.ci/run).
#
#   tests/install/test-deb.sh [SRC]
set -euo pipefail

src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/zcopy-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

version=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$src/debian/changelog")
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
tree=$work/libzcopy-${version%-*}

# The files of the tree as a packager gets them: no .git, no build dirs.
mkdir "$tree"
tar -C "$src" --exclude=./.git --exclude='./build*' --exclude='./obj-*' -cf - . |
	tar -C "$tree" -xf -
listing()
{
	(cd "$1" && find . -path ./.git -prune -o -path './build*' -prune -o -print | sort)
}
listing "$tree" >"$work/before"

(cd "$tree" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 ||
	{ tail -n 60 "$work/build.log"; fail "dpkg-buildpackage"; }
grep -i 'dpkg-gensymbols: warning' "$work/build.log" &&
	fail "debian/libzcopy1.symbols does not match the library's exports"

contents()
{
	local deb=$work/${1}_${version}_$arch.deb
	[ -f "$deb" ] || fail "no $deb; built: $(ls "$work"/*.deb)"
	dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' | sort >"$work/$1.files"
}

# has PACKAGE PATH...: each PATH (a grep -x pattern) is in the package.
has()
{
	local pkg=$1 f
	shift
	for f in "$@"; do
		grep -qx "$f" "$work/$pkg.files" || fail "$pkg lacks $f: $(cat "$work/$pkg.files")"
	done
}

# lacks PACKAGE PATTERN: no file of the package matches the grep -E pattern.
lacks()
{
	! grep -E "$2" "$work/$1.files" || fail "$1 holds files of another package"
}

lib=/usr/lib/$multiarch
contents libzcopy1
contents libzcopy-dev
contents zcopy

has libzcopy1 "$lib/libzcopy.so.1" "$lib/libzcopy.so.1.1.0"
lacks libzcopy1 '\.h$|\.a$|\.pc$|libzcopy\.so$|/bin/|/man'

has libzcopy-dev /usr/include/zcopy.h "$lib/libzcopy.so" "$lib/libzcopy.a" \
	"$lib/pkgconfig/zcopy.pc" '/usr/share/man/man3/zc_transfer\.3\.gz' \
	'/usr/share/man/man7/zcopy\.7\.gz'
lacks libzcopy-dev 'libzcopy\.so\.1|/bin/|/man1/'

has zcopy /usr/bin/zcopy '/usr/share/man/man1/zcopy\.1\.gz'
lacks zcopy 'libzcopy|/include/|/man[37]/'

# Each depends on what it needs: the command on the library, -dev on both.
depends()
{
	dpkg-deb -f "$work/${1}_${version}_$arch.deb" Depends
}
depends zcopy | grep 'libzcopy1 (>= ' >/dev/null || fail "zcopy depends on '$(depends zcopy)'"
depends libzcopy-dev | grep "libzcopy1 (= $version)" >/dev/null ||
	fail "libzcopy-dev depends on '$(depends libzcopy-dev)'"
depends libzcopy-dev | grep 'libbsd-dev' >/dev/null ||
	fail "libzcopy-dev does not bring libbsd-dev, which zcopy.pc requires"

# Unpacked into a scratch root, used from there: zcopy.pc finds that root
# by itself, and the command runs on the library beside it.
root=$work/root
for p in libzcopy1 libzcopy-dev zcopy; do
	dpkg-deb -x "$work/${p}_${version}_$arch.deb" "$root"
done
head -c 1000003 /dev/urandom >"$work/data"
export PKG_CONFIG_PATH=$root$lib/pkgconfig
read -ra cflags <<<"$(pkg-config --cflags zcopy)"
read -ra libs <<<"$(pkg-config --libs zcopy)"
cc "$src/tests/install/prog.c" "${cflags[@]}" "${libs[@]}" -Wl,-rpath,"$root$lib" \
	-o "$work/prog"
ldd "$work/prog" | grep "libzcopy.so.1 => $root$lib/" >/dev/null ||
	fail "prog does not load the package's library"
"$work/prog" "$work/data" >"$work/out" 2>"$work/err" || fail "prog: $(cat "$work/err")"
cmp -s "$work/data" "$work/out" || fail "prog copied the wrong bytes"
LD_LIBRARY_PATH=$root$lib "$root/usr/bin/zcopy" "$work/data" "$work/copy" ||
	fail "the packaged zcopy"
cmp -s "$work/data" "$work/copy" || fail "the packaged zcopy copied the wrong bytes"
LD_LIBRARY_PATH=$root$lib "$root/usr/bin/zcopy" --version >"$work/version"
grep -qxF "zcopy (libzcopy ${version%-*})" "$work/version" ||
	fail "zcopy --version says $(cat "$work/version")"

# The build's leftovers go with `debian/rules clean`, as a packager expects.
(cd "$tree" && debian/rules clean) >>"$work/build.log" 2>&1 ||
	{ tail -n 20 "$work/build.log"; fail "debian/rules clean"; }
listing "$tree" >"$work/after"
diff "$work/before" "$work/after" >"$work/left" || fail "the build left files behind: $(cat "$work/left")"

echo "deb: libzcopy1, libzcopy-dev and zcopy $version built and checked"
