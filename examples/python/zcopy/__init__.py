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
from typing import Optional

from . import _files, _lib, _regions
from ._files import FileLike, HasFileno
from ._lib import *  # noqa: F401,F403 (the constants, Stats and names; _lib.__all__)
from ._lib import ALL, Stats, library
from ._regions import *  # noqa: F401,F403 (regions and their locks; _regions.__all__)

__all__ = ["transfer", "transfer_ex", "transfer_at", "FileLike", "HasFileno", "library"]
__all__ += _lib.__all__
__all__ += _regions.__all__


def _transfer(src: FileLike, dst: FileLike, length: int, flags: int,
              stats: Optional[Stats]) -> int:
    s = _files.End(src, source=True)
    d = _files.End(dst, source=False)

    def move(n: int) -> int:
        return int(_lib.call(library.zc_transfer_ex, s.fd, d.fd, n, flags,
                             None if stats is None else ctypes.byref(stats)))

    return _files.run(s, d, _lib.check_count("length", length), move)


def transfer(src: FileLike, dst: FileLike, length: int = ALL, flags: int = 0) -> int:
    """Move up to length bytes (ALL: to the end of the input) from src to dst;
    the count moved, 0 at the end of the input."""
    return _transfer(src, dst, length, flags, None)


def transfer_ex(src: FileLike, dst: FileLike, length: int = ALL,
                flags: int = 0) -> tuple[int, Stats]:
    """transfer() that also returns what the call did: (count, Stats)."""
    stats = Stats()
    return _transfer(src, dst, length, flags, stats), stats


def transfer_at(src: FileLike, src_off: Optional[int], dst: FileLike,
                dst_off: Optional[int], length: int = ALL,
                flags: int = 0) -> tuple[int, Optional[int], Optional[int], Stats]:
    """Like os.pread/os.pwrite: an offset that is not None is used instead of
    the descriptor's (or file object's) own position, which stays where it is.

    Returns (count, new src_off, new dst_off, Stats); an offset given as
    None comes back as None.
    """
    offs = [None if o is None else ctypes.c_uint64(_lib.check_count(name, o, 64))
            for name, o in (("src_off", src_off), ("dst_off", dst_off))]
    s = _files.End(src, source=True, at_offset=offs[0] is not None)
    d = _files.End(dst, source=False, at_offset=offs[1] is not None)
    stats = Stats()

    def move(n: int) -> int:
        ptrs = [None if o is None else ctypes.byref(o) for o in offs]
        return int(_lib.call(library.zc_transfer_at, s.fd, ptrs[0], d.fd, ptrs[1], n, flags,
                             ctypes.byref(stats)))

    n = _files.run(s, d, _lib.check_count("length", length), move)
    src_new, dst_new = (None if o is None else o.value for o in offs)
    return n, src_new, dst_new, stats
