#!/usr/bin/env bash
# Installs what logship needs, builds it, and runs the whole test suite: unit and integration
# tests (with real servers started by ctest fixtures), then the unit and integration tests again
# under AddressSanitizer + UndefinedBehaviorSanitizer and under ThreadSanitizer, and every libFuzzer
# target for a short time.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on paths relative to the checkout, so every clone shares one cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR=true
bash scripts/install-deps.sh
JOBS="${LOGSHIP_JOBS:-2}"

bash scripts/build.sh
echo "== tests (release build)"
ctest --test-dir build --output-on-failure -j "$JOBS" --timeout 900

# Sanitizer integration runs: each build dir is its own ctest tree, so ctest sets LOGSHIP_BIN to
# that tree's daemon and starts that tree's JVM server fixtures (OpenSearch x2, Kafka) once for
# the run. LOGSHIP_SANITIZER tells the tests (tests/integration/support.py): a sanitizer report in
# any logship stderr fails the test; only RSS bounds, load-generator rates and throughput timeouts
# are relaxed, never counts, bytes, loss or duplication. Which tests run where (see also
# tests/RELIABILITY.md, "Sanitizers"):
#   ASan + UBSan: every integration test, JVM ones included (elasticsearch_output, kafka_output),
#     but docker_engine_plugin and docker_engine_image: they run the binary inside containers
#     (a plugin rootfs, an image), where the sanitizer runtime's reports and LeakSanitizer's
#     ptrace-based exit check do not reach the test; docker_engine_input (logship on the host
#     reading the real engine's files) runs under both sanitizers. Nor debian_package: it
#     packages and installs the release binary; a sanitized build is no product to install.
#   TSan: every integration test except kafka_output (crashes, reason below) and the ones on
#     OpenSearch, elasticsearch_* and dead_letters (budget: two more JVMs and ~2.5 min on a busy
#     runner; the OutputRunner race it found under TSan and the runner's dead-letter paths are
#     covered by the TSan unit run, OutputRunnerTest and DeadLetterTest).
# Budget: both integration runs together add ~9 min on 2 cores (measured: ASan ~5 min, TSan
# ~3.5 min); CI allows 12.
ASAN_ENV=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1)
echo "== unit tests under ASan + UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLOGSHIP_SANITIZE=ON \
  -DLOGSHIP_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$JOBS" --target logship_unit_tests logship kafka_mock_cluster \
  logship_fault_shim
env "${ASAN_ENV[@]}" ctest --test-dir build-asan --output-on-failure -j "$JOBS" -L unit \
  --timeout 900

echo "== integration tests under ASan + UBSan"
env "${ASAN_ENV[@]}" LOGSHIP_SANITIZER=asan \
  ctest --test-dir build-asan --output-on-failure -j "$JOBS" -L integration \
  -E 'docker_engine_(plugin|image)|debian_package' --timeout 900

echo "== unit tests under TSan"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLOGSHIP_TSAN=ON \
  -DLOGSHIP_BUILD_BENCH=OFF >/dev/null
cmake --build build-tsan -j "$JOBS" --target logship_unit_tests logship logship_fault_shim
# halt_on_error: a race fails its test. Suppressions cover third-party libraries only.
TSAN_ENV=("TSAN_OPTIONS=halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp")
# Not the Kafka tests (unit and integration): Debian's librdkafka starts its threads with C11
# thrd_create, which TSan does not intercept, so the first malloc on a librdkafka thread crashes
# inside TSan (uninitialized thread state); no suppression can help. They run under ASan above.
env "${TSAN_ENV[@]}" ctest --test-dir build-tsan --output-on-failure -j "$JOBS" -L unit \
  -E '^KafkaOutputTest\.' --timeout 900

echo "== integration tests under TSan"
env "${TSAN_ENV[@]}" LOGSHIP_SANITIZER=tsan \
  ctest --test-dir build-tsan --output-on-failure -j "$JOBS" -L integration \
  -E 'kafka|elasticsearch|opensearch|dead_letters|docker_engine_(plugin|image)|debian_package' \
  --timeout 900

echo "== fuzz each target for 10s"
bash scripts/fuzz.sh 10
