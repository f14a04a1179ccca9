# SPDX-License-Identifier: MIT
"""libzcopy for Python: move bytes between two files, pipes or sockets the
cheapest way the Linux kernel allows, and share memory between processes.

    import zcopy

    with open("in", "rb") as src, open("out", "wb") as dst:
        n, stats = zcopy.transfer_ex(src, dst)
    print(n, "bytes by", zcopy.path_name(stats.path))

The calls take descriptors or objects with a fileno() method, raise
OSError with the C errno, and are retried after a signal whose handler
returns (PEP 475), as os.sendfile() is.

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


def transfer(src: FileLike, dst: FileLike, length: int = ALL, flags: int = 0) -> int:
    """Move up to length bytes (ALL: to the end of the input) from src to dst;
    the count moved, 0 at the end of the input."""
    return int(_lib.call(library.zc_transfer, _files.fileno(src), _files.fileno(dst),
                         _lib.check_count("length", length), flags))


def transfer_ex(src: FileLike, dst: FileLike, length: int = ALL,
                flags: int = 0) -> tuple[int, Stats]:
    """transfer() that also returns what the call did: (count, Stats)."""
    stats = Stats()
    n = _lib.call(library.zc_transfer_ex, _files.fileno(src), _files.fileno(dst),
                  _lib.check_count("length", length), flags, ctypes.byref(stats))
    return int(n), stats


def transfer_at(src: FileLike, src_off: Optional[int], dst: FileLike,
                dst_off: Optional[int], length: int = ALL,
                flags: int = 0) -> tuple[int, Optional[int], Optional[int], Stats]:
    """Like os.pread/os.pwrite: an offset that is not None is used instead of
    the descriptor's own, which stays where it is.

    Returns (count, new src_off, new dst_off, Stats); an offset given as
    None comes back as None.
    """
    offs = [None if o is None else ctypes.c_uint64(_lib.check_count(name, o, 64))
            for name, o in (("src_off", src_off), ("dst_off", dst_off))]
    ptrs = [None if o is None else ctypes.byref(o) for o in offs]
    stats = Stats()
    n = _lib.call(library.zc_transfer_at, _files.fileno(src), ptrs[0], _files.fileno(dst),
                  ptrs[1], _lib.check_count("length", length), flags, ctypes.byref(stats))
    src_new, dst_new = (None if o is None else o.value for o in offs)
    return int(n), src_new, dst_new, stats
