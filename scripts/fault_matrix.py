#!/usr/bin/env python3
"""The fault matrix: every AWS and Kuma call each reconciler makes, with one fault at a time.

Starts moto (signature checking on) behind a fault proxy, and the Kuma API stand-in behind a
second one (all on 127.0.0.1). For each scenario it first runs a clean pass to learn which calls
the reconciler makes (from the proxies' counts: nothing is listed by hand), then for every call x
fault runs the executable once on fresh state (new secret names, a new hosted zone) with that one
fault injected on the call's first occurrence, and checks what must hold whatever happens:

  - the pass converges (exit 0, and the state is the converged one) or exits 1 naming the call
    that failed; never another exit code, never a crash;
  - tokens: every secret written holds a valid dataplane token for its service and mesh;
  - dns: after a failed read nothing in the zone changed; after a failed write every record is
    either as it was or as the converged pass leaves it;
  - rotate: AWSCURRENT always holds a token the control plane accepts (never an untested one);
  - the run ends before its --max-duration (20s) and its peak RSS stays under 64 MiB;
  - the fault was really injected (the proxy says so).

Prints the table (call x fault -> outcome) and exits 1 on any violation.

  fault_matrix.py --bin DIR                      # run, print the table
  fault_matrix.py --bin DIR --write FILE         # ... and regenerate FILE (docs/reliability.md)
  fault_matrix.py --bin DIR --check FILE         # ... and fail if FILE's table differs
  fault_matrix.py --bin DIR --only dns --faults garbage,huge   # a part of it

With $KMESH_TEST_OUTPUT_DIR set, every run's stdout and stderr are left there for the leak check.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "peers"))

import moto_peer  # noqa: E402
import world  # noqa: E402

MAX_DURATION = 20          # seconds: --max-duration of every run
RSS_LIMIT_MIB = 64
SLOW_MS = 2500             # the slow fault, against --request-timeout 1s
FAULTS = [
    ("throttling", "throttling"),
    ("500", "500"),
    ("503", "503"),
    ("cut", "reset mid-response"),
    ("slow", "slower than the timeout"),
    ("truncated", "truncated body"),
    ("content-type", "wrong content type"),
    ("garbage", "garbage JSON/XML"),
    ("huge", "64 MiB body"),
]
MESHES = {"web": "default", "billing": "payments"}
ZONE = "svc.mesh.local"
OWNED = '"heritage=kmesh-reconcile-dns,owner=default"'


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


class Proxy:
    def __init__(self, info):
        self.base = f"http://127.0.0.1:{info['port']}"

    def reset(self):
        """Once every request of the last run is over (a delayed one may still be sleeping, then
        be forwarded: it must not land in the next run's counts), zeroes rules and counts."""
        deadline = time.monotonic() + 30
        while http("GET", self.base + "/__proxy/concurrency")["handling"] > 0:
            if time.monotonic() > deadline:
                raise SystemExit("fault-matrix: the proxy is still handling requests 30 s after the run ended")
            time.sleep(0.01)
        http("POST", self.base + "/__proxy/reset", {})

    def fault(self, operation, fault):
        rule = {"operation": operation, "fault": fault, "count": 1}
        if fault == "slow":
            rule["delay_ms"] = SLOW_MS
        http("POST", self.base + "/__proxy/faults", rule)

    def calls(self):
        return http("GET", self.base + "/__proxy/calls")


def throttling_code(operation):
    if operation.startswith("Kuma."):
        return "429"
    if operation.startswith(("ECS.", "SecretsManager.")):
        return "ThrottlingException"
    return "Throttling"


def names(operation):
    """What an error line says when it names this call."""
    service, op = operation.split(".", 1)
    if service != "Kuma":
        return [op]
    return {"DataplaneToken": ["/tokens/dataplane"], "UserToken": ["/tokens/user"], "WhoAmI": ["/who-am-i"],
            "ListMeshes": ["/meshes"], "ListHostnameGenerators": ["/hostnamegenerators"],
            "GetGlobalSecret": ["/global-secrets/"], "PutGlobalSecret": ["/global-secrets/"]}.get(
        op, ["/" + op[len("List"):].lower()])


def kind_of(output):
    """The failure as the output names it, in a few stable words."""
    checks = [("answer too large", ["too large", "larger than"]), ("timed out", ["timed out"]),
              ("connection lost", ["connection lost", "connection was lost", "reset by peer", "connection reset"]),
              ("unexpected answer", ["unexpected response", "not valid", "does not parse", "malformed"]),
              ("throttled", ["Throttling", "TooManyRequests", "HTTP 429", "Rate exceeded"]),
              ("HTTP 503", ["HTTP 503", "ServiceUnavailable"]), ("HTTP 500", ["HTTP 500", "InternalFailure"])]
    for kind, needles in checks:
        if any(n in output for n in needles):
            return kind
    return "failed"


class World:
    def __init__(self):
        _, self.moto = moto_peer.start()
        self.children = []
        aws_proxy, aws_info = world.start_peer("fault_proxy.py", "--upstream", self.moto["base_url"])
        kuma, self.kuma = world.start_peer("kuma_standin.py", "--meshes", "default,payments")
        kuma_proxy, kuma_info = world.start_peer("fault_proxy.py", "--kind", "kuma", "--upstream",
                                                 f"http://127.0.0.1:{self.kuma['port']}")
        self.children = [aws_proxy, kuma, kuma_proxy]
        self.aws_proxy, self.kuma_proxy = Proxy(aws_info), Proxy(kuma_info)
        self.kuma_base = f"http://127.0.0.1:{self.kuma['port']}"
        self.ecs, self.sm, self.route53 = world.clients(self.moto)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_ACCESS_KEY_ID": self.moto["access_key_id"], "AWS_SECRET_ACCESS_KEY": self.moto["secret_access_key"],
            "AWS_REGION": world.REGION, "AWS_ENDPOINT_URL": aws_proxy_url(aws_info), "AWS_EC2_METADATA_DISABLED": "true",
            "KUMA_API_SERVER_URL": f"http://127.0.0.1:{kuma_info['port']}",
        }

    def stop(self):
        for child in self.children:
            child.terminate()
        for child in self.children:
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()

    def verify(self, token):
        return http("POST", self.kuma_base + "/__standin/verify", {"token": token})

    def accepted(self, token):
        """Whether the control plane takes this user token now (GET /who-am-i: revocation counts)."""
        req = urllib.request.Request(self.kuma_base + "/who-am-i", headers={"Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status == 200
        except urllib.error.HTTPError:
            return False

    def user_token(self, hours):
        return http("POST", self.kuma_base + "/__standin/user-token",
                    {"name": "ecs-controller", "groups": ["mesh-system:admin"], "valid_for_seconds": hours * 3600})["token"]

    def current(self, secret_id):
        return self.sm.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")["SecretString"]


def aws_proxy_url(info):
    return f"http://127.0.0.1:{info['port']}"


class Run:
    def __init__(self, code, output, elapsed, rss_mib):
        self.code, self.output, self.elapsed, self.rss_mib = code, output, elapsed, rss_mib


def peak_rss_kib(pid):
    """VmHWM: the process's peak RSS since its exec. (wait4's ru_maxrss would not do: Linux carries
    the forking Python's own high-water mark, some 200 MiB with moto loaded, across the exec.)"""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run(binary, args, env, label, output_dir):
    """Runs the executable; its output goes to files (no pipe to fill). The peak RSS is read from
    /proc while it runs (every 2 ms; VmHWM only grows, so the last reading before the exit holds
    the peak of all but the exit itself)."""
    out_path = os.path.join(output_dir, f"fault-matrix-{label}.out.log")
    err_path = os.path.join(output_dir, f"fault-matrix-{label}.err.log")
    argv = [binary, *args, "--max-duration", f"{MAX_DURATION}s", "--request-timeout", "1s", "--connect-timeout", "1s",
            "--log-format", "text"]
    started = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        killed, peak = False, 0
        while True:
            peak = max(peak, peak_rss_kib(proc.pid))
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > MAX_DURATION + 30 and not killed:
                os.kill(proc.pid, signal.SIGKILL)   # a hang: the elapsed time below reports it
                killed = True
            time.sleep(0.002)
        proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - started
    output = open(out_path, errors="replace").read() + open(err_path, errors="replace").read()
    return Run(proc.returncode, output, elapsed, peak / 1024)


# ---- scenarios: each makes fresh state for a cell, runs, and checks its invariants ----------------

class Tokens:
    name, binary = "tokens", "reconcile-tokens"
    title = "reconcile-tokens: 3 tasks of 2 services in 2 clusters and 2 meshes, their {} secrets"

    def __init__(self, w):
        self.w = w
        w.ecs.create_cluster(clusterName="prod")
        w.ecs.create_cluster(clusterName="batch")
        world.run_tasks(w.ecs, "prod", "web", None, 2)
        world.run_tasks(w.ecs, "batch", "billing", "payments", 1)

    def prepare(self, cell):
        prefix = f"fm-{cell}/"
        for service in MESHES:
            self.w.sm.create_secret(Name=prefix + service, SecretString="{}")
        return prefix

    def run(self, prefix, binary, label, out):
        env = dict(self.w.env, KUMA_API_TOKEN=self.w.kuma["admin_token"], KMESH_SECRET_NAME_PREFIX=prefix)
        return run(binary, [], env, label, out)

    def check(self, prefix, result, operation):
        problems, done = [], 0
        for service, mesh in MESHES.items():
            value = json.loads(self.w.current(prefix + service))
            if value == {}:
                continue
            verdict = self.w.verify(value.get("token", ""))
            claims = verdict.get("claims") or {}
            tags = (claims.get("Tags") or {}).get("kuma.io/service")
            if (not verdict.get("valid") or verdict.get("kind") != "dataplane" or tags not in ([service], service)
                    or claims.get("Mesh") != mesh):
                problems.append(f"secret {prefix}{service} was written without a valid token for it ({verdict.get('reason')})")
            else:
                done += 1
        if result.code == 0 and done != len(MESHES):
            problems.append(f"exit 0 but only {done} of {len(MESHES)} secrets hold a token")
        return problems


class DNS:
    name, binary = "dns", "reconcile-dns"
    title = "reconcile-dns: 3 MeshServices; the zone has one stale A to update, one gone to delete, one foreign"

    def __init__(self, w):
        self.w = w
        world.kuma_control(w.kuma, "resources", {"items": [
            world.mesh_service("redis", "127.4.0.1", "redis.svc.mesh.local"),
            world.mesh_service("web", "127.4.0.2", "web.svc.mesh.local"),
            world.mesh_service("api", "127.4.0.3", "api.svc.mesh.local"),
        ]})
        self.converged = None

    def prepare(self, cell):
        zone = world.private_zone(self.w.route53, ZONE)

        def rr(name, kind, value):
            return {"Action": "CREATE", "ResourceRecordSet": {"Name": name, "Type": kind, "TTL": 60,
                                                              "ResourceRecords": [{"Value": value}]}}
        self.w.route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
            rr("web.svc.mesh.local.", "A", "127.4.0.99"), rr("_kmesh.web.svc.mesh.local.", "TXT", OWNED),
            rr("old.svc.mesh.local.", "A", "127.4.0.50"), rr("_kmesh.old.svc.mesh.local.", "TXT", OWNED),
            rr("foreign.svc.mesh.local.", "A", "10.0.0.1"),
        ]})
        return zone, self.snapshot(zone)

    def snapshot(self, zone):
        records = {}
        for page in self.w.route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone):
            for rr in page["ResourceRecordSets"]:
                if rr["Type"] in ("A", "TXT"):
                    records[(rr["Name"], rr["Type"])] = (rr.get("TTL"), tuple(sorted(v["Value"] for v in rr["ResourceRecords"])))
        return records

    def run(self, state, binary, label, out):
        env = dict(self.w.env, KUMA_API_TOKEN=self.w.kuma["admin_token"])
        return run(binary, ["--hosted-zone-id", state[0]], env, label, out)

    def check(self, state, result, operation):
        zone, before = state
        after = self.snapshot(zone)
        if self.converged is None:          # the clean pass: what converged looks like
            self.converged = after
            return [] if after != before else ["the clean pass changed nothing"]
        if result.code == 0:
            return [] if after == self.converged else [f"exit 0 but the zone is not the converged one: {after}"]
        read = not operation.endswith(("ChangeResourceRecordSets", "GetChange"))
        if read and after != before:
            return [f"the zone changed after a failed read of {operation}"]
        strays = [k for k in set(after) | set(before) if after.get(k) not in (before.get(k), self.converged.get(k))]
        return [f"records neither as they were nor converged: {strays}"] if strays else []


class Rotate:
    name, binary = "rotate", "rotate-user-token"
    title = "rotate-user-token: the API token in AWSCURRENT has 100 h left (inside --rotate-before 720h)"

    def __init__(self, w):
        self.w = w

    def prepare(self, cell):
        secret = f"fm-{cell}/api-token"
        token = self.w.user_token(100)
        self.w.sm.create_secret(Name=secret, SecretString=token)
        return secret, token

    def run(self, state, binary, label, out):
        return run(binary, ["--token-secret-id", state[0]], self.w.env, label, out)

    def check(self, state, result, operation):
        secret, old = state
        current = self.w.current(secret)
        if not self.w.accepted(current):
            return ["AWSCURRENT holds a token the control plane rejects"]
        if result.code == 0 and current == old:
            return ["exit 0 but the token was not rotated"]
        return []


class Revoke(Rotate):
    name = "revoke"
    title = ("rotate-user-token after a rotation: AWSPREVIOUS holds the old token, AWSCURRENT is older than "
             "--revoke-after 1s")

    def __init__(self, w):
        super().__init__(w)
        self.ready = {}

    def stage(self, cells):
        """Every cell's secret at once, then one wait for them all to be older than --revoke-after."""
        for cell in cells:
            secret = f"fm-{cell}/api-token"
            old, new = self.w.user_token(8766), self.w.user_token(8766)
            self.w.sm.create_secret(Name=secret, SecretString=old)
            self.w.sm.put_secret_value(SecretId=secret, SecretString=new)
            self.ready[cell] = (secret, old)
        time.sleep(1.1)

    def prepare(self, cell):
        return self.ready.pop(cell)

    def run(self, state, binary, label, out):
        return run(binary, ["--token-secret-id", state[0], "--revoke-after", "1s"], self.w.env, label, out)

    def check(self, state, result, operation):
        secret, old = state
        if not self.w.accepted(self.w.current(secret)):
            return ["AWSCURRENT holds a token the control plane rejects"]
        if result.code == 0 and self.w.accepted(old):
            return ["exit 0 but the previous token is not revoked"]
        return []


SCENARIOS = [Tokens, DNS, Rotate, Revoke]


def outcome(result, operation, calls_clean, calls_now):
    if result.code == 0:
        retried = calls_now.get(operation, {}).get("total", 0) > calls_clean.get(operation, {}).get("total", 0)
        return "converged, retried" if retried else "converged"
    return f"exit 1: {kind_of(result.output)}"


def table(results):
    lines = []
    for scenario, title, rows in results:
        lines += [f"### {title}", "", "| call | " + " | ".join(label for _, label in FAULTS) + " |",
                  "| --- |" + " --- |" * len(FAULTS)]
        for operation, cells in rows:
            lines.append(f"| {operation} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


BEGIN, END = "<!-- fault-matrix:begin -->", "<!-- fault-matrix:end -->"


def main():
    global FAULTS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="directory holding reconcile-tokens, reconcile-dns, rotate-user-token")
    parser.add_argument("--write", help="regenerate the table in this Markdown file")
    parser.add_argument("--check", help="fail if this Markdown file's table differs")
    parser.add_argument("--only", help="comma-separated scenarios: " + ", ".join(s.name for s in SCENARIOS))
    parser.add_argument("--faults", help="comma-separated faults: " + ", ".join(f for f, _ in FAULTS))
    args = parser.parse_args()
    if args.faults:
        wanted = args.faults.split(",")
        FAULTS = [f for f in FAULTS if f[0] in wanted]
    out_dir = os.environ.get("KMESH_TEST_OUTPUT_DIR") or os.path.join(HERE, "..", ".build", "fault-matrix")
    os.makedirs(out_dir, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    w = World()
    violations, results, runs, started, peak = [], [], 0, time.monotonic(), 0.0
    try:
        for kind in SCENARIOS:
            if args.only and kind.name not in args.only.split(","):
                continue
            scenario = kind(w)
            binary = os.path.join(args.bin, scenario.binary)
            clean_cell = f"{scenario.name}-clean"
            if isinstance(scenario, Revoke):
                scenario.stage([clean_cell])
            for p in (w.aws_proxy, w.kuma_proxy):
                p.reset()
            state = scenario.prepare(clean_cell)
            clean = scenario.run(state, binary, clean_cell, out_dir)
            problems = scenario.check(state, clean, "")
            if clean.code != 0 or problems:
                raise SystemExit(f"fault-matrix: the clean {scenario.name} pass did not converge (exit {clean.code}): "
                                 f"{problems} {clean.output[-2000:]}")
            calls_clean = {**w.aws_proxy.calls(), **w.kuma_proxy.calls()}
            operations = sorted(op for op, c in calls_clean.items() if c.get("total", 0) > 0)
            cells = [f"{scenario.name}-{i}" for i in range(len(operations) * len(FAULTS))]
            if isinstance(scenario, Revoke):
                scenario.stage(cells)
            rows, n = [], 0
            for operation in operations:
                row = []
                for fault, _ in FAULTS:
                    cell = cells[n]
                    n += 1
                    state = scenario.prepare(cell)
                    for p in (w.aws_proxy, w.kuma_proxy):
                        p.reset()
                    proxy = w.kuma_proxy if operation.startswith("Kuma.") else w.aws_proxy
                    proxy.fault(operation, throttling_code(operation) if fault == "throttling" else fault)
                    result = scenario.run(state, binary, cell, out_dir)
                    runs += 1
                    peak = max(peak, result.rss_mib)
                    calls_now = {**w.aws_proxy.calls(), **w.kuma_proxy.calls()}
                    where = f"{scenario.name} {operation} x {fault}"
                    found = scenario.check(state, result, operation)
                    if calls_now.get(operation, {}).get("faulted", 0) < 1:
                        found.append("the fault was not injected")
                    if result.code not in (0, 1):
                        found.append(f"exit {result.code}")
                    if result.code == 1 and not any(name in result.output for name in names(operation)):
                        found.append(f"exit 1 without naming the call ({' or '.join(names(operation))})")
                    if result.elapsed > MAX_DURATION:
                        found.append(f"ran {result.elapsed:.1f}s, past --max-duration {MAX_DURATION}s")
                    if result.rss_mib > RSS_LIMIT_MIB:
                        found.append(f"peak RSS {result.rss_mib:.1f} MiB, over {RSS_LIMIT_MIB} MiB")
                    cell_text = outcome(result, operation, calls_clean, calls_now)
                    print(f"fault-matrix: {where}: {cell_text} ({result.elapsed:.1f}s, {result.rss_mib:.1f} MiB)"
                          + (f" VIOLATION: {'; '.join(found)}" if found else ""), flush=True)
                    if found:
                        violations.append(f"{where}: {'; '.join(found)} (output: {out_dir}/fault-matrix-{cell}.*)")
                        cell_text += " **(violation)**"
                    row.append(cell_text)
                rows.append((operation, row))
            results.append((scenario.name, scenario.title, rows))
    finally:
        w.stop()

    rendered = table(results)
    print()
    print(rendered)
    print(f"fault-matrix: {runs} faulted runs in {time.monotonic() - started:.0f}s, largest peak RSS of a run "
          f"{peak:.1f} MiB, {len(violations)} violations")
    for v in violations:
        print("fault-matrix: VIOLATION " + v, file=sys.stderr)
    status = 1 if violations else 0
    for path, writing in ((args.write, True), (args.check, False)):
        if not path:
            continue
        text = open(path).read()
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        fresh = f"{head}{BEGIN}\n{rendered}\n{END}{tail}"
        if writing:
            open(path, "w").write(fresh)
            print(f"fault-matrix: wrote {path}")
        elif fresh != text:
            print(f"fault-matrix: {path} is out of date: run scripts/fault-matrix.sh --write", file=sys.stderr)
            status = 1
    os._exit(status)


if __name__ == "__main__":
    main()
