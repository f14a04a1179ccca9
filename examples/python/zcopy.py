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

Locks inside a region: region_mutex() and region_sem() return Mutex and Sem
objects (lock/trylock/unlock/consistent, wait/trywait/timedwait/post) that
work across processes sharing the region; region_cleanup() removes named
regions no process holds any more.
"""

import ctypes
import os

__all__ = [
    "ALL", "Stats", "transfer", "transfer_ex", "transfer_at",
    "path_name", "fd_type_name", "version", "library", "Region",
    "Mutex", "Sem", "region_mutex", "region_sem", "region_cleanup",
]

SONAME = "libzcopy.so.1"

# Mirrors of the #defines in zcopy.h.
ALL = ctypes.c_size_t(-1).value

NO_COPY_FILE_RANGE = 0x01
NO_SPLICE = 0x02
NO_SENDFILE = 0x04
NO_MMAP = 0x08
GROW_PIPES = 0x10
NO_SIGPIPE_GUARD = 0x20

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
        ("error_side", ctypes.c_uint32),
        ("reserved0", ctypes.c_uint32),
        ("holes", ctypes.c_uint64),
        ("reserved", ctypes.c_uint64 * 6),
    ]

    def used_paths(self):
        """Names of the paths that moved bytes, in order."""
        return [path_name(p) for p in self.paths[:self.npaths]]

    def fallbacks(self):
        """(path name, errno) for each path given up on, in order."""
        return [(path_name(self.fallback_path[i]), self.fallback_errno[i])
                for i in range(self.nfallbacks)]


class Region(ctypes.Structure):
    """struct zc_region, field for field (zcopy.h; the abi suite checks it)."""

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

    def view(self):
        """A writable memoryview over the mapping; empty when nothing is mapped.
        Do not use it after close() or a resize() that moved the mapping."""
        if not self.addr:
            return memoryview(b"")
        return memoryview((ctypes.c_char * self.size).from_address(self.addr)).cast("B")

    def close(self):
        library.zc_region_close(ctypes.byref(self))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _raise_errno():
    err = ctypes.get_errno()
    raise OSError(err, os.strerror(err))


def _raise_on_minus_one(result, func, args):
    if result == -1:
        _raise_errno()
    return result


def _raise_on_null(result, func, args):
    if not result:
        _raise_errno()
    return result


# struct zc_mutex and struct zc_sem are opaque: only pointers to them cross.
class _CMutex(ctypes.Structure):
    pass


class _CSem(ctypes.Structure):
    pass


_c_uint64_p = ctypes.POINTER(ctypes.c_uint64)
_Stats_p = ctypes.POINTER(Stats)
_Region_p = ctypes.POINTER(Region)
_Mutex_p = ctypes.POINTER(_CMutex)
_Sem_p = ctypes.POINTER(_CSem)
_cleanup_found = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)

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
                                         _cleanup_found, ctypes.c_void_p],
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
    "zc_region_close": (ctypes.c_int, [_Region_p], None),
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


# Region calls: each returns a Region (or None) and raises OSError on -1.

def region_create(name, size, mode=0, flags=0):
    r = Region()
    library.zc_region_create(ctypes.byref(r), name.encode(), size, mode, flags)
    return r


def region_publish(r):
    library.zc_region_publish(ctypes.byref(r))


def region_open(name, flags=0):
    r = Region()
    library.zc_region_open(ctypes.byref(r), name.encode(), flags)
    return r


def region_unlink(name):
    library.zc_region_unlink(name.encode())


def region_memfd(label, size, flags=0):
    r = Region()
    library.zc_region_memfd(ctypes.byref(r), label.encode(), size, flags)
    return r


def region_seal(r, seals):
    library.zc_region_seal(ctypes.byref(r), seals)


def region_load(path, flags=0):
    r = Region()
    library.zc_region_load(ctypes.byref(r), os.fsencode(path), flags)
    return r


def region_load_fd(f, flags=0):
    r = Region()
    library.zc_region_load_fd(ctypes.byref(r), _fd(f), flags)
    return r


def region_sysv_create(key, size, mode=0, flags=0):
    r = Region()
    library.zc_region_sysv_create(ctypes.byref(r), key, size, mode, flags)
    return r


def region_sysv_open(key, flags=0):
    r = Region()
    library.zc_region_sysv_open(ctypes.byref(r), key, flags)
    return r


def region_remove(r):
    library.zc_region_remove(ctypes.byref(r))


def region_send(sock, r):
    library.zc_region_send(_fd(sock), ctypes.byref(r))


def region_recv(sock, flags=0):
    r = Region()
    library.zc_region_recv(_fd(sock), ctypes.byref(r), flags)
    return r


def region_transfer(r, off, length, dst, dst_off=None, flags=0):
    """Send [off, off + length) of r to dst: (count, new dst_off, Stats)."""
    o = None if dst_off is None else ctypes.c_uint64(dst_off)
    stats = Stats()
    n = library.zc_region_transfer(ctypes.byref(r), off, length, _fd(dst),
                                   None if o is None else ctypes.pointer(o), flags,
                                   ctypes.byref(stats))
    return n, None if o is None else o.value, stats


def region_sync(r, off=0, length=0, flags=0):
    library.zc_region_sync(ctypes.byref(r), off, length, flags)


def region_resize(r, size):
    library.zc_region_resize(ctypes.byref(r), size)


def region_close(r):
    r.close()


def region_cleanup(prefix=None, flags=0, found=None):
    """Remove the named regions no process holds any more whose names start
    with prefix (None for all), or only list them with CLEANUP_LIST_ONLY.
    found(name), if given, is called with each name first. Returns how many.

    An exception from found cannot cross the C call: the call goes on without
    calling found again, and the first exception is raised when it is over."""
    raised = []

    def call(name, arg):
        if raised:
            return
        try:
            found(os.fsdecode(name))
        except BaseException as e:
            raised.append(e)

    # A _cleanup_found() without a function is the C call's NULL.
    callback = _cleanup_found() if found is None else _cleanup_found(call)
    n = library.zc_region_cleanup(None if prefix is None else prefix.encode(), flags,
                                  callback, None)
    if raised:
        raise raised[0]
    return n


class _InRegion:
    """A lock at its place in a region's mapping. The memory is the region's:
    the lock keeps the Region object alive, but is dead once it is closed."""

    def __init__(self, ptr, region):
        self._ptr = ptr
        self.region = region


class Mutex(_InRegion):
    """A robust, process-shared, error-checking mutex inside a region.

    lock() after its holder died takes it and raises OSError EOWNERDEAD:
    the caller holds it then, repairs the data and calls consistent().
    """

    def lock(self):
        library.zc_mutex_lock(self._ptr)

    def trylock(self):
        """Raises OSError EBUSY when another holds it."""
        library.zc_mutex_trylock(self._ptr)

    def unlock(self):
        library.zc_mutex_unlock(self._ptr)

    def consistent(self):
        library.zc_mutex_consistent(self._ptr)


class Sem(_InRegion):
    """A process-shared semaphore inside a region (not owned: a process that
    dies between wait and post leaves the count one short)."""

    def wait(self):
        library.zc_sem_wait(self._ptr)

    def trywait(self):
        """Raises OSError EAGAIN when the count is zero."""
        library.zc_sem_trywait(self._ptr)

    def timedwait(self, timeout_ns):
        """Raises OSError ETIMEDOUT when timeout_ns nanoseconds pass first."""
        library.zc_sem_timedwait(self._ptr, timeout_ns)

    def post(self):
        library.zc_sem_post(self._ptr)


def region_mutex(r, off, flags=0):
    """The mutex at byte off of r; LOCK_INIT in flags initialises it first."""
    return Mutex(library.zc_region_mutex(ctypes.byref(r), off, flags), r)


def region_sem(r, off, value=0, flags=0):
    """The semaphore at byte off of r; LOCK_INIT initialises it to value."""
    return Sem(library.zc_region_sem(ctypes.byref(r), off, value, flags), r)
