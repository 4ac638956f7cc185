"""otlp output against a real OpenTelemetry Collector (started once by the ctest fixture:
scripts/servers/otelcol.sh, OTLP/HTTP receiver -> file exporter, one ExportLogsServiceRequest as
OTLP/JSON per line of RUN/logs.jsonl).

Docker json-file logs written by the test -> logship (docker input, json parser) -> otlp ->
Collector -> file: the exact record set, resource attributes, severity, body and times after the
Collector decoded and re-encoded them; a Collector killed (-9) and restarted mid-stream loses
nothing; protobuf+gzip and JSON encodings. Every test gives its input a unique name, so it reads
only its own records (resource attribute logship.input) from the shared Collector's file.

A partial success is tested against a small scripted receiver in this file: the Collector's
OTLP receiver never answers one (its pipeline either takes a request or refuses it whole).
"""
import http.server
import json
import os
import re
import subprocess
import threading
import time

import support
from test_docker_input import DockerTree, Writer, docker_line

RUN_DIR = os.environ.get("LOGSHIP_OTELCOL_DIR", "/tmp/logship-otelcol-%d" % os.getuid())
SCRIPT = os.environ.get("LOGSHIP_OTELCOL_SCRIPT",
                        os.path.join(support.SOURCE_DIR, "scripts/servers/otelcol.sh"))
HOST = "otlp-test-host"
T0 = 1714557600_000_000_000   # 2024-05-01T10:00:00Z: docker line times are T0 + seq us + 1 ns
LEVELS = [("debug", 5), ("info", 9), ("WARN", 13), ("error", 17), ("fatal", 21)]
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def collector(*args, run_dir=RUN_DIR, env=None):
    subprocess.run(["bash", SCRIPT, *args], check=True, timeout=120,
                   env=dict(os.environ, LOGSHIP_OTELCOL_DIR=run_dir, **(env or {})))


def collector_address(run_dir=RUN_DIR):
    with open(os.path.join(run_dir, "address")) as f:
        return f.read().strip()


def make_certs(d):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, signed by it."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60, cwd=d)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=logship-test-ca",
        "-keyout", "ca.key", "-out", "ca.pem")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
                      ("client", "extendedKeyUsage=clientAuth\n")):
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(ext)
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=logship-{name}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.pem", "-extfile", f"{name}.ext")
    return {n: os.path.join(d, n) for n in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


def any_value(v):
    """An OTLP/JSON AnyValue as a Python value."""
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "boolValue" in v:
        return v["boolValue"]
    if "arrayValue" in v:
        return [any_value(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return {kv["key"]: any_value(kv.get("value", {})) for kv in v["kvlistValue"].get("values", [])}
    return None


def attributes(kvs):
    return {kv["key"]: any_value(kv.get("value", {})) for kv in kvs or []}


def exported_requests(run_dir=RUN_DIR):
    """Every request the Collector wrote. A kill -9 between the exporter's write of a request
    and of its newline leaves two objects on one line: split by decoding, not by lines. An
    object still being written at the end is left for the next poll."""
    path = os.path.join(run_dir, "logs.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    dec, out, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i] in " \r\n\t":
            i += 1
        if i >= len(text):
            return out
        try:
            obj, i = dec.raw_decode(text, i)
        except json.JSONDecodeError:
            if "\n" in text[i:]:
                raise
            return out
        out.append(obj)


def records_of(input_name, run_dir=RUN_DIR):
    """(resource attributes, record) of every log record whose resource has logship.input."""
    out = []
    for req in exported_requests(run_dir):
        for rl in req.get("resourceLogs", []):
            res = attributes(rl.get("resource", {}).get("attributes"))
            if res.get("logship.input") != input_name:
                continue
            for sl in rl.get("scopeLogs", []):
                assert sl["scope"]["name"] == "logship", sl["scope"]
                for rec in sl.get("logRecords", []):
                    out.append((res, rec))
    return out


def app_line(seq, stream):
    level = LEVELS[seq % len(LEVELS)][0]
    obj = {"level": level, "msg": f"order {seq}", "order": {"id": seq, "items": [1, 2]},
           "trace_id": TRACE, "ok": seq % 2 == 0}
    return docker_line(json.dumps(obj) + "\n", stream=stream, t=T0 + seq * 1000 + 1)


class OtlpOutputTest(support.TestCase):
    def config(self, input_name, root, output_extra="", exit_at_eof=True, endpoint=None,
               scheme="http", drain=None):
        return f"""
service:
  state_dir: {self.tmp}/state
  host_name: {HOST}
  exit_when_done: {str(exit_at_eof).lower()}
  checkpoint_interval: 500ms
  drain_timeout: {drain or support.scaled(20)}s
inputs:
  {input_name}:
    type: docker
    docker_root: {root}
    rescan_interval: 200ms
    exit_at_eof: {str(exit_at_eof).lower()}
processors:
  parse_json:
    type: json
    when_label: logship.parser=json
outputs:
  collector:
    type: otlp
    endpoint: {scheme}://{endpoint or collector_address()}
    retry_initial: 50ms
    retry_max: 1s
{output_extra}
routes:
  - match: [{input_name}]
    processors: [parse_json]
    outputs: [collector]
"""

    def write_tree(self, app_lines=200, worker_lines=150):
        tree = DockerTree(os.path.join(self.tmp, "docker"))
        self.app_id, self.worker_id = "a1" * 32, "b2" * 32
        app = tree.create(self.app_id, "shop-api-1", image="registry.local:5000/shop/api:1.4",
                          labels={"com.docker.compose.service": "api", "logship.parser": "json",
                                  "team": "payments"})
        worker = tree.create(self.worker_id, "worker", image="busybox")
        with open(app, "ab") as f:
            for s in range(app_lines):
                f.write(app_line(s, "stdout" if s % 3 else "stderr"))
        with open(worker, "ab") as f:
            for s in range(worker_lines):
                f.write(docker_line(f"tick {s}\n", t=T0 + s * 1000 + 1))
        self.app_path, self.worker_path = app, worker
        return tree

    def run_to_end(self, cfg):
        d = self.daemon(cfg).start()
        self.assertEqual(d.wait(timeout=support.scaled(60)), 0, d.stderr())
        self.assertNotIn("level=error", d.stderr())

    def test_records_resources_severity_and_body_protobuf_gzip(self):
        name = f"pb{os.getpid()}"
        tree = self.write_tree()
        self.run_to_end(self.config(name, tree.root, """    resource_labels: [team]
    batch_max_events: 64
"""))
        recs = support.wait_for(lambda: (r := records_of(name)) and len(r) >= 350 and r,
                                timeout=support.scaled(20), what="350 records at the collector")
        self.assertEqual(len(recs), 350)
        app_res = {"service.name": "api", "host.name": HOST, "container.id": self.app_id,
                   "container.name": "shop-api-1",
                   "container.image.name": "registry.local:5000/shop/api",
                   "container.image.tags": ["1.4"], "container.label.team": "payments",
                   "logship.input": name}
        worker_res = {"service.name": "worker", "host.name": HOST, "container.id": self.worker_id,
                      "container.name": "worker", "container.image.name": "busybox",
                      "logship.input": name}
        app, worker = {}, {}
        for res, rec in recs:
            body = any_value(rec["body"])
            if res.get("container.name") == "shop-api-1":
                self.assertEqual(res, app_res)
                seq = int(re.fullmatch(r"order (\d+)", body).group(1))
                self.assertNotIn(seq, app)
                app[seq] = rec
            else:
                self.assertEqual(res, worker_res)
                seq = int(re.fullmatch(r"tick (\d+)", body).group(1))
                self.assertNotIn(seq, worker)
                worker[seq] = rec
        self.assertEqual(sorted(app), list(range(200)))
        self.assertEqual(sorted(worker), list(range(150)))
        started = time.time_ns()
        for seq, rec in app.items():
            level, number = LEVELS[seq % len(LEVELS)]
            self.assertEqual(rec["severityText"], level)
            self.assertEqual(rec["severityNumber"], number)
            self.assertEqual(rec["timeUnixNano"], str(T0 + seq * 1000 + 1))
            self.assertLess(T0, int(rec["observedTimeUnixNano"]))
            self.assertLessEqual(int(rec["observedTimeUnixNano"]), started)
            self.assertEqual(rec["traceId"], TRACE)
            self.assertEqual(attributes(rec["attributes"]), {
                "order": {"id": seq, "items": [1, 2]}, "ok": seq % 2 == 0,
                "log.iostream": "stdout" if seq % 3 else "stderr",
                "log.file.path": self.app_path})
        for seq, rec in worker.items():
            self.assertNotIn("severityText", rec)
            self.assertNotIn("severityNumber", rec)
            self.assertEqual(rec["timeUnixNano"], str(T0 + seq * 1000 + 1))
            self.assertEqual(attributes(rec["attributes"]), {
                "log.iostream": "stdout", "log.file.path": self.worker_path})

    def test_json_encoding_with_map_body(self):
        name = f"js{os.getpid()}"
        tree = self.write_tree(app_lines=60, worker_lines=10)
        self.run_to_end(self.config(name, tree.root, """    encoding: json
    compression: none
    body: map
"""))
        recs = support.wait_for(lambda: (r := records_of(name)) and len(r) >= 70 and r,
                                timeout=support.scaled(20), what="70 records at the collector")
        self.assertEqual(len(recs), 70)
        bodies = {}
        for res, rec in recs:
            self.assertEqual(res["host.name"], HOST)
            body = any_value(rec["body"])
            if res["container.name"] == "shop-api-1":
                seq = body["order"]["id"]
                self.assertEqual(body, {"message": f"order {seq}", "order": {"id": seq, "items": [1, 2]},
                                        "ok": seq % 2 == 0})
                self.assertEqual(rec["severityText"], LEVELS[seq % len(LEVELS)][0])
                self.assertEqual(attributes(rec["attributes"]), {
                    "log.iostream": "stdout" if seq % 3 else "stderr", "log.file.path": self.app_path})
                bodies[("app", seq)] = body
            else:
                seq = int(re.fullmatch(r"tick (\d+)", body).group(1))   # nothing parsed: a string
                bodies[("worker", seq)] = body
        self.assertEqual(sorted(bodies), sorted([("app", s) for s in range(60)] +
                                                [("worker", s) for s in range(10)]))

    def test_collector_killed_and_restarted_mid_stream_loses_nothing(self):
        name = f"kill{os.getpid()}"
        n = 12000
        tree = DockerTree(os.path.join(self.tmp, "docker"))
        path = tree.create("c3" * 32, "steady", image="app:1")
        batch_events, in_flight = 500, 2
        d = self.daemon(self.config(name, tree.root, f"""    batch_max_events: {batch_events}
    max_in_flight: {in_flight}
""", exit_at_eof=False)).start()
        writer = Writer(path, "steady", n, rate=2000)
        writer.start()
        seq_re = re.compile(r"c=steady seq=(\d+) ")

        def seqs():
            return [int(seq_re.match(any_value(rec["body"])).group(1)) for _, rec in records_of(name)]

        killed = False
        try:
            support.wait_for(lambda: len(seqs()) >= 2000, timeout=support.scaled(30),
                             what="2000 records before the kill")
            collector("kill")
            killed = True
            time.sleep(2)   # logship keeps reading and retrying meanwhile
            collector("restart")
            killed = False
            writer.join(timeout=support.scaled(60))
            self.assertIsNone(writer.error)
            self.assertFalse(writer.is_alive())
            got = support.wait_for(lambda: (s := seqs()) and set(s) == set(range(n)) and s,
                                   timeout=support.scaled(60), what=f"all {n} records after the restart")
        finally:
            if killed:
                collector("restart")
        self.assertEqual(d.stop(), 0, d.stderr())
        self.assertEqual(sorted(set(got)), list(range(n)))
        # Duplicates only from requests the Collector wrote and died before answering: at most
        # the requests in flight at the kill.
        dups = len(got) - n
        print(f"collector kill -9 mid-stream: {n} records, {dups} duplicates", flush=True)
        self.assertLessEqual(dups, batch_events * in_flight)
        self.assertRegex(d.stderr(), r"cannot reach the receiver|receiver busy")

    def test_tls_verification_and_client_certificates(self):
        """A Collector of its own serving HTTPS and requiring client certificates: with the CA
        and a client certificate everything arrives; without the CA (verification is on by
        default) or without the client certificate nothing does, and the daemon says why."""
        certs = make_certs(self.tmp)
        run_dir = os.path.join(self.tmp, "otelcol-tls")
        env = {"LOGSHIP_OTELCOL_TLS_CERT": certs["server.pem"], "LOGSHIP_OTELCOL_TLS_KEY": certs["server.key"],
               "LOGSHIP_OTELCOL_TLS_CLIENT_CA": certs["ca.pem"]}
        collector("start", run_dir=run_dir, env=env)
        self.addCleanup(collector, "stop", run_dir=run_dir)
        address = collector_address(run_dir)
        tree = DockerTree(os.path.join(self.tmp, "docker"))
        path = tree.create("e5" * 32, "secure", image="app:1")
        with open(path, "ab") as f:
            for s in range(20):
                f.write(docker_line(f"secret {s}\n", t=T0 + s * 1000 + 1))
        client = f"""    tls_cert_file: {certs['client.pem']}
    tls_key_file: {certs['client.key']}
"""
        for name, extra, expect in (("noca", client, r"certificate verify failed"),
                                    ("nocert", f"    tls_ca_file: {certs['ca.pem']}\n", r"cannot reach the receiver")):
            d = self.daemon(self.config(name, tree.root, extra, exit_at_eof=False, endpoint=address,
                                        scheme="https", drain=1), name=name).start()
            support.wait_for(lambda: re.search(expect, d.stderr()), timeout=support.scaled(20),
                             what=f"{name}: {expect}")
            d.stop()
            self.assertEqual(records_of(name, run_dir), [])
        self.run_to_end(self.config("tls", tree.root, client + f"    tls_ca_file: {certs['ca.pem']}\n",
                                    endpoint=address, scheme="https"))
        recs = support.wait_for(lambda: (r := records_of("tls", run_dir)) and len(r) >= 20 and r,
                                timeout=support.scaled(20), what="20 records over TLS")
        self.assertEqual(sorted(any_value(r["body"]) for _, r in recs), sorted(f"secret {s}" for s in range(20)))

    def test_partial_success_dead_letters_the_rejected_count(self):
        requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                requests.append([any_value(r["body"]) for rl in body["resourceLogs"]
                                 for sl in rl["scopeLogs"] for r in sl["logRecords"]])
                reply = b"{}"
                if len(requests) == 1:
                    reply = json.dumps({"partialSuccess": {"rejectedLogRecords": "3",
                                                           "errorMessage": "quota exceeded"}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            tree = DockerTree(os.path.join(self.tmp, "docker"))
            path = tree.create("d4" * 32, "partial", image="app:1")
            with open(path, "ab") as f:
                for s in range(20):
                    f.write(docker_line(f"line {s}\n", t=T0 + s * 1000 + 1))
            self.run_to_end(self.config("partial", tree.root, """    encoding: json
    compression: none
""", endpoint=f"127.0.0.1:{server.server_address[1]}"))
        finally:
            server.shutdown()
            server.server_close()
        sent = [b for r in requests for b in r]
        self.assertEqual(sorted(sent), sorted(f"line {s}" for s in range(20)))   # none resent
        dlq = os.path.join(self.tmp, "state", "dlq", "collector.ndjson")
        dead = [json.loads(l) for l in support.read_lines(dlq)]
        first = requests[0]
        self.assertEqual([r["event"]["message"] for r in dead], first[-3:])
        for r in dead:
            self.assertEqual(r["output"], "collector")
            self.assertEqual(r["error"], "rejected")
            self.assertEqual(r["reason"], f"partial success: 3 of {len(first)} records rejected: quota exceeded")


if __name__ == "__main__":
    support.main()
