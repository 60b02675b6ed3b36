#!/usr/bin/env python3
"""tests/integration/test_reliability_input.py - hostile input: every option with
malformed values, attach targets vmleak must refuse, unwritable outputs and
garbage suppression files each give exactly one line "vmleak: ..." on stderr and
exit 1, and nothing else happens: the program is not started, no report file
appears, an attach target is left untraced and running. (test_attach.py and
test_launch.py cover the single bad pids and program paths; this file covers the
rest.)"""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from vmleak_common import Leaker, kill_group, main, prog, run_vmleak, spawn

MALFORMED = [
    ["-p", "abc"], ["-p", "0"], ["-p", "-5"], ["-p", "1,,2"], ["-p", "1,"], ["-p", ""],
    ["-p", "99999999999999999999"], ["-p", "12x"],
    ["--format", "xml"], ["--format", ""], ["--format=JSON "],
    ["-d", "abc"], ["-d", "-1"], ["-d", "0"], ["-d", "1e400"], ["-d", "nan"], ["-d", "inf"],
    ["-d", "1x"], ["-d", ""],
    ["--interval", "0"], ["--interval", "x"], ["--interval", "-2"],
    ["--depth", "-1"], ["--depth", "257"], ["--depth", "1.5"], ["--depth", ""],
    ["--depth", "99999999999999999999999"],
    ["--min-size", "1Q"], ["--min-size", "-1"], ["--min-size", "99999999999T"],
    ["--min-size", ""], ["--min-size", "K"],
    ["--min-age", "x"], ["--min-age", "-1"], ["--min-age", ""],
    ["--error-exitcode", "0"], ["--error-exitcode", "256"], ["--error-exitcode", "x"],
    ["--error-exitcode", ""],
    ["--unwinder", "foo"],
    ["--bogus"], ["-Z"], ["--all=1"], ["--verify=yes"], ["--depth"], ["-p"],
    ["-o", ""], ["--log", ""], ["--suppressions", ""],
]


class Sandbox(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.marker = os.path.join(self.dir.name, "ran")
        self.report = os.path.join(self.dir.name, "report")
        # whether a refused run may leave an empty -o file behind is checked
        # by NoReportFile alone (notes/bugs-reliability.md, bug R1)
        self.report_checked = False

    def tearDown(self):
        self.dir.cleanup()

    def assert_refused(self, args, startswith="vmleak: ", program=True):
        """vmleak ARGS -o REPORT [-- touch MARKER]: one line, exit 1, no side effect."""
        argv = ["-o", self.report, *args]
        if program:
            argv += ["--", "touch", self.marker]
        proc = run_vmleak(argv, timeout=30)
        self.assertEqual(proc.returncode, 1, (args, proc.stderr))
        self.assertEqual(proc.stdout, "")
        self.assertEqual(proc.stderr.count("\n"), 1, (args, proc.stderr))
        self.assertTrue(proc.stderr.startswith(startswith), (args, proc.stderr))
        self.assertFalse(os.path.exists(self.marker), f"{args}: the program ran")
        if self.report_checked:
            self.assertFalse(os.path.exists(self.report), f"{args}: a report file appeared")
        return proc.stderr


class MalformedOptions(Sandbox):
    def test_every_option_with_malformed_values(self):
        for args in MALFORMED:
            with self.subTest(args=args):
                line = self.assert_refused(args)
                # the line names what is wrong
                name = args[0].split("=")[0].lstrip("-")
                self.assertTrue(name in line or "unknown option" in line or "pid" in line,
                                line)

    def test_usage_conflicts(self):
        for args, program in ((["-p", "1", "-d", "1"], True), (["-d", "1"], True), ([], False),
                              (["-q"], False)):
            with self.subTest(args=args):
                self.assert_refused(args, program=program)


class BadFiles(Sandbox):
    def test_garbage_suppressions(self):
        garbage = os.path.join(self.dir.name, "garbage.supp")
        with open(garbage, "wb") as f:
            f.write(bytes(range(256)) * 16)
        nul = os.path.join(self.dir.name, "nul.supp")
        with open(nul, "wb") as f:
            f.write(b"# looks fine\nruntime foo\n\0\xff\xfe\n")
        for path in (garbage, nul, self.dir.name, "/nonexistent/supp"):
            with self.subTest(path=path):
                line = self.assert_refused(["--suppressions", path])
                self.assertIn(path, line)

    def test_unwritable_log(self):
        for path in ("/nonexistent/dir/log", self.dir.name):
            with self.subTest(path=path):
                line = self.assert_refused(["--log", path])
                self.assertIn(path, line)

    def test_report_to_a_full_device(self):
        # the open succeeds, the write fails: the program runs, the loss is said once
        proc = run_vmleak(["-q", "-o", "/dev/full", "--", "touch", self.marker])
        self.assertEqual(proc.stderr, "vmleak: writing the report: No space left on device\n")
        self.assertTrue(os.path.exists(self.marker))

    def test_program_is_a_dangling_symlink(self):
        link = os.path.join(self.dir.name, "dangling")
        os.symlink("/nonexistent/target", link)
        proc = run_vmleak(["-q", "--", link])
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr, f"vmleak: cannot run '{link}': No such file or directory\n")


class NoReportFile(Sandbox):
    """A refused run must not create (or truncate) the -o file."""

    def test_refused_runs_leave_no_report_file(self):
        self.report_checked = True
        garbage = os.path.join(self.dir.name, "garbage.supp")
        with open(garbage, "wb") as f:
            f.write(bytes(range(256)) * 4)
        cases = [(["--suppressions", garbage], True),
                 (["--log", "/nonexistent/dir/log"], True),
                 (["-p", str(4194304 - 7)], False),
                 (["-p", "2"], False)]
        for args, program in cases:
            with self.subTest(args=args):
                self.assert_refused(args, program=program)


def status_fields(pid):
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            fields = dict(l.split(":", 1) for l in f if ":" in l)
        out[int(tid)] = (fields["State"].split()[0], int(fields["TracerPid"]))
    return out


class Target(Leaker):
    """slow_leaker, printing its round number every 20 ms."""

    def assert_untouched(self, test, pid=None):
        pid = pid or self.proc.pid
        for tid, (state, tracer) in status_fields(pid).items():
            test.assertEqual(tracer, 0, f"{tid} traced")
            test.assertNotIn(state, ("t", "T"), f"{tid} stopped")
        n = self.rounds()
        test.assertGreater(self.wait_rounds(n + 3), n + 2, "it stopped making progress")


class AttachRefused(Sandbox):
    def test_bad_output_leaves_the_target_alone(self):
        t = Target()
        try:
            t.wait_rounds(2)
            for path in ("/nonexistent/dir/report", self.dir.name):
                with self.subTest(path=path):
                    proc = run_vmleak(["-o", path, "-p", str(t.proc.pid), "-d", "1"])
                    self.assertEqual(proc.returncode, 1)
                    self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
                    self.assertIn(path, proc.stderr)
                    t.assert_untouched(self)
        finally:
            t.close()

    def test_garbage_suppressions_leave_the_target_alone(self):
        garbage = os.path.join(self.dir.name, "garbage.supp")
        with open(garbage, "wb") as f:
            f.write(os.urandom(2048))
        t = Target()
        try:
            t.wait_rounds(2)
            self.assert_refused(["--suppressions", garbage, "-p", str(t.proc.pid), "-d", "1"],
                                program=False)
            t.assert_untouched(self)
        finally:
            t.close()

    def test_thread_id_is_refused(self):
        # slow_checksum-like: a program with threads; its second tid is not a process
        p = spawn([prog("rel_checksum"), "2"], stdin=subprocess.PIPE,
                  stdout=subprocess.PIPE)
        try:
            p.stdout.readline()
            tids = sorted(int(t) for t in os.listdir(f"/proc/{p.pid}/task"))
            tid = [t for t in tids if t != p.pid][0]
            self.assert_refused(["-p", str(tid), "-d", "1"], program=False)
            self.assertEqual({tr for _, tr in status_fields(p.pid).values()}, {0})
            out, _ = p.communicate(b"", timeout=30)
            self.assertEqual(p.returncode, 0, out)
        finally:
            kill_group(p)

    @unittest.skipUnless(shutil.which("strace"), "needs strace")
    def test_list_with_a_traced_pid_releases_the_others(self):
        """-p GOOD,TRACED: GOOD may be seized before TRACED fails; it must be let go."""
        good = Target()
        traced = Target(["strace", "-qq", "-o", os.devnull, "-e", "trace=none"])
        try:
            good.wait_rounds(2)
            traced.wait_rounds(2)
            with open(f"/proc/{traced.proc.pid}/task/{traced.proc.pid}/children") as f:
                victim = int(f.read().split()[0])
            for order in ([good.proc.pid, victim], [victim, good.proc.pid]):
                with self.subTest(order=order):
                    self.assert_refused(["-p", ",".join(map(str, order)), "-d", "1"],
                                        startswith=f"vmleak: attach to pid {victim}: "
                                        "operation not permitted", program=False)
                    time.sleep(0.1)
                    good.assert_untouched(self)
        finally:
            good.close()
            traced.close()


if __name__ == "__main__":
    main()
