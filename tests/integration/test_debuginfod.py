#!/usr/bin/env python3
"""tests/integration/test_debuginfod.py - debuginfod (issue 14): with DEBUGINFOD_URLS
set, the final report of a stripped program gets its debug info from a server
through elfutils' client, into the client's cache (DEBUGINFOD_CACHE_PATH); the
downloads happen only once tracing is over (the traced process is already
detached when the server is asked), a slow one shows a note on the status line,
and a server that is gone costs nothing but the missing names; --symbolize asks
the server by build-id for a program that is gone.

Servers: Debian's debuginfod (it listens on every address and has no option to
bind one) and a small deliberately slow one written here, bound to 127.0.0.1.
The whole test runs in a network namespace of its own (unshare --net, with only
the loopback interface up), so both are reachable on 127.0.0.1 only; the port
is a random free one. Where no namespace can be made, the test that needs
Debian's server is skipped and the others run.
Every server is killed when the test ends, whatever happens (and by the kernel
if this process dies: PR_SET_PDEATHSIG)."""
import ctypes
import http.server
import json
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from vmleak_common import (SRC, VMLEAK, kill_group, main, prog, run, source_line, spawn,
                           split_debug)

IN_NETNS = "VMLEAK_TEST_NETNS"
SOURCE = os.path.join(SRC, "tests", "progs", "bt_two_sites.c")
SERVER_READY_S = 30  # bound on the wait for debuginfod's first scan


def unshare_argv():
    return ["unshare", "--net"] if os.getuid() == 0 else ["unshare", "--net", "--map-root-user"]


def in_netns():
    return os.environ.get(IN_NETNS) == "1"


def reexec_in_netns():
    """Run this file again inside a new network namespace with lo up."""
    unshare = unshare_argv()
    inner = "ip link set lo up && exec \"$0\" \"$@\""
    env = dict(os.environ, **{IN_NETNS: "1"})
    proc = run([*unshare, "sh", "-c", inner, sys.executable, *sys.argv], env=env, timeout=280)
    sys.exit(proc.returncode)


def die_with_parent():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_env(url, cache):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGINFOD_")}
    env.update(DEBUGINFOD_URLS=url, DEBUGINFOD_CACHE_PATH=cache, DEBUGINFOD_TIMEOUT="10")
    return env


def run_report(argv, env, options=(), timeout=90):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        proc = run([VMLEAK, "-q", "-j", "-o", out.name, *options, "--", *argv],
                   capture_output=True, text=True, timeout=timeout, env=env)
        with open(out.name) as f:
            text = f.read()
    if not text.strip():
        raise AssertionError(f"no report: rc={proc.returncode} stderr={proc.stderr!r}")
    return [json.loads(line) for line in text.splitlines() if line.strip()], proc


def frames_in(report, module):
    out = {}
    for site in report["sites"]:
        for frame in site["frames"]:
            if frame["module"] == module:
                out.setdefault(frame["function"], frame)  # the largest site's
                break
    return out


class SlowServer:
    """A debuginfod look-alike on 127.0.0.1: GET /buildid/ID/debuginfo sends the
    file it holds for ID in small pieces over `seconds`, other paths get 404.
    Each request is recorded with what `probe()` said when it arrived."""

    def __init__(self, files, seconds=0.0, probe=lambda: None):
        self.files, self.seconds, self.probe = files, seconds, probe
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                parts = self.path.strip("/").split("/")
                body = None
                if len(parts) == 3 and parts[0] == "buildid" and parts[2] == "debuginfo":
                    server.requests.append((parts[1], server.probe()))
                    body = server.files.get(parts[1])
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                pieces = 20
                step = (len(body) + pieces - 1) // pieces
                for i in range(0, len(body), step):
                    self.wfile.write(body[i:i + step])
                    self.wfile.flush()
                    time.sleep(server.seconds / pieces)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Debuginfod(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="vmleak-dind-")
        cls.served = os.path.join(cls.tmp.name, "served")
        os.makedirs(cls.served)
        cls.exe, debug, cls.bid = split_debug(prog("bt_two_sites"), cls.tmp.name)
        # only the server has the debug file
        shutil.move(debug, os.path.join(cls.served, "bt_two_sites.debug"))
        with open(os.path.join(cls.served, "bt_two_sites.debug"), "rb") as f:
            cls.debug_bytes = f.read()
        cls.cache_line = source_line(SOURCE, "BT_CACHE_MMAP")
        cls.server = None
        cls.server_log = None
        cls.port = free_port()
        cls.url = f"http://127.0.0.1:{cls.port}"
        if in_netns():  # Debian's server listens on every address: only in a netns
            cls.start_debuginfod()

    @classmethod
    def start_debuginfod(cls):
        db = os.path.join(cls.tmp.name, "debuginfod.sqlite")
        cls.server_log = open(os.path.join(cls.tmp.name, "debuginfod.log"), "w")
        cls.server = spawn(
            ["debuginfod", "-F", "-p", str(cls.port), "-d", db, "-t", "0", "-g", "0", "-c", "1",
             cls.served], stdout=cls.server_log, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent)
        end = time.monotonic() + SERVER_READY_S
        probe = f"{cls.url}/buildid/{cls.bid}/debuginfo"
        while True:
            if cls.server.poll() is not None:
                raise AssertionError(f"debuginfod exited {cls.server.returncode}")
            try:
                with urllib.request.urlopen(probe, timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > end:
                raise AssertionError(f"debuginfod did not serve {cls.bid} in {SERVER_READY_S} s")
            time.sleep(0.2)

    @classmethod
    def stop_debuginfod(cls):
        if cls.server:
            kill_group(cls.server)

    @classmethod
    def tearDownClass(cls):
        cls.stop_debuginfod()
        if cls.server_log:
            cls.server_log.close()
        cls.tmp.cleanup()

    def cache_dir(self):
        return tempfile.mkdtemp(dir=self.tmp.name, prefix="cache-")

    def assert_leak_line_found(self, report):
        frames = frames_in(report, self.exe)
        self.assertIn("keep_cache", frames, frames)
        self.assertEqual(frames["keep_cache"]["file"], SOURCE)
        self.assertEqual(frames["keep_cache"]["line"], self.cache_line)
        self.assertEqual(frames["leak_buffers"]["line"], source_line(SOURCE, "BT_BUFFERS_MMAP"))

    def test_1_download_then_cache(self):
        if not in_netns():
            self.skipTest("no private network namespace (unshare --net failed) for "
                          "Debian's debuginfod, which listens on every address")
        cache = self.cache_dir()
        reports, proc = run_report([self.exe], client_env(self.url, cache))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assert_leak_line_found(reports[-1])
        cached = os.path.join(cache, self.bid, "debuginfo")
        self.assertTrue(os.path.isfile(cached), os.listdir(cache))
        with open(cached, "rb") as f:
            self.assertEqual(f.read(), self.debug_bytes)
        # the same again with the server stopped: from the cache
        self.stop_debuginfod()
        reports, proc = run_report([self.exe], client_env(self.url, cache))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assert_leak_line_found(reports[-1])

    def test_2_without_the_variable_no_server_is_asked(self):
        server = SlowServer({self.bid: self.debug_bytes})
        self.addCleanup(server.close)
        env = client_env(server.url, self.cache_dir())
        del env["DEBUGINFOD_URLS"]
        reports, proc = run_report([self.exe], env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("keep_cache", frames_in(reports[-1], self.exe))
        self.assertEqual(server.requests, [])

    def test_3_server_gone_report_still_written(self):
        reports, proc = run_report([self.exe, "4"],
                                   client_env(f"http://127.0.0.1:{free_port()}",
                                              self.cache_dir()))
        self.assertEqual(proc.returncode, 4, proc.stderr)
        frames = frames_in(reports[-1], self.exe)
        self.assertNotIn("keep_cache", frames)
        self.assertEqual(reports[-1]["totals"]["bytes"], 2 * 32768 + 3 * 16384)

    def test_4_downloads_only_after_tracing(self):
        # attach to a stripped slow_leaker with interim reports; the server notes
        # whether the leaker was still traced when each request came in
        d = tempfile.mkdtemp(dir=self.tmp.name)
        leaker_exe, debug, bid = split_debug(prog("slow_leaker"), d)
        with open(debug, "rb") as f:
            body = f.read()
        os.unlink(debug)
        leaker = spawn([leaker_exe], stdout=subprocess.DEVNULL, preexec_fn=die_with_parent)
        self.addCleanup(kill_group, leaker)

        def tracer_pid():
            with open(f"/proc/{leaker.pid}/status") as f:
                for line in f:
                    if line.startswith("TracerPid:"):
                        return int(line.split()[1])
            return None

        server = SlowServer({bid: body}, probe=tracer_pid)
        self.addCleanup(server.close)
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            proc = run([VMLEAK, "-q", "-j", "-o", out.name, "--interval", "0.2", "-d", "1.5",
                        "-p", str(leaker.pid)], capture_output=True, text=True, timeout=90,
                       env=client_env(server.url, self.cache_dir()))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(out.name) as f:
                reports = [json.loads(line) for line in f if line.strip()]
        self.assertEqual(leaker.poll(), None, "the leaker must survive")
        interim = [r for r in reports if not r["final"]]
        self.assertGreaterEqual(len(interim), 2)
        for r in interim:  # no download for them: offsets only
            self.assertNotIn("main", frames_in(r, leaker_exe))
        final = reports[-1]
        self.assertTrue(final["final"])
        self.assertEqual(frames_in(final, leaker_exe)["main"]["line"],
                         source_line(os.path.join(SRC, "tests", "progs", "slow_leaker.c"),
                                     "mmap(NULL, 4096"))
        asked = [traced for b, traced in server.requests if b == bid]
        self.assertEqual(asked, [0], server.requests)  # once, once detached

    def test_5_slow_download_shows_a_progress_note(self):
        server = SlowServer({self.bid: self.debug_bytes}, seconds=2.5)
        self.addCleanup(server.close)
        master, slave = pty.openpty()
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            proc = spawn([VMLEAK, "-j", "-o", out.name, "--", self.exe],
                         stdout=subprocess.DEVNULL, stderr=slave,
                         env=client_env(server.url, self.cache_dir()))
            self.addCleanup(kill_group, proc)
            os.close(slave)
            seen = b""
            end = time.monotonic() + 90
            while time.monotonic() < end:
                ready, _, _ = select.select([master], [], [], 1)
                if ready:
                    try:
                        chunk = os.read(master, 4096)
                    except OSError:  # EIO: the other side is closed
                        break
                    if not chunk:
                        break
                    seen += chunk
                elif proc.poll() is not None:
                    break
            os.close(master)
            self.assertEqual(proc.wait(timeout=30), 0, seen)
            with open(out.name) as f:
                report = json.loads(f.read().splitlines()[-1])
        text = seen.decode(errors="replace")
        self.assertIn("vmleak: downloading debug info for bt_two_sites from debuginfod", text)
        self.assertIn(" of ", text)  # the size is known from Content-Length
        self.assertTrue(text.endswith("\r\x1b[K"), repr(text[-80:]))  # and erased
        frames = frames_in(report, self.exe)
        self.assertEqual(frames["keep_cache"]["line"], self.cache_line)

    def test_6_symbolize_a_saved_report_of_a_program_that_is_gone(self):
        # the report is taken with no server; then the program is deleted and
        # --symbolize finds its debug info by build-id on the server
        d = tempfile.mkdtemp(dir=self.tmp.name)
        exe = os.path.join(d, "bt_two_sites")
        shutil.copy(self.exe, exe)
        env = client_env(self.url, self.cache_dir())
        del env["DEBUGINFOD_URLS"]
        reports, proc = run_report([exe], env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("keep_cache", frames_in(reports[-1], exe))
        os.unlink(exe)
        saved = os.path.join(d, "report.json")
        with open(saved, "w") as f:
            json.dump(reports[-1], f)
        server = SlowServer({self.bid: self.debug_bytes})
        self.addCleanup(server.close)
        proc = run([VMLEAK, "--symbolize", saved], capture_output=True, text=True, timeout=90,
                   env=client_env(server.url, self.cache_dir()))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        frames = frames_in(json.loads(proc.stdout), exe)
        self.assertEqual(frames["keep_cache"]["line"], self.cache_line)
        self.assertIn(self.bid, [b for b, _ in server.requests])


if __name__ == "__main__":
    if not os.environ.get(IN_NETNS):
        for tool in ("unshare", "ip", "debuginfod", "objcopy", "readelf"):
            if not shutil.which(tool):
                raise SystemExit(f"{tool} missing: run scripts/bootstrap.sh")
        if run([*unshare_argv(), "true"], timeout=30).returncode == 0:
            reexec_in_netns()
        # no namespaces here (a container without CAP_SYS_ADMIN): the tests
        # with the 127.0.0.1-only server still run
        os.environ[IN_NETNS] = "0"
    main()
