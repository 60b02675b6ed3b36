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

Only processes started after the ctest run began count (a process older than
it was left by an earlier run: it is listed, but does not fail this one).
Processes that are still exiting get a few seconds (GRACE_S) to go.

Env: VMLEAK_BUILD, VMLEAK_SRC."""
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


def stat_fields(pid):
    """/proc/PID/stat after the command name: fields[0] is the state (field 3),
    fields[1] the parent (4), fields[19] the start time in ticks (22)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def ancestors():
    """This process and its ancestors (ctest, the shell that ran it, ...), and the
    start time of the nearest ctest among them (None when not run by ctest)."""
    out, pid, since = set(), os.getpid(), None
    while pid > 0 and pid not in out:
        out.add(pid)
        try:
            fields = stat_fields(pid)
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
        except (OSError, ValueError, IndexError):
            break
        if since is None and exe == "ctest":
            since = int(fields[19])
        pid = int(fields[1])
    return out, since


def read_proc(pid):
    """(state, exe, argv, ppid, start ticks) of pid, or None when it is gone."""
    try:
        fields = stat_fields(pid)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            exe = ""
    except (OSError, IndexError):
        return None
    return fields[0], exe.removesuffix(" (deleted)"), argv, int(fields[1]), int(fields[19])


def leftovers():
    """(this run's leftovers, older ones), each a list of (pid, ppid, state, exe, cmd)."""
    roots = trees()
    mine, since = ancestors()
    found, older = [], []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in mine:
            continue
        info = read_proc(int(name))
        if not info or info[0] in ("Z", "X"):
            continue
        state, exe, argv, ppid, started = info
        under = exe.startswith(roots)
        if not under and os.path.basename(exe).startswith(WRAPPERS):
            # the paths as the process wrote them: resolving them here would
            # follow our own /dev/fd and /proc/self, not the process's
            under = any(os.path.normpath(a).startswith(roots)
                        for a in argv[1:] if a.startswith("/"))
        if under:
            row = (int(name), ppid, state, exe, " ".join(argv))
            (older if since is not None and started < since else found).append(row)
    return found, older


def show(rows):
    for pid, ppid, state, exe, cmd in rows:
        print(f"  pid {pid} (parent {ppid}, state {state}) {exe}: {cmd}")


def main():
    end = time.time() + GRACE_S
    found, older = leftovers()
    while found and time.time() < end:
        time.sleep(0.2)
        found, older = leftovers()
    if older:
        print(f"note: {len(older)} process(es) left by an earlier run (not this one's):")
        show(older)
    if not found:
        print("no process started by the suite is left")
        return 0
    print(f"{len(found)} process(es) started by the suite are still running:")
    show(found)
    return 1


if __name__ == "__main__":
    sys.exit(main())
