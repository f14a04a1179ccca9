#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Lint every manual page in the directory given: groff -ww and mandoc -T lint
# must have nothing to say. With a version script as second argument, every
# function it exports must also have a section 3 page of its own. The pages are laid out as they are installed
# (man3/, man7/, ...) so that a ".so man3/page.3" link resolves, and a link
# whose target is missing fails. mandoc calls every .so "fragile"; the Linux
# man-pages use them for functions that share a page, so link pages are only
# checked through groff, which reads the target.
set -u

dir=${1:?usage: man-lint.sh MANDIR [VERSION-SCRIPT]}
map=${2:-}
case $map in /* | '') ;; *) map=$(pwd)/$map ;; esac
for tool in groff mandoc; do
	command -v "$tool" >/dev/null 2>&1 && continue
	echo "man-lint: $tool not found (.ci/deps installs groff-base and mandoc)" >&2
	exit 1
done

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0
count=0

for page in "$dir"/*.[1-9]; do
	[ -f "$page" ] || continue
	name=${page##*/}
	mkdir -p "$tmp/man${name##*.}"
	cp "$page" "$tmp/man${name##*.}/"
	count=$((count + 1))
done
if [ "$count" -eq 0 ]; then
	echo "man-lint: no pages in $dir" >&2
	exit 1
fi

cd "$tmp" || exit 1
for page in man*/*; do
	target=$(sed -n '1s/^\.so //p' "$page")
	if [ -n "$target" ] && [ ! -f "$target" ]; then
		echo "$page: links to $target, which does not exist"
		status=1
		continue
	fi
	out=$(groff -ww -z -man "$page" 2>&1)
	[ -z "$out" ] || { echo "$page (groff):"; echo "$out"; status=1; }
	[ -n "$target" ] && continue
	out=$(mandoc -T lint "$page" 2>&1)
	[ -z "$out" ] || { echo "$out"; status=1; }
done

# The global: entries of the version script are the exported functions.
if [ -n "$map" ]; then
	syms=$(sed -n 's/^[[:space:]]*\(zc_[A-Za-z0-9_]*\);.*/\1/p' "$map")
	[ -n "$syms" ] || { echo "man-lint: no exported function found in $map"; status=1; }
	for sym in $syms; do
		[ -f "man3/$sym.3" ] && continue
		echo "man-lint: $sym is exported but has no page $sym.3"
		status=1
	done
fi
[ "$status" -eq 0 ] && echo "man-lint: $count pages clean"
exit "$status"
