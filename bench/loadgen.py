#!/usr/bin/env python3
"""Docker-like workload generator: writes container log trees in Docker's exact json-file format.

  bench/loadgen.py tree ROOT [--containers 8] [--lines 1000000] [--size 180] [--json-share 0.30]
                        [--multiline-share 0.03] [--long-share 0] [--seed 1]
                        [--trace-lines MIN-MAX] [--long-size MIN-MAX]

Creates ROOT/containers/<64-hex id>/<id>-json.log plus config.v2.json (name, image, labels) for
each container. Every logical record carries a unique id "r=<container>-<n>" so a sink can check
completeness: a plain line or a JSON payload is one json-file line; a Java stack trace (stderr) is
one record spread over several lines; a long line (--long-share) is split into Docker's 16 KiB
partial chunks. Prints a JSON summary: lines written, logical records, bytes.
"""
import argparse
import hashlib
import json
import os
import random
import sys
import time

CHUNK = 16 * 1024
WORDS = ("GET POST PUT /api/v1/orders /api/v1/users /healthz /static/app.js user_id=42 cart=7 "
         "status=200 status=404 latency_ms=12 upstream=10.0.0.7:8080 ua=Mozilla/5.0 ok retry cache=miss").split()
TRACE = [
    "java.lang.IllegalStateException: order service unavailable",
    "\tat com.shop.orders.OrderService.place(OrderService.java:87)",
    "\tat com.shop.api.OrderController.create(OrderController.java:42)",
    "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)",
    "\tat java.base/java.lang.Thread.run(Thread.java:833)",
    "Caused by: java.net.ConnectException: Connection refused",
    "\tat java.base/sun.nio.ch.Net.connect0(Native Method)",
    "\t... 12 more",
]


def rfc3339(ns):
    s, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s))
    if frac == 0:
        return base + "Z"
    return base + "." + f"{frac:09d}".rstrip("0") + "Z"


def json_line(log, stream, ns):
    # Docker's key order: log, stream, time; Go escapes <, >, & as \u003c etc.
    text = json.dumps(log, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'{{"log":{text},"stream":"{stream}","time":"{rfc3339(ns)}"}}\n'


def container_id(i, seed):
    return hashlib.sha256(f"logship-bench-{seed}-{i}".encode()).hexdigest()


def write_config(cdir, cid, i):
    cfg = {
        "ID": cid,
        "Name": f"/bench-app-{i}",
        "Created": "2026-01-01T00:00:00.000000000Z",
        "Image": "sha256:" + hashlib.sha256(b"img").hexdigest(),
        "Config": {"Hostname": cid[:12], "Image": f"shop/app-{i % 3}:1.{i}",
                   "Labels": {"com.docker.compose.project": "bench", "com.docker.compose.service": f"app{i}",
                              "team": "shop"},
                   "Env": ["SECRET_TOKEN=must-not-leak"]},
        "State": {"Running": True, "Pid": 1000 + i},
        "LogPath": os.path.join(cdir, f"{cid}-json.log"),
    }
    with open(os.path.join(cdir, "config.v2.json.tmp"), "w") as f:
        json.dump(cfg, f)
    os.replace(os.path.join(cdir, "config.v2.json.tmp"), os.path.join(cdir, "config.v2.json"))


def trace_of(rid, rng, trace_lines):
    """A Java trace: the fixed 8 lines of TRACE, or (trace_lines=(lo, hi)) lo..hi lines."""
    if trace_lines is None:
        return [f"{rid} {TRACE[0]}"] + TRACE[1:]
    n = rng.randint(*trace_lines)
    frames = [f"\tat com.shop.layer{j % 7}.Service{j}.call(Service{j}.java:{10 + j})" for j in range(n - 2)]
    return [f"{rid} {TRACE[0]}"] + frames + ["\t... 12 more"]


def records_for(c, n, rng, size, json_share, multiline_share, long_share, trace_lines=None,
                long_sizes=None):
    """Yields (stream, [log chunks]) per logical record; chunks already end as Docker writes them."""
    for k in range(n):
        rid = f"r={c}-{k}"
        x = rng.random()
        if x < multiline_share:
            lines = trace_of(rid, rng, trace_lines)
            yield "stderr", [l + "\n" for l in lines], rid
        elif x < multiline_share + json_share:
            payload = {"level": "info", "rid": rid, "msg": "request served", "status": 200,
                       "path": rng.choice(WORDS), "duration_ms": round(rng.random() * 100, 3)}
            yield "stdout", [json.dumps(payload) + "\n"], rid
        elif x < multiline_share + json_share + long_share:
            length = rng.choice((20 * 1024, 100 * 1024)) if long_sizes is None else rng.randint(*long_sizes)
            body = rid + " " + "L" * length
            chunks = [body[i:i + CHUNK] for i in range(0, len(body), CHUNK)]
            chunks[-1] += "\n"
            yield "stdout", chunks, rid
        else:
            words = [rid]
            while sum(len(w) + 1 for w in words) < size:
                words.append(rng.choice(WORDS))
            yield "stdout", [" ".join(words)[:size] + "\n"], rid


def write_tree(root, containers=8, lines=1_000_000, size=180, json_share=0.30, multiline_share=0.03,
               long_share=0.0, seed=1, trace_lines=None, long_sizes=None):
    rng = random.Random(seed)
    base = os.path.join(root, "containers")
    os.makedirs(base, exist_ok=True)
    per = lines // containers
    summary = {"containers": containers, "lines": 0, "records": 0, "bytes": 0, "ids": []}
    ns0 = time.time_ns()
    for c in range(containers):
        cid = container_id(c, seed)
        cdir = os.path.join(base, cid)
        os.makedirs(cdir, exist_ok=True)
        write_config(cdir, cid, c)
        summary["ids"].append(cid)
        written = 0
        buf = []
        with open(os.path.join(cdir, f"{cid}-json.log"), "w", encoding="utf-8") as f:
            for stream, chunks, _ in records_for(c, per, rng, size, json_share, multiline_share, long_share,
                                                 trace_lines, long_sizes):
                ns = ns0 + written * 1000
                for ch in chunks:
                    buf.append(json_line(ch, stream, ns))
                written += len(chunks)
                summary["records"] += 1
                if written >= per:
                    break
                if len(buf) > 4096:
                    f.write("".join(buf))
                    buf.clear()
            f.write("".join(buf))
            summary["bytes"] += f.tell()
        summary["lines"] += written
    return summary


def span(text):
    """"10-40" -> (10, 40)"""
    lo, _, hi = text.partition("-")
    return int(lo), int(hi or lo)


def write_plain_tree(root, files=10, lines=1_000_000, size=180, seed=1):
    """Plain text logs for the file input: <root>/logs/app-<n>.log, the docker workload's plain
    records ("r=<file>-<n> words...") without the json-file framing."""
    rng = random.Random(seed)
    base = os.path.join(root, "logs")
    os.makedirs(base, exist_ok=True)
    per = lines // files
    summary = {"files": files, "lines": 0, "records": 0, "bytes": 0}
    for c in range(files):
        with open(os.path.join(base, f"app-{c}.log"), "w", encoding="utf-8") as f:
            buf = []
            for _, chunks, _ in records_for(c, per, rng, size, 0.0, 0.0, 0.0):
                buf.append(chunks[0])
                if len(buf) > 4096:
                    f.write("".join(buf))
                    buf.clear()
            f.write("".join(buf))
            summary["bytes"] += f.tell()
        summary["lines"] += per
        summary["records"] += per
    return summary

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tree")
    t.add_argument("root")
    t.add_argument("--containers", type=int, default=8)
    t.add_argument("--lines", type=int, default=1_000_000)
    t.add_argument("--size", type=int, default=180)
    t.add_argument("--json-share", type=float, default=0.30)
    t.add_argument("--multiline-share", type=float, default=0.03)
    t.add_argument("--long-share", type=float, default=0.0)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--trace-lines", type=span, default=None, help="MIN-MAX lines per trace (default: 8)")
    t.add_argument("--long-size", type=span, default=None, help="MIN-MAX bytes of a long line")
    a = p.parse_args()
    s = write_tree(a.root, a.containers, a.lines, a.size, a.json_share, a.multiline_share, a.long_share, a.seed,
                   a.trace_lines, a.long_size)
    s.pop("ids")
    json.dump(s, sys.stdout)
    print()


if __name__ == "__main__":
    main()
