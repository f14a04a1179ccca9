# SPDX-License-Identifier: MIT
"""libzcopy for Python: move bytes between two files, pipes or sockets the
cheapest way the Linux kernel allows, and share memory between processes.

    import zcopy

    with open("in", "rb") as src, open("out", "wb") as dst:
        n, stats = zcopy.transfer_ex(src, dst)
    print(n, "bytes by", zcopy.path_name(stats.path))

The calls behave like os.sendfile(), os.copy_file_range() and
socket.sendfile(): they take descriptors or objects with a fileno() method,
raise OSError with the C errno, and are retried after a signal whose handler
returns (PEP 475). A file object is flushed first and, when seekable, read
or written at its own position, which then moves past what went (see
_files.py). zcopy-python(7) documents it all.

The package is a ctypes binding of the installed libzcopy.so.1; $ZCOPY_LIB,
a path, loads another copy instead.
"""

from __future__ import annotations

import ctypes
from typing import Callable, Optional

from . import _files, _lib, _regions
from ._files import FileLike, HasFileno
from ._lib import *  # noqa: F401,F403 (the constants, Stats and names; _lib.__all__)
from ._lib import ALL, Stats, library
from ._regions import *  # noqa: F401,F403 (regions and their locks; _regions.__all__)

__all__ = ["transfer", "transfer_ex", "transfer_at", "transfer_opts", "FileLike", "HasFileno",
           "library"]
__all__ += _lib.__all__
__all__ += _regions.__all__


def _transfer(s: _files.End, d: _files.End, length: int, flags: int,
              stats: Optional[Stats]) -> int:
    def move(n: int) -> int:
        return int(_lib.call(library.zc_transfer_at, s.fd, s.ptr(), d.fd, d.ptr(), n, flags,
                             None if stats is None else ctypes.byref(stats)))

    return _files.run(s, d, _lib.check_count("length", length), move)


def transfer(src: FileLike, dst: FileLike, length: int = ALL, flags: int = 0) -> int:
    """Move up to length bytes (ALL: to the end of the input) from src to dst;
    the count moved, 0 at the end of the input."""
    return _transfer(_files.End(src, source=True), _files.End(dst, source=False), length,
                     flags, None)


def transfer_ex(src: FileLike, dst: FileLike, length: int = ALL,
                flags: int = 0) -> tuple[int, Stats]:
    """transfer() that also returns what the call did: (count, Stats)."""
    stats = Stats()
    n = _transfer(_files.End(src, source=True), _files.End(dst, source=False), length,
                  flags, stats)
    return n, stats


def transfer_at(src: FileLike, src_off: Optional[int], dst: FileLike,
                dst_off: Optional[int], length: int = ALL,
                flags: int = 0) -> tuple[int, Optional[int], Optional[int], Stats]:
    """Like os.pread/os.pwrite: an offset that is not None is used instead of
    the descriptor's (or file object's) own position, which stays where it is.

    Returns (count, new src_off, new dst_off, Stats); an offset given as
    None comes back as None.
    """
    s = _files.End(src, source=True,
                   offset=None if src_off is None else _lib.check_count("src_off", src_off, 64))
    d = _files.End(dst, source=False,
                   offset=None if dst_off is None else _lib.check_count("dst_off", dst_off, 64))
    stats = Stats()
    n = _transfer(s, d, length, flags, stats)
    return n, s.given_offset(), d.given_offset(), stats


def transfer_opts(src: FileLike, dst: FileLike, length: int = ALL, flags: int = 0, *,
                  src_off: Optional[int] = None, dst_off: Optional[int] = None,
                  chunk: int = 0,
                  progress: Optional[Callable[[int, int, int], object]] = None
                  ) -> tuple[int, Stats]:
    """transfer_at() that calls progress(done, total, path) after each chunk
    bytes (0: 8 MiB) with the bytes moved so far, those expected
    (TOTAL_UNKNOWN when not known) and the path that moved the last ones.

    A true return stops the call after that chunk: it returns what moved,
    with stats.error ECANCELED (OSError ECANCELED if nothing had). An
    exception from progress stops it too, and is raised once it is over.
    Offsets given are not advanced: add the count to them.
    """
    s = _files.End(src, source=True,
                   offset=None if src_off is None else _lib.check_count("src_off", src_off, 63))
    d = _files.End(dst, source=False,
                   offset=None if dst_off is None else _lib.check_count("dst_off", dst_off, 63))
    stats = Stats()
    raised: list[BaseException] = []

    def each(done: int, total: int, path: int, arg: object) -> int:
        if raised or progress is None:
            return 1
        try:
            return 1 if progress(done, total, path) else 0
        except BaseException as e:
            raised.append(e)
            return 1

    # A function pointer made from the address 0 is the C call's NULL.
    callback = _lib.progress_fn(0) if progress is None else _lib.progress_fn(each)

    def move(n: int) -> int:
        opts = _lib.Opts(ctypes.sizeof(_lib.Opts), flags, n,
                         _lib.OFF_NONE if s.off is None else s.off.value,
                         _lib.OFF_NONE if d.off is None else d.off.value,
                         _lib.check_count("chunk", chunk, 64), callback, None)
        moved = int(_lib.call(library.zc_transfer_opts, s.fd, d.fd, ctypes.byref(opts),
                              ctypes.byref(stats)))
        # The C call leaves opts alone; a position followed goes on from here.
        for e in (s, d):
            if e.off is not None and not e.given:
                e.off.value += moved
        return moved

    try:
        n = _files.run(s, d, _lib.check_count("length", length), move)
    finally:
        if raised:
            raise raised[0]
    return n, stats
