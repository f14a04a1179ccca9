# SPDX-License-Identifier: MIT
"""The package as installed and imported: what it exports, the version it
carries, the type hints it ships, and how it finds libzcopy."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import types

import pytest

import zcopy

SOURCE = pathlib.Path(__file__).resolve().parent.parent


def test_all_is_what_the_package_offers() -> None:
    missing = [n for n in zcopy.__all__ if not hasattr(zcopy, n)]
    assert missing == []
    assert len(set(zcopy.__all__)) == len(zcopy.__all__)
    public = [n for n, v in vars(zcopy).items() if not n.startswith("_") and
              (isinstance(v, int) or getattr(v, "__module__", "").startswith("zcopy"))]
    assert sorted(set(public) - set(zcopy.__all__)) == []
    for n in ("region_create", "Region", "transfer", "ALL", "REGION_RDONLY", "SEAL_HANDOUT",
              "PATH_VMSPLICE", "FD_DIR", "LOCK_INIT", "CLEANUP_LIST_ONLY", "Stats"):
        assert n in zcopy.__all__


def test_ships_type_hints() -> None:
    assert (pathlib.Path(zcopy.__file__).parent / "py.typed").is_file()


def test_one_version() -> None:
    want = os.environ.get("ZCOPY_VERSION")
    if not want:
        pytest.skip("ZCOPY_VERSION is not set: meson test passes meson.project_version()")
    assert zcopy.version() == want
    if sys.version_info >= (3, 11):
        import tomllib
        with open(SOURCE / "pyproject.toml", "rb") as f:
            assert tomllib.load(f)["project"]["version"] == want
    else:
        pytest.skip("reading pyproject.toml needs tomllib (Python 3.11)")


def child(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = ("import zcopy, os\n"
            "maps = open('/proc/self/maps').read().split()\n"
            "print(zcopy._lib.library._name)\n"
            "print(next(p for p in maps if os.path.basename(p).startswith('libzcopy.so')))\n")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)


def build_library() -> str:
    path = os.environ.get(zcopy.LIBRARY_ENV)
    if not path:
        pytest.skip("%s is not set: the tests run against the library of a build"
                    % zcopy.LIBRARY_ENV)
    return os.path.realpath(path)


def without(*names: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in names}


def test_found_by_soname() -> None:
    lib = build_library()
    env = without(zcopy.LIBRARY_ENV)
    env["LD_LIBRARY_PATH"] = os.path.dirname(lib)
    p = child(env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [zcopy.SONAME, lib]


def test_override_that_does_not_load() -> None:
    env = without(zcopy.LIBRARY_ENV)
    env[zcopy.LIBRARY_ENV] = "/nonexistent/libzcopy.so.1"
    p = child(env)
    assert p.returncode == 1
    assert "ImportError: zcopy: cannot load ZCOPY_LIB=/nonexistent/libzcopy.so.1" in p.stderr


def test_not_installed_says_how() -> None:
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    p = child(without(zcopy.LIBRARY_ENV, "LD_LIBRARY_PATH"))
    if zcopy.SONAME in out:
        # Installed on this machine: the soname finds that copy.
        assert p.returncode == 0, p.stderr
        assert p.stdout.split()[0] == zcopy.SONAME
    else:
        assert p.returncode == 1
        assert "ImportError: zcopy: cannot load %s" % zcopy.SONAME in p.stderr
        assert "LD_LIBRARY_PATH" in p.stderr


def test_modules_stay_private() -> None:
    # The package's own modules are not part of what it offers.
    assert all(not isinstance(getattr(zcopy, n), types.ModuleType) for n in zcopy.__all__)
