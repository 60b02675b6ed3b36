#!/usr/bin/env python3
"""tests/integration/test_diff.py - vmleak --diff OLD.json NEW.json on real
reports: two runs of one program with different leak counts name the site and
the byte difference; two builds of one source whose addresses differ (PIE and
-no-pie with padding code in front, so every module offset moves while
function, file and line stay) still match; an --interval file is read at its
last report; malformed, wrong-version and missing files are one line, exit 1."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from vmleak_common import SRC, example, main, run_json, run_vmleak, source_line, unsuppressed

STACK = 40960


class Diff(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def report(self, name, argv, options=()):
        rep, proc = run_json(argv, options)
        with open(self.path(name), "w") as f:
            json.dump(rep, f)
        return rep

    def diff(self, *args):
        return run_vmleak(["--diff", *args])

    def test_leak_counts_named_with_byte_difference(self):
        prog = example("clone_stack_leak")
        self.report("old.json", [prog, "3"])
        self.report("new.json", [prog, "7"])
        p = self.diff(self.path("old.json"), self.path("new.json"))
        self.assertEqual(p.returncode, 0, p.stderr)
        line = source_line(os.path.join(SRC, "examples", "clone_stack_leak.c"), "LEAK:")
        self.assertIn("1 site grew, 0 shrank, 0 appeared, 0 disappeared", p.stdout)
        self.assertIn("#1  +160.0 KiB  grew  120.0 KiB in 3 regions -> 280.0 KiB in 7 regions"
                      "  mmap anon rw- MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK", p.stdout)
        self.assertIn(f"    at main (", p.stdout)
        self.assertIn(f"clone_stack_leak.c:{line})", p.stdout)
        j = self.diff(self.path("old.json"), self.path("new.json"), "-j")
        self.assertEqual(j.returncode, 0, j.stderr)
        d = json.loads(j.stdout)
        self.assertEqual(d["delta_bytes"], 4 * STACK)
        self.assertEqual(d["counts"]["grew"], 1)
        [c] = d["changes"]
        self.assertEqual((c["change"], c["delta_bytes"], c["old_count"], c["new_count"]),
                         ("grew", 4 * STACK, 3, 7))
        at = c["frames"][c["callsite"]]
        self.assertEqual((at["function"], os.path.basename(at["file"]), at["line"]),
                         ("main", "clone_stack_leak.c", line))
        # and the other way round it shrank
        back = json.loads(self.diff(self.path("new.json"), self.path("old.json"), "-j").stdout)
        self.assertEqual([(c["change"], c["delta_bytes"]) for c in back["changes"]],
                         [("shrank", -4 * STACK)])

    def build(self, name, *cflags):
        cc = shutil.which("gcc") or shutil.which("cc")
        if not cc:
            self.skipTest("no C compiler")
        out = self.path(name)
        src = os.path.join(SRC, "examples", "clone_stack_leak.c")
        subprocess.run([cc, "-g", "-O1", "-fno-omit-frame-pointer", "-D_GNU_SOURCE",
                        f"-I{os.path.join(SRC, 'examples')}", *cflags, "-o", out, src],
                       check=True)
        return out

    def test_builds_with_moved_addresses_match(self):
        pad = self.path("pad.h")
        with open(pad, "w") as f:
            # code in front of main: every offset of main moves, its lines do not
            f.write("int vmleak_pad(int x);\n"
                    "int vmleak_pad(int x) { volatile int a[64]; for (int i = 0; i < 64; i++)"
                    " a[i] = x * i + i / 3; return a[x & 63] + a[(x + 7) & 63]; }\n")
        old = self.report("old.json", [self.build("leak_nopie", "-no-pie", "-fno-pie"), "3"])
        new = self.report("new.json", [self.build("leak_pie", "-fpie", "-pie",
                                                  "-include", pad), "5"])
        off = lambda rep: [fr["module_offset"] for s in unsuppressed(rep) for fr in s["frames"]
                           if fr["function"] == "main"]
        self.assertTrue(off(old) and off(new))
        self.assertNotEqual(off(old), off(new), "the builds should place main differently")
        d = json.loads(self.diff(self.path("old.json"), self.path("new.json"), "-j").stdout)
        self.assertEqual(d["counts"]["appeared"], 0, d)
        self.assertEqual(d["counts"]["disappeared"], 0, d)
        self.assertEqual([(c["change"], c["delta_bytes"]) for c in d["changes"]],
                         [("grew", 2 * STACK)])

    def test_interval_file_uses_last_report(self):
        prog = example("clone_stack_leak")
        self.report("old.json", [prog, "2"])
        out = self.path("interval.json")
        r = run_vmleak(["-q", "-j", "--interval", "0.05", "-o", out, "--", prog, "6", "--slow"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            lines = [l for l in f.read().splitlines() if l.strip()]
        self.assertGreater(len(lines), 1, "--interval should write interim reports")
        p = self.diff(self.path("old.json"), out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"the last of {len(lines)} reports in the file", p.stdout)
        self.assertIn("+160.0 KiB  grew  80.0 KiB in 2 regions -> 240.0 KiB in 6 regions",
                      p.stdout)

    def assert_one_line_error(self, bad, expect):
        good = self.path("good.json")
        self.report("good.json", [example("clone_stack_leak"), "1"])
        for args in ([good, bad], [bad, good]):
            p = self.diff(*args)
            self.assertEqual(p.returncode, 1, p)
            self.assertEqual(p.stdout, "")
            lines = p.stderr.splitlines()
            self.assertEqual(len(lines), 1, p.stderr)
            self.assertTrue(lines[0].startswith(f"vmleak: --diff: {bad}: "), lines[0])
            self.assertIn(expect, lines[0])

    def test_errors_one_line_exit_1(self):
        cases = {"trunc.json": ('{"vmleak": 1, "sites": [{"bytes": 1', "not JSON"),
                 "v2.json": ('{"vmleak": 2, "sites": []}\n', "schema version 2"),
                 "other.json": ('{"name": "x"}\n', "not a vmleak JSON report"),
                 "empty.json": ("", "empty file"),
                 "binary.json": ("\x00\x01\x02garbage", "not JSON")}
        for name, (text, expect) in cases.items():
            with self.subTest(name):
                with open(self.path(name), "w") as f:
                    f.write(text)
                self.assert_one_line_error(self.path(name), expect)
        with self.subTest("missing"):
            self.assert_one_line_error(self.path("missing.json"), "No such file or directory")
        with self.subTest("directory"):
            self.assert_one_line_error(self.dir.name, "Is a directory")

    def test_json_shape_is_the_documented_one(self):
        """docs/interface.md's --diff JSON example has exactly the keys vmleak writes."""
        prog = example("clone_stack_leak")
        self.report("old.json", [prog, "3"])
        self.report("new.json", [prog, "7"])
        ours = json.loads(self.diff(self.path("old.json"), self.path("new.json"), "-j").stdout)
        with open(os.path.join(SRC, "docs", "interface.md")) as f:
            section = f.read().split("\n## Comparing two reports", 1)[1]
        doc = json.loads(section.split("```json\n", 1)[1].split("\n```", 1)[0])

        def levels(d):
            change = d["changes"][0]
            return {"top": set(d), "old": set(d["old"]), "new": set(d["new"]),
                    "counts": set(d["counts"]), "change": set(change),
                    "frame": set(change["frames"][0])}
        for level, keys in levels(ours).items():
            with self.subTest(level=level):
                self.assertEqual(sorted(keys), sorted(levels(doc)[level]))

    def test_usage_errors(self):
        for args in (["--diff", "a.json"], ["--diff", "a.json", "b.json", "c.json"],
                     ["--diff", "a.json", "b.json", "--log", "x"],
                     ["-p", "1", "--diff", "a.json", "b.json"],
                     ["--format", "folded", "--diff", "a.json", "b.json"]):
            with self.subTest(args=args):
                p = run_vmleak(args)
                self.assertEqual(p.returncode, 1)
                self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
                self.assertTrue(p.stderr.startswith("vmleak: "), p.stderr)


if __name__ == "__main__":
    main()
