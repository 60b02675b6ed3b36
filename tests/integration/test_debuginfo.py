#!/usr/bin/env python3
"""tests/integration/test_debuginfo.py - separate debug files (issue 14): a program
stripped with its debug info split out (objcopy --only-keep-debug, then
--strip-all --add-gnu-debuglink) is symbolized to the leaking function and
file:line when the debug file is in the build-id layout or under its debuglink
name in a --debug-dir root, or next to the program; without it, frames are
module offsets only. A program whose file is replaced by another build while it
is traced is not symbolized from the new file. Bad --debug-dir values are
one-line errors."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from vmleak_common import (SRC, VMLEAK, build_id, build_id_path, kill_group, main,
                           module_frames, prog, run_json, run_vmleak, source_line, spawn,
                           split_debug)

SOURCE = os.path.join(SRC, "tests", "progs", "bt_two_sites.c")


class SplitDebug(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="vmleak-dbg-")
        cls.bin_dir = os.path.join(cls.tmp.name, "bin")
        cls.store = os.path.join(cls.tmp.name, "store")
        os.makedirs(cls.bin_dir)
        os.makedirs(cls.store)
        # the debug file is made elsewhere and never left next to the program
        cls.exe, debug, cls.bid = split_debug(prog("bt_two_sites"), cls.store)
        shutil.move(cls.exe, os.path.join(cls.bin_dir, "bt_two_sites"))
        cls.exe = os.path.join(cls.bin_dir, "bt_two_sites")
        cls.debug = debug
        cls.cache_line = source_line(SOURCE, "BT_CACHE_MMAP")
        cls.buffers_line = source_line(SOURCE, "BT_BUFFERS_MMAP")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def dir_with(self, *parts):
        """A fresh debug root holding the debug file at root/parts."""
        root = tempfile.mkdtemp(dir=self.tmp.name)
        path = os.path.join(root, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copy(self.debug, path)
        return root

    def assert_symbolized(self, report):
        frames = module_frames(report, self.exe)
        self.assertIn("keep_cache", frames, frames)
        self.assertIn("leak_buffers", frames, frames)
        for name, line in (("keep_cache", self.cache_line), ("leak_buffers", self.buffers_line)):
            self.assertEqual(frames[name]["file"], SOURCE)
            self.assertEqual(frames[name]["line"], line)

    def test_precondition_stripped_and_split(self):
        sections = subprocess.run(["readelf", "-SW", self.exe], capture_output=True,
                                  text=True, check=True).stdout
        self.assertNotIn(".symtab", sections)
        self.assertNotIn(".debug_info", sections)
        self.assertIn(".gnu_debuglink", sections)
        sections = subprocess.run(["readelf", "-SW", self.debug], capture_output=True,
                                  text=True, check=True).stdout
        self.assertIn(".debug_info", sections)
        self.assertIn(".debug_line", sections)

    def test_without_the_debug_file_only_offsets(self):
        report, proc = run_json([self.exe])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        frames = module_frames(report, self.exe)
        self.assertEqual(set(frames), {None}, frames)
        self.assertTrue(all(f["line"] is None for f in frames.values()))

    def test_build_id_layout_under_debug_dir(self):
        root = self.dir_with(os.path.relpath(build_id_path("/", self.bid), "/"))
        report, proc = run_json([self.exe], ["--debug-dir", root])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assert_symbolized(report)

    def test_debuglink_name_under_debug_dir(self):
        root = self.dir_with("bt_two_sites.debug")
        report, proc = run_json([self.exe], ["--debug-dir", root])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assert_symbolized(report)

    def test_debuglink_under_debug_dir_mirroring_the_program_path(self):
        # the /usr/lib/debug/usr/bin/prog.debug layout, under another root
        root = self.dir_with(self.bin_dir.lstrip("/"), "bt_two_sites.debug")
        report, proc = run_json([self.exe], ["--debug-dir", root])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assert_symbolized(report)

    def test_several_debug_dirs_and_a_relative_one(self):
        empty = tempfile.mkdtemp(dir=self.tmp.name)
        root = self.dir_with(os.path.relpath(build_id_path("/", self.bid), "/"))
        report, proc = run_json([self.exe], ["--debug-dir", empty, "--debug-dir",
                                             os.path.relpath(root)])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assert_symbolized(report)

    def test_debug_file_next_to_the_program(self):
        with tempfile.TemporaryDirectory(dir=self.tmp.name) as d:
            exe = os.path.join(d, "bt_two_sites")
            shutil.copy(self.exe, exe)
            shutil.copy(self.debug, os.path.join(d, "bt_two_sites.debug"))
            report, proc = run_json([exe])
            self.assertEqual(proc.returncode, 0, proc.stderr)
            frames = module_frames(report, exe)
            self.assertEqual(frames["keep_cache"]["line"], self.cache_line)

    def test_a_debug_file_of_another_build_is_not_used(self):
        # same debuglink name, other contents: the CRC check refuses it
        root = tempfile.mkdtemp(dir=self.tmp.name)
        subprocess.run(["objcopy", "--only-keep-debug", prog("deep_stack"),
                        os.path.join(root, "bt_two_sites.debug")], check=True)
        report, proc = run_json([self.exe], ["--debug-dir", root])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        frames = module_frames(report, self.exe)
        self.assertNotIn("keep_cache", frames, frames)

    def test_bad_debug_dir_is_a_one_line_error(self):
        missing = os.path.join(self.tmp.name, "no-such-dir")
        cases = {
            missing: "--debug-dir '%s': No such file or directory" % missing,
            self.debug: "--debug-dir '%s': not a directory" % self.debug,
            "": "--debug-dir: empty file name",
        }
        colon = os.path.join(self.tmp.name, "a:b")
        os.makedirs(colon)
        cases[colon] = "--debug-dir '%s': a ':' in the path" % colon
        for value, message in cases.items():
            proc = run_vmleak(["--debug-dir", value, "--", prog("bt_two_sites")])
            self.assertEqual(proc.returncode, 1, (value, proc.stderr))
            self.assertEqual(proc.stderr, f"vmleak: {message}\n")


class ReplacedOnDisk(unittest.TestCase):
    """The traced program's file is replaced by another build while vmleak is
    attached: the report names nothing from the new file (its build-id is not the
    one read from the process at capture), and with a debug root holding the
    old build's debug file by build-id it names the right function and line."""

    def attach_and_replace(self, tmp, options=()):
        exe = os.path.join(tmp, "slow_leaker")
        shutil.copy(prog("slow_leaker"), exe)
        leaker = spawn([exe], stdout=subprocess.DEVNULL)
        self.addCleanup(kill_group, leaker)
        out = os.path.join(tmp, "report.json")
        tracer = spawn([VMLEAK, "-q", "-j", "-o", out, "-p", str(leaker.pid), *options],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(kill_group, tracer)
        # attached once the leaker's TracerPid is the tracer; then let it leak a
        # few rounds (every 20 ms)
        for _ in range(1000):
            with open(f"/proc/{leaker.pid}/status") as f:
                if f"TracerPid:\t{tracer.pid}\n" in f.read():
                    break
            time.sleep(0.01)
        time.sleep(0.3)
        # another program at the path (the process keeps the old file)
        replacement = os.path.join(tmp, "replacement")
        shutil.copy(prog("deep_stack"), replacement)
        os.replace(replacement, exe)
        tracer.send_signal(signal.SIGINT)  # detach and report
        _, err = tracer.communicate(timeout=60)
        self.assertEqual(tracer.returncode, 0, err)
        with open(out) as f:
            return exe, json.load(f)

    def test_the_new_file_is_not_read(self):
        with tempfile.TemporaryDirectory(prefix="vmleak-repl-") as tmp:
            exe, report = self.attach_and_replace(tmp)
            frames = module_frames(report, exe)
            self.assertTrue(frames, report["sites"])
            self.assertEqual(set(frames), {None}, frames)
            frame = next(iter(frames.values()))
            self.assertEqual(frame["build_id"], build_id(prog("slow_leaker")))

    def test_the_old_build_from_its_debug_file(self):
        with tempfile.TemporaryDirectory(prefix="vmleak-repl-") as tmp:
            root = os.path.join(tmp, "symbols")
            debug = build_id_path(root, build_id(prog("slow_leaker")))
            os.makedirs(os.path.dirname(debug))
            subprocess.run(["objcopy", "--only-keep-debug", prog("slow_leaker"), debug],
                           check=True)
            exe, report = self.attach_and_replace(tmp, ["--debug-dir", root])
            frames = module_frames(report, exe)
            self.assertIn("main", frames, frames)
            self.assertEqual(frames["main"]["line"],
                             source_line(os.path.join(SRC, "tests", "progs", "slow_leaker.c"),
                                         "mmap(NULL, 4096"))


if __name__ == "__main__":
    main()
