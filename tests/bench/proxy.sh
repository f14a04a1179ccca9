#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tcp-proxy against haproxy and socat on the same loopback workloads, in one
# run (proxy-bench.c says what is measured and how).
#
# Usage: tests/bench/proxy.sh PROXY-BENCH TCP-PROXY
# Environment: PROXY_REPS=3, PROXY_SECS=2 (per message and connection run),
#              PROXY_BULK_MIB=1024, PROXY_ONLY=bulk-1,msg-4K-64,... (a subset)
#
# haproxy runs in TCP mode with one thread and splice forced both ways
# (option splice-request, option splice-response); socat forks a process
# per connection. Both are installed with apt-get when missing and this
# script runs as root; otherwise it says so and skips (exit 77).
set -eu

bench=${1:?usage: proxy.sh PROXY-BENCH TCP-PROXY}
proxy=${2:?usage: proxy.sh PROXY-BENCH TCP-PROXY}

for tool in haproxy socat; do
	command -v "$tool" >/dev/null 2>&1 && continue
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "proxy.sh: installing $tool" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$tool" >/dev/null ||
			{ echo "proxy.sh: skipped: apt-get could not install $tool" >&2; exit 77; }
	else
		echo "proxy.sh: skipped: $tool is missing (apt-get install haproxy socat, as root)" >&2
		exit 77
	fi
done
haproxy=$(command -v haproxy)

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/haproxy.tmpl" <<'CFG'
global
	nbthread 1
	maxconn 4096
defaults
	mode tcp
	timeout connect 5s
	timeout client 60s
	timeout server 60s
	option splice-request
	option splice-response
frontend in
	bind 127.0.0.1:@L@
	default_backend out
backend out
	server up 127.0.0.1:@T@
CFG

"$bench" --reps "${PROXY_REPS:-3}" --secs "${PROXY_SECS:-2}" \
	--bulk-mib "${PROXY_BULK_MIB:-1024}" ${PROXY_ONLY:+--only "$PROXY_ONLY"} \
	"relay=exec $proxy -m relay -p %L %T" \
	"relay-64K=exec $proxy -m relay -P 0 -p %L %T" \
	"haproxy=sed 's/@L@/%L/; s/@T@/%T/' $tmp/haproxy.tmpl > $tmp/h%L.cfg && exec $haproxy -db -f $tmp/h%L.cfg" \
	"transfer=exec $proxy -m transfer -p %L %T" \
	"rw=exec $proxy -m rw -p %L %T" \
	"socat=exec socat TCP-LISTEN:%L,bind=127.0.0.1,reuseaddr,fork,backlog=4096 TCP:127.0.0.1:%T"
