#!/bin/bash
# SPDX-License-Identifier: MIT
# What libzcopy.so exports is exactly what zcopy.h declares and zcopy.map
# lists: every symbol zc_-prefixed, each in the version node the map puts it in.
set -euo pipefail

lib=$1 map=$2 header=$3
shift 3
cc=("$@")
fail=0

# "zc_transfer@@ZCOPY_1.0"; the version node itself shows as a bare name.
exports=$(nm -D --defined-only --with-symbol-versions "$lib" | awk '{ print $3 }' | sort)
[ -n "$exports" ] || { echo "nothing exported by $lib" >&2; exit 1; }

# "zc_relay_new ZCOPY_1.1" for each function the map lists, from its node.
nodes=$(awk '/^ZCOPY_[0-9.]* *{/ { node = $1 }
	/^[[:space:]]*zc_[a-z0-9_]*;/ { sub(/^[[:space:]]*/, ""); sub(/;.*/, ""); print $0, node }' "$map")

while read -r sym; do
	case $sym in
	# A version node shows as its bare name.
	ZCOPY_[0-9]*) [ "${sym%%@*}" = "${sym##*@}" ] && continue ;;
	zc_*@@ZCOPY_*)
		grep -qx "${sym%%@*} ${sym##*@@}" <<<"$nodes" && continue
		echo "exported in another version node than zcopy.map says: $sym" >&2
		fail=1
		continue
		;;
	esac
	echo "exported without the zc_ prefix or a ZCOPY_ version: $sym" >&2
	fail=1
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
[ $fail -eq 0 ] && echo "$(wc -l <<<"$names") symbols, all zc_*, each in its zcopy.map node"
exit $fail
