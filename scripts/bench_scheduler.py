#!/usr/bin/env python3
"""Benchmark of kmesh-scheduler (prints figures; not a test):
  1. idle: 20 jobs on minute schedules for --seconds (60): the scheduler's own CPU time as a share of
     one core (target under 0.1%), and its RSS;
  2. lateness: 20 `@every 1s` jobs for --seconds with both cores kept busy: actual minus planned start
     (p50, p99, max; target p99 under 50 ms), from the scheduler's own "job started" lines.

    python3 scripts/bench_scheduler.py --binary .build/dist/bin/kmesh-scheduler [--seconds 60]
    python3 scripts/bench_scheduler.py --binary ... --soak 300   # 20 @every 1s jobs for 5 minutes: RSS, fds,
                                                                 # threads and zombies must not grow
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime, the scheduler's own


def rss_kib(pid, key="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def start(binary, crontab, log):
    return subprocess.Popen([binary, "run", crontab], stdout=subprocess.DEVNULL, stderr=open(log, "w"), stdin=subprocess.DEVNULL)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else 0


def census(pid):
    """(RSS KiB, open descriptors, threads, zombie children) of the scheduler."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    threads = int(next(l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("Threads:")))
    zombies = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = open(f"/proc/{name}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat[0] == "Z" and int(stat[1]) == pid:
            zombies += 1
    return rss_kib(pid), fds, threads, zombies


def soak(args, work):
    tab = os.path.join(work, "soak")
    with open(tab, "w") as f:
        for i in range(20):
            f.write(f"[name=soak-{i:02d}] @every 1s sh -c 'echo tick; exit {i % 3}'\n")
    proc = start(args.binary, tab, "/dev/null")
    samples = []
    try:
        time.sleep(20)  # warm-up
        for _ in range(max(2, args.soak // 20)):
            samples.append(census(proc.pid))
            time.sleep(20)
        samples.append(census(proc.pid))
    finally:
        stop(proc)
    first, last = samples[0], samples[-1]
    peak_threads = max(s[2] for s in samples)
    print(f"soak: 20 @every 1s jobs for {args.soak + 20}s ({len(samples)} samples after a 20 s warm-up): "
          f"RSS {first[0] / 1024:.1f} -> {last[0] / 1024:.1f} MiB, descriptors {first[1]} -> {last[1]}, "
          f"threads {first[2]} -> {last[2]} (peak {peak_threads}), zombies at the end {last[3]}")
    problems = []
    if last[0] - first[0] > 2048:
        problems.append(f"RSS grew by {(last[0] - first[0]) / 1024:.1f} MiB")
    if last[1] > first[1] + 4:
        problems.append(f"descriptors grew {first[1]} -> {last[1]}")
    if max(s[3] for s in samples) > 20:
        problems.append("zombies piled up")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--soak", type=int, default=0, help="run only the soak, for this many seconds")
    args = parser.parse_args()
    if args.soak:
        problems = soak(args, tempfile.mkdtemp(prefix="kmesh-sched-soak-"))
        if problems:
            print("FAIL: " + "; ".join(problems))
            raise SystemExit(1)
        print("OK: nothing grew")
        return
    work = tempfile.mkdtemp(prefix="kmesh-sched-bench-")
    problems = []

    idle_tab = os.path.join(work, "idle")
    with open(idle_tab, "w") as f:
        for i in range(20):
            f.write(f"[name=minute-{i:02d}] * * * * * true\n")
    proc = start(args.binary, idle_tab, os.path.join(work, "idle.log"))
    time.sleep(2)  # past start-up
    before, t0 = cpu_seconds(proc.pid), time.monotonic()
    time.sleep(args.seconds)
    used, elapsed = cpu_seconds(proc.pid) - before, time.monotonic() - t0
    rss, hwm = rss_kib(proc.pid), rss_kib(proc.pid, "VmHWM")
    stop(proc)
    share = 100 * used / elapsed
    print(f"idle: 20 minute jobs for {elapsed:.0f}s: scheduler CPU {used:.2f}s = {share:.3f}% of one core (target < 0.1%); "
          f"RSS {rss / 1024:.1f} MiB (peak {hwm / 1024:.1f} MiB)")
    if share >= 0.1:
        problems.append(f"idle CPU {share:.3f}% of one core")

    busy_tab = os.path.join(work, "busy")
    with open(busy_tab, "w") as f:
        for i in range(20):
            f.write(f"[name=second-{i:02d}] @every 1s true\n")
    burners = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(os.cpu_count() or 2)]
    log = os.path.join(work, "busy.log")
    try:
        proc = start(args.binary, busy_tab, log)
        time.sleep(args.seconds)
        rss_busy = rss_kib(proc.pid, "VmHWM")
        stop(proc)
    finally:
        for b in burners:
            b.kill()
            b.wait()
    late = []
    for line in open(log):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") == "job started" and entry.get("reason") == "schedule":
            late.append(int(entry["late-ms"]))
    p50, p99, worst = percentile(late, 50), percentile(late, 99), max(late or [0])
    print(f"lateness: 20 @every 1s jobs for {args.seconds}s, {os.cpu_count()} cores busy: {len(late)} runs; "
          f"p50 {p50} ms, p99 {p99} ms, max {worst} ms (target p99 < 50 ms); peak RSS {rss_busy / 1024:.1f} MiB")
    if len(late) < 20 * (args.seconds - 2):
        problems.append(f"only {len(late)} runs started")
    if p99 >= 50:
        problems.append(f"p99 lateness {p99} ms")
    if problems:
        print("FAIL: " + "; ".join(problems))
        raise SystemExit(1)
    print("OK: every target met")


if __name__ == "__main__":
    main()
