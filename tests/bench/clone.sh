#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Clones: the project's zcopy command, which clones a whole file where the
# filesystem shares extents, against cp --reflink=always, on a 1 GiB file in
# btrfs and xfs (reflink=1) images that this script makes and loop-mounts.
# Gives the wall time of each copy (process start included, for both tools)
# and the free space it took: a clone writes no data blocks. One real copy
# (cp --reflink=never) per filesystem, in the checked round, shows what the
# free space says when the blocks are written.
#
# Needs root, losetup, mkfs.btrfs and mkfs.xfs (btrfs-progs, xfsprogs); a
# filesystem that cannot be made or mounted is left out, saying why, and
# without any the run is skipped (exit 77). Mounts, loop devices and images
# are removed on every way out.
#
# Usage: tests/bench/clone.sh [BUILD_DIR [OUT_DIR]]     (default: build .)
# Environment: ZC_BENCH_SMOKE=1 (64 MiB, 3 repetitions), ZC_BENCH_BIG_MIB=1024,
#   ZC_BENCH_REPS=11, ZC_BENCH_DIR (where the images go; else T_TMPDIR, else /tmp).
# The report goes to stdout and OUT_DIR/clone.md.
#
# Each repetition copies on every filesystem with both tools, zcopy first in
# odd repetitions and cp first in even ones; before each copy the last one is
# removed and `sync` settles the filesystem, and after it `sync` again, so the
# free space counts what the copy took. Neither sync is timed.
#
# results/2026-11-29-files: both clone 1 GiB in about a millisecond, taking
# no data blocks.
. "$(dirname "$(realpath "$0")")/lib.sh"
b_init "$@"
bytes=$((b_mib * 1024 * 1024))
[ "$(id -u)" -eq 0 ] || b_skip "not root: no loop mounts"
command -v losetup >/dev/null || b_skip "no losetup"

work=
mounts=()
loops=()
cleanup() {
	local i

	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" || true
	done
	for i in "${loops[@]}"; do
		losetup -d "$i" 2>/dev/null || true
	done
	[ -z "$work" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
work=$(mktemp -d "$b_dir/zc-clone.XXXXXX")

# Room for the source, a real copy of it and the filesystem's own needs.
img_mib=$((b_mib * 3 + 512))

declare -A mkfs=([btrfs]="mkfs.btrfs -q -f" [xfs]="mkfs.xfs -q -f -m reflink=1")
fss=()
for fs in btrfs xfs; do
	cmd=${mkfs[$fs]}
	if ! command -v "${cmd%% *}" >/dev/null; then
		echo "clone.sh: no ${cmd%% *}: $fs left out" >&2
		continue
	fi
	img=$work/$fs.img
	truncate -s "${img_mib}M" "$img"
	if ! $cmd "$img" >/dev/null 2>"$work/err"; then
		echo "clone.sh: $cmd failed: $(head -c 300 "$work/err"); $fs left out" >&2
		continue
	fi
	dev=$(losetup --find --show "$img") || { echo "clone.sh: losetup $img failed: $fs left out" >&2; continue; }
	loops+=("$dev")
	mkdir "$work/$fs"
	mount "$dev" "$work/$fs" || { echo "clone.sh: mount $dev failed: $fs left out" >&2; continue; }
	mounts+=("$work/$fs")
	fss+=("$fs")
done
[ ${#fss[@]} -gt 0 ] || b_skip "no filesystem to clone on"

for fs in "${fss[@]}"; do
	head -c "$bytes" /dev/urandom >"$work/$fs/src"
done
sync
for fs in "${fss[@]}"; do
	cat "$work/$fs/src" >/dev/null	# page-cache the sources
done

free_kib() {
	stat -f -c '%f %S' "$1" | awk '{ printf "%d\n", $1 * $2 / 1024 }'
}

copy() {
	local tool=$1 d=$2

	case $tool in
	zcopy) "$b_zcopy" "$d/src" "$d/dst" ;;
	cp) cp --reflink=always "$d/src" "$d/dst" ;;
	real) cp --reflink=never "$d/src" "$d/dst" ;;
	esac
}

# One copy on filesystem $2 by tool $1: prints "seconds KiB-taken".
measure() {
	local d=$work/$2 before s

	rm -f "$d/dst"
	sync
	before=$(free_kib "$d")
	s=$(b_time copy "$1" "$d")
	sync
	echo "$s $((before - $(free_kib "$d")))"
}

# The checked round: the bytes, the path zcopy took, and one real copy.
declare -A path real
failed=0
for fs in "${fss[@]}"; do
	d=$work/$fs
	for tool in zcopy cp real; do
		if [ $tool = zcopy ]; then
			rm -f "$d/dst"
			path[$fs]=$(b_zcopy_path "$d/src" "$d/dst")
		else
			real[$fs]=$(measure $tool "$fs")
		fi
		cmp -s "$d/src" "$d/dst" || {
			echo "clone.sh: $tool on $fs: the copy differs" >&2
			failed=1
		}
	done
	rm -f "$d/dst"
done

b_cases="${fss[*]}"
b_interleave zcopy cp

report() {
	local fs r rlo rhi s k

	echo "# Clones: $b_mib MiB, $b_reps repetitions, $(b_machine)"
	echo
	echo "Wall time of the whole command (process start included), in seconds: median"
	echo "(min-max). Free space taken: statfs free blocks before the copy minus after"
	echo "it (both after sync), KiB, median (min-max). zcopy/cp: median over the"
	echo "repetitions of zcopy's time over cp --reflink=always's in the same repetition"
	echo "(min-max). The real copy (cp --reflink=never) ran once, in the checked round."
	echo
	echo "| fs | command | zcopy path | seconds | free space taken, KiB | zcopy/cp | min-max |"
	echo "|---|---|---|--:|--:|--:|--:|"
	for fs in "${fss[@]}"; do
		read -r r rlo rhi <<<"$(echo "${b_ratios[$fs]}" | b_spread)"
		printf '| %s | zcopy | %s | %s | %s | %.2f | %.2f-%.2f |\n' "$fs" "${path[$fs]:-?}" \
			"$(b_secs_text "${b_secs[$fs|zcopy]}" 4)" "$(kib_text "${b_value[$fs|zcopy]}")" \
			"$r" "$rlo" "$rhi"
		printf '| %s | cp --reflink=always | | %s | %s | | |\n' "$fs" \
			"$(b_secs_text "${b_secs[$fs|cp]}" 4)" "$(kib_text "${b_value[$fs|cp]}")"
		read -r s k <<<"${real[$fs]}"
		printf '| %s | cp --reflink=never (once) | | %.4f | %d | | |\n' "$fs" "$s" "$k"
	done
}

# "median (least-greatest)" of a list of KiB.
kib_text() {
	echo "$1" | b_spread | awk '{ printf "%d (%d-%d)", $1, $2, $3 }'
}

mkdir -p "$b_out"
report | tee "$b_out/clone.md"
exit $failed
