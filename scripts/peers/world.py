#!/usr/bin/env python3
"""Starts a whole local world for reconcile-tokens and seeds it, for the demo and the benchmark.

  moto (in this process, signature checking on) <- fault proxy (counts calls per operation)
  Kuma API stand-in
Then writes the environment the binary needs to --env-file (KEY=VALUE lines; export them with
`set -a; . FILE; set +a`), prints one JSON ready line and runs until stdin closes, when it stops
the peers it started (by PID) and exits.

  world.py demo                     two clusters, two meshes, tasks (some PROVISIONING/PENDING),
                                    their {} secrets (one with a key of its own to keep); a private
                                    hosted zone svc.mesh.local and three MeshServices for reconcile-dns
  world.py bench --services 1000 --tasks-per-service 10 --clusters 4
  world.py dns-bench --services 5000   one private zone, 5,000 MeshServices with VIPs
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

import boto3
from botocore.config import Config

import moto_peer
import peerlib

HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "us-east-1"
PREFIX = "kong-mesh-ecs/"


def start_peer(script, *args):
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, script), *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"world: {script} did not start")
    return proc, json.loads(line)


def clients(info):
    cfg = Config(retries={"max_attempts": 10, "mode": "standard"}, max_pool_connections=20)
    kw = dict(endpoint_url=info["base_url"], region_name=REGION, aws_access_key_id=info["access_key_id"],
              aws_secret_access_key=info["secret_access_key"], config=cfg)
    return boto3.client("ecs", **kw), boto3.client("secretsmanager", **kw), boto3.client("route53", **kw)


def kuma_control(kuma_info, path, body):
    import urllib.request
    req = urllib.request.Request(f"http://127.0.0.1:{kuma_info['port']}/__standin/{path}", data=json.dumps(body).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def mesh_service(name, vip, hostname, mesh="default"):
    return {"type": "MeshService", "mesh": mesh, "name": name,
            "labels": {"kuma.io/display-name": name, "kuma.io/origin": "zone", "kuma.io/zone": "zone-1"},
            "spec": {"ports": [{"port": 8080, "targetPort": 8080, "appProtocol": "http"}],
                     "selector": {"dataplaneTags": {"kuma.io/service": name}}, "state": "Available"},
            "status": {"addresses": [{"hostname": hostname, "origin": "HostnameGenerator",
                                      "hostnameGeneratorRef": {"coreName": "local-mesh-service"}}],
                       "vips": [{"ip": vip}]}}


def private_zone(route53, name):
    zone = route53.create_hosted_zone(Name=name, CallerReference=f"{name}-{time.time()}",
                                      VPC={"VPCRegion": REGION, "VPCId": "vpc-12345678"},
                                      HostedZoneConfig={"PrivateZone": True, "Comment": "kmesh demo"})
    return zone["HostedZone"]["Id"].split("/")[-1]


def seed_dns_demo(route53, kuma_info):
    zone = private_zone(route53, "svc.mesh.local")
    kuma_control(kuma_info, "resources", {"items": [
        mesh_service("redis", "127.4.0.1", "redis.svc.mesh.local"),
        mesh_service("web", "127.4.0.2", "web.svc.mesh.local"),
        mesh_service("api", "127.4.0.3", "api.svc.mesh.local"),
    ]})
    return zone


def seed_dns_bench(route53, kuma_info, services):
    zone = private_zone(route53, "svc.mesh.local")
    items = [mesh_service(f"svc-{i:05d}", f"127.4.{i // 250}.{i % 250 + 1}", f"svc-{i:05d}.svc.mesh.local") for i in range(services)]
    for start in range(0, len(items), 1000):
        kuma_control(kuma_info, "resources", {"items": items[start:start + 1000]})
    return zone


def run_tasks(ecs, cluster, service, mesh, count):
    family = "td-" + service
    ecs.register_task_definition(family=family, containerDefinitions=[{"name": "app", "image": "app:1", "memory": 128}])
    tags = [{"key": "kuma.io/service", "value": service}]
    if mesh:
        tags.append({"key": "kuma.io/mesh", "value": mesh})
    arns = []
    while count > 0:
        n = min(count, 10)
        arns += [t["taskArn"] for t in ecs.run_task(cluster=cluster, taskDefinition=family, launchType="FARGATE",
                                                     count=n, tags=tags)["tasks"]]
        count -= n
    return arns


def set_status(cluster, arns, status):
    """moto starts every task RUNNING; tasks waiting for their secret sit in PROVISIONING/PENDING."""
    from moto.ecs.models import ecs_backends
    backend = ecs_backends["123456789012"][REGION]
    for arn in arns:
        backend.tasks[cluster][arn].last_status = status


def seed_demo(ecs, sm):
    ecs.create_cluster(clusterName="prod")
    ecs.create_cluster(clusterName="batch")
    run_tasks(ecs, "prod", "web", None, 3)
    set_status("prod", run_tasks(ecs, "prod", "billing", "payments", 2), "PROVISIONING")
    ecs.register_task_definition(family="untagged", containerDefinitions=[{"name": "app", "image": "app:1", "memory": 128}])
    ecs.run_task(cluster="prod", taskDefinition="untagged", launchType="FARGATE", count=1, tags=[{"key": "team", "value": "data"}])
    set_status("batch", run_tasks(ecs, "batch", "worker", None, 2)[:1], "PENDING")
    set_status("batch", run_tasks(ecs, "batch", "ledger", "payments", 1), "PROVISIONING")
    for service in ("billing", "worker", "ledger"):
        sm.create_secret(Name=PREFIX + service, SecretString="{}")
    sm.create_secret(Name=PREFIX + "web", SecretString=json.dumps({"owner": "team-web"}))
    return {"clusters": 2, "services": 4, "tasks": 9}


def seed_bench(ecs, sm, services, per_service, clusters):
    names = [f"bench-{c}" for c in range(clusters)]
    for name in names:
        ecs.create_cluster(clusterName=name)
    ecs.register_task_definition(family="bench", containerDefinitions=[{"name": "app", "image": "app:1", "memory": 128}])
    started = time.time()
    for i in range(services):
        service = f"svc-{i:04d}"
        cluster = names[i % clusters]
        remaining = per_service
        while remaining > 0:
            n = min(remaining, 10)
            ecs.run_task(cluster=cluster, taskDefinition="bench", launchType="FARGATE", count=n,
                         tags=[{"key": "kuma.io/service", "value": service}])
            remaining -= n
        sm.create_secret(Name=PREFIX + service, SecretString="{}")
        if i and i % 200 == 0:
            print(f"world: seeded {i} services ({time.time() - started:.0f}s)", file=sys.stderr, flush=True)
    return {"clusters": clusters, "services": services, "tasks": services * per_service}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["demo", "bench", "dns-bench"])
    parser.add_argument("--env-file", required=True)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--tasks-per-service", type=int, default=10)
    parser.add_argument("--clusters", type=int, default=4)
    args = parser.parse_args()
    # SIGTERM/SIGINT unwind through `finally`, so the peers started here are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))

    _, info = moto_peer.start()
    children = []
    try:
        proxy, proxy_info = start_peer("fault_proxy.py", "--upstream", info["base_url"])
        children.append(proxy)
        kuma, kuma_info = start_peer("kuma_standin.py", "--meshes", "default,payments")
        children.append(kuma)
        ecs, sm, route53 = clients(info)
        zone = None
        if args.kind == "demo":
            seeded = seed_demo(ecs, sm)
            zone = seed_dns_demo(route53, kuma_info)
        elif args.kind == "dns-bench":
            zone = seed_dns_bench(route53, kuma_info, args.services)
            seeded = {"zone": zone, "services": args.services}
        else:
            seeded = seed_bench(ecs, sm, args.services, args.tasks_per_service, args.clusters)
        env = {
            "AWS_ACCESS_KEY_ID": info["access_key_id"], "AWS_SECRET_ACCESS_KEY": info["secret_access_key"],
            "AWS_REGION": REGION, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy_info['port']}",
            "AWS_EC2_METADATA_DISABLED": "true",
            "KUMA_API_SERVER_URL": f"http://127.0.0.1:{kuma_info['port']}", "KUMA_API_TOKEN": kuma_info["admin_token"],
            "KMESH_SECRET_NAME_PREFIX": PREFIX,
        }
        if zone:
            env["KMESH_RUNTIME_AWS_ROUTE53_HOSTED_ZONE_ID"] = zone
        with open(args.env_file, "w") as f:
            for k, v in env.items():
                f.write(f"{k}={v}\n")
        os.chmod(args.env_file, 0o600)
        ready = {"moto": info["base_url"], "proxy": env["AWS_ENDPOINT_URL"], "kuma": env["KUMA_API_SERVER_URL"],
                 "pids": [os.getpid()] + [c.pid for c in children]}
        ready.update(seeded)
        print(json.dumps(ready), flush=True)
        peerlib.wait_for_parent()
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
    os._exit(0)


if __name__ == "__main__":
    main()
