#!/usr/bin/env python3
"""Benchmark of reconcile-tokens: a first pass that writes every secret and a converged second
pass, against moto (behind the counting fault proxy) and the Kuma stand-in, all on 127.0.0.1.
Prints calls per operation, wall time and peak RSS for each pass, and checks that the converged
pass makes exactly ListClusters pages + ListTasks pages + ceil(tasks/100) DescribeTasks +
ceil(services/20) BatchGetSecretValue calls and nothing else (no writes, no token requests).

    python3 scripts/bench_tokens.py --binary dynamic=.build/release/reconcile-tokens \
        --binary static=.build/dist/bin/reconcile-tokens [--services 1000 ...] [--target static:18:0.03]

Each binary gets its own freshly seeded world. `--target LABEL:RSS_MB:CPU_S` checks that binary's
converged pass against a peak RSS and CPU budget (printed, and a failure fails the run).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

from benchlib import call_rows, get, print_table, run_pass

HERE = os.path.dirname(os.path.abspath(__file__))




def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", action="append", required=True, help="LABEL=PATH (repeatable)")
    parser.add_argument("--target", action="append", default=[], help="LABEL:RSS_MB:CPU_S for the converged pass")
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--tasks-per-service", type=int, default=10)
    parser.add_argument("--clusters", type=int, default=4)
    args = parser.parse_args()
    binaries = [b.split("=", 1) if "=" in b else ["reconcile-tokens", b] for b in args.binary]
    targets = {t.split(":")[0]: (float(t.split(":")[1]), float(t.split(":")[2])) for t in args.target}
    failures = []
    for label, path in binaries:
        print(f"\n=== {label}: {path}")
        failures += bench(args, label, path, targets.get(label))
    if failures:
        print("\nFAIL: " + "; ".join(failures))
        raise SystemExit(1)
    print("\nOK: every converged pass made exactly the expected reads and no writes; every target met")


def bench(args, label_name, binary, target):
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
            report, wall, rss, cpu = run_pass(binary, env, label)
            calls = {op: c["total"] for op, c in get(proxy + "/__proxy/calls").items()}
            kuma_calls = {k: v for k, v in get(kuma + "/__standin/calls").items() if "mesh=" not in k}
            results.append((label, report, wall, rss, calls, kuma_calls,
                            get(proxy + "/__proxy/concurrency")["max_in_flight"],
                            get(kuma + "/__standin/concurrency")["max_in_flight"], cpu))

        print_table([r[0] for r in results], call_rows(results) + [
            ("AWS requests in flight (max)", [r[6] for r in results], ""),
            ("Kuma requests in flight (max)", [r[7] for r in results], ""),
            ("written / unchanged", [f"{r[1]['totals']['written']} / {r[1]['totals']['unchanged']}" for r in results], ""),
            ("wall time (s)", [r[2] for r in results], ".2f"),
            ("reconcile-tokens CPU time (s)", [r[8] for r in results], ".2f"),
            ("peak RSS (MiB)", [r[3] / 1024 for r in results], ".1f"),
        ], 34)
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
        rss_mb, cpu = results[1][3] / 1024, results[1][8]
        if target:
            ok = rss_mb <= target[0] and cpu <= target[1]
            print(f"target for {label_name}'s converged pass: peak RSS <= {target[0]} MiB and CPU <= {target[1]} s: "
                  f"{rss_mb:.1f} MiB, {cpu:.2f} s -> {'met' if ok else 'MISSED'}")
            if not ok:
                problems.append(f"{label_name} missed its target ({rss_mb:.1f} MiB, {cpu:.2f} s)")
        print(("FAIL: " + "; ".join(problems)) if problems else "OK: the converged pass made exactly the expected reads and no writes")
        return [f"{label_name}: {p}" for p in problems]
    finally:
        world.stdin.close()
        world.wait(timeout=30)


if __name__ == "__main__":
    main()
