#!/usr/bin/env bash
# Builds a Filebeat binary from the Go module proxy, for `logship_bench.py --peer filebeat=PATH`.
# Not part of the build, the tests or CI: the peer is not part of the project.
#
#   bash bench/peers/build-filebeat.sh            # prints the binary's path on its last line
#   BEATS_VERSION=v7.17.28 bash bench/peers/build-filebeat.sh
#
# Idempotent: the binary is cached as ~/.cache/logship/peers/filebeat-<version> and not rebuilt.
#
# Why a temp module: `go install module/pkg@version` refuses a module whose go.mod has replace
# directives, and beats has several (forks of sarama, docker, fsnotify, ...). A throwaway module
# that requires beats and carries the same replace/exclude lines builds the same dependency set.
#
# Why 7.17.x: the proxy here serves exact release versions of github.com/elastic/beats/v7 only
# (v7.17.29 is the newest it answers); 8.x releases are tagged v8.* on a /v7 module path, so they
# are reachable only as pseudo-versions, which this proxy refuses (403), as it refuses @latest
# and the version list.
set -euo pipefail

version="${BEATS_VERSION:-v7.17.29}"
go_bin="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/logship/peers"
out="$cache/filebeat-$version"

if [[ -x "$out" ]]; then
  echo "$out"
  exit 0
fi
mkdir -p "$cache"
work="$cache/build-filebeat-$version"
mkdir -p "$work"
cd "$work"

# beats' own go.mod gives the replace and exclude blocks to copy.
"$go_bin" mod download -json "github.com/elastic/beats/v7@$version" > download.json
beats_mod="$(python3 -c 'import json,sys; print(json.load(open("download.json"))["GoMod"])')"

{
  echo "module logship.invalid/filebeat-peer"
  echo
  echo "go $(awk '$1 == "go" {print $2; exit}' "$beats_mod")"
  echo
  echo "require github.com/elastic/beats/v7 $version"
  echo
  # Copy every replace/exclude directive (block or single-line form) verbatim.
  awk '
    /^(replace|exclude)[ \t]*\($/ { inblock = 1; print; next }
    inblock { print; if ($0 ~ /^\)/) { inblock = 0; print "" } next }
    /^(replace|exclude)[ \t]/ { print }
  ' "$beats_mod"
} > go.mod

cat > main.go <<'GO'
// Filebeat's own main, so the build does not depend on a package path inside beats.
package main

import (
	"os"

	"github.com/elastic/beats/v7/filebeat/cmd"
	inputs "github.com/elastic/beats/v7/filebeat/input/default-inputs"
)

func main() {
	if err := cmd.Filebeat(inputs.Init, cmd.FilebeatSettings()).Execute(); err != nil {
		os.Exit(1)
	}
}
GO

# The resolution step reads the whole graph; -p 1 and GOMAXPROCS=1 keep the shared 2-core
# machine usable (the build takes a while that way).
export GOFLAGS="-mod=mod"
export CGO_ENABLED="${CGO_ENABLED:-0}"
"$go_bin" mod tidy -e >tidy.log 2>&1 || { cat tidy.log >&2; exit 1; }
GOMAXPROCS="${GOMAXPROCS:-1}" "$go_bin" build -p "${BUILD_PARALLEL:-1}" -trimpath \
  -ldflags "-s -w" -o "$out.tmp" . 2>&1 | tee build.log >&2
mv "$out.tmp" "$out"
"$out" version >&2 || true
echo "$out"
