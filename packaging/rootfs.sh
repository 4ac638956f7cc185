#!/usr/bin/env bash
# Makes a minimal root filesystem for logship from a built binary, with no base image and no
# network: the binary, exactly the shared libraries `ldd` names (and the dynamic loader), CA
# certificates for TLS outputs, and passwd/group entries for root and logship (uid 10001).
# The container image (packaging/docker/build-image.sh) and the Docker log-driver plugin
# (packaging/docker-plugin/build-plugin.sh) are both made from it.
#
#   packaging/rootfs.sh --binary PATH --dest DIR [--busybox] [--config FILE:PATH_IN_ROOTFS]...
#
#   --busybox   add Debian's static busybox as /bin/busybox with links sh and wget (the plugin's
#               entrypoint needs a shell; the image's HEALTHCHECK asks /health with wget)
set -euo pipefail

binary=""
dest=""
busybox=0
configs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --dest) dest="$2"; shift 2 ;;
    --busybox) busybox=1; shift ;;
    --config) configs+=("$2"); shift 2 ;;
    *) echo "rootfs.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$binary" ] || { echo "rootfs.sh: --binary $binary is not an executable" >&2; exit 1; }
[ -n "$dest" ] || { echo "rootfs.sh: --dest is required" >&2; exit 2; }

mkdir -p "$dest"/{usr/bin,etc/logship,etc/ssl/certs,var/lib/logship,var/log/logship,tmp,run}
chmod 1777 "$dest/tmp"
install -m 0755 "$binary" "$dest/usr/bin/logship"
# Debug info stays with the build; the image carries only what runs.
strip --strip-unneeded "$dest/usr/bin/logship"

# Every library at the path the loader will look for it (ldd prints it), the loader too.
ldd "$binary" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | sort -u | while read -r lib; do
  mkdir -p "$dest$(dirname "$lib")"
  cp -L "$lib" "$dest$lib"
done
if ldd "$binary" | grep -q "not found"; then
  echo "rootfs.sh: $binary has unresolved libraries:" >&2
  ldd "$binary" | grep "not found" >&2
  exit 1
fi

if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$dest/etc/ssl/certs/ca-certificates.crt"
fi
printf 'root:x:0:0:root:/root:/sbin/nologin\nlogship:x:10001:10001:logship:/var/lib/logship:/sbin/nologin\n' \
  >"$dest/etc/passwd"
printf 'root:x:0:\nlogship:x:10001:\n' >"$dest/etc/group"

if [ "$busybox" = 1 ]; then
  [ -x /bin/busybox ] || { echo "rootfs.sh: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }
  file -L /bin/busybox 2>/dev/null | grep -q "statically linked" ||
    ldd /bin/busybox 2>&1 | grep -q "not a dynamic executable" ||
    { echo "rootfs.sh: /bin/busybox is not static (install busybox-static)" >&2; exit 1; }
  mkdir -p "$dest/bin"
  cp /bin/busybox "$dest/bin/busybox"
  ln -sf busybox "$dest/bin/sh"
  ln -sf busybox "$dest/bin/wget"
fi

for c in "${configs[@]}"; do
  src="${c%%:*}"
  to="${c#*:}"
  mkdir -p "$dest$(dirname "$to")"
  install -m 0644 "$src" "$dest$to"
done
