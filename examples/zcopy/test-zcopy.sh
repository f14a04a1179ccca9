#!/bin/bash
# SPDX-License-Identifier: MIT
# Run the zcopy command the way people do: files, directories, pipes,
# redirections, closed standard fds, the path it reports, and the messages and
# exit codes of its failures. Where zcopy stands in for cp or cat, both run
# in the same situation here and must end alike.
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
# A writer that pauses: a short read is not the end of a pipe.
{ printf a; sleep 0.3; printf b; } | "$zcopy" - slow || fail "slow pipe"
[ "$(cat slow)" = ab ] || fail "slow pipe gave '$(cat slow)'"

# --length: at most N bytes of each source, from a file or a stream.
expect 0 "$zcopy" --length=1000003 big len.file
cmp -s len.file <(head -c 1000003 big) || fail "--length from a file"
"$zcopy" --length=70001 - - < <(cat big) >len.pipe || fail "--length from a pipe"
cmp -s len.pipe <(head -c 70001 big) || fail "--length from a pipe"
"$zcopy" --length=10k big one - >len.two || fail "--length, two sources"
cmp -s len.two <(head -c 10240 big; printf x) || fail "--length is not per source"
expect 0 "$zcopy" --length=0 big len.zero
[ -e len.zero ] && [ ! -s len.zero ] || fail "--length=0 did not make an empty file"
expect 0 "$zcopy" --length=1G one len.more
same one len.more
expect 1 "$zcopy" --length=-1 one len.bad
expect 1 "$zcopy" --length=1.5k one len.bad
[ -e len.bad ] && fail "a bad --length created the file"

# The WHEN words that this library offers are taken; others are refused.
expect 0 "$zcopy" --sparse=auto --reflink=auto big when.out
same big when.out
expect 1 "$zcopy" --sparse=sometimes big when.bad
expect_err "zcopy: invalid argument 'sometimes' for '--sparse'"
expect 1 "$zcopy" --sparse=always big when.bad
expect_err "zcopy: invalid argument 'always' for '--sparse'"
[ -e when.bad ] && fail "a refused --sparse created the file"

# --sparse as cp takes it, beside cp: a 20 MiB hole is kept, or written.
truncate -s 20M sparse
printf end >>sparse
holes()
{
	[ $(($(stat -c '%b * %B' "$1"))) -lt $(($(stat -c %s "$1") / 2)) ] && echo holes || echo full
}
for when in auto never; do
	cp --sparse=$when sparse sparse.cp
	expect 0 "$zcopy" --sparse=$when sparse sparse.zcopy
	same sparse sparse.zcopy
	[ "$(holes sparse.zcopy)" = "$(holes sparse.cp)" ] ||
		fail "--sparse=$when: cp's copy has $(holes sparse.cp), zcopy's $(holes sparse.zcopy)"
done
[ "$(holes sparse.zcopy)" = full ] || fail "--sparse=never left holes"

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

# -p draws nothing unless stderr is a terminal; there, a full bar for a file
# or a size given with -s, and a running count for a stream of unknown size.
expect 0 "$zcopy" -p big p.out
[ -s err ] && fail "-p wrote to a non-terminal: $(cat err)"
same big p.out
on_tty()
{
	script -qec "$1" /dev/null >tty.out </dev/null || fail "on a tty: $1"
}
on_tty "'$zcopy' -p big p.tty"
grep -q "100% 4.8M/4.8M .*ETA 0:00" tty.out || fail "no full bar: $(cat -v tty.out)"
same big p.tty
on_tty "cat big | '$zcopy' -p - p.tty"
grep -q "4.8M .*/s [0-9]*:[0-9][0-9]" tty.out || fail "no count for a pipe: $(cat -v tty.out)"
grep -q "%" tty.out && fail "a bar for a pipe of unknown size: $(cat -v tty.out)"
same big p.tty
on_tty "cat big | '$zcopy' -p -s 5000013 - p.tty"
grep -q "100% 4.8M/4.8M .*ETA 0:00" tty.out || fail "no bar with -s: $(cat -v tty.out)"
same big p.tty
on_tty "cat big | '$zcopy' -p --length=1M - p.tty"
grep -q "100% 1.0M/1.0M" tty.out || fail "--length is not the size: $(cat -v tty.out)"
# A writer that trickles 500 KB over 1.5 s: the count moves while it does.
on_tty "{ for i in 1 2 3 4 5; do head -c 100000 big; sleep 0.3; done; } | '$zcopy' -p - p.tty"
draws=$(tr '\r' '\n' <tty.out | grep -c '/s ')
[ "$draws" -ge 4 ] || fail "$draws draws for a slow pipe: $(cat -v tty.out)"
cmp -s p.tty <(for i in 1 2 3 4 5; do head -c 100000 big; done) || fail "slow pipe bytes"

# Failures: a message naming the operand, status 1, nothing left behind.
expect 1 "$zcopy" missing new
expect_err "zcopy: missing: No such file or directory"
[ -e new ] && fail "dst created for a missing src"
expect 1 "$zcopy" big no/such/dir
expect_err "zcopy: no/such/dir: No such file or directory"
expect 1 "$zcopy" . new
expect_err "zcopy: .: Is a directory"
[ -e new ] && fail "dst created for a directory src"
expect 1 "$zcopy" big /dev/full
expect_err "zcopy: /dev/full: No space left on device"
expect 1 "$zcopy" big - >/dev/full
expect_err "zcopy: standard output: No space left on device"
expect 1 "$zcopy" big big
expect_err "zcopy: big and big are the same file"
[ "$(stat -c %s big)" = 5000013 ] || fail "copying big onto itself changed it"
expect 1 "$zcopy" - - <big >>big
expect_err "zcopy: standard input and standard output are the same file"
expect 1 "$zcopy" - .
expect_err "zcopy: standard input has no name to give its copy in ."

# Permission denied, on either side. Root reads anything, so drop to nobody.
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
cp one unreadable
chmod 000 unreadable
mkdir locked && chmod 555 locked
expect 1 "${as_user[@]}" "$zcopy" unreadable o
expect_err "zcopy: unreadable: Permission denied"
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

# Against cp: the same operands in two fresh copies of one tree must give the
# same exit status and leave the same tree (names, types, modes, contents).
head -c 100003 /dev/urandom >src.bytes
fixture()
{
	cp ../src.bytes src
	chmod 640 src
	printf 'second\n' >two
	chmod 4751 two
	printf 'kept\n' >out
	chmod 604 out
	mkdir dir dir2
	printf 'old\n' >dir/two
	chmod 604 dir/two
	mkdir dir/src
}

like_cp()
{
	local umask=$1 t got=()
	shift
	for t in cp zcopy; do
		rm -rf "$t.run" && mkdir "$t.run"
		(cd "$t.run" && fixture)
		got+=("$(cd "$t.run" && umask "$umask" &&
			{ if [ $t = cp ]; then cp "$@"; else "$zcopy" "$@"; fi; } 2>"../$t.err" &&
			echo 0 || echo $?)")
	done
	[ "${got[0]}" = "${got[1]}" ] ||
		fail "cp $* exited ${got[0]}, zcopy ${got[1]}: $(cat cp.err) / $(cat zcopy.err)"
	[ "${got[1]}" = 0 ] || [ -s zcopy.err ] || fail "zcopy $* failed without a word"
	diff <(cd cp.run && find . -printf '%p %y %m %s\n' | sort) \
	     <(cd zcopy.run && find . -printf '%p %y %m %s\n' | sort) >tree.diff ||
		fail "cp $* and zcopy $* left different trees: $(cat tree.diff)"
	diff -r cp.run zcopy.run >/dev/null || fail "cp $* and zcopy $* copied different bytes"
}
like_cp 022 src new			# a new file: the source's mode less the umask
like_cp 077 src new
like_cp 027 two new			# set-user-ID is not copied
like_cp 022 src out			# an existing file keeps its mode, loses its bytes
like_cp 022 dir out			# a directory source: out untouched
like_cp 022 dir new
like_cp 022 src dir2			# into a directory
like_cp 022 src dir2/
like_cp 077 src two dir2		# several into a directory
like_cp 022 src two dir			# replacing dir/two, refusing dir/src
like_cp 022 src missing two dir2	# one missing: the others still go
like_cp 022 src two out			# several, and the last is no directory
like_cp 022 src two nowhere
like_cp 022 -t dir2 src two
like_cp 022 -t out src
like_cp 022 -t nowhere src
like_cp 022 -T src dir2			# -T: dir2 itself is the target
like_cp 022 -T src out
like_cp 022 -T src two dir2
like_cp 022 src src			# the same file
like_cp 022 src ./src
like_cp 022 dir/../src .			# a name that leads back to the source
like_cp 022 src nodir/new
like_cp 022 src newdir/
like_cp 022 src /dev/full		# ENOSPC, named after the output
like_cp 022 src				# the command line
like_cp 022
like_cp 022 --bogus src new
like_cp 022 -t dir2 -T src
# Clones where the filesystem shares extents (btrfs, xfs), refused elsewhere
# (ext4, tmpfs): either way as cp does.
like_cp 022 --reflink=always src new
like_cp 022 --reflink src new
like_cp 022 --reflink=never src new
like_cp 022 --reflink=auto src new
expect 1 "$zcopy" src.bytes /dev/full
expect_err "zcopy: /dev/full: No space left on device"
# The side that failed is named, whatever the errno: /proc/self/mem has
# nothing at offset 0, so reading it and writing it both fail with EIO.
like_cp 022 src /proc/self/mem
grep -qx "zcopy: /proc/self/mem: .*" zcopy.err || fail "a write error blamed on: $(cat zcopy.err)"
like_cp 022 /proc/self/mem out
grep -qx "zcopy: /proc/self/mem: .*" zcopy.err || fail "a read error blamed on: $(cat zcopy.err)"
grep -q "/proc/self/mem" cp.err || fail "cp said $(cat cp.err)"

# Against cat: closed standard fds fail with EBADF, status 1, and create nothing.
# The shell makes cat's output file, so only zcopy's can show it is not made.
like_cat()
{
	local what=$1 cat_status=0 zcopy_status=0
	shift
	eval "cat $1" 2>cat.err || cat_status=$?
	eval "\"\$zcopy\" $2" 2>err || zcopy_status=$?
	[ "$cat_status" -eq "$zcopy_status" ] ||
		fail "$what: cat exited $cat_status, zcopy $zcopy_status: $(cat err)"
	[ "$zcopy_status" -eq 1 ] || fail "$what: zcopy exited $zcopy_status"
	grep -q "Bad file descriptor" cat.err || fail "$what: cat said $(cat cat.err)"
}
rm -f closed.out
like_cat "closed stdin" "- <&- >/dev/null" "- closed.out <&-"
expect_err "zcopy: standard input: Bad file descriptor"
[ -e closed.out ] && fail "zcopy made its output with stdin closed"
like_cat "closed stdout" "one >&-" "one - >&-"
expect_err "zcopy: standard output: Bad file descriptor"
like_cat "closed stdout, several" "one one >&-" "one one - >&-"
expect_err "zcopy: standard output: Bad file descriptor"
# A file opened on a closed fd 0 or 2 is neither input nor the place for
# messages: reading /proc/self/mem at 0 fails with EIO once the output is open.
"$zcopy" one closed.out <&- || fail "stdin closed, named files"
same one closed.out
status=0
"$zcopy" /proc/self/mem closed.out 2>&- || status=$?
[ "$status" -eq 1 ] || fail "a read error with stderr closed gave status $status"
[ ! -s closed.out ] || fail "a message went into the output file: $(cat closed.out)"
"$zcopy" big - 2>&- >closed.out || fail "stderr closed"
same big closed.out

# Several sources into standard output follow each other, as with cat.
cat one big empty one >cat.out
"$zcopy" one big empty one - >zcopy.out || fail "several to stdout"
same cat.out zcopy.out
cat one missing one >cat.out 2>/dev/null && fail "cat found missing"
expect 1 "$zcopy" one missing one - >zcopy.out
same cat.out zcopy.out

echo "zcopy: all checks passed"
