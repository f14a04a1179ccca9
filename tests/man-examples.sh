#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The "Program source" of every page must compile without warnings against
# the library just built, and must copy its input byte for byte: each
# example is run as "prog FILE > out" and as "prog < FILE > out".
set -u

[ $# -ge 4 ] || { echo "usage: man-examples.sh MANDIR INCDIR LIBZCOPY CC..." >&2; exit 1; }
mandir=$1 incdir=$2 lib=$3
case $lib in /*) ;; *) lib=$(pwd)/$lib ;; esac
shift 3

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
head -c 300001 /dev/urandom > "$tmp/data" || exit 1
status=0
count=0

for page in "$mandir"/*.[1-9]; do
	grep -q '^\.SS Program source' "$page" || continue
	name=${page##*/}
	src=$tmp/$name.c
	sed -n '/^\.SS Program source/,/^\.EE/p' "$page" | sed '1,2d;$d' |
		sed -e 's/\\e/\\/g' -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\&//g' > "$src"
	count=$((count + 1))
	if ! "$@" -Wall -Wextra -Werror -I"$incdir" -o "$tmp/prog" "$src" "$lib" \
	     -Wl,-rpath,"${lib%/*}" 2>"$tmp/cc.err"; then
		echo "$name: the example does not compile:"
		cat "$tmp/cc.err"
		status=1
		continue
	fi
	if "$tmp/prog" "$tmp/data" < /dev/null > "$tmp/out1" 2>"$tmp/err" &&
	   cmp -s "$tmp/data" "$tmp/out1"; then
		:
	elif "$tmp/prog" < "$tmp/data" > "$tmp/out2" 2>"$tmp/err" &&
	     cmp -s "$tmp/data" "$tmp/out2"; then
		:
	else
		echo "$name: the example did not copy its input:"
		cat "$tmp/err"
		status=1
	fi
done
if [ "$count" -eq 0 ]; then
	echo "man-examples: no example in $mandir" >&2
	exit 1
fi
[ "$status" -eq 0 ] && echo "man-examples: $count examples build and copy their input"
exit "$status"
