#!/usr/bin/env bash
# Builds the Debian package of logship from a built binary:
#
#   scripts/package.sh [--binary build/daemon/logship] [--out DIR]
#
# Writes DIR/logship_<version>_<arch>.deb (default DIR: build/package) and prints its path.
# Runtime Depends: come from the binary's own libraries (dpkg-shlibdeps), never the build or
# test toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
BINARY=build/daemon/logship
OUT=build/package
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BINARY="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "usage: $0 [--binary PATH] [--out DIR]" >&2; exit 2 ;;
  esac
done
[ -x "$BINARY" ] || { echo "package.sh: no binary at $BINARY (run scripts/build.sh)" >&2; exit 1; }

VERSION="$("$BINARY" version | awk '{print $2}')"
ARCH="$(dpkg --print-architecture)"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
ROOT="$STAGE/root"

install -D -m 0755 "$BINARY" "$ROOT/usr/bin/logship"
strip --strip-unneeded "$ROOT/usr/bin/logship"
install -D -m 0644 config/default.yaml "$ROOT/etc/logship/logship.yaml"
# Pieces merged into logship.yaml in name order (other packages and tools drop theirs here).
install -d -m 0755 "$ROOT/etc/logship/conf.d"
# The packaged unit runs /usr/bin/logship; the rest of the hardening is the shipped unit's.
install -d "$ROOT/lib/systemd/system"
sed 's|/usr/local/bin/logship|/usr/bin/logship|' packaging/systemd/logship.service \
  > "$ROOT/lib/systemd/system/logship.service"
chmod 0644 "$ROOT/lib/systemd/system/logship.service"
install -d "$ROOT/usr/share/doc/logship/examples"
install -m 0644 packaging/examples/*.yaml "$ROOT/usr/share/doc/logship/examples/"
install -m 0644 README.md "$ROOT/usr/share/doc/logship/README.md"
gzip -9n "$ROOT/usr/share/doc/logship/README.md"

# dpkg-shlibdeps wants a debian/control to read; a minimal one in the staging dir serves.
mkdir -p "$STAGE/src/debian"
printf 'Source: logship\n\nPackage: logship\nArchitecture: any\n' > "$STAGE/src/debian/control"
DEPENDS="$(cd "$STAGE/src" && dpkg-shlibdeps -O "$ROOT/usr/bin/logship" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')"
[ -n "$DEPENDS" ] || { echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

install -d "$ROOT/DEBIAN"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$ROOT/DEBIAN/"
echo /etc/logship/logship.yaml > "$ROOT/DEBIAN/conffiles"
SIZE="$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)"
cat > "$ROOT/DEBIAN/control" <<CONTROL
Package: logship
Version: $VERSION
Architecture: $ARCH
Maintainer: logship developers <dev@logship.invalid>
Installed-Size: $SIZE
Depends: $DEPENDS, adduser
Section: admin
Priority: optional
Homepage: https://github.com/logship/logship
Description: log collection and rotation daemon for Docker hosts
 Reads every container's logs (json-file, CRI, journald, the Docker log-driver
 plugin, syslog), parses and enriches them, and delivers them to Elasticsearch/
 OpenSearch, Kafka, syslog or rotated local archives without losing a line:
 positions are checkpointed only after delivery.
CONTROL

mkdir -p "$OUT"
DEB="$OUT/logship_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$DEB" >/dev/null
echo "$DEB"
