#!/usr/bin/env python3
"""memory-budget bench: RSS over time with many containers, a few busy and most quiet, while the
output is stalled and after it recovers; and how long the busy ones delay the quiet ones.

  python3 bench/memory_budget_bench.py [--containers 1000] [--busy 4] [--busy-mib 128]
      [--memory-limit 32MiB] [--stall 15] [--after 30] [--runs 3] [--bin build/daemon/logship]

Each run: a Docker tree (loadgen's json-file format and config.v2.json) of --containers
containers. The --busy ones start with --busy-mib MiB each of 200-byte lines already written (a
burst far larger than the memory limit); every other container writes one line a second, live,
carrying the wall time it was written. logship reads them (docker -> file; --multiline adds
multiline auto) with
service.memory_limit set and queue_max_bytes 256MiB, so only the budget bounds memory. The file
output is stalled for --stall s from the start (its directory is a plain file), then recovers.
Reported: VmRSS every 100 ms and the peak (VmHWM), each against the limit; the delay of the quiet
containers' lines (written -> read back from the output file, picked out by tail -F and grep as it grows) written after
the recovery while the busy backlog is still being read, and after; completeness (every line of
every container arrived once).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import loadgen  # noqa: E402

DEFAULT_BIN = os.path.join(HERE, "..", "build", "daemon", "logship")
QUIET_RE = re.compile(rb"q=(\d+)-(\d+) t=(\d+)")
BUSY_RE = re.compile(rb"b=(\d+)-(\d+) ")


def parse_size(text):
    m = re.fullmatch(r"(\d+)(KiB|MiB|GiB)?", text)
    return int(m.group(1)) << {"KiB": 10, "MiB": 20, "GiB": 30}.get(m.group(2), 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def docker_line(msg, ns):
    return f'{{"log":"{msg}\\n","stream":"stdout","time":"{loadgen.rfc3339(ns)}"}}\n'


def make_tree(root, containers, busy, busy_bytes):
    base = os.path.join(root, "containers")
    logs = []
    busy_lines = 0
    for c in range(containers):
        cid = loadgen.container_id(c, 7)
        cdir = os.path.join(base, cid)
        os.makedirs(cdir, exist_ok=True)
        loadgen.write_config(cdir, cid, c)
        path = os.path.join(cdir, f"{cid}-json.log")
        with open(path, "w") as f:
            if c < busy:
                pad = "x" * 170
                ns = time.time_ns()
                chunk = []
                k = 0
                while f.tell() < busy_bytes:
                    chunk.extend(docker_line(f"b={c}-{k + j} {pad}", ns) for j in range(4096))
                    k += 4096
                    f.write("".join(chunk))
                    chunk.clear()
                busy_lines += k
        logs.append(path)
    return logs, busy_lines


def status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
        return int(m.group(1))
    except OSError:
        return 0


def metrics(port):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return ""


def run_one(args, i):
    tmp = tempfile.mkdtemp(prefix="logship-membench-")
    try:
        root = os.path.join(tmp, "docker")
        logs, busy_lines = make_tree(root, args.containers, args.busy, args.busy_mib << 20)
        out = os.path.join(tmp, "out")
        with open(out, "w") as f:   # stalled: the output's directory is a plain file
            f.write("blocker")
        port = free_port()
        cfg = os.path.join(tmp, "bench.yaml")
        with open(cfg, "w") as f:
            f.write(f"""
service:
  state_dir: {tmp}/state
  http_listen: 127.0.0.1:{port}
  memory_limit: {args.memory_limit}
  queue_max_bytes: {args.queue_max_bytes}
  retry_max: 200ms
  log_level: warn
inputs:
  docker: {{type: docker, docker_root: {root}}}
processors:
  traces: {{type: multiline, rules: auto}}
outputs:
  sink: {{type: file, path: "{out}/all.log", compress: false, max_size: 64GiB}}
routes:
  - processors: [{"traces" if args.multiline else ""}]
    outputs: [sink]
""")
        limit = parse_size(args.memory_limit)
        proc = subprocess.Popen([args.bin, "run", "-c", cfg], stdout=subprocess.DEVNULL,
                                stderr=open(os.path.join(tmp, "stderr"), "wb"))
        stop = threading.Event()
        quiet = list(range(args.busy, args.containers))
        written = {c: 0 for c in quiet}
        t0 = time.monotonic()
        recovered_at = [None]
        samples = []      # (t, rss MiB, lag MiB, queued MiB)
        delays = []       # (written at t, delay s)

        def writer():
            files = {c: open(logs[c], "a") for c in quiet}
            next_t = time.monotonic()
            while not stop.is_set():
                for c in quiet:
                    ns = time.time_ns()
                    files[c].write(docker_line(f"q={c}-{written[c]} t={ns} quiet line", ns))
                    files[c].flush()
                    written[c] += 1
                next_t += 1.0
                stop.wait(max(0.0, next_t - time.monotonic()))
            for f in files.values():
                f.close()

        def sampler():
            while not stop.is_set():
                text = metrics(port)
                lag = sum(int(v) for v in re.findall(r"^logship_input_file_lag_bytes\{[^}]*\} (\d+)$", text, re.M))
                q = re.search(r'^logship_memory_bytes\{part="output_queues"\} (\d+)$', text, re.M)
                samples.append((time.monotonic() - t0, status_kib(proc.pid, "VmRSS") / 1024,
                                lag / 2**20, int(q.group(1)) / 2**20 if q else 0.0))
                stop.wait(0.1)

        def follower():
            # tail and grep (C, GB/s) pick the quiet lines out of the output as it grows; a
            # reader in Python fell seconds behind the daemon while the busy backlog arrived,
            # and its lag counted as delay.
            path = os.path.join(out, "all.log")
            while not os.path.isfile(path) and not stop.is_set():
                time.sleep(0.01)
            tail = subprocess.Popen(["tail", "-c", "+1", "-F", path], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL)
            grep = subprocess.Popen(["grep", "-a", "--line-buffered", "-o", "q=[0-9]*-[0-9]* t=[0-9]*"],
                                    stdin=tail.stdout, stdout=subprocess.PIPE)
            tail.stdout.close()
            followers.extend([tail, grep])
            for line in grep.stdout:
                now_ns = time.time_ns()
                m = QUIET_RE.search(line)
                if m:
                    t_w = int(m.group(3))
                    delays.append(((t_w - t0_ns) / 1e9, (now_ns - t_w) / 1e9))

        t0_ns = time.time_ns()
        followers = []
        threads = [threading.Thread(target=fn, daemon=True) for fn in (writer, sampler, follower)]
        for t in threads:
            t.start()
        time.sleep(args.stall)
        os.unlink(out)
        os.makedirs(out, exist_ok=True)   # the output may have made it first
        recovered_at[0] = time.monotonic() - t0
        # Until the busy backlog is read and delivered, then --after seconds more.
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if samples and samples[-1][2] < 0.01 and samples[-1][0] > recovered_at[0] + 1:
                break
            time.sleep(0.2)
        drained_at = time.monotonic() - t0
        time.sleep(args.after)
        time.sleep(0.5)   # the last quiet lines through tail and grep
        stop.set()
        for f in followers:
            f.terminate()
        for t in threads:
            t.join(timeout=10)
        peak = status_kib(proc.pid, "VmHWM") / 1024
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
        # Completeness: every line of every container once.
        busy_seen, quiet_seen, dup = set(), set(), 0
        with open(os.path.join(out, "all.log"), "rb") as f:
            for line in f:
                m = BUSY_RE.search(line) or QUIET_RE.search(line)
                if not m:
                    continue
                key = (m.re is BUSY_RE, int(m.group(1)), int(m.group(2)))
                target = busy_seen if key[0] else quiet_seen
                dup += key in target
                target.add(key)
        quiet_expected = sum(written.values())
        rec = recovered_at[0]
        during = [d for t, d in delays if rec + 2 <= t < drained_at]   # written while busy drain
        after = [d for t, d in delays if t >= drained_at]

        def pct(v, p):
            return sorted(v)[min(len(v) - 1, int(p * len(v)))] if v else float("nan")

        return {
            "rc": rc, "peak_rss_mib": peak, "limit_mib": limit / 2**20,
            "max_sampled_rss_mib": max(s[1] for s in samples),
            "rss_stalled_mib": max((s[1] for s in samples if s[0] < rec), default=0),
            "rss_recovery_mib": max((s[1] for s in samples if s[0] >= rec), default=0),
            "recovered_at_s": rec, "busy_drained_after_s": drained_at - rec,
            "quiet_delay_during_drain": {"n": len(during), "p50": pct(during, .5), "p99": pct(during, .99),
                                         "max": max(during, default=float("nan"))},
            "quiet_delay_after": {"n": len(after), "p50": pct(after, .5), "p99": pct(after, .99),
                                  "max": max(after, default=float("nan"))},
            "busy_lines": busy_lines, "busy_missing": busy_lines - len(busy_seen),
            "quiet_lines": quiet_expected, "quiet_missing": quiet_expected - len(quiet_seen),
            "duplicates": dup,
            "timeline": [(round(t, 1), round(r, 1), round(l, 1), round(q, 1)) for t, r, l, q in samples[::10]],
        }
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.environ.get("LOGSHIP_BIN", DEFAULT_BIN))
    p.add_argument("--containers", type=int, default=1000)
    p.add_argument("--busy", type=int, default=4)
    p.add_argument("--busy-mib", type=int, default=128)
    p.add_argument("--memory-limit", default="32MiB")
    p.add_argument("--queue-max-bytes", default="256MiB",
                   help="service.queue_max_bytes (default: large, so only the budget binds)")
    p.add_argument("--stall", type=float, default=15)
    p.add_argument("--after", type=float, default=10)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--multiline", action="store_true",
                   help="route through multiline (auto); a quiet line then waits for the next one "
                        "or flush_timeout (1 s), which the delay figures include")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--json", help="write every run's figures here")
    args = p.parse_args()
    runs = []
    for i in range(args.runs):
        r = run_one(args, i)
        runs.append(r)
        print(f"run {i}: peak RSS {r['peak_rss_mib']:.1f} MiB (limit {r['limit_mib']:.0f}), stalled "
              f"{r['rss_stalled_mib']:.1f}, recovery {r['rss_recovery_mib']:.1f}; busy drained "
              f"{r['busy_drained_after_s']:.1f} s after recovery; quiet delay during drain "
              f"p50 {r['quiet_delay_during_drain']['p50']:.3f} p99 {r['quiet_delay_during_drain']['p99']:.3f} "
              f"max {r['quiet_delay_during_drain']['max']:.3f} s (n={r['quiet_delay_during_drain']['n']}), "
              f"after p99 {r['quiet_delay_after']['p99']:.3f} s; missing busy {r['busy_missing']} "
              f"quiet {r['quiet_missing']}, duplicates {r['duplicates']}, rc {r['rc']}", flush=True)
    med = lambda f: statistics.median(f(r) for r in runs)  # noqa: E731
    print(f"median of {len(runs)}: peak RSS {med(lambda r: r['peak_rss_mib']):.1f} MiB, "
          f"quiet delay during busy drain p99 {med(lambda r: r['quiet_delay_during_drain']['p99']):.3f} s, "
          f"max {med(lambda r: r['quiet_delay_during_drain']['max']):.3f} s")
    print("timeline of the last run (s, RSS MiB, lag MiB, output queue MiB):")
    for row in runs[-1]["timeline"]:
        print("  ", row)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f, indent=1)


if __name__ == "__main__":
    main()
