# SPDX-License-Identifier: MIT
"""The region calls through the package."""

from __future__ import annotations

import errno
import os
import socket

import pytest

import zcopy
from helpers import file_with, pattern


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
