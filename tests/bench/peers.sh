#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The suite's transfers done by the tools people use today, on the same
# page-cached data in the same run, with ratios against zc_transfer.
#
# Usage: tests/bench/peers.sh [BUILD_DIR]        (default: build)
# Environment: PEERS_MIB=1024 (data size), PEERS_REPS=3, PEERS_DIR=/tmp,
#              PEERS_ZCOPY=path of the zcopy command (default: found in BUILD_DIR),
#              PEERS_PAIRS="file->file file->null file->pipe file->tcp tcp->file pipe->pipe"
#
# Needs: coreutils (cat, cp, dd), pv, socat, python3, iproute2 (ss), and
# bash's /dev/tcp. On Debian: apt-get install pv socat python3 iproute2
#
# zc_transfer itself is `bench --cat` (the suite's binary: FILE or stdin to
# stdout through zc_transfer with no flags); the project's `zcopy` command is
# run too when the build has it. Pipes and sockets are drained by
# `bench --drain` (splice into /dev/null), the same consumer for every tool,
# and stream sources are fed by `bench --cat`, so only the tool in the middle
# changes. Every tool runs once per repetition, in turn, so machine noise
# falls on all alike (each repetition starts with another tool, and dirty
# pages are flushed before each run into a file); the figures are medians. Process start-up is included,
# which is why the default size is 1 GiB.
set -euo pipefail

build=${1:-build}
mib=${PEERS_MIB:-1024}
reps=${PEERS_REPS:-3}
dir=${PEERS_DIR:-/tmp}
pairs=${PEERS_PAIRS:-"file->file file->null file->pipe file->tcp tcp->file pipe->pipe"}

bench=$(realpath "$build/tests/bench/bench")
[ -x "$bench" ] || { echo "peers.sh: $bench not built (ninja -C $build)" >&2; exit 1; }
for t in pv socat python3 ss; do
	command -v "$t" >/dev/null ||
		{ echo "peers.sh: $t missing: apt-get install pv socat python3 iproute2" >&2; exit 1; }
done
zcopy=${PEERS_ZCOPY:-$(find "$build" -name zcopy -type f -executable 2>/dev/null | head -n 1)}
if [ -n "$zcopy" ]; then
	zcopy=$(realpath "$zcopy")
else
	echo "peers.sh: no zcopy command in $build (examples/zcopy not built): skipping it" >&2
fi

work=$(mktemp -d "$dir/zc-peers.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/src
dst=$work/dst
count=$work/count
bytes=$((mib * 1024 * 1024))
head -c "$bytes" /dev/urandom >"$src"
sync "$src"
cat "$src" >/dev/null	# page-cache the source

py_copy='import shutil,sys; shutil.copyfileobj(sys.stdin.buffer, sys.stdout.buffer)'
py_sendfile='import socket,sys; s=socket.socket(fileno=1); s.sendfile(open(sys.argv[1],"rb")); s.detach()'

# Tools as commands reading $1 (a path) or stdin and writing stdout.
declare -A file_tool=(
	[zc_transfer]="\"$bench\" --cat \"\$1\""
	[cat]='cat "$1"'
	[cp]='cp "$1" /dev/stdout'
	[dd]='dd if="$1" bs=1M status=none'
	[pv]='pv -q "$1"'
	[socat]='socat -u -b 131072 OPEN:"$1" STDOUT'
	[py-copyfileobj]="python3 -c '$py_copy' <\"\$1\""
)
declare -A stream_tool=(
	[zc_transfer]="\"$bench\" --cat"
	[cat]='cat'
	[dd]='dd bs=1M status=none'
	[pv]='pv -q'
	[socat]='socat -u -b 131072 STDIN STDOUT'
	[py-copyfileobj]="python3 -c '$py_copy'"
)
if [ -n "$zcopy" ]; then
	file_tool[zcopy]="\"$zcopy\" \"\$1\" -"
	stream_tool[zcopy]="\"$zcopy\" - -"
fi
tools="zc_transfer zcopy cat cp dd pv socat py-copyfileobj py-sendfile"

port=$((20000 + RANDOM % 20000))

# Listen on $port with socat handing the socket to CMD as stdin.
listen() {
	socat -u TCP-LISTEN:$port,reuseaddr SYSTEM:"exec $1",nofork &
	listener=$!
	for _ in $(seq 200); do
		ss -Hltn "sport = :$port" | grep -q . && return 0
		sleep 0.01
	done
	echo "peers.sh: listener on $port did not come up" >&2
	return 1
}

# The command line for one tool on one pair, or nothing if it does not apply.
cmdline() {
	local pair=$1 tool=$2 f=${file_tool[$2]:-} s=${stream_tool[$2]:-}

	case $pair in
	file-\>file) [ -n "$f" ] && echo "set -- \"$src\"; $f >\"$dst\"" ;;
	file-\>null) [ -n "$f" ] && echo "set -- \"$src\"; $f >/dev/null" ;;
	file-\>pipe) [ -n "$f" ] && echo "set -- \"$src\"; $f | \"$bench\" --drain >\"$count\"" ;;
	file-\>tcp)
		if [ "$tool" = py-sendfile ]; then
			echo "python3 -c '$py_sendfile' \"$src\" >/dev/tcp/127.0.0.1/\$port"
		elif [ -n "$f" ] && [ "$tool" != cp ]; then	# cp cannot open a socket
			echo "set -- \"$src\"; $f >/dev/tcp/127.0.0.1/\$port"
		fi ;;
	tcp-\>file) [ -n "$s" ] && echo "$s >\"$dst\"" ;;
	pipe-\>pipe) [ -n "$s" ] && echo "\"$bench\" --cat \"$src\" | $s | \"$bench\" --drain >\"$count\"" ;;
	esac
}

# Run one transfer; prints the seconds it took.
run_one() {
	local pair=$1 cmd=$2 t0 t1

	rm -f "$dst" "$count"
	# Writing 1 GiB leaves it dirty; flush it here, untimed, or the next tool
	# into a file pays for the last one's writeback.
	case $pair in *-\>file) sync ;; esac
	case $pair in
	file-\>tcp)
		listen "\"$bench\" --drain >\"$count\"" || return 1
		t0=$EPOCHREALTIME
		eval "$cmd" || { kill "$listener"; return 1; }
		wait "$listener" || return 1 ;;
	tcp-\>file)
		# socat would parse commas and parentheses in the command itself.
		printf 'exec %s\n' "$cmd" >"$work/recv.sh"
		listen "sh $work/recv.sh" || return 1
		t0=$EPOCHREALTIME
		"$bench" --cat "$src" >/dev/tcp/127.0.0.1/$port || { kill "$listener"; return 1; }
		wait "$listener" || return 1 ;;
	*)
		t0=$EPOCHREALTIME
		eval "$cmd" || return 1 ;;
	esac
	t1=$EPOCHREALTIME
	echo "$t0 $t1" | awk '{ printf "%.6f\n", $2 - $1 }'
}

# The bytes arrived: compare a file, or the drain's count.
check() {
	local pair=$1 tool=$2

	case $pair in
	*-\>file) cmp -s "$src" "$dst" ;;
	*-\>null) true ;;
	*) [ "$(cat "$count")" = "$bytes" ] ;;
	esac || { echo "peers.sh: $tool on $pair: the bytes differ" >&2; return 1; }
}

declare -A secs
failed=0
for rep in $(seq "$reps"); do
	# A different tool goes first in each repetition.
	order=$(echo $tools | tr ' ' '\n' | awk -v r="$rep" '{ t[NR - 1] = $0 }
		END { for (i = 0; i < NR; i++) print t[(i + r - 1) % NR] }')
	for pair in $pairs; do
		for tool in $order; do
			cmd=$(cmdline "$pair" "$tool") || true
			[ -n "$cmd" ] || continue
			port=$((port + 1))
			s=$(run_one "$pair" "$cmd" 2>"$work/err") || {
				echo "peers.sh: $tool on $pair failed: $(head -c 300 "$work/err")" >&2
				failed=1
				continue
			}
			[ "$rep" -gt 1 ] || check "$pair" "$tool" || failed=1
			secs[$pair|$tool]+="$s "
		done
	done
	echo "peers.sh: repetition $rep/$reps done" >&2
done

least() {
	tr ' ' '\n' | grep . | sort -g | head -n 1
}

median() {
	tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
		print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "# Peers: $mib MiB, page-cached, median of $reps, kernel $(uname -r), $(nproc) CPUs"
echo
echo "zc/tool > 1 means zc_transfer (\`bench --cat\`) was faster; best = fastest repetition."
echo
echo "| pair | tool | GB/s | zc/tool | best GB/s | zc/tool best |"
echo "|---|---|--:|--:|--:|--:|"
for pair in $pairs; do
	zc=$(echo "${secs[$pair|zc_transfer]:-}" | median)
	zl=$(echo "${secs[$pair|zc_transfer]:-}" | least)
	for tool in $tools; do
		[ -n "${secs[$pair|$tool]:-}" ] || continue
		m=$(echo "${secs[$pair|$tool]}" | median)
		l=$(echo "${secs[$pair|$tool]}" | least)
		awk -v p="$pair" -v t="$tool" -v m="$m" -v z="$zc" -v l="$l" -v zl="$zl" \
			-v b="$bytes" 'BEGIN { printf "| %s | %s | %.2f | %.2f | %.2f | %.2f |\n",
				p, t, b / m / 1e9, m / z, b / l / 1e9, l / zl }'
	done
done
exit $failed
