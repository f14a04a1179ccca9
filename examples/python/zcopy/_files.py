# SPDX-License-Identifier: MIT
"""File objects as the ends of a transfer.

A Python file object keeps bytes its descriptor has not seen yet (written,
not flushed) or has already given (read ahead into its buffer), so where the
object stands is not where the descriptor's offset is. os.sendfile() takes
descriptors only; socket.sendfile() starts at an offset and seek()s the
object past what went. Here, around each call:

- the object is flushed, so what was written before reaches the file first;
- a seekable source is read at the object's tell(), as socket.sendfile()
  does, and the object is then seek()ed past what went;
- a seekable destination's descriptor is moved to the object's tell(), and
  after the call the object is seek()ed to where the descriptor got to,
  which also drops what it had read ahead (the call may have changed it);
- what a non-seekable buffered reader (a pipe, a socket's makefile()) read
  ahead goes first, by write(2): the kernel cannot hand those bytes out again;
- a text-mode object may only be written to: its decoder's read-ahead cannot
  be counted in bytes.

An int is a descriptor, used as it is.
"""

from __future__ import annotations

import ctypes
import io
import os
from typing import Any, Callable, Optional, Protocol, Union


class HasFileno(Protocol):
    def fileno(self) -> int: ...


FileLike = Union[int, HasFileno]


def _seekable(obj: object) -> bool:
    seekable = getattr(obj, "seekable", None)
    return bool(seekable and seekable()) and hasattr(obj, "tell") and hasattr(obj, "seek")


def _reads_ahead(obj: object) -> bool:
    """Whether obj may hold bytes it read past its position."""
    readable = getattr(obj, "readable", None)
    return not isinstance(obj, io.RawIOBase) and bool(readable and readable())


def fileno(f: FileLike) -> int:
    """The descriptor of f, flushed first when it is a file object."""
    end = End(f, source=False, offset=0)  # a call's own offset: only flush
    end.prepare()
    return end.fd


class End:
    """One end of a call: its descriptor, the offset the call reads or
    writes at (None: the descriptor's), and the file object around it."""

    def __init__(self, f: FileLike, *, source: bool, offset: Optional[int] = None):
        """offset: an offset of the caller's, used like pread/pwrite's: the
        descriptor's offset and the object's position stay where they are."""
        self.obj: Any = None
        self.source = source
        self.given = offset is not None
        self.off = None if offset is None else ctypes.c_uint64(offset)
        self.follow = False
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

    def given_offset(self) -> Optional[int]:
        """The caller's offset, advanced past what moved; None if none was given."""
        return self.off.value if self.given and self.off is not None else None

    def ptr(self) -> Any:
        """The offset for the C call: a pointer to it, or NULL."""
        return None if self.off is None else ctypes.byref(self.off)

    def prepare(self) -> None:
        obj = self.obj
        if obj is None:
            return
        flush = getattr(obj, "flush", None)
        if flush:
            flush()
        if self.given or not _seekable(obj):
            return
        pos = obj.tell()
        if isinstance(obj, io.TextIOWrapper) and pos != obj.buffer.tell():
            raise ValueError("a text-mode file that has read ahead cannot be written to")
        self.follow = True
        if self.source:
            # The descriptor stays where the object's buffer expects it.
            self.off = ctypes.c_uint64(pos)
        elif _reads_ahead(obj):
            # Its descriptor may be past its position (not for io's objects,
            # which a flush rewinds, but for _pyio's).
            os.lseek(self.fd, pos, os.SEEK_SET)

    def drain(self, dst_fd: int, length: int) -> tuple[int, bool]:
        """Write to dst_fd what a non-seekable source has read ahead, up to
        length. Returns (bytes written, whether all of them were taken)."""
        peek = getattr(self.obj, "peek", None)
        if not peek or self.follow or self.given or length == 0:
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
        if not self.follow:
            return
        obj = self.obj
        if self.source:
            assert self.off is not None
            obj.seek(self.off.value)
            return
        # io's objects dropped what they had read ahead when flushed; _pyio's
        # drop it here, the descriptor having moved since.
        obj.seek(os.lseek(self.fd, 0, os.SEEK_CUR))


def run(src: End | None, dst: End, length: int, move: Callable[[int], int]) -> int:
    """move(length) between two ends prepared as above; the bytes moved.

    Like the C call, an error after some bytes moved is not raised: the count
    is returned and the next call meets the error again.
    """
    if dst.obj is None and (src is None or src.obj is None):
        return move(length)  # descriptors: nothing to do around the call
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
