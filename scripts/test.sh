#!/usr/bin/env bash
# Installs what logship needs, builds it, and runs the whole test suite: unit and integration
# tests (with real servers started by ctest fixtures), then the unit tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer.
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
