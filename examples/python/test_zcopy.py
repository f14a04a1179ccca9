# SPDX-License-Identifier: MIT
"""The ctypes binding against the library: a file and a socket pair go
through it byte for byte, and the stats name the path the kernel's rules
require (zcopy(7))."""

import errno
import os
import random
import socket
import tempfile
import threading
import unittest

import zcopy

ALL_OFF = zcopy.NO_COPY_FILE_RANGE | zcopy.NO_SPLICE | zcopy.NO_SENDFILE | zcopy.NO_MMAP
SIZE = (1 << 20) + 13


def pattern(size, seed):
    return random.Random(seed).randbytes(size)


def file_with(data):
    f = tempfile.TemporaryFile(dir=os.environ.get("T_TMPDIR"))
    f.write(data)
    f.flush()
    f.seek(0)
    return f


def read_all(f):
    f.seek(0)
    return f.read()


class Feeder(threading.Thread):
    """Writes data into a socket, then closes it: the EOF ends the transfer."""

    def __init__(self, sock, data):
        super().__init__()
        self.sock, self.data = sock, data

    def run(self):
        with self.sock:
            self.sock.sendall(self.data)


class Drainer(threading.Thread):
    """Reads a socket until EOF into self.got."""

    def __init__(self, sock):
        super().__init__()
        self.sock, self.got = sock, bytearray()

    def run(self):
        with self.sock:
            while chunk := self.sock.recv(65536):
                self.got += chunk


class TestNames(unittest.TestCase):
    def test_version(self):
        self.assertRegex(zcopy.version(), r"^\d+\.\d+\.\d+$")

    def test_names(self):
        self.assertEqual(zcopy.path_name(zcopy.PATH_SPLICE), "splice")
        self.assertEqual(zcopy.path_name(zcopy.PATH_NONE), "none")
        self.assertIsNone(zcopy.path_name(1000))
        self.assertEqual(zcopy.fd_type_name(zcopy.FD_SOCKET), "socket")


class TestFile(unittest.TestCase):
    def setUp(self):
        self.data = pattern(SIZE, 1)
        self.src = file_with(self.data)
        self.dst = file_with(b"")
        self.addCleanup(self.src.close)
        self.addCleanup(self.dst.close)

    def test_file_to_file(self):
        n, st = zcopy.transfer_ex(self.src, self.dst)
        self.assertEqual(n, SIZE)
        self.assertEqual(st.bytes, SIZE)
        self.assertEqual(read_all(self.dst), self.data)
        # Two files on one filesystem: copy_file_range moves them.
        self.assertEqual(zcopy.path_name(st.path), "copy_file_range")
        self.assertEqual(st.used_paths(), ["copy_file_range"])
        self.assertEqual((st.src_type, st.dst_type), (zcopy.FD_FILE, zcopy.FD_FILE))
        self.assertEqual(st.error, 0)

    def test_flags_leave_read_write(self):
        n, st = zcopy.transfer_ex(self.src.fileno(), self.dst.fileno(), flags=ALL_OFF)
        self.assertEqual(n, SIZE)
        self.assertEqual(read_all(self.dst), self.data)
        self.assertEqual(st.path, zcopy.PATH_READ_WRITE)

    def test_plain_transfer_in_pieces(self):
        self.assertEqual(zcopy.transfer(self.src, self.dst, 4096), 4096)
        self.assertEqual(zcopy.transfer(self.src, self.dst), SIZE - 4096)
        self.assertEqual(zcopy.transfer(self.src, self.dst), 0)
        self.assertEqual(read_all(self.dst), self.data)

    def test_transfer_at_leaves_fd_offsets(self):
        n, src_off, dst_off, st = zcopy.transfer_at(self.src, 100, self.dst, 7, 5000)
        self.assertEqual((n, src_off, dst_off), (5000, 5100, 5007))
        self.assertEqual(os.lseek(self.src.fileno(), 0, os.SEEK_CUR), 0)
        self.assertEqual(os.lseek(self.dst.fileno(), 0, os.SEEK_CUR), 0)
        self.assertEqual(read_all(self.dst), bytes(7) + self.data[100:5100])
        self.assertEqual(st.bytes, 5000)


class TestSocketPair(unittest.TestCase):
    def setUp(self):
        self.data = pattern(SIZE, 2)
        self.a, self.b = socket.socketpair()

    def test_socket_to_file(self):
        feeder = Feeder(self.b, self.data)
        feeder.start()
        with self.a, file_with(b"") as dst:
            n, st = zcopy.transfer_ex(self.a, dst)
            feeder.join()
            self.assertEqual(n, SIZE)
            self.assertEqual(read_all(dst), self.data)
        # A socket source is spliced, through the library's pipe.
        self.assertEqual(zcopy.path_name(st.path), "splice")
        self.assertEqual((st.src_type, st.dst_type), (zcopy.FD_SOCKET, zcopy.FD_FILE))

    def test_file_to_socket(self):
        drainer = Drainer(self.b)
        drainer.start()
        with file_with(self.data) as src:
            with self.a:
                n, st = zcopy.transfer_ex(src, self.a)
            drainer.join()
        self.assertEqual(n, SIZE)
        self.assertEqual(bytes(drainer.got), self.data)
        # A file into a socket: sendfile at every size (zcopy(7)).
        self.assertEqual(zcopy.path_name(st.path), "sendfile")
        self.assertEqual(st.fallbacks(), [])


class TestErrors(unittest.TestCase):
    def test_bad_fd(self):
        r, w = os.pipe()
        os.close(r)
        os.close(w)
        with self.assertRaises(OSError) as cm:
            zcopy.transfer(r, w)
        self.assertEqual(cm.exception.errno, errno.EBADF)

    def test_offset_on_pipe(self):
        r, w = os.pipe()
        try:
            with self.assertRaises(OSError) as cm:
                zcopy.transfer_at(r, 0, w, None, 1)
            self.assertEqual(cm.exception.errno, errno.ESPIPE)
        finally:
            os.close(r)
            os.close(w)

    def test_directory(self):
        fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
        try:
            with self.assertRaises(IsADirectoryError):
                zcopy.transfer_ex(fd, 1)
        finally:
            os.close(fd)


if __name__ == "__main__":
    unittest.main()
