#!/usr/bin/env python3
"""How long a reload stops the flow to an output it does not change: a `generate` input
(20,000 events/s) -> file outputs `a` and `b`; `logship reload` either changes `b`'s path
(only an output changed: swapped in place) or also `service.queue_max_bytes` (a pipeline option:
the whole pipeline is rebuilt). Output `a`'s file is sampled every 5 ms from 1 s before the
reload to 1 s after; reported: the longest time `a` did not grow, and how long the reload
command took, median of --runs runs each.

    python3 bench/reload_pause_bench.py --runs 5
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
LOGSHIP = os.environ.get("LOGSHIP_BIN", os.path.join(ROOT, "build/daemon/logship"))


def config(tmp, b_dir, queue):
    return f"""
service:
  state_dir: {tmp}/state
  drain_timeout: 30s
  queue_max_bytes: {queue}
inputs:
  gen: {{type: generate, rate: 20000, batch_events: 100, message_size: 64}}
outputs:
  a: {{type: file, path: "{tmp}/a/{{input}}.log", compress: false}}
  b: {{type: file, path: "{tmp}/{b_dir}/{{input}}.log", compress: false}}
"""


def size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def run(mode):
    full = mode == "pipeline rebuilt"
    tmp = tempfile.mkdtemp(prefix="logship-reloadbench-")
    cfg = os.path.join(tmp, "c.yaml")
    with open(cfg, "w") as f:
        f.write(config(tmp, "b1", "8MiB"))
    d = subprocess.Popen([LOGSHIP, "run", "-c", cfg], stderr=open(os.path.join(tmp, "err"), "wb"))
    a = os.path.join(tmp, "a/gen.log")
    while size(a) == 0:
        time.sleep(0.05)
    time.sleep(1)
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            samples.append((time.monotonic(), size(a)))
            time.sleep(0.005)
    t = threading.Thread(target=sample)
    t.start()
    time.sleep(1)
    with open(cfg, "w") as f:
        f.write(config(tmp, "b2", "4MiB" if full else "8MiB"))
    t0 = time.monotonic()
    if mode == "no reload":
        r = subprocess.CompletedProcess([], 0)
    else:
        r = subprocess.run([LOGSHIP, "reload", "-c", cfg], capture_output=True)
    took = time.monotonic() - t0
    time.sleep(1)
    stop.set()
    t.join()
    d.terminate()
    d.wait(timeout=60)
    assert r.returncode == 0, r.stderr
    still, last_t, last_s = 0.0, samples[0][0], samples[0][1]
    for ts, s in samples[1:]:
        if s != last_s:
            still = max(still, ts - last_t)
            last_t, last_s = ts, s
    still = max(still, samples[-1][0] - last_t)
    return still, took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    for mode in ("no reload", "output swapped in place", "pipeline rebuilt"):
        rs = [run(mode) for _ in range(a.runs)]
        print(f"{mode:24s} "
              f"longest standstill of a: {statistics.median(r[0] for r in rs) * 1000:.0f} ms "
              f"(max {max(r[0] for r in rs) * 1000:.0f}); reload command "
              f"{statistics.median(r[1] for r in rs) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
