#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a short time on a copy
# of its seed corpus. Crashes fail the script; their inputs are left in build-fuzz/artifacts/ to be
# fixed and kept under tests/fuzz/corpus/<target>/ as regression inputs.
#   scripts/fuzz.sh [seconds per target, default 20]
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on paths relative to the checkout, so every clone shares one cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR=true
SECONDS_PER_TARGET="${1:-${LOGSHIP_FUZZ_SECONDS:-20}}"
JOBS="${LOGSHIP_JOBS:-2}"
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLOGSHIP_FUZZ=ON -DLOGSHIP_BUILD_TESTS=OFF -DLOGSHIP_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$JOBS" --target logship_fuzz_targets
mkdir -p build-fuzz/artifacts build-fuzz/logs
failed=()
count=0
for src in tests/fuzz/*_fuzz.cpp; do
  name="$(basename "$src" .cpp)"
  target="${name%_fuzz}"
  work="build-fuzz/corpus/$target"
  log="build-fuzz/logs/$target.log"
  count=$((count + 1))
  mkdir -p "$work"
  if [ -d "tests/fuzz/corpus/$target" ]; then cp -n tests/fuzz/corpus/"$target"/* "$work"/ 2>/dev/null || true; fi
  echo "== fuzz $target for ${SECONDS_PER_TARGET}s"
  # The fuzzer's status, not tail's: a crash, leak, timeout or failed property must fail the run
  # (errexit is off for the pipeline so every target runs and all failures are listed).
  set +e
  "build-fuzz/tests/fuzz/$name" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="build-fuzz/artifacts/$target-" -print_final_stats=1 "$work" >"$log" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    # Enough of the log for the sanitizer report and the crashing input's name.
    tail -n 60 "$log"
    echo "fuzz: $target FAILED (exit $rc), log $log, inputs in build-fuzz/artifacts/"
    failed+=("$target")
  else
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done )' "$log" || tail -n 4 "$log"
  fi
done
if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzz: $((count - ${#failed[@]})) passed, ${#failed[@]} failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: $count passed, 0 failed"
