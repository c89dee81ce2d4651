#!/usr/bin/env bash
# The project's test command: sets up the machine, builds, and runs every test (unit tests and
# end-to-end tests against moto, the Kuma stand-in and the fault proxy, all on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
swift build --build-tests
swift test "$@"
