# SPDX-License-Identifier: MIT
"""zcopy.Stats and zcopy.Region mirror struct zc_stats and struct zc_region:
their sizes and every field's offset and size equal what the C compiler says
(printed by the stats-layout and region-layout helpers of the abi suite, as
"name offset size" lines), and every field has its type hint. Every ZC_
constant of zcopy.h has its mirror, of the same value."""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
from typing import Any

import pytest

import zcopy


def c_layout(env: str) -> dict[str, tuple[int, int]]:
    prog = os.environ.get(env)
    if not prog:
        pytest.skip("%s is not set: meson test passes the layout helper of the abi suite"
                    % env)
    out = subprocess.run([prog], check=True, capture_output=True, text=True).stdout
    return {name: (int(off), int(size)) for name, off, size in map(str.split, out.splitlines())}


def py_layout(struct: Any) -> dict[str, tuple[int, int]]:
    return {name: (getattr(struct, name).offset, getattr(struct, name).size)
            for name, _ in struct._fields_}


@pytest.mark.parametrize("struct,env,cname", [
    (zcopy.Stats, "ZCOPY_LAYOUT", "zc_stats"),
    (zcopy.Region, "ZCOPY_REGION_LAYOUT", "zc_region"),
], ids=["stats", "region"])
def test_matches_c(struct: Any, env: str, cname: str) -> None:
    c = c_layout(env)
    assert c.pop(cname) == (0, ctypes.sizeof(struct))
    assert py_layout(struct) == c


@pytest.mark.parametrize("struct", [zcopy.Stats, zcopy.Region], ids=["stats", "region"])
def test_every_field_has_a_hint(struct: Any) -> None:
    hints: dict[str, Any] = {}
    for cls in reversed(struct.__mro__):
        hints.update(getattr(cls, "__annotations__", {}))
    assert [name for name, _ in struct._fields_ if name not in hints] == []


def header_constants() -> dict[str, int]:
    """NAME: value of each #define ZC_NAME of zcopy.h, the version aside (the
    library tells it at run time) and expressions worked out."""
    header = os.environ.get("ZCOPY_HEADER")
    if not header:
        pytest.skip("ZCOPY_HEADER is not set: meson test passes include/zcopy.h")
    with open(header) as f:
        defines = re.findall(r"^#define ZC_(\w+)[ \t]+(.+?)\s*(?:/\*.*)?$", f.read(), re.M)
    values: dict[str, int] = {}
    for name, text in defines:
        if name.startswith("VERSION_") or name == "ALL":
            continue
        # Literals such as 0x10u or (-1), UINT64_MAX, and ORs of constants
        # defined above them.
        text = re.sub(r"\b(0x[0-9a-fA-F]+|[0-9]+)[uU]?\b", r"\1", text)
        text = text.replace("UINT64_MAX", str((1 << 64) - 1))
        text = re.sub(r"\bZC_(\w+)", lambda m: str(values[m.group(1)]), text)
        assert re.fullmatch(r"[0-9a-fx() |-]+", text), "ZC_%s: cannot read %r" % (name, text)
        values[name] = eval(text)
    return values


def test_constants_match_the_header() -> None:
    c = header_constants()
    assert {n: getattr(zcopy, n, None) for n in c} == c
    assert zcopy.ALL == ctypes.c_size_t(-1).value
