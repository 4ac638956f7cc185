#!/usr/bin/env python3
"""generate -> kafka throughput against a local single-node broker (scripts/servers/kafka.sh).

Reports, per configuration, the median of --runs runs of: wall events/s, events and MB (JSON
bytes sent) per CPU-second of the daemon (user+sys, all threads incl. librdkafka's), peak RSS.
Usage: bench/kafka_bench.py [--events N] [--runs R] [--variants in_flight=8,compression=none ...]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
LOGSHIP = os.environ.get("LOGSHIP_BIN", os.path.join(ROOT, "build/daemon/logship"))
SCRIPT = os.path.join(ROOT, "scripts/servers/kafka.sh")


def run_once(bootstrap, events, size, in_flight, compression, workdir):
    topic = f"bench.{uuid.uuid4().hex[:8]}"
    cfg = os.path.join(workdir, f"{topic}.yaml")
    with open(cfg, "w") as f:
        f.write(f"""
service:
  state_dir: {workdir}/state-{topic}
  exit_when_done: true
  drain_timeout: 120s
  log_level: info
inputs:
  gen:
    type: generate
    count: {events}
    message_size: {size}
outputs:
  kafka:
    type: kafka
    brokers: [{bootstrap}]
    topic: {topic}
    key: event_id
    compression: {compression}
    max_in_flight: {in_flight}
""")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([LOGSHIP, "run", "-c", cfg], capture_output=True, timeout=900)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0 or b"everything delivered" not in p.stderr:
        sys.exit(f"run failed: {p.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of children is the max over all children so far; each run is its own process
    # and the runs are alike, so it is this configuration's peak.
    return {"wall": wall, "cpu": cpu, "rss_kib": after.ru_maxrss}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--size", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--variants", nargs="*",
                    default=["1,none", "4,none", "8,none", "16,none", "8,lz4", "8,zstd"])
    args = ap.parse_args()
    state = tempfile.mkdtemp(prefix="logship-kafka-bench-")
    subprocess.run(["bash", SCRIPT, "start", state], check=True)
    try:
        with open(os.path.join(state, "bootstrap")) as f:
            bootstrap = f.read().strip()
        with open(os.path.join(state, "mode")) as f:
            if f.read().strip() != "kafka":
                sys.exit("no real broker (mock cluster): refusing to benchmark")
        # Each event's JSON value is size + 77 bytes (timestamp, stream and message keys).
        print(f"events={args.events} message_size={args.size} runs={args.runs} "
              f"cpus={os.cpu_count()}")
        print(f"{'in_flight':>9} {'codec':>6} {'ev/s wall':>10} {'ev/cpu-s':>10} "
              f"{'MB/cpu-s':>9} {'cpu s':>6} {'peak RSS MiB':>12}")
        for v in args.variants:
            in_flight, codec = v.split(",")
            runs = [run_once(bootstrap, args.events, args.size, int(in_flight), codec, state)
                    for _ in range(args.runs)]
            wall = statistics.median(r["wall"] for r in runs)
            cpu = statistics.median(r["cpu"] for r in runs)
            rss = max(r["rss_kib"] for r in runs) / 1024
            mb = args.events * (args.size + 77) / 1e6
            print(f"{in_flight:>9} {codec:>6} {args.events / wall:>10.0f} "
                  f"{args.events / cpu:>10.0f} {mb / cpu:>9.1f} {cpu:>6.2f} {rss:>12.1f}",
                  flush=True)
    finally:
        subprocess.run(["bash", SCRIPT, "stop", state])


if __name__ == "__main__":
    main()
