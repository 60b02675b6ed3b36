"""tests/integration/vmleak_common.py - shared helpers for the integration tests:
where the binaries are, running vmleak with a JSON report, and picking sites."""
import json
import os
import subprocess
import tempfile
import time

VMLEAK = os.environ.get("VMLEAK")
BUILD = os.environ.get("VMLEAK_BUILD")
SRC = os.environ.get("VMLEAK_SRC")

if not VMLEAK or not BUILD or not SRC:
    raise SystemExit("VMLEAK, VMLEAK_BUILD and VMLEAK_SRC must be set (run through ctest)")


def example(name):
    return os.path.join(BUILD, "examples", name)


def prog(name):
    return os.path.join(BUILD, "tests", "progs", name)


def run_json(argv, options=(), timeout=120, env=None):
    """Launch argv under vmleak with a JSON report; returns (report, completed)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [VMLEAK, "-q", "--format", "json", "-o", out.name, *options, "--", *argv]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=env)
        with open(out.name) as f:
            text = f.read()
    if not text.strip():
        raise AssertionError(f"no report from {cmd}: rc={proc.returncode} "
                             f"stderr={proc.stderr!r}")
    return json.loads(text), proc


def run_vmleak(args, timeout=60, **kw):
    return subprocess.run([VMLEAK, *args], capture_output=True, text=True,
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
    round number per line) in a file, so a test can see it make progress."""

    def __init__(self, wrapper=(), name="slow_leaker"):
        self.out = tempfile.NamedTemporaryFile(mode="w+", suffix=".out")
        self.proc = subprocess.Popen([*wrapper, prog(name)], stdout=self.out,
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
        self.proc.kill()
        self.proc.wait()
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
