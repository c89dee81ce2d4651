#!/usr/bin/env bash
# Benchmark: 1,000 services x 10 tasks in 4 clusters (override with --services, --tasks-per-service,
# --clusters). Builds the release binary, then runs scripts/bench_tokens.py. Prints figures; it is
# not part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
command -v /usr/bin/time >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
swift build -c release --product reconcile-tokens 2>&1 | tail -1
exec python3 scripts/bench_tokens.py --binary "$(swift build -c release --show-bin-path)/reconcile-tokens" "$@"
