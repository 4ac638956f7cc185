#!/usr/bin/env bash
# Builds the logship Docker log-driver plugin (managed, v2) and registers it with the local engine.
# Needs no registry and no network: the plugin's rootfs is made from the built binary and the
# shared libraries it loads (packaging/rootfs.sh), plus busybox's sh for the entrypoint.
#
#   packaging/docker-plugin/build-plugin.sh [--name NAME] [--binary PATH] [--no-network] [--enable]
#                                            [--keep DIR]
#   packaging/docker-plugin/build-plugin.sh --print-packages [--binary PATH]
#
# --keep DIR leaves the plugin directory (config.json + rootfs/) in DIR instead of a temp dir.
# Needs docker and python3 (for --no-network). Run as a user allowed to use the engine.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
name="logship"
binary="$repo/build/daemon/logship"
network=1
enable=0
print_packages=0
keep=""

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --no-network) network=0; shift ;;
    --enable) enable=1; shift ;;
    --keep) keep="$2"; shift 2 ;;
    --print-packages) print_packages=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "build-plugin.sh: unknown argument $1" >&2; usage 2 ;;
  esac
done

[ -x "$binary" ] || { echo "build-plugin.sh: $binary is not an executable (build logship first)" >&2; exit 1; }

# The Debian packages of the binary's shared libraries (what a host needs to run the binary).
runtime_packages() {
  local lib real pkg
  ldd "$binary" | awk '/=> \//{print $3}' | while read -r lib; do
    real="$(readlink -f "$lib")"
    pkg="$(dpkg -S "$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null || true)"
    [ -n "$pkg" ] || { echo "build-plugin.sh: no Debian package owns $real" >&2; exit 1; }
    echo "${pkg%%:*}"
  done | sort -u
}

if [ "$print_packages" = 1 ]; then
  runtime_packages | tr '\n' ' '
  echo
  exit 0
fi

DOCKER="${DOCKER:-docker}"
command -v "$DOCKER" >/dev/null || { echo "build-plugin.sh: $DOCKER not found" >&2; exit 1; }

if [ -n "$keep" ]; then
  work="$keep"
  rm -rf "$work"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
bash "$repo/packaging/rootfs.sh" --binary "$binary" --dest "$work/plugin/rootfs" --busybox \
  --config "$here/plugin.yaml:/etc/logship/plugin.yaml"
# The engine bind-mounts the plugin's socket directory here.
mkdir -p "$work/plugin/rootfs/run/docker/plugins"

if [ "$network" = 1 ]; then
  cp "$here/config.json" "$work/plugin/config.json"
else
  # File outputs only: no host network for the plugin.
  python3 - "$here/config.json" "$work/plugin/config.json" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg.pop("network", None)
json.dump(cfg, open(sys.argv[2], "w"), indent=2)
PY
fi

"$DOCKER" plugin rm --force "$name" >/dev/null 2>&1 || true
"$DOCKER" plugin create "$name" "$work/plugin"
echo "created plugin $name; the host directory of its data mount must exist:"
echo "  mkdir -p /var/lib/logship-plugin && docker plugin enable $name"
if [ "$enable" = 1 ]; then
  mkdir -p /var/lib/logship-plugin
  "$DOCKER" plugin enable "$name"
fi
