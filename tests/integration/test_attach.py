#!/usr/bin/env python3
"""tests/integration/test_attach.py - attach mode: a running leaker traced for
2 s has its in-window leaks reported (never the regions it had before), and
runs on after the detach; attach errors are one exact line and exit 1."""
import json
import os
import pty
import shutil
import subprocess
import tempfile
import time
import unittest

from vmleak_common import VMLEAK, Leaker, main, run, run_vmleak, spawn


def proc_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


class AttachWindow(unittest.TestCase):
    def test_leaks_in_window_reported_and_process_runs_on(self):
        leaker = Leaker()
        try:
            before = leaker.wait_rounds(10)
            self.assertGreaterEqual(before, 10)
            with tempfile.NamedTemporaryFile(suffix=".json") as out:
                proc = run_vmleak(["-q", "-j", "-o", out.name, "-p", str(leaker.proc.pid),
                                   "-d", "2"])
                with open(out.name) as f:
                    report = json.load(f)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            after = leaker.rounds()
            self.assertEqual(report["mode"], "attach")
            self.assertIsNone(report["exit"])
            self.assertIsNone(report["command"])
            self.assertEqual(report["pids"], [leaker.proc.pid])
            sites = [s for s in report["sites"] if not s["suppressed"]]
            leaked = sum(s["count"] for s in sites if s["bytes"] // s["count"] == 4096)
            # one leaked page per round inside the window, nothing from before it
            in_window = after - before
            self.assertGreater(leaked, 0)
            self.assertLessEqual(leaked, in_window + 2)
            self.assertGreaterEqual(leaked, in_window // 2)
            self.assertEqual(sum(s["bytes"] for s in sites), leaked * 4096)
            self.assertGreaterEqual(report["events"]["munmap"], leaked - 2)
            # it runs on: not stopped, and it keeps counting
            time.sleep(0.3)
            self.assertNotIn(proc_state(leaker.proc.pid), ("t", "T"))
            self.assertGreater(leaker.wait_rounds(after + 5), after + 4)
            self.assertIsNone(leaker.proc.poll())
        finally:
            leaker.close()

    def test_sigint_ends_the_trace(self):
        leaker = Leaker()
        try:
            leaker.wait_rounds(2)
            v = spawn([VMLEAK, "-q", "-p", str(leaker.proc.pid)],
                      stderr=subprocess.PIPE, text=True)
            time.sleep(0.7)
            v.send_signal(2)
            _, err = v.communicate(timeout=20)
            self.assertEqual(v.returncode, 0)
            self.assertIn("never unmapped", err)
            n = leaker.rounds()
            self.assertGreater(leaker.wait_rounds(n + 3), n + 2)
        finally:
            leaker.close()


class InterimReports(unittest.TestCase):
    def test_interval_writes_one_json_object_per_line(self):
        leaker = Leaker()
        try:
            leaker.wait_rounds(2)
            proc = run_vmleak(["-q", "-j", "-p", str(leaker.proc.pid), "-d", "1.7",
                               "--interval", "0.5"])
            objs = [json.loads(l) for l in proc.stderr.splitlines() if l.strip()]
            self.assertGreaterEqual(len(objs), 3, proc.stderr)
            self.assertEqual([o["final"] for o in objs], [False] * (len(objs) - 1) + [True])
            regions = [o["totals"]["regions"] for o in objs]
            self.assertEqual(regions, sorted(regions))  # the leaker only leaks
            self.assertGreater(regions[-1], regions[0])
        finally:
            leaker.close()

    def test_sigusr1_reports_without_detaching(self):
        leaker = Leaker()
        try:
            leaker.wait_rounds(2)
            with tempfile.NamedTemporaryFile(suffix=".json") as out:
                v = spawn([VMLEAK, "-q", "-j", "-o", out.name, "-p",
                           str(leaker.proc.pid)])
                time.sleep(0.5)
                v.send_signal(10)  # SIGUSR1
                for _ in range(100):
                    if os.path.getsize(out.name):
                        break
                    time.sleep(0.05)
                with open(out.name) as f:
                    first = [json.loads(l) for l in f.read().splitlines() if l.strip()]
                self.assertEqual([o["final"] for o in first], [False])
                self.assertIsNone(v.poll())  # still tracing
                v.send_signal(15)
                v.wait(timeout=20)
                with open(out.name) as f:
                    objs = [json.loads(l) for l in f.read().splitlines() if l.strip()]
            self.assertEqual(v.returncode, 0)
            self.assertEqual([o["final"] for o in objs], [False, True])
        finally:
            leaker.close()


def run_on_terminal(args):
    """Run vmleak with stderr on a pseudo-terminal; returns (rc, what it wrote)."""
    master, slave = pty.openpty()
    proc = spawn([VMLEAK, *args], stdin=subprocess.DEVNULL,
                 stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=30), b"".join(chunks).decode(errors="replace")


class StatusLine(unittest.TestCase):
    def test_live_status_on_a_terminal_is_erased_before_the_report(self):
        leaker = Leaker()
        try:
            leaker.wait_rounds(2)
            rc, out = run_on_terminal(["-p", str(leaker.proc.pid), "-d", "1.2"])
            self.assertEqual(rc, 0)
            updates = out.count("\rvmleak: ")
            self.assertGreaterEqual(updates, 2, repr(out[:300]))
            self.assertLessEqual(updates, 1.2 * 4 + 2)  # at most 4 a second
            self.assertIn("live regions", out)
            report = out.rindex("never unmapped")
            self.assertGreater(report, out.rindex("\r\x1b[K"))  # erased first
            rc, out = run_on_terminal(["-q", "-p", str(leaker.proc.pid), "-d", "0.5"])
            self.assertEqual(rc, 0)
            self.assertNotIn("live regions", out)
            self.assertIn("never unmapped", out)
        finally:
            leaker.close()


class ZombieLeader(unittest.TestCase):
    def test_process_whose_main_thread_exited(self):
        leaker = Leaker(name="zombie_leader")
        try:
            leaker.wait_rounds(3)
            self.assertEqual(proc_state(leaker.proc.pid), "Z")
            with tempfile.NamedTemporaryFile(suffix=".json") as out:
                proc = run_vmleak(["-q", "-j", "--verify", "-o", out.name, "-p",
                                   str(leaker.proc.pid), "-d", "0.5"])
                with open(out.name) as f:
                    report = json.load(f)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            sites = [s for s in report["sites"] if not s["suppressed"]]
            self.assertGreater(sum(s["count"] for s in sites), 5)
            self.assertIn("worker", [f["function"] for f in sites[0]["frames"]])
            self.assertEqual(report["verify"]["mismatches"], [])
            n = leaker.rounds()
            self.assertGreater(leaker.wait_rounds(n + 3), n + 2)
        finally:
            leaker.close()


class AttachErrors(unittest.TestCase):
    def expect(self, args, line, **kw):
        proc = run_vmleak(args, **kw)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr, line + "\n")

    def test_no_such_process(self):
        pid = 4194304 - 7  # above any pid_max default
        self.expect(["-p", str(pid)], f"vmleak: attach to pid {pid}: no such process")

    def test_vmleak_itself(self):
        proc = run(["sh", "-c", f'echo $$; exec "{VMLEAK}" -p $$'],
                   capture_output=True, text=True, timeout=30)
        pid = int(proc.stdout.split()[0])
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr, f"vmleak: attach to pid {pid}: that is vmleak itself\n")

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root and setpriv")
    def test_pid_1_unprivileged(self):
        proc = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    VMLEAK, "-p", "1"], capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr,
                         "vmleak: attach to pid 1: operation not permitted (no ptrace permission)\n")

    def test_kernel_thread(self):
        self.expect(["-p", "2"], "vmleak: attach to pid 2: it is a kernel thread")

    @unittest.skipUnless(shutil.which("strace"), "needs strace")
    def test_already_traced(self):
        leaker = Leaker(["strace", "-qq", "-o", os.devnull, "-e", "trace=none"])
        try:
            leaker.wait_rounds(2)
            # the leaker is the strace's child: find it
            with open(f"/proc/{leaker.proc.pid}/task/{leaker.proc.pid}/children") as f:
                kids = f.read().split()
            target = int(kids[0])
            self.expect(["-p", str(target)],
                        f"vmleak: attach to pid {target}: operation not permitted "
                        f"(already traced by pid {leaker.proc.pid})")
        finally:
            leaker.close()

    def test_zombie(self):
        child = spawn(["true"])
        for _ in range(200):
            if proc_state(child.pid) == "Z":
                break
            time.sleep(0.01)
        try:
            self.expect(["-p", str(child.pid)], f"vmleak: attach to pid {child.pid}: it is a zombie")
        finally:
            child.wait()


if __name__ == "__main__":
    main()
