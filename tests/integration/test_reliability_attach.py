#!/usr/bin/env python3
"""tests/integration/test_reliability_attach.py - attach mode never harms the
process it traces: 100 attach/detach cycles on a multithreaded program that
checksums its own work, and vmleak SIGKILLed while attached (no EXITKILL): the
program keeps running, is left untraced and unstopped, and ends with the right
checksum and exit status. A process that is stopped (job control) stays stopped
under vmleak and after it: vmleak never restarts it (its own ptrace requests,
seen by strace), its real parent still sees the stop and the continue."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from vmleak_common import VMLEAK, kill_group, main, prog, run, run_vmleak, spawn

MASK = (1 << 64) - 1
WORDS = 1024


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def expected_checksum(counts):
    """rel_checksum's checksum, recomputed from its per-thread item counts."""
    total = 0
    tail = WORDS * (WORDS - 1) // 2
    for t, n in enumerate(counts):
        for i in range(n):
            total += ((splitmix64(t << 32 | i) * WORDS + tail) & MASK) * (i + 1)
    return total & MASK


def task_status(pid):
    """{tid: (state letter, TracerPid)} for every thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                fields = dict(l.split(":", 1) for l in f if ":" in l)
        except FileNotFoundError:
            continue
        out[int(tid)] = (fields["State"].split()[0], int(fields["TracerPid"]))
    return out


class Checksummer:
    """rel_checksum NTHREADS in the background; closing its stdin ends it."""

    def __init__(self, threads=4):
        self.proc = spawn([prog("rel_checksum"), str(threads)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line != "started\n":
            raise AssertionError(f"rel_checksum did not start: {line!r}")
        self.threads = threads

    def finish(self, test):
        """Ends the run and checks its checksum against an independent one."""
        out, _ = self.proc.communicate(timeout=60)
        lines = out.splitlines()
        test.assertEqual(len(lines), 2, out)
        test.assertTrue(lines[0].startswith("counts "), out)
        counts = [int(c) for c in lines[0].split()[1:]]
        test.assertEqual(len(counts), self.threads)
        test.assertTrue(all(c > 0 for c in counts), counts)
        test.assertEqual(lines[1], f"checksum 0x{expected_checksum(counts):016x}")
        test.assertEqual(self.proc.returncode, 0, out)

    def close(self):
        kill_group(self.proc)

    def assert_untraced_and_running(self, test):
        for tid, (state, tracer) in task_status(self.proc.pid).items():
            test.assertEqual(tracer, 0, f"thread {tid} still traced")
            test.assertNotIn(state, ("t", "T"), f"thread {tid} left stopped")


class Churn(unittest.TestCase):
    def test_hundred_attach_detach_cycles(self):
        prog_ = Checksummer(4)
        try:
            target = str(prog_.proc.pid)
            failures = []
            for i in range(100):
                r = run_vmleak(["-q", "-o", os.devnull, "-p", target, "-d", "0.05"])
                if r.returncode != 0 or r.stderr:
                    failures.append((i, r.returncode, r.stderr))
                self.assertIsNone(prog_.proc.poll(), f"died in cycle {i}")
            self.assertEqual(failures, [])
            time.sleep(0.1)
            prog_.assert_untraced_and_running(self)
            prog_.finish(self)
        finally:
            prog_.close()


class TracerKilled(unittest.TestCase):
    def test_sigkill_of_vmleak_leaves_the_target_running(self):
        prog_ = Checksummer(4)
        try:
            for delay in (0.0, 0.05, 0.3, 1.0):
                v = spawn([VMLEAK, "-q", "-o", os.devnull, "-p",
                           str(prog_.proc.pid)], stderr=subprocess.DEVNULL)
                # wait until it holds every thread, then a little longer
                end = time.time() + 10
                while time.time() < end:
                    tracers = {tr for _, tr in task_status(prog_.proc.pid).values()}
                    if tracers == {v.pid}:
                        break
                    time.sleep(0.005)
                self.assertEqual({tr for _, tr in task_status(prog_.proc.pid).values()},
                                 {v.pid})
                time.sleep(delay)
                v.send_signal(signal.SIGKILL)
                v.wait()
                time.sleep(0.1)
                self.assertIsNone(prog_.proc.poll(), f"target died after delay {delay}")
                prog_.assert_untraced_and_running(self)
            prog_.finish(self)
        finally:
            prog_.close()


STRACE = shutil.which("strace")
# requests that let a stopped tracee run
RESTARTS = {"PTRACE_SYSCALL", "PTRACE_CONT", "PTRACE_SINGLESTEP", "PTRACE_SYSEMU",
            "PTRACE_SYSEMU_SINGLESTEP"}


def ptrace_requests(strace_output, pid):
    """The ptrace requests, in order, that the strace output shows for pid."""
    return [m.group(1) for m in re.finditer(r"ptrace\((PTRACE_\w+), (\d+)\b", strace_output)
            if int(m.group(2)) == pid]


def traceable_env():
    """The environment for vmleak under strace: LeakSanitizer cannot run in a
    traced process (it would fail the run), the rest of the sanitizers can."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    return dict(os.environ, ASAN_OPTIONS=f"{asan}:detect_leaks=0" if asan else "detect_leaks=0")


def proc_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def rounds(path):
    with open(path) as f:
        lines = f.read().split()
    return int(lines[-1]) if lines else -1


def wait_for(cond, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


class JobControl(unittest.TestCase):
    """A group-stopped process stays stopped under vmleak and after it (PTRACE_LISTEN);
    its real parent still sees the stop and the continue."""

    def start_leaker(self):
        out = tempfile.NamedTemporaryFile(mode="w+", suffix=".out")
        p = spawn([prog("slow_leaker")], stdout=out, stderr=subprocess.DEVNULL)
        self.addCleanup(out.close)
        self.addCleanup(kill_group, p)
        self.assertTrue(wait_for(lambda: rounds(out.name) >= 2))
        return p, out.name

    def test_stopped_during_the_trace(self):
        p, out = self.start_leaker()
        v = spawn([VMLEAK, "-q", "-o", os.devnull, "-p", str(p.pid), "-d", "2"],
                  stderr=subprocess.PIPE, text=True)
        self.assertTrue(wait_for(lambda: {tr for _, tr in task_status(p.pid).values()}
                                 == {v.pid}))
        os.kill(p.pid, signal.SIGSTOP)
        # the real parent is told, even though vmleak is the tracer
        pid, st = os.waitpid(p.pid, os.WUNTRACED)
        self.assertTrue(os.WIFSTOPPED(st) and os.WSTOPSIG(st) == signal.SIGSTOP)
        _, err = v.communicate(timeout=30)
        self.assertEqual(v.returncode, 0, err)
        # still stopped after the detach, untraced
        self.assertEqual(proc_state(p.pid), "T")
        self.assertEqual({tr for _, tr in task_status(p.pid).values()}, {0})
        n = rounds(out)
        time.sleep(0.2)
        self.assertEqual(rounds(out), n)
        os.kill(p.pid, signal.SIGCONT)
        pid, st = os.waitpid(p.pid, os.WCONTINUED)
        self.assertTrue(os.WIFCONTINUED(st))
        self.assertTrue(wait_for(lambda: rounds(out) > n + 3))

    def test_attach_to_a_stopped_process(self):
        """vmleak never lets a process that was stopped when it attached run: it
        holds it in PTRACE_LISTEN until SIGCONT. The process itself cannot show a
        PTRACE_SYSCALL restart (the kernel re-reports the group-stop of a stopped
        tracee before it runs any code), so vmleak runs under strace and its own
        ptrace requests for the process are checked too."""
        p, out = self.start_leaker()
        os.kill(p.pid, signal.SIGSTOP)
        self.assertTrue(wait_for(lambda: proc_state(p.pid) == "T"))
        n = rounds(out)
        argv = [VMLEAK, "-q", "-o", os.devnull, "-p", str(p.pid), "-d", "0.5"]
        with tempfile.NamedTemporaryFile(mode="w+", suffix=".strace") as trace:
            if STRACE:
                argv = [STRACE, "-qq", "-o", trace.name, "-e", "trace=ptrace",
                        "-e", "signal=none", *argv]
            r = run(argv, capture_output=True, text=True, timeout=30, env=traceable_env())
            requests = ptrace_requests(trace.read(), p.pid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(proc_state(p.pid), "T")
        self.assertEqual(rounds(out), n)
        self.assertEqual({tr for _, tr in task_status(p.pid).values()}, {0})
        os.kill(p.pid, signal.SIGCONT)
        self.assertTrue(wait_for(lambda: rounds(out) > n + 3))
        if not STRACE:
            self.skipTest("needs strace to see that vmleak never restarted the stopped process")
        self.assertEqual(requests[:2], ["PTRACE_SEIZE", "PTRACE_INTERRUPT"], requests)
        self.assertIn("PTRACE_LISTEN", requests)
        self.assertEqual(requests[-1], "PTRACE_DETACH", requests)
        self.assertEqual([q for q in requests if q in RESTARTS], [],
                         f"the stopped process was restarted: {requests}")

if __name__ == "__main__":
    main()
