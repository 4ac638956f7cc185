#!/usr/bin/env python3
"""idle-bench: what N containers whose logs were already read cost the docker input.

  bench/idle_bench.py [--containers 300,1000,5000,10000] [--runs 3] [--measure 10] [--bin PATH]
                      [--rescan-interval 1s] [--rotations 10] [--json FILE]

For each N: a fake Docker tree (<root>/containers/<id>/<id>-json.log with 3 lines and a
config.v2.json), logship reading it into a file output; once every line arrived (caught up) and
one more second passed, the daemon's CPU (user+sys from /proc/PID/stat) is measured over
--measure seconds of idleness. Reported per N (median of --runs): idle CPU as % of one core,
peak RSS (VmHWM, so the catch-up counts too), RSS at the end of the idle window, open
descriptors. The daemon gets the open-file hard limit as its soft limit, so 10,000 files fit.
--rescan-interval sets the docker input's (default: the input's own): with 1s, the idle CPU is
about the cost of one full scan per second. --rotations R: during the measured window, R
containers per second (spread over the tree) are rotated like Docker does (rename to .1, a new
file with one line): the cost of events among many quiet containers.
"""
import argparse
import json
import os
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


def run_one(binary, n, measure_s, keep, rescan=None, rotations=0):
    tmp = tempfile.mkdtemp(prefix=f"idle-bench-{n}-")
    try:
        write_tree(os.path.join(tmp, "root"), n)
        cfg = os.path.join(tmp, "bench.yaml")
        with open(cfg, "w") as f:
            f.write(f"service:\n  state_dir: {tmp}/state\n"
                    f"inputs:\n  docker:\n    type: docker\n    docker_root: {tmp}/root\n"
                    + (f"    rescan_interval: {rescan}\n" if rescan else "") +
                    f"outputs:\n  sink:\n    type: file\n    path: {tmp}/out/docker.log\n"
                    f"    compress: false\n")
        with open(os.path.join(tmp, "stderr.log"), "wb") as err:
            proc = subprocess.Popen([binary, "run", "-c", cfg], stdout=subprocess.DEVNULL,
                                    stderr=err, preexec_fn=raise_nofile)
        try:
            t0 = time.monotonic()
            want = n * LINES
            while out_lines(os.path.join(tmp, "out")) < want:
                if proc.poll() is not None:
                    raise RuntimeError(f"logship exited; see {tmp}/stderr.log")
                if time.monotonic() - t0 > 600:
                    raise RuntimeError(f"not caught up in 600 s; see {tmp}/stderr.log")
                time.sleep(0.2)
            catch_up = time.monotonic() - t0
            time.sleep(1.0)
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
    p.add_argument("--rotations", type=float, default=0)
    p.add_argument("--json")
    args = p.parse_args()
    report = []
    print("| containers | idle CPU (% of a core) | peak RSS MiB | idle RSS MiB | open fds | catch-up s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in (int(x) for x in args.containers.split(",")):
        runs = [run_one(args.bin, n, args.measure, args.keep, args.rescan_interval,
                        args.rotations) for _ in range(args.runs)]
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
