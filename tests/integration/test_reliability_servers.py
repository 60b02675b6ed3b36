#!/usr/bin/env python3
"""tests/integration/test_reliability_servers.py - real servers under load, on
127.0.0.1 only, with vmleak attached for 3 s in the middle of the load:
nginx (master + 2 workers, tests/nginx/nginx.conf) must answer every request
correctly and keep its worker pids; redis-server must answer every command and
keep every key written during the trace. Skipped when a server is missing
(Debian packages: nginx-light, redis-server, redis-tools, wrk)."""
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from vmleak_common import SRC, VMLEAK, kill_group, main, run, spawn

NGINX = shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx")
REDIS = shutil.which("redis-server")
REDIS_BENCH = shutil.which("redis-benchmark")
WRK = shutil.which("wrk")
HELLO = b"vmleak-reliability-ok\n"
MAX_REQUESTS = 200000  # per load thread: the load is bounded in count and in time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return sorted(int(c) for c in f.read().split())


def threads_untraced_and_running(pids):
    """[] when every thread of every pid is untraced and not stopped."""
    bad = []
    for pid in pids:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                fields = dict(l.split(":", 1) for l in f if ":" in l)
            state = fields["State"].split()[0]
            if int(fields["TracerPid"]) or state in ("t", "T"):
                bad.append((pid, tid, state, fields["TracerPid"].strip()))
    return bad


def attach(pids, duration="3"):
    """vmleak -p PIDS -d DURATION with a JSON report; returns (completed, report)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        proc = run([VMLEAK, "-q", "-j", "-o", out.name, "-p",
                    ",".join(map(str, pids)), "-d", duration],
                   capture_output=True, text=True, timeout=60)
        with open(out.name) as f:
            text = f.read()
    return proc, json.loads(text) if text.strip() else None


class Load:
    """Threads that each run fn(stop) -> (ok, failures) until stop is set."""

    def __init__(self, fn, n):
        self.stop = threading.Event()
        self.results = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(fn, i)) for i in range(n)]
        for t in self.threads:
            t.start()

    def _run(self, fn, i):
        try:
            r = fn(self.stop, i)
        except Exception as e:  # a crash of the client is a failure too
            r = (0, [repr(e)])
        with self.lock:
            self.results.append(r)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)
        ok = sum(r[0] for r in self.results)
        failures = [f for r in self.results for f in r[1]]
        return ok, failures


def http_client(port):
    def run(stop, i):
        ok, failures = 0, []
        conn = None
        for n in range(MAX_REQUESTS):
            if stop.is_set():
                break
            path = "/hello" if n % 2 else "/static/page.html"
            want = HELLO if n % 2 else STATIC_BODY
            try:
                if conn is None or i % 2 == 0 and n % 50 == 0:
                    if conn:
                        conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path)
                r = conn.getresponse()
                body = r.read()
                if r.status != 200 or body != want:
                    failures.append((path, r.status, body[:80]))
                else:
                    ok += 1
            except (OSError, http.client.HTTPException) as e:
                failures.append((path, repr(e)))
                conn = None
        if conn:
            conn.close()
        return ok, failures

    return run


STATIC_BODY = b"".join(b"line %05d of a static page served by nginx\n" % i for i in range(400))


@unittest.skipUnless(NGINX, "needs nginx (Debian package nginx-light)")
class NginxUnderLoad(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        d = self.dir.name
        os.chmod(d, 0o755)  # workers run as nobody
        os.makedirs(os.path.join(d, "www", "static"))
        with open(os.path.join(d, "www", "static", "page.html"), "wb") as f:
            f.write(STATIC_BODY)
        self.port = free_port()
        with open(os.path.join(SRC, "tests", "nginx", "nginx.conf")) as f:
            conf = f.read().replace("@DIR@", d).replace("@PORT@", str(self.port))
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(conf)
        self.nginx = spawn([NGINX, "-p", d, "-c", os.path.join(d, "nginx.conf"),
                            "-e", os.path.join(d, "error.log")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_port(self.port, self.nginx)
        end = time.time() + 10
        while len(children(self.nginx.pid)) < 2 and time.time() < end:
            time.sleep(0.05)

    def tearDown(self):
        if self.nginx.poll() is None:
            self.nginx.terminate()
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        kill_group(self.nginx)  # workers left by a master that did not stop
        self.nginx.stderr.close()
        self.dir.cleanup()

    def test_attach_to_master_and_workers_under_load(self):
        master = self.nginx.pid
        workers = children(master)
        self.assertEqual(len(workers), 2)
        wrk = None
        if WRK:
            wrk = spawn([WRK, "-t2", "-c8", "-d8s", "--timeout", "20s",
                         f"http://127.0.0.1:{self.port}/hello"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        load = Load(http_client(self.port), 4)
        try:
            time.sleep(1)
            proc, report = attach([master, *workers])
            time.sleep(1.5)  # keep the load going after the detach
        finally:
            ok, failures = load.finish()
        self.assertEqual(failures, [])
        self.assertGreater(ok, 0)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")
        self.assertIsNotNone(report)
        self.assertEqual(sorted(report["pids"]), sorted([master, *workers]))
        self.assertGreater(report["duration_s"], 2.5)
        # same workers, nobody traced or stopped, and it still serves
        self.assertEqual(children(master), workers)
        self.assertEqual(threads_untraced_and_running([master, *workers]), [])
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", "/hello")
        self.assertEqual(conn.getresponse().read(), HELLO)
        conn.close()
        if wrk:
            out, _ = wrk.communicate(timeout=60)
            self.assertEqual(wrk.returncode, 0, out)
            self.assertIn("requests in", out)
            self.assertNotIn("Socket errors", out)
            self.assertNotIn("Non-2xx", out)
        self.assertIsNone(self.nginx.poll())
        with open(os.path.join(self.dir.name, "error.log")) as f:
            log = f.read()
        self.assertNotIn("[alert]", log)
        self.assertNotIn("[emerg]", log)
        self.assertNotIn("exited on signal", log)


class Resp:
    """A minimal RESP client: enough for SET/GET/MGET/DBSIZE/SELECT/FLUSHALL."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        raise RuntimeError(f"malformed reply {line!r}")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._reply()


def redis_value(i):
    return (b"value-%d-" % i) * (1 + i % 7)


@unittest.skipUnless(REDIS and REDIS_BENCH, "needs redis-server and redis-benchmark "
                     "(Debian packages redis-server, redis-tools)")
class RedisUnderLoad(unittest.TestCase):
    BENCH_N = 30000

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.port = free_port()
        self.redis = spawn([REDIS, "--port", str(self.port), "--bind", "127.0.0.1",
                            "--save", "", "--appendonly", "no", "--dir",
                            self.dir.name, "--logfile",
                            os.path.join(self.dir.name, "redis.log")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.redis)

    def tearDown(self):
        if self.redis.poll() is None:
            self.redis.terminate()
            try:
                self.redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        kill_group(self.redis)
        self.dir.cleanup()

    def writer(self, stop, i):
        """Writes keys w:i:N into db 0 until stopped; every reply must be +OK."""
        c = Resp(self.port)
        ok, failures = 0, []
        try:
            for n in range(MAX_REQUESTS):
                if stop.is_set():
                    break
                r = c.call("SET", f"w:{i}:{n}", redis_value(n))
                if r != "OK":
                    failures.append((n, r))
                else:
                    ok += 1
        finally:
            c.close()
        self.written[i] = ok
        return ok, failures

    def test_attach_under_load_keeps_every_key(self):
        c = Resp(self.port)
        self.assertEqual(c.call("FLUSHALL"), "OK")
        self.written = {}
        bench = spawn([REDIS_BENCH, "-h", "127.0.0.1", "-p", str(self.port),
                       "-n", str(self.BENCH_N), "-c", "8", "--dbnum", "1",
                       "-t", "set,get,incr,lpush", "--csv"],
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        load = Load(self.writer, 2)
        try:
            time.sleep(0.5)
            proc, report = attach([self.redis.pid])
            time.sleep(1)
        finally:
            ok, failures = load.finish()
        out, _ = bench.communicate(timeout=120)
        self.assertEqual(failures, [])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")
        self.assertEqual(report["pids"], [self.redis.pid])
        self.assertEqual(threads_untraced_and_running([self.redis.pid]), [])
        self.assertEqual(bench.returncode, 0, out)
        self.assertNotIn("rror", out)
        # every key written is there with its value
        self.assertEqual(c.call("SELECT", 0), "OK")
        self.assertEqual(c.call("DBSIZE"), sum(self.written.values()))
        for i, count in self.written.items():
            for start in range(0, count, 1000):
                keys = [f"w:{i}:{n}" for n in range(start, min(count, start + 1000))]
                values = c.call("MGET", *keys)
                want = [redis_value(n) for n in range(start, min(count, start + 1000))]
                self.assertEqual(values, want)
        # redis-benchmark's INCR and LPUSH hit one key each, exactly BENCH_N times
        self.assertEqual(c.call("SELECT", 1), "OK")
        self.assertEqual(int(c.call("GET", "counter:__rand_int__")), self.BENCH_N)
        self.assertEqual(c.call("LLEN", "mylist"), self.BENCH_N)
        self.assertEqual(c.call("PING"), "PONG")
        c.close()
        self.assertIsNone(self.redis.poll())


if __name__ == "__main__":
    main()
