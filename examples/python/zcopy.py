# SPDX-License-Identifier: MIT
"""ctypes binding for libzcopy.

    import zcopy
    n, stats = zcopy.transfer_ex(src.fileno(), dst.fileno())
    print(n, zcopy.path_name(stats.path))

Every call takes file descriptors (or objects with a fileno() method),
returns what the C call returns, and raises OSError with the C errno where
the C call returns -1. The library is loaded from $ZCOPY_LIB when set,
else by its soname, libzcopy.so.1.

Calls are declared in one table, _PROTOTYPES: a new C call gets a line
there and a thin Python function below it.
"""

import ctypes
import os

__all__ = [
    "ALL", "Stats", "transfer", "transfer_ex", "transfer_at",
    "path_name", "fd_type_name", "version", "library",
]

SONAME = "libzcopy.so.1"

# Mirrors of the #defines in zcopy.h.
ALL = ctypes.c_size_t(-1).value

NO_COPY_FILE_RANGE = 0x01
NO_SPLICE = 0x02
NO_SENDFILE = 0x04
NO_MMAP = 0x08
GROW_PIPES = 0x10

PATH_NONE = 0
PATH_COPY_FILE_RANGE = 1
PATH_SPLICE = 2
PATH_SENDFILE = 3
PATH_MMAP_WRITE = 4
PATH_READ_WRITE = 5
PATH_VMSPLICE = 6  # a region's memory into a pipe (zc_region_transfer)

FD_UNKNOWN = 0
FD_FILE = 1
FD_SHM = 2
FD_PIPE = 3
FD_SOCKET = 4
FD_CHAR = 5
FD_TTY = 6
FD_BLOCK = 7
FD_DIR = 8

STATS_MAX = 8


class Stats(ctypes.Structure):
    """struct zc_stats, field for field (zcopy.h; the abi suite checks it)."""

    _fields_ = [
        ("bytes", ctypes.c_uint64),
        ("syscalls", ctypes.c_uint64),
        ("error", ctypes.c_int32),
        ("path", ctypes.c_uint32),
        ("src_type", ctypes.c_uint32),
        ("dst_type", ctypes.c_uint32),
        ("npaths", ctypes.c_uint32),
        ("nfallbacks", ctypes.c_uint32),
        ("paths", ctypes.c_uint32 * STATS_MAX),
        ("fallback_path", ctypes.c_uint32 * STATS_MAX),
        ("fallback_errno", ctypes.c_int32 * STATS_MAX),
    ]

    def used_paths(self):
        """Names of the paths that moved bytes, in order."""
        return [path_name(p) for p in self.paths[:self.npaths]]

    def fallbacks(self):
        """(path name, errno) for each path given up on, in order."""
        return [(path_name(self.fallback_path[i]), self.fallback_errno[i])
                for i in range(self.nfallbacks)]


def _raise_on_minus_one(result, func, args):
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


_c_uint64_p = ctypes.POINTER(ctypes.c_uint64)
_Stats_p = ctypes.POINTER(Stats)

# name: (restype, argtypes, errcheck)
_PROTOTYPES = {
    "zc_transfer": (ctypes.c_ssize_t,
                    [ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_uint],
                    _raise_on_minus_one),
    "zc_transfer_ex": (ctypes.c_ssize_t,
                       [ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_uint,
                        _Stats_p],
                       _raise_on_minus_one),
    "zc_transfer_at": (ctypes.c_ssize_t,
                       [ctypes.c_int, _c_uint64_p, ctypes.c_int, _c_uint64_p,
                        ctypes.c_size_t, ctypes.c_uint, _Stats_p],
                       _raise_on_minus_one),
    "zc_path_name": (ctypes.c_char_p, [ctypes.c_uint32], None),
    "zc_fd_type_name": (ctypes.c_char_p, [ctypes.c_uint32], None),
    "zc_version": (ctypes.c_char_p, [], None),
}


def _load():
    lib = ctypes.CDLL(os.environ.get("ZCOPY_LIB") or SONAME, use_errno=True)
    for name, (restype, argtypes, errcheck) in _PROTOTYPES.items():
        func = getattr(lib, name)
        func.restype = restype
        func.argtypes = argtypes
        if errcheck:
            func.errcheck = errcheck
    return lib


library = _load()


def _fd(f):
    return f if isinstance(f, int) else f.fileno()


def _name(raw):
    return raw.decode() if raw is not None else None


def transfer(src, dst, length=ALL, flags=0):
    """Move up to length bytes from src to dst; the count moved, 0 at EOF."""
    return library.zc_transfer(_fd(src), _fd(dst), length, flags)


def transfer_ex(src, dst, length=ALL, flags=0):
    """transfer() that also returns what the call did: (count, Stats)."""
    stats = Stats()
    n = library.zc_transfer_ex(_fd(src), _fd(dst), length, flags, ctypes.byref(stats))
    return n, stats


def transfer_at(src, src_off, dst, dst_off, length=ALL, flags=0):
    """Like pread/pwrite: an offset that is not None is used instead of the
    fd's own, which stays untouched.

    Returns (count, new src_off, new dst_off, Stats); an offset given as
    None comes back as None.
    """
    offs = [None if o is None else ctypes.c_uint64(o) for o in (src_off, dst_off)]
    ptrs = [None if o is None else ctypes.pointer(o) for o in offs]
    stats = Stats()
    n = library.zc_transfer_at(_fd(src), ptrs[0], _fd(dst), ptrs[1], length, flags,
                               ctypes.byref(stats))
    src_off, dst_off = (None if o is None else o.value for o in offs)
    return n, src_off, dst_off, stats


def path_name(path):
    """"copy_file_range", "splice", ...; None for an unknown path."""
    return _name(library.zc_path_name(path))


def fd_type_name(fd_type):
    """"file", "pipe", "socket", ...; None for an unknown type."""
    return _name(library.zc_fd_type_name(fd_type))


def version():
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return _name(library.zc_version())
