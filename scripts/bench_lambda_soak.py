#!/usr/bin/env python3
"""Lambda soak benchmark: N invocations of each reconciler in one warm process, after a warm-up.

For each of reconcile-tokens, reconcile-dns and rotate-user-token: starts the world of the fault
matrix (moto behind a fault proxy, the Kuma stand-in behind another) and the fake Runtime API, runs
the executable as a Lambda function would (AWS_LAMBDA_RUNTIME_API set), and feeds it N events, one
at a time, in a fixed pseudo-random mix: full passes ({} and Scheduled Events), ECS Task State
Changes (tokens; repeats included, which dedupe skips), malformed bodies, oversized bodies,
unsupported events, and full passes with one peer fault injected (503, reset mid-response, garbage,
throttling). Before a pass with a Kuma fault, the driver makes the pass call the control plane:
reconcile-tokens finds one secret emptied, rotate-user-token a token with 100 h left in AWSCURRENT
(reconcile-dns reads the control plane every pass). It samples the process (VmRSS, open descriptors, threads) every 100 invocations and
prints, for the N invocations after the warm-up:

  - RSS growth, descriptor and thread counts (the targets: < 2 MB, constant, constant);
  - handler overhead per invocation, two ways: the CPU time the process used for it (every
    thread's schedstat, in nanoseconds: our time exactly, since waiting on a peer costs none; the
    target, p99 < 5 ms, is checked on this), and, as an upper bound, the wall time from the Runtime
    API handing the event out to the result arriving less the peers' busy intervals (and, with
    --log-level debug, the retry backoff the process logged); this one also counts the Python peers' own request
    parsing and the machine's scheduling, so it overstates.

Passes with a fault are also shown by peer and fault ("aws 503", "kuma cut", ...).

The warm-up is N/10 invocations, and lasts at least --warm-up-seconds (default 130): libcurl closes
a connection idle for 118 s, so by then the connections that only the first passes used are gone
(reconcile-tokens mints every token in its first pass and, while they stay valid, never calls the
control plane again: its two connections to it close at about 120 s). From there on a descriptor
more or less is the process's doing.

--idle MS,MS,...: an experiment, not a check. Before each full pass after the warm-up the driver
waits one of these times (picked at random, fixed seed), and full passes are shown by the wait
before them. The pass's work is the same whatever the wait; what its CPU time does with the wait
is the machine's (most likely caches and TLBs the peers used meanwhile), which is why a pass after a retry's
backoff or a rate limit costs more than one run back to back. Targets are not judged on such a run.

  bench_lambda_soak.py --bin DIR [--invocations 2000] [--warm-up-seconds 130] [--only tokens,dns,rotate]
                       [--log-level debug] [--idle 0,50,200,500,1000]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "peers"))
sys.path.insert(0, HERE)

import fault_matrix  # noqa: E402
import world  # noqa: E402
from fault_matrix import http  # noqa: E402


LOG_LEVEL = "info"
IDLE_MS = []
WARM_UP_SECONDS = 130


def proc_stats(pid):
    status = open(f"/proc/{pid}/status").read().split("\n")
    field = {line.split(":")[0]: line.split(":")[1].strip() for line in status if ":" in line}
    fds = os.listdir(f"/proc/{pid}/fd")
    sockets = 0
    for fd in fds:
        try:
            sockets += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass  # closed while we looked
    return {"rss_kib": int(field["VmRSS"].split()[0]), "threads": int(field["Threads"]),
            "fds": len(fds), "sockets": sockets}


def cpu_ns(pid):
    """CPU time the process has used, every thread summed (schedstat: nanoseconds on a CPU)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that just ended
    return total


def union_within(intervals, start, end):
    """Length of the union of `intervals` clipped to [start, end]."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals if b > start and a < end)
    total, cur_a, cur_b = 0.0, None, None
    for a, b in clipped:
        if cur_b is None or a > cur_b:
            if cur_b is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_b is not None:
        total += cur_b - cur_a
    return total


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else 0.0


def events_for(name, rng, task):
    """(kind, body, fault) for one invocation."""
    roll = rng.random()
    if roll < 0.30:
        return "pass", {}, None
    if roll < 0.40:
        return "pass", {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}, None
    if roll < 0.55 and name == "tokens":
        return "task event", {"version": "0", "id": f"evt-{rng.randrange(30)}", "detail-type": "ECS Task State Change",
                              "source": "aws.ecs", "detail": task}, None
    if roll < 0.62:
        return "malformed", rng.choice(["not json{", "[1, 2]", "\"a string\"", ""]), None
    if roll < 0.67:
        return "oversized", {"padding": "x" * (300 * 1024)}, None
    if roll < 0.77:
        return "unsupported", {"detail-type": "Something Else", "source": "aws.s3", "detail": {}}, None
    return "pass with a fault", {}, rng.choice(["503", "cut", "garbage", "throttling"])


def needs_kuma(name, w, state, rng):
    """Makes the next pass call the control plane, so that a Kuma fault meets a call: once every
    token is minted, reconcile-tokens calls it only for a secret without a valid token, and
    rotate-user-token only when the token is due for rotation. Written straight to moto and the
    stand-in, not through the proxies, so none of it counts as the pass's peers' time."""
    if name == "tokens":
        w.sm.put_secret_value(SecretId=state + rng.choice(sorted(fault_matrix.MESHES)), SecretString="{}")
    elif name == "rotate":
        w.sm.put_secret_value(SecretId=state[0], SecretString=w.user_token(100))


def soak(name, binary, invocations, w):
    scenario = {"tokens": fault_matrix.Tokens, "dns": fault_matrix.DNS, "rotate": fault_matrix.Rotate}[name](w)
    state = scenario.prepare(f"soak-{name}")
    env = dict(w.env)
    if name == "tokens":
        env.update(KUMA_API_TOKEN=w.kuma["admin_token"], KMESH_SECRET_NAME_PREFIX=state)
    elif name == "dns":
        env.update(KUMA_API_TOKEN=w.kuma["admin_token"], KMESH_RUNTIME_AWS_ROUTE53_HOSTED_ZONE_ID=state[0])
    else:
        env.update(KUMA_API_TOKEN_SECRET_ID=state[0])
    # At debug the logs carry each retry's backoff ("retry-in-ms"), subtracted from the wall figure;
    # the default is the level a function runs at, info.
    env.update(LOG_LEVEL=LOG_LEVEL, KMESH_LOG_FORMAT="json", KMESH_REQUEST_TIMEOUT="2s")
    task = {}
    if name == "tokens":
        arn = w.ecs.list_tasks(cluster="prod")["taskArns"][0]
        task = {"clusterArn": w.ecs.describe_clusters(clusters=["prod"])["clusters"][0]["clusterArn"], "taskArn": arn,
                "lastStatus": "PROVISIONING", "desiredStatus": "RUNNING"}
    runtime, rt_info = world.start_peer("lambda_runtime_standin.py")
    rt = f"http://127.0.0.1:{rt_info['port']}"
    env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{rt_info['port']}"
    log_path = os.path.join(fault_matrix_output_dir(), f"lambda-soak-{name}.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen([binary], env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    rng = random.Random(20261201)
    idle_rng = random.Random(7)  # its own, so that --idle leaves the mix of events as it was
    samples, overhead, kinds, pending, cpu, by_fault = [], {}, {}, [], {}, {}
    started = time.time()
    warm_at = None  # the index of the first invocation after the warm-up
    warm_stats = None
    i = 0
    try:
        while warm_at is None or i < warm_at + invocations:
            if warm_at is None and i >= invocations // 10 and time.time() - started >= WARM_UP_SECONDS:
                warm_at = i
                warm_stats = proc_stats(proc.pid)
            warmed = warm_at is not None
            kind, body, fault = events_for(name, rng, task)
            for p in (w.aws_proxy, w.kuma_proxy):
                p.reset()
            if fault:
                proxy, op = rng.choice([(w.aws_proxy, "*"), (w.kuma_proxy, "*")])
                code = "503" if fault == "throttling" and proxy is w.kuma_proxy else (
                    "ThrottlingException" if fault == "throttling" else fault)
                http("POST", proxy.base + "/__proxy/faults", {"operation": op, "fault": code, "count": 1})
                detail = f"{'aws' if proxy is w.aws_proxy else 'kuma'} {fault}"
                if proxy is w.kuma_proxy:
                    needs_kuma(name, w, state, rng)
            else:
                detail = None
            if kind == "pass" and IDLE_MS and warmed:
                idle = idle_rng.choice(IDLE_MS)
                time.sleep(idle / 1000)
                kind = f"pass after {idle:>4} ms idle"
            cpu_before = cpu_ns(proc.pid)
            rid = http("POST", rt + "/__fake/events", {"body": body, "deadline_ms": 30000})["request_id"]
            result = http("GET", rt + f"/__fake/result/{rid}?wait=60")
            if not result or result.get("id") != rid:
                raise SystemExit(f"soak: {name}: invocation {i} ({kind}) got no result")
            cpu_ms = (cpu_ns(proc.pid) - cpu_before) / 1e6
            busy = http("GET", w.aws_proxy.base + "/__proxy/busy") + http("GET", w.kuma_proxy.base + "/__proxy/busy")
            wall = result["at"] - result["delivered_at"]
            ours = max(0.0, wall - union_within(busy, result["delivered_at"], result["at"]))
            kinds[kind] = kinds.get(kind, 0) + 1
            if warmed:
                pending.append((kind, rid, ours * 1000))
                cpu.setdefault(kind, []).append(cpu_ms)
                if detail:
                    by_fault.setdefault(detail, []).append(cpu_ms)
            if i % 100 == 0 or (warmed and i == warm_at + invocations - 1):
                samples.append((i, proc_stats(proc.pid)))
            if proc.poll() is not None:
                raise SystemExit(f"soak: {name}: the process exited ({proc.returncode}) at invocation {i}")
            i += 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        runtime.terminate()
        runtime.wait(timeout=10)
    elapsed = time.time() - started
    backoff = {}
    log.close()
    for line in open(log_path, errors="replace"):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if "retry-in-ms" in entry and "request-id" in entry:
            backoff[entry["request-id"]] = backoff.get(entry["request-id"], 0) + int(entry["retry-in-ms"])
    for kind, rid, ms in pending:
        overhead.setdefault(kind, []).append(max(0.0, ms - backoff.get(rid, 0)))
    warm = warm_stats
    last = samples[-1][1]
    measured = [s for j, s in samples if j >= warm_at]
    everything = [v for vs in overhead.values() for v in vs]
    print(f"soak: {name}: {invocations} invocations after a warm-up of {warm_at} ({WARM_UP_SECONDS:.0f} s or more), "
          f"{i} in {elapsed:.0f}s ("
          + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + ")")
    print(f"soak: {name}: after warm-up RSS {warm['rss_kib'] / 1024:.1f} -> {last['rss_kib'] / 1024:.1f} MiB "
          f"({(last['rss_kib'] - warm['rss_kib']) / 1024:+.2f} MiB), fds {warm['fds']} -> {last['fds']} "
          f"(sockets {warm['sockets']} -> {last['sockets']}), "
          f"threads {warm['threads']} -> {last['threads']}")
    all_cpu = [v for vs in cpu.values() for v in vs]
    for kind in sorted(overhead):
        v, c = overhead[kind], cpu[kind]
        print(f"soak: {name}: {kind:<18} CPU p50 {pct(c, 50):.2f} p99 {pct(c, 99):.2f} max {max(c):.2f} ms | "
              f"wall less peers p50 {pct(v, 50):.2f} p99 {pct(v, 99):.2f} ms  (n={len(v)})")
        if kind == "pass with a fault":
            for detail in sorted(by_fault):
                c = by_fault[detail]
                print(f"soak: {name}:   {detail:<16} CPU p50 {pct(c, 50):.2f} p99 {pct(c, 99):.2f} max {max(c):.2f} ms "
                      f"(n={len(c)})")
    print(f"soak: {name}: all                CPU p50 {pct(all_cpu, 50):.2f} p99 {pct(all_cpu, 99):.2f} ms | "
          f"wall less peers p50 {pct(everything, 50):.2f} p99 {pct(everything, 99):.2f} ms")
    def series(show):
        """Every sample, shown; "|" before the first one after the warm-up."""
        first_measured = next(j for j, _ in samples if j >= warm_at)
        return " ".join(("| " if j == first_measured else "") + show(st) for j, st in samples)

    def rss(st):
        return f"{st['rss_kib'] / 1024:.1f}"

    def fds(st):
        return f"{st['fds']}/{st['sockets']}"

    print(f"soak: {name}: RSS every 100 invocations (MiB): {series(rss)}")
    # Sockets are the HTTP connection pool: libcurl closes a connection idle for over 118 s
    # (CURLOPT_MAXAGE_CONN), so a peer the passes stop calling shows as a drop in the warm-up.
    print(f"soak: {name}: descriptors/sockets every 100 invocations: {series(fds)}")
    return {"rss_growth_mib": (last["rss_kib"] - warm["rss_kib"]) / 1024,
            "fds": sorted({warm["fds"]} | {st["fds"] for st in measured}),
            "threads": sorted({warm["threads"]} | {st["threads"] for st in measured}), "p99_ms": pct(all_cpu, 99)}


def fault_matrix_output_dir():
    d = os.environ.get("KMESH_TEST_OUTPUT_DIR") or os.path.join(HERE, "..", ".build", "fault-matrix")
    os.makedirs(d, exist_ok=True)
    return d


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--invocations", type=int, default=2000, help="invocations measured after the warm-up")
    parser.add_argument("--warm-up-seconds", type=float, default=130,
                        help="the warm-up's least length (default 130: libcurl's 118 s idle limit, and a margin)")
    parser.add_argument("--only", default="tokens,dns,rotate")
    parser.add_argument("--log-level", default="info", help="the functions' LOG_LEVEL (debug: backoff is subtracted too)")
    parser.add_argument("--idle", default="", help="experiment: wait one of these many ms before each full pass (see above)")
    args = parser.parse_args()
    global LOG_LEVEL, IDLE_MS, WARM_UP_SECONDS
    LOG_LEVEL = args.log_level
    if args.invocations < 10 or args.warm_up_seconds < 0:
        parser.error("--invocations must be at least 10 and --warm-up-seconds at least 0")
    WARM_UP_SECONDS = args.warm_up_seconds
    try:
        IDLE_MS = [int(v) for v in args.idle.split(",") if v.strip()]
    except ValueError:
        parser.error(f"--idle takes milliseconds separated by commas, such as 0,200,1000 (got {args.idle!r})")
    if any(v < 0 or v > 60000 for v in IDLE_MS):
        parser.error("--idle: each wait must be 0 to 60000 ms")
    binaries = {"tokens": "reconcile-tokens", "dns": "reconcile-dns", "rotate": "rotate-user-token"}
    w = fault_matrix.World()
    results = {}
    try:
        for name in args.only.split(","):
            results[name] = soak(name, os.path.join(args.bin, binaries[name]), args.invocations, w)
    finally:
        w.stop()
    if IDLE_MS:
        print("soak: a run with --idle is an experiment: the targets are judged on runs without it")
        os._exit(0)
    for name, r in results.items():
        ok = r["rss_growth_mib"] < 2 and len(r["fds"]) == 1 and len(r["threads"]) == 1 and r["p99_ms"] < 5
        print(f"soak: {name}: {'within' if ok else 'OUTSIDE'} the targets (RSS growth < 2 MB, fds and threads constant, "
              f"p99 CPU per invocation < 5 ms)")
    os._exit(0)


if __name__ == "__main__":
    main()
