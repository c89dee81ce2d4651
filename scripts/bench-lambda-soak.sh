#!/usr/bin/env bash
# Lambda soak benchmark (scripts/bench_lambda_soak.py): N invocations (default 2000) of each
# reconciler in one warm process against the fake Runtime API, after a warm-up of at least 130 s,
# with good, malformed, oversized and failing events and peer faults; prints RSS, descriptors,
# threads and handler overhead.
#
# It measures what a Lambda function runs: the release artifacts, the static binaries that
# lambda/package.sh builds (.build/dist/bin, each zip's bootstrap). --dev measures the dynamically
# linked `swift build -c release` binaries instead: quicker to rebuild, but not what ships (on this
# project's machine they used 10 to 20% more CPU per invocation at p50, and 7 MiB more RSS).
#
#   scripts/bench-lambda-soak.sh [--dev] [--invocations N] [--warm-up-seconds S] [--only tokens,dns,rotate]
#                                [--idle MS,...]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh >/dev/null
if [ "${1:-}" = "--dev" ]; then
    shift
    for product in reconcile-tokens reconcile-dns rotate-user-token; do
        swift build -c release --product "$product" 2>&1 | grep -E "error|warning: " >&2 || true
    done
    bin="$(swift build -c release --show-bin-path)"
else
    mkdir -p .build
    echo "bench-lambda-soak: building the release artifacts (lambda/package.sh, log in .build/package.log)" >&2
    lambda/package.sh > .build/package.log 2>&1 || { tail -n 20 .build/package.log >&2; exit 1; }
    bin=.build/dist/bin
fi
echo "bench-lambda-soak: measuring $bin" >&2
exec python3 scripts/bench_lambda_soak.py --bin "$bin" "$@"
