#!/usr/bin/env bash
# A private Docker engine for integration tests: start|stop|address|env.
#
#   dockerd.sh start     start a fresh dockerd (its run dir is wiped) and import the test image
#   dockerd.sh stop      remove every container and plugin, SIGTERM dockerd, wait, wipe the dir
#   dockerd.sh restart-engine   SIGTERM dockerd and start it again on the same data
#   dockerd.sh address   print the engine's DOCKER_HOST (unix://DIR/docker.sock)
#
# The engine is Debian 12's docker.io (dockerd 20.10 + containerd + runc), run as root with its
# own data root, exec root and socket, no bridge, no iptables: it touches nothing else on the
# host, and containers run with --network none. No registry is needed: the test image
# `logship-test/busybox:1` is Debian's static busybox (busybox-static) with links for the
# commands tests use, made with `docker import`.
#
# Environment:
#   LOGSHIP_DOCKERD_DIR   run dir (default /tmp/logship-dockerd-$UID). Kept short: dockerd and
#                         containerd put unix sockets under it (108-byte limit).
#   LOGSHIP_DOCKERD_ARGS  extra dockerd flags (e.g. --live-restore)
#
# By hand:   sudo scripts/servers/dockerd.sh start
#            export DOCKER_HOST=$(scripts/servers/dockerd.sh address)
#            docker run --rm --network none logship-test/busybox:1 seq 3
set -euo pipefail

RUN="${LOGSHIP_DOCKERD_DIR:-/tmp/logship-dockerd-$(id -u)}"
IMAGE="logship-test/busybox:1"
START_TIMEOUT=${LOGSHIP_DOCKERD_START_TIMEOUT:-60}
# Debian's client talks to dockerd 20.10; a newer client elsewhere on PATH may refuse its API.
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=docker

log() { echo "dockerd.sh: $*" >&2; }
dk() { DOCKER_HOST="unix://$RUN/docker.sock" "$DOCKER" "$@"; }

running() { [ -f "$RUN/dockerd.pid" ] && kill -0 "$(cat "$RUN/dockerd.pid")" 2>/dev/null; }

import_test_image() {
  local root="$RUN/busybox-rootfs"
  rm -rf "$root"
  mkdir -p "$root/bin" "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  local c
  for c in sh echo printf seq sleep cat head yes tr dd true false kill trap wc; do
    ln -sf busybox "$root/bin/$c"
  done
  tar -C "$root" -c . | dk import - "$IMAGE" >/dev/null
  rm -rf "$root"
}

launch() {
  mkdir -p "$RUN/root" "$RUN/exec"
  # setsid: the engine outlives this script (a ctest fixture) and gets no terminal signals.
  setsid dockerd --iptables=false --ip-masq=false --bridge=none \
    --data-root "$RUN/root" --exec-root "$RUN/exec" \
    -H "unix://$RUN/docker.sock" --pidfile "$RUN/dockerd.pid" \
    ${LOGSHIP_DOCKERD_ARGS:-} >>"$RUN/dockerd.log" 2>&1 </dev/null &
  local deadline=$((SECONDS + START_TIMEOUT))
  until dk version >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "dockerd did not answer within ${START_TIMEOUT}s; its log:"
      tail -n 30 "$RUN/dockerd.log" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}

start() {
  if running; then
    log "already running: unix://$RUN/docker.sock"
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || { log "must run as root (dockerd)"; exit 1; }
  command -v dockerd >/dev/null || { log "dockerd not installed (apt-get install docker.io)"; exit 1; }
  [ -x /bin/busybox ] || { log "busybox-static not installed"; exit 1; }
  cleanup_dir
  launch
  import_test_image
  echo "unix://$RUN/docker.sock" >"$RUN/address"
  log "running: unix://$RUN/docker.sock ($(dk version --format '{{.Server.Version}}'))"
}

# Stops the engine (SIGTERM, as systemd would) and starts it again on the same data root.
terminate() {
  local pid
  pid="$(cat "$RUN/dockerd.pid")"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  log "dockerd did not stop in 30s; SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 1
}

restart_engine() {
  running || { log "not running"; exit 1; }
  terminate
  launch
}

# Unmounts whatever a killed engine left behind, then removes the directory.
cleanup_dir() {
  [ -d "$RUN" ] || return 0
  local m
  awk -v r="$RUN" 'index($2, r) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$RUN"
}

stop() {
  if running; then
    local ids
    ids="$(dk ps -aq 2>/dev/null || true)"
    [ -z "$ids" ] || dk rm -f $ids >/dev/null 2>&1 || true
    for p in $(dk plugin ls -q 2>/dev/null || true); do
      dk plugin disable -f "$p" >/dev/null 2>&1 || true
      dk plugin rm -f "$p" >/dev/null 2>&1 || true
    done
    terminate
  fi
  # containerd-shim processes of containers the engine lost track of
  pkill -f "containerd-shim.*$RUN" 2>/dev/null || true
  cleanup_dir
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart-engine) restart_engine ;;
  address) echo "unix://$RUN/docker.sock" ;;
  *) echo "usage: $0 start|stop|address" >&2; exit 2 ;;
esac
