#!/usr/bin/env bash
# The house formatting (.swift-format at the top level), with the formatter the toolchain ships.
#
#   scripts/format.sh           # format Package.swift, Sources/, Tests/ and scheduler/ in place
#   scripts/format.sh --check   # `swift format lint --strict`: fails on any finding (CI runs this first)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
paths=(Package.swift)
for d in Sources Tests scheduler; do
    if [ -n "$(find "$d" -name '*.swift' -print -quit 2>/dev/null)" ]; then paths+=("$d"); fi
done
if [ "${1:-}" = "--check" ]; then
    if ! swift format lint --strict --parallel --recursive "${paths[@]}"; then
        echo "format: findings above; run scripts/format.sh to fix the layout, and fix the rest by hand" >&2
        exit 1
    fi
    echo "format: clean ($(find "${paths[@]}" -name '*.swift' | wc -l) files)" >&2
else
    swift format format --in-place --parallel --recursive "${paths[@]}"
    echo "format: formatted ${paths[*]}" >&2
fi
