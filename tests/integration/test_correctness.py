#!/usr/bin/env python3
"""tests/integration/test_correctness.py - the report's arithmetic on shapes real
programs have: fork copies counted once, one site across processes, mremap'd
regions, filtered headlines, shared memory, exited processes in attach mode."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from vmleak_common import (VMLEAK, Leaker, example, kill_group, main, prog, run_json,
                           run_vmleak, spawn, unsuppressed)

MIB = 1 << 20


def fork_copies(mode, options=()):
    report, proc = run_json([prog("fork_copies"), mode], options)
    m = re.search(r"parent (\d+) child (\d+)", proc.stdout)
    if not m:
        raise AssertionError(f"fork_copies {mode} printed {proc.stdout!r}")
    return report, int(m.group(1)), int(m.group(2))


def region_pids(site):
    return sorted(r["pid"] for r in site["regions"])


class ForkCopies(unittest.TestCase):
    """A region inherited through fork is one leak, counted in the address space
    that made it; the child's copy counts only where no ancestor holds it."""

    def one_site(self, report, length):
        sites = unsuppressed(report)
        self.assertEqual(len(sites), 1, sites)
        self.assertEqual(sites[0]["bytes"], length, sites[0]["regions"])
        self.assertEqual(sites[0]["count"], 1)
        self.assertEqual(report["totals"]["bytes"], length)
        self.assertEqual(report["totals"]["regions"], 1)
        return sites[0]

    def test_child_exits_first_counted_once_under_parent(self):
        report, parent, child = fork_copies("exit")
        site = self.one_site(report, MIB)
        self.assertEqual(region_pids(site), [parent])
        procs = {p["pid"]: p for p in report["processes"]}
        self.assertEqual(procs[parent]["bytes"], MIB)
        self.assertEqual(procs[child]["bytes"], 0)

    def test_parent_unmaps_its_copy_child_keeps_it(self):
        report, parent, child = fork_copies("parent-unmaps")
        site = self.one_site(report, MIB)
        self.assertEqual(region_pids(site), [child])

    def test_parent_exits_first(self):
        report, parent, child = fork_copies("parent-first")
        site = self.one_site(report, MIB)
        self.assertEqual(region_pids(site), [parent])

    def test_vfork_child_maps_into_the_shared_space_once(self):
        report, parent, child = fork_copies("vfork")
        site = self.one_site(report, 64 * 1024)
        self.assertEqual(region_pids(site), [child])

    def test_suppressed_totals_not_doubled(self):
        plain, _ = run_json([prog("fork_copies"), "vfork"], ["--all"])
        forked, _, _ = fork_copies("exit", ["--all"])
        loader = lambda r: sum(s["bytes"] for s in r["sites"] if s["category"] == "loader")
        self.assertGreater(loader(plain), 0)
        self.assertEqual(loader(forked), loader(plain))


class SitesAcrossProcesses(unittest.TestCase):
    def test_same_call_site_in_three_execs_is_one_site(self):
        leak = example("clone_stack_leak")
        script = f"{leak} 2 >/dev/null; {leak} 2 >/dev/null; {leak} 2 >/dev/null"
        report, proc = run_json(["sh", "-c", script])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        sites = unsuppressed(report)
        self.assertEqual(len(sites), 1, [s["pids"] for s in sites])
        self.assertEqual(sites[0]["count"], 6)
        self.assertEqual(len(sites[0]["pids"]), 3)
        self.assertEqual(sites[0]["pids"], sorted({r["pid"] for r in sites[0]["regions"]}))
        frame = sites[0]["frames"][0]
        self.assertRegex(frame["build_id"] or "", r"^[0-9a-f]{16,}$", frame)
        self.assertIsNotNone(frame["module_offset"])

    def test_fork_children_leaking_at_one_line_are_one_site(self):
        report, proc = run_json([prog("rel_storm"), "forks", "6", "3"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        sites = unsuppressed(report)
        self.assertEqual(len(sites), 1, [s["pids"] for s in sites])
        self.assertEqual(len(sites[0]["pids"]), 6)


class Mremap(unittest.TestCase):
    """A remapped region is one region: it keeps its kind, prot and flags, belongs
    to its latest resizing call, and JSON keeps the frames that first mapped it."""

    def test_grown_regions_are_one_region_each(self):
        report, proc = run_json([prog("mremap_leak")])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        sites = unsuppressed(report)
        self.assertEqual(report["totals"]["regions"], 2, [(s["syscall"], s["bytes"]) for s in sites])
        self.assertEqual(report["totals"]["bytes"], (4 << 20) + 4096 + 192 * 1024)
        for s in sites:
            self.assertEqual(s["syscall"], "mremap")
            self.assertEqual(s["kind"], "anon")
            self.assertEqual(s["prot"], "rw-")
            self.assertEqual(sorted(s["flags"]), ["MAP_ANONYMOUS", "MAP_PRIVATE"])
        table = next(s for s in sites if s["bytes"] == 192 * 1024)
        first = [f["function"] for f in table["regions"][0]["first_frames"]]
        self.assertIn("make_table", first)
        self.assertIn("grow_table", [f["function"] for f in table["frames"]])
        buf = next(s for s in sites if s["bytes"] != 192 * 1024)
        self.assertEqual(buf["category"], "program")
        self.assertIn("grow_buffer", [f["function"] for f in buf["frames"]])

    def test_log_line_decodes_mremap_flags(self):
        with tempfile.NamedTemporaryFile(suffix=".log") as log:
            proc = run_vmleak(["-q", "--log", log.name, "--", prog("mremap_leak")])
            self.assertEqual(proc.returncode, 0, proc.stderr)
            text = open(log.name).read()
        self.assertRegex(text, r"mremap\(0x[0-9a-f]+, 65536, 196608, MREMAP_MAYMOVE\) = 0x")


class SharedMemory(unittest.TestCase):
    def test_size_from_the_process_own_ipc_namespace(self):
        report, proc = run_json([prog("shm_ns")])
        if proc.returncode == 77:
            self.skipTest("no IPC namespaces or shm_next_id here")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        m = re.search(r"shm (0x[0-9a-f]+)", proc.stdout)
        self.assertIsNotNone(m, proc.stdout)
        sites = [s for s in report["sites"] if s["syscall"] == "shmat"]
        self.assertEqual(len(sites), 1, report["sites"])
        self.assertEqual(sites[0]["bytes"], 5 * 4096)
        self.assertEqual(sites[0]["regions"][0]["start"], m.group(1))


class VerifyAtDetach(unittest.TestCase):
    """Calls in flight when vmleak detaches (a munmap applied at its entry, not yet
    made by the kernel) must not show as mismatches: a mismatch means a bug."""

    def test_churning_threads_verify_clean_every_time(self):
        churn = spawn([prog("churn"), "4"], stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(churn.stdout.readline().strip(), "ready")
            for _ in range(10):
                with tempfile.NamedTemporaryFile(suffix=".json") as out:
                    proc = run_vmleak(["-q", "-j", "--verify", "-o", out.name,
                                       "-p", str(churn.pid), "-d", "0.15"])
                    self.assertEqual(proc.returncode, 0, proc.stderr)
                    with open(out.name) as f:
                        report = json.load(f)
                self.assertGreater(report["verify"]["checked"], 0)
                self.assertEqual(report["verify"]["mismatches"], [])
                # at most one 64 KiB region per thread can be live at detach
                self.assertLessEqual(report["totals"]["regions"], 4)
            self.assertIsNone(churn.poll())  # unharmed
        finally:
            kill_group(churn)


class HonestHeadline(unittest.TestCase):
    """Filters hide sites from the list, never from the headline."""

    def test_min_size_hiding_everything_is_said(self):
        proc = run_vmleak(["-q", "--min-size", "1M", "--", example("clone_stack_leak"), "5"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("no unmatched mappings shown", proc.stderr)
        self.assertRegex(proc.stderr, r"not shown: 5 regions \(200\.0 KiB\) in sites under "
                         r"--min-size 1\.0 MiB")

    def test_min_age_hiding_everything_is_said(self):
        proc = run_vmleak(["-q", "--min-age", "60", "--", example("clone_stack_leak"), "3"])
        self.assertIn("no unmatched mappings shown", proc.stderr)
        self.assertRegex(proc.stderr, r"not shown: 3 regions \(120\.0 KiB\) younger than "
                         r"--min-age 60 s")

    def test_json_totals_count_what_was_hidden(self):
        report, _ = run_json([example("clone_stack_leak"), "4"], ["--min-size", "1M"])
        self.assertEqual(report["totals"]["regions"], 0)
        self.assertEqual(report["totals"]["hidden_regions"], 4)
        self.assertEqual(report["totals"]["hidden_bytes"], 4 * 40960)

    def test_nothing_hidden_says_nothing_more(self):
        proc = run_vmleak(["-q", "--", example("clone_stack_fixed"), "3"])
        self.assertIn("vmleak: no unmatched mappings (", proc.stderr)
        self.assertNotIn("not shown", proc.stderr)


class ExitedInAttachMode(unittest.TestCase):
    """Attach mode: processes that exited during the window had their memory freed
    by the kernel; they are summed in one line unless --exited lists them."""

    def attach(self, extra=()):
        leaker = Leaker(name="fork_churn")
        try:
            self.assertGreaterEqual(leaker.wait_rounds(2), 2)
            with tempfile.NamedTemporaryFile(suffix=".json") as out:
                proc = run_vmleak(["-q", "-j", "-o", out.name, "-p", str(leaker.proc.pid),
                                   "-d", "0.6", *extra])
                self.assertEqual(proc.returncode, 0, proc.stderr)
                with open(out.name) as f:
                    report = json.load(f)
            n = leaker.rounds()
            self.assertGreater(leaker.wait_rounds(n + 2), n + 1)  # unharmed
            return report, leaker.proc.pid
        finally:
            leaker.close()

    def test_exited_children_summed_by_default(self):
        report, parent = self.attach()
        functions = lambda s: [f["function"] for f in s["frames"]]
        sites = unsuppressed(report)
        mine = [s for s in sites if "leak_in_parent" in functions(s)]
        self.assertEqual(len(mine), 1, [(s["bytes"], s["pids"]) for s in sites])
        self.assertEqual(mine[0]["pids"], [parent])
        # a child still alive at the detach holds its region legitimately
        alive = [s for s in sites if s is not mine[0]]
        for s in alive:
            self.assertIn("work_in_child", functions(s))
            self.assertEqual(len(s["pids"]), 1, s["pids"])
            self.assertEqual(s["count"], 1)
        self.assertLessEqual(len(alive), 1)
        totals = report["totals"]
        self.assertGreaterEqual(totals["exited_processes"], 5)
        self.assertEqual(totals["exited_regions"], totals["exited_processes"])
        self.assertEqual(totals["exited_bytes"], 64 * 1024 * totals["exited_processes"])

    def test_exited_option_lists_them(self):
        report, parent = self.attach(["--exited"])
        child_sites = [s for s in unsuppressed(report)
                       if "work_in_child" in [f["function"] for f in s["frames"]]]
        self.assertEqual(len(child_sites), 1)
        self.assertGreaterEqual(len(child_sites[0]["pids"]), 5)
        self.assertNotIn(parent, child_sites[0]["pids"])
        self.assertEqual(report["totals"]["exited_regions"], 0)

    def test_text_says_it_in_one_line(self):
        leaker = Leaker(name="fork_churn")
        try:
            leaker.wait_rounds(2)
            proc = run_vmleak(["-q", "-p", str(leaker.proc.pid), "-d", "0.5"])
        finally:
            leaker.close()
        self.assertRegex(proc.stderr, r"exited during the window: \d+ processes held \d+ regions "
                         r"\([0-9.]+ [KM]iB\) when they exited")
        # a child still alive at the detach holds its region legitimately (as in
        # test_exited_children_summed_by_default): one site of one region at most
        self.assertLessEqual(proc.stderr.count("at work_in_child"), 1, proc.stderr)
        if "work_in_child" in proc.stderr:
            self.assertRegex(proc.stderr, r"(?m)^#\d+  64\.0 KiB (\([^)]*\) )?in 1 region  mmap "
                             r".*  pid \d+$")


REDIS = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")


def vm_size(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))


def log_live_bytes(path, tids):
    """Replay mmap/munmap lines of the given threads: bytes still mapped by the
    mmaps the log shows (None when another memory call makes this inexact)."""
    live = {}  # start -> end
    mmap = re.compile(r"^(\d+) mmap\(.*, (\d+), [^,]+, [^,]+, -?\d+, \w+\) = (0x[0-9a-f]+)$")
    munmap = re.compile(r"^(\d+) munmap\((0x[0-9a-f]+), (\d+)\) = 0$")
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            tid = int(line.split()[0])
            if tid not in tids:
                continue
            if m := mmap.match(line):
                start = int(m.group(3), 16)
                live[start] = start + (int(m.group(2)) + 4095) // 4096 * 4096
            elif m := munmap.match(line):
                lo = int(m.group(2), 16)
                hi = lo + (int(m.group(3)) + 4095) // 4096 * 4096
                for start, end in list(live.items()):
                    if end <= lo or start >= hi:
                        continue
                    del live[start]
                    if start < lo:
                        live[start] = lo
                    if end > hi:
                        live[hi] = end
            elif "= -" not in line:
                return None
    return sum(end - start for start, end in live.items())


@unittest.skipUnless(REDIS and REDIS_CLI, "needs redis-server and redis-cli (Debian "
                     "packages redis-server, redis-tools)")
class RedisBgsave(unittest.TestCase):
    """redis grows by ~100 MiB while attached, then BGSAVE forks a child that holds
    a copy of all of it: the report counts it once, as /proc and --log say."""

    def test_fork_of_a_grown_server_is_not_counted_twice(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        tmp = tempfile.TemporaryDirectory()
        redis = spawn([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                       "--appendonly", "no", "--dir", tmp.name, "--enable-debug-command", "yes"],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cli = [REDIS_CLI, "-p", str(port)]
        try:
            for _ in range(100):
                if subprocess.run([*cli, "PING"], capture_output=True, text=True).stdout == "PONG\n":
                    break
                time.sleep(0.05)
            before = vm_size(redis.pid)
            with tempfile.NamedTemporaryFile(suffix=".json") as out, \
                    tempfile.NamedTemporaryFile(suffix=".log") as log:
                vmleak = spawn([VMLEAK, "-q", "-j", "--all", "-o", out.name, "--log", log.name,
                                "-p", str(redis.pid), "-d", "4"])
                time.sleep(0.8)
                subprocess.run([*cli, "DEBUG", "POPULATE", "300000", "key", "200"],
                               check=True, capture_output=True, timeout=60)
                subprocess.run([*cli, "BGSAVE"], check=True, capture_output=True)
                for _ in range(200):
                    info = subprocess.run([*cli, "INFO", "persistence"], capture_output=True,
                                          text=True).stdout
                    if "rdb_bgsave_in_progress:0" in info:
                        break
                    time.sleep(0.02)
                self.assertEqual(vmleak.wait(timeout=60), 0)
                report = json.load(open(out.name))
                tids = {int(t) for t in os.listdir(f"/proc/{redis.pid}/task")}
                from_log = log_live_bytes(log.name, tids)
            growth = vm_size(redis.pid) - before
        finally:
            kill_group(redis)
            tmp.cleanup()
        self.assertIn("rdb_changes_since_last_save:0", info)  # the child did save
        self.assertGreater(growth, 50 << 20)
        procs = {p["pid"]: p for p in report["processes"]}
        children = [p for p in procs if p != redis.pid]
        self.assertTrue(children, report["processes"])  # the BGSAVE child was traced
        for child in children:
            self.assertEqual(procs[child]["bytes"], 0, procs[child])
        mine = sum(r["length"] for s in report["sites"] for r in s["regions"]
                   if r["pid"] == redis.pid)
        total = report["totals"]["bytes"] + report["totals"]["suppressed_bytes"]
        self.assertEqual(total, mine)
        self.assertLessEqual(mine, growth + (4 << 20))  # never double
        self.assertGreaterEqual(mine, growth - (4 << 20))
        if from_log is not None:
            self.assertEqual(mine, from_log)


class ThreadStacksAfterExec(unittest.TestCase):
    def test_exited_threads_of_the_old_image_do_not_count(self):
        proc = run_vmleak(["-q", "--", prog("exec_thread_stacks")])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        m = re.search(r"thread stacks: (\d+) \(.*\), (\d+) of exited threads", proc.stderr)
        self.assertIsNotNone(m, proc.stderr)
        self.assertEqual(int(m.group(1)), 1, proc.stderr)
        self.assertEqual(int(m.group(2)), 0, proc.stderr)


if __name__ == "__main__":
    main()
