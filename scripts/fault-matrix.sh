#!/usr/bin/env bash
# The fault matrix (scripts/fault_matrix.py): every AWS and Kuma call of reconcile-tokens,
# reconcile-dns and rotate-user-token, one fault at a time (throttling, 500, 503, a reset
# mid-response, a slow answer, a truncated body, a wrong content type, garbage, a 64 MiB body),
# against moto and the Kuma stand-in behind fault proxies on 127.0.0.1. Fails on any broken
# invariant, and when docs/reliability.md no longer carries the table it prints.
#
#   scripts/fault-matrix.sh            # run and check docs/reliability.md (the test command does this)
#   scripts/fault-matrix.sh --write    # run and regenerate docs/reliability.md's table
#   scripts/fault-matrix.sh --only dns --faults garbage,huge    # a part (prints, checks nothing in the doc)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
for product in reconcile-tokens reconcile-dns rotate-user-token; do
    swift build --product "$product" 2>&1 | grep -E "error|warning: " >&2 || true
done
bin=$(swift build --show-bin-path)
case "${1:-}" in
    --write) exec python3 scripts/fault_matrix.py --bin "$bin" --write docs/reliability.md ;;
    "") exec python3 scripts/fault_matrix.py --bin "$bin" --check docs/reliability.md ;;
    *) exec python3 scripts/fault_matrix.py --bin "$bin" "$@" ;;
esac
