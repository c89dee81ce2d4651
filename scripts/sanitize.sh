#!/usr/bin/env bash
# Runs the test suite under a sanitizer, in its own build folder (the executables the end-to-end
# tests start are instrumented too):
#
#   scripts/sanitize.sh thread      # ThreadSanitizer: the curl multi thread, the token caches, the scheduler
#   scripts/sanitize.sh address     # AddressSanitizer (and LeakSanitizer)
#   scripts/sanitize.sh thread --filter SchedulerTests     # extra arguments go to swift test
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-thread}
shift || true
case "$kind" in thread | address) ;; *) echo "sanitize: thread or address, not $kind" >&2; exit 64;; esac
scripts/setup.sh
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
scratch=".build-$kind"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
swift build --build-tests --sanitize="$kind" --scratch-path "$scratch"
# A hang ends at the deadline with every process's stacks (see scripts/test.sh).
scripts/deadline.py "${KMESH_TEST_DEADLINE:-900}" -- swift test --skip-build --sanitize="$kind" --scratch-path "$scratch" "$@"
