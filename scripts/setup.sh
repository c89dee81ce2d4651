#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian 12 machine (Swift 6.3 at /opt/swift is
# assumed): libcurl and OpenSSL headers, pkg-config, and the Python test peers' packages.
set -euo pipefail

need_apt=()
for pkg in libcurl4-openssl-dev libssl-dev pkg-config; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
# Python may come from elsewhere (pyenv): install Debian's only when there is none at all.
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
if ((${#need_apt[@]})); then
    echo "setup: installing ${need_apt[*]}" >&2
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# moto's server is the AWS peer; its peer script patches two of moto's 5.2 internals (see
# scripts/peers/moto_peer.py), so the version is pinned.
if ! python3 -c 'import moto, flask, boto3, cryptography; assert moto.__version__ == "5.2.1"' 2>/dev/null; then
    echo "setup: installing moto[server]==5.2.1, boto3, cryptography" >&2
    python3 -m pip install --quiet 'moto[server]==5.2.1' boto3 'cryptography>=42'
fi

command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
swift --version >/dev/null
echo "setup: ready" >&2
