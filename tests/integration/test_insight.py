#!/usr/bin/env python3
"""tests/integration/test_insight.py - where the memory is and how it grows:
resident bytes per site are counted page by page, exactly (8 regions of 1 MiB
with 64 KiB written in each are 8.0 MiB with 512.0 KiB resident; an untouched
region is 0 resident), measured live in interim reports and at the exit in the
final one; and each site's series of live bytes says whether it is still
growing or has plateaued."""
import json
import os
import re
import tempfile
import unittest

from vmleak_common import VMLEAK, main, prog, run

KiB = 1024
MiB = 1024 * KiB


def vmleak(argv, options=(), fmt="json"):
    """Launch argv under vmleak; returns (list of reports or the text, proc)."""
    with tempfile.NamedTemporaryFile(suffix=".out") as out:
        cmd = [VMLEAK, "-q", "--format", fmt, "-o", out.name, *options, "--", *argv]
        proc = run(cmd, capture_output=True, text=True, timeout=120)
        with open(out.name) as f:
            text = f.read()
    if not text.strip():
        raise AssertionError(f"no report from {cmd}: rc={proc.returncode} {proc.stderr!r}")
    if fmt == "json":
        return [json.loads(line) for line in text.splitlines() if line.strip()], proc
    return text, proc


def site_at(report, function):
    """The unsuppressed site whose call site is function."""
    hits = [s for s in report["sites"] if not s["suppressed"]
            and any(f["function"] == function for f in s["frames"])]
    if len(hits) != 1:
        raise AssertionError(f"{len(hits)} sites at {function}: {report['sites']}")
    return hits[0]


class Resident(unittest.TestCase):
    def check_resident(self, report):
        touched, untouched = site_at(report, "map_mib"), site_at(report, "map_untouched")
        self.assertEqual((touched["bytes"], touched["count"]), (8 * MiB, 8))
        self.assertEqual(touched["resident_bytes"], 512 * KiB)
        self.assertEqual(touched["swapped_bytes"], 0)
        for r in touched["regions"]:
            self.assertEqual((r["length"], r["resident_bytes"]), (MiB, 64 * KiB), r)
        self.assertEqual((untouched["bytes"], untouched["resident_bytes"]), (MiB, 0))
        self.assertEqual(untouched["regions"][0]["resident_bytes"], 0)
        self.assertEqual(report["totals"]["resident_bytes"], 512 * KiB)
        self.assertEqual(report["totals"]["swapped_bytes"], 0)

    def test_json_at_exit(self):
        reports, proc = vmleak([prog("resident")])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(reports[-1]["final"])
        self.check_resident(reports[-1])

    def test_json_live_in_interim_reports(self):
        # the program sleeps 1.5 s after mapping: interim reports measure it alive
        reports, proc = vmleak([prog("resident"), "1500"], options=["--interval", "0.5"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        interim = [r for r in reports if not r["final"] and r["sites"]]
        self.assertGreaterEqual(len(interim), 1, reports)
        for r in interim + [reports[-1]]:
            self.check_resident(r)

    def test_text(self):
        text, proc = vmleak([prog("resident")], fmt="text")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertRegex(text, r"(?m)^#\d+  8\.0 MiB \(512\.0 KiB resident\) in 8 regions  mmap ")
        self.assertRegex(text, r"(?m)^#\d+  1\.0 MiB \(0 B resident\) in 1 region  mmap ")


    def test_fork_copy_kept_by_the_child(self):
        # the parent unmaps its copy, the child keeps its own: the region is
        # reported under the child, with the child's figure
        reports, proc = vmleak([prog("fork_copies"), "parent-unmaps"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        _parent, child = [int(w) for w in proc.stdout.split()[1::2]]
        site = [s for s in reports[-1]["sites"] if not s["suppressed"]][0]
        self.assertEqual(site["pids"], [child])
        self.assertEqual(site["resident_bytes"], 4096)
        self.assertEqual(site["regions"][0]["resident_bytes"], 4096)


class Growth(unittest.TestCase):
    def test_steady_leak_still_growing(self):
        reports, proc = vmleak([prog("growth"), "steady"], options=["--interval", "0.2"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        site = site_at(reports[-1], "leak")
        series = site["series"]
        self.assertGreaterEqual(len(series), 10, series)
        times = [p[0] for p in series]
        self.assertEqual(times, sorted(times))
        self.assertEqual(len(set(times)), len(times))
        self.assertEqual(series[-1][1], site["bytes"])
        self.assertEqual(series[-1][2], site["resident_bytes"])
        self.assertLess(series[0][1], series[-1][1] / 4)
        self.assertEqual(site["trend"], "growing")
        # every interim report adds a point with a resident figure
        self.assertGreaterEqual(sum(1 for p in series if p[2] is not None), 8)

    def test_steady_leak_text(self):
        text, proc = vmleak([prog("growth"), "steady"], options=["--interval", "0.2"],
                            fmt="text")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        final = text.rsplit("-- interim report", 1)[-1].split(" --\n", 1)[-1]
        # sampled every 0.2 s, each step is the growth between two points
        m = re.search(r"(?m)^    trend: growing ([\d.]+) KiB every (\d+) ms "
                      r"\(([\d.]+) KiB/s\), still growing at the end$", final)
        self.assertIsNotNone(m, final)
        self.assertGreaterEqual(float(m.group(1)), 40.0)
        self.assertGreaterEqual(int(m.group(2)), 150)

    def test_plateau(self):
        reports, proc = vmleak([prog("growth"), "plateau"], options=["--interval", "0.2"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        site = site_at(reports[-1], "leak")
        self.assertEqual(site["trend"], "plateau", site["series"])
        text, proc = vmleak([prog("growth"), "plateau"], fmt="text")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        m = re.search(r"(?m)^    trend: grew to ([\d.]+ KiB) by \+([\d.]+) s, then flat "
                      r"\(to \+([\d.]+) s\)$", text)
        self.assertIsNotNone(m, text)
        self.assertLess(float(m.group(2)), 1.2)
        self.assertGreater(float(m.group(3)), 2.0)

    def test_series_without_interval(self):
        # the periodic sample alone gives a 2 s run a series
        reports, proc = vmleak([prog("growth"), "steady"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(reports), 1)
        site = site_at(reports[0], "leak")
        self.assertGreaterEqual(len(site["series"]), 5, site["series"])
        self.assertEqual(site["trend"], "growing")
        self.assertEqual(reports[0]["series_other"], [])


if __name__ == "__main__":
    main()
