#!/usr/bin/env python3
"""What a tap costs: N lines through stdin -> json parser -> null output, with no tap, with a
tap whose condition matches nothing, and with a tap that takes every event (JSON lines, read
by `logship tap` into /dev/null, rate limit 100000/s). Reports the median of --runs runs:
wall seconds from the first line written to the daemon's exit, daemon CPU seconds (user+sys)
and the tap's sent/dropped counts.

    python3 bench/tap_bench.py --events 1000000 --runs 3
"""
import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
LOGSHIP = os.environ.get("LOGSHIP_BIN", os.path.join(ROOT, "build/daemon/logship"))


def run(events, mode):
    tmp = tempfile.mkdtemp(prefix="logship-tapbench-")
    cfg = os.path.join(tmp, "c.yaml")
    with open(cfg, "w") as f:
        f.write(f"""
service:
  state_dir: {tmp}/state
  http_listen: 127.0.0.1:0
  exit_when_done: true
  log_level: info
inputs:
  in: {{type: stdin, processors: [parse]}}
processors:
  parse: {{type: json}}
outputs:
  sink: {{type: null}}
""")
    err = open(os.path.join(tmp, "err"), "wb")
    d = subprocess.Popen([LOGSHIP, "run", "-c", cfg], stdin=subprocess.PIPE, stderr=err,
                         stdout=subprocess.DEVNULL)
    port = None
    while port is None:
        time.sleep(0.05)
        m = re.search(r'address=127\.0\.0\.1:(\d+)', open(err.name).read())
        port = m and m.group(1)
    tap = None
    if mode != "none":
        where = 'level == "never"' if mode == "tap-nothing" else ""
        args = [LOGSHIP, "tap", "--address", f"127.0.0.1:{port}", "--at", "output:sink",
                "--format", "json", "--rate", "100000"]
        if where:
            args += ["--where", where]
        tap = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while 'msg="tap opened"' not in open(err.name).read():
            time.sleep(0.02)
    line = b'{"level":"info","msg":"request served","path":"/api/v1/items","status":200,"ms":12}\n'
    chunk = line * 10000
    start = time.monotonic()
    for _ in range(events // 10000):
        d.stdin.write(chunk)
    d.stdin.close()
    _, status, ru = os.wait4(d.pid, 0)
    wall = time.monotonic() - start
    text = open(err.name).read()
    if status != 0:
        raise SystemExit(f"logship exited with status {status}: {tmp}/err")
    closed = re.search(r'msg="tap closed".*sent=(\d+) dropped_slow_client=(\d+) '
                       r'dropped_rate_limit=(\d+)', text)
    if tap:
        tap.wait(timeout=30)
    return wall, ru.ru_utime + ru.ru_stime, closed.groups() if closed else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1000000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    for mode in ("none", "tap-nothing", "tap-all"):
        results = [run(a.events, mode) for _ in range(a.runs)]
        wall = statistics.median(r[0] for r in results)
        cpu = statistics.median(r[1] for r in results)
        print(f"{mode:12s} events={a.events} wall={wall:.2f}s cpu={cpu:.2f}s "
              f"events/s={a.events / wall:,.0f} tap(sent,slow,rate)={[r[2] for r in results]}")


if __name__ == "__main__":
    main()
