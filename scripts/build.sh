#!/usr/bin/env bash
# Configures and builds logship into ./build (release with debug info). Extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on paths relative to the checkout, so every clone shares one cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR=true
BUILD_DIR="${LOGSHIP_BUILD_DIR:-build}"
JOBS="${LOGSHIP_JOBS:-2}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
