# SPDX-License-Identifier: MIT
"""The transfer calls against the library: a file and a socket pair go
through them byte for byte, the stats name the path the kernel's rules
require (zcopy(7)), and errors are OSError with the C errno."""

from __future__ import annotations

import errno
import os
import socket
from typing import BinaryIO, Callable

import pytest

import zcopy
from helpers import Drainer, Feeder, file_with, pattern, read_all

ALL_OFF = zcopy.NO_COPY_FILE_RANGE | zcopy.NO_SPLICE | zcopy.NO_SENDFILE | zcopy.NO_MMAP
SIZE = (1 << 20) + 13


def test_version() -> None:
    assert zcopy.version().count(".") == 2
    assert all(part.isdigit() for part in zcopy.version().split("."))


def test_names() -> None:
    assert zcopy.path_name(zcopy.PATH_SPLICE) == "splice"
    assert zcopy.path_name(zcopy.PATH_NONE) == "none"
    assert zcopy.path_name(1000) is None
    assert zcopy.fd_type_name(zcopy.FD_SOCKET) == "socket"


def test_file_to_file(src: BinaryIO, dst: BinaryIO, data: bytes) -> None:
    n, st = zcopy.transfer_ex(src, dst)
    assert n == SIZE
    assert st.bytes == SIZE
    assert read_all(dst) == data
    # Two files on one filesystem: copy_file_range moves them.
    assert zcopy.path_name(st.path) == "copy_file_range"
    assert st.used_paths() == ["copy_file_range"]
    assert (st.src_type, st.dst_type) == (zcopy.FD_FILE, zcopy.FD_FILE)
    assert st.error == 0


def test_flags_leave_read_write(src: BinaryIO, dst: BinaryIO, data: bytes) -> None:
    n, st = zcopy.transfer_ex(src.fileno(), dst.fileno(), flags=ALL_OFF)
    assert n == SIZE
    assert read_all(dst) == data
    assert st.path == zcopy.PATH_READ_WRITE


def test_plain_transfer_in_pieces(src: BinaryIO, dst: BinaryIO, data: bytes) -> None:
    assert zcopy.transfer(src, dst, 4096) == 4096
    assert zcopy.transfer(src, dst) == SIZE - 4096
    assert zcopy.transfer(src, dst) == 0
    assert read_all(dst) == data


def test_transfer_at_leaves_fd_offsets(src: BinaryIO, dst: BinaryIO, data: bytes) -> None:
    n, src_off, dst_off, st = zcopy.transfer_at(src, 100, dst, 7, 5000)
    assert (n, src_off, dst_off) == (5000, 5100, 5007)
    assert os.lseek(src.fileno(), 0, os.SEEK_CUR) == 0
    assert os.lseek(dst.fileno(), 0, os.SEEK_CUR) == 0
    assert (src.tell(), dst.tell()) == (0, 0)
    assert read_all(dst) == bytes(7) + data[100:5100]
    assert st.bytes == 5000


def test_empty_input(dst: BinaryIO) -> None:
    with file_with(b"") as empty:
        n, st = zcopy.transfer_ex(empty, dst)
    assert (n, st.bytes) == (0, 0)
    assert zcopy.transfer(dst, dst, 0) == 0


def test_socket_to_file() -> None:
    data = pattern(SIZE, 2)
    a, b = socket.socketpair()
    feeder = Feeder(b, data)
    feeder.start()
    with a, file_with(b"") as dst:
        n, st = zcopy.transfer_ex(a, dst)
        feeder.join()
        assert n == SIZE
        assert read_all(dst) == data
    # A socket source is spliced, through the library's pipe.
    assert zcopy.path_name(st.path) == "splice"
    assert (st.src_type, st.dst_type) == (zcopy.FD_SOCKET, zcopy.FD_FILE)


def test_file_to_socket() -> None:
    data = pattern(SIZE, 2)
    a, b = socket.socketpair()
    drainer = Drainer(b)
    drainer.start()
    with file_with(data) as src:
        with a:
            n, st = zcopy.transfer_ex(src, a)
        drainer.join()
    assert n == SIZE
    assert bytes(drainer.got) == data
    # A file into a socket: sendfile at every size (zcopy(7)).
    assert zcopy.path_name(st.path) == "sendfile"
    assert st.fallbacks() == []


def test_bad_fd() -> None:
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(OSError) as e:
        zcopy.transfer(r, w)
    assert e.value.errno == errno.EBADF


def test_offset_on_pipe() -> None:
    r, w = os.pipe()
    try:
        with pytest.raises(OSError) as e:
            zcopy.transfer_at(r, 0, w, None, 1)
        assert e.value.errno == errno.ESPIPE
    finally:
        os.close(r)
        os.close(w)


def test_directory() -> None:
    fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(IsADirectoryError):
            zcopy.transfer_ex(fd, 1)
    finally:
        os.close(fd)


@pytest.mark.parametrize("call", [
    lambda: zcopy.transfer(0, 1, -1),
    lambda: zcopy.transfer_at(0, -1, 1, None),
    lambda: zcopy.transfer_at(0, None, 1, -5),
], ids=["length", "src_off", "dst_off"])
def test_negative_counts(call: Callable[[], object]) -> None:
    # ctypes would turn them into huge unsigned numbers without a word.
    with pytest.raises(ValueError):
        call()


def test_too_large_offset() -> None:
    with pytest.raises(OverflowError):
        zcopy.transfer_at(0, 1 << 64, 1, None)


def test_not_a_file() -> None:
    with pytest.raises(TypeError):
        zcopy.transfer(3.5, 1)  # type: ignore[arg-type]


class Progress:
    """Records the calls of a progress callback; stops at call number stop."""

    def __init__(self, stop: int = 0):
        self.calls: list[tuple[int, int, int]] = []
        self.stop = stop

    def __call__(self, done: int, total: int, path: int) -> bool:
        self.calls.append((done, total, path))
        return len(self.calls) == self.stop


def test_transfer_opts_every_field(src: BinaryIO, dst: BinaryIO, data: bytes) -> None:
    # Each field of struct zc_opts shows in the result: the mirror's layout.
    p = Progress()
    n, st = zcopy.transfer_opts(src, dst, 12345, ALL_OFF, src_off=100, dst_off=7,
                                chunk=4096, progress=p)
    assert n == 12345
    assert (src.tell(), dst.tell()) == (0, 0)
    assert read_all(dst) == bytes(7) + data[100:12445]
    assert st.path == zcopy.PATH_READ_WRITE
    assert [c[0] for c in p.calls] == [4096, 8192, 12288, 12345]
    assert {c[1:] for c in p.calls} == {(12345, zcopy.PATH_READ_WRITE)}


def test_transfer_opts_follows_file_objects(src: BinaryIO, dst: BinaryIO,
                                            data: bytes) -> None:
    src.read(10)
    dst.write(b"head")
    n, _ = zcopy.transfer_opts(src, dst, chunk=1 << 18, progress=Progress())
    assert n == SIZE - 10
    assert (src.tell(), dst.tell()) == (SIZE, SIZE - 6)
    assert read_all(dst) == b"head" + data[10:]


def test_progress_stops_the_call(src: BinaryIO, dst: BinaryIO, data: bytes) -> None:
    p = Progress(stop=2)
    n, st = zcopy.transfer_opts(src, dst, chunk=65536, progress=p)
    assert n == 2 * 65536 and len(p.calls) == 2
    assert st.error == errno.ECANCELED
    assert read_all(dst) == data[:n]
    assert src.tell() == n


def test_progress_exception_is_raised(src: BinaryIO, dst: BinaryIO, data: bytes) -> None:
    def boom(done: int, total: int, path: int) -> bool:
        raise KeyError(done)

    with pytest.raises(KeyError) as e:
        zcopy.transfer_opts(src, dst, chunk=65536, progress=boom)
    assert e.value.args == (65536,)
    # The positions still say what moved.
    assert src.tell() == dst.tell() == 65536
    assert read_all(dst) == data[:65536]


def test_progress_total_unknown_from_a_pipe() -> None:
    r, w = os.pipe()
    try:
        os.write(w, b"x" * 50000)
        os.close(w)
        p = Progress()
        with file_with(b"") as dst:
            n, _ = zcopy.transfer_opts(r, dst, chunk=8192, progress=p)
            assert n == 50000
        assert p.calls[-1][:2] == (50000, zcopy.TOTAL_UNKNOWN)
    finally:
        os.close(r)
