#!/usr/bin/env bash
# Runs what is inside the built image (root: chroot and mount) and checks its config and size; then
# builds the image a second time and checks that the digest is the same (reproducibility).
#
#   lambda/package.sh && scripts/build-image.sh && scripts/image-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "image-test: needs root (chroot, mount)" >&2; exit 1; }
[ -f .build/dist/image/index.json ] || scripts/build-image.sh
scripts/setup.sh
first=$(python3 -c 'import json; print(json.load(open(".build/dist/image/index.json"))["manifests"][0]["digest"])')
archive1=$(sha256sum .build/dist/kmesh-ecs-image.tar | cut -d' ' -f1)
scripts/build-image.sh > /dev/null 2>&1
second=$(python3 -c 'import json; print(json.load(open(".build/dist/image/index.json"))["manifests"][0]["digest"])')
archive2=$(sha256sum .build/dist/kmesh-ecs-image.tar | cut -d' ' -f1)
[ "$first" = "$second" ] && [ "$archive1" = "$archive2" ] \
    || { echo "image-test: FAIL: two builds of one commit differ ($first vs $second)" >&2; exit 1; }
echo "image-test: reproducible: two builds give manifest $first" >&2
python3 scripts/image_test.py .build/dist/image
