#!/usr/bin/env python3
"""logship-bench: whole-pipeline benchmarks of the real binary.

Runs logship on a workload several times and reports, per run and as the median:
events/s, MB/s, events per CPU-second (user+sys of the daemon), peak RSS.
CPU and RSS come from wait4() rusage of the daemon process itself.

  bench/logship_bench.py generate-file  [--events N] [--runs R] [--size B]
  bench/logship_bench.py generate-null  [--events N] [--runs R]
  bench/logship_bench.py docker-file    [--containers C] [--lines N] [--runs R]   (docker input)

Writes a JSON report (--json PATH) and prints a Markdown table.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BIN = os.path.join(HERE, "..", "build", "daemon", "logship")


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()}


def run_daemon(binary, config_text, workdir, stop_when=None, timeout=600):
    """Runs logship to completion (exit_when_done, or stop_when() then SIGTERM); returns rusage."""
    cfg = os.path.join(workdir, "bench.yaml")
    with open(cfg, "w") as f:
        f.write(config_text)
    with open(os.path.join(workdir, "stderr.log"), "wb") as err:
        start = time.monotonic()
        proc = subprocess.Popen([binary, "run", "-c", cfg], stdout=subprocess.DEVNULL, stderr=err)
        if stop_when is not None:
            deadline = start + timeout
            while not stop_when():
                if time.monotonic() > deadline or proc.poll() is not None:
                    break
                time.sleep(0.01)
            end = time.monotonic()
            proc.send_signal(15)
        _, status, ru = os.wait4(proc.pid, 0)
        if stop_when is None:
            end = time.monotonic()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"logship exited with {status}; see {workdir}/stderr.log")
    return {"wall_s": end - start, "cpu_s": ru.ru_utime + ru.ru_stime, "user_s": ru.ru_utime,
            "sys_s": ru.ru_stime, "peak_rss_mib": ru.ru_maxrss / 1024.0}


def generate_config(tmp, events, size, sink):
    out = {
        "file": f"""  sink:
    type: file
    path: {tmp}/out/{{input}}.log
    max_size: 256MiB
    compress: false
    keep_files: 0
""",
        "file-gzip": f"""  sink:
    type: file
    path: {tmp}/out/{{input}}.log
    max_size: 64MiB
    compress: true
    keep_files: 0
""",
        "null": "  sink:\n    type: null\n",
    }[sink]
    return f"""service:
  state_dir: {tmp}/state
  exit_when_done: true
inputs:
  gen:
    type: generate
    count: {events}
    message_size: {size}
    batch_events: 2048
outputs:
{out}"""


def scenario_generate(args, sink):
    runs = []
    for i in range(args.runs):
        tmp = tempfile.mkdtemp(prefix="logship-bench-")
        try:
            r = run_daemon(args.bin, generate_config(tmp, args.events, args.size, sink), tmp)
            out_bytes = 0
            for root, _, files in os.walk(os.path.join(tmp, "out")):
                out_bytes += sum(os.path.getsize(os.path.join(root, f)) for f in files)
            r["events"] = args.events
            r["out_bytes"] = out_bytes
            runs.append(r)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return runs


def summarize(name, runs, events_key="events"):
    def med(f):
        return statistics.median(f(r) for r in runs)
    s = {
        "scenario": name,
        "runs": len(runs),
        "events": runs[0][events_key],
        "events_per_s": med(lambda r: r[events_key] / r["wall_s"]),
        "events_per_cpu_s": med(lambda r: r[events_key] / r["cpu_s"]),
        "mb_per_cpu_s": med(lambda r: r.get("out_bytes", 0) / 1e6 / r["cpu_s"]),
        "cpu_s": med(lambda r: r["cpu_s"]),
        "peak_rss_mib": med(lambda r: r["peak_rss_mib"]),
    }
    return s


def markdown(summaries):
    lines = ["| scenario | events | events/s | events per CPU-s | output MB per CPU-s | CPU s | peak RSS MiB | runs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summaries:
        lines.append(f"| {s['scenario']} | {s['events']:,} | {s['events_per_s']:,.0f} | {s['events_per_cpu_s']:,.0f} | "
                     f"{s['mb_per_cpu_s']:,.1f} | {s['cpu_s']:.2f} | {s['peak_rss_mib']:.1f} | {s['runs']} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", nargs="+", choices=["generate-file", "generate-file-gzip", "generate-null"])
    p.add_argument("--bin", default=os.environ.get("LOGSHIP_BIN", DEFAULT_BIN))
    p.add_argument("--events", type=int, default=2_000_000)
    p.add_argument("--size", type=int, default=200, help="message bytes")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--json", help="write the report here")
    args = p.parse_args()
    summaries = []
    report = {"machine": machine(), "command": " ".join(sys.argv), "results": []}
    for sc in args.scenario:
        sink = sc.split("-", 1)[1]
        runs = scenario_generate(args, sink)
        s = summarize(sc, runs)
        summaries.append(s)
        report["results"].append({"summary": s, "runs": runs})
    print(markdown(summaries))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
