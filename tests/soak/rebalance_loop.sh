#!/usr/bin/env bash
# Soak: the rebalance scenario N times in a row on the local broker (default 10 rounds,
# each killing a meter once before its first commit and once after commits: 20 runs).
#
#   tests/soak/rebalance_loop.sh [ROUNDS]
#
# Prints one line per run and the count of passes; exits non-zero if any run failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-10}
passed=0; failed=0
for round in $(seq 1 "$rounds"); do
  for moment in before-first-commit after-commits; do
    started=$(date +%s)
    if .venv/bin/python -m pytest -q -p no:cacheprovider \
        "tests/integration/test_streaming.py::test_rebalance_after_a_meter_worker_dies_leaves_exact_totals[$moment]" \
        > "/tmp/rebalance-soak-$round-$moment.log" 2>&1; then
      passed=$((passed + 1)); result=pass
    else
      failed=$((failed + 1)); result="FAIL (/tmp/rebalance-soak-$round-$moment.log)"
    fi
    echo "round $round $moment: $result in $(( $(date +%s) - started )) s"
  done
done
echo "rebalance soak: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
