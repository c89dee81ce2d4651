#!/usr/bin/env python3
"""Try a packaged function locally: starts the demo world (moto with signature checking, the Kuma
stand-in) and the fake Lambda Runtime API on 127.0.0.1, runs the bootstrap from
.build/lambda/reconcile-tokens.zip as Lambda would, sends events and prints each answer.

    python3 lambda/try_local.py                       # a task-state-change event, then a scheduled one
    python3 lambda/try_local.py my-event.json ...      # your own events (TASK_ARN / CLUSTER_ARN are filled in)
"""
import json
import os
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "..", "scripts", "peers")
sys.path.insert(0, HERE)
from portability_check import call, demo_task, start  # noqa: E402


def main():
    zip_path = os.path.join(HERE, "..", ".build", "lambda", "reconcile-tokens.zip")
    if not os.path.exists(zip_path):
        raise SystemExit("try_local: no .build/lambda/reconcile-tokens.zip: run lambda/package.sh first")
    events = sys.argv[1:] or [os.path.join(HERE, "events", "task-state-change.json"), os.path.join(HERE, "events", "scheduled.json")]
    work = tempfile.mkdtemp(prefix="kmesh-try-")
    zipfile.ZipFile(zip_path).extractall(work)
    os.chmod(os.path.join(work, "bootstrap"), 0o755)
    world, ready = start([sys.executable, os.path.join(PEERS, "world.py"), "demo", "--env-file", os.path.join(work, "env")])
    runtime, rt = start([sys.executable, os.path.join(PEERS, "lambda_runtime_standin.py")])
    function = None
    try:
        env = dict(line.rstrip("\n").split("=", 1) for line in open(os.path.join(work, "env")) if "=" in line)
        cluster, task = demo_task(ready, env)
        env.update({"AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{rt['port']}", "LAMBDA_TASK_ROOT": work, "_HANDLER": "bootstrap",
                    "KMESH_LOG_FORMAT": "text", "PATH": "/usr/bin:/bin"})
        function = subprocess.Popen([os.path.join(work, "bootstrap")], env=env)
        base = f"http://127.0.0.1:{rt['port']}"
        for path in events:
            body = open(path).read().replace("TASK_ARN", task).replace("CLUSTER_ARN", cluster)
            rid = call(base + "/__fake/events", {"body": body})["request_id"]
            result = call(base + f"/__fake/result/{rid}?wait=60")
            print(f"== {os.path.basename(path)} -> {result.get('kind')}" + (f" ({result.get('error_type')})" if result.get("error_type") else ""))
            print(json.dumps(result.get("body"), indent=2))
    finally:
        if function:
            function.terminate()
            function.wait(timeout=10)
        for p in (runtime, world):
            p.stdin.close()
            p.wait(timeout=30)


if __name__ == "__main__":
    main()
