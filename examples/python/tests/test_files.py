# SPDX-License-Identifier: MIT
"""File objects as transfer ends: what Python buffered is accounted for.
Written bytes not yet flushed go first; bytes read ahead into a buffer are
not skipped; the object's position follows what moved, and what it read
ahead before a transfer wrote over it is not served again."""

from __future__ import annotations

import errno
import importlib
import io
import os
import socket
import threading
from typing import BinaryIO, Callable

import pytest

import zcopy
from helpers import Drainer, contents, file_with, pattern, read_all

SIZE = 300007
HEADER = b"HEADER\n"


def test_written_header_goes_first(src: BinaryIO, data: bytes, path: str) -> None:
    with open(path, "wb") as fo:
        fo.write(HEADER)
        assert zcopy.transfer(src, fo) == SIZE
        assert fo.tell() == len(HEADER) + SIZE
        fo.write(b"TRAILER")
    with open(path, "rb") as f:
        assert f.read() == HEADER + data + b"TRAILER"


def test_read_ahead_is_not_skipped(src: BinaryIO, data: bytes) -> None:
    assert src.read(10) == data[:10]
    # The buffered reader has taken far more than 10 bytes from the fd.
    assert os.lseek(src.fileno(), 0, os.SEEK_CUR) > 10
    with file_with(b"") as dst:
        assert zcopy.transfer(src, dst) == SIZE - 10
        assert read_all(dst) == data[10:]
    assert src.tell() == SIZE
    assert src.read() == b""


def test_position_follows_a_partial_transfer(src: BinaryIO, data: bytes) -> None:
    src.read(10)
    with file_with(b"") as dst:
        n, st = zcopy.transfer_ex(src, dst, 1000)
        assert (n, st.bytes) == (1000, 1000)
        assert read_all(dst) == data[10:1010]
    # Reading on from the object starts after what went, not after its old buffer.
    assert src.tell() == 1010
    assert src.read(5) == data[1010:1015]


def test_read_only_source_reads_on_after_the_transfer(data: bytes, path: str) -> None:
    with open(path, "wb") as f:
        f.write(data)
    with open(path, "rb") as fi, file_with(b"") as dst:
        assert fi.read(10) == data[:10]
        assert zcopy.transfer(fi, dst, 1000) == 1000
        assert read_all(dst) == data[10:1010]
        # Past the end of what it had read ahead, too: no byte twice.
        assert fi.read() == data[1010:]


@pytest.mark.parametrize("opener", [io.open, importlib.import_module("_pyio").open],
                         ids=["io", "pyio"])
def test_read_ahead_of_a_destination_is_dropped(src: BinaryIO, data: bytes, path: str,
                                                opener: Callable[..., BinaryIO]) -> None:
    # io's BufferedRandom drops its read-ahead when flushed, the pure Python
    # one of _pyio does not: the package must not count on either.
    old = pattern(SIZE, 4)
    with open(path, "wb") as f:
        f.write(old)
    with opener(path, "r+b") as fo:
        assert fo.read(10) == old[:10]  # reads ahead of 10 into its buffer
        assert zcopy.transfer(src, fo, 5000) == 5000
        assert fo.tell() == 5010
        assert fo.read(10) == old[5010:5020]
        fo.seek(10)
        # Served from the file again, not from what the buffer held before.
        assert fo.read(5000) == data[:5000]
        fo.seek(0)
        assert fo.read() == old[:10] + data[:5000] + old[5010:]


def test_transfer_at_flushes_and_keeps_positions(src: BinaryIO, data: bytes) -> None:
    old = pattern(SIZE, 5)
    with file_with(old) as fo:
        fo.read(3)
        fo.seek(100)
        fo.write(b"pending")
        n, s_off, d_off, _ = zcopy.transfer_at(src, 0, fo, 2000, 3000)
        assert (n, s_off, d_off) == (3000, 3000, 5000)
        assert fo.tell() == 107
        assert src.tell() == 0
        fo.seek(0)
        want = old[:100] + b"pending" + old[107:2000] + data[:3000] + old[5000:]
        assert fo.read() == want


def test_append_mode(src: BinaryIO, data: bytes, path: str) -> None:
    with open(path, "wb") as f:
        f.write(b"existing")
    with open(path, "ab") as fo:
        fo.write(HEADER)
        assert zcopy.transfer(src, fo) == SIZE
        assert fo.tell() == len(b"existing" + HEADER) + SIZE
    with open(path, "rb") as f:
        assert f.read() == b"existing" + HEADER + data


def test_text_destination(src: BinaryIO, data: bytes, path: str) -> None:
    text = pattern(1000, 6).hex()
    with file_with(text.encode()) as tsrc, open(path, "w", encoding="ascii") as fo:
        fo.write("head\n")
        assert zcopy.transfer(tsrc, fo) == len(text)
        fo.write("\ntail")
    with open(path, encoding="ascii") as f:
        assert f.read() == "head\n" + text + "\ntail"


def test_text_source_refused(path: str) -> None:
    with open(path, "w") as f:
        f.write("text")
    with open(path) as fi, file_with(b"") as dst:
        with pytest.raises(ValueError):
            zcopy.transfer(fi, dst)
        assert read_all(dst) == b""


def test_text_destination_that_read_ahead_refused(src: BinaryIO, path: str) -> None:
    with open(path, "w") as f:
        f.write("line one\nline two\n")
    with open(path, "r+") as fo:
        assert fo.readline() == "line one\n"
        with pytest.raises(ValueError):
            zcopy.transfer(src, fo)
        assert fo.read() == "line two\n"


def test_pipe_read_ahead_goes_first(data: bytes) -> None:
    r, w = os.pipe()

    def write() -> None:
        os.write(w, data[:50000])
        os.close(w)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        with os.fdopen(r, "rb") as fi, file_with(b"") as dst:
            assert fi.read(10) == data[:10]
            # What the reader holds beyond those 10 bytes is served from its buffer.
            assert zcopy.transfer(fi, dst, 5) == 5
            assert fi.read(3) == data[15:18]
            n = zcopy.transfer(fi, dst)
            assert read_all(dst) == data[10:15] + data[18:50000]
            assert n == 50000 - 18
            assert fi.read() == b""
    finally:
        writer.join()


def test_socket_file_buffered_writes(data: bytes) -> None:
    a, b = socket.socketpair()
    drainer = Drainer(b)
    drainer.start()
    with a, a.makefile("wb") as wf, file_with(data) as src:
        wf.write(HEADER)
        assert zcopy.transfer(src, wf) == SIZE
        wf.write(b"END")
        wf.flush()
        a.shutdown(socket.SHUT_WR)
    drainer.join()
    assert bytes(drainer.got) == HEADER + data + b"END"


def test_closed_objects(src: BinaryIO, path: str) -> None:
    fo = open(path, "wb")
    fo.close()
    with pytest.raises(ValueError):
        zcopy.transfer(src, fo)
    with pytest.raises(ValueError):
        zcopy.transfer(fo, src)
    sock, other = socket.socketpair()
    other.close()
    sock.close()
    # A closed socket's fileno() is -1, as os.sendfile sees it.
    with pytest.raises(OSError) as e:
        zcopy.transfer(src, sock)
    assert e.value.errno == errno.EBADF


def test_object_without_descriptor(src: BinaryIO) -> None:
    with pytest.raises(io.UnsupportedOperation):
        zcopy.transfer(src, io.BytesIO())


def test_error_in_flush_is_raised(src: BinaryIO) -> None:
    with open("/dev/full", "wb") as fo:
        fo.write(HEADER)
        with pytest.raises(OSError) as e:
            zcopy.transfer(src, fo)
        assert e.value.errno == errno.ENOSPC
        # The write buffer failed to flush; drop it so close() has nothing to do.
        fo.raw.close()


def test_descriptor_offsets_untouched_for_ints(src: BinaryIO, data: bytes) -> None:
    # A bare descriptor is the caller's business: used at its own offset.
    src.read(10)
    fd_off = os.lseek(src.fileno(), 0, os.SEEK_CUR)
    with file_with(b"") as dst:
        n = zcopy.transfer(src.fileno(), dst.fileno())
        assert n == SIZE - fd_off
        assert contents(dst.fileno()) == data[fd_off:]
