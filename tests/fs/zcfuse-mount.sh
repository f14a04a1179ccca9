#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Mount the tests' FUSE filesystem (zcfuse.c) and print the mountpoint.
#
#   tests/fs/zcfuse-mount.sh ZCFUSE [BACKING]   mount; prints MOUNTPOINT
#   tests/fs/zcfuse-mount.sh -u MOUNTPOINT      unmount and remove what it made
#
# ZCFUSE is the built program (build/tests/fs/zcfuse). BACKING is the
# directory passed through; without it a new empty one is made next to the
# mountpoint, under ${TMPDIR:-/tmp}, and -u removes it again. Needs root (or
# a setuid fusermount3) and /dev/fuse.
#
# Files named with @eio=N, @short=N or @direct fail or shorten reads (zcfuse.c
# says how). A file that must fail past 1 MiB, from a shell:
#
#   mnt=$(tests/fs/zcfuse-mount.sh build/tests/fs/zcfuse)
#   head -c 3M /dev/urandom >"$mnt/in@eio=1M"   # writes go through untouched
#   timeout 10 build/examples/zcopy/zcopy "$mnt/in@eio=1M" /tmp/out  # EIO
#   tests/fs/zcfuse-mount.sh -u "$mnt"
set -euo pipefail

die() {
	echo "zcfuse-mount.sh: $*" >&2
	exit 1
}

# Each mount lives in a directory of its own: DIR/mnt, and DIR/backing when
# the backing directory is ours; DIR/.zcfuse marks it as made here.
unmount() {
	local mnt=$1 top

	top=$(dirname "$mnt")
	[ -e "$top/.zcfuse" ] || die "$mnt was not mounted by zcfuse-mount.sh"
	if mountpoint -q "$mnt"; then
		fusermount3 -u "$mnt" 2>/dev/null || umount "$mnt" 2>/dev/null ||
			umount -l "$mnt" || die "cannot unmount $mnt"
	fi
	rm -rf "$top"
}

mount_it() {
	local zcfuse=$1 backing=${2:-} top

	[ -x "$zcfuse" ] || die "$zcfuse is not a program (build it: meson compile -C build)"
	[ -c /dev/fuse ] || die "no /dev/fuse"
	top=$(mktemp -d "${TMPDIR:-/tmp}/zcfuse.XXXXXX")
	touch "$top/.zcfuse"
	mkdir "$top/mnt"
	if [ -z "$backing" ]; then
		backing=$top/backing
		mkdir "$backing"
	fi
	# zcfuse returns once the mount is up and serves it in the background.
	"$zcfuse" "$backing" "$top/mnt" -o fsname=zcfuse,subtype=zcfuse || {
		rm -rf "$top"
		die "zcfuse could not mount $top/mnt"
	}
	for _ in $(seq 100); do
		mountpoint -q "$top/mnt" && break
		sleep 0.05
	done
	mountpoint -q "$top/mnt" || { unmount "$top/mnt"; die "$top/mnt did not come up"; }
	echo "$top/mnt"
}

case ${1:-} in
-u) [ $# -eq 2 ] || die "usage: zcfuse-mount.sh -u MOUNTPOINT"
    unmount "$2" ;;
''|-*) die "usage: zcfuse-mount.sh ZCFUSE [BACKING] | -u MOUNTPOINT" ;;
*) mount_it "$@" ;;
esac
