#!/usr/bin/env python3
"""Drives the bootstrap inside the chroot (see chroot-test.sh): starts the demo world (moto with
signature checking, the Kuma stand-in) and the fake Runtime API on the host's loopback, runs
/var/task/bootstrap under chroot with Lambda's environment, sends three events and checks the
answers. Exits non-zero with the reason on any mismatch."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "..", "scripts", "peers")
LAMBDA_LD_LIBRARY_PATH = "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"


def call(url, body=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def start(cmd):
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc, json.loads(proc.stdout.readline())


def demo_task(ready, env, service="billing"):
    """(cluster ARN, task ARN) of a `service` task in the demo world's prod cluster."""
    ecs = boto3.client("ecs", endpoint_url=ready["moto"], region_name=env["AWS_REGION"],
                       aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    cluster = ecs.describe_clusters(clusters=["prod"])["clusters"][0]["clusterArn"]
    tasks = ecs.describe_tasks(cluster="prod", tasks=ecs.list_tasks(cluster="prod")["taskArns"], include=["TAGS"])["tasks"]
    return cluster, next(t["taskArn"] for t in tasks if {"key": "kuma.io/service", "value": service} in t.get("tags", []))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rootfs", required=True)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="kmesh-chroot-")
    world, ready = start([sys.executable, os.path.join(PEERS, "world.py"), "demo", "--env-file", os.path.join(work, "env")])
    runtime, rt = start([sys.executable, os.path.join(PEERS, "lambda_runtime_standin.py")])
    bootstrap = None
    try:
        env = dict(line.rstrip("\n").split("=", 1) for line in open(os.path.join(work, "env")) if "=" in line)
        cluster, billing = demo_task(ready, env)

        lambda_env = {"LD_LIBRARY_PATH": LAMBDA_LD_LIBRARY_PATH, "LAMBDA_TASK_ROOT": "/var/task", "_HANDLER": "bootstrap",
                      "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{rt['port']}", "AWS_LAMBDA_FUNCTION_NAME": "reconcile-tokens",
                      "PATH": "/usr/local/bin:/usr/bin:/bin", "TZ": ":UTC", "LANG": "en_US.UTF-8"}
        lambda_env.update(env)
        chroot = shutil.which("chroot") or "/usr/sbin/chroot"
        bootstrap = subprocess.Popen([chroot, args.rootfs, "/var/task/bootstrap"], env=lambda_env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{rt['port']}"
        events = {
            "task-state-change": {"version": "0", "id": "1", "detail-type": "ECS Task State Change", "source": "aws.ecs",
                                  "account": "123456789012", "time": "2026-11-22T06:00:00Z", "region": "us-east-1",
                                  "resources": [billing], "detail": {"clusterArn": cluster, "taskArn": billing,
                                                                     "lastStatus": "PROVISIONING", "desiredStatus": "RUNNING", "version": 1}},
            "scheduled": {"version": "0", "id": "2", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}},
            "malformed": "{this is not json",
        }
        answers = {}
        for name, body in events.items():
            rid = call(base + "/__fake/events", {"body": body})["request_id"]
            answers[name] = call(base + f"/__fake/result/{rid}?wait=60")
        problems = []
        tsc, sched, bad = answers["task-state-change"], answers["scheduled"], answers["malformed"]
        services = {s["service"]: s["action"] for s in (tsc.get("body") or {}).get("services", [])}
        if tsc.get("kind") != "response" or services != {"billing": "written"}:
            problems.append(f"task-state-change: {json.dumps(tsc)[:500]}")
        totals = (sched.get("body") or {}).get("totals", {})
        if sched.get("kind") != "response" or totals.get("written") != 3 or totals.get("unchanged") != 1:
            problems.append(f"scheduled: {json.dumps(sched)[:500]}")
        if bad.get("kind") != "error" or bad.get("error_type") != "Function.MalformedEvent":
            problems.append(f"malformed: {json.dumps(bad)[:500]}")
        if bootstrap.poll() is not None:
            problems.append(f"the bootstrap exited with {bootstrap.returncode}")
        bootstrap.terminate()
        out, err = bootstrap.communicate(timeout=10)
        if problems:
            sys.stderr.write(err[-3000:])
            raise SystemExit("chroot-test: FAIL: " + " | ".join(problems))
        print("chroot-test: OK in a bookworm minbase root without libcurl/libssl3, decoy libcurl.so.4 on LD_LIBRARY_PATH: "
              f"task-state-change -> billing written; scheduled -> {totals.get('written')} written, "
              f"{totals.get('unchanged')} unchanged; malformed -> {bad.get('error_type')}")
    finally:
        if bootstrap and bootstrap.poll() is None:
            bootstrap.kill()
        for proc in (runtime, world):
            proc.stdin.close()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
