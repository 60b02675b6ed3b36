#!/usr/bin/env python3
"""tests/integration/test_log.py - vmleak --log writes every memory syscall the
way strace prints it: for the same deterministic programs, vmleak's log and
strace's output are equal line for line once pids and runtime-dependent
addresses are dropped the same way on both sides."""
import os
import re
import shutil
import tempfile
import unittest

from vmleak_common import VMLEAK, example, main, prog, run

SYSCALLS = "mmap,mmap2,munmap,mremap,brk,shmat,shmdt"
ADDR = re.compile(r"0x[0-9a-f]{6,}")
SHMID = re.compile(r"^shmat\(\d+")  # segment ids differ from run to run
PAD = re.compile(r"\) +=")  # padding depends on the pid's width: checked apart
RESULT_COLUMN = 40  # strace -f pads "= " to this column, counting "PID "


def normalize(text):
    out = []
    for line in text.splitlines():
        if line.startswith(("---", "+++", "[")) or not line.strip():
            continue
        pid, rest = line.split(" ", 1)
        if rest.lstrip().startswith("["):
            continue  # strace's "[ Process PID n runs in 32 bit mode. ]"
        int(pid)  # every line starts with the pid
        rest = ADDR.sub("ADDR", rest.strip())
        rest = SHMID.sub("shmat(ID", rest)
        out.append(PAD.sub(") =", rest))
    return out


def misaligned(text):
    """Lines whose short call does not put "= " at strace's result column."""
    bad = []
    for line in text.splitlines():
        m = re.search(r"\) +=", line)
        if m and m.start() + 2 < RESULT_COLUMN and line.index("= ", m.start()) != RESULT_COLUMN:
            bad.append(line)
    return bad


def strace_lines(argv):
    with tempfile.NamedTemporaryFile(mode="r", suffix=".strace") as f:
        run(["strace", "-f", "-qq", "-e", f"trace={SYSCALLS}", "-o", f.name, *argv],
            check=False, capture_output=True, timeout=120)
        text = f.read()
    assert not misaligned(text), "the column check disagrees with strace itself"
    return normalize(text)


def vmleak_lines(argv):
    with tempfile.NamedTemporaryFile(mode="r", suffix=".log") as f:
        run([VMLEAK, "-q", "-o", os.devnull, "--log", f.name, "--", *argv],
            check=False, capture_output=True, timeout=120)
        text = f.read()
    if misaligned(text):
        raise AssertionError(f"vmleak --log misaligned: {misaligned(text)[:3]}")
    return normalize(text)


@unittest.skipUnless(shutil.which("strace"), "needs strace")
class LogMatchesStrace(unittest.TestCase):
    def compare(self, argv):
        theirs = strace_lines(argv)
        ours = vmleak_lines(argv)
        self.assertGreater(len(theirs), 5)
        self.assertEqual(ours, theirs)

    def test_memcalls(self):
        self.compare([prog("memcalls")])

    def test_clone_stack_leak(self):
        self.compare([example("clone_stack_leak"), "5"])

    def test_malloc_leak(self):
        self.compare([example("malloc_leak")])


if __name__ == "__main__":
    main()
