#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# zc_transfer, through the zcopy command, reading files of the zcfuse mount
# that fail or come in short reads, on every path and into a file and a pipe:
#
#   eio      reads past 1 MiB fail with EIO (through the page cache)
#   deio     the same with direct_io (shared mmap refused: ENODEV)
#   short    every read returns at most 4000 bytes (direct_io)
#   seio     short reads, and EIO past 1 MiB
#
# A failing file must make zcopy exit 1 with EIO within $limit seconds (no
# spinning), having delivered at most 1 MiB, all of it right, and reported
# exactly what it delivered; a short-read file must arrive byte for byte.
#
#   test-fuse-faults.sh ZCOPY ZCFUSE [--only GLOB | --except GLOB]...
#
# Cases are named FILE/PATH/DST (eio/mmap_write/pipe); --only and --except
# choose them by glob, so that meson can run a known defect as a test of its
# own that is expected to fail (tests/fs/meson.build). Needs root and
# /dev/fuse: exit 77 without them. Nothing stays mounted (fs-lib.sh).
set -euo pipefail

zcopy=$(realpath "$1")
zcfuse=$(realpath "$2")
shift 2
only=()
except=()
while [ $# -gt 0 ]; do
	case $1 in
	--only) only+=("$2") ;;
	--except) except+=("$2") ;;
	*) echo "test-fuse-faults.sh: unknown argument $1" >&2; exit 99 ;;
	esac
	shift 2
done

limit=5
size=$((3 * 1048576 + 4097))
eio_at=1048576

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root to mount zcfuse"
	exit 77
fi
# shellcheck source=tests/fs/fs-lib.sh
. "$(dirname "$0")/fs-lib.sh"

fs_init
fs_zcfuse=$zcfuse
if ! fs_mount fuse fuse; then
	echo "SKIP: ${fs_skip[fuse]}"
	exit 77
fi
mnt=${fs_mnt[fuse]}

head -c "$size" /dev/urandom >"$fs_work/data"
declare -A file=(
	[eio]="eio@eio=1M"
	[deio]="deio@eio=1M@direct"
	[short]="short@short=4000"
	[seio]="seio@short=4000@eio=1M"
)
for f in "${file[@]}"; do
	cp "$fs_work/data" "$mnt/$f"
done

chosen() {
	local id=$1 g

	for g in "${except[@]}"; do
		# shellcheck disable=SC2053
		[[ $id == $g ]] && return 1
	done
	[ ${#only[@]} -eq 0 ] && return 0
	for g in "${only[@]}"; do
		# shellcheck disable=SC2053
		[[ $id == $g ]] && return 0
	done
	return 1
}

fails=0
ran=0
fail() {
	echo "FAIL $*"
	fails=$((fails + 1))
}

# Run one case: zcopy from the mount into $fs_work/out, a file or through a pipe.
run_case() {
	local f=$1 path=$2 dst=$3 id=$1/$2/$3 src=$mnt/${file[$1]}
	local out=$fs_work/out log=$fs_work/log
	local rc=0 t0 secs bytes got paths

	chosen "$id" || return 0
	ran=$((ran + 1))
	rm -f "$out"
	t0=$EPOCHREALTIME
	# shellcheck disable=SC2086
	if [ "$dst" = file ]; then
		ZCOPY_DEBUG=1 timeout -k 2 "$limit" "$zcopy" ${fs_force[$path]} "$src" "$out" \
			2>"$log" || rc=$?
	else
		ZCOPY_DEBUG=1 timeout -k 2 "$limit" "$zcopy" ${fs_force[$path]} "$src" - \
			2>"$log" | cat >"$out" || rc=$?
	fi
	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
	bytes=$(fs_debug_bytes "$log")
	paths=$(fs_debug_paths "$log")
	got=$(stat -c %s "$out" 2>/dev/null || echo 0)
	if [ "$rc" -ge 124 ]; then
		fail "$id: still running after $limit s, killed (exit $rc), $got bytes out"
		return
	fi
	echo "$id: exit $rc in $secs s, $bytes bytes reported by ${paths:-none}, $got out"
	[ "$bytes" -eq "$got" ] || fail "$id: reported $bytes bytes, $got arrived"
	cmp -s -n "$got" "$fs_work/data" "$out" || fail "$id: the bytes that arrived differ"
	case $f in
	short)
		[ "$rc" -eq 0 ] || fail "$id: exit $rc: $(cat "$log")"
		[ "$got" -eq "$size" ] || fail "$id: $got of $size bytes" ;;
	*)
		[ "$rc" -eq 1 ] || fail "$id: exit $rc, not 1"
		grep -q 'Input/output error' "$log" || fail "$id: no EIO: $(cat "$log")"
		[ "$got" -le "$eio_at" ] || fail "$id: $got bytes, past the failing offset" ;;
	esac
}

for f in eio deio short seio; do
	for path in auto splice sendfile mmap_write read_write; do
		run_case "$f" "$path" file
		run_case "$f" "$path" pipe
	done
done
echo "$ran case(s), $fails failure(s)"
[ "$ran" -gt 0 ] || exit 99
[ "$fails" -eq 0 ]
