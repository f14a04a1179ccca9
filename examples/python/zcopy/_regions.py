# SPDX-License-Identifier: MIT
"""Shared-memory regions: zc_region_* through ctypes."""

from __future__ import annotations

import ctypes
import os
from typing import Any, Callable, Optional

from . import _files
from ._lib import CRegion, Stats, call, check_count, cleanup_found, library

__all__ = [
    "Region", "Mutex", "Sem", "region_create", "region_publish", "region_open",
    "region_unlink", "region_memfd", "region_seal", "region_load", "region_load_fd",
    "region_sysv_create", "region_sysv_open", "region_remove", "region_send",
    "region_recv", "region_transfer", "region_sync", "region_resize", "region_close",
    "region_cleanup", "region_mutex", "region_sem",
]


class Region(CRegion):
    """A shared-memory region: struct zc_region. Region() is the empty
    region, "no region"."""

    def _call(self, func: Callable[..., Any], *args: Any) -> Any:
        """func(&region, *args)."""
        return call(func, ctypes.byref(self), *args)

    def view(self) -> memoryview:
        """A writable memoryview over the mapping; empty when nothing is mapped.
        Do not use it after close() or a resize() that moved the mapping."""
        if not self.addr:
            return memoryview(b"")
        buf = (ctypes.c_ubyte * self.size).from_address(self.addr)
        return memoryview(buf).cast("B")

    def close(self) -> None:
        """Unmap, detach and close. Harmless on an empty or closed region."""
        library.zc_region_close(ctypes.byref(self))

    def __enter__(self) -> Region:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _new(func: Callable[..., Any], *args: Any) -> Region:
    r = Region()
    call(func, ctypes.byref(r), *args)
    return r


def region_create(name: str, size: int, mode: int = 0, flags: int = 0) -> Region:
    """A new named POSIX region, size bytes, with exactly mode (0 means 0600)."""
    return _new(library.zc_region_create, name.encode(), check_count("size", size), mode,
                flags)


def region_publish(r: Region) -> None:
    r._call(library.zc_region_publish)


def region_open(name: str, flags: int = 0) -> Region:
    return _new(library.zc_region_open, name.encode(), flags)


def region_unlink(name: str) -> None:
    call(library.zc_region_unlink, name.encode())


def region_memfd(label: str, size: int, flags: int = 0) -> Region:
    return _new(library.zc_region_memfd, label.encode(), check_count("size", size), flags)


def region_seal(r: Region, seals: int) -> None:
    r._call(library.zc_region_seal, seals)


def region_load(path: str | bytes | os.PathLike[str] | os.PathLike[bytes],
                flags: int = 0) -> Region:
    """A file mapped read-only and shared (REGION_PRIVATE: copy-on-write,
    REGION_COPY: a private memfd copy)."""
    return _new(library.zc_region_load, os.fsencode(path), flags)


def region_load_fd(f: _files.FileLike, flags: int = 0) -> Region:
    """region_load() of an open file; a file object is flushed first."""
    return _new(library.zc_region_load_fd, _files.fileno(f), flags)


def region_sysv_create(key: int, size: int, mode: int = 0, flags: int = 0) -> Region:
    return _new(library.zc_region_sysv_create, key, check_count("size", size), mode, flags)


def region_sysv_open(key: int, flags: int = 0) -> Region:
    return _new(library.zc_region_sysv_open, key, flags)


def region_remove(r: Region) -> None:
    r._call(library.zc_region_remove)


def region_send(sock: _files.FileLike, r: Region) -> None:
    call(library.zc_region_send, _files.fileno(sock), ctypes.byref(r))


def region_recv(sock: _files.FileLike, flags: int = 0) -> Region:
    r = Region()
    call(library.zc_region_recv, _files.fileno(sock), ctypes.byref(r), flags)
    return r


def region_transfer(r: Region, off: int, length: int, dst: _files.FileLike,
                    dst_off: Optional[int] = None,
                    flags: int = 0) -> tuple[int, Optional[int], Stats]:
    """Send [off, off + length) of r to dst, the cheapest way the kernel allows.

    dst is handled as by transfer(): a file object is flushed, and written at
    its position unless dst_off is given. Returns (count, new dst_off, Stats).
    """
    check_count("off", off, 64)
    o = None if dst_off is None else ctypes.c_uint64(check_count("dst_off", dst_off, 64))
    stats = Stats()
    end = _files.End(dst, source=False, at_offset=o is not None)

    def move(n: int) -> int:
        return int(r._call(library.zc_region_transfer, off, n, end.fd,
                           None if o is None else ctypes.byref(o), flags,
                           ctypes.byref(stats)))

    count = _files.run(None, end, check_count("length", length), move)
    return count, None if o is None else o.value, stats


def region_sync(r: Region, off: int = 0, length: int = 0, flags: int = 0) -> None:
    """msync(2) the pages holding [off, off + length); length 0: to the end."""
    r._call(library.zc_region_sync, check_count("off", off, 64),
            check_count("length", length, 64), flags)


def region_resize(r: Region, size: int) -> None:
    """Change the size of a POSIX or memfd region; the mapping may move."""
    r._call(library.zc_region_resize, check_count("size", size, 64))


def region_close(r: Region) -> None:
    r.close()


def region_cleanup(prefix: str | None = None, flags: int = 0,
                   found: Callable[[str], object] | None = None) -> int:
    """Remove the named regions no process holds any more whose names start
    with prefix (None for all), or only list them with CLEANUP_LIST_ONLY.
    found(name), if given, is called with each name first. Returns how many.

    An exception from found cannot cross the C call: the call goes on without
    calling found again, and the first exception is raised when it is over."""
    raised: list[BaseException] = []

    def each(name: bytes, arg: object) -> None:
        if raised or found is None:
            return
        try:
            found(os.fsdecode(name))
        except BaseException as e:
            raised.append(e)

    # A function pointer made from the address 0 is the C call's NULL.
    callback = cleanup_found(0) if found is None else cleanup_found(each)
    n: int = call(library.zc_region_cleanup, None if prefix is None else prefix.encode(),
                  flags, callback, None)
    if raised:
        raise raised[0]
    return n


class _InRegion:
    """A lock at its place in a region's mapping. The memory is the region's:
    the lock keeps the Region object alive, but is dead once it is closed."""

    def __init__(self, ptr: Any, region: Region):
        self._ptr = ptr
        self.region = region


class Mutex(_InRegion):
    """A robust, process-shared, error-checking mutex inside a region.

    lock() after its holder died takes it and raises OSError EOWNERDEAD:
    the caller holds it then, repairs the data and calls consistent().
    """

    def lock(self) -> None:
        call(library.zc_mutex_lock, self._ptr)

    def trylock(self) -> None:
        """Raises OSError EBUSY when another holds it."""
        call(library.zc_mutex_trylock, self._ptr)

    def unlock(self) -> None:
        call(library.zc_mutex_unlock, self._ptr)

    def consistent(self) -> None:
        call(library.zc_mutex_consistent, self._ptr)

    def __enter__(self) -> Mutex:
        self.lock()
        return self

    def __exit__(self, *exc: object) -> None:
        self.unlock()


class Sem(_InRegion):
    """A process-shared semaphore inside a region (not owned: a process that
    dies between wait and post leaves the count one short)."""

    def wait(self) -> None:
        call(library.zc_sem_wait, self._ptr)

    def trywait(self) -> None:
        """Raises OSError EAGAIN when the count is zero."""
        call(library.zc_sem_trywait, self._ptr)

    def timedwait(self, timeout_ns: int) -> None:
        """Raises OSError ETIMEDOUT when timeout_ns nanoseconds pass first."""
        call(library.zc_sem_timedwait, self._ptr, check_count("timeout_ns", timeout_ns, 64))

    def post(self) -> None:
        call(library.zc_sem_post, self._ptr)


def region_mutex(r: Region, off: int, flags: int = 0) -> Mutex:
    """The mutex at byte off of r; LOCK_INIT in flags initialises it first."""
    return Mutex(r._call(library.zc_region_mutex, check_count("off", off, 64), flags), r)


def region_sem(r: Region, off: int, value: int = 0, flags: int = 0) -> Sem:
    """The semaphore at byte off of r; LOCK_INIT initialises it to value."""
    return Sem(r._call(library.zc_region_sem, check_count("off", off, 64), value, flags), r)
