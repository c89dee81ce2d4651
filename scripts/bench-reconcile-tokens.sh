#!/usr/bin/env bash
# Benchmark of reconcile-tokens, both builds (the everyday `swift build -c release` binary and the
# static release artifact .build/dist/bin/reconcile-tokens), on two worlds: a small one (50 services
# x 4 tasks, 1 cluster) with the static binary's targets (converged pass: peak RSS <= 18 MiB, CPU <=
# 0.03 s, calls exactly the lower bound), and the large one (1,000 services x 10 tasks in 4
# clusters). Prints figures; it is not part of the tests.
#
#   scripts/bench-reconcile-tokens.sh            # both worlds
#   scripts/bench-reconcile-tokens.sh --small    # the small world only
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
command -v /usr/bin/time >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
swift build -c release --product reconcile-tokens 2>&1 | tail -1
[ -x .build/dist/bin/reconcile-tokens ] || lambda/package.sh
dynamic="$(swift build -c release --show-bin-path)/reconcile-tokens"
static=.build/dist/bin/reconcile-tokens
echo "## small world: 50 services x 4 tasks in 1 cluster"
python3 scripts/bench_tokens.py --binary "dynamic=$dynamic" --binary "static=$static" \
    --services 50 --tasks-per-service 4 --clusters 1 --target static:18:0.03
[ "${1:-}" = "--small" ] && exit 0
echo "## large world: 1,000 services x 10 tasks in 4 clusters"
python3 scripts/bench_tokens.py --binary "dynamic=$dynamic" --binary "static=$static" \
    --services 1000 --tasks-per-service 10 --clusters 4
