"""tests/integration/vmleak_common.py - shared helpers for the integration tests:
where the binaries are, running vmleak with a JSON report, picking sites, starting
helper processes so that none outlives its test (each in its own process group,
killed as a group), and main(), which exits with SKIP_RETURN_CODE when every test
of a file was skipped so that ctest shows the file as "Not Run (skipped)"."""
import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

# ctest's SKIP_RETURN_CODE for the integration tests (tests/CMakeLists.txt)
SKIP_RETURN_CODE = 77

_ENV = {"VMLEAK": "VMLEAK", "BUILD": "VMLEAK_BUILD", "SRC": "VMLEAK_SRC"}


def _env(name):
    value = os.environ.get(_ENV[name])
    if not value:
        raise SystemExit("VMLEAK, VMLEAK_BUILD and VMLEAK_SRC must be set (run through ctest)")
    return value


def __getattr__(name):
    # VMLEAK, BUILD and SRC are read when a test imports them, so that a test that
    # needs none of them (test_bench_smoke) can use the process helpers alone
    if name in _ENV:
        return _env(name)
    raise AttributeError(name)


# ---- processes: every helper in its own process group, killed as a group ----

_spawned = []  # Popen objects whose groups are killed when the test file ends


def spawn(argv, **kw):
    """subprocess.Popen in a new process group (unless the caller asks for a new
    session, which is one too): whatever the process starts stays in its group
    (an strace wrapper's tracee, a shell's children), and kill_group() or the
    end of the test file kills them all, even when a test fails half-way."""
    if not kw.get("start_new_session"):
        kw.setdefault("process_group", 0)
    # a background group that reads a terminal would stop (SIGTTIN) for good
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.Popen(argv, **kw)
    _spawned.append(p)
    return p


def kill_group(p, sig=signal.SIGKILL):
    """Send sig to p's whole process group (SIGKILL by default) and, for SIGKILL,
    reap p. Safe to call more than once."""
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    if sig == signal.SIGKILL:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass


def run(argv, timeout=None, input=None, capture_output=False, check=False, **kw):
    """subprocess.run() with the program in its own process group, which is killed
    when the program ends or times out: nothing it started survives it."""
    if capture_output:
        kw["stdout"] = kw["stderr"] = subprocess.PIPE
    if input is not None:
        kw["stdin"] = subprocess.PIPE
    p = spawn(argv, **kw)
    try:
        out, err = p.communicate(input, timeout=timeout)
    finally:
        kill_group(p)
    if check and p.returncode:
        raise subprocess.CalledProcessError(p.returncode, argv, out, err)
    return subprocess.CompletedProcess(argv, p.returncode, out, err)


@atexit.register
def _kill_spawned():
    for p in _spawned:
        kill_group(p)


def _terminated(sig, frame):
    raise SystemExit(128 + sig)  # ctest's timeout: run the atexit cleanup


signal.signal(signal.SIGTERM, _terminated)


def main():
    """unittest.main() for a test file: exit 0 when the tests that ran passed,
    1 when any failed, SKIP_RETURN_CODE when every test was skipped (no strace,
    not root, no nginx, ...) so that ctest reports the file as skipped."""
    result = unittest.main(verbosity=2, exit=False).result
    if not result.wasSuccessful():
        sys.exit(1)
    skipped = sum(1 for t, _ in result.skipped if isinstance(t, unittest.TestCase))
    if result.skipped and result.testsRun - skipped == 0:
        print(f"vmleak_common: every test skipped: exit {SKIP_RETURN_CODE}", file=sys.stderr)
        sys.exit(SKIP_RETURN_CODE)
    if result.testsRun == 0:
        sys.exit(1)  # a file without tests is a mistake, not a pass
    sys.exit(0)


def example(name):
    return os.path.join(_env("BUILD"), "examples", name)


def prog(name):
    return os.path.join(_env("BUILD"), "tests", "progs", name)


def run_json(argv, options=(), timeout=120, env=None):
    """Launch argv under vmleak with a JSON report; returns (report, completed)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [_env("VMLEAK"), "-q", "--format", "json", "-o", out.name, *options,
               "--", *argv]
        proc = run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        with open(out.name) as f:
            text = f.read()
    if not text.strip():
        raise AssertionError(f"no report from {cmd}: rc={proc.returncode} "
                             f"stderr={proc.stderr!r}")
    return json.loads(text), proc


def run_vmleak(args, timeout=60, **kw):
    return run([_env("VMLEAK"), *args], capture_output=True, text=True,
               timeout=timeout, **kw)


def unsuppressed(report):
    return [s for s in report["sites"] if not s["suppressed"]]


def sites_with(report, syscall="mmap", prot=None, flags=None):
    out = []
    for s in report["sites"]:
        if s["syscall"] != syscall:
            continue
        if prot is not None and s["prot"] != prot:
            continue
        if flags is not None and sorted(s["flags"]) != sorted(flags):
            continue
        out.append(s)
    return out


def source_line(path, needle):
    """1-based line number of the only line of path that contains needle."""
    with open(path) as f:
        hits = [i + 1 for i, line in enumerate(f) if needle in line]
    if len(hits) != 1:
        raise AssertionError(f"{needle!r} found {len(hits)} times in {path}")
    return hits[0]


def module_frames(report, module):
    """{function: frame} of the first frame in module of each unsuppressed site
    (the largest site's when several name the same function)."""
    out = {}
    for site in report["sites"]:
        if site["suppressed"]:
            continue
        for frame in site["frames"]:
            if frame["module"] == module:
                out.setdefault(frame["function"], frame)
                break
    return out


def first_program_frame(site):
    """The frame the text report calls "at": the first frame outside the runtime."""
    for f in site["frames"]:
        mod = f["module"] or ""
        base = os.path.basename(mod)
        if base.startswith(("libc.so", "ld-linux", "libpthread", "libstdc++")):
            continue
        return f
    return None


class Leaker:
    """A test program (slow_leaker by default) in the background, its stdout (one
    round number per line) in a file, so a test can see it make progress. With a
    wrapper (strace ...), the wrapper and the program share one process group, so
    close() kills both: a killed strace would leave its tracee running."""

    def __init__(self, wrapper=(), name="slow_leaker"):
        self.out = tempfile.NamedTemporaryFile(mode="w+", suffix=".out")
        self.proc = spawn([*wrapper, prog(name)], stdout=self.out,
                          stderr=subprocess.DEVNULL)

    def rounds(self):
        with open(self.out.name) as f:
            lines = f.read().split()
        return int(lines[-1]) if lines else -1

    def wait_rounds(self, n, timeout=10):
        end = time.time() + timeout
        while self.rounds() < n and time.time() < end:
            time.sleep(0.02)
        return self.rounds()

    def close(self):
        kill_group(self.proc)
        self.out.close()


def build_id(path):
    """The GNU build-id of an ELF file, as lowercase hex (readelf -n)."""
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        if "Build ID:" in line:
            return line.split()[-1]
    raise AssertionError(f"{path} has no build-id")


def split_debug(exe, directory, name=None):
    """Copy exe into directory with its debug info split out the way distributions
    do: NAME (stripped, with a .gnu_debuglink to NAME.debug) and NAME.debug (the
    debug info only). Returns (stripped path, debug file path, build-id)."""
    name = name or os.path.basename(exe)
    stripped = os.path.join(directory, name)
    debug = os.path.join(directory, name + ".debug")
    subprocess.run(["objcopy", "--only-keep-debug", exe, debug], check=True)
    # --add-gnu-debuglink records the file's base name and its CRC
    subprocess.run(["objcopy", "--strip-all", f"--add-gnu-debuglink={debug}", exe, stripped],
                   check=True)
    return stripped, debug, build_id(stripped)


def build_id_path(root, bid):
    """Where a debug file lives in the build-id layout under root."""
    return os.path.join(root, ".build-id", bid[:2], bid[2:] + ".debug")
