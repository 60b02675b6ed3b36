#!/usr/bin/env python3
"""tests/integration/test_reliability_launch.py - launch mode never changes what
the traced program does: exec from a non-leader thread, vfork+exec, a child
that stops itself and is continued, SIGALRM timers, SIGCHLD and queued real-time
signals print the same output traced and untraced; thread and fork storms end
with exact totals; a tracee SIGKILLed from outside in the middle of its
syscalls still gets its report."""
import fcntl
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from vmleak_common import (VMLEAK, example, kill_group, main, prog, run, run_json, spawn,
                           unsuppressed)

F_SETPIPE_SZ = 1031


def run_plain(argv, timeout=60):
    return run(argv, capture_output=True, text=True, timeout=timeout)


class SameBehaviour(unittest.TestCase):
    """Each mode of rel_behave prints only timing-independent lines; traced and
    untraced runs must print the same lines and exit with the same status."""

    def compare(self, mode):
        argv = [prog("rel_behave"), mode]
        plain = run_plain(argv)
        self.assertEqual(plain.returncode, 0, plain.stdout + plain.stderr)
        self.assertNotIn("error:", plain.stdout)
        report, traced = run_json(argv, timeout=60)
        self.assertEqual(traced.stdout, plain.stdout)
        self.assertEqual(traced.returncode, plain.returncode, traced.stderr)
        self.assertEqual(traced.stderr, "")
        self.assertEqual(report["exit"]["code"], 0)
        return report

    def test_exec_from_a_non_leader_thread(self):
        report = self.compare("execthr")
        # only the new image's 7 pages: the 2 pages mapped before exec died with the old mm
        sites = unsuppressed(report)
        self.assertEqual([(s["bytes"], s["count"]) for s in sites], [(7 * 4096, 1)], sites)
        self.assertEqual(sites[0]["regions"][0]["pid"], report["pids"][0])

    def test_vfork_and_posix_spawn_then_exec(self):
        self.compare("vfork")

    def test_child_stops_itself_and_is_continued(self):
        self.compare("stopself")

    def test_sigalrm_timer_while_mapping(self):
        self.compare("alarm")

    def test_sigchld_from_forty_children(self):
        self.compare("sigchld")

    def test_queued_realtime_signals_none_lost(self):
        self.compare("rtsig")


class Storms(unittest.TestCase):
    def test_ten_thousand_short_threads(self):
        n = 10000
        report, proc = run_json([prog("rel_storm"), "threads", str(n), "16"], timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(proc.stdout, f"threads joined {n} failed 0\n")
        # every even thread keeps its 12 KiB: a missed thread would be a missed region
        sites = [s for s in unsuppressed(report) if s["bytes"] == s["count"] * 3 * 4096]
        self.assertEqual(sum(s["count"] for s in sites), n // 2, unsuppressed(report))
        self.assertEqual(report["totals"]["regions"], n // 2)
        self.assertEqual(report["totals"]["bytes"], n // 2 * 3 * 4096)
        self.assertGreaterEqual(report["events"]["mmap"], n)
        self.assertGreaterEqual(report["events"]["munmap"], n // 2)
        self.assertEqual(report["exit"], {"pid": report["pids"][0], "code": 0, "signal": None})

    def test_thousand_forked_children(self):
        n = 1000
        report, proc = run_json([prog("rel_storm"), "forks", str(n), "10"], timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(proc.stdout, f"children reaped {n} wrong 0\n")
        parent = report["pids"][0]
        children = [p for p in report["processes"] if p["pid"] != parent]
        self.assertEqual(len(children), n)
        self.assertEqual(len({p["pid"] for p in children}), n)
        self.assertTrue(all(p["bytes"] == 5 * 4096 and p["regions"] == 1 for p in children),
                        [p for p in children if p["bytes"] != 5 * 4096][:5])
        self.assertEqual(report["totals"]["regions"], n)
        self.assertEqual(report["totals"]["bytes"], n * 5 * 4096)


def children_of(pid):
    kids = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            kids += [int(k) for k in f.read().split()]
    return kids


class TraceeKilled(unittest.TestCase):
    def test_sigkill_from_outside_mid_syscall_report_still_written(self):
        # rel_checksum's four workers are always in or between mmap, write, read,
        # nanosleep and munmap; its main thread is blocked in read(stdin)
        for delay in (0.05, 0.2, 0.5):
            with self.subTest(delay=delay), tempfile.NamedTemporaryFile(suffix=".json") as out:
                v = spawn([VMLEAK, "-q", "-j", "-o", out.name, "--",
                           prog("rel_checksum"), "4"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                try:
                    self.assertEqual(v.stdout.readline(), b"started\n")
                    kids = children_of(v.pid)
                    self.assertEqual(len(kids), 1)
                    time.sleep(delay)
                    os.kill(kids[0], signal.SIGKILL)
                    _, err = v.communicate(timeout=30)
                finally:
                    kill_group(v)
                self.assertEqual(v.returncode, 128 + 9, err)
                with open(out.name) as f:
                    report = json.load(f)
                self.assertTrue(report["final"])
                self.assertEqual(report["exit"], {"pid": kids[0], "code": None, "signal": 9})
                self.assertGreater(report["events"]["mmap"], 0)


class SlowReader(unittest.TestCase):
    """The report or the log goes into a pipe whose reader comes late (a pager):
    vmleak waits in its write across many of its 100 ms ticks, and must neither
    give up with EINTR nor lose a byte."""

    def drain_late(self, argv, fd_role):
        r, w = os.pipe()
        fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
        try:
            if fd_role == "stderr":
                v = spawn(argv, stderr=w, stdout=subprocess.DEVNULL)
            else:
                argv = [a.replace("LOGFD", f"/dev/fd/{w}") for a in argv]
                v = spawn(argv, pass_fds=(w,), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
            os.close(w)
            w = -1
            time.sleep(1.5)  # fifteen ticks while vmleak waits for the reader
            chunks = []
            while True:
                b = os.read(r, 65536)
                if not b:
                    break
                chunks.append(b)
            err = v.stderr.read().decode() if v.stderr else ""
            rc = v.wait(timeout=60)
        finally:
            if w >= 0:
                os.close(w)
            os.close(r)
            kill_group(v)
        return b"".join(chunks).decode(), rc, err

    def test_report_into_a_pipe_read_late(self):
        out, rc, _ = self.drain_late([VMLEAK, "--format", "html", "--",
                                      example("clone_stack_leak")], "stderr")
        self.assertGreater(len(out), 2 * 4096)
        self.assertNotIn("vmleak: writing the report", out)
        self.assertTrue(out.rstrip().endswith("</html>"), out[-300:])
        self.assertEqual(rc, 0, out[-300:])

    def test_log_into_a_pipe_read_late(self):
        out, rc, err = self.drain_late([VMLEAK, "-q", "-o", os.devnull, "--log", "LOGFD", "--",
                                        example("clone_stack_leak"), "200"], "log")
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "")
        lines = out.splitlines()
        self.assertGreater(len(out), 2 * 4096)
        # every line whole: the 200 stacks of the loop, each "PID mmap(NULL, 40960, ..."
        stacks = [l for l in lines if " mmap(NULL, 40960," in l]
        self.assertEqual(len(stacks), 200, lines[-5:])
        self.assertTrue(all(l.split(" ", 1)[0].isdigit() for l in lines), lines[:5])


class TracerKilledInLaunchMode(unittest.TestCase):
    """docs/safety.md: in launch mode the seccomp filter makes the program unable to
    run without its tracer, so vmleak's death kills it (PTRACE_O_EXITKILL) rather
    than leaving it to fail every mmap with ENOSYS."""

    def test_sigkill_of_vmleak_kills_the_program(self):
        v = spawn([VMLEAK, "-q", "-o", os.devnull, "--", prog("rel_checksum"), "2"],
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            self.assertEqual(v.stdout.readline(), b"started\n")
            child = children_of(v.pid)[0]
            v.kill()
            v.wait()
            end = time.time() + 10
            while not dead(child) and time.time() < end:
                time.sleep(0.02)
            self.assertTrue(dead(child), "the program outlived its tracer")
        finally:
            kill_group(v)
            v.stdin.close()
            v.stdout.close()


def dead(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


if __name__ == "__main__":
    main()
