# SPDX-License-Identifier: MIT
"""File objects as the ends of a transfer.

A Python file object keeps bytes its descriptor has not seen yet (written,
not flushed) or has already given (read ahead into its buffer), so where the
object stands is not where the descriptor's offset is. os.sendfile() takes
descriptors only; socket.sendfile() starts at an offset and seek()s the
object past what went. Here, around each call:

- the object is flushed, so what was written before reaches the file first;
- a seekable object's descriptor is moved to the object's tell(), and after
  the call the object is seek()ed to where the descriptor got to, which also
  drops what it read ahead (the call may have changed those bytes);
- what a non-seekable buffered reader (a pipe, a socket's makefile()) read
  ahead goes first, by write(2): the kernel cannot hand those bytes out again;
- a text-mode object may only be written to: its decoder's read-ahead cannot
  be counted in bytes.

An int is a descriptor, used as it is.
"""

from __future__ import annotations

import io
import os
from typing import Any, Callable, Protocol, Union


class HasFileno(Protocol):
    def fileno(self) -> int: ...


FileLike = Union[int, HasFileno]


def _seekable(obj: object) -> bool:
    seekable = getattr(obj, "seekable", None)
    return bool(seekable and seekable()) and hasattr(obj, "tell") and hasattr(obj, "seek")


def fileno(f: FileLike) -> int:
    """The descriptor of f, flushed first when it is a file object."""
    end = End(f, source=False, at_offset=True)
    end.prepare()
    return end.fd


class End:
    """One end of a call: its descriptor, and the file object around it."""

    def __init__(self, f: FileLike, *, source: bool, at_offset: bool = False):
        """at_offset: the call reads or writes at an offset of its own, like
        pread/pwrite, and leaves the descriptor's offset alone."""
        self.obj: Any = None
        self.at_offset = at_offset
        self.source = source
        self.seekable = False
        self.moved = False
        if isinstance(f, int):
            self.fd = f
            return
        if not hasattr(f, "fileno"):
            raise TypeError("expected a file descriptor or an object with a fileno() method,"
                            " not %s" % type(f).__name__)
        if source and isinstance(f, io.TextIOBase):
            raise ValueError("a text-mode file cannot be read from: open it in binary mode")
        self.obj = f
        self.fd = f.fileno()  # ValueError once the object is closed

    def prepare(self) -> None:
        obj = self.obj
        if obj is None:
            return
        flush = getattr(obj, "flush", None)
        if flush:
            flush()
        self.seekable = _seekable(obj)
        if not self.seekable or self.at_offset:
            return
        pos = obj.tell()
        if isinstance(obj, io.TextIOWrapper) and pos != obj.buffer.tell():
            raise ValueError("a text-mode file that has read ahead cannot be written to")
        os.lseek(self.fd, pos, os.SEEK_SET)
        self.moved = True

    def drain(self, dst_fd: int, length: int) -> tuple[int, bool]:
        """Write to dst_fd what a non-seekable source has read ahead, up to
        length. Returns (bytes written, whether all of them were taken)."""
        peek = getattr(self.obj, "peek", None)
        if not peek or self.seekable or self.at_offset or length == 0:
            return 0, True
        # peek() reads once from the descriptor when nothing is buffered: the
        # call would have waited for those bytes all the same.
        pending = peek(1)[:length]
        if not pending:
            return 0, True
        n = os.write(dst_fd, pending)
        self.obj.read(n)
        return n, n == len(pending)

    def finish(self) -> None:
        if not self.moved:
            return
        pos = os.lseek(self.fd, 0, os.SEEK_CUR)
        # The object still takes its descriptor to be where it left it. A seek
        # to the end always goes to the descriptor and empties the read
        # buffer; one to a place the buffer holds would only move in it.
        self.obj.seek(0, os.SEEK_END)
        self.obj.seek(pos)


def run(src: End | None, dst: End, length: int, move: Callable[[int], int]) -> int:
    """move(length) between two ends prepared as above; the bytes moved.

    Like the C call, an error after some bytes moved is not raised: the count
    is returned and the next call meets the error again.
    """
    ends = [e for e in (src, dst) if e is not None]
    prepared: list[End] = []
    try:
        for e in ends:
            e.prepare()
            prepared.append(e)
        done, whole = src.drain(dst.fd, length) if src else (0, True)
        if done and (done == length or not whole):
            return done
        try:
            return done + move(length - done)
        except OSError:
            if done:
                return done
            raise
    finally:
        for e in reversed(prepared):
            e.finish()
