# shellcheck shell=bash disable=SC2034
# SPDX-License-Identifier: MIT
#
# Mounting filesystems for a test or a benchmark, sourced by
# tests/fs/test-fs-matrix.sh and tests/bench/fs-matrix.sh.
#
#   fs_init                     work directory $fs_work; cleanup on every exit
#   fs_mount NAME KIND [SIZE]   mount a KIND at $fs_work/mnt/NAME; sets
#                               fs_mnt[NAME]; returns 1, with the reason in
#                               fs_skip[NAME] and on stderr, when it cannot
#   fs_force[PATH]              the zcopy options that leave PATH first
#   fs_debug_paths LOG, fs_debug_bytes LOG, fs_alloc_kib FILE
#
# KIND is ext4, xfs or btrfs (an image file of SIZE MiB on a loop device),
# tmpfs (SIZE MiB, or unbounded), overlay (upper and lower layers on a tmpfs
# of their own), or fuse (zcfuse over a directory of $fs_work; needs
# $fs_zcfuse, the built program). Whatever is mounted or attached is undone
# on exit, whatever the exit, and the exit fails if any of it is left.

# The smallest sizes that make each filesystem: mkfs.xfs wants 300 MB and
# mkfs.btrfs 109 MiB.
declare -A fs_min_mib=([ext4]=4 [xfs]=300 [btrfs]=128)
declare -A fs_mnt=() fs_skip=()
fs_mounts=()
fs_loops=()
fs_work=
fs_zcfuse=${fs_zcfuse:-}

# zcopy options that rule out every path before PATH (auto: none).
declare -A fs_force=(
	[auto]=""
	[splice]="--no-copy-file-range"
	[sendfile]="--no-copy-file-range --no-splice"
	[mmap_write]="--no-copy-file-range --no-splice --no-sendfile"
	[read_write]="--no-copy-file-range --no-splice --no-sendfile --no-mmap"
)

# The paths of the ZCOPY_DEBUG lines in LOG, in order, joined by +.
fs_debug_paths() {
	sed -n 's/.* path=\([^ ]*\).*/\1/p' "$1" | paste -sd+
}

# The bytes the ZCOPY_DEBUG lines in LOG report, added up: what the calls returned.
fs_debug_bytes() {
	sed -n 's/.* bytes=\([0-9]*\) .*/\1/p' "$1" | awk '{ n += $1 } END { print n + 0 }'
}

# What FILE allocates, in KiB.
fs_alloc_kib() {
	stat -c '%b %B' "$1" | awk '{ print int($1 * $2 / 1024) }'
}

fs_init() {
	fs_work=$(mktemp -d "${TMPDIR:-/tmp}/zc-fs.XXXXXX")
	mkdir "$fs_work/mnt"
	trap fs_cleanup EXIT
	trap 'exit 130' INT TERM HUP
}

fs_note_skip() {
	fs_skip[$1]=$2
	echo "SKIP $1: $2" >&2
	return 1
}

# The kernel has the filesystem built in, or can load it.
fs_kernel_has() {
	grep -qw "$1" /proc/filesystems && return 0
	command -v modprobe >/dev/null && modprobe -q "$1" 2>/dev/null &&
		grep -qw "$1" /proc/filesystems
}

fs_mkfs() {
	local kind=$1 img=$2

	case $kind in
	ext4) mkfs.ext4 -q -F -m 0 "$img" ;;
	xfs) mkfs.xfs -q -f "$img" ;;
	btrfs) mkfs.btrfs -q -f "$img" ;;
	esac >/dev/null
}

fs_mount_image() {
	local name=$1 kind=$2 mib=$3 mnt=$4 img=$fs_work/$1.img tool=mkfs.$2 loop

	command -v "$tool" >/dev/null ||
		fs_note_skip "$name" "$tool not found (.ci/deps installs it)" || return 1
	[ "$mib" -ge "${fs_min_mib[$kind]}" ] || mib=${fs_min_mib[$kind]}
	truncate -s "${mib}M" "$img"
	fs_mkfs "$kind" "$img" || fs_note_skip "$name" "$tool failed" || return 1
	loop=$(losetup --find --show "$img" 2>&1) ||
		fs_note_skip "$name" "no loop device: $loop" || return 1
	fs_loops+=("$loop")
	mount -t "$kind" "$loop" "$mnt" 2>"$fs_work/err" ||
		fs_note_skip "$name" "mount failed: $(cat "$fs_work/err")" || return 1
	fs_mounts+=("$mnt")
}

fs_mount_tmpfs() {
	local name=$1 mib=$2 mnt=$3 opts=mode=0755

	[ -z "$mib" ] || opts+=,size=${mib}m
	mount -t tmpfs -o "$opts" zc-fs "$mnt" 2>"$fs_work/err" ||
		fs_note_skip "$name" "mount failed: $(cat "$fs_work/err")" || return 1
	fs_mounts+=("$mnt")
}

fs_mount_overlay() {
	local name=$1 mnt=$2 layers=$fs_work/$1.layers

	mkdir "$layers"
	fs_mount_tmpfs "$name" "" "$layers" || return 1
	mkdir "$layers/lower" "$layers/upper" "$layers/work"
	mount -t overlay -o "lowerdir=$layers/lower,upperdir=$layers/upper,workdir=$layers/work" \
		zc-fs "$mnt" 2>"$fs_work/err" ||
		fs_note_skip "$name" "mount failed: $(cat "$fs_work/err")" || return 1
	fs_mounts+=("$mnt")
}

fs_mount_fuse() {
	local name=$1 mnt=$2 helper backing=$fs_work/$1.backing fmnt

	helper=$(dirname "${BASH_SOURCE[0]}")/zcfuse-mount.sh
	[ -n "$fs_zcfuse" ] && [ -x "$fs_zcfuse" ] ||
		fs_note_skip "$name" "zcfuse not built (libfuse3-dev missing at setup)" || return 1
	[ -c /dev/fuse ] || fs_note_skip "$name" "no /dev/fuse" || return 1
	mkdir "$backing"
	fmnt=$(TMPDIR=$fs_work "$helper" "$fs_zcfuse" "$backing" 2>"$fs_work/err") ||
		fs_note_skip "$name" "$(cat "$fs_work/err")" || return 1
	fs_mounts+=("$fmnt")
	rmdir "$mnt"
	ln -s "$fmnt" "$mnt"
}

fs_mount() {
	local name=$1 kind=$2 mib=${3:-} mnt=$fs_work/mnt/$1

	fs_kernel_has "$kind" || fs_note_skip "$name" "the kernel has no $kind" || return 1
	mkdir "$mnt"
	case $kind in
	ext4|xfs|btrfs) fs_mount_image "$name" "$kind" "${mib:-64}" "$mnt" ;;
	tmpfs) fs_mount_tmpfs "$name" "$mib" "$mnt" ;;
	overlay) fs_mount_overlay "$name" "$mnt" ;;
	fuse) fs_mount_fuse "$name" "$mnt" ;;
	*) fs_note_skip "$name" "unknown kind $kind" ;;
	esac || return 1
	fs_mnt[$name]=$mnt
}

fs_unmount() {
	local m=$1

	mountpoint -q "$m" || return 0
	umount "$m" 2>/dev/null && return 0
	# Something still held it a moment ago (a FUSE daemon finishing a reply).
	sleep 0.5
	umount "$m" 2>/dev/null && return 0
	echo "fs-lib: $m busy, detaching it lazily" >&2
	umount -l "$m"
}

# The EXIT trap: undo everything in reverse, then prove nothing is left.
fs_cleanup() {
	local rc=$? i left=0 l

	trap - EXIT
	for ((i = ${#fs_mounts[@]} - 1; i >= 0; i--)); do
		fs_unmount "${fs_mounts[i]}" || true
	done
	for l in "${fs_loops[@]}"; do
		losetup -d "$l" 2>/dev/null || true
	done
	[ -n "$fs_work" ] || exit "$rc"
	if findmnt -rn -o TARGET | grep -F "$fs_work"; then
		echo "fs-lib: still mounted (above)" >&2
		left=1
	fi
	if losetup -l -n -O NAME,BACK-FILE 2>/dev/null | grep -F "$fs_work"; then
		echo "fs-lib: loop devices still attached (above)" >&2
		left=1
	fi
	# Never follow a mount that would not go away into someone's filesystem.
	[ "$left" -eq 1 ] || rm -rf --one-file-system "$fs_work"
	[ "$left" -eq 0 ] || rc=1
	exit "$rc"
}
