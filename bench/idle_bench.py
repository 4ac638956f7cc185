#!/usr/bin/env python3
"""idle-bench: what N containers whose logs were already read cost the docker input.

  bench/idle_bench.py [--containers 300,1000,5000,10000] [--runs 3] [--measure 10] [--bin PATH]
                      [--rescan-interval 1s] [--rotations 10] [--json FILE]
  bench/idle_bench.py --containers 10000 --busy 20 --rate 1000 [--duration 20]
                      [--silence 120] [--quiet-lines 5]      # "mostly idle"

For each N: a fake Docker tree (<root>/containers/<id>/<id>-json.log with 3 lines and a
config.v2.json), logship reading it into a file output; once every line arrived (caught up) and
--settle seconds passed (default 1), the daemon's CPU (user+sys from /proc/PID/stat) is measured over
--measure seconds of idleness. Reported per N (median of --runs): idle CPU as % of one core,
peak RSS (VmHWM, so the catch-up counts too), RSS at the end of the idle window, open
descriptors. The daemon gets the open-file hard limit as its soft limit, so 10,000 files fit.
--rescan-interval sets the docker input's (default: the input's own): with 1s, the idle CPU is
about the cost of one full scan per second. --rotations R: during the measured window, R
containers per second (spread over the tree) are rotated like Docker does (rename to .1, a new
file with one line): the cost of events among many quiet containers.

Mostly idle (--busy B): once caught up, B containers (spread over the tree) write --rate lines
a second each for --duration s; each line carries its write time, and the file sink is polled
every 10 ms: latency p50/p99 of the busy lines. Then --silence s with nothing written (the
rescan is set to 24h, so only inotify acts: an hour of silence needs no more than that), and
one line a second to --quiet-lines quiet containers: the slowest one's latency.

Peer (--peer fluent-bit=/path/to/fluent-bit): the same tree and measurements with Fluent Bit's
`tail` input (Docker's JSON decoded by `multiline.parser docker`, a position db, the file
output), its glob polled every --peer-refresh seconds (Fluent Bit's `refresh_interval`; default
5, the value the issue measured Fluent Bit 5.1.1 with). Idle mode only.
"""
import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BIN = os.path.join(HERE, "..", "build", "daemon", "logship")
LINES = 3


def write_tree(root, n):
    base = os.path.join(root, "containers")
    os.makedirs(base)
    for i in range(n):
        cid = f"{i:064x}"
        cdir = os.path.join(base, cid)
        os.mkdir(cdir)
        with open(os.path.join(cdir, "config.v2.json"), "w") as f:
            json.dump({"ID": cid, "Name": f"/idle-{i}", "Config": {"Image": "busybox:1",
                       "Hostname": cid[:12], "Labels": {"app": f"a{i % 50}"}},
                       "State": {"Running": True}}, f)
        with open(os.path.join(cdir, f"{cid}-json.log"), "w") as f:
            for k in range(LINES):
                f.write(json.dumps({"log": f"r={i}-{k} idle container line\n", "stream": "stdout",
                                    "time": "2026-12-04T10:00:00.000000001Z"}) + "\n")


def out_lines(out_dir):
    total = 0
    for name in os.listdir(out_dir) if os.path.isdir(out_dir) else []:
        with open(os.path.join(out_dir, name), "rb") as f:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    return total


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])   # utime + stime


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rotate_for(root, n, per_s, seconds):
    """Docker's rotation of `per_s` containers a second for `seconds`."""
    count = int(per_s * seconds)
    for k in range(count):
        cid = f"{(k * 37) % n:064x}"
        log = os.path.join(root, "containers", cid, f"{cid}-json.log")
        os.replace(log, log + ".1")
        with open(log, "w") as f:
            f.write(json.dumps({"log": f"r={(k * 37) % n}-rot{k} rotated\n", "stream": "stdout",
                                "time": "2026-12-04T10:00:00.000000001Z"}) + "\n")
        time.sleep(1.0 / per_s)


class OutputTail:
    """Reads the file sink as it grows; each line written by the bench carries t=<ns>."""

    def __init__(self, path):
        self.path, self.off, self.rest = path, 0, b""

    def poll(self):
        """[(kind, latency_s)] of the lines that arrived since the last call ('b' busy, 'q' quiet)."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return []
        now = time.time_ns()
        self.off += len(data)
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()
        got = []
        for line in lines:
            m = LATENCY_RE.search(line)
            if m:
                got.append((m.group(1).decode(), (now - int(m.group(2))) / 1e9))
        return got


LATENCY_RE = re.compile(rb"k=([bq]) t=(\d+)")


def docker_record(text):
    return json.dumps({"log": text + "\n", "stream": "stdout",
                       "time": "2026-12-04T10:00:00.000000001Z"}) + "\n"


def run_mostly_idle(binary, n, keep, busy, rate, silence, duration, quiet_lines):
    """n containers caught up; `busy` of them write `rate` lines/s each for `duration` s while
    the others stay silent; then, after `silence` s with nothing written anywhere, one line to
    each of `quiet_lines` quiet containers, one a second. Latency from the write (t=<ns> in the
    line) to the line's arrival in the file sink (polled every 10 ms)."""
    tmp = tempfile.mkdtemp(prefix=f"mostly-idle-{n}-")
    root = os.path.join(tmp, "root")
    try:
        write_tree(root, n)
        cfg = os.path.join(tmp, "bench.yaml")
        with open(cfg, "w") as f:
            f.write(f"service:\n  state_dir: {tmp}/state\n"
                    f"inputs:\n  docker:\n    type: docker\n    docker_root: {root}\n"
                    f"    rescan_interval: 24h\n"
                    f"outputs:\n  sink:\n    type: file\n    path: {tmp}/out/docker.log\n"
                    f"    compress: false\n")
        with open(os.path.join(tmp, "stderr.log"), "wb") as err:
            proc = subprocess.Popen([binary, "run", "-c", cfg], stdout=subprocess.DEVNULL,
                                    stderr=err, preexec_fn=raise_nofile)
        try:
            t0 = time.monotonic()
            while out_lines(os.path.join(tmp, "out")) < n * LINES:
                if proc.poll() is not None or time.monotonic() - t0 > 600:
                    raise RuntimeError(f"not caught up; see {tmp}/stderr.log")
                time.sleep(0.2)
            tail = OutputTail(os.path.join(tmp, "out", "docker.log"))
            tail.poll()
            logs = [os.path.join(root, "containers", f"{i:064x}", f"{i:064x}-json.log")
                    for i in range(n)]
            files = [open(logs[i * (n // busy)], "a") for i in range(busy)]
            busy_lat, quiet_lat = [], []
            written = 0
            start = time.monotonic()
            tick = 0.01
            while time.monotonic() - start < duration:
                due = int((time.monotonic() - start) * rate)
                for f in files:
                    now = time.time_ns()
                    f.write("".join(docker_record(f"k=b t={now} busy line {written + k}")
                                    for k in range(due - written)))
                    f.flush()
                written = due
                busy_lat += [l for k, l in tail.poll() if k == "b"]
                time.sleep(tick)
            for f in files:
                f.close()
            end = time.monotonic() + 10
            while time.monotonic() < end and len(busy_lat) < written * busy:
                busy_lat += [l for k, l in tail.poll() if k == "b"]
                time.sleep(tick)
            rss_busy = status_kib(proc.pid, "VmRSS") / 1024
            time.sleep(silence)   # nothing written anywhere; no rescan either (24h)
            step = n // busy   # busy containers are the multiples of step
            quiet = [i for i in ((k * 7919 + 1) % n for k in range(4 * quiet_lines))
                     if i % step != 0][:quiet_lines]
            for k, i in enumerate(quiet):
                with open(logs[i], "a") as f:
                    f.write(docker_record(f"k=q t={time.time_ns()} quiet line {k}"))
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    got = [l for kind, l in tail.poll() if kind == "q"]
                    if got:
                        quiet_lat += got
                        break
                    time.sleep(tick)
                time.sleep(1.0)
            fds = len(os.listdir(f"/proc/{proc.pid}/fd"))
            res = {"containers": n, "busy": busy, "rate": rate,
                   "busy_lines": written * busy, "busy_delivered": len(busy_lat),
                   "busy_p50_ms": round(1000 * pct(busy_lat, 50), 1),
                   "busy_p99_ms": round(1000 * pct(busy_lat, 99), 1),
                   "quiet_delivered": len(quiet_lat), "quiet_lines": len(quiet),
                   "quiet_max_ms": round(1000 * max(quiet_lat), 1) if quiet_lat else None,
                   "rss_busy_mib": round(rss_busy, 1),
                   "idle_rss_mib": round(status_kib(proc.pid, "VmRSS") / 1024, 1),
                   "peak_rss_mib": round(status_kib(proc.pid, "VmHWM") / 1024, 1),
                   "open_fds": fds}
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        return res
    finally:
        if keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


def fluent_bit_command(path, tmp, refresh):
    """Fluent Bit reading the same tree: tail with Docker's JSON decoded, a position db, the
    file output (one JSON line per record, counted like logship's)."""
    os.makedirs(os.path.join(tmp, "out"))
    conf = os.path.join(tmp, "fluent-bit.conf")
    with open(conf, "w") as f:
        f.write(f"""[SERVICE]
    flush 1
    log_level warn
[INPUT]
    name tail
    path {tmp}/root/containers/*/*-json.log
    read_from_head true
    refresh_interval {refresh}
    multiline.parser docker
    db {tmp}/fb.db
    mem_buf_limit 64MB
[OUTPUT]
    name file
    match *
    path {tmp}/out
    format plain
""")
    return [path, "-c", conf]


def logship_command(binary, tmp, rescan):
    cfg = os.path.join(tmp, "bench.yaml")
    with open(cfg, "w") as f:
        f.write(f"service:\n  state_dir: {tmp}/state\n"
                f"inputs:\n  docker:\n    type: docker\n    docker_root: {tmp}/root\n"
                + (f"    rescan_interval: {rescan}\n" if rescan else "") +
                f"outputs:\n  sink:\n    type: file\n    path: {tmp}/out/docker.log\n"
                f"    compress: false\n")
    return [binary, "run", "-c", cfg]


def run_one(binary, n, measure_s, keep, rescan=None, rotations=0, peer=None, settle=1.0):
    """peer: None (logship at `binary`) or ("fluent-bit", path, refresh_interval)."""
    tmp = tempfile.mkdtemp(prefix=f"idle-bench-{n}-")
    try:
        write_tree(os.path.join(tmp, "root"), n)
        cmd = (fluent_bit_command(peer[1], tmp, peer[2]) if peer
               else logship_command(binary, tmp, rescan))
        with open(os.path.join(tmp, "stderr.log"), "wb") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                    stderr=err, preexec_fn=raise_nofile)
        try:
            t0 = time.monotonic()
            want = n * LINES
            while out_lines(os.path.join(tmp, "out")) < want:
                if proc.poll() is not None:
                    raise RuntimeError(f"{cmd[0]} exited; see {tmp}/stderr.log")
                if time.monotonic() - t0 > 600:
                    raise RuntimeError(f"not caught up in 600 s; see {tmp}/stderr.log")
                time.sleep(0.2)
            catch_up = time.monotonic() - t0
            time.sleep(settle)
            hz = os.sysconf("SC_CLK_TCK")
            c0, w0 = cpu_ticks(proc.pid), time.monotonic()
            if rotations:
                rotate_for(os.path.join(tmp, "root"), n, rotations, measure_s)
            else:
                time.sleep(measure_s)
            c1, w1 = cpu_ticks(proc.pid), time.monotonic()
            fds = len(os.listdir(f"/proc/{proc.pid}/fd"))
            res = {"containers": n, "catch_up_s": round(catch_up, 2),
                   "idle_cpu_pct": round(100.0 * (c1 - c0) / hz / (w1 - w0), 2),
                   "peak_rss_mib": round(status_kib(proc.pid, "VmHWM") / 1024, 1),
                   "idle_rss_mib": round(status_kib(proc.pid, "VmRSS") / 1024, 1),
                   "open_fds": fds}
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        return res
    finally:
        if keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.environ.get("LOGSHIP_BIN", DEFAULT_BIN))
    p.add_argument("--containers", default="300,1000,5000,10000")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--measure", type=float, default=10.0)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--rescan-interval", default=None)
    p.add_argument("--settle", type=float, default=1.0,
                   help="seconds between catching up and the measured window (e.g. past "
                        "close_idle, so the window holds only idleness)")
    p.add_argument("--rotations", type=float, default=0)
    p.add_argument("--json")
    p.add_argument("--busy", type=int, default=0,
                   help="mostly idle: this many containers write --rate lines/s each")
    p.add_argument("--rate", type=int, default=1000)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--silence", type=float, default=120.0,
                   help="mostly idle: seconds of silence before the quiet lines")
    p.add_argument("--quiet-lines", type=int, default=5)
    p.add_argument("--peer", default=None, help="fluent-bit=/path/to/fluent-bit (idle mode)")
    p.add_argument("--peer-refresh", type=int, default=5,
                   help="the peer's glob poll interval in seconds (Fluent Bit refresh_interval)")
    args = p.parse_args()
    peer = None
    if args.peer:
        name, _, path = args.peer.partition("=")
        if name != "fluent-bit" or not path or args.busy:
            raise SystemExit("--peer takes fluent-bit=PATH, in idle mode (no --busy)")
        peer = (name, path, args.peer_refresh)
    report = []
    if args.busy:
        print("| containers | busy x lines/s | busy delivered | busy p50 / p99 ms | silence s | "
              "quiet line max ms (delivered) | RSS busy / idle / peak MiB | open fds |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in (int(x) for x in args.containers.split(",")):
            runs = [run_mostly_idle(args.bin, n, args.keep, args.busy, args.rate, args.silence,
                                    args.duration, args.quiet_lines) for _ in range(args.runs)]
            for r in runs:
                print(f"| {n} | {args.busy} x {args.rate} | {r['busy_delivered']} of "
                      f"{r['busy_lines']} | {r['busy_p50_ms']} / {r['busy_p99_ms']} | "
                      f"{args.silence:g} | {r['quiet_max_ms']} ({r['quiet_delivered']} of "
                      f"{r['quiet_lines']}) | {r['rss_busy_mib']} / {r['idle_rss_mib']} / "
                      f"{r['peak_rss_mib']} | {r['open_fds']} |", flush=True)
            report.append(runs)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=1)
        return
    print("| containers | idle CPU (% of a core) | peak RSS MiB | idle RSS MiB | open fds | catch-up s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in (int(x) for x in args.containers.split(",")):
        runs = [run_one(args.bin, n, args.measure, args.keep, args.rescan_interval,
                        args.rotations, peer, args.settle) for _ in range(args.runs)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        med["runs"] = runs
        report.append(med)
        print(f"| {n} | {med['idle_cpu_pct']} | {med['peak_rss_mib']} | {med['idle_rss_mib']} | "
              f"{med['open_fds']} | {med['catch_up_s']} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
