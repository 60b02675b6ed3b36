#!/usr/bin/env python3
"""tests/integration/test_other_tracer.py - another tool's BPF program on one of
the tracepoints attach mode reads (bpftrace, a bcc tool): the kernel records a
sample only when every program on the tracepoint lets it through, so vmleak
says in one line that such a program is there, and stays exact when it lets
everything through. Runs alone (ctest RUN_SERIAL): while the program is
attached every vmleak on the machine prints the warning."""
import json
import os
import subprocess
import time
import unittest

from test_attach_events import CHURN_LEN, Churner, bpf_usable, kernel_events_usable
from vmleak_common import VMLEAK, main


class OtherBpfProgram:
    """Another tool's BPF program on syscalls:sys_exit_mmap (one that lets
    everything through), attached as bpftrace or a bcc tool would: a counting
    perf event on the tracepoint with PERF_EVENT_IOC_SET_BPF."""

    def __init__(self, name=b"other_tool"):
        import ctypes
        import struct
        libc = ctypes.CDLL(None, use_errno=True)
        self.fds = []
        insns = struct.pack("=BBhi", 0xb7, 0, 0, 1) + struct.pack("=BBhi", 0x95, 0, 0, 0)
        ibuf = ctypes.create_string_buffer(insns)
        lic = ctypes.create_string_buffer(b"")
        attr = ctypes.create_string_buffer(128)
        struct.pack_into("=IIQQ", attr, 0, 5, 2, ctypes.addressof(ibuf), ctypes.addressof(lic))
        struct.pack_into("16s", attr, 48, name)
        prog = libc.syscall(321, 5, attr, 128)  # BPF_PROG_LOAD, BPF_PROG_TYPE_TRACEPOINT
        if prog < 0:
            raise OSError(ctypes.get_errno(), "BPF_PROG_LOAD")
        self.fds.append(prog)
        with open("/sys/kernel/tracing/events/syscalls/sys_exit_mmap/id") as f:
            tp = int(f.read())
        pattr = ctypes.create_string_buffer(128)
        struct.pack_into("=IIQ", pattr, 0, 2, 112, tp)  # PERF_TYPE_TRACEPOINT, counting
        ev = libc.syscall(298, pattr, -1, 0, -1, 8)  # all tasks, CPU 0, FD_CLOEXEC
        if ev < 0:
            self.close()
            raise OSError(ctypes.get_errno(), "perf_event_open")
        self.fds.append(ev)
        if libc.ioctl(ev, 0x40042408, prog):  # PERF_EVENT_IOC_SET_BPF
            self.close()
            raise OSError(ctypes.get_errno(), "PERF_EVENT_IOC_SET_BPF")

    def close(self):
        for fd in self.fds:
            os.close(fd)
        self.fds = []


@unittest.skipUnless(kernel_events_usable() and bpf_usable() and
                     os.path.exists("/sys/kernel/tracing/events/syscalls/sys_exit_mmap/id"),
                     "needs root, BPF and tracefs mounted")
class OtherTracer(unittest.TestCase):
    """Another BPF program on a tracepoint of ours can hide samples (the kernel
    ANDs the programs): vmleak says so in one line, and works on when it lets
    everything through."""

    def test_warns_and_stays_exact(self):
        other = OtherBpfProgram()
        try:
            churner = Churner()
            try:
                v = subprocess.Popen([VMLEAK, "-q", "-j", "--verify", "--events", "kernel",
                                      "-p", str(churner.proc.pid)], stderr=subprocess.PIPE,
                                     text=True)
                time.sleep(1.0)
                churner.send("leak")
                churner.expect("leak done")
                v.send_signal(2)
                _, err = v.communicate(timeout=120)
                churner.send("check")
                churner.expect("ok")
            finally:
                churner.close()
        finally:
            other.close()
        self.assertEqual(v.returncode, 0, err)
        first, _, rest = err.partition("\n")
        self.assertEqual(first, "vmleak: warning: BPF program other_tool (id "
                         + first.split("(id ")[1].split(")")[0]
                         + ") is on tracepoint syscalls:sys_exit_mmap; the kernel records "
                         "only what every program there lets through (--verify checks)")
        report = json.loads(rest)
        self.assertEqual(report["verify"]["mismatches"], [])
        kept = set((int(g["start"], 16), g["length"]) for s in report["sites"]
                   if not s["suppressed"] for g in s["regions"] if g["length"] != CHURN_LEN)
        self.assertEqual(kept, churner.leaked())

    def test_no_warning_without_it(self):
        churner = Churner()
        try:
            proc = subprocess.run([VMLEAK, "-q", "-o", os.devnull, "--events", "kernel", "-p",
                                   str(churner.proc.pid), "-d", "0.5"],
                                  capture_output=True, text=True, timeout=60)
        finally:
            churner.close()
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(proc.stderr, "")


if __name__ == "__main__":
    main()
