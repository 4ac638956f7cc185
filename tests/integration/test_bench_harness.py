"""logship-bench smoke run: a short harness run against its own network blackhole sinks, and the
report it writes (completeness, positive figures, latency percentiles, PNG charts). Also the
sinks themselves, driven by hand: framing, counting, ids, and answers shaped like the real
servers' (which is what makes the daemon acknowledge), so a sink bug cannot pass as a result."""
import gzip
import http.client
import json
import os
import socket
import subprocess
import sys
import time

import support

BENCH = os.path.join(support.SOURCE_DIR, "bench", "logship_bench.py")
SINKS = os.path.join(support.SOURCE_DIR, "bench", "sinks.py")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Sink:
    def __init__(self, kind, *args):
        self.proc = subprocess.Popen([sys.executable, SINKS, kind, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.port = json.loads(self.proc.stdout.readline())["port"]

    def command(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc.stdin.close()
        self.proc.stdout.close()


class BenchHarnessTest(support.TestCase):
    def test_short_run_report_with_network_sinks(self):
        report = os.path.join(self.tmp, "report.json")
        charts = os.path.join(self.tmp, "charts")
        t0 = time.monotonic()
        out = subprocess.run(
            [sys.executable, BENCH, "docker-bulk", "docker-live-syslog-tcp", "--bin", support.LOGSHIP,
             "--runs", "1", "--containers", "2", "--lines", "20000", "--rate", "1000", "--duration", "2",
             "--json", report, "--charts", charts],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertLess(time.monotonic() - t0, 60)
        with open(report) as f:
            rep = json.load(f)
        by = {s["scenario"]: s for s in rep["summaries"]}
        self.assertEqual(set(by), {"docker-bulk", "docker-live-syslog-tcp"})

        bulk = by["docker-bulk"]
        self.assertEqual(bulk["sink"], "bulk")
        self.assertEqual(bulk["units"], 20000)
        # No --parse: one document per json-file line; every logical record's id exactly once.
        self.assertEqual(bulk["records_delivered"], 20000)
        run = rep["runs"]["docker-bulk"][0]
        self.assertGreater(run["records_expected"], 0)
        self.assertEqual(run["records_seen"], run["records_expected"])
        live = by["docker-live-syslog-tcp"]
        self.assertEqual(live["sink"], "syslog-tcp")
        self.assertGreaterEqual(live["units"], 1000)     # ~1000 lines/s for 2 s (loaded machine: fewer)
        self.assertEqual(rep["runs"]["docker-live-syslog-tcp"][0]["records_seen"], live["units"])
        for s in (bulk, live):
            self.assertTrue(s["complete"], s)
            self.assertEqual((s["missing"], s["duplicates"], s["sink_errors"]), (0, 0, 0), s)
            for key in ("per_s", "per_cpu_s", "mb_per_cpu_s", "cpu_s", "peak_rss_mib", "sink_per_s",
                        "sink_cpu_s", "sink_rss_mib"):
                self.assertGreater(s[key], 0, (s["scenario"], key))
        lat = live["latency_ms"]
        self.assertEqual(list(lat), ["p50", "p90", "p99", "p99.9", "max"])
        self.assertGreater(lat["p50"], 0)
        self.assertLessEqual(lat["p50"], lat["p90"])
        self.assertLessEqual(lat["p90"], lat["p99"])
        self.assertLessEqual(lat["p99"], lat["p99.9"])
        self.assertLessEqual(lat["p99.9"], lat["max"])
        self.assertLess(lat["max"], 30000)     # a timestamp parsed wrong would be years off
        self.assertNotIn("latency_ms", bulk)   # from-head timestamps are synthetic: no latency

        # Markdown on stdout: both tables, one row per scenario.
        self.assertIn("| docker-bulk | bulk | 20,000 |", out.stdout)
        self.assertIn("| scenario | latency p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |", out.stdout)
        self.assertIn("| docker-live-syslog-tcp | ", out.stdout)

        names = sorted(os.path.basename(p) for p in rep["charts"])
        self.assertEqual(names, ["cpu.png", "latency.png", "rss.png", "throughput.png"])
        for name in names:
            with open(os.path.join(charts, name), "rb") as f:
                data = f.read()
            self.assertTrue(data.startswith(PNG_MAGIC), name)
            self.assertGreater(len(data), 5000, name)   # axes, labels and at least a line

    def test_syslog_sink_counts_both_framings(self):
        sink = Sink("syslog-tcp", "--latency")
        try:
            now = time.time()
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%06dZ" % (now % 1 * 1e6)

            def msg(rid, text):
                return f"<14>1 {ts} host app - - - \ufeffr={rid} {text}".encode()
            octet = b""
            for i in range(5):
                m = msg(f"0-{i}", "line one\nline two" if i == 2 else "plain")   # newline inside
                octet += b"%d " % len(m) + m
            lf = b"".join(msg(f"1-{i}", "lf") + b"\n" for i in range(4)) + msg("1-1", "again") + b"\n"
            for payload in (octet, lf):
                with socket.create_connection(("127.0.0.1", sink.port), timeout=5) as c:
                    for k in range(0, len(payload), 7):   # frames cut across reads
                        c.sendall(payload[k:k + 7])
            # Both connections are closed on this side before the sink's loop may have accepted the
            # second one; "finish" only waits for open connections, so wait for the records first.
            deadline = time.monotonic() + 10
            while sink.command("status")["records"] < 10 and time.monotonic() < deadline:
                time.sleep(0.02)
            r = sink.command("finish 5")
        finally:
            sink.close()
        self.assertEqual(r["records"], 10)
        self.assertEqual(r["distinct_ids"], 9)
        self.assertEqual(r["duplicates"], 1)
        self.assertEqual(r["errors"], 0)
        self.assertEqual(r["connections"], 2)
        self.assertEqual(r["latency_ms"]["count"], 10)
        self.assertLess(r["latency_ms"]["max"], 10000)
        self.assertEqual(r["timeline"][-1][1], 10)

    def test_bulk_sink_answers_like_elasticsearch(self):
        sink = Sink("bulk")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", sink.port, timeout=5)
            docs = b"".join(b'{"create":{"_index":"logs-a","_id":"id%d"}}\n{"@timestamp":"2026-01-01T00:00:00Z",'
                            b'"message":"r=0-%d x"}\n' % (i, i) for i in range(3))
            conn.request("POST", "/_bulk", body=gzip.compress(docs),
                         headers={"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"})
            resp = conn.getresponse()
            full = json.loads(resp.read())
            self.assertEqual(resp.status, 200)
            self.assertIs(full["errors"], False)
            self.assertEqual([i["create"]["_id"] for i in full["items"]], ["id0", "id1", "id2"])
            self.assertEqual({i["create"]["status"] for i in full["items"]}, {201})
            self.assertEqual({i["create"]["_index"] for i in full["items"]}, {"logs-a"})
            # What logship asks for: filter_path keeps only errors and items.*.status.
            idx = b'{"index":{"_index":"l"}}\n{"@timestamp":"2026-01-01T00:00:00Z","message":"r=1-0"}\n'
            conn.request("POST", "/_bulk?filter_path=errors,items.*.status,items.*.error", body=idx * 2)
            resp = conn.getresponse()
            self.assertEqual((resp.status, json.loads(resp.read())),
                             (200, {"errors": False, "items": [{"index": {"status": 201}}] * 2}))
            # Elasticsearch refuses a body without the final newline; so does the sink, uncounted.
            conn.request("POST", "/_bulk", body=docs[:-1])
            resp = conn.getresponse()
            self.assertEqual(resp.status, 400)
            resp.read()
            conn.close()
            r = sink.command("finish 5")
        finally:
            sink.close()
        self.assertEqual((r["records"], r["requests"], r["errors"]), (5, 3, 1))
        self.assertEqual((r["distinct_ids"], r["duplicates"]), (4, 1))


if __name__ == "__main__":
    support.main()
