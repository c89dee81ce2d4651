#!/usr/bin/env bash
# Lambda soak benchmark (scripts/bench_lambda_soak.py): N invocations (default 2000) of each
# reconciler in one warm process against the fake Runtime API, with good, malformed, oversized and
# failing events and peer faults; prints RSS, descriptors, threads and handler overhead.
#
#   scripts/bench-lambda-soak.sh [--invocations N] [--only tokens,dns,rotate]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh >/dev/null
for product in reconcile-tokens reconcile-dns rotate-user-token; do
    swift build -c release --product "$product" 2>&1 | grep -E "error|warning: " >&2 || true
done
exec python3 scripts/bench_lambda_soak.py --bin "$(swift build -c release --show-bin-path)" "$@"
