#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Sparse copies: the project's zcopy command against cp (--sparse=auto, its
# default) on a 1 GiB file holding 1% data in 100 islands of odd sizes at
# pseudo-random odd offsets, ending in a hole; on the bench directory's
# filesystem and on tmpfs, with a dense file of the same size for reference.
# Gives the wall time of each copy (process start included, for both tools)
# and the blocks it allocated. Target: zcopy within 2x of cp's time, with the
# same blocks.
#
# Usage: tests/bench/sparse.sh [BUILD_DIR [OUT_DIR]]     (default: build .)
# Environment: ZC_BENCH_SMOKE=1 (64 MiB, 3 repetitions), ZC_BENCH_BIG_MIB=1024,
#   ZC_BENCH_REPS=11, ZC_BENCH_DIR (else T_TMPDIR, else /tmp),
#   ZC_BENCH_TMPFS=/dev/shm, ZC_BENCH_DENSE=0 to leave the dense files out.
# The report goes to stdout and OUT_DIR/sparse.md.
#
# Each repetition copies every file with both tools, in turn (lib.sh). Before
# each copy the last copy is removed and `sync` writes back whatever is
# dirty, untimed, so no copy pays for another's writeback (as in peers.sh).
# A first round, untimed, checks the bytes with cmp and which path zcopy took.
#
# results/2026-11-29-files: the same blocks as cp, and 0.88-0.95 of its time,
# on ext4 and tmpfs. Before the command stopped truncating new files it took
# 1.5-2x cp's time on ext4, all in close(): ext4 writes back at close a file
# that was truncated to 0.
. "$(dirname "$(realpath "$0")")/lib.sh"
b_init "$@"
dense=${ZC_BENCH_DENSE:-1}
islands=100
bytes=$((b_mib * 1024 * 1024))

work=()
cleanup() {
	[ ${#work[@]} -eq 0 ] || rm -rf "${work[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Where the files go: the bench directory, and tmpfs when there is one.
places=("$b_dir")
if [ "$(b_fstype "$b_tmpfs")" = tmpfs ]; then
	places+=("$b_tmpfs")
else
	echo "sparse.sh: $b_tmpfs is not a tmpfs: only $b_dir is measured" >&2
fi

# The islands as "offset length" lines, the same in every file of a run: one
# in each of $islands slots of the file, about 1% of the slot long, at an odd
# offset and of an odd length, so that none is aligned to a block. The last
# 64 KiB of every slot stay empty, so the file ends in a hole.
layout() {
	awk -v size="$bytes" -v n="$islands" 'BEGIN {
		srand(20261129)
		slot = int(size / n)
		avg = int(size / 100 / n)
		for (i = 0; i < n; i++) {
			len = int(avg * (0.75 + 0.5 * rand()))
			len += 1 - len % 2
			off = i * slot + int((slot - len - 65536) * rand())
			off += 1 - off % 2
			print off, len
		}
	}'
}

make_sparse() {
	local f=$1 off len

	: >"$f"
	while read -r off len; do
		dd if=/dev/urandom of="$f" bs="$len" count=1 iflag=fullblock seek="$off" \
			oflag=seek_bytes conv=notrunc status=none
	done < <(layout)
	truncate -s "$bytes" "$f"
}

# Cases are named FS-KIND (ext4-sparse...); src[] gives each its file.
declare -A src
b_cases=
for p in "${places[@]}"; do
	w=$(mktemp -d "$p/zc-sparse.XXXXXX")
	work+=("$w")
	fs=$(b_fstype "$p")
	make_sparse "$w/sparse"
	src[$fs-sparse]=$w/sparse
	b_cases+=" $fs-sparse"
	if [ "$dense" != 0 ]; then
		head -c "$bytes" /dev/urandom >"$w/dense"
		src[$fs-dense]=$w/dense
		b_cases+=" $fs-dense"
	fi
done
sync
for c in $b_cases; do
	cat "${src[$c]}" >/dev/null	# page-cache the sources
done

kib() {
	echo $(($(stat -c %b "$1") / 2))
}

# One copy: prints "seconds KiB-allocated". The blocks are counted once the
# copy is on disk (untimed): before writeback ext4 counts the data blocks it
# reserved, but not the extent tree block that 100 extents need.
measure() {
	local f=${src[$2]} s

	rm -f "$f.copy"
	sync
	case $1 in
	zcopy) s=$(b_time "$b_zcopy" "$f" "$f.copy") ;;
	cp) s=$(b_time cp "$f" "$f.copy") ;;
	esac
	sync "$f.copy"
	echo "$s $(kib "$f.copy")"
}

# The checked round: the bytes, and the path zcopy took.
declare -A path
failed=0
for c in $b_cases; do
	f=${src[$c]}
	for tool in zcopy cp; do
		rm -f "$f.copy"
		if [ $tool = zcopy ]; then
			path[$c]=$(b_zcopy_path "$f" "$f.copy")
		else
			cp "$f" "$f.copy"
		fi
		cmp -s "$f" "$f.copy" || {
			echo "sparse.sh: $tool on $c: the copy differs" >&2
			failed=1
		}
	done
	rm -f "$f.copy"
done

b_interleave zcopy cp

# "a" if every repetition gave a, else "least-greatest".
range() {
	b_spread | awk '{ print $2 == $3 ? $2 : $2 "-" $3 }'
}

report() {
	local c r rlo rhi zlo clo kz kc verdict

	echo "# Sparse copies: $b_mib MiB, 1% data in $islands islands, $b_reps repetitions, $(b_machine)"
	echo
	echo "Wall time of the whole command (process start included), in seconds: median"
	echo "(min-max). KiB: st_blocks of the copy, in KiB. zcopy/cp: median over the"
	echo "repetitions of zcopy's time over cp's in the same repetition (min-max);"
	echo "best/best: fastest over fastest. Target on sparse files: zcopy/cp at most 2,"
	echo "and the same blocks."
	echo
	echo "| file | source KiB | zcopy path | zcopy s | cp s | zcopy KiB | cp KiB | zcopy/cp | min-max | best/best | target |"
	echo "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|---|"
	for c in $b_cases; do
		read -r r rlo rhi <<<"$(echo "${b_ratios[$c]}" | b_spread)"
		zlo=$(echo "${b_secs[$c|zcopy]}" | b_spread | cut -d' ' -f2)
		clo=$(echo "${b_secs[$c|cp]}" | b_spread | cut -d' ' -f2)
		kz=$(echo "${b_value[$c|zcopy]}" | range)
		kc=$(echo "${b_value[$c|cp]}" | range)
		verdict=
		if [[ $c == *sparse ]]; then
			verdict=ok
			awk -v r="$r" 'BEGIN { exit !(r > 2) }' && verdict="**slow**"
			[ "$kz" = "$kc" ] || verdict="$verdict, **blocks differ**"
		fi
		printf '| %s | %s | %s | %s | %s | %s | %s | %.2f | %.2f-%.2f | %.2f | %s |\n' \
			"$c" "$(kib "${src[$c]}")" "${path[$c]:-?}" \
			"$(b_secs_text "${b_secs[$c|zcopy]}" 3)" "$(b_secs_text "${b_secs[$c|cp]}" 3)" \
			"$kz" "$kc" "$r" "$rlo" "$rhi" "$(b_ratio "$zlo" "$clo")" "$verdict"
	done
}

mkdir -p "$b_out"
report | tee "$b_out/sparse.md"
exit $failed
