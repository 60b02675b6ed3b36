#!/usr/bin/env python3
"""tests/integration/test_runtimes.py - language runtimes (the JVM, node/V8, Go):
a clean program reports nothing unsuppressed, however much its runtime reserved
(the rules in report/rules/default.rules), while a leak made through the
runtime's own native APIs (a Java direct ByteBuffer and FileChannel.map, a
JavaScript ArrayBuffer, Go's syscall.Mmap) is reported as the program's.
Each runtime is skipped with a message when it is not installed
(scripts/bootstrap.sh installs openjdk-17-jdk-headless, nodejs, golang-go)."""
import os
import shutil
import subprocess
import tempfile
import unittest

from vmleak_common import SRC, main, run_json, unsuppressed

HERE = os.path.join(SRC, "tests", "runtimes")
MiB = 1 << 20


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
                        "NODE_OPTIONS", "GOFLAGS")}
    env.update(extra)
    return env


def names(site):
    return [f["function"] or "" for f in site["frames"]]


class Common:
    def assert_clean(self, argv, env=None):
        report, proc = run_json(argv, env=env or clean_env())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        bad = [(s["bytes"], s["category"], names(s)[:8]) for s in unsuppressed(report)]
        self.assertEqual(bad, [])
        # the runtime did map memory: it was seen and suppressed, not missed
        self.assertGreater(report["totals"]["suppressed_bytes"], 0)
        return report

    def assert_one_leak(self, argv, size, api, env=None):
        report, proc = run_json(argv, env=env or clean_env())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        leaks = unsuppressed(report)
        self.assertEqual(len(leaks), 1, [(s["bytes"], names(s)[:8]) for s in leaks])
        site = leaks[0]
        self.assertEqual(site["category"], "program")
        self.assertGreaterEqual(site["bytes"], size)
        self.assertLess(site["bytes"], size + MiB)
        self.assertTrue(any(n.startswith(api) for n in names(site)), names(site))
        return site


class Java(Common, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("java") or not shutil.which("javac"):
            raise unittest.SkipTest("java/javac not installed "
                                    "(scripts/bootstrap.sh installs openjdk-17-jdk-headless)")
        cls.dir = tempfile.TemporaryDirectory()
        srcs = [os.path.join(HERE, n) for n in ("Clean.java", "LeakDirect.java", "LeakMap.java")]
        proc = subprocess.run(["javac", "-d", cls.dir.name, *srcs], capture_output=True,
                              text=True, env=clean_env())
        if proc.returncode != 0:
            cls.dir.cleanup()
            raise unittest.SkipTest(f"javac failed: {proc.stderr.strip()[:200]}")

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def java(self, *args):
        return ["java", "-cp", self.dir.name, *args]

    def test_clean_program_reports_nothing(self):
        report = self.assert_clean(self.java("Clean"))
        # heap, metaspace and code cache reservations: hundreds of MiB
        self.assertGreater(report["totals"]["suppressed_bytes"], 100 * MiB)

    def test_direct_bytebuffer_is_reported(self):
        self.assert_one_leak(self.java("LeakDirect"), 8 * MiB, "Unsafe_AllocateMemory0")

    def test_mapped_file_is_reported(self):
        with tempfile.NamedTemporaryFile(suffix=".bin") as f:
            site = self.assert_one_leak(self.java("LeakMap", f.name), 4 * MiB,
                                        "Java_sun_nio_ch_File")
            self.assertEqual(site["kind"], "file")
            self.assertEqual(site["regions"][0]["path"], os.path.realpath(f.name))


class Node(Common, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("node"):
            raise unittest.SkipTest("node not installed (scripts/bootstrap.sh installs nodejs)")

    def test_clean_program_reports_nothing(self):
        self.assert_clean(["node", os.path.join(HERE, "clean.js")])

    def test_clean_program_exiting_with_its_heap_mapped(self):
        report = self.assert_clean(["node", os.path.join(HERE, "clean.js"), "exit"])
        # V8's heap and code range stay mapped after process.exit()
        self.assertGreater(report["totals"]["suppressed_bytes"], 16 * MiB)

    def test_arraybuffer_is_reported(self):
        self.assert_one_leak(["node", os.path.join(HERE, "leak_arraybuffer.js")], 8 * MiB,
                             "node::NodeArrayBufferAllocator::")


class Go(Common, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("go"):
            raise unittest.SkipTest("go not installed (scripts/bootstrap.sh installs golang-go)")
        cls.dir = tempfile.TemporaryDirectory()
        cls.exe = os.path.join(cls.dir.name, "leakgo")
        env = clean_env(GOCACHE=os.path.join(cls.dir.name, "cache"),
                        GOPATH=os.path.join(cls.dir.name, "gopath"),
                        GO111MODULE="off", CGO_ENABLED="0")
        proc = subprocess.run(["go", "build", "-o", cls.exe, os.path.join(HERE, "leak.go")],
                              capture_output=True, text=True, env=env, cwd=cls.dir.name)
        if proc.returncode != 0:
            cls.dir.cleanup()
            raise unittest.SkipTest(f"go build failed: {proc.stderr.strip()[:200]}")

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_clean_program_reports_nothing(self):
        self.assert_clean([self.exe])

    def test_syscall_mmap_is_reported(self):
        site = self.assert_one_leak([self.exe, "leak"], MiB, "main.leakMapping")
        frames = names(site)
        # the whole stack: the Go caller below the syscall package, then main.main
        self.assertIn("main.main", frames[frames.index("main.leakMapping"):])


if __name__ == "__main__":
    main()
