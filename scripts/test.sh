#!/usr/bin/env bash
# The project's test command: sets up the machine, builds, and runs every test (unit tests and
# end-to-end tests against moto, the Kuma stand-in and the fault proxy, all on 127.0.0.1), then the
# fault matrix, then checks that no output of any executable run by the tests holds a secret.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
swift build --build-tests
# Every output of the executables the tests run, and every secret the peers hand out, for the leak check.
export KMESH_TEST_OUTPUT_DIR="$PWD/.build/test-outputs"
export KMESH_TEST_SECRETS_FILE="$KMESH_TEST_OUTPUT_DIR/secrets.txt"
rm -rf "$KMESH_TEST_OUTPUT_DIR"
mkdir -p "$KMESH_TEST_OUTPUT_DIR"
# The suite takes under a minute: one still running after 15 is a hang, and deadline.py shows where
# each process is stuck, then stops them (CI then fails in minutes, with the place it hung).
scripts/deadline.py "${KMESH_TEST_DEADLINE:-900}" -- swift test "$@"
if [ $# -eq 0 ]; then
    scripts/fault-matrix.sh      # every call x fault, end to end; checks docs/reliability.md's table
    python3 scripts/check_no_secrets.py "$KMESH_TEST_OUTPUT_DIR" "$KMESH_TEST_SECRETS_FILE"
fi
