"""otlp input: OTLP/HTTP /v1/logs into logship, file output out.

A real OpenTelemetry Collector (its own instance, started by scripts/servers/otelcol.sh in this
test's directory with an otlphttp exporter pointed at logship) forwards OTLP/JSON requests the
test posts to its receiver: logship's file output holds exactly the records sent, with their
attributes, severity and resource attributes. Direct requests check protobuf + gzip, JSON, the
error answers (400, 413, 415, 429) and that the 200 comes only after the output wrote the events.
"""
import gzip
import http.client
import json
import os
import re
import socket
import struct
import subprocess
import threading
import time

import support

SCRIPT = os.environ.get("LOGSHIP_OTELCOL_SCRIPT",
                        os.path.join(support.SOURCE_DIR, "scripts/servers/otelcol.sh"))
T0 = 1714557600_000_000_000   # 2024-05-01T10:00:00Z


# Protobuf wire format by hand (opentelemetry/proto/logs/v1).
def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def ln(field, payload):
    return varint((field << 3) | 2) + varint(len(payload)) + payload


def var(field, v):
    return varint(field << 3) + varint(v)


def fix64(field, v):
    return varint((field << 3) | 1) + struct.pack("<Q", v)


def kv(key, any_value):
    return ln(1, key.encode()) + ln(2, any_value)


def pb_request(service, records):
    """records: (time_ns, severity_text, severity_number, body, {attr: str|int})."""
    recs = b""
    for t, sev_text, sev_num, body, attrs in records:
        r = fix64(1, t) + var(2, sev_num) + ln(3, sev_text.encode()) + ln(5, ln(1, body.encode()))
        for k, v in attrs.items():
            r += ln(6, kv(k, ln(1, v.encode()) if isinstance(v, str) else var(3, v)))
        recs += ln(2, r)
    resource = ln(1, kv("service.name", ln(1, service.encode())))
    scope = ln(1, ln(1, b"test.scope")) + recs
    return ln(1, ln(1, resource) + ln(2, scope))


def json_request(service, records, host="h1"):
    return json.dumps({"resourceLogs": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": service}},
            {"key": "host.name", "value": {"stringValue": host}}]},
        "scopeLogs": [{"scope": {"name": "test.scope"}, "logRecords": [
            {"timeUnixNano": str(t), "severityText": sev_text, "severityNumber": sev_num,
             "body": {"stringValue": body},
             "attributes": [{"key": k, "value": {"stringValue": v} if isinstance(v, str)
                             else {"intValue": str(v)}} for k, v in attrs.items()]}
            for t, sev_text, sev_num, body, attrs in records]}]}]}).encode()


def post(port, body, content_type="application/x-protobuf", encoding=None, timeout=30,
         path="/v1/logs"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": content_type}
    if encoding:
        headers["Content-Encoding"] = encoding
    conn.request("POST", path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, r.getheader("Content-Type"), r.getheader("Retry-After"), data


def records(n, tag, t0=T0):
    return [(t0 + i * 1000, "INFO" if i % 2 else "ERROR", 9 if i % 2 else 17, f"{tag} {i}",
             {"seq": i, "tag": tag}) for i in range(n)]


class OtlpInputTest(support.TestCase):
    def logship(self, out_path=None, extra="", tail=""):
        if out_path is None:
            self.out_dir = os.path.join(self.tmp, "out")
            out_path = f"{self.out_dir}/events.log"
        cfg = f"""
service:
  state_dir: {self.tmp}/state
inputs:
  otel:
    type: otlp
    listen: "127.0.0.1:0"
{extra}
outputs:
  file:
    type: file
    path: {out_path}
    compress: false
{tail}"""
        d = self.daemon(cfg).start()
        m = support.wait_for(lambda: re.search(r"http=127\.0\.0\.1:(\d+)", d.stderr()),
                             timeout=20, what="logship listening")
        d.port = int(m.group(1))
        return d

    def records(self):
        return support.read_file_output(self.out_dir)

    def wait_records(self, n, timeout=60):
        support.wait_for(lambda: len(self.records()) >= n, timeout=timeout,
                         what=f"{n} records (have {len(self.records())})")
        time.sleep(0.5)
        recs = self.records()
        self.assertEqual(len(recs), n, "exactly n, no duplicates")
        return recs

    def check(self, recs, expected, service):
        """The file records are exactly `expected` (tag, seq) with everything carried over."""
        got = {(r["tag"], r["seq"]): r for r in recs}
        self.assertEqual(len(got), len(recs), "no duplicates")
        self.assertEqual(sorted(got), sorted((a["tag"], a["seq"]) for *_, a in expected))
        for t, sev_text, sev_num, body, attrs in expected:
            r = got[(attrs["tag"], attrs["seq"])]
            self.assertEqual(r["message"], body)
            self.assertEqual(r["timestamp"], time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(
                t // 10**9)) + ".%09dZ" % (t % 10**9))
            self.assertEqual(r["level"], sev_text)
            self.assertEqual(r["severity_number"], sev_num)
            self.assertEqual(r["service.name"], service)
            self.assertEqual(r["otel.scope.name"], "test.scope")

    def test_collector_forwards_to_logship(self):
        d = self.logship()
        run_dir = os.path.join(self.tmp, "otelcol")
        extra = os.path.join(self.tmp, "otelcol-extra.yaml")
        with open(extra, "w") as f:
            f.write(f"""
exporters:
  otlphttp:
    logs_endpoint: http://127.0.0.1:{d.port}/v1/logs
    retry_on_failure:
      initial_interval: 100ms
service:
  pipelines:
    logs:
      exporters: [otlphttp]
""")
        env = dict(os.environ, LOGSHIP_OTELCOL_DIR=run_dir, LOGSHIP_OTELCOL_EXTRA_CONFIG=extra)
        subprocess.run(["bash", SCRIPT, "start"], check=True, timeout=2400, env=env)
        try:
            with open(os.path.join(run_dir, "address")) as f:
                host, port = f.read().strip().split(":")
            expected = []
            for k in range(10):
                batch = records(30, f"req{k}", T0 + k * 10**9)
                expected += batch
                status, *_ = post(int(port), json_request("checkout", batch),
                                  content_type="application/json")
                self.assertEqual(status, 200)
            recs = self.wait_records(len(expected))
            self.check(recs, expected, "checkout")
            for r in recs:
                self.assertEqual(r["host.name"], "h1")
        finally:
            subprocess.run(["bash", SCRIPT, "stop"], timeout=120, env=env)
        self.assertEqual(d.stop(), 0, d.stderr())
        self.assertEqual(len(self.records()), len(expected))

    def test_protobuf_gzip_json_and_refusals(self):
        d = self.logship(extra="    max_request_size: 64KiB\n    max_pending_bytes: 64KiB")
        a = records(5, "pb")
        status, ctype, _, body = post(d.port, gzip.compress(pb_request("svc-pb", a)),
                                      encoding="gzip")
        self.assertEqual((status, ctype, body), (200, "application/x-protobuf", b""))
        b = records(4, "js")
        status, ctype, _, body = post(d.port, json_request("svc-pb", b),
                                      content_type="application/json")
        self.assertEqual((status, ctype, body), (200, "application/json", b"{}"))
        c = records(3, "pbplain")
        self.assertEqual(post(d.port, pb_request("svc-pb", c))[0], 200)

        # Garbage, a broken gzip, bad JSON: 400 with a message; nothing is emitted.
        status, _, _, body = post(d.port, b"\x0a\xff\xff\xff\x0f garbage")
        self.assertEqual(status, 400)
        self.assertIn(b"malformed", body)
        self.assertEqual(post(d.port, b"\x1f\x8b not gzip", encoding="gzip")[0], 400)
        status, _, _, body = post(d.port, b"{\"resourceLogs\":[{", content_type="application/json")
        self.assertEqual(status, 400)
        self.assertIn(b"\"code\":3", body)
        self.assertEqual(post(d.port, b"x", content_type="text/plain")[0], 415)
        self.assertEqual(post(d.port, b"x", path="/v1/traces")[0], 404)
        # Too large as sent, and too large once inflated (a gzip bomb: 64 MiB of zeros).
        big = pb_request("svc", [(T0, "INFO", 9, "x" * 70000, {"seq": 0, "tag": "big"})])
        self.assertEqual(post(d.port, big)[0], 413)
        bomb = gzip.compress(b"\0" * (64 << 20))
        self.assertLess(len(bomb), 64 << 10)
        self.assertEqual(post(d.port, bomb, encoding="gzip")[0], 413)

        recs = self.wait_records(len(a) + len(b) + len(c))
        self.check(recs, a + b + c, "svc-pb")
        self.assertEqual(d.stop(), 0, d.stderr())
        m = re.search(r'msg="input stopped" input=otel (.*)', d.stderr())
        self.assertIsNotNone(m, d.stderr())
        summary = dict(re.findall(r"(\w+)=(\d+)", m.group(1)))
        self.assertEqual(summary["requests"], "3")
        self.assertEqual(summary["malformed"], "5")
        self.assertEqual(summary["too_large"], "2")

    def test_200_only_after_the_output_wrote(self):
        blocker = os.path.join(self.tmp, "blocked")
        open(blocker, "w").close()   # a regular file where the output's directory should be
        self.out_dir = blocker
        d = self.logship(out_path=f"{blocker}/events.log",
                         extra="    max_pending_requests: 2")
        results = {}

        def send(name, recs):
            results[name] = post(d.port, pb_request("svc", recs), timeout=120)[0]

        a, b = records(20, "held-a"), records(20, "held-b")
        ta = threading.Thread(target=send, args=("a", a))
        tb = threading.Thread(target=send, args=("b", b))
        ta.start()
        tb.start()
        time.sleep(4)
        self.assertEqual(results, {}, "no answer while the output cannot write")
        # Two requests are held; a third is turned away with Retry-After.
        status, _, retry_after, _ = post(d.port, pb_request("svc", records(1, "third")))
        self.assertEqual((status, retry_after), (429, "1"))
        os.remove(blocker)
        os.makedirs(blocker, exist_ok=True)   # the output may have made it first
        ta.join(60)
        tb.join(60)
        self.assertEqual(results, {"a": 200, "b": 200})
        recs = self.wait_records(40)
        self.check(recs, a + b, "svc")
        self.assertEqual(d.stop(), 0, d.stderr())

    def test_shutdown_answers_held_requests_503(self):
        blocker = os.path.join(self.tmp, "blocked")
        open(blocker, "w").close()
        self.out_dir = blocker
        d = self.logship(out_path=f"{blocker}/events.log")
        results = {}

        def send():
            results["a"] = post(d.port, pb_request("svc", records(3, "x")), timeout=120)[:3]

        t = threading.Thread(target=send)
        t.start()
        time.sleep(2)
        self.assertEqual(results, {})
        d.stop(timeout=120)
        t.join(60)
        self.assertEqual(results["a"][0], 503)
        self.assertEqual(results["a"][2], "1")

    def test_records_a_filter_drops_settle_at_once(self):
        d = self.logship(tail="""processors:
  health: {type: filter, drop_if: 'message contains "/health"'}
routes:
  - match: [otel]
    processors: [health]
    outputs: [file]
""")
        kept = records(6, "kept")
        health = [(t, s, n, "GET /health " + body, a) for t, s, n, body, a in records(4, "hc")]
        t0 = time.monotonic()
        self.assertEqual(post(d.port, pb_request("svc", health), timeout=10)[0], 200)
        self.assertLess(time.monotonic() - t0, 5, "a request whose records are all dropped")
        self.assertEqual(post(d.port, pb_request("svc", health + kept))[0], 200)
        self.check(self.wait_records(len(kept)), kept, "svc")
        self.assertEqual(d.stop(), 0, d.stderr())

    def test_connection_budgets(self):
        d = self.logship(extra="    max_connections: 2\n    idle_timeout: 700ms\n"
                               "    read_timeout: 1500ms")

        def closed_by_peer(sock, within):
            sock.settimeout(within)
            try:
                return sock.recv(1) == b""
            except (socket.timeout, ConnectionResetError):
                return False

        s1 = socket.create_connection(("127.0.0.1", d.port))
        s2 = socket.create_connection(("127.0.0.1", d.port))
        time.sleep(0.2)
        s3 = socket.create_connection(("127.0.0.1", d.port))
        self.assertTrue(closed_by_peer(s3, 2), "a third connection is closed at once")
        # Idle connections are closed after idle_timeout; then new ones are served again.
        self.assertTrue(closed_by_peer(s1, 3))
        self.assertTrue(closed_by_peer(s2, 3))
        a = records(2, "after")
        self.assertEqual(post(d.port, pb_request("svc", a))[0], 200)
        # A request trickled in never completes: read_timeout closes it though bytes keep coming.
        slow = socket.create_connection(("127.0.0.1", d.port))
        slow.sendall(b"POST /v1/logs HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        closed = False
        while time.monotonic() - t0 < 10:
            try:
                slow.sendall(b"X-Slow: 1\r\n")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if closed_by_peer(slow, 0.3):
                closed = True
                break
        self.assertTrue(closed)
        self.assertLess(time.monotonic() - t0, 5)
        for s in (s1, s2, s3, slow):
            s.close()
        self.check(self.wait_records(2), a, "svc")
        self.assertEqual(d.stop(), 0, d.stderr())


if __name__ == "__main__":
    support.main()
