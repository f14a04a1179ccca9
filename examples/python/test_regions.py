# SPDX-License-Identifier: MIT
"""The region calls through the ctypes binding."""

import errno
import os
import socket
import unittest

import zcopy


class RegionTest(unittest.TestCase):
    def name(self, tag):
        return "zc-py-%d-%s" % (os.getpid(), tag)

    def test_posix_roundtrip_and_mode(self):
        for umask in (0o077, 0o000):
            name = self.name("posix%o" % umask)
            old = os.umask(umask)
            try:
                r = zcopy.region_create(name, 8192)
            finally:
                os.umask(old)
            try:
                self.assertEqual(os.stat("/dev/shm/" + name).st_mode & 0o7777, 0o600)
                data = bytes(range(256)) * 32
                r.view()[:] = data
                with zcopy.region_open(name) as r2:
                    self.assertEqual(r2.size, 8192)
                    self.assertEqual(bytes(r2.view()), data)
            finally:
                r.close()
                zcopy.region_unlink(name)
            self.assertFalse(os.path.exists("/dev/shm/" + name))

    def test_memfd_sealed_resize_fails(self):
        with zcopy.region_memfd("py", 4096) as r:
            zcopy.region_seal(r, zcopy.SEAL_HANDOUT)
            with self.assertRaises(OSError) as cm:
                zcopy.region_resize(r, 8192)
            self.assertEqual(cm.exception.errno, errno.EPERM)

    def test_send_recv(self):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with a, b:
            with zcopy.region_memfd("py", 4096) as r:
                data = os.urandom(4096)
                r.view()[:] = data
                zcopy.region_send(a, r)
                with zcopy.region_recv(b) as r2:
                    self.assertEqual(bytes(r2.view()), data)

    def test_transfer_slice(self):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with a, b:
            with zcopy.region_memfd("py", 16384) as r:
                data = os.urandom(16384)
                r.view()[:] = data
                n, _, stats = zcopy.region_transfer(r, 1000, 5000, a)
                self.assertEqual(n, 5000)
                got = b""
                while len(got) < n:
                    got += b.recv(n - len(got))
                self.assertEqual(got, data[1000:6000])
                self.assertEqual(stats.bytes, 5000)
                # A memfd region goes out through its fd: under 1 MiB from a
                # file-like source into a socket, that is sendfile (zcopy(7)).
                self.assertEqual(zcopy.path_name(stats.path), "sendfile")


if __name__ == "__main__":
    unittest.main()
