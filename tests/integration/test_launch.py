#!/usr/bin/env python3
"""tests/integration/test_launch.py - launch mode end to end, asserting on the
JSON report: the seed's clone-stack leak and its fix, --verify on every example,
fork, exec, threads, programs that die of signals, exit statuses."""
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from vmleak_common import (SRC, VMLEAK, example, first_program_frame, main, prog, run_json,
                           run_vmleak, sites_with, source_line, spawn, unsuppressed)

STACK_FLAGS = ["MAP_PRIVATE", "MAP_ANONYMOUS", "MAP_STACK"]


class SeedCase(unittest.TestCase):
    def test_clone_stack_leak_exact(self):
        report, proc = run_json([example("clone_stack_leak"), "20"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        stack_sites = sites_with(report, "mmap", "rw-", STACK_FLAGS)
        self.assertEqual(len(stack_sites), 1, report["sites"])
        site = stack_sites[0]
        self.assertEqual(site["bytes"], 20 * 40960)
        self.assertEqual(site["count"], 20)
        self.assertFalse(site["suppressed"])
        self.assertEqual(site["category"], "program")
        self.assertEqual(report["totals"]["bytes"], 20 * 40960)
        for r in site["regions"]:
            self.assertEqual(r["length"], 40960)
            self.assertEqual(int(r["end"], 16) - int(r["start"], 16), 40960)
        self.assertEqual(report["exit"], {"pid": report["pids"][0], "code": 0,
                                          "signal": None})

    def test_clone_stack_leak_points_at_the_mmap_line(self):
        report, _ = run_json([example("clone_stack_leak"), "5"])
        site = sites_with(report, "mmap", "rw-", STACK_FLAGS)[0]
        frame = first_program_frame(site)
        src = os.path.join(SRC, "examples", "clone_stack_leak.c")
        self.assertIsNotNone(frame, site["frames"])
        self.assertEqual(frame["function"], "main")
        self.assertTrue(frame["file"].endswith("examples/clone_stack_leak.c"), frame)
        self.assertEqual(frame["line"], source_line(src, "mmap("))

    def test_libunwind_unwinder_finds_the_same_line(self):
        report, _ = run_json([example("clone_stack_leak"), "3"], ["--unwinder", "libunwind"])
        site = sites_with(report, "mmap", "rw-", STACK_FLAGS)[0]
        frame = first_program_frame(site)
        src = os.path.join(SRC, "examples", "clone_stack_leak.c")
        self.assertIsNotNone(frame, site["frames"])
        self.assertEqual(frame["function"], "main")
        self.assertEqual(frame["line"], source_line(src, "mmap("))
        self.assertEqual(site["bytes"], 3 * 40960)

    def test_depth_0_takes_no_backtraces(self):
        report, _ = run_json([example("clone_stack_leak"), "3"], ["--depth", "0"])
        site = sites_with(report, "mmap", "rw-", STACK_FLAGS)[0]
        self.assertEqual(site["frames"], [])
        self.assertEqual(site["category"], "unknown")
        self.assertFalse(site["suppressed"])
        self.assertEqual(site["bytes"], 3 * 40960)

    def test_clone_stack_fixed_is_clean(self):
        report, proc = run_json([example("clone_stack_fixed"), "20"])
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(sites_with(report, "mmap", "rw-", STACK_FLAGS), [])
        self.assertEqual(unsuppressed(report), [])
        self.assertGreaterEqual(report["events"]["munmap"], 20)

    def test_verify_agrees_on_every_example(self):
        for name in ("clone_stack_leak", "clone_stack_fixed", "pthread_leak", "malloc_leak"):
            with self.subTest(example=name):
                report, _ = run_json([example(name)], ["--verify"])
                self.assertIn("verify", report)
                self.assertGreater(report["verify"]["checked"], 5)
                self.assertEqual(report["verify"]["mismatches"], [])


class Following(unittest.TestCase):
    def test_fork_child_leak_reported_under_child_pid(self):
        report, proc = run_json([prog("fork_leak")])
        child = int(proc.stdout.split()[1])
        sites = [s for s in unsuppressed(report)]
        self.assertEqual(len(sites), 1, sites)
        self.assertEqual(sites[0]["bytes"], 3 * 65536)
        self.assertEqual({r["pid"] for r in sites[0]["regions"]}, {child})
        procs = {p["pid"]: p for p in report["processes"]}
        self.assertEqual(procs[child]["bytes"], 3 * 65536)
        self.assertEqual(procs[report["pids"][0]]["bytes"], 0)

    def test_exec_forgets_the_old_address_space(self):
        report, proc = run_json([prog("exec_leak")])
        self.assertEqual(proc.returncode, 0)
        sites = unsuppressed(report)
        self.assertEqual([s["bytes"] for s in sites], [12288], sites)
        self.assertEqual(sites[0]["count"], 1)

    def test_threads_exact_totals(self):
        # with --verify every munmap's exit is waited for; without it, a munmap
        # with valid arguments is applied at its seccomp stop alone
        for options in (["--verify"], []):
            with self.subTest(options=options):
                report, proc = run_json([prog("threads_map")], options)
                self.assertEqual(proc.returncode, 0)
                site = sites_with(report, "mmap", "rw-", ["MAP_PRIVATE", "MAP_ANONYMOUS"])
                program = [s for s in site if s["category"] == "program"]
                self.assertEqual(sum(s["count"] for s in program), 800)
                self.assertEqual(sum(s["bytes"] for s in program), 800 * 16384)
                self.assertGreaterEqual(report["events"]["munmap"], 800)
                if options:
                    self.assertEqual(report["verify"]["mismatches"], [])

    def test_no_follow_forks_ignores_the_child(self):
        report, _ = run_json([prog("fork_leak")], ["--no-follow-forks"])
        self.assertEqual(unsuppressed(report), [])


class Dying(unittest.TestCase):
    def test_sigkill_exit_137_and_report(self):
        report, proc = run_json([prog("die"), "kill"])
        self.assertEqual(proc.returncode, 137)
        self.assertEqual(report["exit"]["signal"], 9)
        self.assertIsNone(report["exit"]["code"])
        self.assertEqual(sum(s["bytes"] for s in unsuppressed(report)), 2 * 8192)

    def test_sigsegv_exit_139_and_report(self):
        report, proc = run_json([prog("die"), "segv"])
        self.assertEqual(proc.returncode, 139)
        self.assertEqual(report["exit"]["signal"], 11)
        self.assertEqual(sum(s["bytes"] for s in unsuppressed(report)), 2 * 8192)


class CtrlC(unittest.TestCase):
    def test_sigint_to_the_process_group_reaches_the_program(self):
        """Ctrl-C: the terminal sends SIGINT to the whole foreground group."""
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            v = spawn([VMLEAK, "-q", "-j", "-o", out.name, "--",
                       prog("slow_leaker")], stdout=subprocess.PIPE,
                      start_new_session=True)
            self.assertTrue(v.stdout.readline())  # the program runs
            time.sleep(0.2)
            os.killpg(v.pid, signal.SIGINT)
            v.wait(timeout=30)
            v.stdout.close()
            with open(out.name) as f:
                report = json.load(f)
        self.assertEqual(v.returncode, 128 + signal.SIGINT)
        self.assertEqual(report["exit"]["signal"], signal.SIGINT)
        leaked = [s for s in unsuppressed(report) if s["bytes"] // s["count"] == 4096]
        self.assertTrue(leaked, report["sites"])


class ExitStatus(unittest.TestCase):
    def test_program_status_passes_through(self):
        proc = run_vmleak(["-q", "-o", os.devnull, "--", "sh", "-c", "exit 7"])
        self.assertEqual(proc.returncode, 7, proc.stderr)

    def test_error_exitcode_when_leaks(self):
        proc = run_vmleak(["-q", "-o", os.devnull, "--error-exitcode", "42", "--",
                           example("clone_stack_leak"), "2"])
        self.assertEqual(proc.returncode, 42)
        proc = run_vmleak(["-q", "-o", os.devnull, "--error-exitcode", "42", "--",
                           example("clone_stack_fixed"), "2"])
        self.assertEqual(proc.returncode, 0)

    def test_min_size_hides_small_sites(self):
        report, _ = run_json([example("clone_stack_leak"), "2"], ["--min-size", "1M"])
        self.assertEqual(unsuppressed(report), [])
        self.assertEqual(report["totals"]["bytes"], 0)

    def test_cannot_run(self):
        cases = [("/nonexistent/prog", "No such file or directory"),
                 ("/tmp", "Permission denied"),
                 (os.path.join(SRC, "README.md"), "Permission denied")]
        for path, why in cases:
            with self.subTest(path=path):
                proc = run_vmleak(["--", path])
                self.assertEqual(proc.returncode, 1)
                self.assertEqual(proc.stderr, f"vmleak: cannot run '{path}': {why}\n")

    def test_unwritable_output(self):
        proc = run_vmleak(["-o", "/nonexistent/dir/report", "--", "true"])
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr.count("\n"), 1)
        self.assertIn("vmleak: cannot write the report to '/nonexistent/dir/report'",
                      proc.stderr)
        proc = run_vmleak(["-o", "/tmp", "--", "true"])
        self.assertEqual(proc.returncode, 1)
        self.assertIn("Is a directory", proc.stderr)


class Formats(unittest.TestCase):
    def test_text_report_names_the_line(self):
        proc = run_vmleak(["-q", "--", example("clone_stack_leak"), "3"])
        src = os.path.join(SRC, "examples", "clone_stack_leak.c")
        line = source_line(src, "mmap(")
        self.assertIn("vmleak: 3 regions (120.0 KiB) never unmapped, from 1 call site",
                      proc.stderr)
        self.assertIn("at main (", proc.stderr)
        self.assertIn(f"clone_stack_leak.c:{line})", proc.stderr)

    def test_folded(self):
        proc = run_vmleak(["-q", "--format", "folded", "--", example("clone_stack_leak"),
                           "4"])
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, proc.stderr)
        stack, size = lines[0].rsplit(" ", 1)
        self.assertEqual(int(size), 4 * 40960)
        self.assertTrue(stack.startswith("clone_stack_leak;"), stack)
        self.assertIn(";main;", stack)


if __name__ == "__main__":
    main()
