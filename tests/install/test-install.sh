#!/bin/bash
# SPDX-License-Identifier: MIT
# Install libzcopy into a prefix inside the build tree and use it the ways
# users do: a program built out of tree with only pkg-config, the static
# archive, and the source as a meson subproject.
set -euo pipefail

src=$1 work=$2
shift 2
meson=("$@")
prefix=$work/prefix

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

rm -rf "$work"
mkdir -p "$work"
cd "$work"
head -c 3000017 /dev/urandom >data

# A fresh configure with a prefix of its own; nothing is written outside $work.
"${meson[@]}" setup -Dtests=false -Dexamples=true -Ddefault_library=both --libdir=lib \
	--prefix="$prefix" build "$src" >setup.log || { cat setup.log; fail "setup"; }
"${meson[@]}" install -C build >install.log || { cat install.log; fail "install"; }

for f in lib/libzcopy.so lib/libzcopy.so.1 lib/libzcopy.a include/zcopy.h \
	lib/pkgconfig/zcopy.pc bin/zcopy share/man/man1/zcopy.1; do
	[ -e "$prefix/$f" ] || fail "$f not installed"
done
soname=$(readelf -d "$prefix/lib/libzcopy.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libzcopy.so.1 ] || fail "SONAME is '$soname'"
[ "$(readlink -f "$prefix/lib/libzcopy.so.1")" = "$(readlink -f "$prefix/lib/libzcopy.so")" ] ||
	fail "libzcopy.so and libzcopy.so.1 are different files"
# grep without -q reads to the end: an early exit would SIGPIPE nm, and pipefail
# would count that as a failure once the archive's symbol list outgrows a pipe.
nm --defined-only "$prefix/lib/libzcopy.a" | grep -w 'T zc_transfer' >/dev/null ||
	fail "libzcopy.a has no zc_transfer"

# Out of tree, with only what pkg-config says.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[ "$(pkg-config --modversion zcopy)" = "$(sed -n 's/^#define ZC_VERSION_MAJOR //p' \
	"$src/include/zcopy.h")".0.0 ] || fail "zcopy.pc has version $(pkg-config --modversion zcopy)"
read -ra cflags <<<"$(pkg-config --cflags zcopy)"
read -ra libs <<<"$(pkg-config --libs zcopy)"
cc "$src/tests/install/prog.c" "${cflags[@]}" "${libs[@]}" -o prog-shared
LD_LIBRARY_PATH=$prefix/lib ldd prog-shared | grep "libzcopy.so.1 => $prefix/lib/" >/dev/null ||
	fail "prog-shared does not load the installed library"
LD_LIBRARY_PATH=$prefix/lib ./prog-shared data >out 2>err || fail "prog-shared: $(cat err)"
cmp -s data out || fail "prog-shared copied the wrong bytes"
grep -q "3000017 bytes by " err || fail "prog-shared said: $(cat err)"

# The archive, with the private libs pkg-config lists for static linking.
read -ra libs <<<"$(pkg-config --static --libs zcopy)"
libs=("${libs[@]/#-lzcopy/-Wl,-Bstatic -lzcopy -Wl,-Bdynamic}")
read -ra libs <<<"${libs[*]}"
cc "$src/tests/install/prog.c" "${cflags[@]}" "${libs[@]}" -o prog-static
readelf -d prog-static | grep 'libzcopy' >/dev/null && fail "prog-static still needs libzcopy.so"
./prog-static data >out 2>err || fail "prog-static: $(cat err)"
cmp -s data out || fail "prog-static copied the wrong bytes"

# The installed command finds the installed library.
LD_LIBRARY_PATH=$prefix/lib "$prefix/bin/zcopy" data copy || fail "installed zcopy"
cmp -s data copy || fail "installed zcopy copied the wrong bytes"

# As a subproject: subprojects/zcopy is this source tree.
mkdir -p consumer/subprojects
cp "$src/tests/install/consumer/meson.build" consumer/
cp "$src/tests/install/prog.c" .
ln -s "$src" consumer/subprojects/zcopy
"${meson[@]}" setup --force-fallback-for=zcopy -Dzcopy:tests=false -Dzcopy:examples=false \
	consumer/build consumer >consumer.log || { cat consumer.log; fail "consumer setup"; }
"${meson[@]}" compile -C consumer/build >>consumer.log || { cat consumer.log; fail "consumer build"; }
consumer/build/consumer data >out 2>err || fail "consumer: $(cat err)"
cmp -s data out || fail "consumer copied the wrong bytes"

echo "install: all checks passed"
