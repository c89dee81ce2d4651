#!/usr/bin/env bash
# Benchmark of kmesh-scheduler (the static release binary): idle CPU and RSS with 20 minute jobs,
# and start lateness of 20 @every 1s jobs with every core busy (scripts/bench_scheduler.py). About
# two minutes; prints figures and checks the targets; not part of the tests.
#
#   scripts/bench-scheduler.sh [--seconds N]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .build/dist/bin/kmesh-scheduler ] || lambda/package.sh
exec python3 scripts/bench_scheduler.py --binary .build/dist/bin/kmesh-scheduler "$@"
