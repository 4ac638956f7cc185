#!/usr/bin/env bash
# Builds the logship container image with no registry and no network: a root filesystem of the
# built binary and the shared libraries it loads (packaging/rootfs.sh), the image's config, the
# file capability cap_dac_read_search=p on the binary, volumes owned by uid 10001, then
# `docker build` of packaging/docker/Dockerfile (FROM scratch) on it.
#
#   packaging/docker/build-image.sh [--binary PATH] [--tag TAG]
#
# Needs docker, tar and setcap (libcap2-bin). DOCKER names the docker client (default: docker).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
binary="$repo/build/daemon/logship"
tag="logship:0.1.0"
DOCKER="${DOCKER:-docker}"

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v setcap >/dev/null || { echo "build-image.sh: setcap not found (libcap2-bin)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
bash "$repo/packaging/rootfs.sh" --binary "$binary" --dest "$rootfs" --busybox \
  --config "$here/logship.yaml:/etc/logship/logship.yaml"
setcap cap_dac_read_search=p "$rootfs/usr/bin/logship"
chown 10001:10001 "$rootfs/var/lib/logship" "$rootfs/var/log/logship"
chmod 0750 "$rootfs/var/lib/logship" "$rootfs/var/log/logship"
# No setuid/setgid file may exist in the image.
if [ -n "$(find "$rootfs" -xdev -type f -perm /6000 -print -quit)" ]; then
  echo "build-image.sh: setuid/setgid files in the rootfs" >&2
  exit 1
fi
"$rootfs/usr/bin/logship" validate -c "$rootfs/etc/logship/logship.yaml" >/dev/null
tar --xattrs --xattrs-include='security.capability' --numeric-owner -C "$rootfs" \
  -cf "$work/rootfs.tar" .
cp "$here/Dockerfile" "$work/Dockerfile"
"$DOCKER" build -q -t "$tag" "$work"
