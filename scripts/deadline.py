#!/usr/bin/env python3
"""Runs a command with a deadline; if it is still running then, shows where it is stuck and ends it.

  scripts/deadline.py SECONDS -- COMMAND [ARG...]

The command's exit code is passed on. At the deadline, every process under the command is listed
with its command line and each of its threads' stacks (gdb, when it is installed; otherwise the
kernel's wait channel per thread), then they are killed, by PID, and the exit code is 124. A hung
test run so ends in minutes with the place it hung, instead of at the end of CI's budget.
"""
import os
import shutil
import signal
import subprocess
import sys
import time


def children_of():
    """ppid -> [pid], from /proc."""
    tree = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the fields after it are fixed.
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        tree.setdefault(ppid, []).append(int(name))
    return tree


def descendants(pid):
    tree, found, todo = children_of(), [], [pid]
    while todo:
        p = todo.pop()
        for c in tree.get(p, []):
            found.append(c)
            todo.append(c)
    return found


def command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:300]
    except OSError:
        return "?"


def stacks(pid):
    # The Python peers' own stacks say little; their threads' wait channels are enough.
    if shutil.which("gdb") and "python" not in command_line(pid).split(" ")[0]:
        try:
            out = subprocess.run(
                ["gdb", "-p", str(pid), "-batch", "-nx", "-ex", "set pagination off", "-ex", "thread apply all bt 40"],
                capture_output=True, text=True, timeout=60).stdout
            lines = [l for l in out.splitlines() if l.startswith(("#", "Thread "))]
            return "\n".join(lines[:600]) or "(gdb printed no stacks)"
        except (subprocess.TimeoutExpired, OSError) as e:
            return f"(gdb failed: {e})"
    rows = []
    for tid in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
        try:
            with open(f"/proc/{pid}/task/{tid}/wchan") as f:
                wchan = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        rows.append(f"thread {tid} ({comm}): waiting in {wchan or '-'}")
    return "\n".join(rows)


def main():
    args = sys.argv[1:]
    if len(args) < 3 or args[1] != "--" or not args[0].isdigit():
        print("usage: scripts/deadline.py SECONDS -- COMMAND [ARG...]", file=sys.stderr)
        return 64
    seconds, command = int(args[0]), args[2:]
    child = subprocess.Popen(command)
    try:
        return child.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pass
    except KeyboardInterrupt:
        child.send_signal(signal.SIGINT)
        return child.wait()
    stuck = descendants(child.pid)
    print(f"deadline: `{' '.join(command)}` still running after {seconds} s; where each process is:", file=sys.stderr, flush=True)
    for pid in stuck:
        print(f"--- pid {pid}: {command_line(pid)}", file=sys.stderr)
        print(stacks(pid), file=sys.stderr, flush=True)
    for pid in reversed(stuck):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    child.kill()
    child.wait()
    time.sleep(0.2)
    print(f"deadline: stopped `{' '.join(command)}` after {seconds} s (a hang: the stacks above say where)", file=sys.stderr)
    return 124


if __name__ == "__main__":
    sys.exit(main())
