#!/usr/bin/env python3
"""Benchmark of reconcile-dns: 5,000 MeshServices in one private zone; a first pass that creates
every record and a no-change pass, against moto's Route 53 (behind the counting fault proxy) and
the Kuma stand-in, all on 127.0.0.1. Prints calls per operation, wall time, CPU time and peak RSS
for each pass, and checks the targets:
  - the no-change pass makes exactly one GetHostedZone plus ceil(record sets / 300)
    ListResourceRecordSets pages, and no change call;
  - the first pass makes at most one change call more than the larger of ceil(resource records /
    1000) and ceil(value characters / 32,000);
  - no more than --rps Route 53 requests arrive in any one second;
  - peak RSS under 40 MiB.

    python3 scripts/bench_dns.py --binary .build/dist/bin/reconcile-dns [--services 5000] [--rps 5]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

from benchlib import call_rows, get, print_table, run_pass

HERE = os.path.dirname(os.path.abspath(__file__))
TXT = '"heritage=kmesh-reconcile-dns,owner=default"'




def worst_second(times):
    times = sorted(times)
    worst, j = 0, 0
    for i in range(len(times)):
        while times[i] - times[j] >= 1.0:
            j += 1
        worst = max(worst, i - j + 1)
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--services", type=int, default=5000)
    parser.add_argument("--rps", type=int, default=5)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="kmesh-dns-bench-")
    env_file = os.path.join(work, "env")
    print(f"seeding one private zone and {args.services} MeshServices...", flush=True)
    world = subprocess.Popen([sys.executable, os.path.join(HERE, "peers", "world.py"), "dns-bench", "--env-file", env_file,
                              "--services", str(args.services)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready = json.loads(world.stdout.readline() or "{}")
        if not ready:
            raise SystemExit("bench: the local world did not start")
        env = dict(os.environ)
        with open(env_file) as f:
            env.update(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        env["KMESH_ROUTE53_RPS"] = str(args.rps)
        proxy, kuma = ready["proxy"], ready["kuma"]
        results = []
        for label in ("first pass", "no-change pass"):
            get(proxy + "/__proxy/reset", "POST")
            get(kuma + "/__standin/reset", "POST")
            report, wall, rss, cpu = run_pass(args.binary, env, label)
            calls = {op: c["total"] for op, c in get(proxy + "/__proxy/calls").items()}
            arrivals = [t for op, ts in get(proxy + "/__proxy/arrivals").items() if op.startswith("Route53.") for t in ts]
            kuma_calls = get(kuma + "/__standin/calls")
            results.append((label, report, wall, rss, calls, kuma_calls, worst_second(arrivals), cpu))

        print_table([r[0] for r in results], call_rows(results) + [
            ("created / unchanged", [f"{r[1]['totals']['created']} / {r[1]['totals']['unchanged']}" for r in results], ""),
            ("Route 53 requests in the busiest second", [r[6] for r in results], ""),
            ("wall time (s)", [r[2] for r in results], ".2f"),
            ("reconcile-dns CPU time (s)", [r[7] for r in results], ".2f"),
            ("peak RSS (MiB)", [r[3] / 1024 for r in results], ".1f"),
        ], 48)
        print("(wall time is mostly the rate limit: every Route 53 request waits for its place in the window)")

        n = args.services
        record_sets = 2 * n + 2  # A + TXT per name, and the zone's SOA and NS
        resource_records = 2 * n
        characters = sum(len(f"127.4.{i // 250}.{i % 250 + 1}") + len(TXT) for i in range(n))
        change_bound = max(math.ceil(resource_records / 1000), math.ceil(characters / 32000)) + 1
        first, second = results
        problems = []
        if first[1]["totals"]["created"] != n:
            problems.append(f"first pass created {first[1]['totals']['created']}, not {n}")
        if first[4].get("Route53.ChangeResourceRecordSets", 0) > change_bound:
            problems.append(f"first pass made {first[4].get('Route53.ChangeResourceRecordSets')} change calls, more than {change_bound}")
        expected = {"Route53.GetHostedZone": 1, "Route53.ListResourceRecordSets": math.ceil(record_sets / 300)}
        for op, want in expected.items():
            if second[4].get(op, 0) != want:
                problems.append(f"no-change pass: {op} {second[4].get(op, 0)} != {want}")
        extra = {op: c for op, c in second[4].items() if op not in expected}
        if extra:
            problems.append(f"no-change pass made other calls: {extra}")
        for r in results:
            if r[6] > args.rps:
                problems.append(f"{r[0]}: {r[6]} Route 53 requests within one second (limit {args.rps})")
            if r[3] / 1024 >= 40:
                problems.append(f"{r[0]}: peak RSS {r[3] / 1024:.1f} MiB (target under 40)")
        print()
        print(f"first pass: {resource_records} resource records, {characters} value characters -> at most {change_bound} change calls; "
              f"made {first[4].get('Route53.ChangeResourceRecordSets', 0)}")
        print(f"no-change pass: expected 1 GetHostedZone + {expected['Route53.ListResourceRecordSets']} ListResourceRecordSets pages "
              f"({record_sets} record sets / 300), no change call; made {sum(second[4].values())} Route 53 calls")
        if problems:
            print("FAIL: " + "; ".join(problems))
            raise SystemExit(1)
        print("OK: every target met")
    finally:
        world.stdin.close()
        world.wait(timeout=60)


if __name__ == "__main__":
    main()
