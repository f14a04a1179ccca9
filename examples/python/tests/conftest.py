# SPDX-License-Identifier: MIT
"""Fixtures of the Python tests: data, and files holding it or not."""

from __future__ import annotations

import os
import tempfile
from typing import BinaryIO, Iterator

import pytest

from helpers import file_with, pattern


@pytest.fixture
def data(request: pytest.FixtureRequest) -> bytes:
    """SIZE bytes (the test module's constant) of a pattern of its own."""
    return pattern(request.module.SIZE, request.module.__name__)


@pytest.fixture
def src(data: bytes) -> Iterator[BinaryIO]:
    """An unnamed file holding data, at its start."""
    with file_with(data) as f:
        yield f


@pytest.fixture
def dst() -> Iterator[BinaryIO]:
    """An empty unnamed file."""
    with file_with(b"") as f:
        yield f


@pytest.fixture
def path() -> Iterator[str]:
    """The name of an empty file, removed afterwards."""
    fd, name = tempfile.mkstemp(dir=os.environ.get("T_TMPDIR"))
    os.close(fd)
    yield name
    os.unlink(name)
