# SPDX-License-Identifier: MIT
"""What the calls take as a descriptor: an int, or an object with a
fileno() method."""

from __future__ import annotations

from typing import Protocol, Union


class HasFileno(Protocol):
    def fileno(self) -> int: ...


FileLike = Union[int, HasFileno]


def fileno(f: FileLike) -> int:
    if isinstance(f, int):
        return f
    if not hasattr(f, "fileno"):
        raise TypeError("expected a file descriptor or an object with a fileno() method,"
                        " not %s" % type(f).__name__)
    return f.fileno()
