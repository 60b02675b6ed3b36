#!/usr/bin/env python3
"""tests/integration/test_container.py - a process in another mount namespace
(as in a container) is symbolized from its own files: the leaker runs from a
tmpfs mounted only in its namespace, so the path in its /proc/PID/maps does not
exist for vmleak, and the report must still name main and its source line."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from vmleak_common import SRC, kill_group, main, prog, run_vmleak, source_line, spawn


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"), "needs root and unshare")
class ForeignMountNamespace(unittest.TestCase):
    def attach_to_leaker(self, exe):
        """Runs exe from a tmpfs mounted only in its own mount namespace, attaches
        for 0.5 s; returns (pid, mount point, unsuppressed sites)."""
        with tempfile.TemporaryDirectory() as mnt:
            script = (f'mount -t tmpfs none {mnt} && cp {exe} {mnt}/leaker '
                      f'&& exec {mnt}/leaker')
            leaker = spawn(["unshare", "--mount", "sh", "-c", script],
                           stdout=subprocess.PIPE)
            try:
                self.assertTrue(leaker.stdout.readline())  # it runs
                self.assertFalse(os.path.exists(f"{mnt}/leaker"))  # not for us
                with tempfile.NamedTemporaryFile(suffix=".json") as out:
                    proc = run_vmleak(["-q", "-j", "-o", out.name, "-p", str(leaker.pid),
                                       "-d", "0.5"])
                    with open(out.name) as f:
                        report = json.load(f)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                sites = [s for s in report["sites"] if not s["suppressed"]]
                self.assertTrue(sites, report["sites"])
                return leaker.pid, mnt, sites
            finally:
                kill_group(leaker)
                leaker.stdout.close()

    def test_attach_symbolizes_from_the_process_root(self):
        pid, mnt, sites = self.attach_to_leaker(prog("slow_leaker"))
        mains = [f for s in sites for f in s["frames"] if f["function"] == "main"]
        self.assertTrue(mains, sites[0]["frames"])
        self.assertEqual(mains[0]["module"], f"/proc/{pid}/root{mnt}/leaker")
        src = os.path.join(SRC, "tests", "progs", "slow_leaker.c")
        self.assertEqual(mains[0]["line"], source_line(src, "mmap(NULL, 4096"))

    def test_unwinds_through_code_without_frame_pointers(self):
        """The unwinder reads the program's call frame information from the
        process's own file too: no frame pointer to fall back on here."""
        src = os.path.join(SRC, "tests", "progs", "slow_leaker.c")
        with tempfile.TemporaryDirectory() as d:
            exe = os.path.join(d, "leaker_nofp")
            subprocess.run(["gcc", "-O2", "-fomit-frame-pointer", "-g", "-o", exe, src],
                           check=True)
            _, _, sites = self.attach_to_leaker(exe)
        names = [f["function"] for f in sites[0]["frames"]]
        self.assertIn("main", names)
        self.assertIn("__libc_start_main", names[names.index("main"):], names)


if __name__ == "__main__":
    main()
