#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# zc_transfer, through the zcopy command, between every pair of ext4, xfs,
# btrfs (each a small image on a loop device), tmpfs, overlayfs and a FUSE
# mount (zcfuse), both ways and onto itself: a dense file and a sparse one
# arrive byte for byte, and the log says which path moved them and what the
# copies allocate. Then two full filesystems, a 1 MiB tmpfs and a 4 MiB ext4:
# every path must stop with ENOSPC, having reported exactly the bytes the
# destination holds.
#
#   test-fs-matrix.sh ZCOPY [ZCFUSE]
#
# Needs root, loop devices, mkfs.xfs, mkfs.btrfs and mkfs.ext4 (.ci/deps);
# a filesystem the kernel or the machine lacks is skipped with a message,
# and the whole test (exit 77) when fewer than two are left. Nothing stays
# mounted or attached afterwards, whatever happens (fs-lib.sh).
set -euo pipefail

zcopy=$(realpath "$1")
fs_zcfuse=${2:+$(realpath "$2")}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root to attach loop devices and mount"
	exit 77
fi
# shellcheck source=tests/fs/fs-lib.sh
. "$(dirname "$0")/fs-lib.sh"

# Destinations on which a sparse copy must keep its holes: allocate less than
# half the file (filled, it takes all of it; xfs keeps a few hundred KiB
# more than the data). zc_transfer keeps them on all six, like cp.
holes_kept_on=(ext4 xfs btrfs tmpfs overlay fuse)

dense_size=$((3 * 1048576 + 4097))
sparse_size=$((4 * 1048576 + 123))
sparse_max_kib=$((sparse_size / 2048))
# Data islands (offset length) of the sparse file: holes before, between and after.
islands=("1048676 200001" "2097159 65537" "3145733 4099")

fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

make_sparse() {
	local f=$1 isl off len from=0

	: >"$f"
	for isl in "${islands[@]}"; do
		read -r off len <<<"$isl"
		dd if="$fs_work/islands" of="$f" iflag=skip_bytes,count_bytes oflag=seek_bytes \
			conv=notrunc bs=64K skip="$from" seek="$off" count="$len" status=none
		from=$((from + len))
	done
	truncate -s "$sparse_size" "$f"
}

copy_pair() {
	local s=$1 d=$2 kind=$3 src=${fs_mnt[$1]}/src.$3 dst=${fs_mnt[$2]}/copy.$1.$3
	local log=$fs_work/log path size

	if ! ZCOPY_DEBUG=1 "$zcopy" "$src" "$dst" 2>"$log"; then
		fail "$s -> $d $kind: zcopy failed: $(cat "$log")"
		return
	fi
	path=$(fs_debug_paths "$log")
	size=$(stat -c %s "$dst")
	cmp -s "$src" "$dst" || fail "$s -> $d $kind ($path): the copy differs"
	[ "$(fs_debug_bytes "$log")" -eq "$size" ] ||
		fail "$s -> $d $kind: reported $(fs_debug_bytes "$log") bytes, wrote $size"
	printf '| %s | %s | %s | %s | %s | %s |\n' "$s" "$d" "$kind" "$path" \
		"$(fs_alloc_kib "$src")" "$(fs_alloc_kib "$dst")"
	if [ "$kind" = sparse ] && [[ " ${holes_kept_on[*]} " == *" $d "* ]] &&
	   [ "$(fs_alloc_kib "$dst")" -ge "$sparse_max_kib" ]; then
		fail "$s -> $d sparse: the copy allocates $(fs_alloc_kib "$dst") KiB: holes filled"
	fi
	rm -f "$dst"
}

# A copy into a full filesystem: ENOSPC, and the count equals what arrived.
full_copy() {
	local what=$1 src=$2 dst=$3 log=$fs_work/log rc=0 size bytes
	shift 3

	ZCOPY_DEBUG=1 "$zcopy" "$@" "$src" "$dst" 2>"$log" || rc=$?
	size=$(stat -c %s "$dst" 2>/dev/null || echo 0)
	bytes=$(fs_debug_bytes "$log")
	echo "$what ${*:-(no flags)}: exit $rc, $bytes bytes by $(fs_debug_paths "$log")," \
		"dst $size bytes"
	[ "$rc" -eq 1 ] || fail "$what $*: exit $rc, not 1"
	if ! grep -q 'error=ENOSPC' "$log" || ! grep -q 'No space left on device' "$log"; then
		fail "$what $*: no ENOSPC: $(cat "$log")"
	fi
	[ "$bytes" -eq "$size" ] || fail "$what $*: returned $bytes bytes, the file has $size"
	[ "$size" -gt 0 ] || fail "$what $*: nothing arrived before the disk was full"
	cmp -s -n "$size" "$src" "$dst" || fail "$what $*: the bytes that arrived differ"
	rm -f "$dst"
	sync -f "$(dirname "$dst")"	# ext4 reuses freed blocks after a commit
}

full_disk() {
	local name=$1 mnt=${fs_mnt[$1]} avail path

	# From another filesystem, through each path in turn.
	for path in auto sendfile mmap_write read_write; do
		# shellcheck disable=SC2086
		full_copy "full $name" "$fs_work/dense" "$mnt/full" ${fs_force[$path]}
	done
	# Within itself, where copy_file_range is the kernel's to carry out.
	avail=$(df --output=avail -B1 "$mnt" | tail -n 1)
	head -c $((avail * 3 / 5 + 1)) "$fs_work/dense" >"$mnt/half"
	full_copy "full $name, same filesystem" "$mnt/half" "$mnt/full"
	rm -f "$mnt/half"
}

fs_init
head -c "$dense_size" /dev/urandom >"$fs_work/dense"
head -c 300000 /dev/urandom >"$fs_work/islands"
make_sparse "$fs_work/sparse"

names=()
for spec in ext4:ext4:64 xfs:xfs:300 btrfs:btrfs:128 tmpfs:tmpfs:64 overlay:overlay fuse:fuse; do
	IFS=: read -r name kind mib <<<"$spec"
	fs_mount "$name" "$kind" "$mib" || continue
	names+=("$name")
	cp "$fs_work/dense" "${fs_mnt[$name]}/src.dense"
	make_sparse "${fs_mnt[$name]}/src.sparse"
	cmp -s "$fs_work/sparse" "${fs_mnt[$name]}/src.sparse" ||
		fail "$name: the sparse source was not written right"
done
if [ ${#names[@]} -lt 2 ]; then
	echo "SKIP: fewer than two filesystems to copy between: ${fs_skip[*]}"
	exit 77
fi

echo "Copies of a dense file ($dense_size bytes) and a sparse one ($sparse_size bytes," \
	"$((200001 + 65537 + 4099)) of data); allocation in KiB:"
echo
echo "| from | to | file | path | source KiB | copy KiB |"
echo "|---|---|---|---|--:|--:|"
for s in "${names[@]}"; do
	for d in "${names[@]}"; do
		copy_pair "$s" "$d" dense
		copy_pair "$s" "$d" sparse
	done
done
echo

fs_mount full-tmpfs tmpfs 1 && full_disk full-tmpfs
fs_mount full-ext4 ext4 4 && full_disk full-ext4

for name in "${!fs_skip[@]}"; do
	echo "skipped $name: ${fs_skip[$name]}"
done
echo "filesystems: ${names[*]}; $fails failure(s)"
[ "$fails" -eq 0 ]
