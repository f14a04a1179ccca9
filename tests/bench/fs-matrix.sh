#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The zcopy command against cp(1) on every pair of ext4, xfs, btrfs (images
# on loop devices), tmpfs, overlayfs and FUSE (zcfuse), for a dense and a
# sparse file, in one run.
#
#   tests/bench/fs-matrix.sh ZCOPY [ZCFUSE] [--out DIR]
#   meson test -C build --benchmark fs-matrix --verbose
#
# Environment: FSBENCH_MIB=64 (file size), FSBENCH_REPS=5 (at least 5),
# FSBENCH_FS="ext4 xfs btrfs tmpfs overlay fuse" (which filesystems),
# FSBENCH_PAIRS="ext4->ext4 overlay->tmpfs" (only those pairs; default all),
# FSBENCH_KINDS="dense sparse",
# FSBENCH_DROP=1 drops the page cache before every copy (a cold source; it
# slows everything else on the machine too).
#
# Each repetition runs every pair, file and tool once, the two tools one
# after the other with the first alternating, so noise falls on both alike.
# Before every copy the old one is removed and everything is synced, so no
# copy pays for the last one's writeback; the source stays page-cached, as
# it is after being written. A first untimed round checks every copy byte
# for byte and notes zcopy's path (ZCOPY_DEBUG) and what each copy allocates.
# The times are of the whole command, process start included, as a person
# would see them. Needs root, like tests/fs/test-fs-matrix.sh.
#
# The report, medians in a markdown table, is printed and written to
# DIR/fs-matrix-YYYY-MM-DD.md (DIR: --out, default .). A copy of a run that
# matters goes to tests/bench/results/.
set -euo pipefail

zcopy=$(realpath "$1")
shift
fs_zcfuse=
out=.
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	*) fs_zcfuse=$(realpath "$1"); shift ;;
	esac
done
mib=${FSBENCH_MIB:-64}
reps=${FSBENCH_REPS:-5}
want_fs=${FSBENCH_FS:-"ext4 xfs btrfs tmpfs overlay fuse"}
drop=${FSBENCH_DROP:-0}
kinds=${FSBENCH_KINDS:-"dense sparse"}
only_pairs=${FSBENCH_PAIRS:-}
[ "$reps" -ge 5 ] || { echo "fs-matrix.sh: FSBENCH_REPS must be at least 5" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
	echo "fs-matrix.sh: needs root to attach loop devices and mount: skipped"
	exit 77
fi
out=$(realpath "$out")

# shellcheck source=tests/fs/fs-lib.sh
. "$(dirname "$0")/../fs/fs-lib.sh"

# Room for the two sources and one copy of each at a time, with slack for
# what btrfs and xfs keep back.
img_mib=$((mib * 6))

fs_init
bytes=$((mib * 1048576 + 4097))
head -c "$bytes" /dev/urandom >"$fs_work/dense"

# Sparse: a hole first, then 16 data islands of 1 MiB and a bit, 4 MiB apart,
# a quarter of the file; the last hole runs to the end.
make_sparse() {
	local f=$1 i

	: >"$f"
	for ((i = 0; i < mib / 4; i++)); do
		dd if="$fs_work/dense" of="$f" iflag=skip_bytes,count_bytes oflag=seek_bytes \
			conv=notrunc bs=1M skip=$((i * 1048576)) seek=$((i * 4194304 + 1048576 + 511 * i)) \
			count=$((1048576 + 4099 * i)) status=none
	done
	truncate -s "$bytes" "$f"
}
make_sparse "$fs_work/sparse"

names=()
for name in $want_fs; do
	case $name in
	ext4|xfs|btrfs) fs_mount "$name" "$name" "$img_mib" || continue ;;
	*) fs_mount "$name" "$name" || continue ;;
	esac
	names+=("$name")
	cp "$fs_work/dense" "${fs_mnt[$name]}/src.dense"
	make_sparse "${fs_mnt[$name]}/src.sparse"
done
[ ${#names[@]} -ge 1 ] || { echo "fs-matrix.sh: no filesystem could be mounted"; exit 77; }
sync
for name in "${names[@]}"; do
	cat "${fs_mnt[$name]}"/src.* >/dev/null	# page-cache the sources
done

pairs=()
for s in "${names[@]}"; do
	for d in "${names[@]}"; do
		[ -z "$only_pairs" ] || [[ " $only_pairs " == *" $s->$d "* ]] || continue
		pairs+=("$s $d")
	done
done
if [ ${#pairs[@]} -eq 0 ]; then
	echo "fs-matrix.sh: no pair left of FSBENCH_PAIRS=$only_pairs" >&2
	exit 1
fi

declare -A secs path alloc

# One copy, untimed or timed: prints the seconds.
run() {
	local tool=$1 src=$2 dst=$3 t0

	rm -f "$dst"
	sync
	[ "$drop" = 1 ] && echo 3 >/proc/sys/vm/drop_caches
	t0=$EPOCHREALTIME
	case $tool in
	zcopy) "$zcopy" "$src" "$dst" ;;
	cp) cp "$src" "$dst" ;;
	esac
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f\n", b - a }'
}

failed=0
for pair in "${pairs[@]}"; do
	read -r s d <<<"$pair"
	for kind in $kinds; do
		src=${fs_mnt[$s]}/src.$kind
		dst=${fs_mnt[$d]}/copy
		rm -f "$dst"
		ZCOPY_DEBUG=1 "$zcopy" "$src" "$dst" 2>"$fs_work/log" || failed=1
		path[$s|$d|$kind]=$(fs_debug_paths "$fs_work/log")
		cmp -s "$src" "$dst" || { echo "zcopy $s -> $d $kind: copy differs" >&2; failed=1; }
		alloc[$s|$d|$kind|zcopy]=$(fs_alloc_kib "$dst")
		rm -f "$dst"
		cp "$src" "$dst" || failed=1
		cmp -s "$src" "$dst" || { echo "cp $s -> $d $kind: copy differs" >&2; failed=1; }
		alloc[$s|$d|$kind|cp]=$(fs_alloc_kib "$dst")
		rm -f "$dst"
	done
done

for rep in $(seq "$reps"); do
	tools="zcopy cp"
	[ $((rep % 2)) -eq 0 ] && tools="cp zcopy"
	for pair in "${pairs[@]}"; do
		read -r s d <<<"$pair"
		for kind in $kinds; do
			for tool in $tools; do
				t=$(run "$tool" "${fs_mnt[$s]}/src.$kind" "${fs_mnt[$d]}/copy")
				secs[$s|$d|$kind|$tool]+="$t "
			done
		done
	done
	echo "fs-matrix.sh: repetition $rep/$reps done" >&2
done

# median, least and most of a list of seconds, in ms
stats() {
	tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 * 1000 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'
}

# In how many repetitions zcopy took longer than cp did right beside it.
slower_reps() {
	paste <(echo "$1" | tr ' ' '\n' | grep .) <(echo "$2" | tr ' ' '\n' | grep .) |
		awk '$1 > $2 { n++ } END { print n + 0 }'
}

report() {
	local pair s d kind z c zm zl zh cm cl ch

	echo "# zcopy against cp across filesystems: $mib MiB + 4097, median of $reps"
	echo
	echo "$(date +%Y-%m-%d), kernel $(uname -r), $(nproc) CPUs, $(cp --version | head -n 1)."
	echo "Times of the whole command in ms, process start included; each copy"
	echo "after \`sync\`, source page-cached$([ "$drop" = 1 ] && echo ", except: page cache dropped before each copy")."
	echo "zcopy/cp < 1: zcopy faster. slower: repetitions in which zcopy took longer"
	echo "than the cp beside it. KiB: what the copy allocates (the sparse source"
	echo "holds $((mib / 4)) MiB and a bit of data)."
	echo
	echo "| from | to | file | zcopy path | zcopy ms (min-max) | cp ms (min-max) | zcopy/cp | slower | KiB zcopy / cp |"
	echo "|---|---|---|---|--:|--:|--:|--:|--:|"
	for pair in "${pairs[@]}"; do
		read -r s d <<<"$pair"
		for kind in $kinds; do
			z=${secs[$s|$d|$kind|zcopy]}
			c=${secs[$s|$d|$kind|cp]}
			read -r zm zl zh <<<"$(echo "$z" | stats)"
			read -r cm cl ch <<<"$(echo "$c" | stats)"
			printf '| %s | %s | %s | %s | %s (%s-%s) | %s (%s-%s) | %.2f | %s/%s | %s / %s |\n' \
				"$s" "$d" "$kind" "${path[$s|$d|$kind]}" "$zm" "$zl" "$zh" \
				"$cm" "$cl" "$ch" "$(awk -v a="$zm" -v b="$cm" 'BEGIN { print a / b }')" \
				"$(slower_reps "$z" "$c")" "$reps" \
				"${alloc[$s|$d|$kind|zcopy]}" "${alloc[$s|$d|$kind|cp]}"
		done
	done
	for name in "${!fs_skip[@]}"; do
		echo
		echo "Skipped $name: ${fs_skip[$name]}"
	done
}

mkdir -p "$out"
report | tee "$out/fs-matrix-$(date +%Y-%m-%d).md"
exit "$failed"
