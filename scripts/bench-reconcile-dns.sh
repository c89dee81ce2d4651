#!/usr/bin/env bash
# Benchmark of reconcile-dns (the static release binary): 5,000 MeshServices in one private zone,
# first pass and no-change pass, against moto's Route 53 and the Kuma stand-in. Prints figures and
# checks the call-count, rate and memory targets (scripts/bench_dns.py); not part of the tests.
#
#   scripts/bench-reconcile-dns.sh [--services N] [--rps R]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v /usr/bin/time >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
[ -x .build/dist/bin/reconcile-dns ] || lambda/package.sh
exec python3 scripts/bench_dns.py --binary .build/dist/bin/reconcile-dns "$@"
