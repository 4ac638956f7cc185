#!/usr/bin/env bash
# A real OpenTelemetry Collector for integration tests: build|start|stop|kill|restart|address.
#
#   otelcol.sh build     build (once, cached) a small collector with the OpenTelemetry Collector
#                        Builder from the Go module proxy: the OTLP receiver, the file and debug
#                        exporters, the file and env config providers, all at one release
#   otelcol.sh start     start a fresh collector (its run dir is wiped): OTLP/HTTP on a free
#                        loopback port, every log record written by the file exporter as OTLP/JSON
#                        (one ExportLogsServiceRequest per line) to RUN/logs.jsonl, unbuffered:
#                        what the receiver answered 200 for is in the file, a kill -9 after it too
#   otelcol.sh stop      SIGTERM (SIGKILL after 30 s)
#   otelcol.sh kill      SIGKILL (a crash); the port and run dir are kept
#   otelcol.sh restart   start it again on the same port, appending to the same output file
#
# Environment:
#   LOGSHIP_CACHE_DIR     build cache (default ~/.cache/logship); the binary is
#                         otelcol-<version>-2/otelcol. Go's own module and build caches are used.
#   LOGSHIP_OTELCOL_DIR   run dir (default /tmp/logship-otelcol-$UID): config, logs, pid, the
#                         file `address` (host:port) tests read, and logs.jsonl
#   LOGSHIP_OTELCOL_TLS_CERT, LOGSHIP_OTELCOL_TLS_KEY   PEM files (outside the run dir): the
#                         receiver serves HTTPS; with LOGSHIP_OTELCOL_TLS_CLIENT_CA it also
#                         requires client certificates signed by that CA
#   LOGSHIP_OTELCOL_EXTRA_CONFIG   a config file merged over the generated one (e.g. an
#                         otlphttp exporter replacing the pipeline's exporters)
set -euo pipefail

VERSION=0.161.0
PROVIDERS=1.67.0   # confmap providers release alongside collector 0.161.0
CACHE="${LOGSHIP_CACHE_DIR:-${HOME:-/tmp}/.cache/logship}"
# The suffix names the component set: a new one rebuilds instead of using a stale binary.
HOME_DIR="$CACHE/otelcol-$VERSION-2"
BIN="$HOME_DIR/otelcol"
RUN="${LOGSHIP_OTELCOL_DIR:-/tmp/logship-otelcol-$(id -u)}"

log() { echo "otelcol.sh: $*" >&2; }

build() {
  [ -x "$BIN" ] && return 0
  # The Go toolchain of this machine kind lives in /usr/local/go (Debian's golang is too old
  # for the Collector); the builder runs `go` from PATH.
  local go_bin="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
  [ -x "$go_bin" ] || { log "go not installed (looked for ${go_bin})"; exit 1; }
  export PATH="$(dirname "$go_bin"):$PATH"
  mkdir -p "$HOME_DIR"
  (
    flock -w 1800 9 || { log "timed out waiting for the build lock"; exit 1; }
    [ -x "$BIN" ] && exit 0
    log "building the OpenTelemetry Collector $VERSION from the Go module proxy (once, ~10 min)"
    local t0=$SECONDS
    GOBIN="$HOME_DIR/tools" "$go_bin" install "go.opentelemetry.io/collector/cmd/builder@v$VERSION"
    local work="$HOME_DIR/build"
    rm -rf "$work"
    mkdir -p "$work"
    cat >"$work/builder.yaml" <<YAML
dist:
  name: otelcol
  description: logship test collector
  output_path: $work/dist
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver v$VERSION
exporters:
  - gomod: go.opentelemetry.io/collector/exporter/debugexporter v$VERSION
  - gomod: go.opentelemetry.io/collector/exporter/otlphttpexporter v$VERSION
  - gomod: github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter v$VERSION
providers:
  - gomod: go.opentelemetry.io/collector/confmap/provider/fileprovider v$PROVIDERS
  - gomod: go.opentelemetry.io/collector/confmap/provider/envprovider v$PROVIDERS
YAML
    "$HOME_DIR/tools/builder" --config "$work/builder.yaml" >"$HOME_DIR/build.log" 2>&1 || {
      log "builder failed (see $HOME_DIR/build.log):"
      tail -n 20 "$HOME_DIR/build.log" >&2
      exit 1
    }
    mv "$work/dist/otelcol" "$BIN.tmp"
    mv "$BIN.tmp" "$BIN"
    rm -rf "$work"
    log "built $BIN in $((SECONDS - t0)) s"
  ) 9>"$HOME_DIR.lock"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

running() { [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; }

launch() {
  local extra=()
  if [ -n "${LOGSHIP_OTELCOL_EXTRA_CONFIG:-}" ]; then
    extra=(--config "file:$LOGSHIP_OTELCOL_EXTRA_CONFIG")
  fi
  setsid "$BIN" --config "file:$RUN/config.yaml" "${extra[@]}" >>"$RUN/otelcol.log" 2>&1 </dev/null &
  echo $! >"$RUN/pid"
  local port deadline=$((SECONDS + 60))
  port="$(cat "$RUN/port")"
  until python3 - "$port" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
PY
  do
    if ! running || [ $SECONDS -ge $deadline ]; then
      log "collector did not start; its log:"
      tail -n 30 "$RUN/otelcol.log" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}

start() {
  build
  if running; then kill -TERM "$(cat "$RUN/pid")" 2>/dev/null || true; sleep 1; fi
  rm -rf "$RUN"
  mkdir -p "$RUN"
  local port
  port="$(free_port)"
  echo "$port" >"$RUN/port"
  local tls=""
  if [ -n "${LOGSHIP_OTELCOL_TLS_CERT:-}" ]; then
    tls="        tls:
          cert_file: $LOGSHIP_OTELCOL_TLS_CERT
          key_file: $LOGSHIP_OTELCOL_TLS_KEY"
    if [ -n "${LOGSHIP_OTELCOL_TLS_CLIENT_CA:-}" ]; then
      tls="$tls
          client_ca_file: $LOGSHIP_OTELCOL_TLS_CLIENT_CA"
    fi
  fi
  cat >"$RUN/config.yaml" <<YAML
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:$port
$tls
exporters:
  file:
    path: $RUN/logs.jsonl
    # With rotation the exporter writes each request straight to the file (without it, through
    # a buffer flushed on a timer that a kill -9 loses after the receiver answered 200) and
    # appends to it after a restart instead of truncating it. 4 GiB: never rotates in a test.
    rotation:
      max_megabytes: 4096
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file]
YAML
  launch
  echo "127.0.0.1:$port" >"$RUN/address"
  log "running on 127.0.0.1:$port, records in $RUN/logs.jsonl"
}

terminate() {
  running || return 0
  local pid
  pid="$(cat "$RUN/pid")"
  kill "-$1" "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
  build) build ;;
  start) start ;;
  stop) terminate TERM ;;
  kill) terminate KILL ;;
  restart) launch ;;
  address) cat "$RUN/address" ;;
  *) echo "usage: $0 build|start|stop|kill|restart|address" >&2; exit 2 ;;
esac
