#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, combined broker+controller) on 127.0.0.1 for tests.
#
#   kafka.sh start STATE_DIR   fetch (once) + format + start; writes STATE_DIR/bootstrap
#   kafka.sh stop STATE_DIR    stop the broker (or mock cluster) and wait for it to exit
#   kafka.sh pause STATE_DIR   stop the broker but keep its data and port (restart with start)
#   kafka.sh kill STATE_DIR    SIGKILL the broker (a crash); data and port kept for start
#                              (on the mock: its broker goes down until the next start)
#
# The jars come from Maven Central through `mvn dependency:copy-dependencies` into
# ${LOGSHIP_CACHE_DIR:-$HOME/.cache/logship}/kafka-<version>/lib; later runs reuse them.
# STATE_DIR/mode says what runs: "kafka" or, when Maven Central cannot be reached, "mock"
# (librdkafka's mock cluster served by the kafka_mock_cluster test tool, path in
# $LOGSHIP_KAFKA_MOCK_BIN). Tests read the mode and say loudly when they run on the mock.
set -euo pipefail

KAFKA_VERSION="${LOGSHIP_KAFKA_VERSION:-4.1.1}"
CACHE_DIR="${LOGSHIP_CACHE_DIR:-${HOME:-/tmp}/.cache/logship}"
KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
READY_TIMEOUT="${LOGSHIP_KAFKA_READY_TIMEOUT:-120}"

cmd="${1:-}"
STATE_DIR="${2:-${TMPDIR:-/tmp}/logship-kafka-$(id -u)}"

die() { echo "kafka.sh: $*" >&2; exit 1; }
say() { echo "kafka.sh: $*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

port_open() {
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.settimeout(0.5)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    sys.exit(0)
except OSError:
    sys.exit(1)
EOF
}

# Downloads the broker's jars once. Returns non-zero when Maven Central cannot be reached.
# Serialised by a lock: concurrent fixture starts (or test runs from two build trees) share the cache.
fetch() {
  if [ -f "$KAFKA_HOME/lib/.complete" ]; then return 0; fi
  mkdir -p "$CACHE_DIR"
  (
    flock -w 1200 9 || { say "timed out waiting for $CACHE_DIR/kafka-$KAFKA_VERSION.lock"; exit 1; }
    fetch_unlocked
  ) 9>"$CACHE_DIR/kafka-$KAFKA_VERSION.lock"
}

fetch_unlocked() {
  if [ -f "$KAFKA_HOME/lib/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { say "mvn not installed"; return 1; }
  mkdir -p "$KAFKA_HOME"
  local pom="$KAFKA_HOME/pom.xml"
  cat >"$pom" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>logship.test</groupId>
  <artifactId>kafka-broker-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j2-impl</artifactId>
      <version>2.24.3</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>2.24.3</version>
    </dependency>
  </dependencies>
</project>
EOF
  say "fetching Apache Kafka $KAFKA_VERSION from Maven Central into $KAFKA_HOME (once)"
  rm -rf "$KAFKA_HOME/lib.tmp"
  if ! timeout 600 mvn -q -B -f "$pom" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$KAFKA_HOME/lib.tmp" >"$KAFKA_HOME/mvn.log" 2>&1; then
    say "mvn failed (see $KAFKA_HOME/mvn.log):"
    tail -n 5 "$KAFKA_HOME/mvn.log" >&2 || true
    return 1
  fi
  rm -rf "$KAFKA_HOME/lib"
  mv "$KAFKA_HOME/lib.tmp" "$KAFKA_HOME/lib"
  touch "$KAFKA_HOME/lib/.complete"
}

write_log4j() {
  cat >"$STATE_DIR/log4j2.properties" <<EOF
status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = $STATE_DIR/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
EOF
}

run_java() {
  java -Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$STATE_DIR/log4j2.properties" \
    -cp "$KAFKA_HOME/lib/*" "$@"
}

wait_ready() {
  local addr="$1" pid="$2" deadline=$((SECONDS + READY_TIMEOUT))
  local port="${addr##*:}"
  while [ $SECONDS -lt $deadline ]; do
    kill -0 "$pid" 2>/dev/null || die "broker exited during startup; see $STATE_DIR/server.out"
    if port_open "$port" && timeout 10 kcat -b "$addr" -L -m 5 2>/dev/null | grep -q "1 brokers"; then
      return 0
    fi
    sleep 0.5
  done
  die "broker not ready after ${READY_TIMEOUT}s; see $STATE_DIR/server.out"
}

start_kafka() {
  local port cport
  if [ -f "$STATE_DIR/port" ]; then
    port=$(cat "$STATE_DIR/port")
    cport=$(cat "$STATE_DIR/controller_port")
  else
    port=$(free_port)
    cport=$(free_port)
    while [ "$cport" = "$port" ]; do cport=$(free_port); done
    echo "$port" >"$STATE_DIR/port"
    echo "$cport" >"$STATE_DIR/controller_port"
  fi
  cat >"$STATE_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$STATE_DIR/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
message.max.bytes=1048588
EOF
  write_log4j
  if [ ! -f "$STATE_DIR/data/meta.properties" ]; then
    local cluster_id
    # As Kafka's own random-uuid: never starting with '-', which the tool would read as an option.
    cluster_id=$(python3 -c 'import base64,os
while True:
    i = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not i.startswith("-"):
        print(i)
        break')
    run_java kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$STATE_DIR/server.properties" >"$STATE_DIR/format.out" 2>&1 \
      || { cat "$STATE_DIR/format.out" >&2; die "storage format failed"; }
  fi
  setsid java -Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$STATE_DIR/log4j2.properties" \
    -cp "$KAFKA_HOME/lib/*" kafka.Kafka "$STATE_DIR/server.properties" \
    >>"$STATE_DIR/server.out" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$STATE_DIR/pid"
  echo "kafka" >"$STATE_DIR/mode"
  echo "127.0.0.1:$port" >"$STATE_DIR/bootstrap"
  wait_ready "127.0.0.1:$port" "$pid"
  say "Apache Kafka $KAFKA_VERSION ready at 127.0.0.1:$port (pid $pid, state $STATE_DIR)"
}

start_mock() {
  local bin="${LOGSHIP_KAFKA_MOCK_BIN:-}"
  [ -x "$bin" ] || die "no Kafka broker and no mock cluster tool (LOGSHIP_KAFKA_MOCK_BIN)"
  rm -f "$STATE_DIR/bootstrap"
  setsid "$bin" "$STATE_DIR/bootstrap" >>"$STATE_DIR/server.out" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$STATE_DIR/pid"
  echo "mock" >"$STATE_DIR/mode"
  local deadline=$((SECONDS + 30))
  while [ ! -s "$STATE_DIR/bootstrap" ]; do
    [ $SECONDS -lt $deadline ] || die "mock cluster did not start"
    kill -0 "$pid" 2>/dev/null || die "mock cluster exited; see $STATE_DIR/server.out"
    sleep 0.1
  done
  say "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  say "!!! MAVEN CENTRAL UNREACHABLE: no real Kafka broker. Kafka tests run against librdkafka's"
  say "!!! MOCK CLUSTER at $(cat "$STATE_DIR/bootstrap") instead."
  say "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
}

stop_pid() {
  [ -f "$STATE_DIR/pid" ] || return 0
  local pid
  pid=$(cat "$STATE_DIR/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      say "broker did not stop within 30s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
  fi
  rm -f "$STATE_DIR/pid"
}

case "$cmd" in
  start)
    mkdir -p "$STATE_DIR"
    if [ -f "$STATE_DIR/pid" ] && kill -0 "$(cat "$STATE_DIR/pid")" 2>/dev/null; then
      if [ "$(cat "$STATE_DIR/mode" 2>/dev/null)" = mock ]; then
        kill -USR2 "$(cat "$STATE_DIR/pid")"   # the mock's broker comes back up
        say "mock cluster broker up again"
      else
        say "already running (pid $(cat "$STATE_DIR/pid"))"
      fi
      exit 0
    fi
    if [ "${LOGSHIP_KAFKA_FORCE_MOCK:-0}" != 1 ] && fetch; then
      start_kafka
    else
      start_mock
    fi
    ;;
  pause)
    stop_pid
    ;;
  kill)
    if [ "$(cat "$STATE_DIR/mode" 2>/dev/null)" = mock ] && [ -f "$STATE_DIR/pid" ]; then
      kill -USR1 "$(cat "$STATE_DIR/pid")"   # the mock's broker goes down, keeping its data
      exit 0
    fi
    if [ -f "$STATE_DIR/pid" ]; then
      pid=$(cat "$STATE_DIR/pid")
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
      rm -f "$STATE_DIR/pid"
    fi
    ;;
  stop)
    stop_pid
    rm -rf "$STATE_DIR/data" "$STATE_DIR/port" "$STATE_DIR/controller_port" "$STATE_DIR/bootstrap"
    ;;
  *)
    die "usage: kafka.sh start|stop|pause|kill STATE_DIR"
    ;;
esac
