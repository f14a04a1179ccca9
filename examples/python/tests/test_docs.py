# SPDX-License-Identifier: MIT
"""The examples of the README and of zcopy-python(7) run and do what the
text around them says: the header written from Python comes first, then
every byte of the input."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import tempfile
from typing import Callable

import pytest

from helpers import pattern

ROOT = pathlib.Path(__file__).resolve().parents[3]


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("\n## Python\n"):]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def man_example() -> str:
    text = (ROOT / "man" / "zcopy-python.7").read_text()
    section = text[text.index("\n.SH EXAMPLES\n"):]
    code = section.split("\n.EX\n", 1)[1].split("\n.EE\n", 1)[0]
    # The roff escapes the page uses, back to the characters they print.
    for roff, char in (("\\e", "\\"), ("\\-", "-"), ("\\(aq", "'"), ("\\&", "")):
        code = code.replace(roff, char)
    return code


@pytest.mark.parametrize("example", [readme_example, man_example], ids=["readme", "man"])
def test_example(example: Callable[[], str]) -> None:
    if not (ROOT / "README.md").is_file():
        pytest.skip("not in a source tree: no README.md at %s" % ROOT)
    code = example()
    data = pattern(100019, 11)
    with tempfile.TemporaryDirectory(dir=os.environ.get("T_TMPDIR")) as d:
        src, dst = os.path.join(d, "in"), os.path.join(d, "out")
        with open(src, "wb") as f:
            f.write(data)
        p = subprocess.run([sys.executable, "-c", code, src, dst], capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        with open(dst, "rb") as f:
            assert f.read() == b"copy of " + src.encode() + b"\n" + data
    assert re.fullmatch(r"100019 bytes by [a-z_]+\n", p.stderr)
