#!/usr/bin/env python3
"""tests/integration/test_symbolize.py - offline symbolization (issue 14): a JSON report
of a stripped program, taken where no debug info is, is resolved later with
`vmleak --symbolize REPORT.json` from the debug file (--debug-dir, build-id
layout), also when the program is gone or another build sits at its path;
input that is not a vmleak report is a one-line error with exit status 1 and
leaves -o untouched."""
import json
import os
import shutil
import tempfile
import unittest

from vmleak_common import (SRC, VMLEAK, build_id_path, main, module_frames, prog, run,
                           run_json, run_vmleak, source_line, split_debug)

SOURCE = os.path.join(SRC, "tests", "progs", "bt_two_sites.c")


class Symbolize(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="vmleak-sym-")
        prod = os.path.join(cls.tmp.name, "production")
        os.makedirs(prod)
        # "production": the stripped program runs where its debug file is not
        cls.exe, debug, cls.bid = split_debug(prog("bt_two_sites"), prod)
        cls.debug_root = os.path.join(cls.tmp.name, "symbols")
        os.makedirs(os.path.dirname(build_id_path(cls.debug_root, cls.bid)))
        shutil.move(debug, build_id_path(cls.debug_root, cls.bid))
        cls.report, proc = run_json([cls.exe, "5"])
        assert proc.returncode == 5, proc.stderr
        cls.report_path = os.path.join(cls.tmp.name, "report.json")
        with open(cls.report_path, "w") as f:
            json.dump(cls.report, f)
        cls.cache_line = source_line(SOURCE, "BT_CACHE_MMAP")
        cls.buffers_line = source_line(SOURCE, "BT_BUFFERS_MMAP")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def symbolize(self, *args, path=None, timeout=60):
        proc = run_vmleak(["--symbolize", path or self.report_path, *args], timeout=timeout)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")
        lines = proc.stdout.splitlines()
        self.assertEqual(len(lines), 1, proc.stdout[:500])
        return json.loads(lines[0])

    def assert_resolved(self, report):
        frames = module_frames(report, self.exe)
        self.assertEqual(frames["keep_cache"]["file"], SOURCE)
        self.assertEqual(frames["keep_cache"]["line"], self.cache_line)
        self.assertEqual(frames["leak_buffers"]["line"], self.buffers_line)
        self.assertIsNotNone(frames["keep_cache"]["offset"])

    def test_the_captured_report_has_no_names_but_build_ids_and_offsets(self):
        frames = module_frames(self.report, self.exe)
        self.assertEqual(set(frames), {None}, frames)
        for site in self.report["sites"]:
            for frame in site["frames"]:
                if frame["module"] == self.exe:
                    self.assertEqual(frame["build_id"], self.bid)
                    self.assertTrue(frame["module_offset"].startswith("0x"), frame)
                    pc, off = int(frame["pc"], 16), int(frame["module_offset"], 16)
                    self.assertLess(off, pc)  # a PIE: loaded above its ELF addresses

    def test_with_the_debug_dir(self):
        report = self.symbolize("--debug-dir", self.debug_root)
        self.assert_resolved(report)
        # everything else as it was
        self.assertEqual(report["totals"], self.report["totals"])
        self.assertEqual([s["bytes"] for s in report["sites"]],
                         [s["bytes"] for s in self.report["sites"]])
        self.assertEqual(report["duration_s"], self.report["duration_s"])

    def test_without_debug_info_nothing_changes(self):
        report = self.symbolize()
        self.assertEqual(report, self.report)

    def test_program_gone(self):
        with tempfile.TemporaryDirectory(dir=self.tmp.name) as d:
            exe = os.path.join(d, "bt_two_sites")
            shutil.copy(self.exe, exe)
            report, proc = run_json([exe])
            self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertFalse(os.path.exists(exe))
        path = os.path.join(self.tmp.name, "gone.json")
        with open(path, "w") as f:
            json.dump(report, f)
        report = self.symbolize("--debug-dir", self.debug_root, path=path)
        frames = module_frames(report, exe)
        self.assertEqual(frames["keep_cache"]["line"], self.cache_line)

    def test_another_build_at_the_same_path_is_not_read(self):
        with tempfile.TemporaryDirectory(dir=self.tmp.name) as d:
            exe = os.path.join(d, "bt_two_sites")
            shutil.copy(self.exe, exe)
            report, proc = run_json([exe])
            self.assertEqual(proc.returncode, 0, proc.stderr)
            # now another program, with full symbols, at that path
            shutil.copy(prog("deep_stack"), exe)
            path = os.path.join(self.tmp.name, "rebuilt.json")
            with open(path, "w") as f:
                json.dump(report, f)
            wrong = module_frames(self.symbolize(path=path), exe)
            self.assertEqual(set(wrong), {None}, wrong)  # no names from the wrong file
            right = module_frames(self.symbolize("--debug-dir", self.debug_root, path=path), exe)
            self.assertEqual(right["keep_cache"]["line"], self.cache_line)

    def test_stdin_and_output_file(self):
        out = os.path.join(self.tmp.name, "out.json")
        with open(self.report_path) as f:
            proc = run([VMLEAK, "--symbolize", "-", "--debug-dir", self.debug_root, "-o", out],
                       stdin=f, capture_output=True, text=True, timeout=60)
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "", ""))
        with open(out) as f:
            self.assert_resolved(json.load(f))

    def test_interim_reports_in_one_file(self):
        lines = [dict(self.report, final=False), self.report]
        path = os.path.join(self.tmp.name, "two.json")
        with open(path, "w") as f:
            for r in lines:
                f.write(json.dumps(r) + "\n")
        proc = run_vmleak(["--symbolize", path, "--debug-dir", self.debug_root])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        reports = [json.loads(line) for line in proc.stdout.splitlines()]
        self.assertEqual([r["final"] for r in reports], [False, True])
        for r in reports:
            self.assert_resolved(r)

    def test_bad_inputs_are_one_line_errors(self):
        d = tempfile.mkdtemp(dir=self.tmp.name)
        cases = {
            "{\"vmleak\": 1, \"sites\": []} junk": "not JSON at byte 28: unexpected character",
            "{\"vmleak\": 1, \"sites\": [": "ends inside a JSON value (cut short?)",
            "[1, 2]": "report 1: not a vmleak JSON report (schema 1)",
            "{\"vmleak\": 1, \"sites\": [{\"frames\": [{\"module\": \"/x\", "
            "\"module_offset\": \"oops\"}]}]}":
                "report 1, site 1, frame 1: \"module_offset\" is not a 0x... hex address",
            "": "empty: not a vmleak JSON report",
        }
        for i, (text, message) in enumerate(cases.items()):
            path = os.path.join(d, f"bad{i}.json")
            with open(path, "w") as f:
                f.write(text)
            out = os.path.join(d, "keep.json")
            with open(out, "w") as f:
                f.write("precious")
            proc = run_vmleak(["--symbolize", path, "-o", out])
            self.assertEqual(proc.returncode, 1, text)
            self.assertEqual(proc.stderr, f"vmleak: {path}: {message}\n")
            with open(out) as f:
                self.assertEqual(f.read(), "precious")  # -o left untouched
        missing = os.path.join(d, "missing.json")
        proc = run_vmleak(["--symbolize", missing])
        self.assertEqual((proc.returncode, proc.stderr),
                         (1, f"vmleak: --symbolize '{missing}': No such file or directory\n"))
        proc = run_vmleak(["--symbolize", self.report_path, "--", "prog"])
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no -p PID or program", proc.stderr)


if __name__ == "__main__":
    main()
