#!/usr/bin/env python3
"""tests/integration/test_static.py - one leaking program built dynamically and
with gcc -static (glibc's libc.a, from libc6-dev; also -static-pie) must get the
same report: the same "at" function and line for each leak, the same
categories, the whole stack down to main, and nothing of the C runtime linked
into the static program reported as the program's (malloc's brk growth,
_dl_early_allocate)."""
import os
import re
import subprocess
import tempfile
import unittest

from vmleak_common import SRC, main, run_json, run_vmleak, source_line, unsuppressed

SOURCE = os.path.join(SRC, "tests", "static", "static_leak.c")
FLAGS = ["-g", "-O0", "-fno-omit-frame-pointer", "-pthread"]
AT = re.compile(r"^    at (\S+) \((?:.*/)?([^/:]+):(\d+)\)(?: calling (\S+))?$")


def build(outdir, name, extra):
    exe = os.path.join(outdir, name)
    proc = subprocess.run(["gcc", *FLAGS, *extra, "-o", exe, SOURCE], capture_output=True,
                          text=True)
    return exe if proc.returncode == 0 else None


def at_lines(exe, options=()):
    """(function, file, line, api) of every unsuppressed site of the text report."""
    with tempfile.NamedTemporaryFile(mode="r", suffix=".txt") as out:
        proc = run_vmleak(["-q", "-o", out.name, *options, "--", exe])
        text = out.read()
    if proc.returncode != 0:
        raise AssertionError(f"vmleak failed: {proc.stderr}")
    sites = []
    for line in text.splitlines():
        m = AT.match(line)
        if m:
            sites.append((m.group(1), m.group(2), int(m.group(3)), m.group(4)))
        elif line.startswith("    at "):
            sites.append((line[7:], None, 0, None))
    return sorted(sites), text


class StaticLikeDynamic(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.dyn = build(cls.dir.name, "leak_dynamic", [])
        cls.static = build(cls.dir.name, "leak_static", ["-static"])
        # a static PIE (ET_DYN without an interpreter), when the toolchain has it
        cls.static_pie = build(cls.dir.name, "leak_static_pie", ["-static-pie"])
        if not cls.dyn:
            raise unittest.SkipTest("gcc cannot build the test program")
        if not cls.static:
            raise unittest.SkipTest("gcc -static cannot link (install libc6-dev)")
        out = subprocess.run(["file", "-L", cls.static], capture_output=True, text=True)
        if out.returncode == 0 and "statically linked" not in out.stdout:
            raise unittest.SkipTest("gcc -static did not make a static program")

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def expected(self):
        return sorted([
            ("leak_big", "static_leak.c", source_line(SOURCE, "/* LEAK_MALLOC */"), "malloc"),
            ("leak_one", "static_leak.c", source_line(SOURCE, "/* LEAK_MMAP */"), None),
        ])

    def test_same_call_sites(self):
        dyn, dyn_text = at_lines(self.dyn)
        static, static_text = at_lines(self.static)
        self.assertEqual(dyn, self.expected(), dyn_text)
        self.assertEqual(static, dyn, static_text)
        if self.static_pie:
            pie, pie_text = at_lines(self.static_pie)
            self.assertEqual(pie, dyn, pie_text)

    def test_same_categories_and_full_stacks(self):
        reports = {}
        for name, exe in (("dynamic", self.dyn), ("static", self.static)):
            report, proc = run_json([exe], ["--all"])
            self.assertEqual(proc.returncode, 0, proc.stderr)
            reports[name] = report
        cats = {name: sorted({s["category"] for s in r["sites"]}) for name, r in reports.items()}
        self.assertEqual(cats["static"], cats["dynamic"])
        self.assertIn("thread-stack", cats["static"])
        self.assertIn("malloc-heap", cats["static"])
        for name, report in reports.items():
            leaks = unsuppressed(report)
            self.assertEqual(sorted(s["bytes"] for s in leaks), [65536, (1 << 20) + 4096],
                             name)
            for s in leaks:
                self.assertEqual(s["category"], "program", name)
                names = [f["function"] for f in s["frames"]]
                want = "leak_one" if s["bytes"] == 65536 else "leak_big"
                self.assertIn(want, names, f"{name}: {names}")
                self.assertIn("main", names[names.index(want):], f"{name}: {names}")
            # malloc's brk growth is the heap's, never a program leak
            for s in report["sites"]:
                if s["syscall"] == "brk":
                    self.assertTrue(s["suppressed"], f"{name}: {s}")
                    self.assertIn(s["category"], ("malloc-heap", "loader"), name)

    def test_runtime_internals_not_unsuppressed(self):
        """No unsuppressed site is a C runtime function of the static program."""
        static, text = at_lines(self.static)
        for fn, _, _, _ in static:
            self.assertIn(fn, ("leak_one", "leak_big"), text)
        self.assertNotIn("_dl_early_allocate", text)


if __name__ == "__main__":
    main()
