#!/usr/bin/env bash
# Installs the Debian 12 packages logship needs to build, test and benchmark.
# Idempotent: packages already present are not fetched again.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  libboost-dev libboost-system-dev
  libsimdjson-dev libre2-dev librdkafka-dev zlib1g-dev libyaml-cpp-dev
  libsystemd-dev libssl-dev libcap-dev libsnappy-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # test peers and tools
  logrotate rsyslog rsyslog-gnutls rsyslog-relp systemd-journal-remote kcat
  openssl curl unzip default-jre-headless maven gnuplot-nox procps python3 util-linux
  # fuzzing (libFuzzer)
  clang-14 libclang-rt-14-dev
  # /metrics checks (promtool, and a real Prometheus scraping us); packaging file checks
  prometheus python3-yaml
  # a private Docker engine for the docker_engine tests (scripts/servers/dockerd.sh), busybox for
  # its test containers and the image/plugin rootfs, setcap for the image's file capability
  docker.io busybox-static libcap2-bin
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
