# SPDX-License-Identifier: MIT
"""Region locks and stale-region cleanup through the ctypes binding, between
this process and children forked from it that share the region's mapping."""

import errno
import glob
import os
import signal
import sys
import traceback
import unittest

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

    def start_children(self):
        self.pids = []
        self.addCleanup(self.kill_children)

    def fork(self, body):
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

    def reap(self, pid):
        _, status = os.waitpid(pid, 0)
        self.pids.remove(pid)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)

    def kill_children(self):
        for pid in self.pids:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


class LockTest(Children, unittest.TestCase):
    def setUp(self):
        self.region = zcopy.region_memfd("py-locks", 4096)
        self.addCleanup(self.region.close)
        self.start_children()
        self.mutex = zcopy.region_mutex(self.region, MUTEX_OFF, zcopy.LOCK_INIT)
        self.sem = zcopy.region_sem(self.region, SEM_OFF, 0, zcopy.LOCK_INIT)
        self.sem2 = zcopy.region_sem(self.region, SEM2_OFF, 0, zcopy.LOCK_INIT)

    def data(self, n):
        return self.region.view()[DATA_OFF:DATA_OFF + n]

    def assertErrno(self, code, call, *args):
        with self.assertRaises(OSError) as cm:
            call(*args)
        self.assertEqual(cm.exception.errno, code)

    def test_post_after_write(self):
        payload = os.urandom(2048)

        def child():
            # A fresh lookup, as a process that did not initialise would do.
            sem = zcopy.region_sem(self.region, SEM_OFF)
            self.data(len(payload))[:] = payload
            sem.post()

        pid = self.fork(child)
        self.sem.wait()
        self.assertEqual(bytes(self.data(len(payload))), payload)
        self.reap(pid)
        self.assertErrno(errno.EAGAIN, self.sem.trywait)

    def test_timedwait(self):
        self.assertErrno(errno.ETIMEDOUT, self.sem.timedwait, 20 * 10**6)
        pid = self.fork(self.sem.post)
        self.sem.timedwait(PATIENCE_NS)
        self.reap(pid)
        self.assertErrno(errno.EAGAIN, self.sem.trywait)

    def test_trylock_busy_in_both_directions(self):
        self.mutex.lock()

        def child_sees_busy():
            m = zcopy.region_mutex(self.region, MUTEX_OFF)
            with self.assertRaises(OSError) as cm:
                m.trylock()
            self.assertEqual(cm.exception.errno, errno.EBUSY)

        self.reap(self.fork(child_sees_busy))
        self.mutex.unlock()

        def child_holds():
            self.mutex.lock()
            self.data(4)[:] = b"held"
            self.sem.post()
            self.sem2.timedwait(PATIENCE_NS)
            self.data(4)[:] = b"done"
            self.mutex.unlock()

        pid = self.fork(child_holds)
        self.sem.timedwait(PATIENCE_NS)
        self.assertErrno(errno.EBUSY, self.mutex.trylock)
        self.assertEqual(bytes(self.data(4)), b"held")
        self.sem2.post()
        self.reap(pid)
        self.mutex.trylock()
        self.assertEqual(bytes(self.data(4)), b"done")
        self.assertErrno(errno.EDEADLK, self.mutex.lock)
        self.mutex.unlock()
        self.assertErrno(errno.EPERM, self.mutex.unlock)

    def die_holding(self):
        def child():
            self.mutex.lock()
            self.data(4)[:] = b"half"
            os._exit(0)

        self.reap(self.fork(child))

    def test_owner_dead(self):
        self.die_holding()
        self.assertErrno(errno.EOWNERDEAD, self.mutex.lock)
        # The failed lock left it held by us: repair the data, then say so.
        self.assertErrno(errno.EDEADLK, self.mutex.lock)
        self.assertEqual(bytes(self.data(4)), b"half")
        self.data(4)[:] = b"good"
        self.mutex.consistent()
        self.mutex.unlock()
        self.mutex.lock()
        self.mutex.unlock()
        self.reap(self.fork(lambda: (self.mutex.lock(), self.mutex.unlock())))
        self.assertErrno(errno.EINVAL, self.mutex.consistent)

    def test_owner_dead_unrepaired(self):
        self.die_holding()
        self.assertErrno(errno.EOWNERDEAD, self.mutex.trylock)
        self.mutex.unlock()
        self.assertErrno(errno.ENOTRECOVERABLE, self.mutex.lock)
        self.assertErrno(errno.ENOTRECOVERABLE, self.mutex.trylock)

    def test_bad_places(self):
        self.assertErrno(errno.EINVAL, zcopy.region_mutex, self.region, 4)
        self.assertErrno(errno.EINVAL, zcopy.region_sem, self.region,
                         4096 - zcopy.SEM_SIZE + 8)
        self.assertErrno(errno.EINVAL, zcopy.region_mutex, self.region, 0, 0x2)
        with zcopy.Region() as empty:
            self.assertErrno(errno.EINVAL, zcopy.region_sem, empty, 0)


class CleanupTest(Children, unittest.TestCase):
    def setUp(self):
        self.prefix = "zc-py-%d-stale-" % os.getpid()
        self.addCleanup(self.no_leftovers)
        self.start_children()

    def no_leftovers(self):
        left = glob.glob("/dev/shm/" + self.prefix + "*")
        for path in left:
            os.unlink(path)
        self.assertEqual(left, [])

    def exists(self, tag):
        return os.path.exists("/dev/shm/" + self.prefix + tag)

    def test_removes_only_stale(self):
        sync = zcopy.region_memfd("py-cleanup", 4096)
        self.addCleanup(sync.close)
        created = zcopy.region_sem(sync, 0, 0, zcopy.LOCK_INIT)
        release = zcopy.region_sem(sync, zcopy.SEM_SIZE, 0, zcopy.LOCK_INIT)

        def creator(tag, wait):
            def body():
                r = zcopy.region_create(self.prefix + tag, 4096)
                r.view()[:5] = b"alive"
                created.post()
                if wait:
                    release.timedwait(PATIENCE_NS)
                # Exits holding r: the kernel, not close(), lets go of it.
            pid = self.fork(body)
            created.timedwait(PATIENCE_NS)
            return pid

        self.reap(creator("dead", False))
        held_pid = creator("held", True)
        live = zcopy.region_create(self.prefix + "live", 4096)
        self.addCleanup(live.close)
        # Regions are marked with a user xattr; tmpfs keeps those only since
        # Linux 6.6, and without the mark no region can be found stale.
        self.assertEqual(os.getxattr("/dev/shm/" + self.prefix + "dead",
                                     "user.zcopy.region"), b"1")

        found = []
        self.assertEqual(zcopy.region_cleanup(self.prefix, zcopy.CLEANUP_LIST_ONLY,
                                              found.append), 1)
        self.assertEqual(found, [self.prefix + "dead"])
        self.assertTrue(self.exists("dead"))
        with zcopy.region_open(self.prefix + "dead") as r:
            self.assertEqual(bytes(r.view()[:5]), b"alive")
            self.assertEqual(zcopy.region_cleanup(self.prefix), 0)

        found = []
        self.assertEqual(zcopy.region_cleanup(self.prefix, 0, found.append), 1)
        self.assertEqual(found, [self.prefix + "dead"])
        self.assertFalse(self.exists("dead"))
        self.assertTrue(self.exists("held") and self.exists("live"))
        with self.assertRaises(OSError) as cm:
            zcopy.region_open(self.prefix + "dead")
        self.assertEqual(cm.exception.errno, errno.ENOENT)

        # Once its holder is gone, the child's region is stale too.
        release.post()
        self.reap(held_pid)
        found = []
        self.assertEqual(zcopy.region_cleanup(self.prefix, 0, found.append), 1)
        self.assertEqual(found, [self.prefix + "held"])
        self.assertFalse(self.exists("held"))
        self.assertTrue(self.exists("live"))
        zcopy.region_remove(live)
        self.assertEqual(zcopy.region_cleanup(self.prefix), 0)

    def test_found_raises_after_the_call(self):
        def boom(name):
            raise ValueError(name)

        r = zcopy.region_create(self.prefix + "boom", 4096)
        r.close()
        with self.assertRaises(ValueError) as cm:
            zcopy.region_cleanup(self.prefix, 0, boom)
        self.assertEqual(cm.exception.args, (self.prefix + "boom",))
        self.assertFalse(self.exists("boom"))

    def test_bad_prefix(self):
        with self.assertRaises(OSError) as cm:
            zcopy.region_cleanup("a/b")
        self.assertEqual(cm.exception.errno, errno.EINVAL)


if __name__ == "__main__":
    unittest.main()
