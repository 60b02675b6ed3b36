#!/usr/bin/env python3
"""tests/integration/test_i386.py - a real 32-bit program (built here with
gcc -m32; skipped without multilib): mmap2 and brk decoded, --log in strace's
notation, backtraces through the vDSO (libdw unwinds i386), --verify clean."""
import os
import shutil
import tempfile
import unittest

from vmleak_common import SRC, main, run, run_json, run_vmleak, source_line, unsuppressed

SOURCE = os.path.join(SRC, "tests", "i386", "leak32.c")


def build_32bit(outdir):
    exe = os.path.join(outdir, "leak32")
    proc = run(["gcc", "-m32", "-g", "-O0", "-fno-omit-frame-pointer", "-o", exe,
                SOURCE], capture_output=True, text=True)
    return exe if proc.returncode == 0 else None


class I386(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.exe = build_32bit(cls.dir.name) if shutil.which("gcc") else None
        if not cls.exe:
            raise unittest.SkipTest("gcc -m32 cannot build (install gcc-multilib)")

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_leaks_are_found_at_their_lines(self):
        report, proc = run_json([self.exe], ["--verify"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(report["verify"]["mismatches"], [])
        sites = {s["bytes"]: s for s in unsuppressed(report)}
        self.assertEqual(len(sites), 2, list(sites))
        self.assertIn(3 * 8192, sites)
        leak = sites[3 * 8192]
        self.assertEqual(leak["count"], 3)
        self.assertEqual(leak["category"], "program")
        names = [f["function"] for f in leak["frames"]]
        self.assertIn("leak", names)
        at = next(f for f in leak["frames"] if f["function"] == "leak")
        self.assertEqual(at["line"], source_line(SOURCE, "/* LEAK */"))
        chunk = [s for b, s in sites.items() if b >= 1 << 20]
        self.assertEqual(len(chunk), 1)
        self.assertIn("malloc", [f["function"] for f in chunk[0]["frames"]])
        self.assertEqual(chunk[0]["category"], "program")

    def test_log_uses_mmap2(self):
        with tempfile.NamedTemporaryFile(mode="r", suffix=".log") as log:
            proc = run_vmleak(["-q", "-o", os.devnull, "--log", log.name, "--", self.exe])
            self.assertEqual(proc.returncode, 0, proc.stderr)
            lines = log.read().splitlines()
        leaks = [l for l in lines
                 if "mmap2(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)" in l]
        self.assertGreaterEqual(len(leaks), 3, lines[-8:])  # ld.so makes one too
        self.assertTrue(any(" brk(" in l for l in lines))


if __name__ == "__main__":
    main()
