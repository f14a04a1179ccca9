#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Lint every manual page in the directory given: groff -ww and mandoc -T lint
# must have nothing to say. The pages are laid out as they are installed
# (man3/, man7/, ...) so that a ".so man3/page.3" link resolves, and a link
# whose target is missing fails. mandoc calls every .so "fragile"; the Linux
# man-pages use them for functions that share a page, so link pages are only
# checked through groff, which reads the target.
set -u

dir=${1:?usage: man-lint.sh MANDIR}
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
[ "$status" -eq 0 ] && echo "man-lint: $count pages clean"
exit "$status"
