#!/usr/bin/env bash
# A real single-node OpenSearch for integration tests: start|stop|address.
#
#   opensearch.sh start     fetch (once) and start a fresh node (its run dir is wiped)
#   opensearch.sh stop      SIGTERM (SIGKILL after 30 s) and wait for the exit
#   opensearch.sh pause     SIGSTOP the node: connections are accepted by the kernel but
#                           never answered (clients see timeouts); resume with `resume`
#   opensearch.sh resume    SIGCONT a paused node
#   opensearch.sh kill      SIGKILL the node (a crash); data, config and port are kept
#   opensearch.sh restart   start the node again on the kept data dir and port
#
# Downloads the OpenSearch integ-test-zip distribution (no security plugin: plain HTTP) from
# Maven Central once into the cache dir, unzips it once, and runs it with the installed JDK on
# 127.0.0.1 with free ports and a small heap. OpenSearch refuses to run as root, so as root the
# node runs as the system user logship-test.
#
# Environment:
#   LOGSHIP_CACHE_DIR        download/unzip cache (default ~/.cache/logship)
#   LOGSHIP_OPENSEARCH_DIR   run dir: data, logs, config, pid, and the file `address`
#                            (host:port) tests read (default /tmp/logship-opensearch)
#   LOGSHIP_OPENSEARCH_VERSION   a 2.x version served by Maven Central (default 2.19.6)
#   LOGSHIP_OPENSEARCH_SETTINGS  extra node settings as space-separated key=value pairs, e.g.
#                            "thread_pool.write.size=1 thread_pool.write.queue_size=1"
set -euo pipefail

VERSION="${LOGSHIP_OPENSEARCH_VERSION:-2.19.6}"
CACHE="${LOGSHIP_CACHE_DIR:-$HOME/.cache/logship}"
RUN="${LOGSHIP_OPENSEARCH_DIR:-/tmp/logship-opensearch}"
USER_NAME=logship-test
BASE_URL="https://repo.maven.apache.org/maven2/org/opensearch/distribution/integ-test-zip/opensearch"
START_TIMEOUT=${LOGSHIP_OPENSEARCH_START_TIMEOUT:-240}

log() { echo "opensearch.sh: $*" >&2; }

# Two fixtures (the normal and the tiny node) start at once on a fresh machine: one downloads and
# unpacks while the other waits on the lock, then finds the finished copy.
fetch() {
  mkdir -p "$CACHE"
  (
    flock -w 1200 9 || { log "timed out waiting for $CACHE/opensearch-$VERSION.lock"; exit 1; }
    fetch_unlocked
  ) 9>"$CACHE/opensearch-$VERSION.lock"
}

fetch_unlocked() {
  local zip="$CACHE/opensearch-$VERSION.zip"
  local home="$CACHE/opensearch-$VERSION"
  mkdir -p "$CACHE"
  if [ ! -f "$zip" ]; then
    log "downloading opensearch $VERSION integ-test-zip"
    curl -fsSL --retry 3 --max-time 900 -o "$zip.tmp" "$BASE_URL/$VERSION/opensearch-$VERSION.zip"
    local want
    want=$(curl -fsSL --retry 3 --max-time 60 "$BASE_URL/$VERSION/opensearch-$VERSION.zip.sha1" |
           awk '{print $1}')
    local got
    got=$(sha1sum "$zip.tmp" | awk '{print $1}')
    if [ "$want" != "$got" ]; then
      rm -f "$zip.tmp"
      log "checksum mismatch (want $want, got $got)"
      exit 1
    fi
    mv "$zip.tmp" "$zip"
  fi
  if [ ! -x "$home/bin/opensearch" ]; then
    rm -rf "$home.tmp"
    mkdir -p "$home.tmp"
    unzip -q "$zip" -d "$home.tmp"
    local top
    top=$(find "$home.tmp" -mindepth 1 -maxdepth 1 -type d | head -1)
    rm -rf "$home"
    mv "$top" "$home"
    rm -rf "$home.tmp"
  fi
  echo "$home"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

as_node_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$USER_NAME" -- "$@"
  else
    "$@"
  fi
}

start() {
  if [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; then
    log "already running: $(cat "$RUN/address")"
    return 0
  fi
  local dist
  dist=$(fetch)
  if [ "$(id -u)" -eq 0 ] && ! id "$USER_NAME" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
  fi
  rm -rf "$RUN"
  mkdir -p "$RUN/data" "$RUN/logs"
  local home="$dist"
  # The cache may sit under a home directory the node user cannot enter: then run a copy.
  if ! as_node_user test -r "$dist/lib" -a -x "$dist/bin/opensearch" 2>/dev/null; then
    cp -a "$dist" "$RUN/home"
    home="$RUN/home"
  fi
  cp -a "$home/config" "$RUN/config"
  local http_port transport_port
  http_port=$(free_port)
  transport_port=$(free_port)
  cat >"$RUN/config/opensearch.yml" <<EOF
cluster.name: logship-test
node.name: node-1
network.host: 127.0.0.1
http.port: $http_port
transport.port: $transport_port
discovery.type: single-node
path.data: $RUN/data
path.logs: $RUN/logs
action.auto_create_index: true
cluster.routing.allocation.disk.threshold_enabled: false
EOF
  local kv
  for kv in ${LOGSHIP_OPENSEARCH_SETTINGS:-}; do
    echo "${kv%%=*}: ${kv#*=}" >>"$RUN/config/opensearch.yml"
  done
  if [ "$(id -u)" -eq 0 ]; then chown -R "$USER_NAME" "$RUN"; fi
  echo "$home" >"$RUN/home_path"
  echo "$http_port" >"$RUN/http_port"
  launch
  echo "127.0.0.1:$http_port" >"$RUN/address"
  log "running at 127.0.0.1:$http_port (opensearch $VERSION)"
}

# Runs the node configured in $RUN and waits until it is healthy.
launch() {
  local home http_port
  home=$(cat "$RUN/home_path")
  http_port=$(cat "$RUN/http_port")
  local java_home
  java_home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
  as_node_user env OPENSEARCH_JAVA_HOME="$java_home" JAVA_HOME="$java_home" \
    OPENSEARCH_PATH_CONF="$RUN/config" OPENSEARCH_JAVA_OPTS="-Xms512m -Xmx512m" \
    "$home/bin/opensearch" -d -p "$RUN/pid" >"$RUN/start.out" 2>&1 || {
      log "start failed"; cat "$RUN/start.out" >&2; exit 1; }
  local deadline=$((SECONDS + START_TIMEOUT))
  until curl -fsS --max-time 5 \
      "http://127.0.0.1:$http_port/_cluster/health?wait_for_status=yellow&timeout=5s" \
      >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "not healthy after ${START_TIMEOUT}s"
      tail -50 "$RUN/logs/logship-test.log" >&2 || true
      stop
      exit 1
    fi
    if [ -f "$RUN/pid" ] && ! kill -0 "$(cat "$RUN/pid")" 2>/dev/null; then
      log "node exited"
      tail -50 "$RUN/logs/logship-test.log" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
}

# A restart on the same data dir and port (after kill or stop).
restart() {
  [ -f "$RUN/http_port" ] || { log "no node was started in $RUN"; exit 1; }
  if [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; then
    log "already running"
    return 0
  fi
  rm -f "$RUN/pid"
  launch
  echo "127.0.0.1:$(cat "$RUN/http_port")" >"$RUN/address"
  log "restarted at $(cat "$RUN/address")"
}

signal_node() {
  [ -f "$RUN/pid" ] || { log "not running"; exit 1; }
  kill "-$1" "$(cat "$RUN/pid")"
}

kill_node() {
  [ -f "$RUN/pid" ] || return 0
  local pid
  pid=$(cat "$RUN/pid")
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$RUN/pid"
}

stop() {
  [ -f "$RUN/pid" ] || return 0
  local pid
  pid=$(cat "$RUN/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    kill -CONT "$pid" 2>/dev/null || true   # a paused node acts on SIGTERM only once resumed
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
      done
    fi
  fi
  rm -f "$RUN/pid" "$RUN/address"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  fetch) fetch >/dev/null ;;
  restart) restart ;;
  pause) signal_node STOP ;;
  resume) signal_node CONT ;;
  kill) kill_node ;;
  address) cat "$RUN/address" ;;
  *) echo "usage: $0 start|stop|restart|pause|resume|kill|fetch|address" >&2; exit 2 ;;
esac
