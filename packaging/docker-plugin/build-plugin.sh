#!/usr/bin/env bash
# Builds the logship Docker log-driver plugin (managed, v2) and registers it with the local engine.
#
#   packaging/docker-plugin/build-plugin.sh [--name NAME] [--binary PATH] [--no-network] [--enable]
#   packaging/docker-plugin/build-plugin.sh --print-packages [--binary PATH]
#
# Steps: find the Debian packages of the binary's shared libraries; `docker build` a
# bookworm-slim image with them, the binary and plugin.yaml; export that image's filesystem as
# <workdir>/plugin/rootfs; copy config.json beside it; `docker plugin create NAME <workdir>/plugin`.
# Needs docker, tar and (for --no-network) python3. Run as a user allowed to use the engine.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
name="logship"
binary="$repo/build/daemon/logship"
network=1
enable=0
print_packages=0

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --no-network) network=0; shift ;;
    --enable) enable=1; shift ;;
    --print-packages) print_packages=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "build-plugin.sh: unknown argument $1" >&2; usage 2 ;;
  esac
done

[ -x "$binary" ] || { echo "build-plugin.sh: $binary is not an executable (build logship first)" >&2; exit 1; }

# Debian package of every shared library the binary loads (merged /usr: dpkg may know a library
# under /lib or /usr/lib, so try both spellings of its real path).
runtime_packages() {
  local lib real pkg
  ldd "$binary" | awk '/=> \//{print $3}' | while read -r lib; do
    real="$(readlink -f "$lib")"
    pkg="$(dpkg -S "$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null || true)"
    [ -n "$pkg" ] || { echo "build-plugin.sh: no Debian package owns $real" >&2; exit 1; }
    echo "${pkg%%:*}"
  done | sort -u
}

packages="$(runtime_packages | tr '\n' ' ')"
if [ "$print_packages" = 1 ]; then
  echo "$packages"
  exit 0
fi

command -v docker >/dev/null || { echo "build-plugin.sh: docker not found" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$binary" "$work/logship"
cp "$here/plugin.yaml" "$here/Dockerfile" "$work/"

image="logship-plugin-rootfs:build"
docker build --build-arg "RUNTIME_PACKAGES=$packages" -t "$image" "$work"
container="$(docker create "$image" /bin/true)"
mkdir -p "$work/plugin/rootfs"
docker export "$container" | tar -x -C "$work/plugin/rootfs"
docker rm "$container" >/dev/null
docker rmi "$image" >/dev/null

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

docker plugin rm --force "$name" >/dev/null 2>&1 || true
docker plugin create "$name" "$work/plugin"
echo "created plugin $name; the host directory of its data mount must exist:"
echo "  mkdir -p /var/lib/logship-plugin && docker plugin enable $name"
if [ "$enable" = 1 ]; then
  mkdir -p /var/lib/logship-plugin
  docker plugin enable "$name"
fi
