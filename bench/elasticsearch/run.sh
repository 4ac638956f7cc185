#!/usr/bin/env bash
# generate -> elasticsearch output against a running node; prints events/s and events per
# CPU-second of the logship process (user+sys), request count/bytes and peak RSS.
#   ES_ADDRESS=127.0.0.1:9200 bench/elasticsearch/run.sh [events] [message_size]
# With no ES_ADDRESS, reads the address of the test node (scripts/servers/opensearch.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
SIZE=${2:-200}
BIN=${LOGSHIP_BIN:-build/daemon/logship}
ADDR=${ES_ADDRESS:-$(cat "${LOGSHIP_OPENSEARCH_DIR:-/tmp/logship-opensearch}/address" 2>/dev/null || true)}
INDEX=${BENCH_INDEX:-bench-es}
WORK=$(mktemp -d /tmp/logship-es-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

BLACKHOLE=${BLACKHOLE:-0}   # 1: bench/elasticsearch/blackhole.py instead of a node
if [ "$BLACKHOLE" = 1 ]; then
  python3 bench/elasticsearch/blackhole.py >"$WORK/bh.addr" &
  BH_PID=$!
  trap 'kill $BH_PID 2>/dev/null; rm -rf "$WORK"' EXIT
  for _ in $(seq 1 50); do [ -s "$WORK/bh.addr" ] && break; sleep 0.1; done
  ADDR=$(cat "$WORK/bh.addr")
else
  curl -fsS -X DELETE "http://$ADDR/$INDEX" >/dev/null 2>&1 || true
  curl -fsS -X PUT "http://$ADDR/$INDEX" -H 'Content-Type: application/json' \
    -d '{"settings":{"number_of_replicas":0,"number_of_shards":1,"refresh_interval":"30s"}}' >/dev/null
fi

cat >"$WORK/bench.yaml" <<YAML
service:
  state_dir: $WORK/state
  log_level: warn
  exit_when_done: true
  drain_timeout: 120s
inputs:
  gen:
    type: generate
    count: $N
    message_size: $SIZE
    batch_events: 1024
outputs:
  es:
    type: elasticsearch
    hosts: ["http://$ADDR"]
    index: $INDEX
    max_in_flight: ${MAX_IN_FLIGHT:-2}
    compression: ${COMPRESSION:-gzip}
    deterministic_ids: ${DETERMINISTIC_IDS:-false}
YAML

/usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$BIN" run -c "$WORK/bench.yaml" 2>"$WORK/stderr"
read -r wall user sys rss_kb <"$WORK/time"
if [ "$BLACKHOLE" = 1 ]; then
  count=$N
else
  curl -fsS -X POST "http://$ADDR/$INDEX/_refresh" >/dev/null
  count=$(curl -fsS "http://$ADDR/$INDEX/_count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
fi
python3 - "$N" "$wall" "$user" "$sys" "$rss_kb" "$count" <<'PY'
import sys
n, wall, user, sys_, rss, count = int(sys.argv[1]), *map(float, sys.argv[2:5]), int(sys.argv[5]), int(sys.argv[6])
cpu = user + sys_
print(f"events={n} indexed={count} wall={wall:.2f}s events/s={n/wall:,.0f} "
      f"logship_cpu={cpu:.2f}s events_per_cpu_s={n/cpu:,.0f} peak_rss={rss/1024:.1f}MiB")
PY
