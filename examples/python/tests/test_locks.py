# SPDX-License-Identifier: MIT
"""Region locks and stale-region cleanup through the package, between this
process and children forked from it that share the region's mapping."""

from __future__ import annotations

import errno
import glob
import os
import signal
import sys
import traceback
from typing import Any, Callable, Iterator

import pytest

import zcopy

# Where things sit in the shared region: two locks, then the data they guard.
MUTEX_OFF = 0
SEM_OFF = MUTEX_OFF + zcopy.MUTEX_SIZE
SEM2_OFF = SEM_OFF + zcopy.SEM_SIZE
DATA_OFF = 256

# How long one process waits for the other at most, so that a failure on one
# side never leaves the other blocked; a bound against hangs, not a timing
# assertion (meson's timeout for the test is longer).
PATIENCE_NS = 30 * 10**9


class Children:
    """Forked children that share this process's mappings; a child that
    outlives a failed test is killed and reaped."""

    def __init__(self) -> None:
        self.pids: list[int] = []

    def fork(self, body: Callable[[], object]) -> int:
        """Run body in a child; its exit status says whether it raised."""
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                body()
                code = 0
            except BaseException:
                traceback.print_exc()
                sys.stderr.flush()
            finally:
                os._exit(code)
        self.pids.append(pid)
        return pid

    def reap(self, pid: int) -> None:
        _, status = os.waitpid(pid, 0)
        self.pids.remove(pid)
        assert os.waitstatus_to_exitcode(status) == 0

    def kill_all(self) -> None:
        for pid in self.pids:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


@pytest.fixture
def children() -> Iterator[Children]:
    c = Children()
    yield c
    c.kill_all()


def assert_errno(code: int, call: Callable[..., Any], *args: Any) -> None:
    with pytest.raises(OSError) as e:
        call(*args)
    assert e.value.errno == code


class Shared:
    """A memfd region with a mutex and two semaphores, and data after them."""

    def __init__(self) -> None:
        self.region = zcopy.region_memfd("py-locks", 4096)
        self.mutex = zcopy.region_mutex(self.region, MUTEX_OFF, zcopy.LOCK_INIT)
        self.sem = zcopy.region_sem(self.region, SEM_OFF, 0, zcopy.LOCK_INIT)
        self.sem2 = zcopy.region_sem(self.region, SEM2_OFF, 0, zcopy.LOCK_INIT)

    def data(self, n: int) -> memoryview:
        return self.region.view()[DATA_OFF:DATA_OFF + n]


@pytest.fixture
def sh(children: Children) -> Iterator[Shared]:
    s = Shared()
    yield s
    s.region.close()


def test_post_after_write(sh: Shared, children: Children) -> None:
    payload = os.urandom(2048)

    def child() -> None:
        # A fresh lookup, as a process that did not initialise would do.
        sem = zcopy.region_sem(sh.region, SEM_OFF)
        sh.data(len(payload))[:] = payload
        sem.post()

    pid = children.fork(child)
    sh.sem.wait()
    assert bytes(sh.data(len(payload))) == payload
    children.reap(pid)
    assert_errno(errno.EAGAIN, sh.sem.trywait)


def test_timedwait(sh: Shared, children: Children) -> None:
    assert_errno(errno.ETIMEDOUT, sh.sem.timedwait, 20 * 10**6)
    pid = children.fork(sh.sem.post)
    sh.sem.timedwait(PATIENCE_NS)
    children.reap(pid)
    assert_errno(errno.EAGAIN, sh.sem.trywait)


def test_trylock_busy_in_both_directions(sh: Shared, children: Children) -> None:
    sh.mutex.lock()

    def child_sees_busy() -> None:
        m = zcopy.region_mutex(sh.region, MUTEX_OFF)
        with pytest.raises(OSError) as e:
            m.trylock()
        assert e.value.errno == errno.EBUSY

    children.reap(children.fork(child_sees_busy))
    sh.mutex.unlock()

    def child_holds() -> None:
        sh.mutex.lock()
        sh.data(4)[:] = b"held"
        sh.sem.post()
        sh.sem2.timedwait(PATIENCE_NS)
        sh.data(4)[:] = b"done"
        sh.mutex.unlock()

    pid = children.fork(child_holds)
    sh.sem.timedwait(PATIENCE_NS)
    assert_errno(errno.EBUSY, sh.mutex.trylock)
    assert bytes(sh.data(4)) == b"held"
    sh.sem2.post()
    children.reap(pid)
    sh.mutex.trylock()
    assert bytes(sh.data(4)) == b"done"
    assert_errno(errno.EDEADLK, sh.mutex.lock)
    sh.mutex.unlock()
    assert_errno(errno.EPERM, sh.mutex.unlock)


def die_holding(sh: Shared, children: Children) -> None:
    def child() -> None:
        sh.mutex.lock()
        sh.data(4)[:] = b"half"
        os._exit(0)

    children.reap(children.fork(child))


def test_owner_dead(sh: Shared, children: Children) -> None:
    die_holding(sh, children)
    assert_errno(errno.EOWNERDEAD, sh.mutex.lock)
    # The failed lock left it held by us: repair the data, then say so.
    assert_errno(errno.EDEADLK, sh.mutex.lock)
    assert bytes(sh.data(4)) == b"half"
    sh.data(4)[:] = b"good"
    sh.mutex.consistent()
    sh.mutex.unlock()
    sh.mutex.lock()
    sh.mutex.unlock()
    def lock_unlock() -> None:
        with sh.mutex:
            pass

    children.reap(children.fork(lock_unlock))
    assert_errno(errno.EINVAL, sh.mutex.consistent)


def test_owner_dead_unrepaired(sh: Shared, children: Children) -> None:
    die_holding(sh, children)
    assert_errno(errno.EOWNERDEAD, sh.mutex.trylock)
    sh.mutex.unlock()
    assert_errno(errno.ENOTRECOVERABLE, sh.mutex.lock)
    assert_errno(errno.ENOTRECOVERABLE, sh.mutex.trylock)


def test_bad_places(sh: Shared) -> None:
    assert_errno(errno.EINVAL, zcopy.region_mutex, sh.region, 4)
    assert_errno(errno.EINVAL, zcopy.region_sem, sh.region, 4096 - zcopy.SEM_SIZE + 8)
    assert_errno(errno.EINVAL, zcopy.region_mutex, sh.region, 0, 0x2)
    with zcopy.Region() as empty:
        assert_errno(errno.EINVAL, zcopy.region_sem, empty, 0)


class Stale:
    """Names under a prefix of this process's; none may be left at the end."""

    def __init__(self) -> None:
        self.prefix = "zc-py-%d-stale-" % os.getpid()

    def exists(self, tag: str) -> bool:
        return os.path.exists("/dev/shm/" + self.prefix + tag)

    def leftovers(self) -> list[str]:
        left = glob.glob("/dev/shm/" + self.prefix + "*")
        for path in left:
            os.unlink(path)
        return left


@pytest.fixture
def stale(children: Children) -> Iterator[Stale]:
    s = Stale()
    yield s
    assert s.leftovers() == []


def test_removes_only_stale(stale: Stale, children: Children) -> None:
    prefix = stale.prefix
    sync = zcopy.region_memfd("py-cleanup", 4096)
    created = zcopy.region_sem(sync, 0, 0, zcopy.LOCK_INIT)
    release = zcopy.region_sem(sync, zcopy.SEM_SIZE, 0, zcopy.LOCK_INIT)

    def creator(tag: str, wait: bool) -> int:
        def body() -> None:
            r = zcopy.region_create(prefix + tag, 4096)
            r.view()[:5] = b"alive"
            created.post()
            if wait:
                release.timedwait(PATIENCE_NS)
            # Exits holding r: the kernel, not close(), lets go of it.
        pid = children.fork(body)
        created.timedwait(PATIENCE_NS)
        return pid

    children.reap(creator("dead", False))
    held_pid = creator("held", True)
    live = zcopy.region_create(prefix + "live", 4096)
    try:
        # Regions are marked with a user xattr; tmpfs keeps those only since
        # Linux 6.6, and without the mark no region can be found stale.
        assert os.getxattr("/dev/shm/" + prefix + "dead", "user.zcopy.region") == b"1"

        found: list[str] = []
        assert zcopy.region_cleanup(prefix, zcopy.CLEANUP_LIST_ONLY, found.append) == 1
        assert found == [prefix + "dead"]
        assert stale.exists("dead")
        with zcopy.region_open(prefix + "dead") as r:
            assert bytes(r.view()[:5]) == b"alive"
            assert zcopy.region_cleanup(prefix) == 0

        found = []
        assert zcopy.region_cleanup(prefix, 0, found.append) == 1
        assert found == [prefix + "dead"]
        assert not stale.exists("dead")
        assert stale.exists("held") and stale.exists("live")
        with pytest.raises(OSError) as e:
            zcopy.region_open(prefix + "dead")
        assert e.value.errno == errno.ENOENT

        # Once its holder is gone, the child's region is stale too.
        release.post()
        children.reap(held_pid)
        found = []
        assert zcopy.region_cleanup(prefix, 0, found.append) == 1
        assert found == [prefix + "held"]
        assert not stale.exists("held")
        assert stale.exists("live")
        zcopy.region_remove(live)
        assert zcopy.region_cleanup(prefix) == 0
    finally:
        live.close()
        sync.close()


def test_found_raises_after_the_call(stale: Stale) -> None:
    def boom(name: str) -> None:
        raise ValueError(name)

    r = zcopy.region_create(stale.prefix + "boom", 4096)
    r.close()
    with pytest.raises(ValueError) as e:
        zcopy.region_cleanup(stale.prefix, 0, boom)
    assert e.value.args == (stale.prefix + "boom",)
    assert not stale.exists("boom")


def test_bad_prefix() -> None:
    with pytest.raises(OSError) as e:
        zcopy.region_cleanup("a/b")
    assert e.value.errno == errno.EINVAL


def test_cleanup_without_found(stale: Stale) -> None:
    zcopy.region_create(stale.prefix + "quiet", 4096).close()
    assert zcopy.region_cleanup(stale.prefix) == 1
    assert not stale.exists("quiet")
