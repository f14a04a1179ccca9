# SPDX-License-Identifier: MIT
"""Shared-memory regions: zc_region_* through ctypes, made safe to touch.

A region's memory is a mapping the library made, and Python sees it through
memoryviews. Touching a mapping that is gone, or writing to a read-only one,
kills the process, so as mmap.mmap does for its own mappings:

- a view of a read-only region is a read-only memoryview;
- close() and resize() raise BufferError while a view (or a slice of one)
  is alive, or while another thread is inside a call on the region;
- once closed, every use raises ValueError.
"""

from __future__ import annotations

import ctypes
import os
import threading
import weakref
from typing import Any, Callable, Optional, TypeVar

from . import _files
from ._lib import CRegion, REGION_RDONLY, Stats, call, check_count, cleanup_found, library

__all__ = [
    "Region", "Mutex", "Sem", "region_create", "region_publish", "region_open",
    "region_unlink", "region_memfd", "region_seal", "region_load", "region_load_fd",
    "region_sysv_create", "region_sysv_open", "region_remove", "region_send",
    "region_recv", "region_transfer", "region_sync", "region_resize", "region_close",
    "region_cleanup", "region_mutex", "region_sem",
]

# Guards the bookkeeping of every region (closed, calls under way, views);
# never held across a C call. Reentrant: a region collected while it is held
# closes itself through it.
_book = threading.RLock()


def _new_book() -> None:
    # A child forked while another thread held the lock would wait for it forever.
    global _book
    _book = threading.RLock()


os.register_at_fork(after_in_child=_new_book)

T = TypeVar("T")


def _forget(exports: dict[int, weakref.ref[Any]], key: int) -> Callable[[object], None]:
    # Weak reference callbacks run before the buffer's memory (and id) is reused.
    def forget(_: object) -> None:
        exports.pop(key, None)
    return forget


class Region(CRegion):
    """A shared-memory region: struct zc_region, plus what keeps its memory
    safe to touch from Python. Region() is the empty region, "no region"."""

    def __init__(self) -> None:
        super().__init__()
        self._closed = False
        self._busy = 0
        # The buffers views were made from, by id(); each holds the region
        # alive and leaves this dict when it dies (ctypes arrays have no hash).
        self._exports: dict[int, weakref.ref[Any]] = {}

    @property
    def closed(self) -> bool:
        return self._closed

    def _enter(self) -> None:
        with _book:
            if self._closed:
                raise ValueError("operation on a closed region")
            self._busy += 1

    def _leave(self) -> None:
        with _book:
            self._busy -= 1

    def _call(self, func: Callable[..., T], *args: Any) -> T:
        """func(&region, *args), with the region kept open meanwhile."""
        self._enter()
        try:
            return call(func, ctypes.byref(self), *args)
        finally:
            self._leave()

    def _unmoved(self, what: str) -> None:
        """Refuse what would unmap or move the mapping under a view or a call."""
        if self._exports:
            raise BufferError("cannot %s a region while views of it exist: release them "
                              "(with region.view() as v: ...) or drop them first" % what)
        if self._busy:
            raise BufferError("cannot %s a region while another thread uses it" % what)

    def view(self) -> memoryview:
        """The region's memory as a memoryview of bytes, read-only when the region
        is (REGION_RDONLY); empty when nothing is mapped. While the view or any
        slice of it is alive, close() and resize() raise BufferError."""
        with _book:
            if self._closed:
                raise ValueError("operation on a closed region")
            if not self.addr:
                return memoryview(b"")
            buf = (ctypes.c_ubyte * self.size).from_address(self.addr)
            buf._zc_region = self  # type: ignore[attr-defined]
            self._exports[id(buf)] = weakref.ref(buf, _forget(self._exports, id(buf)))
        mv = memoryview(buf).cast("B")
        return mv.toreadonly() if self.flags & REGION_RDONLY else mv

    def close(self) -> None:
        """Unmap, detach and close. Harmless on an empty or closed region."""
        with _book:
            if self._closed:
                return
            self._unmoved("close")
            self._closed = True
        library.zc_region_close(ctypes.byref(self))

    def __enter__(self) -> Region:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Nothing can use it any more: no view holds it, no call runs.
        if not getattr(self, "_closed", True):
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
    fd = _files.fileno(sock)
    r._enter()
    try:
        call(library.zc_region_send, fd, ctypes.byref(r))
    finally:
        r._leave()


def region_recv(sock: _files.FileLike, flags: int = 0) -> Region:
    fd = _files.fileno(sock)
    r = Region()
    call(library.zc_region_recv, fd, ctypes.byref(r), flags)
    return r


def region_transfer(r: Region, off: int, length: int, dst: _files.FileLike,
                    dst_off: Optional[int] = None,
                    flags: int = 0) -> tuple[int, Optional[int], Stats]:
    """Send [off, off + length) of r to dst, the cheapest way the kernel allows.

    dst is handled as by transfer(): a file object is flushed, and written at
    its position unless dst_off is given. Returns (count, new dst_off, Stats).
    """
    check_count("off", off, 64)
    stats = Stats()
    end = _files.End(dst, source=False,
                     offset=None if dst_off is None else check_count("dst_off", dst_off, 64))

    def move(n: int) -> int:
        return int(r._call(library.zc_region_transfer, off, n, end.fd, end.ptr(), flags,
                           ctypes.byref(stats)))

    count = _files.run(None, end, check_count("length", length), move)
    return count, end.given_offset(), stats


def region_sync(r: Region, off: int = 0, length: int = 0, flags: int = 0) -> None:
    """msync(2) the pages holding [off, off + length); length 0: to the end."""
    r._call(library.zc_region_sync, check_count("off", off, 64),
            check_count("length", length, 64), flags)


def region_resize(r: Region, size: int) -> None:
    """Change the size of a POSIX or memfd region; the mapping may move, so
    views must be gone (BufferError otherwise)."""
    with _book:
        r._unmoved("resize")
        r._enter()
    try:
        call(library.zc_region_resize, ctypes.byref(r), check_count("size", size, 64))
    finally:
        r._leave()


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
    n: int = call(library.zc_region_cleanup, None if prefix is None else prefix.encode(), flags,
             callback, None)
    if raised:
        raise raised[0]
    return n


class _InRegion:
    """A lock at its place in a region. It is looked up again at each use, so
    that a region resized or closed since cannot leave it pointing nowhere."""

    def __init__(self, region: Region, off: int):
        self.region = region
        self.off = off

    def _ptr(self) -> Any:
        raise NotImplementedError

    def _do(self, func: Callable[..., int], *args: Any) -> None:
        r = self.region
        r._enter()
        try:
            call(func, self._ptr(), *args)
        finally:
            r._leave()


class Mutex(_InRegion):
    """A robust, process-shared, error-checking mutex inside a region.

    lock() after its holder died takes it and raises OSError EOWNERDEAD:
    the caller holds it then, repairs the data and calls consistent().
    """

    def _ptr(self) -> Any:
        return library.zc_region_mutex(ctypes.byref(self.region), self.off, 0)

    def lock(self) -> None:
        self._do(library.zc_mutex_lock)

    def trylock(self) -> None:
        """Raises OSError EBUSY when another holds it."""
        self._do(library.zc_mutex_trylock)

    def unlock(self) -> None:
        self._do(library.zc_mutex_unlock)

    def consistent(self) -> None:
        self._do(library.zc_mutex_consistent)

    def __enter__(self) -> Mutex:
        self.lock()
        return self

    def __exit__(self, *exc: object) -> None:
        self.unlock()


class Sem(_InRegion):
    """A process-shared semaphore inside a region (not owned: a process that
    dies between wait and post leaves the count one short)."""

    def _ptr(self) -> Any:
        return library.zc_region_sem(ctypes.byref(self.region), self.off, 0, 0)

    def wait(self) -> None:
        self._do(library.zc_sem_wait)

    def trywait(self) -> None:
        """Raises OSError EAGAIN when the count is zero."""
        self._do(library.zc_sem_trywait)

    def timedwait(self, timeout_ns: int) -> None:
        """Raises OSError ETIMEDOUT when timeout_ns nanoseconds pass first."""
        self._do(library.zc_sem_timedwait, check_count("timeout_ns", timeout_ns, 64))

    def post(self) -> None:
        self._do(library.zc_sem_post)


def region_mutex(r: Region, off: int, flags: int = 0) -> Mutex:
    """The mutex at byte off of r; LOCK_INIT in flags initialises it first."""
    r._call(library.zc_region_mutex, check_count("off", off, 64), flags)
    return Mutex(r, off)


def region_sem(r: Region, off: int, value: int = 0, flags: int = 0) -> Sem:
    """The semaphore at byte off of r; LOCK_INIT initialises it to value."""
    r._call(library.zc_region_sem, check_count("off", off, 64), value, flags)
    return Sem(r, off)
