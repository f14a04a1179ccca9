# SPDX-License-Identifier: MIT
"""The region calls through the package, and the guards around a region's
memory: a read-only region gives read-only views, a region is not unmapped
or moved under a view or a call, and a closed one raises ValueError. The
cases that used to kill the interpreter run in a child, which must exit
normally."""

from __future__ import annotations

import errno
import os
import signal
import socket
import textwrap
import threading
import time
from typing import Iterator

import pytest

import zcopy
from helpers import file_with, pattern, run_child


def name(tag: str) -> str:
    return "zc-py-%d-%s" % (os.getpid(), tag)


@pytest.mark.parametrize("umask", [0o077, 0o000])
def test_posix_roundtrip_and_mode(umask: int) -> None:
    n = name("posix%o" % umask)
    old = os.umask(umask)
    try:
        r = zcopy.region_create(n, 8192)
    finally:
        os.umask(old)
    try:
        assert os.stat("/dev/shm/" + n).st_mode & 0o7777 == 0o600
        data = bytes(range(256)) * 32
        r.view()[:] = data
        with zcopy.region_open(n) as r2:
            assert r2.size == 8192
            assert bytes(r2.view()) == data
    finally:
        r.close()
        zcopy.region_unlink(n)
    assert not os.path.exists("/dev/shm/" + n)


def test_memfd_sealed_resize_fails() -> None:
    with zcopy.region_memfd("py", 4096) as r:
        zcopy.region_seal(r, zcopy.SEAL_HANDOUT)
        with pytest.raises(OSError) as e:
            zcopy.region_resize(r, 8192)
        assert e.value.errno == errno.EPERM


def test_send_recv() -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with a, b:
        with zcopy.region_memfd("py", 4096) as r:
            data = os.urandom(4096)
            r.view()[:] = data
            zcopy.region_send(a, r)
            with zcopy.region_recv(b) as r2:
                assert bytes(r2.view()) == data


def test_transfer_slice() -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with a, b:
        with zcopy.region_memfd("py", 16384) as r:
            data = os.urandom(16384)
            r.view()[:] = data
            n, _, stats = zcopy.region_transfer(r, 1000, 5000, a)
            assert n == 5000
            got = b""
            while len(got) < n:
                got += b.recv(n - len(got))
            assert got == data[1000:6000]
            assert stats.bytes == 5000
            # A memfd region goes out through its fd: under 1 MiB from a
            # file-like source into a socket, that is sendfile (zcopy(7)).
            assert zcopy.path_name(stats.path) == "sendfile"


def test_transfer_into_a_buffered_file() -> None:
    data = pattern(20011, 8)
    with zcopy.region_memfd("py", len(data)) as r, file_with(b"") as fo:
        r.view()[:] = data
        fo.write(b"head")
        n, off, _ = zcopy.region_transfer(r, 11, 20000, fo)
        assert (n, off) == (20000, None)
        assert fo.tell() == 20004
        fo.seek(0)
        assert fo.read() == b"head" + data[11:]


def test_loaded_file_is_read_only() -> None:
    data = pattern(10007, 9)
    with file_with(data) as f, zcopy.region_load_fd(f) as r:
        assert r.flags & zcopy.REGION_RDONLY
        with r.view() as v:
            assert v.readonly
            assert bytes(v) == data
            with pytest.raises(TypeError):
                v[0] = 65
            with pytest.raises(TypeError):
                v[1:3] = b"ab"
        # The locks are written even to be read: no place for them here.
        with pytest.raises(PermissionError):
            zcopy.region_mutex(r, 0)


def test_writable_region_view_is_writable() -> None:
    with zcopy.region_memfd("py", 4096) as r:
        with r.view() as v:
            assert not v.readonly
            v[0] = 65
        assert r.view()[0] == 65


def test_empty_file_gives_empty_view() -> None:
    with file_with(b"") as f, zcopy.region_load_fd(f) as r:
        assert (r.size, r.addr) == (0, None)
        assert bytes(r.view()) == b""


def test_close_waits_for_views() -> None:
    r = zcopy.region_memfd("py", 4096)
    v = r.view()
    s = v[10:20]
    v.release()
    # The slice still reads the mapping: closing now would unmap it under it.
    with pytest.raises(BufferError):
        r.close()
    with pytest.raises(BufferError):
        zcopy.region_resize(r, 8192)
    assert not r.closed
    assert bytes(s) == bytes(10)
    del s
    r.close()
    assert r.closed
    r.close()  # again: nothing to do


def test_use_after_close_raises_value_error() -> None:
    with zcopy.region_memfd("py", 4096) as r:
        m = zcopy.region_mutex(r, 0, zcopy.LOCK_INIT)
        s = zcopy.region_sem(r, zcopy.MUTEX_SIZE, 1, zcopy.LOCK_INIT)
    assert r.closed and r.kind == zcopy.REGION_NONE
    with pytest.raises(ValueError):
        r.view()
    with pytest.raises(ValueError):
        zcopy.region_transfer(r, 0, 1, 1)
    with pytest.raises(ValueError):
        zcopy.region_seal(r, zcopy.SEAL_SEAL)
    with pytest.raises(ValueError):
        zcopy.region_resize(r, 1)
    with pytest.raises(ValueError):
        zcopy.region_sync(r)
    with pytest.raises(ValueError):
        zcopy.region_send(1, r)
    with pytest.raises(ValueError):
        m.lock()
    with pytest.raises(ValueError):
        s.wait()


def test_locks_follow_a_resize() -> None:
    with zcopy.region_memfd("py", 4096) as r:
        m = zcopy.region_mutex(r, 0, zcopy.LOCK_INIT)
        zcopy.region_resize(r, 1 << 22)
        # The mapping may have moved: the lock is found at its new address.
        with m:
            pass
        zcopy.region_resize(r, 4096)
        m.trylock()
        m.unlock()


def test_close_waits_for_a_blocked_call() -> None:
    r = zcopy.region_memfd("py", 4096)
    sem = zcopy.region_sem(r, 0, 0, zcopy.LOCK_INIT)
    waiter = threading.Thread(target=sem.wait)
    waiter.start()
    try:
        # The thread is in sem_wait() on the mapping, or about to be.
        deadline = time.monotonic() + 30
        while r._busy == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(BufferError):
            r.close()
    finally:
        sem.post()
        waiter.join()
    r.close()


def test_fork_while_another_thread_holds_the_bookkeeping() -> None:
    with zcopy.region_memfd("py", 4096) as r:
        held, release = threading.Event(), threading.Event()

        def holder() -> None:
            with zcopy._regions._book:
                held.set()
                release.wait(30)

        t = threading.Thread(target=holder)
        t.start()
        held.wait(30)
        try:
            pid = os.fork()
            if pid == 0:
                # Only this thread exists in the child: the lock must be free
                # (SIGALRM, whose default is to kill, ends a wait for it).
                signal.alarm(10)
                zcopy.region_seal(r, zcopy.SEAL_SEAL)
                os._exit(0)
        finally:
            release.set()
            t.join()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0


def test_dropped_region_closes_its_fd() -> None:
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        zcopy.region_memfd("py", 4096).view()[0] = 1
    assert len(os.listdir("/proc/self/fd")) == before


CHILD = """
import zcopy
r = zcopy.region_load({path!r})
{body}
print("survived")
"""


@pytest.fixture
def loaded_path() -> Iterator[str]:
    with file_with(pattern(4099, 10)) as f:
        yield "/proc/self/fd/%d" % f.fileno()


def in_child(path: str, body: str) -> str:
    code = CHILD.format(path=path, body=textwrap.dedent(body))
    # The child opens the parent's file through /proc: pass it down.
    p = run_child(code.replace("/proc/self/", "/proc/%d/" % os.getpid()))
    assert p.returncode == 0, "child died: %d\n%s" % (p.returncode, p.stderr)
    assert p.stdout.strip().endswith("survived"), p.stdout + p.stderr
    return p.stdout


def test_child_write_to_read_only_view(loaded_path: str) -> None:
    out = in_child(loaded_path, """
        try:
            r.view()[0] = 65
        except TypeError as e:
            print("TypeError", e)
        """)
    assert out.startswith("TypeError")


def test_child_read_after_close(loaded_path: str) -> None:
    out = in_child(loaded_path, """
        v = r.view()
        try:
            r.close()
        except BufferError:
            print("BufferError")
        v.release()
        r.close()
        for use in (lambda: v[0], lambda: r.view()[0]):
            try:
                use()
            except ValueError:
                print("ValueError")
        """)
    assert out.split() == ["BufferError", "ValueError", "ValueError", "survived"]
