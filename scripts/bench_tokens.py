#!/usr/bin/env python3
"""Benchmark of reconcile-tokens: a first pass that writes every secret and a converged second
pass, against moto (behind the counting fault proxy) and the Kuma stand-in, all on 127.0.0.1.
Prints calls per operation, wall time and peak RSS for each pass, and checks that the converged
pass makes exactly ListClusters pages + ListTasks pages + ceil(tasks/100) DescribeTasks +
ceil(services/20) BatchGetSecretValue calls and nothing else (no writes, no token requests).

    python3 scripts/bench_tokens.py --binary .build/release/reconcile-tokens [--services 1000 ...]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def get(url, method="GET"):
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"{}")


def run_pass(binary, env, label):
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        started = time.monotonic()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", timing.name, binary, "--output", "json", "--log-level", "warning"],
                              env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        rss, user, system = timing.read().strip().splitlines()[-1].split()
        rss_kb, cpu = int(rss), float(user) + float(system)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"bench: {label} exited {proc.returncode}")
    return json.loads(proc.stdout), wall, rss_kb, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--tasks-per-service", type=int, default=10)
    parser.add_argument("--clusters", type=int, default=4)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="kmesh-bench-")
    env_file = os.path.join(work, "env")
    print(f"seeding {args.services} services x {args.tasks_per_service} tasks in {args.clusters} clusters "
          f"(moto with signature checking, Kuma stand-in)...", flush=True)
    seeded_at = time.monotonic()
    world = subprocess.Popen([sys.executable, os.path.join(HERE, "peers", "world.py"), "bench", "--env-file", env_file,
                              "--services", str(args.services), "--tasks-per-service", str(args.tasks_per_service),
                              "--clusters", str(args.clusters)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready = json.loads(world.stdout.readline() or "{}")
        if not ready:
            raise SystemExit("bench: the local world did not start")
        print(f"seeded in {time.monotonic() - seeded_at:.0f}s", flush=True)
        env = dict(os.environ)
        with open(env_file) as f:
            env.update(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        proxy, kuma = ready["proxy"], ready["kuma"]

        results = []
        for label in ("first pass", "converged pass"):
            get(proxy + "/__proxy/reset", "POST")
            get(kuma + "/__standin/reset", "POST")
            report, wall, rss, cpu = run_pass(args.binary, env, label)
            calls = {op: c["total"] for op, c in get(proxy + "/__proxy/calls").items()}
            kuma_calls = {k: v for k, v in get(kuma + "/__standin/calls").items() if "mesh=" not in k}
            results.append((label, report, wall, rss, calls, kuma_calls,
                            get(proxy + "/__proxy/concurrency")["max_in_flight"],
                            get(kuma + "/__standin/concurrency")["max_in_flight"], cpu))

        ops = sorted({op for r in results for op in r[4]} | {"Kuma " + k for r in results for k in r[5]})
        print()
        print(f"{'':34}" + "".join(f"{r[0]:>18}" for r in results))
        for op in ops:
            row = [(r[5].get(op[5:], 0) if op.startswith("Kuma ") else r[4].get(op, 0)) for r in results]
            print(f"{op:34}" + "".join(f"{v:>18}" for v in row))
        print(f"{'AWS requests in flight (max)':34}" + "".join(f"{r[6]:>18}" for r in results))
        print(f"{'Kuma requests in flight (max)':34}" + "".join(f"{r[7]:>18}" for r in results))
        print(f"{'written / unchanged':34}" + "".join(f"{str(r[1]['totals']['written']) + ' / ' + str(r[1]['totals']['unchanged']):>18}" for r in results))
        print(f"{'wall time (s)':34}" + "".join(f"{r[2]:>18.2f}" for r in results))
        print(f"{'reconcile-tokens CPU time (s)':34}" + "".join(f"{r[8]:>18.2f}" for r in results))
        print(f"{'peak RSS (MiB)':34}" + "".join(f"{r[3] / 1024:>18.1f}" for r in results))
        print("(wall time is mostly moto's: its DescribeTasks scans every task in Python; the CPU line is the binary's own)")

        # The converged pass must be reads only, exactly as many as the pages require.
        _, report, _, _, calls, kuma_calls, _, _, _ = results[1]
        tasks, services = report["tasksSeen"], len(report["services"])
        per_cluster = [args.services // args.clusters + (1 if c < args.services % args.clusters else 0) for c in range(args.clusters)]
        describe = sum(math.ceil(n * args.tasks_per_service / 100) for n in per_cluster)
        expected = {"ECS.ListClusters": calls.get("ECS.ListClusters", 0), "ECS.ListTasks": calls.get("ECS.ListTasks", 0),
                    "ECS.DescribeTasks": describe, "SecretsManager.BatchGetSecretValue": math.ceil(services / 20)}
        print()
        print(f"converged pass: {tasks} tasks, {services} services; expected ListClusters pages "
              f"({expected['ECS.ListClusters']}) + ListTasks pages ({expected['ECS.ListTasks']}) + DescribeTasks "
              f"{describe} (ceil(tasks/100) = {math.ceil(tasks / 100)}) + BatchGetSecretValue {expected['SecretsManager.BatchGetSecretValue']} "
              f"= {sum(expected.values())} calls; made {sum(calls.values())}, Kuma calls {sum(kuma_calls.values())}")
        problems = [f"{op}: {calls.get(op, 0)} != {n}" for op, n in expected.items() if calls.get(op, 0) != n]
        problems += [f"unexpected {op}: {n}" for op, n in calls.items() if op not in expected]
        problems += [f"unexpected Kuma {k}: {v}" for k, v in kuma_calls.items()]
        if expected["ECS.ListTasks"] < args.clusters or expected["ECS.ListClusters"] < 1:
            problems.append("ListClusters/ListTasks were not called for every cluster")
        if results[0][1]["totals"]["written"] != args.services:
            problems.append(f"first pass wrote {results[0][1]['totals']['written']} secrets, not {args.services}")
        if problems:
            print("FAIL: " + "; ".join(problems))
            raise SystemExit(1)
        print("OK: the converged pass made exactly the expected reads and no writes")
    finally:
        world.stdin.close()
        world.wait(timeout=30)


if __name__ == "__main__":
    main()
