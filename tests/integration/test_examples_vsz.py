#!/usr/bin/env python3
"""tests/integration/test_examples_vsz.py - the examples do what they claim,
without vmleak: each is run with VMLEAK_EXAMPLE_VMSIZE=1, which makes it print
its VmSize (from /proc/self/status) before and after its loop, and the leaking
ones must grow VSZ by at least 90% of what they leak while the fixed one must
not grow at all.

Env: VMLEAK_BUILD = the build directory (binaries in $VMLEAK_BUILD/examples)."""
import os
import re
import resource
import unittest

from vmleak_common import main, run

BUILD = os.environ.get("VMLEAK_BUILD")
KIB = 1024
MIB = 1024 * KIB
CLONE_STACK = 40960


def run_example(name, *args):
    """Run examples/NAME and return (before, after) VmSize in bytes."""
    if not BUILD:
        raise AssertionError("VMLEAK_BUILD is not set (run through ctest)")
    path = os.path.join(BUILD, "examples", name)
    env = dict(os.environ, VMLEAK_EXAMPLE_VMSIZE="1")
    proc = run([path, *map(str, args)], env=env, capture_output=True,
               text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"{name} exited {proc.returncode}: {proc.stderr.strip()}")
    sizes = dict(re.findall(r"^vmsize (before|after) (-?\d+)$", proc.stderr, re.M))
    if set(sizes) != {"before", "after"}:
        raise AssertionError(f"{name}: no vmsize lines in stderr: {proc.stderr!r}")
    before, after = int(sizes["before"]) * KIB, int(sizes["after"]) * KIB
    if before <= 0 or after <= 0:
        raise AssertionError(f"{name}: could not read VmSize: {proc.stderr!r}")
    return before, after


def default_thread_stack():
    """glibc's default pthread stack size: RLIMIT_STACK, or 2 MiB when unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_STACK)
    if soft == resource.RLIM_INFINITY:
        return 2 * MIB
    return max(soft, 16 * KIB)


class ExampleVsz(unittest.TestCase):
    def test_clone_stack_leak_grows(self):
        n = 20
        before, after = run_example("clone_stack_leak", n)
        self.assertGreaterEqual(after - before, int(n * CLONE_STACK * 0.9),
                                f"VSZ {before} -> {after}")

    def test_clone_stack_leak_grows_with_n(self):
        # twice the iterations, about twice the growth: the loop is the leak
        b1, a1 = run_example("clone_stack_leak", 10)
        b2, a2 = run_example("clone_stack_leak", 40)
        self.assertGreaterEqual((a2 - b2) - (a1 - b1), int(30 * CLONE_STACK * 0.9))

    def test_clone_stack_fixed_stays_flat(self):
        n = 40
        before, after = run_example("clone_stack_fixed", n)
        # the leaking twin would grow by n * 40 KiB; this must not grow by one stack
        self.assertLess(after - before, CLONE_STACK, f"VSZ {before} -> {after}")

    def test_pthread_leak_keeps_stacks(self):
        n = 6
        before, after = run_example("pthread_leak", n)
        self.assertGreaterEqual(after - before, int(n * default_thread_stack() * 0.9),
                                f"VSZ {before} -> {after}")

    def test_malloc_leak_grows(self):
        n = 8192
        before, after = run_example("malloc_leak", n)
        # 1 MiB from leak_big's mmap plus n * 128 bytes of sbrk heap
        self.assertGreaterEqual(after - before, int((MIB + n * 128) * 0.9),
                                f"VSZ {before} -> {after}")

    def test_malloc_leak_heap_part_grows_with_n(self):
        b1, a1 = run_example("malloc_leak", 1000)
        b2, a2 = run_example("malloc_leak", 17000)
        self.assertGreaterEqual((a2 - b2) - (a1 - b1), int(16000 * 128 * 0.9))


if __name__ == "__main__":
    main()
