"""What the benchmarks share: the peers' control endpoints and one timed pass of a binary."""
import json
import subprocess
import sys
import tempfile
import time
import urllib.request


def get(url, method="GET"):
    """A peer control endpoint's JSON answer (POST with an empty body when method is POST)."""
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"{}")


def run_pass(binary, env, label):
    """One pass with the JSON report on stdout: (report, wall seconds, peak RSS KiB, CPU seconds)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        started = time.monotonic()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", timing.name, binary, "--output", "json",
                               "--log-level", "warning"], env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        rss, user, system = timing.read().strip().splitlines()[-1].split()
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"bench: {label} exited {proc.returncode}")
    return json.loads(proc.stdout), wall, int(rss), float(user) + float(system)


def print_table(labels, rows, width):
    """A table with one column per pass (`labels`): `rows` are (name, [value per pass], format spec)."""
    print()
    print(f"{'':{width}}" + "".join(f"{label:>18}" for label in labels))
    for name, values, spec in rows:
        print(f"{name:{width}}" + "".join(f"{v:>18{spec}}" for v in values))


def call_rows(results):
    """The rows of every AWS operation (r[4]) and Kuma call (r[5], as "Kuma ...") the passes made."""
    ops = sorted({op for r in results for op in r[4]} | {"Kuma " + k for r in results for k in r[5]})
    return [(op, [(r[5].get(op[5:], 0) if op.startswith("Kuma ") else r[4].get(op, 0)) for r in results], "") for op in ops]
