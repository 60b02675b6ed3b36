#!/usr/bin/env python3
"""tests/integration/test_attach_events.py - attach mode's two event sources
(--events kernel: syscall tracepoints, no stop per syscall, machine-wide events
filtered by vmleak's BPF program or, without BPF, per-thread events;
--events ptrace: syscall stops) on a program whose 4 threads churn
mmap/munmap, also with two vmleak runs at once: the regions it
leaks at a known moment inside the window are reported exactly (plus at most
one churn region per thread still mapped at the detach), --verify finds no
mismatch, and the detach leaves the program as it was (running, no signal
pending, no perf event or BPF object of ours left, its own checks pass). The fallback when
kernel events are not allowed (an unprivileged vmleak) is explicit."""
import fcntl
import json
import os
import shutil
import subprocess
import time
import unittest

from vmleak_common import VMLEAK, prog

F_SETPIPE_SZ = 1031
CHURN_LEN = 3 * 4096


def status_fields(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def bpf_usable():
    """Can we make a BPF map and load a tracepoint program (vmleak's
    machine-wide events need both; without them it opens per-thread events)?"""
    if os.uname().machine != "x86_64":
        return False
    import ctypes
    import struct
    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.create_string_buffer(struct.pack("=IIII", 1, 4, 1, 16), 128)  # HASH
    fd = libc.syscall(321, 0, attr, 128)  # SYS_bpf, BPF_MAP_CREATE
    if fd < 0:
        return False
    os.close(fd)
    # r0 = 1; exit, as BPF_PROG_TYPE_TRACEPOINT
    insns = ctypes.create_string_buffer(struct.pack("=BBhiBBhi", 0xb7, 0, 0, 1, 0x95, 0, 0, 0))
    lic = ctypes.create_string_buffer(b"")
    attr = ctypes.create_string_buffer(128)
    struct.pack_into("=IIQQ", attr, 0, 5, 2, ctypes.addressof(insns), ctypes.addressof(lic))
    fd = libc.syscall(321, 5, attr, 128)  # BPF_PROG_LOAD
    if fd < 0:
        return False
    os.close(fd)
    return True


def kernel_events_usable():
    """Root can mount tracefs privately and open tracepoints; others cannot."""
    return os.geteuid() == 0 and os.path.exists("/sys/kernel/tracing")


class Churner:
    def __init__(self, user=None):
        wrap = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] if user else []
        self.proc = subprocess.Popen([*wrap, prog("mt_churn")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lines = []
        self.expect("ready")

    def expect(self, word, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if line.startswith(word):
                return self.lines[-1]
        raise AssertionError(f"mt_churn never said {word!r}: {self.lines[-5:]}")

    def send(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()

    def leaked(self):
        out = set()
        for line in self.lines:
            if line.startswith("leaked "):
                _, addr, length = line.split()
                out.add((int(addr, 16), int(length)))
        return out

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


def fds_of(pid, kind):
    """vmleak's fds of one anonymous-inode kind (perf_event, bpf-prog, bpf-map)."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == f"anon_inode:{kind}":
                n += 1
        except OSError:
            pass
    return n


class Session:
    """One mt_churn and one vmleak attached to it (JSON report into a pipe
    smaller than the report: vmleak blocks in its final write, after the
    detach, so that its fds and the program can be looked at then)."""

    def __init__(self, test, engine, env=None):
        self.t = test
        self.engine = engine
        self.churner = Churner()
        self.pid = self.churner.proc.pid
        self.r, w = os.pipe()
        fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
        self.v = subprocess.Popen([VMLEAK, "-q", "-j", "--verify", "--events", engine, "-p",
                                   str(self.pid)], stderr=w,
                                  env=dict(os.environ, **(env or {})))
        os.close(w)

    def check_attached(self, machine_wide):
        t, v = self.t, self.v
        t.assertEqual(status_fields(self.pid)["TracerPid"], str(v.pid))
        if self.engine == "ptrace":
            t.assertEqual(fds_of(v.pid, "[perf_event]"), 0)
            return
        # per thread: events on each of the 5 threads; machine-wide: one set of
        # events whatever the threads, filtered by a BPF program
        perf = fds_of(v.pid, "[perf_event]")
        t.assertGreater(perf, 0)
        t.assertEqual(fds_of(v.pid, "bpf-prog") > 0, machine_wide)
        if machine_wide:
            t.assertEqual(perf % os.cpu_count(), 0)
            t.assertLessEqual(perf, 16 * os.cpu_count())
        else:
            t.assertGreaterEqual(perf, 5 * os.cpu_count())

    def leak(self):
        self.churner.send("leak")
        self.churner.expect("leak done")

    def stop(self):
        self.v.send_signal(2)

    def finish(self):
        t, v, pid = self.t, self.v, self.pid
        try:
            # wait for the detach: the program is no longer traced
            end = time.time() + 60
            while status_fields(pid)["TracerPid"] != "0" and time.time() < end:
                time.sleep(0.05)
            st = status_fields(pid)
            t.assertEqual(st["TracerPid"], "0")
            t.assertEqual(int(st["SigPnd"], 16), 0, st)
            t.assertEqual(int(st["ShdPnd"], 16), 0, st)
            t.assertNotIn(st["State"][0], "tT", st)
            # vmleak ends up blocked writing its report into the small pipe,
            # with nothing of the kernel events left open (the events that hold
            # the BPF filter are closed after the detach: each close waits for
            # an RCU grace period)
            kinds = ("[perf_event]", "bpf-prog", "bpf-map")
            end = time.time() + 20
            while any(fds_of(v.pid, k) for k in kinds) and time.time() < end:
                time.sleep(0.05)
            t.assertIsNone(v.poll())
            for kind in kinds:
                t.assertEqual(fds_of(v.pid, kind), 0, kind)
            chunks = []
            while True:
                b = os.read(self.r, 65536)
                if not b:
                    break
                chunks.append(b)
            out = b"".join(chunks).decode(errors="replace")
            t.assertEqual(v.wait(timeout=60), 0, out[-2000:])
            report = json.loads(out)
        finally:
            os.close(self.r)
            if v.poll() is None:
                v.kill()
                v.wait()
            if self.churner.proc.poll() is None:
                self.churner.send("check")
        # the program carries on untouched: same pid, its own checks pass
        ok = self.churner.expect("ok")
        t.assertGreater(int(ok.split()[1]), 0)
        t.assertEqual(self.churner.proc.wait(timeout=30), 0)
        self.churner.close()
        return report, self.churner.leaked()


class EventsEngines(unittest.TestCase):
    def run_engine(self, engine, env=None, machine_wide=False):
        s = Session(self, engine, env)
        try:
            time.sleep(1.0)  # attached, the threads churn
            s.check_attached(machine_wide)
            s.leak()
            time.sleep(0.5)  # more churn after the leaks
            s.stop()
        except BaseException:
            s.stop()
            s.finish()
            raise
        return s.finish()

    def check_report(self, report, leaked, engine):
        self.assertEqual(report["event_source"], engine)
        self.assertEqual(report["lost_events"], 0)
        self.assertEqual(report["verify"]["mismatches"], [])
        self.assertGreater(report["verify"]["checked"], 0)
        regions = [(int(g["start"], 16), g["length"])
                   for s in report["sites"] if not s["suppressed"] for g in s["regions"]]
        self.assertEqual(len(leaked), 32)
        kept = set(r for r in regions if r[1] != CHURN_LEN)
        self.assertEqual(kept, leaked)
        # regions in flight at the detach: at most one churn region per thread
        self.assertLessEqual(len([r for r in regions if r[1] == CHURN_LEN]), 4)
        self.assertEqual(len(regions), len(set(regions)))
        # every leaked region has its backtrace through the churn thread
        for s in report["sites"]:
            if s["suppressed"] or s["regions"][0]["length"] == CHURN_LEN:
                continue
            funcs = [f["function"] for f in s["frames"]]
            self.assertIn("churn", funcs, s["frames"])
        self.assertGreater(report["events"]["munmap"], 100)

    @unittest.skipUnless(kernel_events_usable(), "needs root and tracefs")
    def test_kernel_events(self):
        report, leaked = self.run_engine("kernel", machine_wide=bpf_usable())
        self.check_report(report, leaked, "kernel")
        self.assertIsNone(report["event_source_note"])

    @unittest.skipUnless(kernel_events_usable(), "needs root and tracefs")
    def test_kernel_events_per_thread(self):
        """The fallback where BPF is refused: per-thread inherited events."""
        report, leaked = self.run_engine("kernel", env={"VMLEAK_KEV_PER_TASK": "1"})
        self.check_report(report, leaked, "kernel")

    @unittest.skipUnless(kernel_events_usable(), "needs root and tracefs")
    def test_two_runs_at_once(self):
        """The kernel records a tracepoint only when every BPF program on it
        agrees: two vmleak runs must not filter out each other's processes."""
        self.two_runs(bpf_usable())

    @unittest.skipUnless(kernel_events_usable(), "needs root and tracefs")
    def test_two_runs_at_once_one_per_thread(self):
        """Per-thread events go through the other run's BPF program too."""
        self.two_runs(False)

    def two_runs(self, b_machine_wide):
        a = Session(self, "kernel")
        b = Session(self, "kernel", None if b_machine_wide else {"VMLEAK_KEV_PER_TASK": "1"})
        try:
            time.sleep(1.0)
            a.check_attached(bpf_usable())
            b.check_attached(b_machine_wide)
            a.leak()
            b.leak()
            time.sleep(0.3)
            a.stop()
            time.sleep(0.5)  # b alone, after a has gone: the churn goes on
            b.stop()
        except BaseException:
            a.stop()
            b.stop()
            a.finish()
            b.finish()
            raise
        report_a, leaked_a = a.finish()
        report_b, leaked_b = b.finish()
        self.check_report(report_a, leaked_a, "kernel")
        self.check_report(report_b, leaked_b, "kernel")

    def test_ptrace_events(self):
        report, leaked = self.run_engine("ptrace")
        self.check_report(report, leaked, "ptrace")
        self.assertEqual(report["event_source_note"], "--events ptrace")


@unittest.skipUnless(kernel_events_usable(), "needs root and tracefs")
class LostEvents(unittest.TestCase):
    """Tiny ring buffers and no back-pressure: the kernel drops events. They
    are counted and said, and the ledger is resynchronised from
    /proc/PID/maps: --verify still finds nothing, and every leaked region is
    reported (with its backtrace, or as found after the loss)."""

    def test_loss_is_reported_and_resynchronised(self):
        churner = Churner()
        env = dict(os.environ, VMLEAK_KEV_RING_KB="64", VMLEAK_KEV_NO_HOLD="1")
        try:
            v = subprocess.Popen([VMLEAK, "-q", "-j", "--verify", "--events", "kernel", "-p",
                                  str(churner.proc.pid)], stderr=subprocess.PIPE, text=True,
                                 env=env)
            time.sleep(1.0)
            churner.send("leak")
            churner.expect("leak done")
            time.sleep(0.3)
            v.send_signal(2)
            _, err = v.communicate(timeout=120)
            self.assertEqual(v.returncode, 0, err)
            report = json.loads(err)
            churner.send("check")
            churner.expect("ok")
            self.assertEqual(churner.proc.wait(timeout=30), 0)
        finally:
            churner.close()
        self.assertGreater(report["lost_events"], 0)
        self.assertEqual(report["verify"]["mismatches"], [])
        regions = set((int(g["start"], 16), g["length"])
                      for s in report["sites"] if not s["suppressed"] for g in s["regions"])
        # a leak whose mmap was lost is found in the maps, maybe merged with a
        # neighbour or split around a stale piece: every leaked page is in a
        # reported region
        for addr, length in churner.leaked():
            for page in range(addr, addr + length, 4096):
                self.assertTrue(any(a <= page < a + n for a, n in regions), hex(page))
        found = [s for s in report["sites"] if s.get("no_backtrace")]
        for s in found:
            self.assertEqual(s["frames"], [])
            self.assertEqual(s["no_backtrace"],
                             "found in /proc/PID/maps after lost kernel events")


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root and setpriv")
class Fallback(unittest.TestCase):
    """An unprivileged vmleak cannot mount tracefs nor open tracepoints with raw
    data: auto falls back to syscall stops and says so; kernel refuses."""

    def vmleak_as_nobody(self, args):
        return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               VMLEAK, *args], capture_output=True, text=True, timeout=120)

    def test_auto_falls_back_to_ptrace(self):
        churner = Churner(user=65534)
        try:
            proc = self.vmleak_as_nobody(["-q", "-j", "--verify", "--events", "auto", "-p",
                                          str(churner.proc.pid),
                                          "-d", "1.5"])
            self.assertEqual(proc.returncode, 0, proc.stderr)
            lines = proc.stderr.splitlines()
            self.assertTrue(lines[0].startswith("vmleak: kernel events unavailable ("), lines)
            self.assertTrue(lines[0].endswith("); using ptrace syscall stops"), lines)
            report = json.loads("\n".join(lines[1:]))
            self.assertEqual(report["event_source"], "ptrace")
            self.assertTrue(report["event_source_note"])
            self.assertIn(report["event_source_note"], lines[0])
            self.assertEqual(report["verify"]["mismatches"], [])
            self.assertGreater(report["events"]["munmap"], 0)
            churner.send("check")
            churner.expect("ok")
            self.assertEqual(churner.proc.wait(timeout=30), 0)
        finally:
            churner.close()

    def test_kernel_refused(self):
        churner = Churner(user=65534)
        try:
            proc = self.vmleak_as_nobody(["-q", "--events", "kernel", "-p",
                                          str(churner.proc.pid), "-d", "1"])
            self.assertEqual(proc.returncode, 1)
            self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
            self.assertTrue(proc.stderr.startswith("vmleak: --events kernel: "), proc.stderr)
            st = status_fields(churner.proc.pid)
            self.assertEqual(st["TracerPid"], "0")
            churner.send("check")
            churner.expect("ok")
            self.assertEqual(churner.proc.wait(timeout=30), 0)
        finally:
            churner.close()

    def test_kernel_needs_attach_mode(self):
        proc = subprocess.run([VMLEAK, "--events", "kernel", "--", "/bin/true"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr, "vmleak: --events kernel needs -p (launch mode uses "
                                      "its seccomp filter)\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
