#!/usr/bin/env bash
# Builds the libFuzzer harnesses (Tests/Fuzz/<Name>, with address sanitizer) and runs each for
# SECONDS (default 60) from its seed corpus (Tests/Fuzz/Corpus/<Name>, read-only: new inputs go to a
# scratch folder). Prints executions and coverage per harness; fails on any crash, leak or timeout,
# and leaves the input that did it under .build-fuzz/findings/.
#
#   scripts/fuzz.sh            # 60 s each
#   scripts/fuzz.sh 20         # CI's budget
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
harnesses=$(ls Tests/Fuzz | grep '^Fuzz' | grep -v '^FuzzSupport$')
scratch=.build-fuzz
mkdir -p "$scratch/findings"
for h in $harnesses; do
    KMESH_FUZZ=1 swift build -c debug --scratch-path "$scratch" --product "$h" -Xswiftc -sanitize=fuzzer,address \
        > "$scratch/build-$h.log" 2>&1 || { grep -E "error" "$scratch/build-$h.log" | head -20 >&2; echo "fuzz: $h did not build" >&2; exit 1; }
done
bin=$(KMESH_FUZZ=1 swift build -c debug --scratch-path "$scratch" --show-bin-path)
failed=0
for h in $harnesses; do
    work="$scratch/corpus/$h"
    mkdir -p "$work"
    log="$scratch/run-$h.log"
    # Swift's crash backtracer reads the stack from a helper thread, which address sanitizer reports
    # as a stack-buffer-underflow that hides the real failure; without it a precondition says itself.
    if SWIFT_BACKTRACE=enable=no "$bin/$h" "$work" "Tests/Fuzz/Corpus/$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$scratch/findings/$h-" -print_final_stats=1 > "$log" 2>&1; then
        result=ok
    else
        result=FAILED
        failed=1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
    echo "fuzz: $h: $result: $runs executions in ${seconds}s, coverage $cov edges, corpus $(ls "$work" | wc -l) inputs"
    if [ "$result" = FAILED ]; then grep -E "ERROR|==[0-9]+==|Fatal error|Test unit written" "$log" | head -10 >&2; fi
done
exit $failed
