#!/usr/bin/env python3
"""tests/integration/no_leftovers.py - the suite's last test (ctest
zz.no_leftover_processes, the cleanup of the fixture every other test requires):
no process that the suite started may still be running. A leftover is a live
process whose executable lies in the build or source tree, or a wrapper
(strace, a shell, python, ...) whose command line names a file there. Exits 0
when none is left, 1 after listing them. It only looks: a leftover is a bug of
the test that started it (tests/integration/vmleak_common.py kills each helper's
process group), and the helper programs end by themselves anyway
(tests/progs/lifetime.h).

Env: VMLEAK_BUILD, VMLEAK_SRC. Processes that are still exiting get a few
seconds (GRACE_S) to go."""
import os
import sys
import time

GRACE_S = 5
WRAPPERS = ("python", "sh", "dash", "bash", "strace", "valgrind", "setpriv", "unshare",
            "taskset", "timeout", "env", "nice", "gdb", "perf")


def trees():
    out = []
    for var in ("VMLEAK_BUILD", "VMLEAK_SRC"):
        path = os.environ.get(var)
        if not path:
            raise SystemExit(f"{var} must be set (run through ctest)")
        out += [os.path.realpath(path) + os.sep, os.path.normpath(path) + os.sep]
    return tuple(out)


def ancestors():
    """This process and its ancestors (ctest, the shell that ran it, ...)."""
    out, pid = set(), os.getpid()
    while pid > 0 and pid not in out:
        out.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return out


def read_proc(pid):
    """(state, exe, argv, ppid) of pid, or None when it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            exe = ""
    except (OSError, IndexError):
        return None
    return fields[0], exe.removesuffix(" (deleted)"), argv, int(fields[1])


def leftovers():
    roots = trees()
    mine = ancestors()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in mine:
            continue
        info = read_proc(int(name))
        if not info or info[0] in ("Z", "X"):
            continue
        state, exe, argv, ppid = info
        under = exe.startswith(roots)
        if not under and os.path.basename(exe).startswith(WRAPPERS):
            # the paths as the process wrote them: resolving them here would
            # follow our own /dev/fd and /proc/self, not the process's
            under = any(os.path.normpath(a).startswith(roots)
                        for a in argv[1:] if a.startswith("/"))
        if under:
            found.append((int(name), ppid, state, exe, " ".join(argv)))
    return found


def main():
    end = time.time() + GRACE_S
    found = leftovers()
    while found and time.time() < end:
        time.sleep(0.2)
        found = leftovers()
    if not found:
        print("no process started by the suite is left")
        return 0
    print(f"{len(found)} process(es) started by the suite are still running:")
    for pid, ppid, state, exe, cmd in found:
        print(f"  pid {pid} (parent {ppid}, state {state}) {exe}: {cmd}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
