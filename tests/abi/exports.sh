#!/bin/bash
# SPDX-License-Identifier: MIT
# What libzcopy.so exports is exactly what zcopy.h declares and zcopy.map
# lists: every symbol zc_-prefixed, every one in version node ZCOPY_1.0.
set -euo pipefail

lib=$1 map=$2 header=$3
shift 3
cc=("$@")
fail=0

# "zc_transfer@@ZCOPY_1.0"; the version node itself shows as a bare name.
exports=$(nm -D --defined-only --with-symbol-versions "$lib" | awk '{ print $3 }' | sort)
[ -n "$exports" ] || { echo "nothing exported by $lib" >&2; exit 1; }

while read -r sym; do
	case $sym in
	ZCOPY_1.0 | ZCOPY_1.0@@ZCOPY_1.0) ;;
	zc_*@@ZCOPY_1.0) ;;
	*)
		echo "exported without the zc_ prefix or the ZCOPY_1.0 version: $sym" >&2
		fail=1
		;;
	esac
done <<<"$exports"

names=$(grep '^zc_' <<<"$exports" | sed 's/@.*//' | sort -u)
# Functions the header declares, comments stripped by the preprocessor.
declared=$("${cc[@]}" -E -P -x c "$header" | grep -o '\bzc_[a-z0-9_]* *(' | tr -d ' (' | sort -u)
listed=$(sed -n 's/^[[:space:]]*\(zc_[a-z0-9_]*\);.*/\1/p' "$map" | sort -u)

if [ "$names" != "$declared" ]; then
	echo "exports and zcopy.h differ (< exported only, > declared only):" >&2
	diff <(echo "$names") <(echo "$declared") | grep '^[<>]' >&2
	fail=1
fi
if [ "$names" != "$listed" ]; then
	echo "exports and zcopy.map differ (< exported only, > listed only):" >&2
	diff <(echo "$names") <(echo "$listed") | grep '^[<>]' >&2
	fail=1
fi
[ $fail -eq 0 ] && echo "$(wc -l <<<"$names") symbols, all zc_*@@ZCOPY_1.0"
exit $fail
