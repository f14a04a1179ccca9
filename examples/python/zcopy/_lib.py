# SPDX-License-Identifier: MIT
"""libzcopy as ctypes sees it: the constants and structs of zcopy.h, the
prototype of every call, and how the shared library is found.

A new C call gets a line in _PROTOTYPES and a thin Python function in the
module that offers it; a new field of struct zc_stats goes at the end of
Stats._fields_, with its type hint, as zcopy.h appends it (test_layout.py
compares both structs with the C compiler's layout).
"""

from __future__ import annotations

import ctypes
import operator
import os
from typing import Any, Callable, TypeVar

__all__ = [
    "ALL", "SONAME", "LIBRARY_ENV", "Stats", "path_name", "fd_type_name", "version",
    "NO_COPY_FILE_RANGE", "NO_SPLICE", "NO_SENDFILE", "NO_MMAP", "GROW_PIPES",
    "NO_SIGPIPE_GUARD", "NO_HOLES", "NO_REFLINK", "REFLINK_ONLY", "SNAPSHOT",
    "PATH_NONE", "PATH_COPY_FILE_RANGE", "PATH_SPLICE", "PATH_SENDFILE",
    "PATH_MMAP_WRITE", "PATH_READ_WRITE", "PATH_VMSPLICE", "PATH_CLONE",
    "FD_UNKNOWN", "FD_FILE", "FD_SHM", "FD_PIPE", "FD_SOCKET", "FD_CHAR", "FD_TTY",
    "FD_BLOCK", "FD_DIR", "STATS_MAX", "SIDE_NONE", "SIDE_SRC", "SIDE_DST",
    "OFF_NONE", "TOTAL_UNKNOWN",
    "REGION_NONE", "REGION_POSIX", "REGION_MEMFD", "REGION_SYSV", "REGION_FILE",
    "REGION_CREATED", "REGION_RDONLY", "REGION_UNPUBLISHED", "REGION_UNSEALED",
    "REGION_PRIVATE", "REGION_OPEN_OR_CREATE", "REGION_COPY", "REGION_NEED_SEALS",
    "REGION_NAME_MAX",
    "SEAL_SEAL", "SEAL_SHRINK", "SEAL_GROW", "SEAL_WRITE", "SEAL_FUTURE_WRITE",
    "SEAL_HANDOUT", "SYNC_ASYNC", "SYNC_INVALIDATE", "CLEANUP_LIST_ONLY",
    "MUTEX_SIZE", "SEM_SIZE", "LOCK_INIT",
]

# The library's soname: its major version is the ABI these mirrors follow.
SONAME = "libzcopy.so.1"
# A path to load instead, for a build tree or a test.
LIBRARY_ENV = "ZCOPY_LIB"

# Mirrors of the #defines in zcopy.h.
ALL = ctypes.c_size_t(-1).value

NO_COPY_FILE_RANGE = 0x01
NO_SPLICE = 0x02
NO_SENDFILE = 0x04
NO_MMAP = 0x08
GROW_PIPES = 0x10
NO_SIGPIPE_GUARD = 0x20
NO_HOLES = 0x40
NO_REFLINK = 0x80
REFLINK_ONLY = 0x100
SNAPSHOT = 0x200

PATH_NONE = 0
PATH_COPY_FILE_RANGE = 1
PATH_SPLICE = 2
PATH_SENDFILE = 3
PATH_MMAP_WRITE = 4
PATH_READ_WRITE = 5
PATH_VMSPLICE = 6  # a region's memory into a pipe (zc_region_transfer)
PATH_CLONE = 7  # extents shared, FICLONERANGE

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

SIDE_NONE = 0
SIDE_SRC = 1
SIDE_DST = 2

OFF_NONE = -1  # struct zc_opts: the fd's own offset
TOTAL_UNKNOWN = (1 << 64) - 1  # progress: the size is not known

REGION_NONE = 0
REGION_POSIX = 1
REGION_MEMFD = 2
REGION_SYSV = 3
REGION_FILE = 4

REGION_CREATED = 0x0001
REGION_RDONLY = 0x0002
REGION_UNPUBLISHED = 0x0004
REGION_UNSEALED = 0x0008
REGION_PRIVATE = 0x0010
REGION_OPEN_OR_CREATE = 0x0100
REGION_COPY = 0x0200
REGION_NEED_SEALS = 0x0400
REGION_NAME_MAX = 255

SEAL_SEAL = 0x0001
SEAL_SHRINK = 0x0002
SEAL_GROW = 0x0004
SEAL_WRITE = 0x0008
SEAL_FUTURE_WRITE = 0x0010
SEAL_HANDOUT = SEAL_SHRINK | SEAL_GROW | SEAL_FUTURE_WRITE

SYNC_ASYNC = 0x1
SYNC_INVALIDATE = 0x2

CLEANUP_LIST_ONLY = 0x1

MUTEX_SIZE = 64
SEM_SIZE = 32
LOCK_INIT = 0x1


class Stats(ctypes.Structure):
    """What one call did: struct zc_stats, field for field."""

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
        ("error_side", ctypes.c_uint32),
        ("reserved0", ctypes.c_uint32),
        ("holes", ctypes.c_uint64),
        ("reserved", ctypes.c_uint64 * 6),
    ]
    # What each field reads as from Python, for type checkers.
    bytes: int
    syscalls: int
    error: int
    path: int
    src_type: int
    dst_type: int
    npaths: int
    nfallbacks: int
    paths: ctypes.Array[ctypes.c_uint32]
    fallback_path: ctypes.Array[ctypes.c_uint32]
    fallback_errno: ctypes.Array[ctypes.c_int32]
    error_side: int
    reserved0: int
    holes: int
    reserved: ctypes.Array[ctypes.c_uint64]

    def used_paths(self) -> list[str | None]:
        """Names of the paths that moved bytes, in order."""
        return [path_name(p) for p in self.paths[:self.npaths]]

    def fallbacks(self) -> list[tuple[str | None, int]]:
        """(path name, errno) for each path given up on, in order."""
        return [(path_name(self.fallback_path[i]), self.fallback_errno[i])
                for i in range(self.nfallbacks)]


class CRegion(ctypes.Structure):
    """struct zc_region, field for field; zcopy.Region adds what keeps it safe."""

    _fields_ = [
        ("size", ctypes.c_uint64),
        ("kind", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("fd", ctypes.c_int32),
        ("shmid", ctypes.c_int32),
        ("seals", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
        ("addr", ctypes.c_void_p),
        ("name", ctypes.c_char * (REGION_NAME_MAX + 1)),
    ]
    size: int
    kind: int
    flags: int
    fd: int
    shmid: int
    seals: int
    reserved: int
    addr: int | None
    name: bytes


# int (*progress)(uint64_t done, uint64_t total, uint32_t path, void *arg)
progress_fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint64, ctypes.c_uint64,
                               ctypes.c_uint32, ctypes.c_void_p)


class Opts(ctypes.Structure):
    """struct zc_opts, field for field (it grows at its end: size says how far)."""

    _fields_ = [
        ("size", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("len", ctypes.c_uint64),
        ("src_off", ctypes.c_int64),
        ("dst_off", ctypes.c_int64),
        ("chunk", ctypes.c_uint64),
        ("progress", progress_fn),
        ("arg", ctypes.c_void_p),
    ]


def _raise_errno() -> None:
    err = ctypes.get_errno()
    # OSError(errno, ...) is the subclass for that errno: FileNotFoundError...
    raise OSError(err, os.strerror(err))


def _raise_on_minus_one(result: int, func: Any, args: Any) -> int:
    if result == -1:
        _raise_errno()
    return result


def _raise_on_null(result: Any, func: Any, args: Any) -> Any:
    if not result:
        _raise_errno()
    return result


# struct zc_mutex and struct zc_sem are opaque: only pointers to them cross.
class CMutex(ctypes.Structure):
    pass


class CSem(ctypes.Structure):
    pass


_c_uint64_p = ctypes.POINTER(ctypes.c_uint64)
_Stats_p = ctypes.POINTER(Stats)
_Region_p = ctypes.POINTER(CRegion)
_Mutex_p = ctypes.POINTER(CMutex)
_Sem_p = ctypes.POINTER(CSem)
cleanup_found = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)

# name: (restype, argtypes, errcheck)
_PROTOTYPES: dict[str, tuple[Any, list[Any], Any]] = {
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
    "zc_transfer_opts": (ctypes.c_ssize_t,
                         [ctypes.c_int, ctypes.c_int, ctypes.POINTER(Opts), _Stats_p],
                         _raise_on_minus_one),
    "zc_region_create": (ctypes.c_int, [_Region_p, ctypes.c_char_p, ctypes.c_uint64,
                                        ctypes.c_uint32, ctypes.c_uint32],
                         _raise_on_minus_one),
    "zc_region_publish": (ctypes.c_int, [_Region_p], _raise_on_minus_one),
    "zc_region_open": (ctypes.c_int, [_Region_p, ctypes.c_char_p, ctypes.c_uint32],
                       _raise_on_minus_one),
    "zc_region_unlink": (ctypes.c_int, [ctypes.c_char_p], _raise_on_minus_one),
    "zc_region_sysv_create": (ctypes.c_int, [_Region_p, ctypes.c_int32, ctypes.c_uint64,
                                             ctypes.c_uint32, ctypes.c_uint32],
                              _raise_on_minus_one),
    "zc_region_sysv_open": (ctypes.c_int, [_Region_p, ctypes.c_int32, ctypes.c_uint32],
                            _raise_on_minus_one),
    "zc_region_load": (ctypes.c_int, [_Region_p, ctypes.c_char_p, ctypes.c_uint32],
                       _raise_on_minus_one),
    "zc_region_load_fd": (ctypes.c_int, [_Region_p, ctypes.c_int, ctypes.c_uint32],
                          _raise_on_minus_one),
    "zc_region_remove": (ctypes.c_int, [_Region_p], _raise_on_minus_one),
    "zc_region_memfd": (ctypes.c_int, [_Region_p, ctypes.c_char_p, ctypes.c_uint64,
                                       ctypes.c_uint32],
                        _raise_on_minus_one),
    "zc_region_seal": (ctypes.c_int, [_Region_p, ctypes.c_uint32], _raise_on_minus_one),
    "zc_region_send": (ctypes.c_int, [ctypes.c_int, _Region_p], _raise_on_minus_one),
    "zc_region_recv": (ctypes.c_int, [ctypes.c_int, _Region_p, ctypes.c_uint32],
                       _raise_on_minus_one),
    "zc_region_transfer": (ctypes.c_ssize_t,
                           [_Region_p, ctypes.c_uint64, ctypes.c_size_t, ctypes.c_int,
                            _c_uint64_p, ctypes.c_uint, _Stats_p],
                           _raise_on_minus_one),
    "zc_region_sync": (ctypes.c_int, [_Region_p, ctypes.c_uint64, ctypes.c_uint64,
                                      ctypes.c_uint32],
                       _raise_on_minus_one),
    "zc_region_resize": (ctypes.c_int, [_Region_p, ctypes.c_uint64], _raise_on_minus_one),
    "zc_region_cleanup": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_uint32,
                                         cleanup_found, ctypes.c_void_p],
                          _raise_on_minus_one),
    "zc_region_mutex": (_Mutex_p, [_Region_p, ctypes.c_uint64, ctypes.c_uint32],
                        _raise_on_null),
    "zc_mutex_lock": (ctypes.c_int, [_Mutex_p], _raise_on_minus_one),
    "zc_mutex_trylock": (ctypes.c_int, [_Mutex_p], _raise_on_minus_one),
    "zc_mutex_unlock": (ctypes.c_int, [_Mutex_p], _raise_on_minus_one),
    "zc_mutex_consistent": (ctypes.c_int, [_Mutex_p], _raise_on_minus_one),
    "zc_region_sem": (_Sem_p, [_Region_p, ctypes.c_uint64, ctypes.c_uint32,
                               ctypes.c_uint32],
                      _raise_on_null),
    "zc_sem_wait": (ctypes.c_int, [_Sem_p], _raise_on_minus_one),
    "zc_sem_trywait": (ctypes.c_int, [_Sem_p], _raise_on_minus_one),
    "zc_sem_timedwait": (ctypes.c_int, [_Sem_p, ctypes.c_uint64], _raise_on_minus_one),
    "zc_sem_post": (ctypes.c_int, [_Sem_p], _raise_on_minus_one),
    "zc_region_close": (ctypes.c_int, [_Region_p], _raise_on_minus_one),
    "zc_path_name": (ctypes.c_char_p, [ctypes.c_uint32], None),
    "zc_fd_type_name": (ctypes.c_char_p, [ctypes.c_uint32], None),
    "zc_version": (ctypes.c_char_p, [], None),
}


def _open() -> ctypes.CDLL:
    """The override when set (and nothing else then), else the soname, which
    the dynamic loader looks up as for any program: LD_LIBRARY_PATH, then the
    ld.so cache that ldconfig builds from the system's library directories."""
    path = os.environ.get(LIBRARY_ENV)
    try:
        return ctypes.CDLL(path or SONAME, use_errno=True)
    except OSError as e:
        where = ("%s=%s" % (LIBRARY_ENV, path) if path else
                 "%s (install libzcopy, run ldconfig after installing it outside the "
                 "system's library directories, or set LD_LIBRARY_PATH or %s)"
                 % (SONAME, LIBRARY_ENV))
        raise ImportError("zcopy: cannot load %s: %s" % (where, e)) from None


def _load() -> ctypes.CDLL:
    lib = _open()
    for name, (restype, argtypes, errcheck) in _PROTOTYPES.items():
        try:
            func = getattr(lib, name)
        except AttributeError:
            raise ImportError("zcopy: %s has no %s: it is older than this package"
                              % (lib._name, name)) from None
        func.restype = restype
        func.argtypes = argtypes
        if errcheck:
            func.errcheck = errcheck
    # Another major version lays its structs out differently.
    have = lib.zc_version().decode()
    if have.split(".")[0] != SONAME.rsplit(".", 1)[1]:
        raise ImportError("zcopy: %s is libzcopy %s; this package needs %s"
                          % (lib._name, have, SONAME))
    return lib


library = _load()

T = TypeVar("T")


def call(func: Callable[..., T], *args: Any) -> T:
    """func(*args), again after EINTR, as Python's own calls do since PEP 475.

    The C call returns EINTR only when nothing moved yet. Python runs a signal
    handler between two bytecodes, so it runs before the loop goes round: an
    exception it raises ends the call, one that returns lets it go on.
    """
    while True:
        try:
            return func(*args)
        except InterruptedError:
            continue


def check_count(name: str, value: int, bits: int = 0) -> int:
    """value as a C unsigned integer of bits bits (size_t when 0): ctypes
    would wrap a negative or too large one without a word."""
    value = operator.index(value)
    if value < 0:
        raise ValueError("%s must not be negative" % name)
    if value > ((1 << bits) - 1 if bits else ALL):
        raise OverflowError("%s is too large" % name)
    return value


def _name(raw: bytes | None) -> str | None:
    return raw.decode() if raw is not None else None


def path_name(path: int) -> str | None:
    """"copy_file_range", "splice", ...; None for an unknown path."""
    return _name(library.zc_path_name(path))


def fd_type_name(fd_type: int) -> str | None:
    """"file", "pipe", "socket", ...; None for an unknown type."""
    return _name(library.zc_fd_type_name(fd_type))


def version() -> str:
    """The version of the libzcopy loaded, "MAJOR.MINOR.PATCH"."""
    return str(_name(library.zc_version()))
