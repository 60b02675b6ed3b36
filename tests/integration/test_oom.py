#!/usr/bin/env python3
"""tests/integration/test_oom.py - the out-of-memory rule (docs/safety.md "Out of
memory"). vmleak_fault (vmleak with tests/fault/fault_inject.c) fails the Nth
allocation of vmleak's own code, or every one from the Nth, for N across a whole
launch-mode trace of tests/progs/oom_workload and across attach/detach cycles on
rel_checksum. Every run must end without a sanitizer report or a signal, either
with exit 0 and the exact report of an undisturbed run (same regions, addresses
included, ASLR off) or with exit 1 and one line "vmleak: ... out of memory"; the
traced program must be unharmed: its full, correct output (or none at all when
vmleak failed before starting it), or, attached, running untraced to a correct
checksum."""
import ctypes
import json
import os
import re
import tempfile
import unittest

from vmleak_common import BUILD, main, prog, run
from test_reliability_attach import Checksummer

FAULTY = os.path.join(BUILD, "tests", "vmleak_fault")
ONE_LINE = re.compile(r"vmleak: .*(out of memory|Cannot allocate memory)[^\n]*\n")
ADDR_NO_RANDOMIZE = 0x0040000


def no_aslr():
    libc = ctypes.CDLL(None, use_errno=True)
    cur = libc.personality(0xFFFFFFFF)
    libc.personality(cur | ADDR_NO_RANDOMIZE)


def regions(report):
    """Every reported region (suppressed ones too) without times, pids or frames."""
    return sorted((s["syscall"], s["kind"], s["prot"], tuple(s["flags"]), r["start"],
                   r["end"], r["path"] or "") for s in report["sites"] for r in s["regions"])


def sites(report):
    return sorted((s["syscall"], s["category"], s["suppressed"], s["count"], s["bytes"],
                   tuple((f.get("function"), f.get("module")) for f in s["frames"]))
                  for s in report["sites"])


def fault_env(nth, persist=False, count=None):
    env = dict(os.environ)
    # fixed width: the traced program's environment (and so its stack) is the same
    env["VMLEAK_FAULT_NTH"] = f"{nth:08d}"
    env["VMLEAK_FAULT_PERSIST"] = "1" if persist else "0"
    if count:
        env["VMLEAK_FAULT_COUNT"] = count
    return env


class LaunchMode(unittest.TestCase):
    def run_faulty(self, nth, persist=False, count=None):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            p = run([FAULTY, "-q", "--all", "--format", "json", "-o", out.name, "--",
                     prog("oom_workload")], capture_output=True, text=True, timeout=120,
                    env=fault_env(nth, persist, count), preexec_fn=no_aslr)
            with open(out.name) as f:
                text = f.read()
        return p, text

    @classmethod
    def setUpClass(cls):
        with tempfile.NamedTemporaryFile() as count:
            p, text = cls.run_faulty(cls, 0, count=count.name)
            with open(count.name) as f:
                cls.calls = int(f.read())
        if p.returncode != 0 or p.stderr:
            raise AssertionError(f"undisturbed run failed: {p.returncode} {p.stderr!r}")
        cls.stdout = p.stdout
        cls.report = json.loads(text)

    def check(self, nth, persist):
        p, text = self.run_faulty(nth, persist)
        what = f"N={nth}{'+' if persist else ''}: rc={p.returncode} stderr={p.stderr!r}"
        self.assertNotIn("Sanitizer", p.stderr, what)
        self.assertNotIn("runtime error", p.stderr, what)
        self.assertIn(p.returncode, (0, 1), what)
        # the program ran to its end with the right output, or never started
        self.assertIn(p.stdout, (self.stdout, ""), what)
        if p.returncode == 0:
            self.assertEqual(p.stderr, "", what)
            self.assertEqual(p.stdout, self.stdout, what)
            report = json.loads(text)
            self.assertEqual(regions(report), regions(self.report), what)
            self.assertEqual(sites(report), sites(self.report), what)
            return "exact"
        self.assertRegex(p.stderr, ONE_LINE, what)
        self.assertEqual(p.stderr.count("\n"), 1, what)
        return "refused" if p.stdout == "" else "stopped"

    def test_workload_is_worth_it(self):
        self.assertEqual(self.stdout.splitlines()[0], "start")
        self.assertTrue(self.stdout.splitlines()[1].startswith("ok "))
        ops = {s["syscall"] for s in self.report["sites"]}
        self.assertTrue({"mmap", "mremap", "brk"} <= ops, ops)
        self.assertGreater(self.calls, 300)

    def test_nth_allocation_fails_once(self):
        # dense at the start (options, rules, launch), then across the trace
        ns = list(range(1, 25)) + list(range(25, self.calls, max(1, self.calls // 60)))
        ns.append(self.calls + 1)  # past the last allocation: nothing fails
        seen = {self.check(n, False) for n in ns}
        # each outcome happened: the injection reached the trace and the report
        self.assertEqual(seen, {"exact", "refused", "stopped"})

    def test_every_allocation_from_the_nth_fails(self):
        ns = range(1, self.calls + 2, max(1, self.calls // 20))
        seen = {self.check(n, True) for n in ns}
        self.assertIn("stopped", seen)


KEV_FALLBACK = ("vmleak: kernel events unavailable (out of memory); "
                "using ptrace syscall stops\n")


class AttachMode(unittest.TestCase):
    def attach(self, target, nth, count=None, persist=False):
        return run([FAULTY, "-q", "-o", os.devnull, "-p", str(target.proc.pid), "-d", "0.2"],
                   capture_output=True, text=True, timeout=60,
                   env=fault_env(nth, persist, count))

    def test_detaches_cleanly_and_the_program_is_unharmed(self):
        target = Checksummer(2)
        try:
            with tempfile.NamedTemporaryFile() as count:
                p = self.attach(target, 0, count.name)
                self.assertEqual((p.returncode, p.stderr), (0, ""))
                with open(count.name) as f:
                    calls = int(f.read())
            outcomes = set()
            ns = sorted(set(range(1, 20, 3)) | set(range(20, calls, max(1, calls // 15))))
            # once each, then from the Nth on for every third N
            runs = [(n, False) for n in ns + [10**9]] + [(n, True) for n in ns[::3]]
            for nth, persist in runs:
                p = self.attach(target, nth, persist=persist)
                what = f"N={nth}{'+' if persist else ''}: rc={p.returncode} stderr={p.stderr!r}"
                self.assertNotIn("Sanitizer", p.stderr, what)
                self.assertNotIn("runtime error", p.stderr, what)
                self.assertIn(p.returncode, (0, 1), what)
                if p.returncode:
                    self.assertRegex(p.stderr, ONE_LINE, what)
                    self.assertEqual(p.stderr.count("\n"), 1, what)
                else:
                    # out of memory while setting up the kernel events is no loss:
                    # vmleak falls back to syscall stops, exact, and says so
                    self.assertIn(p.stderr, ("", KEV_FALLBACK), what)
                outcomes.add(p.returncode)
                self.assertIsNone(target.proc.poll(), f"target died at {what}")
                target.assert_untraced_and_running(self)
            self.assertEqual(outcomes, {0, 1})
            target.finish(self)
        finally:
            target.close()
            for f in (target.proc.stdin, target.proc.stdout):
                if f:
                    f.close()


if __name__ == "__main__":
    main()
