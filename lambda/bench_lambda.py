#!/usr/bin/env python3
"""Lambda figures for the packaged bootstraps (.build/lambda/*.zip), on this machine, all on loopback:
  - zip size;
  - exec -> first GET /runtime/invocation/next: median (and p90) of 20 cold starts against the fake
    Runtime API (the time from just before exec to the request's arrival);
  - peak RSS (VmHWM) after a 100-task pass (10 services x 10 tasks, moto + Kuma stand-in);
  - the first (cold) and a warm invocation's duration, enqueue -> result.
Targets: zip <= 10 MB, exec -> first next <= 15 ms median, peak RSS <= 25 MB.

    python3 lambda/bench_lambda.py      (after lambda/package.sh)
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, ".build", "lambda")
PEERS = os.path.join(ROOT, "scripts", "peers")


def call(url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def start(cmd):
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc, json.loads(proc.stdout.readline())


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    zips = sorted(z for z in os.listdir(OUT) if z.endswith(".zip")) if os.path.isdir(OUT) else []
    if not zips:
        raise SystemExit("bench: no zips in .build/lambda: run lambda/package.sh first")
    work = tempfile.mkdtemp(prefix="kmesh-lambda-bench-")
    world, ready = start([sys.executable, os.path.join(PEERS, "world.py"), "bench", "--env-file", os.path.join(work, "env"),
                          "--services", "10", "--tasks-per-service", "10", "--clusters", "1"])
    runtime, rt = start([sys.executable, os.path.join(PEERS, "lambda_runtime_standin.py")])
    base = f"http://127.0.0.1:{rt['port']}"
    failed = []
    try:
        env = dict(line.rstrip("\n").split("=", 1) for line in open(os.path.join(work, "env")) if "=" in line)
        env.update({"AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{rt['port']}", "LAMBDA_TASK_ROOT": "/var/task", "_HANDLER": "bootstrap",
                    "PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning"})
        for z in zips:
            name = z[:-4]
            size = os.path.getsize(os.path.join(OUT, z))
            target = os.path.join(work, name)
            zipfile.ZipFile(os.path.join(OUT, z)).extractall(target)
            bootstrap = os.path.join(target, "bootstrap")
            os.chmod(bootstrap, 0o755)

            cold = []
            for _ in range(20):
                call(base + "/__fake/reset", {})
                t0 = time.time()
                proc = subprocess.Popen([bootstrap], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                deadline = time.time() + 10
                times = []
                while not times and time.time() < deadline:
                    times = call(base + "/__fake/next-times")
                    if not times:
                        time.sleep(0.002)
                proc.kill()
                proc.wait()
                if times:
                    cold.append((times[0] - t0) * 1000)
            median = statistics.median(cold)
            p90 = sorted(cold)[int(len(cold) * 0.9) - 1]

            call(base + "/__fake/reset", {})
            proc = subprocess.Popen([bootstrap], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            scheduled = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
            durations = []
            for _ in range(2):
                t0 = time.time()
                rid = call(base + "/__fake/events", {"body": scheduled})["request_id"]
                result = call(base + f"/__fake/result/{rid}?wait=120")
                durations.append((result["at"] - t0) * 1000)
                if result.get("kind") != "response":
                    failed.append(f"{name}: the pass failed: {json.dumps(result)[:300]}")
            tasks = (result.get("body") or {}).get("tasksSeen")
            rss_mb = vm_hwm_kb(proc.pid) / 1024
            proc.kill()
            proc.wait()

            print(f"{name}:")
            print(f"  zip size                       {size / 1e6:8.2f} MB   (target <= 10 MB)")
            print(f"  exec -> first next (20 cold)   {median:8.2f} ms   median, p90 {p90:.2f} ms, min {min(cold):.2f} ms (target <= 15 ms median)")
            print(f"  peak RSS after a {tasks}-task pass {rss_mb:8.1f} MB   (target <= 25 MB)")
            print(f"  first invocation (cold pass)   {durations[0]:8.1f} ms   (10 services: 10 tokens, 10 writes)")
            print(f"  warm invocation (converged)    {durations[1]:8.1f} ms")
            if size > 10e6: failed.append(f"{name}: zip {size / 1e6:.2f} MB > 10 MB")
            if median > 15: failed.append(f"{name}: cold start median {median:.2f} ms > 15 ms")
            if rss_mb > 25: failed.append(f"{name}: peak RSS {rss_mb:.1f} MB > 25 MB")
    finally:
        for p in (runtime, world):
            p.stdin.close()
            p.wait(timeout=30)
    if failed:
        print("over target: " + "; ".join(failed))
        raise SystemExit(1)
    print("all figures within target")


if __name__ == "__main__":
    main()
