# SPDX-License-Identifier: MIT
"""A signal that interrupts a transfer waiting for input: when its handler
returns, the call goes on (PEP 475, as os.read and os.sendfile do); when the
handler raises, that exception ends the call."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from types import FrameType
from typing import Callable, Iterator, Optional

import pytest

import zcopy
from helpers import contents, file_with, pattern

# Less than a pipe holds, so that the writer never waits for a reader.
DATA = pattern(60001, 7)


class Stop(Exception):
    pass


def in_the_call(frame: Optional[FrameType]) -> bool:
    """Whether a handler runs because the signal interrupted the C call: the
    interpreter then runs it in the binding's code that got EINTR back."""
    return frame is not None and frame.f_code.co_filename == zcopy._lib.__file__


class Interrupter:
    """Sends SIGUSR1 to the main thread every 50 ms until one found it
    inside the transfer (or 30 s passed), then calls then()."""

    def __init__(self, then: Callable[[], object], raising: bool = False):
        self.then, self.raising = then, raising
        self.interrupted = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def handler(self, signum: int, frame: Optional[FrameType]) -> None:
        if in_the_call(frame):
            self.interrupted.set()
            if self.raising:
                raise Stop

    def run(self) -> None:
        main = threading.main_thread().ident
        assert main is not None
        deadline = time.monotonic() + 30
        while not self.interrupted.is_set() and time.monotonic() < deadline:
            signal.pthread_kill(main, signal.SIGUSR1)
            time.sleep(0.05)
        self.then()


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


@contextlib.contextmanager
def interrupting(i: Interrupter) -> Iterator[Interrupter]:
    old = signal.signal(signal.SIGUSR1, i.handler)
    i.thread.start()
    try:
        yield i
    finally:
        i.interrupted.set()  # also stops it when the test failed early
        i.thread.join()
        signal.signal(signal.SIGUSR1, old)


def test_handler_returns_call_goes_on(pipe: tuple[int, int]) -> None:
    r, w = pipe

    def write() -> None:
        os.write(w, DATA)
        os.close(w)

    with interrupting(Interrupter(write)) as i:
        with file_with(b"") as dst:
            n = zcopy.transfer(r, dst)
            assert i.interrupted.is_set()
            assert n == len(DATA)
            assert contents(dst.fileno()) == DATA


def test_handler_raises_call_ends(pipe: tuple[int, int]) -> None:
    r, w = pipe
    with interrupting(Interrupter(lambda: None, raising=True)) as i:
        with file_with(b"") as dst:
            with pytest.raises(Stop):
                zcopy.transfer(r, dst)
            assert i.interrupted.is_set()
            assert contents(dst.fileno()) == b""
