#!/usr/bin/env bash
# The tools that check the Kubernetes packaging without a cluster: build|helm|validate.
#
#   k8s-tools.sh build      build (once, cached) helm and tests/tools/k8s-validate from the Go
#                           module proxy; safe when two start at once (one flock per tool)
#   k8s-tools.sh helm       print the path of the helm binary
#   k8s-tools.sh validate   print the path of the k8s-validate binary
#
# Environment:
#   LOGSHIP_CACHE_DIR   build cache (default ~/.cache/logship): helm-<version>/helm and
#                       k8s-validate-<hash of its source>/k8s-validate. Go's own module and build
#                       caches are used.
set -euo pipefail

HELM_VERSION=4.3.2
SRC="$(cd "$(dirname "$0")/../.." && pwd)/tests/tools/k8s-validate"
CACHE="${LOGSHIP_CACHE_DIR:-${HOME:-/tmp}/.cache/logship}"
HELM_DIR="$CACHE/helm-$HELM_VERSION"
HELM_BIN="$HELM_DIR/helm"
# The validator's source is the project's: a changed source builds a new binary.
VALIDATE_HASH="$(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC"/*.go | sha256sum | cut -c1-12)"
VALIDATE_DIR="$CACHE/k8s-validate-$VALIDATE_HASH"
VALIDATE_BIN="$VALIDATE_DIR/k8s-validate"

log() { echo "k8s-tools.sh: $*" >&2; }

go_bin() {
  local go="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
  [ -x "$go" ] || { log "go not installed (looked for ${go})"; exit 1; }
  echo "$go"
}

# locked_build DIR BIN DESCRIPTION COMMAND...: run COMMAND (which writes BIN.tmp) under DIR.lock
# unless BIN exists, then move BIN.tmp into place, so a reader never sees half a binary.
locked_build() {
  local dir="$1" bin="$2" what="$3"
  shift 3
  [ -x "$bin" ] && return 0
  mkdir -p "$dir"
  (
    flock -w 1800 9 || { log "timed out waiting for the $what build lock"; exit 1; }
    [ -x "$bin" ] && exit 0
    log "building $what from the Go module proxy (once)"
    local t0=$SECONDS
    "$@" >"$dir/build.log" 2>&1 || {
      log "$what build failed (see $dir/build.log):"
      tail -n 20 "$dir/build.log" >&2
      exit 1
    }
    mv "$bin.tmp" "$bin"
    log "built $bin in $((SECONDS - t0)) s"
  ) 9>"$dir.lock"
}

build_helm() {
  local go
  go="$(go_bin)"
  # go install has no output name: install into a private GOBIN, then rename.
  locked_build "$HELM_DIR" "$HELM_BIN" "helm $HELM_VERSION" bash -c \
    "GOBIN='$HELM_DIR/gobin' '$go' install 'helm.sh/helm/v4/cmd/helm@v$HELM_VERSION' &&
     mv '$HELM_DIR/gobin/helm' '$HELM_BIN.tmp' && rm -rf '$HELM_DIR/gobin'"
}

build_validate() {
  local go
  go="$(go_bin)"
  # -mod=readonly: go.sum pins every module; a build never edits the source tree.
  locked_build "$VALIDATE_DIR" "$VALIDATE_BIN" "k8s-validate" bash -c \
    "cd '$SRC' && '$go' build -mod=readonly -trimpath -o '$VALIDATE_BIN.tmp' ."
}

case "${1:-}" in
  build) build_helm; build_validate ;;
  helm) build_helm; echo "$HELM_BIN" ;;
  validate) build_validate; echo "$VALIDATE_BIN" ;;
  *) echo "usage: $0 build|helm|validate" >&2; exit 2 ;;
esac
