#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Every function the library exports (the global: entries of the version
# script) must have a section 3 page a user can open with man(1).
set -u

map=${1:?usage: man-coverage.sh zcopy.map MANDIR}
dir=${2:?usage: man-coverage.sh zcopy.map MANDIR}
status=0
count=0

for sym in $(sed -n 's/^[[:space:]]*\(zc_[A-Za-z0-9_]*\);.*/\1/p' "$map"); do
	count=$((count + 1))
	[ -f "$dir/$sym.3" ] && continue
	echo "man-coverage: $sym is exported but has no page $dir/$sym.3"
	status=1
done
if [ "$count" -eq 0 ]; then
	echo "man-coverage: no exported symbols found in $map" >&2
	exit 1
fi
[ "$status" -eq 0 ] && echo "man-coverage: $count exported functions, each with a page"
exit "$status"
