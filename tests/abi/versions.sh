#!/bin/bash
# SPDX-License-Identifier: MIT
# The one version, meson's, wherever else it is written by hand: the .TH line
# of every manual page, the newest entry of NEWS and of debian/changelog, and
# the zcopy.pc this build made from it.
set -euo pipefail

src=$1 version=$2 pc=$3
bad=0

for page in "$src"/man/*.[1-8]; do
	# Pages that only point at another (".so man3/...") have no .TH line.
	th=$(sed -n 's/^\.TH [^ ]* [0-9] [^ ]* "\([^"]*\)".*/\1/p' "$page")
	[ -z "$th" ] && ! grep -q '^\.TH' "$page" && continue
	if [ "$th" != "libzcopy $version" ]; then
		echo "${page#"$src"/}: .TH says '$th', not 'libzcopy $version'" >&2
		bad=1
	fi
done

news=$(sed -n 's/^\* Version \([^ ]*\).*/\1/p' "$src/NEWS" | head -n1)
[ "$news" = "$version" ] || { echo "NEWS begins with version '$news', not $version" >&2; bad=1; }

deb=$(sed -n '1s/^[^ ]* (\([^)-]*\)-[^)]*).*/\1/p' "$src/debian/changelog")
[ "$deb" = "$version" ] || { echo "debian/changelog is at '$deb', not $version" >&2; bad=1; }

pcv=$(sed -n 's/^Version: //p' "$pc")
[ "$pcv" = "$version" ] || { echo "zcopy.pc has version '$pcv', not $version" >&2; bad=1; }

exit $bad
