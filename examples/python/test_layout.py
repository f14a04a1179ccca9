# SPDX-License-Identifier: MIT
"""zcopy.Stats mirrors struct zc_stats: its size and every field's offset
and size equal what the C compiler says (printed by the stats-layout
helper of the abi suite, as "name offset size" lines)."""

import ctypes
import os
import subprocess
import sys
import unittest

import zcopy


class TestLayout(unittest.TestCase):
    def test_matches_c(self):
        out = subprocess.run([os.environ["ZCOPY_LAYOUT"]], check=True, capture_output=True,
                             text=True).stdout
        c = {name: (int(off), int(size)) for name, off, size in map(str.split, out.splitlines())}
        self.assertEqual(c.pop("zc_stats"), (0, ctypes.sizeof(zcopy.Stats)))
        py = {name: (getattr(zcopy.Stats, name).offset, getattr(zcopy.Stats, name).size)
              for name, _ in zcopy.Stats._fields_}
        self.assertEqual(py, c)

    def test_region_matches_c(self):
        out = subprocess.run([os.environ["ZCOPY_REGION_LAYOUT"]], check=True,
                             capture_output=True, text=True).stdout
        c = {name: (int(off), int(size)) for name, off, size in map(str.split, out.splitlines())}
        self.assertEqual(c.pop("zc_region"), (0, ctypes.sizeof(zcopy.Region)))
        py = {name: (getattr(zcopy.Region, name).offset, getattr(zcopy.Region, name).size)
              for name, _ in zcopy.Region._fields_}
        self.assertEqual(py, c)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
