#!/usr/bin/env python3
"""Builds the kmesh-ecs OCI image without a container engine: a distroless root filesystem in one
reproducible layer, written as an OCI image layout (.build/dist/image/, tag kmesh-ecs:<version>) and
an OCI archive (.build/dist/kmesh-ecs-image.tar).

Contents: the multi-call binary /usr/local/bin/kmesh-ecs with a link per executable, the glibc pieces
it needs (libc.so.6, libm.so.6, libgcc_s.so.1, ld-linux-x86-64.so.2) from the build host, the CA bundle
at /etc/ssl/certs/ca-certificates.crt, /usr/share/zoneinfo, /etc/passwd and /etc/group with the
non-root user 65532 the image runs as, and the example crontab at /etc/kmesh/crontab. No shell, no
package manager. Reproducible: every timestamp is the commit's, entries are sorted, owners numeric.

    python3 scripts/build_image.py --binary .build/dist/bin/kmesh-ecs --crontab scheduler/examples/crontab \\
        --version 0.1.0 --revision <sha> --created <epoch> --source <url> --out .build/dist
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import tarfile
import time

TOOLS = ["reconcile-tokens", "reconcile-dns", "rotate-user-token", "kmesh-scheduler"]
LIBS = {
    "lib/x86_64-linux-gnu/libc.so.6": "/lib/x86_64-linux-gnu/libc.so.6",
    "lib/x86_64-linux-gnu/libm.so.6": "/lib/x86_64-linux-gnu/libm.so.6",
    "lib/x86_64-linux-gnu/libgcc_s.so.1": "/lib/x86_64-linux-gnu/libgcc_s.so.1",
    "lib64/ld-linux-x86-64.so.2": "/lib64/ld-linux-x86-64.so.2",
}
USER = 65532
MAX_COMPRESSED = 20 * 1000 * 1000


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Layer:
    """A tar stream built in memory, entries sorted by path, every header normalised."""

    def __init__(self, mtime):
        self.mtime = mtime
        self.entries = {}  # path -> (TarInfo, bytes or None)

    def _info(self, path, kind, mode, uid=0, gid=0):
        info = tarfile.TarInfo(path)
        info.type, info.mode, info.uid, info.gid = kind, mode, uid, gid
        info.uname = info.gname = ""
        info.mtime = self.mtime
        return info

    def directory(self, path, mode=0o755, uid=0, gid=0):
        parent = os.path.dirname(path)
        if parent and parent not in self.entries:
            self.directory(parent)
        if path not in self.entries:
            self.entries[path] = (self._info(path, tarfile.DIRTYPE, mode, uid, gid), None)

    def file(self, path, data, mode=0o644):
        self.directory(os.path.dirname(path))
        info = self._info(path, tarfile.REGTYPE, mode)
        info.size = len(data)
        self.entries[path] = (info, data)

    def link(self, path, target):
        self.directory(os.path.dirname(path))
        info = self._info(path, tarfile.SYMTYPE, 0o777)
        info.linkname = target
        self.entries[path] = (info, None)

    def tar(self):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as t:
            for path in sorted(self.entries):
                info, data = self.entries[path]
                t.addfile(info, io.BytesIO(data) if data is not None else None)
        return buffer.getvalue()


def gz(data):
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as g:
        g.write(data)
    return buffer.getvalue()


def read(path):
    with open(os.path.realpath(path), "rb") as f:
        return f.read()


def rootfs(args, mtime):
    layer = Layer(mtime)
    layer.file("usr/local/bin/kmesh-ecs", read(args.binary), 0o755)
    for tool in TOOLS:
        layer.link(f"usr/local/bin/{tool}", "kmesh-ecs")
    for path, source in LIBS.items():
        layer.file(path, read(source), 0o755)
    layer.file("etc/ssl/certs/ca-certificates.crt", read(args.ca_bundle))
    zoneinfo = args.zoneinfo
    for dirpath, dirnames, filenames in os.walk(zoneinfo, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in ("right", "posix"))
        rel = os.path.relpath(dirpath, zoneinfo)
        base = "usr/share/zoneinfo" + ("" if rel == "." else "/" + rel)
        layer.directory(base)
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                layer.link(f"{base}/{name}", os.readlink(full))
            else:
                layer.file(f"{base}/{name}", read(full))
    layer.file("etc/passwd", b"root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")
    layer.file("etc/group", b"root:x:0:\nnonroot:x:65532:\n")
    layer.file("etc/kmesh/crontab", read(args.crontab))
    layer.directory("home/nonroot", 0o750, USER, USER)
    layer.directory("tmp", 0o1777)
    layer.directory("root", 0o700)
    return layer.tar()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", required=True)
    p.add_argument("--crontab", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--revision", required=True)
    p.add_argument("--created", type=int, required=True, help="epoch seconds: the commit's time")
    p.add_argument("--source", default="https://example.invalid/kmesh-ecs")
    p.add_argument("--ca-bundle", default="/etc/ssl/certs/ca-certificates.crt")
    p.add_argument("--zoneinfo", default="/usr/share/zoneinfo")
    p.add_argument("--out", required=True)
    args = p.parse_args()

    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(args.created))
    tar = rootfs(args, args.created)
    layer = gz(tar)
    config = {
        "architecture": "amd64", "os": "linux", "created": created,
        "config": {
            "User": f"{USER}:{USER}",
            "Env": ["PATH=/usr/local/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],
            "Cmd": ["kmesh-scheduler", "run", "/etc/kmesh/crontab"],
            "WorkingDir": "/home/nonroot",
            "Labels": {
                "org.opencontainers.image.source": args.source,
                "org.opencontainers.image.version": args.version,
                "org.opencontainers.image.revision": args.revision,
                "org.opencontainers.image.title": "kmesh-ecs",
                "org.opencontainers.image.description": "Kong Mesh / Kuma reconcilers for Amazon ECS, and kmesh-scheduler",
            },
        },
        "rootfs": {"type": "layers", "diff_ids": [sha256(tar)]},
        "history": [{"created": created, "created_by": "scripts/build-image.sh"}],
    }
    config_bytes = canonical(config)
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha256(layer), "size": len(layer)}],
        "annotations": {"org.opencontainers.image.created": created},
    }
    manifest_bytes = canonical(manifest)
    index = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(manifest_bytes),
                       "size": len(manifest_bytes), "annotations": {"org.opencontainers.image.ref.name": args.version}}],
    }
    blobs = {sha256(b)[7:]: b for b in (layer, config_bytes, manifest_bytes)}
    image = os.path.join(args.out, "image")
    for name in os.listdir(os.path.join(image, "blobs", "sha256")) if os.path.isdir(os.path.join(image, "blobs", "sha256")) else []:
        if name not in blobs:
            os.remove(os.path.join(image, "blobs", "sha256", name))
    files = {"oci-layout": canonical({"imageLayoutVersion": "1.0.0"}), "index.json": canonical(index)}
    files.update({f"blobs/sha256/{d}": b for d, b in blobs.items()})
    for rel, data in files.items():
        write(os.path.join(image, rel), data)
    # The OCI archive: the layout, as a reproducible tar.
    archive = Layer(args.created)
    for rel, data in sorted(files.items()):
        archive.file(rel, data)
    write(os.path.join(args.out, "kmesh-ecs-image.tar"), archive.tar())

    print(json.dumps({"tag": f"kmesh-ecs:{args.version}", "manifest": sha256(manifest_bytes), "layer": sha256(layer),
                      "compressed_bytes": len(layer), "uncompressed_bytes": len(tar), "files": len(tarfile.open(fileobj=io.BytesIO(tar)).getnames())}))
    if len(layer) > MAX_COMPRESSED:
        raise SystemExit(f"build-image: the layer is {len(layer) / 1e6:.1f} MB compressed, over the 20 MB limit")


if __name__ == "__main__":
    main()
