# SPDX-License-Identifier: MIT
"""What the Python tests share: data, files holding it, socket ends fed or
drained by a thread, and a child interpreter for code that might crash."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
from typing import BinaryIO, cast


def pattern(size: int, seed: int | str) -> bytes:
    return random.Random(seed).randbytes(size)


def file_with(data: bytes) -> BinaryIO:
    """An unnamed file holding data, positioned at its start."""
    f = tempfile.TemporaryFile(dir=os.environ.get("T_TMPDIR"))
    f.write(data)
    f.flush()
    f.seek(0)
    return cast(BinaryIO, f)


def read_all(f: BinaryIO) -> bytes:
    f.seek(0)
    return f.read()


def contents(fd: int) -> bytes:
    """All of a descriptor's file, read without moving its offset."""
    return os.pread(fd, os.fstat(fd).st_size, 0)


class Feeder(threading.Thread):
    """Writes data into a socket, then closes it: the EOF ends the transfer."""

    def __init__(self, sock: socket.socket, data: bytes):
        super().__init__()
        self.sock, self.data = sock, data

    def run(self) -> None:
        with self.sock:
            self.sock.sendall(self.data)


class Drainer(threading.Thread):
    """Reads a socket until EOF into self.got."""

    def __init__(self, sock: socket.socket):
        super().__init__()
        self.sock, self.got = sock, bytearray()

    def run(self) -> None:
        with self.sock:
            while chunk := self.sock.recv(65536):
                self.got += chunk


def run_child(code: str) -> subprocess.CompletedProcess[str]:
    """Run code in a new interpreter that imports the same zcopy (same
    environment); a crash shows as a negative return code."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
