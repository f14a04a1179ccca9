#!/bin/bash
# SPDX-License-Identifier: MIT
# Run the zcopy command the way people do: files, pipes, redirections,
# the path it reports, and the messages and exit codes of its failures.
set -euo pipefail

zcopy=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zcopy-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"	# the permission case runs as another user
cd "$tmp"

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

# expect STATUS CMD...: run CMD, capture stderr in ./err, check the status.
expect()
{
	local want=$1 got=0
	shift
	"$@" 2>err || got=$?
	[ "$got" -eq "$want" ] || fail "$* exited $got, not $want: $(cat err)"
}

expect_err()
{
	grep -qxF -- "$1" err || fail "stderr is not '$1': $(cat err)"
}

same()
{
	cmp -s "$1" "$2" || fail "$2 differs from $1"
}

head -c 5000013 /dev/urandom >big
printf x >one
: >empty

# Files of every size, and a longer dst is truncated to the new content.
for f in empty one big; do
	expect 0 "$zcopy" "$f" "$f.copy"
	same "$f" "$f.copy"
	expect 0 "$zcopy" "$f" big.copy-over
	same "$f" big.copy-over
done

# A new dst gets 0666 less the umask, like cp.
(umask 027 && "$zcopy" one mode) || fail "copy with umask 027"
[ "$(stat -c %a mode)" = 640 ] || fail "mode is $(stat -c %a mode), not 640"

# Standard input and output, as pipes and as redirected files.
cat big | "$zcopy" - in-pipe || fail "stdin pipe"
same big in-pipe
"$zcopy" - in-file <big || fail "stdin file"
same big in-file
"$zcopy" big - | cat >out-pipe || fail "stdout pipe"
same big out-pipe
"$zcopy" big - >out-file || fail "stdout file"
same big out-file
cat big | "$zcopy" - - | cat >pipe-pipe || fail "pipe to pipe"
same big pipe-pipe

# -v names the path (each --no-* flag rules out its own) and counts the bytes.
verbose()
{
	local want=$1
	shift
	"$zcopy" -v "$@" big - 2>err | cat >v.out || fail "-v $*"
	same big v.out
	grep -qx "zcopy: path $want (file -> pipe)" err || fail "-v $* did not say $want: $(cat err)"
	grep -q "^zcopy: 5000013 bytes (4.8M) in .* s, .*/s$" err || fail "-v count: $(cat err)"
}
verbose splice
verbose sendfile --no-splice
verbose mmap_write --no-splice --no-sendfile
verbose read_write --no-splice --no-sendfile --no-mmap
cat big | "$zcopy" -v - v.file 2>err || fail "-v pipe to file"
grep -qx "zcopy: path splice (pipe -> file)" err || fail "pipe to file: $(cat err)"
expect 0 "$zcopy" -v --no-copy-file-range big v.file
grep -q "copy_file_range" err && fail "--no-copy-file-range used it: $(cat err)"
grep -qx "zcopy: path splice (file -> file)" err || fail "file to file: $(cat err)"
same big v.file

# -p draws nothing unless stderr is a terminal, and a full bar when it is.
expect 0 "$zcopy" -p big p.out
[ -s err ] && fail "-p wrote to a non-terminal: $(cat err)"
same big p.out
script -qec "'$zcopy' -p big p.tty" /dev/null >tty.out </dev/null || fail "-p on a tty"
grep -q "100% 4.8M/4.8M .*ETA 0:00" tty.out || fail "no full bar: $(cat -v tty.out)"
same big p.tty

# Failures: a message naming the operand, status 1, nothing left behind.
expect 1 "$zcopy" missing new
expect_err "zcopy: missing: No such file or directory"
[ -e new ] && fail "dst created for a missing src"
expect 1 "$zcopy" big no/such/dir
expect_err "zcopy: no/such/dir: No such file or directory"
expect 1 "$zcopy" . new
expect_err "zcopy: .: Is a directory"
expect 1 "$zcopy" big /dev/full
expect_err "zcopy: /dev/full: No space left on device"
expect 1 "$zcopy" big big
expect_err "zcopy: big and big are the same file"
[ "$(stat -c %s big)" = 5000013 ] || fail "copying big onto itself changed it"
expect 1 "$zcopy" - - <big >>big
expect_err "zcopy: standard input and standard output are the same file"
expect 2 "$zcopy" one
expect 2 "$zcopy" --bogus one two

# Permission denied, on either side. Root reads anything, so drop to nobody.
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
chmod 000 one
mkdir locked && chmod 555 locked
expect 1 "${as_user[@]}" "$zcopy" one o
expect_err "zcopy: one: Permission denied"
expect 1 "${as_user[@]}" "$zcopy" big locked/o
expect_err "zcopy: locked/o: Permission denied"

# A reader that goes away ends zcopy the way it ends cat: quietly, same status.
set +o pipefail
cat big 2>cat.err | head -c 10 >/dev/null
cat_status=${PIPESTATUS[0]}
"$zcopy" big - 2>err | head -c 10 >head.out
zcopy_status=${PIPESTATUS[0]}
set -o pipefail
[ "$zcopy_status" -eq "$cat_status" ] || fail "zcopy exited $zcopy_status, cat $cat_status"
# Silent under the default SIGPIPE; if it was ignored, both report the EPIPE.
[ "$(test -s cat.err && echo said)" = "$(test -s err && echo said)" ] ||
	fail "zcopy said '$(cat err)', cat said '$(cat cat.err)'"
[ "$zcopy_status" -ne 0 ] || fail "zcopy ignored the closed pipe"
cmp -s head.out <(head -c 10 big) || fail "the first 10 bytes differ"

echo "zcopy: all checks passed"
