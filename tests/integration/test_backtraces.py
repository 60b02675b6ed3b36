#!/usr/bin/env python3
"""tests/integration/test_backtraces.py - issue 5 end to end, asserting on the JSON
report: backtraces that point at the leaking line (examples, a dlclose'd library,
a library linked at build time, a stripped binary), the blame categories (malloc's
chunk vs. its heap, thread stacks, CPython's arenas, a user's own pool allocator
declared in a rules file) and --suppressions files, good and malformed."""
import os
import re
import resource
import shutil
import tempfile
import unittest

from vmleak_common import (BUILD, SRC, example, first_program_frame, main, prog, run, run_json,
                           run_vmleak, sites_with, source_line, unsuppressed)

LIBS = os.path.join(BUILD, "tests", "libs")
MIB = 1024 * 1024
STACK_FLAGS = ["MAP_PRIVATE", "MAP_ANONYMOUS", "MAP_STACK"]
PYTHON = "/usr/bin/python3.11"


def src(*parts):
    return os.path.join(SRC, *parts)


def functions(site):
    return [f["function"] for f in site["frames"]]


def frame_named(site, name):
    """(index, frame) of the innermost frame of function name."""
    for i, f in enumerate(site["frames"]):
        if f["function"] == name:
            return i, f
    raise AssertionError(f"no frame {name!r} in {functions(site)}")


def with_category(report, category):
    return [s for s in report["sites"] if s["category"] == category]


class Examples(unittest.TestCase):
    def test_clone_stack_leak_single_site_at_the_mmap_line(self):
        report, proc = run_json([example("clone_stack_leak"), "6"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        sites = unsuppressed(report)
        self.assertEqual(len(sites), 1, [functions(s) for s in sites])
        site = sites[0]
        self.assertEqual(site["category"], "program")
        self.assertEqual(site["count"], 6)
        frame = first_program_frame(site)
        self.assertIsNotNone(frame, site["frames"])
        self.assertEqual(frame["function"], "main")
        self.assertTrue(frame["file"].endswith("examples/clone_stack_leak.c"), frame)
        self.assertEqual(frame["line"],
                         source_line(src("examples", "clone_stack_leak.c"), "mmap("))
        self.assertEqual(os.path.basename(frame["module"]), "clone_stack_leak")

    def test_malloc_leak_big_chunk_blames_the_caller_of_malloc(self):
        report, proc = run_json([example("malloc_leak")])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        big = [s for s in unsuppressed(report) if s["bytes"] >= MIB]
        self.assertEqual(len(big), 1, [functions(s) for s in unsuppressed(report)])
        site = big[0]
        self.assertEqual((site["syscall"], site["kind"], site["category"]),
                         ("mmap", "anon", "program"))
        self.assertLess(site["bytes"], MIB + 64 * 1024)
        i_malloc, _ = frame_named(site, "malloc")
        i_leak, leak = frame_named(site, "leak_big")
        self.assertEqual(i_leak, i_malloc + 1, functions(site))
        self.assertEqual(leak["line"],
                         source_line(src("examples", "malloc_leak.c"), "malloc(BIG_SIZE)"))
        self.assertIs(first_program_frame(site), leak)

    def test_malloc_leak_brk_growth_is_malloc_heap_at_grow_heap(self):
        report, _ = run_json([example("malloc_leak")], ["--all"])
        brk = sites_with(report, "brk")
        self.assertTrue(brk, report["sites"])
        for s in brk:
            self.assertEqual((s["kind"], s["category"], s["suppressed"]),
                             ("brk", "malloc-heap", True), functions(s))
        line = source_line(src("examples", "malloc_leak.c"), "malloc(SMALL_SIZE)")
        from_grow_heap = [s for s in brk if "grow_heap" in functions(s)]
        self.assertTrue(from_grow_heap, [functions(s) for s in brk])
        for s in from_grow_heap:
            i_malloc, _ = frame_named(s, "malloc")
            i_grow, grow = frame_named(s, "grow_heap")
            self.assertEqual(i_grow, i_malloc + 1, functions(s))
            self.assertEqual(grow["line"], line)
        # suppressed: none of it counts in the default report
        default, _ = run_json([example("malloc_leak")])
        self.assertEqual(sites_with(default, "brk"), [])
        self.assertEqual(default["totals"]["bytes"], sum(s["bytes"] for s in unsuppressed(default)))


class Libraries(unittest.TestCase):
    def test_dlclosed_library_still_symbolized(self):
        lib = os.path.join(LIBS, "libbt_deep.so")
        lib_src = src("tests", "libs", "libbt_deep.c")
        report, proc = run_json([prog("bt_dlopen"), lib])
        # bt_dlopen exits 3 when the library is still mapped after dlclose
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        sites = unsuppressed(report)
        self.assertEqual(len(sites), 1, [functions(s) for s in sites])
        site = sites[0]
        self.assertEqual((site["bytes"], site["category"]), (65536, "program"))
        i_inner, inner = frame_named(site, "bt_inner")
        i_outer, outer = frame_named(site, "bt_outer")
        self.assertEqual(i_outer, i_inner + 1, functions(site))
        self.assertIs(first_program_frame(site), inner)
        for frame, marker in ((inner, "BT_DEEP_MMAP"), (outer, "BT_DEEP_CALL")):
            self.assertTrue(frame["module"].endswith("/libbt_deep.so"), frame)
            self.assertTrue(frame["file"].endswith("tests/libs/libbt_deep.c"), frame)
            self.assertEqual(frame["line"], source_line(lib_src, marker))
        _, main = frame_named(site, "main")
        self.assertEqual(main["line"], source_line(src("tests", "progs", "bt_dlopen.c"),
                                                   "outer(LEAK_SIZE)"))

    def test_leak_through_own_library_reported_at_its_function(self):
        report, proc = run_json([prog("bt_uses_lib"), "3"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        sites = unsuppressed(report)
        self.assertEqual(len(sites), 1, [functions(s) for s in sites])
        site = sites[0]
        self.assertEqual((site["category"], site["count"], site["bytes"]),
                         ("program", 3, 3 * 65536))
        frame = first_program_frame(site)
        self.assertEqual(frame["function"], "pool_map")
        self.assertTrue(frame["module"].endswith("/libbt_pool.so"), frame)
        self.assertEqual(frame["line"],
                         source_line(src("tests", "libs", "libbt_pool.c"), "BT_POOL_MMAP"))

    def test_user_rules_declare_a_pool_allocator(self):
        default_rules = src("report", "rules", "default.rules")
        with tempfile.TemporaryDirectory() as tmp:
            rules = os.path.join(tmp, "my.rules")
            with open(rules, "w") as f:
                f.write(f"# the program's own arena allocator\ninclude {default_rules}\n"
                        "allocator pool pool_map\n")
            env = dict(os.environ, VMLEAK_RULES=rules)
            report, proc = run_json([prog("bt_uses_lib"), "3"], ["--all"], env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(unsuppressed(report), [])
        self.assertEqual(report["totals"]["bytes"], 0)
        pool = [s for s in report["sites"] if "pool_map" in functions(s)]
        self.assertEqual(len(pool), 1, report["sites"])
        self.assertEqual((pool[0]["category"], pool[0]["suppressed"], pool[0]["bytes"]),
                         ("malloc-heap", True, 3 * 65536))
        # the included default rules still apply: the loader's mappings are its own
        self.assertTrue(with_category(report, "loader"), report["sites"])


class Clean(unittest.TestCase):
    def assert_clean(self, argv):
        report, proc = run_json(argv)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual([(s["bytes"], s["category"], functions(s)[:8])
                          for s in unsuppressed(report)], [])
        self.assertEqual(report["totals"]["regions"], 0)
        self.assertEqual(report["totals"]["bytes"], 0)
        # there was something to hide: the loader's own mappings at least
        self.assertGreater(report["totals"]["suppressed_regions"], 0)
        return report

    def test_clone_stack_fixed(self):
        self.assert_clean([example("clone_stack_fixed"), "10"])

    def test_bin_true(self):
        self.assert_clean(["/bin/true"])

    @unittest.skipUnless(os.access(PYTHON, os.X_OK), f"{PYTHON} not installed")
    def test_python_pass(self):
        self.assert_clean([PYTHON, "-c", "pass"])
        # the interpreter's first 1 MiB object arena is there, as the allocator's pool
        report, _ = run_json([PYTHON, "-c", "pass"], ["--all"])
        arenas = [s for s in with_category(report, "malloc-heap")
                  if s["syscall"] == "mmap" and s["bytes"] >= MIB]
        self.assertTrue(arenas, [(s["category"], s["bytes"]) for s in report["sites"]])

    def test_first_malloc_grows_heap_from_the_leaking_line(self):
        report, proc = run_json([prog("bt_first_malloc")], ["--all"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        line = source_line(src("tests", "progs", "bt_first_malloc.c"), "BT_GRAB_MALLOC")
        leaks = unsuppressed(report)
        self.assertEqual(len(leaks), 1, [functions(s) for s in leaks])
        chunk = leaks[0]
        self.assertEqual((chunk["syscall"], chunk["category"]), ("mmap", "program"))
        self.assertGreaterEqual(chunk["bytes"], MIB)
        heap = [s for s in sites_with(report, "brk") if "grab" in functions(s)]
        self.assertEqual(len(heap), 1, report["sites"])
        self.assertEqual((heap[0]["category"], heap[0]["suppressed"]), ("malloc-heap", True))
        for site in (chunk, heap[0]):
            _, grab = frame_named(site, "grab")
            self.assertIs(first_program_frame(site), grab)
            self.assertEqual(grab["line"], line)
        self.assertEqual(report["totals"]["bytes"], chunk["bytes"])


def elf_sections(path):
    out = run(["readelf", "-SW", path], capture_output=True, text=True, check=True).stdout
    sections = {}
    for m in re.finditer(r"\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", out):
        sections[m.group(1)] = (int(m.group(2), 16), int(m.group(3), 16))
    return sections


def dynamic_symbols(path):
    out = run(["nm", "-D", "--defined-only", path], capture_output=True, text=True,
   check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


@unittest.skipUnless(shutil.which("strip") and shutil.which("readelf"), "binutils missing")
class Stripped(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.exe = os.path.join(cls.tmp.name, "bt_two_sites_stripped")
        run(["strip", "--strip-all", "-o", cls.exe, prog("bt_two_sites")], check=True)
        cls.sections = elf_sections(cls.exe)
        cls.report, cls.proc = run_json([cls.exe, "7"])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def program_frames(self):
        for site in unsuppressed(self.report):
            frame = first_program_frame(site)
            self.assertIsNotNone(frame, site["frames"])
            yield site, frame

    def test_precondition_no_symbols_no_debug_info(self):
        self.assertNotIn(".symtab", self.sections)
        self.assertNotIn(".debug_info", self.sections)
        self.assertIn(".text", self.sections)

    def test_reported_without_crash_exit_code_kept(self):
        self.assertEqual(self.proc.returncode, 7, self.proc.stderr)
        self.assertEqual(self.report["exit"]["code"], 7)
        self.assertEqual(sorted(s["bytes"] for s in unsuppressed(self.report)),
                         [3 * 16384, 2 * 32768])
        names = dynamic_symbols(self.exe)
        for site, frame in self.program_frames():
            self.assertEqual(site["category"], "program")
            self.assertEqual(frame["module"], self.exe)
            self.assertIsNone(frame["file"], frame)
            self.assertIsNone(frame["line"], frame)
            self.assertTrue(frame["function"] is None or frame["function"] in names, frame)

    def test_frames_carry_module_offsets_in_text(self):
        start, size = self.sections[".text"]
        offsets = set()
        for _, frame in self.program_frames():
            self.assertIsNotNone(frame["offset"], frame)
            if frame["function"] is None:
                off = int(frame["offset"], 16)
                self.assertTrue(start <= off < start + size, (hex(start), frame))
                offsets.add(off)
        self.assertEqual(len(offsets), 2)  # keep_cache and leak_buffers


class Suppressions(unittest.TestCase):
    def run_with(self, text, extra=()):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "my.supp")
            with open(path, "w") as f:
                f.write(text)
            return run_json([prog("bt_two_sites")], ["--suppressions", path, *extra])

    def test_baseline_two_sites(self):
        report, _ = run_json([prog("bt_two_sites")])
        self.assertEqual(sorted(s["bytes"] for s in unsuppressed(report)), [49152, 65536])

    def test_one_site_hidden_the_other_stays(self):
        rule = "# our cache lives as long as the process\n\n*mmap*;keep_cache\n"
        report, proc = self.run_with(rule)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        sites = unsuppressed(report)
        self.assertEqual(len(sites), 1, [functions(s) for s in sites])
        self.assertEqual(first_program_frame(sites[0])["function"], "leak_buffers")
        self.assertEqual(report["totals"]["bytes"], 3 * 16384)
        self.assertEqual(report["totals"]["regions"], 3)
        self.assertEqual(report["totals"]["sites"], 1)
        self.assertGreaterEqual(report["totals"]["suppressed_bytes"], 2 * 32768)

        report, _ = self.run_with(rule, ["--all"])
        hidden = [s for s in report["sites"] if "keep_cache" in functions(s)]
        self.assertEqual(len(hidden), 1, report["sites"])
        self.assertEqual((hidden[0]["category"], hidden[0]["suppressed"], hidden[0]["bytes"]),
                         ("user-suppressed", True, 2 * 32768))
        self.assertEqual(report["totals"]["bytes"], 3 * 16384)

    def test_frames_must_be_consecutive_innermost_first(self):
        report, _ = self.run_with("keep_cache;*mmap*\nmmap;main\n")
        self.assertEqual(sorted(s["bytes"] for s in unsuppressed(report)), [49152, 65536])

    def assert_one_line_error(self, content, line):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bad.supp")
            with open(path, "wb") as f:
                f.write(content)
            proc = run_vmleak(["-q", "--suppressions", path, "--", prog("bt_two_sites")])
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
        self.assertTrue(proc.stderr.startswith("vmleak: "), proc.stderr)
        self.assertIn(f"{path}:{line}", proc.stderr)

    def test_unclosed_bracket_names_file_and_line(self):
        self.assert_one_line_error(b"# fine so far\nmmap;keep_cache\n*mmap*;leak_[buf\n", 3)

    def test_binary_garbage_names_file_and_line(self):
        self.assert_one_line_error(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, 1)


class ThreadStacks(unittest.TestCase):
    THREADS = 8

    def setUp(self):
        # glibc sizes thread stacks by RLIMIT_STACK: make it a known 8 MiB
        self.saved = resource.getrlimit(resource.RLIMIT_STACK)
        soft, hard = self.saved
        if hard != resource.RLIM_INFINITY and hard < 8 * MIB:
            self.skipTest("stack hard limit below 8 MiB")
        resource.setrlimit(resource.RLIMIT_STACK, (8 * MIB, hard))
        self.addCleanup(resource.setrlimit, resource.RLIMIT_STACK, self.saved)

    def test_pthread_leak_is_thread_stacks(self):
        argv = [example("pthread_leak"), str(self.THREADS)]
        report, proc = run_json(argv)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(unsuppressed(report), [])
        report, _ = run_json(argv, ["--all"])
        stacks = with_category(report, "thread-stack")
        self.assertTrue(stacks, [(s["category"], functions(s)[:6]) for s in report["sites"]])
        for s in stacks:
            self.assertTrue(s["suppressed"])
            self.assertIn("pthread_create", functions(s))
        self.assertEqual(sum(s["count"] for s in stacks), self.THREADS)
        self.assertGreaterEqual(sum(s["bytes"] for s in stacks), self.THREADS * 8 * MIB)

    def test_text_summary_has_thread_stacks_line(self):
        proc = run_vmleak(["-q", "--", example("pthread_leak"), str(self.THREADS)])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = [l.strip() for l in proc.stderr.splitlines()]
        summary = [l for l in lines if l.startswith("thread stacks:")]
        self.assertEqual(len(summary), 1, proc.stderr)
        self.assertTrue(summary[0].startswith(f"thread stacks: {self.THREADS} ("), summary)
        self.assertIn(f"{self.THREADS} of exited threads", summary[0])


if __name__ == "__main__":
    main()
