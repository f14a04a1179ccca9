# SPDX-License-Identifier: MIT
#
# What the benchmark scripts that time the zcopy command against another
# tool share: source it, then call b_init "$@". Names start with b_.
set -euo pipefail
shopt -s inherit_errexit
# Times come from $EPOCHREALTIME: a locale with a decimal comma would break them.
export LC_ALL=C

b_name=$(basename "$0")

# Skip the run, saying why (77: meson's "skipped").
b_skip() {
	echo "$b_name: $*: skipped" >&2
	exit 77
}

# Arguments BUILD_DIR (build) and OUT_DIR (.), and the settings the suite's
# programs take from the environment: b_smoke (empty, or 1 for
# ZC_BENCH_SMOKE), b_reps (ZC_BENCH_REPS: 11, 3 in smoke), b_mib
# (ZC_BENCH_BIG_MIB: 1024, 64 in smoke), b_dir (ZC_BENCH_DIR, else T_TMPDIR,
# else /tmp), b_tmpfs (ZC_BENCH_TMPFS, /dev/shm); b_zcopy is the command.
b_init() {
	b_build=${1:-build}
	b_out=${2:-.}
	b_smoke=
	case ${ZC_BENCH_SMOKE:-0} in 0 | '') ;; *) b_smoke=1 ;; esac
	b_reps=${ZC_BENCH_REPS:-${b_smoke:+3}}
	b_reps=${b_reps:-11}
	b_mib=${ZC_BENCH_BIG_MIB:-${b_smoke:+64}}
	b_mib=${b_mib:-1024}
	b_dir=${ZC_BENCH_DIR:-${T_TMPDIR:-/tmp}}
	b_tmpfs=${ZC_BENCH_TMPFS:-/dev/shm}
	b_zcopy=$b_build/examples/zcopy/zcopy
	[ -x "$b_zcopy" ] || b_skip "no $b_zcopy (examples not built)"
	b_zcopy=$(realpath "$b_zcopy")
}

# "median least greatest" of the numbers on stdin (any number a line).
b_spread() {
	tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
		print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR] }'
}

# Run "$@" and print the seconds it took; fails if the command does.
b_time() {
	local t0 t1

	t0=$EPOCHREALTIME
	"$@" || return
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}

# a / b, to three places.
b_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", (b > 0 ? a / b : 0) }'
}

# The filesystem type a path is on: ext4, tmpfs, btrfs... (of stacked
# mounts, the last is the one seen).
b_fstype() {
	findmnt -n -o FSTYPE --target "$1" | tail -n 1
}

# The path zcopy -v says it took from $1 to $2.
b_zcopy_path() {
	"$b_zcopy" -v "$1" "$2" 2>&1 >/dev/null | sed -n 's/^zcopy: path \([^ ]*\).*/\1/p'
}

# The timed rounds. For every repetition and case (the words of $b_cases),
# `measure TOOL CASE` runs for both tools, and prints "seconds value"; the
# first tool goes first in odd repetitions and the second in even ones, so
# neither always meets the machine as the other left it. Fills
# b_secs[CASE|TOOL] and b_value[CASE|TOOL] with the values, and
# b_ratios[CASE] with each repetition's first tool's time over the second's.
declare -A b_secs b_value b_ratios
b_interleave() {
	local first=$1 second=$2 rep c tool s v t1 t2

	for rep in $(seq "$b_reps"); do
		for c in $b_cases; do
			for tool in $([ $((rep % 2)) -eq 1 ] && echo "$first $second" ||
				echo "$second $first"); do
				s=$(measure "$tool" "$c") ||
					{ echo "$b_name: $tool on $c failed" >&2; exit 1; }
				read -r s v <<<"$s"
				b_secs[$c|$tool]+="$s "
				b_value[$c|$tool]+="$v "
				if [ "$tool" = "$first" ]; then t1=$s; else t2=$s; fi
			done
			b_ratios[$c]+="$(b_ratio "$t1" "$t2") "
		done
		echo "$b_name: repetition $rep/$b_reps done" >&2
	done
}

# "median (least-greatest)" of a list of seconds, to $2 places.
b_secs_text() {
	local m lo hi

	read -r m lo hi <<<"$(echo "$1" | b_spread)"
	printf "%.${2}f (%.${2}f-%.${2}f)" "$m" "$lo" "$hi"
}

# What a report's first line says of the machine.
b_machine() {
	echo "kernel $(uname -r), $(nproc) CPUs"
}
