#!/usr/bin/env python3
"""logship-bench: whole-pipeline benchmarks of the real binary, for tuning and for comparing peers.

Scenarios (each run R times, median reported) are <workload>-<sink>:
  workloads
    generate-*      synthetic events (--events, --size); each carries "seq=N"
    docker-*        a generated Docker json-file tree read from head (--containers, --lines,
                    --json-share, --multiline-share, --long-share, --parse)
    plain-*         --containers plain text files read by the file input from head (--lines)
    docker-live[-*] live writers at --rate lines/s for --duration s with Docker-style rotation
                    (--rotate-size); end-to-end latency from each line's Docker time to its
                    arrival at the sink (the file sink is polled every 50 ms; network sinks
                    timestamp each record as they read it)
  sinks
    file, file-gzip, null        logship's own outputs (docker-live: file only)
    syslog-tcp, syslog-tcp-lf    `syslog` output (RFC 5424 over TCP, octet-counting / LF framing)
                                 into the blackhole receiver of bench/sinks.py
    bulk, bulk-gzip              `elasticsearch` output (compression none / gzip) into the `_bulk`
                                 blackhole of bench/sinks.py, which answers like Elasticsearch
    otlp, otlp-gzip              `otlp` output (protobuf; compression none / gzip) into the
                                 OTLP/HTTP blackhole of bench/sinks.py
  e.g. docker-file, docker-syslog-tcp, docker-bulk, generate-bulk, docker-live-syslog-tcp

For every run: wall time, CPU (user+sys of the daemon from wait4 rusage), peak RSS, and a /proc
time series (CPU and RSS every 100 ms). Network sinks run in their own process and report their
own CPU, records delivered over time and (live) latency percentiles. Completeness: every record
id ("r=<container>-<n>", "seq=N" for generate into a network sink) arrived, none twice (file
sinks of docker-*, every network sink, docker-live). Reports: Markdown tables on stdout, JSON
(--json), PNG charts (--charts DIR, gnuplot): rss.png, cpu.png, throughput.png (records/s at the
sink), latency.png (latency by percentile), each drawn from the median run of every scenario.

Tuning sweeps: --sweep service.queue_max_bytes=1MiB,8MiB,64MiB (any service option or
outputs.sink.<option>); the table shows which value wins per CPU-second.

Peers: --peer fluent-bit=/path/to/fluent-bit runs the same docker workload through Fluent Bit
(tail + docker parser [+ multiline java] -> file), --peer filebeat=/path/to/filebeat through
Filebeat (filestream + container parser [+ java multiline + ndjson] -> file output), each with a
config written here, alternating runs with logship (docker-file; Filebeat also docker-bulk and
docker-bulk-gzip, its Elasticsearch output into the same blackhole), and reports the ratios per
CPU-second and of peak RSS. Peers are not part of the project; only a path is taken
(bench/peers/build-filebeat.sh builds a Filebeat from the Go module proxy).
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import loadgen  # noqa: E402
import sinks  # noqa: E402

DEFAULT_BIN = os.path.join(HERE, "..", "build", "daemon", "logship")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


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


class Sampler(threading.Thread):
    """Samples CPU seconds and RSS of a pid every `period` seconds from /proc."""

    def __init__(self, pid, period=0.1):
        super().__init__(daemon=True)
        self.pid, self.period, self.samples, self.stop_flag = pid, period, [], False
        self.t0 = time.monotonic()
        self.hwm_mib = 0.0

    def run(self):
        while not self.stop_flag:
            try:
                with open(f"/proc/{self.pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
                with open(f"/proc/{self.pid}/statm") as f:
                    rss = int(f.read().split()[1]) * PAGE / 2**20
                with open(f"/proc/{self.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            self.hwm_mib = max(self.hwm_mib, int(line.split()[1]) / 1024.0)
                if rss > 0:   # 0 once the process has exited and is waiting to be reaped
                    self.samples.append((time.monotonic() - self.t0, cpu, rss))
            except (OSError, IndexError, ValueError):
                break
            time.sleep(self.period)


def run_process(argv, workdir, env=None, stop_when=None, timeout=900):
    """Runs a daemon until it exits by itself (or stop_when() -> SIGTERM). Returns measurements."""
    with open(os.path.join(workdir, "stderr.log"), "ab") as err:
        start = time.monotonic()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env)
        sampler = Sampler(proc.pid)
        sampler.start()
        end, stopped = None, False
        if stop_when is not None:
            deadline = start + timeout
            # Not proc.poll(): it would reap a process that exits by itself (a peer that fails
            # to start) before wait4 below can read its rusage.
            exited = lambda: os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)  # noqa: E731
            while exited() is None and time.monotonic() < deadline and not stop_when():
                time.sleep(0.05)
            end = time.monotonic()
            stopped = exited() is None
            if stopped:
                proc.send_signal(15)
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)   # exited, not yet reaped
        sampler.stop_flag = True
        sampler.join()
        _, status, ru = os.wait4(proc.pid, 0)
        end = end or time.monotonic()
    if (stop_when is None or not stopped) and os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv[0]} exited with {status}; see {workdir}/stderr.log (--keep keeps it)")
    return {"wall_s": end - start, "cpu_s": ru.ru_utime + ru.ru_stime, "user_s": ru.ru_utime,
            "sys_s": ru.ru_stime, "series": sampler.samples, "t0": sampler.t0,
            # VmHWM of the exec'd image: ru_maxrss would include the forking Python process.
            "peak_rss_mib": sampler.hwm_mib}


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def apply_overrides(text, overrides):
    """overrides: {"service.x": v, "outputs.sink.y": v}; appended into the right YAML block."""
    for key, value in overrides.items():
        parts = key.split(".")
        if parts[0] == "service":
            text = text.replace("service:\n", f"service:\n  {parts[1]}: {value}\n", 1)
        elif parts[0] == "outputs" and len(parts) == 3:
            text = text.replace(f"  {parts[1]}:\n", f"  {parts[1]}:\n    {parts[2]}: {value}\n", 1)
        else:
            raise SystemExit(f"cannot apply override {key}")
    return text


SINKS = {
    "file": "  sink:\n    type: file\n    path: {tmp}/out/{{input}}.log\n    max_size: 256MiB\n    compress: false\n    keep_files: 0\n",
    "file-gzip": "  sink:\n    type: file\n    path: {tmp}/out/{{input}}.log\n    max_size: 64MiB\n    compress: true\n    keep_files: 0\n",
    "null": "  sink:\n    type: null\n",
    "syslog-tcp": "  sink:\n    type: syslog\n    host: 127.0.0.1\n    port: {port}\n    transport: tcp\n    framing: octet-counting\n    sd_fields: [rid]\n",
    "syslog-tcp-lf": "  sink:\n    type: syslog\n    host: 127.0.0.1\n    port: {port}\n    transport: tcp\n    framing: lf\n    sd_fields: [rid]\n",
    "bulk": "  sink:\n    type: elasticsearch\n    hosts: [\"http://127.0.0.1:{port}\"]\n    compression: none\n",
    "bulk-gzip": "  sink:\n    type: elasticsearch\n    hosts: [\"http://127.0.0.1:{port}\"]\n    compression: gzip\n",
    "otlp": "  sink:\n    type: otlp\n    endpoint: http://127.0.0.1:{port}\n    compression: none\n",
    "otlp-gzip": "  sink:\n    type: otlp\n    endpoint: http://127.0.0.1:{port}\n    compression: gzip\n",
}
# Sinks served by a bench/sinks.py process: sink name -> its kind there. Syslog carries the
# `rid` field (a JSON payload's record id once --parse has moved it out of the message) as a
# structured-data parameter, so every record still shows its id once.
NET_SINKS = {"syslog-tcp": "syslog-tcp", "syslog-tcp-lf": "syslog-tcp", "bulk": "bulk", "bulk-gzip": "bulk",
             "otlp": "otlp", "otlp-gzip": "otlp"}


class NetSink:
    """A bench/sinks.py blackhole in its own process (its CPU is reported apart from logship's)."""

    def __init__(self, sink, workdir, latency=False, id_kind="r"):
        argv = [sys.executable, os.path.join(HERE, "sinks.py"), NET_SINKS[sink], "--id", id_kind]
        with open(os.path.join(workdir, "sink.log"), "ab") as err:
            self.proc = subprocess.Popen(argv + (["--latency"] if latency else []), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=err, text=True)
        self.port = self._reply()["port"]

    def _reply(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the bench sink died; see sink.log")
        return json.loads(line)

    def status(self):
        self.proc.stdin.write("status\n")
        self.proc.stdin.flush()
        return self._reply()

    def finish(self, timeout=10):
        """Waits for the client to close its connections (all data read), returns the result."""
        self.proc.stdin.write(f"finish {timeout}\n")
        self.proc.stdin.flush()
        r = self._reply()
        self.proc.wait(timeout=10)
        return r

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def sink_measurements(res, t0, expected):
    """A sink's result -> the run's fields: delivered records over time (s since the daemon
    started), completeness against `expected` record ids, the sink's own CPU and RSS."""
    series = [(t - t0, n) for t, n in res["timeline"]]
    last = series[-1][0] if series else 0.0
    r = {"records_delivered": res["records"], "out_bytes": res["bytes"], "sink_cpu_s": res["cpu_s"],
         "sink_rss_mib": res["peak_rss_mib"], "sink_errors": res["errors"],
         "sink_requests": res["requests"], "sink_connections": res["connections"],
         "delivered_series": series,
         "sink_per_s": res["records"] / last if last > 0 else 0.0}
    if expected is not None:
        r.update(records_expected=expected, records_seen=res["distinct_ids"],
                 missing=expected - res["distinct_ids"], duplicates=res["duplicates"])
    if "latency_ms" in res:
        r.update(latency_ms=res["latency_ms"], latency_curve=res["latency_curve"])
    return r


def generate_config(tmp, args, sink, port=0):
    return (f"service:\n  state_dir: {tmp}/state\n  exit_when_done: true\n"
            f"inputs:\n  gen:\n    type: generate\n    count: {args.events}\n    message_size: {args.size}\n"
            f"    batch_events: 2048\noutputs:\n" + SINKS[sink].format(tmp=tmp, port=port))


def plain_config(tmp, root, args, sink, port=0):
    return (f"service:\n  state_dir: {tmp}/state\n  exit_when_done: true\n"
            f"inputs:\n  files:\n    type: file\n    paths: [\"{root}/logs/*.log\"]\n"
            f"    exit_at_eof: true\noutputs:\n" + SINKS[sink].format(tmp=tmp, port=port))


def docker_config(tmp, root, args, sink, port=0):
    processors = ""
    route = ""
    input_processors = ""
    if args.parse:
        processors = ("processors:\n  json:\n    type: json\n"
                      "  multiline:\n    type: multiline\n    rules: java\n")
        route = "routes:\n  - match: [docker]\n    processors: [multiline, json]\n    outputs: [sink]\n"
    elif args.chain == "json":
        processors = "processors:\n  json:\n    type: json\n"
        route = "routes:\n  - match: [docker]\n    processors: [json]\n    outputs: [sink]\n"
    elif args.chain == "transforms":
        # The json chain plus a 3-clause filter, a 3-operation modify and a route on a label;
        # the filter matches nothing of this workload, so completeness still holds.
        processors = ("processors:\n  json:\n    type: json\n"
                      "  drop_noise:\n    type: filter\n"
                      "    drop_if: 'path == \"/health\" or level == trace or message contains \"kube-probe\"'\n"
                      "  shape:\n    type: modify\n    set: {env: prod}\n    add: {team: none}\n"
                      "    rename: {status: http_status}\n")
        input_processors = "    processors: [json, drop_noise, shape]\n"
        route = ("routes:\n  - match: {inputs: [docker], condition: 'label(\"com.docker.compose.project\") == \"bench\"'}\n"
                 "    exclusive: true\n    outputs: [sink]\n"
                 "  - match: [docker]\n    outputs: [sink]\n")
    return (f"service:\n  state_dir: {tmp}/state\n  exit_when_done: true\n"
            f"inputs:\n  docker:\n    type: docker\n    docker_root: {root}\n    exit_at_eof: true\n"
            + input_processors + processors + "outputs:\n" + SINKS[sink].format(tmp=tmp, port=port) + route)


RID = re.compile(rb"r=(\d+)-(\d+)")


def verify_records(out_dir, expected_records):
    """Every record id arrived once. Returns (records seen, missing, duplicates)."""
    seen = {}
    for root, _, files in os.walk(out_dir):
        for name in files:
            path = os.path.join(root, name)
            opener = __import__("gzip").open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                for line in f:
                    m = RID.search(line)
                    if m:
                        seen[m.group(0)] = seen.get(m.group(0), 0) + 1
    duplicates = sum(c - 1 for c in seen.values())
    return len(seen), expected_records - len(seen), duplicates


def fluent_bit_config(tmp, root, parse):
    ml = "    multiline.parser docker, java\n" if parse else "    multiline.parser docker\n"
    return f"""[SERVICE]
    flush 1
    log_level warn
    storage.path {tmp}/fb-storage
[INPUT]
    name tail
    path {root}/containers/*/*-json.log
    read_from_head true
    exit_on_eof true
{ml}    db {tmp}/fb.db
    mem_buf_limit 64MB
[OUTPUT]
    name file
    match *
    path {tmp}/out
    format plain
"""


def filebeat_config(tmp, root, parse, sink="file", port=0):
    """Filebeat's nearest equivalent of logship's docker-file scenario: a filestream input over
    the same files from the beginning, the `container` parser for Docker's JSON (stream and
    time; partial lines joined), [--parse: java multiline and an ndjson decode of the message,
    keys at the top level like logship's json parser] and the file output. Filebeat adds no
    container metadata from config.v2.json (its add_docker_metadata asks the Docker API), which
    logship's docker input does. Queue and output settings are Filebeat's defaults, except the
    bulk size (its default is 50 documents; logship sends up to 4096 per request), raised to the
    2048 events its memory queue hands over at once. bulk-gzip: level 1, as logship's default."""
    parsers = "      - container:\n          stream: all\n          format: docker\n"
    if parse:
        # Filebeat's documented Java pattern; logship's `rules: java` groups the same lines here.
        parsers += ("      - multiline:\n          type: pattern\n"
                    "          pattern: '^[[:space:]]+(at|\\.{3})[[:space:]]+\\b|^Caused by:'\n"
                    "          negate: false\n          match: after\n"
                    # The payload's msg becomes the message and its keys top-level fields, as
                    # logship's json parser does; non-JSON lines pass untouched and unlogged.
                    "      - ndjson:\n          target: \"\"\n          overwrite_keys: true\n"
                    "          message_key: msg\n          ignore_decoding_error: true\n")
    return f"""filebeat.inputs:
  - type: filestream
    id: bench
    paths:
      - {root}/containers/*/*-json.log
    parsers:
{parsers}
path.data: {tmp}/fb-data
path.logs: {tmp}/fb-logs
logging.level: warning
logging.to_stderr: true
logging.to_files: false
logging.metrics.enabled: false
monitoring.enabled: false
http.enabled: false
""" + (f"""output.file:
  path: {tmp}/out
  filename: filebeat
  rotate_every_kb: 104857600
  number_of_files: 2
""" if sink == "file" else f"""setup.template.enabled: false
setup.ilm.enabled: false
output.elasticsearch:
  hosts: ["http://127.0.0.1:{port}"]
  bulk_max_size: 2048
  compression_level: {1 if sink == "bulk-gzip" else 0}
""")


class OutputFollower:
    """Counts the lines a peer has written into out_dir so far (reading only new bytes), for
    peers that do not exit by themselves at end of input. done() is true once `expected` lines
    arrived, or when nothing new arrived for `stall_s` seconds after the first (the run then
    shows what is missing)."""

    def __init__(self, out_dir, expected, stall_s=30.0):
        self.out_dir, self.expected, self.stall_s = out_dir, expected, stall_s
        self.offsets, self.lines, self.last_growth = {}, 0, time.monotonic()

    def done(self):
        grew = False
        for name in os.listdir(self.out_dir):
            path = os.path.join(self.out_dir, name)
            with open(path, "rb") as f:
                f.seek(self.offsets.get(path, 0))
                data = f.read()
            if data:
                self.offsets[path] = self.offsets.get(path, 0) + len(data)
                self.lines += data.count(b"\n")
                grew = True
        now = time.monotonic()
        if grew:
            self.last_growth = now
        return self.lines >= self.expected or (self.lines > 0 and now - self.last_growth > self.stall_s)


def verify_filebeat(out_dir, expected_records):
    """Filebeat's output lines are JSON events whose `message` holds the log line (or, after the
    ndjson parser, the payload's msg with its rid as a top-level field): find each record id
    there. Returns (records seen, missing, duplicates)."""
    seen = {}
    for name in os.listdir(out_dir):
        with open(os.path.join(out_dir, name), "rb") as f:
            for line in f:
                ev = json.loads(line)
                m = RID.search(ev.get("message", "").encode())
                if not m and isinstance(ev.get("rid"), str):
                    m = RID.search(ev["rid"].encode())
                if m:
                    seen[m.group(0)] = seen.get(m.group(0), 0) + 1
    return len(seen), expected_records - len(seen), sum(c - 1 for c in seen.values())


PEERS = ("fluent-bit", "filebeat")


def run_peer(name, path, tmp, root, args, s, sink, net):
    """Runs a peer on the workload in tmp into `sink` (file, or the bench/sinks.py process
    `net`). Returns its measurements (run_process's)."""
    if name == "fluent-bit":
        with open(os.path.join(tmp, "peer.conf"), "w") as f:
            f.write(fluent_bit_config(tmp, root, args.parse))
        return run_process([path, "-c", os.path.join(tmp, "peer.conf")], tmp)
    if name == "filebeat":
        with open(os.path.join(tmp, "filebeat.yml"), "w") as f:
            f.write(filebeat_config(tmp, root, args.parse, sink, net.port if net else 0))
        # One event per Docker line, or per record once multiline has joined the traces.
        events = s["records"] if args.parse else s["lines"]
        if net:
            done = lambda: net.status()["records"] >= events  # noqa: E731
        else:
            done = OutputFollower(os.path.join(tmp, "out"), events).done
        return run_process([path, "-c", os.path.join(tmp, "filebeat.yml"), "--path.home", tmp,
                            "--path.config", tmp, "--strict.perms=false"], tmp,
                           stop_when=done, timeout=900)
    raise SystemExit(f"unknown peer {name}: one of {', '.join(PEERS)}")


def run_one(args, scenario, overrides, i, peer=None):
    """One run of a scenario (workload seed i + 1) by logship, or by peer=(name, path)."""
    tmp = tempfile.mkdtemp(prefix="logship-bench-")
    net = None
    try:
        kind, sink = scenario.split("-", 1)
        if sink in NET_SINKS:
            net = NetSink(sink, tmp, id_kind="seq" if kind == "generate" else "r")
        port = net.port if net else 0
        root = s = None
        if kind == "generate":
            cfg = apply_overrides(generate_config(tmp, args, sink, port), overrides)
            units = args.events
            # Generated events carry "seq=N": a network sink checks each arrived once.
            expected = args.events if net else None
        elif kind == "plain":
            # The file input over --containers plain text files (the docker workload's plain
            # records, without json-file framing).
            root = os.path.join(tmp, "plain")
            s = loadgen.write_plain_tree(root, args.containers, args.lines, args.size, seed=i + 1)
            units = s["lines"]
            expected = s["records"]
            cfg = apply_overrides(plain_config(tmp, root, args, sink, port), overrides)
        else:
            root = os.path.join(tmp, "docker")
            s = loadgen.write_tree(root, args.containers, args.lines, args.size, args.json_share,
                                   args.multiline_share, args.long_share, seed=i + 1,
                                   trace_lines=args.trace_lines, long_sizes=args.long_size)
            units = s["lines"]
            expected = s["records"]
            cfg = apply_overrides(docker_config(tmp, root, args, sink, port), overrides)
        os.makedirs(os.path.join(tmp, "out"), exist_ok=True)
        if peer:
            r = run_peer(peer[0], peer[1], tmp, root, args, s, sink, net)
        else:
            with open(os.path.join(tmp, "bench.yaml"), "w") as f:
                f.write(cfg)
            r = run_process([args.bin, "run", "-c", os.path.join(tmp, "bench.yaml")], tmp)
        r["units"] = units
        r["sink"] = sink
        if net:
            # exit_when_done: logship exited after every record was acknowledged; the sink
            # still drains what the kernel holds until the client's close reaches it.
            r.update(sink_measurements(net.finish(10), r["t0"], None if args.no_verify else expected))
        else:
            r["out_bytes"] = dir_bytes(os.path.join(tmp, "out"))
        if expected is not None and not net and sink != "null" and not args.no_verify:
            verify = verify_filebeat if peer and peer[0] == "filebeat" else verify_records
            seen, missing, dup = verify(os.path.join(tmp, "out"), expected)
            r.update(records_expected=expected, records_seen=seen, missing=missing, duplicates=dup)
        if r.get("missing") or r.get("duplicates"):
            who = f" [{peer[0]}]" if peer else ""
            print(f"!! {scenario}{who} run {i}: {r['missing']} records missing, "
                  f"{r['duplicates']} duplicated", file=sys.stderr)
        return r
    finally:
        if net:
            net.close()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def run_scenario(args, scenario, overrides, peer=None):
    return [run_one(args, scenario, overrides, i, peer) for i in range(args.runs)]


def run_alternating(args, scenario, overrides, peers):
    """logship and each peer take turns on the same workload (run i: seed i + 1), so a slow
    spell of the shared machine falls on both sides. Returns (logship runs, {peer: runs})."""
    mine, theirs = [], {name: [] for name, _ in peers}
    for i in range(args.runs):
        mine.append(run_one(args, scenario, overrides, i))
        for name, path in peers:
            theirs[name].append(run_one(args, scenario, overrides, i, peer=(name, path)))
    return mine, theirs


def _ns_of(ts, cache={}):
    """'2026-01-01T00:00:00.123456789Z' -> ns since the epoch (seconds part cached)."""
    import calendar
    head = ts[:19]
    sec = cache.get(head)
    if sec is None:
        sec = calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S"))
        cache.clear()
        cache[head] = sec
    frac = ts[20:-1] if len(ts) > 20 and ts[19] == "." else ""
    return sec * 1_000_000_000 + int((frac + "000000000")[:9] or 0)


def run_live(args, sink="file"):
    """Writers append Docker json-file lines at a fixed rate with rotation while logship tails
    them into the sink; latency = arrival at the sink - the line's Docker time. The file sink is
    followed by the harness (every 50 ms, so its figures include up to 50 ms of polling); a
    network sink timestamps each record as it reads it."""
    runs = []
    for i in range(args.runs):
        tmp = tempfile.mkdtemp(prefix="logship-bench-live-")
        net = None
        try:
            root = os.path.join(tmp, "docker")
            ids = [loadgen.container_id(c, 100 + i) for c in range(args.containers)]
            for c, cid in enumerate(ids):
                os.makedirs(os.path.join(root, "containers", cid))
                loadgen.write_config(os.path.join(root, "containers", cid), cid, c)
            out_dir = os.path.join(tmp, "out")
            os.makedirs(out_dir)
            if sink == "file":
                out = (f"  sink:\n    type: file\n    path: {out_dir}/{{container_name}}.log\n"
                       f"    max_size: 1GiB\n    compress: false\n    keep_files: 0\n")
            else:
                net = NetSink(sink, tmp, latency=True)
                out = SINKS[sink].format(tmp=tmp, port=net.port)
            cfg = (f"service:\n  state_dir: {tmp}/state\n"
                   f"inputs:\n  docker:\n    type: docker\n    docker_root: {root}\n"
                   f"outputs:\n" + out)
            with open(os.path.join(tmp, "bench.yaml"), "w") as f:
                f.write(apply_overrides(cfg, {}))
            written = [0]
            latencies = []
            seen = {}
            arrivals = []       # (monotonic s, cumulative records): the file sink's timeline
            offsets = {}
            stop_writing = threading.Event()

            def writer():
                per_tick = max(1, args.rate // 100)
                files = {cid: open(os.path.join(root, "containers", cid, f"{cid}-json.log"), "a") for cid in ids}
                n = 0
                t0 = time.monotonic()
                while not stop_writing.is_set():
                    for _ in range(per_tick):
                        cid = ids[n % len(ids)]
                        f = files[cid]
                        f.write(loadgen.json_line(f"r={n % len(ids)}-{n // len(ids)} live line {'x' * 120}\n",
                                                  "stdout", time.time_ns()))
                        n += 1
                        if f.tell() >= args.rotate_size:   # Docker: rename to .1, open a new file
                            f.close()
                            path = os.path.join(root, "containers", cid, f"{cid}-json.log")
                            os.replace(path, path + ".1")
                            files[cid] = open(path, "a")
                    for f in files.values():
                        f.flush()
                    written[0] = n
                    next_tick = t0 + n / args.rate
                    time.sleep(max(0.0, next_tick - time.monotonic()))
                for f in files.values():
                    f.close()

            def follow():
                for name in os.listdir(out_dir):
                    path = os.path.join(out_dir, name)
                    with open(path, "rb") as f:
                        f.seek(offsets.get(path, 0))
                        data = f.read()
                    end = data.rfind(b"\n") + 1
                    offsets[path] = offsets.get(path, 0) + end
                    now = time.time_ns()
                    for line in data[:end].splitlines():
                        ts = json.loads(line)["timestamp"]
                        latencies.append((now - _ns_of(ts)) / 1e6)
                        m = RID.search(line)
                        if m:
                            seen[m.group(0)] = seen.get(m.group(0), 0) + 1
                    if end:
                        arrivals.append((time.monotonic(), len(latencies)))

            def delivered():
                if net:
                    return net.status()["distinct_ids"]
                follow()
                return len(seen)

            w = threading.Thread(target=writer, daemon=True)
            stop_at = time.monotonic() + args.duration

            def done():
                n = delivered()
                if time.monotonic() >= stop_at and not stop_writing.is_set():
                    stop_writing.set()
                    w.join()
                return stop_writing.is_set() and n >= written[0]

            w.start()
            r = run_process([args.bin, "run", "-c", os.path.join(tmp, "bench.yaml")], tmp,
                            stop_when=done, timeout=args.duration + 60)
            stop_writing.set()
            w.join()
            r.update(units=written[0], sink=sink)
            if net:
                r.update(sink_measurements(net.finish(10), r["t0"], written[0]))
            else:
                follow()
                summary, curve = sinks.latency_summary(latencies)
                last = arrivals[-1][0] - r["t0"] if arrivals else 0.0
                r.update(out_bytes=sum(offsets.values()), records_delivered=len(latencies),
                         delivered_series=[(t - r["t0"], n) for t, n in arrivals],
                         sink_per_s=len(latencies) / last if last > 0 else 0.0,
                         records_expected=written[0], records_seen=len(seen),
                         missing=written[0] - len(seen), duplicates=sum(c - 1 for c in seen.values()))
                if summary:
                    r.update(latency_ms=summary, latency_curve=curve)
            if r["missing"] or r["duplicates"]:
                print(f"!! docker-live {sink} run {i}: {r['missing']} records missing, "
                      f"{r['duplicates']} duplicated", file=sys.stderr)
            runs.append(r)
        finally:
            if net:
                net.close()
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
    return runs


QUANTILES = ("p50", "p90", "p99", "p99.9", "max")


def median_run(runs):
    """The run whose wall rate is the median: the one drawn in the charts."""
    return sorted(runs, key=lambda r: r["units"] / r["wall_s"])[len(runs) // 2]


def summarize(label, runs):
    med = lambda f: statistics.median(f(r) for r in runs)  # noqa: E731
    s = {
        "scenario": label, "sink": runs[0].get("sink", "?"), "runs": len(runs), "units": runs[0]["units"],
        "per_s": med(lambda r: r["units"] / r["wall_s"]),
        "per_cpu_s": med(lambda r: r["units"] / r["cpu_s"]),
        "mb_per_cpu_s": med(lambda r: r["out_bytes"] / 1e6 / r["cpu_s"]),
        "cpu_s": med(lambda r: r["cpu_s"]), "user_s": med(lambda r: r["user_s"]),
        "sys_s": med(lambda r: r["sys_s"]), "peak_rss_mib": med(lambda r: r["peak_rss_mib"]),
    }
    if "records_delivered" in runs[0]:
        s["records_delivered"] = med(lambda r: r["records_delivered"])
        s["sink_per_s"] = med(lambda r: r["sink_per_s"])
    if "sink_cpu_s" in runs[0]:
        s["sink_cpu_s"] = med(lambda r: r["sink_cpu_s"])
        s["sink_rss_mib"] = med(lambda r: r["sink_rss_mib"])
        s["sink_errors"] = max(r["sink_errors"] for r in runs)
    if "missing" in runs[0]:
        # Worst run, not the median: one lost record anywhere is a failure.
        s["missing"] = max(r["missing"] for r in runs)
        s["duplicates"] = max(r["duplicates"] for r in runs)
        s["complete"] = s["missing"] == 0
    if all("latency_ms" in r for r in runs):
        s["latency_ms"] = {q: med(lambda r, q=q: r["latency_ms"][q]) for q in QUANTILES}
    return s


def markdown(summaries):
    num = lambda v, fmt: "-" if v is None else format(v, fmt)  # noqa: E731
    out = ["| scenario | sink | events/lines | per s (wall) | delivered per s (sink) | per CPU-s | "
           "output MB per CPU-s | CPU s | peak RSS MiB | sink CPU s | missing | dup | runs |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summaries:
        out.append(f"| {s['scenario']} | {s['sink']} | {s['units']:,} | {s['per_s']:,.0f} | "
                   f"{num(s.get('sink_per_s'), ',.0f')} | {s['per_cpu_s']:,.0f} | {s['mb_per_cpu_s']:,.1f} | "
                   f"{s['cpu_s']:.2f} | {s['peak_rss_mib']:.1f} | {num(s.get('sink_cpu_s'), '.2f')} | "
                   f"{s.get('missing', '-')} | {s.get('duplicates', '-')} | {s['runs']} |")
    lat = [s for s in summaries if "latency_ms" in s]
    if lat:
        out += ["", "| scenario | latency p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |",
                "|---|---:|---:|---:|---:|---:|"]
        for s in lat:
            l = s["latency_ms"]
            out.append(f"| {s['scenario']} | " + " | ".join(f"{l[q]:.1f}" for q in QUANTILES) + " |")
    return "\n".join(out)


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


def charts(results, directory):
    """rss.png, cpu.png (daemon, from /proc), throughput.png (records/s arriving at the sink)
    and latency.png (latency by percentile, log "nines" axis) for the median run of each."""
    if not shutil.which("gnuplot"):
        print("gnuplot not found: no charts", file=sys.stderr)
        return []
    os.makedirs(directory, exist_ok=True)
    head = "set terminal pngcairo size 900,500 noenhanced\nset grid\nset key below\n"
    picked = [(label, median_run(runs)) for label, runs in results]
    written = []
    for metric, col, ylabel in (("rss", 3, "RSS MiB"), ("cpu", 2, "CPU seconds (cumulative)")):
        plots = []
        for i, (label, run) in enumerate(picked):
            data = os.path.join(directory, f"series-{i}.dat")
            with open(data, "w") as f:
                for t, cpu, rss in run["series"]:
                    f.write(f"{t:.3f} {cpu:.3f} {rss:.2f}\n")
            plots.append(f"'{data}' using 1:{col} with lines lw 2 lt {i + 1} title '{label}'")
        gnuplot(head + f"set output '{directory}/{metric}.png'\nset title 'logship {ylabel}'\n"
                f"set xlabel 'seconds since start'\nset ylabel '{ylabel}'\nplot " + ", ".join(plots) + "\n")
        written.append(f"{directory}/{metric}.png")

    plots = []
    for i, (label, run) in enumerate(picked):
        series = run.get("delivered_series") or []
        if len(series) < 2:
            continue
        # Records/s in fixed bins from the cumulative count: bins of ~1/40 of the run, >= 100 ms.
        span = series[-1][0]
        width = max(0.1, span / 40)
        data = os.path.join(directory, f"throughput-{i}.dat")
        with open(data, "w") as f:
            k, prev_n, edge = 0, 0, width
            while edge <= span + width:
                while k < len(series) and series[k][0] <= edge:
                    k += 1
                n = series[k - 1][1] if k else 0
                f.write(f"{edge - width / 2:.3f} {(n - prev_n) / width:.1f}\n")
                prev_n, edge = n, edge + width
        plots.append(f"'{data}' using 1:2 with linespoints lw 2 lt {i + 1} title '{label}'")
    if plots:
        gnuplot(head + f"set output '{directory}/throughput.png'\nset title 'records per second "
                "delivered at the sink'\nset xlabel 'seconds since logship started'\n"
                "set ylabel 'records/s'\nset yrange [0:*]\nplot " + ", ".join(plots) + "\n")
        written.append(f"{directory}/throughput.png")

    plots = []
    for i, (label, run) in enumerate(picked):
        curve = run.get("latency_curve")
        if not curve:
            continue
        data = os.path.join(directory, f"latency-{i}.dat")
        with open(data, "w") as f:
            for q, ms in curve:
                if q < 1.0:   # x = 1/(1-q): 50% -> 2, 99% -> 100, 99.99% -> 10000
                    f.write(f"{1 / (1 - q):.4f} {ms:.3f}\n")
        plots.append(f"'{data}' using 1:2 with linespoints lw 2 lt {i + 1} "
                     f"title '{label} (max {curve[-1][1]:.1f} ms)'")
    if plots:
        gnuplot(head + f"set output '{directory}/latency.png'\nset title 'end-to-end latency by "
                "percentile (record timestamp -> receipt at the sink)'\nset logscale x\n"
                "set xtics ('0%%' 1, '50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000)\n"
                "set xlabel 'percentile'\nset ylabel 'ms'\nset yrange [0:*]\nplot " + ", ".join(plots) + "\n")
        written.append(f"{directory}/latency.png")
    return written


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    nets = list(NET_SINKS)
    p.add_argument("scenario", nargs="+", choices=(
        ["generate-file", "generate-file-gzip", "generate-null", "docker-file", "docker-file-gzip",
         "docker-null", "docker-live", "plain-file", "plain-null"] + [f"{k}-{n}" for k in ("generate", "docker", "docker-live") for n in nets]))
    p.add_argument("--bin", default=os.environ.get("LOGSHIP_BIN", DEFAULT_BIN))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--events", type=int, default=2_000_000)
    p.add_argument("--size", type=int, default=None, help="message bytes (generate: 200, docker: 180)")
    p.add_argument("--containers", type=int, default=8)
    p.add_argument("--lines", type=int, default=1_000_000)
    p.add_argument("--json-share", type=float, default=0.30)
    p.add_argument("--multiline-share", type=float, default=0.03)
    p.add_argument("--long-share", type=float, default=0.0)
    p.add_argument("--trace-lines", type=loadgen.span, default=None, help="docker: MIN-MAX lines per trace")
    p.add_argument("--long-size", type=loadgen.span, default=None, help="docker: MIN-MAX bytes of a long line")
    p.add_argument("--parse", action="store_true", help="docker: json parser + java multiline on")
    p.add_argument("--chain", choices=["none", "json", "transforms"], default="none",
                   help="docker without --parse: json parser only, or json + filter + modify + "
                        "a route on a label")
    p.add_argument("--rate", type=int, default=5000, help="docker-live: lines per second")
    p.add_argument("--duration", type=float, default=10, help="docker-live: seconds of writing")
    p.add_argument("--rotate-size", type=int, default=10 * 2**20, help="docker-live: rotate at bytes")
    p.add_argument("--sweep", action="append", default=[], help="option=v1,v2,... (see above)")
    p.add_argument("--peer", action="append", default=[], help="name=/path/to/binary (fluent-bit, filebeat)")
    p.add_argument("--no-verify", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the temporary directories")
    p.add_argument("--json", help="write the JSON report here")
    p.add_argument("--charts", help="write PNG charts into this directory")
    args = p.parse_args()
    if args.size is None:
        args.size = 200 if all(s.startswith("generate") for s in args.scenario) else 180

    variants = [({}, "")]
    for sw in args.sweep:
        key, values = sw.split("=", 1)
        variants = [(dict(o, **{key: v}), f"{lab} {key}={v}".strip()) for o, lab in variants for v in values.split(",")]

    peers = [tuple(p.split("=", 1)) for p in args.peer]
    for name, _ in peers:
        if name not in PEERS:
            raise SystemExit(f"unknown peer {name}: one of {', '.join(PEERS)}")
    results, summaries = [], []
    for sc in args.scenario:
        # The peer configs written here are for the from-head docker workload into files
        # (Fluent Bit, Filebeat) or the _bulk blackhole (Filebeat).
        sink = sc.split("-", 1)[1]
        with_peers = [(n, pth) for n, pth in peers
                      if sc.startswith("docker") and not sc.startswith("docker-live")
                      and (sink == "file" or (n == "filebeat" and sink in ("bulk", "bulk-gzip")))]
        for n, (overrides, label) in enumerate(variants):
            peer_runs = {}
            if sc.startswith("docker-live"):
                runs = run_live(args, sc[len("docker-live-"):] or "file")
            elif with_peers and n == 0:
                runs, peer_runs = run_alternating(args, sc, overrides, with_peers)
            else:
                runs = run_scenario(args, sc, overrides)
            name = f"{sc} {label}".strip()
            results.append((name, runs))
            summaries.append(summarize(name, runs))
            for pname, pruns in peer_runs.items():
                results.append((f"{name} [{pname}]", pruns))
                summaries.append(summarize(f"{name} [{pname}]", pruns))

    chart_files = charts(results, args.charts) if args.charts else []
    print(markdown(summaries))
    if len(variants) > 1:
        best = max(summaries, key=lambda s: s["per_cpu_s"])
        print(f"\nbest per CPU-second: {best['scenario']} ({best['per_cpu_s']:,.0f}/CPU-s)")
    for s in summaries:
        if "[" in s["scenario"]:
            base = next(b for b in summaries if b["scenario"] == s["scenario"].split(" [")[0])
            print(f"\n{s['scenario']}: logship is {base['per_cpu_s'] / s['per_cpu_s']:.2f}x per CPU-second "
                  f"(lines per CPU-s {base['per_cpu_s']:,.0f} vs {s['per_cpu_s']:,.0f}; user+sys "
                  f"{base['user_s']:.2f}+{base['sys_s']:.2f} s vs {s['user_s']:.2f}+{s['sys_s']:.2f} s), "
                  f"RSS ratio {base['peak_rss_mib'] / s['peak_rss_mib']:.2f} "
                  f"({base['peak_rss_mib']:.1f} vs {s['peak_rss_mib']:.1f} MiB)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "command": " ".join(sys.argv), "summaries": summaries,
                       "charts": chart_files,
                       "runs": {name: [{k: v for k, v in r.items() if k not in ("series", "delivered_series")}
                                       for r in runs] for name, runs in results}}, f, indent=2)


if __name__ == "__main__":
    main()
