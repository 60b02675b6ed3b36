#!/usr/bin/env python3
"""tests/integration/test_package.py - the Debian package (issue 14): built with CPack
from a release build of this tree, checked with dpkg-deb and lintian, unpacked into
a throw-away root (dpkg -x) whose vmleak must report its version, trace a program
and read the rules file installed next to it; the bash completion is exercised in
bash with bash-completion loaded. With VMLEAK_TEST_DPKG_INSTALL=1 (as root, on a
throw-away machine such as CI) the package is also installed with dpkg -i, run
from /usr/bin and removed with dpkg -r.

The release build lives in $VMLEAK_PKG_BUILD (default BUILD/pkg-release) and is
reused across runs, so only the first run compiles everything."""
import gzip
import json
import os
import re
import shutil
import tempfile
import unittest

import vmleak_common
from vmleak_common import BUILD, SRC, main, prog, source_line

PKG_BUILD = os.environ.get("VMLEAK_PKG_BUILD") or os.path.join(BUILD, "pkg-release")
VERSION_RE = re.compile(r"^project\(vmleak VERSION ([0-9.]+)", re.M)
TOOLS = ["dpkg-deb", "dpkg-shlibdeps", "lintian", "cpack", "readelf", "bash"]
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def run(cmd, timeout=120, **kw):
    return vmleak_common.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def must(cmd, timeout=120, **kw):
    proc = run(cmd, timeout=timeout, **kw)
    if proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def upstream_version():
    with open(os.path.join(SRC, "CMakeLists.txt")) as f:
        return VERSION_RE.search(f.read()).group(1)


def build_package():
    """Configure (once), build the installed files, run cpack; the .deb's path."""
    if not os.path.exists(os.path.join(PKG_BUILD, "CMakeCache.txt")):
        must(["cmake", "-S", SRC, "-B", PKG_BUILD, "-DCMAKE_BUILD_TYPE=Release",
              "-DCMAKE_INSTALL_PREFIX=/usr", "-DVMLEAK_SANITIZE=OFF"], timeout=300)
    must(["nice", "cmake", "--build", PKG_BUILD, "-j2", "--target", "vmleak", "vmleak_docs"],
         timeout=600)
    for old in os.listdir(PKG_BUILD):
        if old.endswith(".deb"):
            os.unlink(os.path.join(PKG_BUILD, old))
    must(["cpack", "-G", "DEB"], cwd=PKG_BUILD, timeout=300)
    debs = [f for f in os.listdir(PKG_BUILD) if f.endswith(".deb")]
    if len(debs) != 1:
        raise AssertionError(f"cpack made {debs} in {PKG_BUILD}")
    return os.path.join(PKG_BUILD, debs[0])


def field(deb, name):
    return must(["dpkg-deb", "-f", deb, name]).stdout.strip()


def installed_version(package):
    proc = run(["dpkg-query", "-W", "-f", "${Status} ${Version}", package])
    words = proc.stdout.split()
    if proc.returncode != 0 or words[:3] != ["install", "ok", "installed"]:
        return None
    return words[3]


def satisfied(alternative):
    """'libdw1 (>= 0.158)' is installed in a version that fits."""
    m = re.fullmatch(r"([a-z0-9.+-]+)(?::any)?(?: \((<<|<=|=|>=|>>) ([^)]+)\))?",
                     alternative.strip())
    if not m:
        raise AssertionError(f"unparsable dependency {alternative!r}")
    have = installed_version(m.group(1))
    if have is None or not m.group(2):
        return have is not None
    ops = {"<<": "lt", "<=": "le", "=": "eq", ">=": "ge", ">>": "gt"}
    return run(["dpkg", "--compare-versions", have, ops[m.group(2)], m.group(3)]).returncode == 0


COMPLETE = r"""
set +o history
source "$1"
shift
source "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
_vmleak vmleak "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
"""


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        missing = [t for t in TOOLS if not shutil.which(t)]
        if missing or not os.path.exists(BASH_COMPLETION):
            raise AssertionError(f"run scripts/bootstrap.sh: missing {missing} or bash-completion")
        cls.deb = build_package()
        cls.tmp = tempfile.TemporaryDirectory(prefix="vmleak-pkg-")
        cls.root = os.path.join(cls.tmp.name, "root")
        must(["dpkg-deb", "-x", cls.deb, cls.root])
        cls.vmleak = os.path.join(cls.root, "usr", "bin", "vmleak")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_file_name_and_control_fields(self):
        version = field(self.deb, "Version")
        self.assertTrue(version.startswith(upstream_version() + "-"), version)
        arch = must(["dpkg", "--print-architecture"]).stdout.strip()
        self.assertEqual(os.path.basename(self.deb), f"vmleak_{version}_{arch}.deb")
        self.assertEqual(field(self.deb, "Package"), "vmleak")
        self.assertEqual(field(self.deb, "Architecture"), arch)

    def test_dependencies_come_from_the_linked_libraries(self):
        depends = field(self.deb, "Depends")
        names = {re.split(r"[ (:]", d.strip())[0] for d in depends.split(",")}
        # shlibs of what the binary links: libc, libdw (+ libdebuginfod), libunwind
        for lib in ("libc6", "libdw1", "libunwind8"):
            self.assertIn(lib, names, depends)
        for dep in depends.split(","):
            self.assertTrue(any(satisfied(a) for a in dep.split("|")),
                            f"{dep!r} of {depends!r} is not installed here")

    def test_contents(self):
        listing = must(["dpkg-deb", "-c", self.deb]).stdout.splitlines()
        files = {}
        for line in listing:
            parts = line.split()
            files[parts[5].lstrip(".")] = (parts[0], parts[1])
        want = {
            "/usr/bin/vmleak": "-rwxr-xr-x",
            "/usr/share/man/man1/vmleak.1.gz": "-rw-r--r--",
            "/usr/share/vmleak/default.rules": "-rw-r--r--",
            "/usr/share/bash-completion/completions/vmleak": "-rw-r--r--",
            "/usr/share/doc/vmleak/copyright": "-rw-r--r--",
            "/usr/share/doc/vmleak/changelog.Debian.gz": "-rw-r--r--",
        }
        for path, mode in want.items():
            self.assertIn(path, files, listing)
            self.assertEqual(files[path], (mode, "root/root"), path)
        for path, (mode, owner) in files.items():
            self.assertEqual(owner, "root/root", path)
            self.assertFalse(path.startswith("/usr/local"), path)

    def test_changelog_and_man_page_are_gzipped_and_current(self):
        doc = os.path.join(self.root, "usr", "share", "doc", "vmleak")
        with gzip.open(os.path.join(doc, "changelog.Debian.gz"), "rt") as f:
            first = f.readline()
        self.assertTrue(first.startswith(f"vmleak ({field(self.deb, 'Version')}) "), first)
        man = os.path.join(self.root, "usr", "share", "man", "man1", "vmleak.1.gz")
        with gzip.open(man, "rt") as f, open(os.path.join(SRC, "man", "vmleak.1")) as g:
            self.assertEqual(f.read(), g.read())

    def test_binary_is_stripped(self):
        sections = must(["readelf", "-SW", self.vmleak]).stdout
        self.assertNotIn(".symtab", sections)
        self.assertNotIn(".debug_info", sections)

    def test_lintian_reports_no_error(self):
        proc = run(["lintian", "--no-tag-display-limit", self.deb], timeout=240)
        errors = [line for line in proc.stdout.splitlines() if line.startswith("E:")]
        self.assertEqual(errors, [], proc.stdout + proc.stderr)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_version_from_the_installed_copy(self):
        proc = run([self.vmleak, "--version"], timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, f"vmleak {upstream_version()}\n")

    def test_trace_reads_the_installed_rules(self):
        # a rule only the unpacked copy of default.rules has: if that file is the
        # one read, the leak_buffers site is suppressed and keep_cache's is not
        rules = os.path.join(self.root, "usr", "share", "vmleak", "default.rules")
        with open(rules, "a") as f:
            f.write("\nsuppress *mmap*;leak_buffers\n")
        out = os.path.join(self.tmp.name, "report.json")
        env = {k: v for k, v in os.environ.items() if k != "VMLEAK_RULES"}
        proc = run([self.vmleak, "-q", "-j", "--all", "-o", out, "--", prog("bt_two_sites"), "3"],
                   timeout=60, env=env)
        self.assertEqual(proc.returncode, 3, proc.stderr)
        with open(out) as f:
            report = json.load(f)
        by_function = {}
        for site in report["sites"]:
            for frame in site["frames"]:
                if frame["function"] in ("keep_cache", "leak_buffers"):
                    by_function[frame["function"]] = (site, frame)
                    break
        self.assertEqual(sorted(by_function), ["keep_cache", "leak_buffers"], report["sites"])
        cache, frame = by_function["keep_cache"]
        self.assertFalse(cache["suppressed"])
        self.assertEqual(cache["count"], 2)
        self.assertEqual(frame["line"], source_line(os.path.join(SRC, "tests", "progs",
                                                                 "bt_two_sites.c"),
                                                    "BT_CACHE_MMAP"))
        buffers, _ = by_function["leak_buffers"]
        self.assertTrue(buffers["suppressed"])
        self.assertEqual(buffers["category"], "user-suppressed")

    def complete(self, *words):
        script = os.path.join(self.root, "usr", "share", "bash-completion", "completions",
                              "vmleak")
        proc = run(["bash", "-c", COMPLETE, "complete", BASH_COMPLETION, script, "vmleak", *words], timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return [w for w in proc.stdout.splitlines() if w]

    def test_bash_completion(self):
        self.assertEqual(sorted(self.complete("--format", "")), ["folded", "html", "json", "text"])
        self.assertEqual(sorted(self.complete("--unwinder", "")), ["libdw", "libunwind"])
        self.assertEqual(self.complete("--unw"), ["--unwinder"])
        # every long option of --help is offered
        helptext = must([self.vmleak, "--help"]).stdout
        options = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", helptext))
        self.assertTrue({"--format", "--pid", "--debug-dir", "--symbolize"} <= options)
        offered = set(self.complete("--"))
        self.assertEqual(options - offered, set())
        # -p: running pids, also after a comma
        pids = set(self.complete("-p", ""))
        self.assertIn("1", pids)
        self.assertIn(str(os.getpid()), pids)
        self.assertTrue(all(p.isdigit() for p in pids), pids)
        after_comma = self.complete("-p", "1,")
        self.assertIn(f"1,{os.getpid()}", after_comma)
        # files for -o, --log, --suppressions
        d = tempfile.mkdtemp(dir=self.tmp.name)
        open(os.path.join(d, "leaks.supp"), "w").close()
        for opt in ("-o", "--log", "--suppressions"):
            self.assertEqual(self.complete(opt, os.path.join(d, "le")),
                             [os.path.join(d, "leaks.supp")], opt)
        # --diff OLD.json NEW.json: report files on both sides, never a program
        open(os.path.join(d, "old.json"), "w").close()
        open(os.path.join(d, "new.json"), "w").close()
        self.assertEqual(self.complete("--diff", os.path.join(d, "o")),
                         [os.path.join(d, "old.json")])
        self.assertEqual(self.complete("--diff", "old.json", os.path.join(d, "n")),
                         [os.path.join(d, "new.json")])
        self.assertEqual(self.complete("--diff", "old.json", "new.json", "ls"), [])

    @unittest.skipUnless(os.environ.get("VMLEAK_TEST_DPKG_INSTALL") == "1" and os.getuid() == 0,
                         "dpkg -i only on a throw-away machine (VMLEAK_TEST_DPKG_INSTALL=1, root)")
    def test_dpkg_install_run_remove(self):
        self.assertIsNone(installed_version("vmleak"), "vmleak is installed already")
        try:
            must(["dpkg", "-i", self.deb], timeout=120)
            proc = run(["/usr/bin/vmleak", "--version"], timeout=30)
            self.assertEqual(proc.stdout, f"vmleak {upstream_version()}\n", proc.stderr)
            proc = run(["/usr/bin/vmleak", "-q", "--", prog("bt_two_sites")], timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("keep_cache", proc.stderr)
            self.assertTrue(os.path.exists("/usr/share/man/man1/vmleak.1.gz"))
        finally:
            run(["dpkg", "-r", "vmleak"], timeout=120)
        self.assertIsNone(installed_version("vmleak"))
        self.assertFalse(os.path.exists("/usr/bin/vmleak"))


if __name__ == "__main__":
    main()
