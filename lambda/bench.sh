#!/usr/bin/env bash
# Lambda figures (zip size, cold start to first `next`, peak RSS, warm invocation): builds the zips
# if needed, then runs lambda/bench_lambda.py. Prints figures; not part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .build/lambda/reconcile-tokens.zip ] || lambda/package.sh
scripts/setup.sh
exec python3 lambda/bench_lambda.py
