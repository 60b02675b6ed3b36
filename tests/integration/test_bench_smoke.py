#!/usr/bin/env python3
"""tests/integration/test_bench_smoke.py - keeps bench/ from rotting: runs
`bench/run.sh --quick` (tiny sizes, 2 rounds) against the already-built tree and
checks that it exits 0 and prints, for every workload, a measured bare row, a
row for every tool in each pinning table (a number or an n/a reason, never a
crash), a summary row and the targets section. No timing assertions.

Env: VMLEAK_BUILD (the build directory), VMLEAK_SRC (the source tree)."""
import os
import re
import unittest

from vmleak_common import main, run

BUILD = os.environ.get("VMLEAK_BUILD")
SRC = os.environ.get("VMLEAK_SRC")

WORKLOADS = ["mmap_storm", "mmap_threads", "syscall_heavy", "malloc_mix", "clone_stack_leak",
             "python3 churn", "gcc -O2 -c"]
TOOLS = ["bare", "vmleak --depth 0", "vmleak", "strace", "strace --seccomp-bpf", "strace -k",
         "strace -k --seccomp-bpf", "massif --pages-as-heap"]
NUMBER = re.compile(r"^\d+\.\d+$")


def table_rows(text, heading):
    """Rows (lists of cells) of the first Markdown table after HEADING."""
    start = text.index(heading)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if set(cells[0]) <= {"-", " "} or cells[0] == "workload":
            continue
        rows.append(cells)
    return rows


class BenchSmoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not BUILD or not SRC:
            raise unittest.SkipTest("VMLEAK_BUILD and VMLEAK_SRC must be set (run through ctest)")
        cmd = ["sh", os.path.join(SRC, "bench", "run.sh"), "--quick", "--no-build",
               "--build-dir", BUILD]
        cls.proc = run(cmd, capture_output=True, text=True, timeout=170)
        cls.out = cls.proc.stdout

    def test_exits_zero(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr[-2000:])

    def test_every_pinning_table_has_every_workload_and_tool(self):
        for heading in ("### unpinned", "### pinned"):
            if heading == "### pinned" and heading not in self.out:
                continue  # no taskset on this machine
            rows = table_rows(self.out, heading)
            seen = {(r[0], r[1]) for r in rows}
            for w in WORKLOADS:
                for t in TOOLS:
                    self.assertIn((w, t), seen, f"{heading}: no row for {w} / {t}")
            for r in rows:
                median = r[2]
                self.assertTrue(NUMBER.match(median) or median.startswith("n/a"),
                                f"{heading}: bad median cell {r}")
                if r[1] == "bare":
                    self.assertRegex(median, NUMBER, f"{heading}: bare not measured: {r}")
                    self.assertEqual(r[3], "1.00×")

    def test_summary_has_a_row_per_workload(self):
        rows = table_rows(self.out, "### Summary")
        self.assertEqual([r[0] for r in rows], WORKLOADS)
        for r in rows:
            self.assertRegex(r[1], r"^(\d+|n/a)$", f"syscall count cell: {r}")

    def test_floor_row_and_targets(self):
        self.assertIn("| syscall_heavy | seccomp floor (allow-all filter) |", self.out)
        targets = self.out[self.out.index("### Targets"):]
        self.assertIn("syscall_heavy, --depth 0 no slower than strace --seccomp-bpf", targets)
        self.assertIn("peak RSS on mmap_storm", targets)


if __name__ == "__main__":
    main()
