#!/usr/bin/env bash
# Installs what logship needs, builds it, and runs the whole test suite: unit and integration
# tests (with real servers started by ctest fixtures), then the unit tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer and under ThreadSanitizer, and every libFuzzer target
# for a short time.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on paths relative to the checkout, so every clone shares one cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR=true
bash scripts/install-deps.sh
JOBS="${LOGSHIP_JOBS:-2}"

bash scripts/build.sh
echo "== tests (release build)"
ctest --test-dir build --output-on-failure -j "$JOBS" --timeout 900

echo "== unit tests under ASan + UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLOGSHIP_SANITIZE=ON \
  -DLOGSHIP_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$JOBS" --target logship_unit_tests logship
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$JOBS" -L unit --timeout 900

echo "== unit tests under TSan"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLOGSHIP_TSAN=ON \
  -DLOGSHIP_BUILD_BENCH=OFF >/dev/null
cmake --build build-tsan -j "$JOBS" --target logship_unit_tests
# halt_on_error: a race fails its test. Suppressions cover third-party libraries only.
# Not the Kafka output tests: Debian's librdkafka starts its threads with C11 thrd_create, which
# TSan does not intercept, so the first malloc on a librdkafka thread crashes inside TSan
# (uninitialized thread state); no suppression can help. They run under ASan above.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
  ctest --test-dir build-tsan --output-on-failure -j "$JOBS" -L unit -E '^KafkaOutputTest\.' \
  --timeout 900

echo "== fuzz each target for 10s"
bash scripts/fuzz.sh 10
