#!/usr/bin/env python3
"""Tests the built image by running what is inside it (root; see scripts/image-test.sh): unpacks the
OCI layout's layer into a root filesystem, mounts /proc, and runs its executables in a chroot as the
image's user 65532, with the host's libraries out of reach:

- the image config: user, command, labels; no shell in the root; the compressed size limit;
- each executable's --help; kmesh-scheduler check on the image's crontab; kmesh-scheduler next in a
  zone from the image's zoneinfo;
- a reconcile-tokens pass against the local peers (moto, the Kuma stand-in) that converges;
- TLS to an HTTPS peer verified with the image's CA bundle at /etc/ssl/certs/ca-certificates.crt
  (the peer's test CA appended to it for the test; without it the same call fails).
Exits non-zero with the reasons on any mismatch."""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "peers")
TOOLS = ["reconcile-tokens", "reconcile-dns", "rotate-user-token", "kmesh-scheduler"]


def blob(image, digest):
    return os.path.join(image, "blobs", "sha256", digest.split(":", 1)[1])


def start(cmd):
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc, json.loads(proc.stdout.readline())


def main():
    image = sys.argv[1] if len(sys.argv) > 1 else ".build/dist/image"
    problems = []
    index = json.load(open(os.path.join(image, "index.json")))
    manifest = json.load(open(blob(image, index["manifests"][0]["digest"])))
    config = json.load(open(blob(image, manifest["config"]["digest"])))
    c = config["config"]
    if c.get("User") != "65532:65532":
        problems.append(f"user is {c.get('User')}")
    if c.get("Cmd") != ["kmesh-scheduler", "run", "/etc/kmesh/crontab"]:
        problems.append(f"command is {c.get('Cmd')}")
    for label in ("org.opencontainers.image.source", "org.opencontainers.image.version", "org.opencontainers.image.revision"):
        if not c.get("Labels", {}).get(label):
            problems.append(f"label {label} missing")
    size = sum(layer["size"] for layer in manifest["layers"])
    if size > 20 * 1000 * 1000:
        problems.append(f"{size / 1e6:.1f} MB compressed, over 20 MB")

    root = tempfile.mkdtemp(prefix="kmesh-image-root-")
    os.chmod(root, 0o755)  # as a container runtime makes it; mkdtemp gives 0700
    for layer in manifest["layers"]:
        with tarfile.open(blob(image, layer["digest"]), "r:gz") as t:
            t.extractall(root, numeric_owner=True, filter="fully_trusted")
    names = []
    for dirpath, _, filenames in os.walk(root):
        names += filenames
    shells = sorted({n for n in names if n in ("sh", "bash", "dash", "ash", "busybox", "zsh", "apt", "apt-get", "dpkg")})
    if shells:
        problems.append(f"the root holds {shells}")
    os.makedirs(os.path.join(root, "proc"), exist_ok=True)
    subprocess.run(["mount", "-t", "proc", "proc", os.path.join(root, "proc")], check=True)
    with open(os.path.join(root, "etc", "hosts"), "w") as f:
        f.write("127.0.0.1 localhost\n")
    peers = []
    try:
        def run(args, env=None, timeout=120):
            base = {"PATH": "/usr/local/bin", "HOME": "/home/nonroot"}
            base.update(env or {})
            return subprocess.run([shutil.which("chroot") or "/usr/sbin/chroot", "--userspec=65532:65532", root] + args, env=base, capture_output=True, text=True, timeout=timeout)

        for tool in TOOLS:
            r = run([tool, "--help"])
            if r.returncode != 0 or "USAGE" not in r.stdout and "OVERVIEW" not in r.stdout:
                problems.append(f"{tool} --help exited {r.returncode}: {r.stderr[-300:]}")
        r = run(["kmesh-scheduler", "check", "/etc/kmesh/crontab"])
        if r.returncode != 0 or "ok: 3 jobs" not in r.stdout:
            problems.append(f"check of the image's crontab: {r.returncode} {r.stdout[-300:]} {r.stderr[-300:]}")
        r = run(["kmesh-scheduler", "next", "0 12 * * *", "--tz", "Europe/Berlin", "--from", "2026-07-01T00:00:00Z", "--count", "1"])
        if r.stdout.strip() != "2026-07-01T12:00:00+02:00":
            problems.append(f"next in Europe/Berlin: {r.stdout!r} {r.stderr[-300:]}")
        r = run(["sh", "-c", "true"])
        if r.returncode == 0:
            problems.append("a shell ran inside the image")

        # A reconcile-tokens pass against the local world converges: the second pass writes nothing.
        work = tempfile.mkdtemp(prefix="kmesh-image-world-")
        world, ready = start([sys.executable, os.path.join(PEERS, "world.py"), "demo", "--env-file", os.path.join(work, "env")])
        peers.append(world)
        env = dict(line.rstrip("\n").split("=", 1) for line in open(os.path.join(work, "env")) if "=" in line)
        first = run(["reconcile-tokens", "--output", "json", "--log-level", "warning"], env)
        second = run(["reconcile-tokens", "--output", "json", "--log-level", "warning"], env)
        try:
            t1, t2 = json.loads(first.stdout)["totals"], json.loads(second.stdout)["totals"]
            if first.returncode != 0 or t1["written"] != 4 or second.returncode != 0 or t2["written"] != 0 or t2["unchanged"] != 4:
                problems.append(f"reconcile-tokens in the image: {t1} then {t2}")
        except (ValueError, KeyError):
            problems.append(f"reconcile-tokens in the image: {first.returncode} {first.stderr[-500:]}")

        # TLS with the image's CA bundle: the HTTPS stand-in's CA appended to /etc/ssl/certs/ca-certificates.crt.
        tls_dir = tempfile.mkdtemp(prefix="kmesh-image-tls-")
        kuma, kinfo = start([sys.executable, os.path.join(PEERS, "kuma_standin.py"), "--tls", tls_dir])
        peers.append(kuma)
        tls_env = dict(env, KUMA_API_SERVER_URL=f"https://127.0.0.1:{kinfo['port']}", KUMA_API_TOKEN=kinfo["admin_token"])
        tls_env.pop("KUMA_API_TOKEN_SECRET_ID", None)
        without = run(["reconcile-dns", "--output", "json", "--log-level", "warning"], tls_env)
        bundle = os.path.join(root, "etc", "ssl", "certs", "ca-certificates.crt")
        with open(bundle, "a") as f, open(kinfo["ca_file"]) as ca:
            f.write("\n" + ca.read())
        with_ca = run(["reconcile-dns", "--output", "json", "--log-level", "warning"], tls_env)
        if without.returncode == 0:
            problems.append("TLS to the test peer worked without its CA: the check proves nothing")
        if with_ca.returncode != 0:
            problems.append(f"TLS with the image's CA bundle failed: {with_ca.stdout[-300:]} {with_ca.stderr[-300:]}")
    finally:
        for p in peers:
            p.stdin.close()
            p.wait(timeout=30)
        subprocess.run(["umount", os.path.join(root, "proc")])
        shutil.rmtree(root, ignore_errors=True)
    if problems:
        raise SystemExit("image-test: FAIL: " + " | ".join(problems))
    print(f"image-test: OK: user 65532, command and labels as built, no shell, {size / 1e6:.2f} MB compressed; in a chroot of the "
          "image as 65532: every --help, check and next, a converging reconcile-tokens pass, TLS with the image's CA bundle")


if __name__ == "__main__":
    main()
