#!/bin/bash
# SPDX-License-Identifier: MIT
# Install libzcopy into a prefix inside the build tree and use it the ways
# users do: a program built out of tree with only pkg-config (from make or
# CMake), the static archive, the Python package, the install tree moved
# elsewhere, and the source as a meson subproject that keeps to itself.
set -euo pipefail

src=$1 work=$2 version=$3
python=${PYTHON:?PYTHON must name a python3 with venv, pip and setuptools}
shift 3
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
	lib/pkgconfig/zcopy.pc bin/zcopy share/man/man1/zcopy.1 \
	share/man/man7/zcopy-python.7; do
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
[ "$(pkg-config --modversion zcopy)" = "$version" ] ||
	fail "zcopy.pc has version $(pkg-config --modversion zcopy), meson $version"
grep -Eq '^URL: https?://[^ ]+$' "$prefix/lib/pkgconfig/zcopy.pc" || fail "zcopy.pc has no URL"
grep -Eq '^Description: .{20,}' "$prefix/lib/pkgconfig/zcopy.pc" || fail "zcopy.pc: no description"
# The archive needs libbsd; the shared library brings it along by itself.
[ "$(pkg-config --print-requires-private zcopy)" = libbsd ] ||
	fail "zcopy.pc requires privately '$(pkg-config --print-requires-private zcopy)', not libbsd"
[ -z "$(pkg-config --print-requires zcopy)" ] || fail "zcopy.pc requires libbsd publicly"
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

# The Python package, installed as zcopy-python(7) says: pip in a venv that
# sees Debian's setuptools, so that no package index is needed (--no-index
# makes sure; --isolated keeps this user's pip settings out). pip builds in the
# directory it is given, so it gets a copy. The package finds the library of
# the prefix by its soname, through the loader's path, and has meson's version.
mkdir tmp
cp -r "$src/examples/python" pysrc
"$python" -m venv --system-site-packages venv >venv.log 2>&1 || { cat venv.log; fail "venv"; }
TMPDIR=$work/tmp venv/bin/pip --isolated install --no-build-isolation --no-index \
	--no-cache-dir -q ./pysrc >pip.log 2>&1 || { cat pip.log; fail "pip install"; }
cat >use.py <<'EOF_PY'
import importlib.metadata, os, sys
import zcopy
with open(sys.argv[1], "rb") as src, open(sys.argv[2], "wb") as dst:
    dst.write(b"head")
    n, st = zcopy.transfer_ex(src, dst)
maps = open("/proc/self/maps").read().split()
print(importlib.metadata.version("zcopy"), zcopy.version(), n,
      next(p for p in maps if os.path.basename(p).startswith("libzcopy.so")),
      os.path.isfile(os.path.join(os.path.dirname(zcopy.__file__), "py.typed")),
      os.path.dirname(zcopy.__file__))
EOF_PY
want="$version $version 3000017 $(readlink -f "$prefix/lib/libzcopy.so.1") True $work/venv/lib/"
got=$(env -u ZCOPY_LIB LD_LIBRARY_PATH=$prefix/lib venv/bin/python use.py data pyout 2>err) ||
	fail "python: $(cat err)"
[ "${got#"$want"}" != "$got" ] || fail "python printed '$got', not '$want...'"
{ printf head; cat data; } | cmp -s - pyout || fail "python copied the wrong bytes"
env -u LD_LIBRARY_PATH ZCOPY_LIB=$prefix/lib/libzcopy.so.1 venv/bin/python use.py data pyout \
	>/dev/null 2>err || fail "python with ZCOPY_LIB: $(cat err)"

# The install tree moved elsewhere, as an unpacked archive is: zcopy.pc finds
# the headers and libraries from where it lies now.
cp -a "$prefix" moved
rm -rf "$prefix"
export PKG_CONFIG_PATH=$work/moved/lib/pkgconfig
[[ "$(pkg-config --cflags zcopy)" == *"$work/moved/"* ]] ||
	fail "the moved zcopy.pc still says $(pkg-config --cflags zcopy)"
read -ra cflags <<<"$(pkg-config --cflags zcopy)"
read -ra libs <<<"$(pkg-config --libs zcopy)"
cc "$src/tests/install/prog.c" "${cflags[@]}" "${libs[@]}" -Wl,-rpath,"$work/moved/lib" \
	-o prog-moved
./prog-moved data >out 2>err || fail "prog-moved: $(cat err)"
cmp -s data out || fail "prog-moved copied the wrong bytes"

# CMake, through pkg-config as its users find such libraries (README).
if command -v cmake >/dev/null; then
	cmake -S "$src/tests/install/cmake" -B cmake-build -DPROG="$src/tests/install/prog.c" \
		>cmake.log 2>&1 || { cat cmake.log; fail "cmake configure"; }
	cmake --build cmake-build >>cmake.log 2>&1 || { cat cmake.log; fail "cmake build"; }
	LD_LIBRARY_PATH=$work/moved/lib cmake-build/consumer data >out 2>err ||
		fail "cmake consumer: $(cat err)"
	cmp -s data out || fail "the cmake consumer copied the wrong bytes"
else
	echo "install: cmake is not installed (.ci/deps installs it): CMake check not run"
fi

# As a subproject with default options: subprojects/zcopy is this source tree.
# It must bring the library and nothing else: no tests, examples or manual
# pages in the parent's build, nothing but the library in its install, no
# cmocka looked for, and the parent's warnings not made errors.
cp "$src/tests/install/prog.c" .
subproject()
{
	local dir=$1
	shift
	mkdir -p "$dir/subprojects"
	cp "$src/tests/install/consumer/meson.build" "$dir/"
	ln -s "$src" "$dir/subprojects/zcopy"
	"${meson[@]}" setup --force-fallback-for=zcopy --prefix="$work/$dir/prefix" "$@" \
		"$dir/build" "$dir" >"$dir.log" || { cat "$dir.log"; fail "$dir setup"; }
	"${meson[@]}" compile -C "$dir/build" >>"$dir.log" || { cat "$dir.log"; fail "$dir build"; }
	"$dir/build/consumer" data >out 2>err || fail "$dir: $(cat err)"
	cmp -s data out || fail "$dir copied the wrong bytes"
}
subproject consumer
"${meson[@]}" introspect --tests consumer/build >tests.json
[ "$(cat tests.json)" = "[]" ] || fail "the subproject added tests: $(cat tests.json)"
"${meson[@]}" introspect --installed consumer/build >installed.json
grep -E '/(bin|man[0-9]?)/' installed.json && fail "the subproject installs its command or pages"
grep -q 'libzcopy' installed.json || fail "the subproject does not install its library"
"${meson[@]}" introspect --targets consumer/build >targets.json
programs=$(python3 -c 'import json, sys
print(" ".join(sorted(t["name"] for t in json.load(sys.stdin) if t["type"] == "executable")))' \
	<targets.json)
[ "$programs" = consumer ] || fail "the subproject builds programs of its own: $programs"
[ -e consumer/build/subprojects/zcopy/lib/libzcopy_internal.a ] &&
	fail "the subproject builds the archive its tests link"
grep -qi cmocka consumer/build/meson-logs/meson-log.txt && fail "the subproject looked for cmocka"
grep -q -- '-Werror' consumer/build/compile_commands.json && fail "the subproject forces -Werror"
# Its examples turned on: the command is built, still not installed.
subproject consumer-examples -Dzcopy:examples=true -Dzcopy:tests=false
[ -x consumer-examples/build/subprojects/zcopy/examples/zcopy/zcopy ] ||
	fail "-Dzcopy:examples=true did not build the command"
"${meson[@]}" introspect --installed consumer-examples/build | grep -E '/bin/' &&
	fail "the subproject installs its command into the parent's prefix"

# A release, built from a tree that is no git checkout: no -Werror either,
# while this checkout (git) builds with it, as CI and developers do.
mkdir release
tar -C "$src" --exclude=./.git --exclude='./build*' -cf - . | tar -C release -xf -
"${meson[@]}" setup -Dtests=false release/build release >release.log ||
	{ cat release.log; fail "release setup"; }
grep -q -- '-Werror' release/build/compile_commands.json && fail "a release build forces -Werror"
grep -q -- '-Werror' build/compile_commands.json ||
	{ [ ! -e "$src/.git" ] || fail "a git checkout builds without -Werror"; }

echo "install: all checks passed"
