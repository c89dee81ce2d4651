#!/usr/bin/env bash
# Builds the kmesh-ecs OCI image from the release binary (after lambda/package.sh), without a
# container engine: .build/dist/image/ (an OCI image layout, tag kmesh-ecs:<version>) and
# .build/dist/kmesh-ecs-image.tar (an OCI archive). Reproducible: the same commit gives the same
# digest. Prints the digest and the size; fails over 20 MB compressed or if the layer does not
# read back whole.
#
#   scripts/build-image.sh
#   skopeo copy oci-archive:.build/dist/kmesh-ecs-image.tar docker://<account>.dkr.ecr.<region>.amazonaws.com/kmesh-ecs:<tag>
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .build/dist/bin/kmesh-ecs ] || lambda/package.sh
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(git log -1 --format=%ct 2>/dev/null || echo 0)
version=${KMESH_VERSION:-0.1.0-$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)}
source_url=${KMESH_SOURCE_URL:-https://github.com/kmesh-ecs/kmesh-ecs}
summary=$(python3 scripts/build_image.py --binary .build/dist/bin/kmesh-ecs --crontab scheduler/examples/crontab \
    --version "$version" --revision "$revision" --created "$created" --source "$source_url" --out .build/dist)
echo "build-image: $summary" >&2
# umoci once wrote a layer whose tar stream ended mid-file: read this one back whole.
layer=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["layer"][7:])' "$summary")
gzip -dc ".build/dist/image/blobs/sha256/$layer" | tar -tf - > /dev/null || { echo "build-image: the layer does not read back" >&2; exit 1; }
python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print("build-image: kmesh-ecs image %s: %.2f MB compressed (%.1f MB unpacked, %d entries), manifest %s" % (s["tag"], s["compressed_bytes"]/1e6, s["uncompressed_bytes"]/1e6, s["files"], s["manifest"]))' "$summary"
