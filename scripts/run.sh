#!/usr/bin/env bash
# Installs what logship needs, builds it and runs the daemon on the embedded default config.
# As root it uses /var/lib/logship and /var/log/logship; otherwise ./.logship/ under the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
if [ "$(id -u)" -ne 0 ]; then
  export LOGSHIP_STATE_DIR="${LOGSHIP_STATE_DIR:-$PWD/.logship/state}"
  export LOGSHIP_ARCHIVE_DIR="${LOGSHIP_ARCHIVE_DIR:-$PWD/.logship/archive}"
fi
exec build/daemon/logship run "$@"
