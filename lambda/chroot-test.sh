#!/usr/bin/env bash
# Portability proof for the Lambda zips: in a Debian bookworm minbase chroot that has neither
# libcurl nor libssl3, with LD_LIBRARY_PATH set as Lambda sets it and an unversioned decoy
# libcurl.so.4 on it, the unzipped bootstrap runs against the fake Runtime API and the local moto
# and Kuma stand-in, through one task-state-change event, one scheduled event and one malformed
# event. Needs root (chroot, mount). The chroot is cached as .build/lambda/bookworm-minbase.tar.gz.
#
#   lambda/package.sh && lambda/chroot-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="$PWD/.build/lambda"
ROOTFS="$OUT/chroot"
CACHE="$OUT/bookworm-minbase.tar.gz"
MIRROR="http://deb.debian.org/debian"
say() { echo "chroot-test: $*" >&2; }
die() { echo "chroot-test: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (chroot and mount)"
[ -f "$OUT/reconcile-tokens.zip" ] || die "no $OUT/reconcile-tokens.zip: run lambda/package.sh first"
command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
scripts/setup.sh

cleanup() {
    mountpoint -q "$ROOTFS/proc" && umount "$ROOTFS/proc" || true
}
trap cleanup EXIT

if [ ! -f "$CACHE" ]; then
    say "building a bookworm minbase root (about a minute; cached afterwards)"
    rm -rf "$ROOTFS.new"
    debootstrap --variant=minbase bookworm "$ROOTFS.new" "$MIRROR" > "$OUT/debootstrap.log" 2>&1 \
        || die "debootstrap failed (log: $OUT/debootstrap.log)"
    tar -C "$ROOTFS.new" -czf "$CACHE.tmp" . && mv "$CACHE.tmp" "$CACHE"
    rm -rf "$ROOTFS.new"
fi
cleanup
rm -rf "$ROOTFS"; mkdir -p "$ROOTFS"
tar -C "$ROOTFS" -xzf "$CACHE"

# The point of the exercise: no libcurl, no libssl3 in the root.
if find "$ROOTFS" \( -name 'libcurl.so*' -o -name 'libssl.so.3*' -o -name 'libcrypto.so.3*' \) | grep -q .; then
    say "removing libcurl/libssl3 from the root"
    find "$ROOTFS" \( -name 'libcurl.so*' -o -name 'libssl.so.3*' -o -name 'libcrypto.so.3*' \) -delete
fi

mkdir -p "$ROOTFS/var/task/lib" "$ROOTFS/etc/pki/tls/certs"
python3 -c "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$OUT/reconcile-tokens.zip" "$ROOTFS/var/task"
chmod 755 "$ROOTFS/var/task/bootstrap"
# An unversioned libcurl.so.4 where Lambda's LD_LIBRARY_PATH looks first, as Amazon Linux's would be.
cat > "$OUT/decoy.c" <<'C'
void *curl_easy_init(void) { return 0; }
int curl_global_init(long flags) { (void)flags; return 2; }
C
gcc -shared -fPIC -o "$ROOTFS/var/task/lib/libcurl.so.4" "$OUT/decoy.c"
printf '127.0.0.1 localhost\n' > "$ROOTFS/etc/hosts"
mount -t proc proc "$ROOTFS/proc"

python3 lambda/portability_check.py --rootfs "$ROOTFS"
