"""http output presets against receivers scripted in this test (the Collector's Splunk HEC and
Loki receivers cannot be built from the Go module proxy: see README, "Splunk HEC and Loki").

splunk_hec: a HEC peer with indexer acknowledgement on: it answers every events request with an
ackId, answers the first poll of every ackId `false` and never confirms ackId 0 (so the request
that carried it is resent after hec_ack_timeout). Asserted: every Docker line reaches HEC with
its host, sourcetype and index from the configured fields, the token and channel headers; a
request counts as delivered only once its ack is confirmed: the daemon (exit_when_done) exits
only after every request it sent but the first has a confirmed ack, and the first request's
events are sent again.

loki: a push API peer decoding JSON and protobuf+snappy; asserted: every line once, streams
labelled by the allow-listed fields only (never the container labels), entries of a stream in
time order within a request, one stream per label set per request."""
import http.server
import json
import os
import struct
import threading

import support
from test_docker_input import DockerTree, docker_line

T0 = 1714557600_000_000_000


def snappy_decompress(data):
    """Snappy's raw block format (what Loki's protobuf push uses)."""
    pos, length, shift = 0, 0, 0
    while True:
        b = data[pos]
        pos += 1
        length |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            break
    out = bytearray()
    while pos < len(data):
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:   # literal
            n = tag >> 2
            if n >= 60:
                extra = n - 59
                n = int.from_bytes(data[pos:pos + extra], "little")
                pos += extra
            n += 1
            out += data[pos:pos + n]
            pos += n
            continue
        if kind == 1:
            n = ((tag >> 2) & 7) + 4
            off = ((tag >> 5) << 8) | data[pos]
            pos += 1
        elif kind == 2:
            n = (tag >> 2) + 1
            off = int.from_bytes(data[pos:pos + 2], "little")
            pos += 2
        else:
            n = (tag >> 2) + 1
            off = int.from_bytes(data[pos:pos + 4], "little")
            pos += 4
        for _ in range(n):
            out.append(out[-off])
    assert len(out) == length, (len(out), length)
    return bytes(out)


def pb_fields(buf):
    """(field number, wire type, value) of a protobuf message."""
    pos = 0

    def varint():
        nonlocal pos
        v, shift = 0, 0
        while True:
            b = buf[pos]
            pos += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return v

    while pos < len(buf):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            yield field, wire, varint()
        elif wire == 2:
            n = varint()
            yield field, wire, buf[pos:pos + n]
            pos += n
        else:
            raise AssertionError(f"unexpected wire type {wire}")


def parse_loki_labels(text):
    """{a="x", b="y"} -> dict (values without escapes in this test)."""
    assert text.startswith("{") and text.endswith("}"), text
    out = {}
    for part in text[1:-1].split(", "):
        k, v = part.split("=", 1)
        out[k] = json.loads(v)
    return out


def decode_loki_protobuf(body):
    streams = []
    for f, _, stream in pb_fields(snappy_decompress(body)):
        assert f == 1
        labels, values = None, []
        for g, _, v in pb_fields(stream):
            if g == 1:
                labels = parse_loki_labels(v.decode())
            elif g == 2:
                ts, line = 0, b""
                for h, _, w in pb_fields(v):
                    if h == 1:
                        secs = nanos = 0
                        for t, _, x in pb_fields(w):
                            if t == 1:
                                secs = x
                            elif t == 2:
                                nanos = x
                        ts = secs * 10**9 + nanos
                    elif h == 2:
                        line = w
                values.append((ts, line.decode()))
        streams.append((labels, values))
    return streams


def decode_loki_json(body):
    return [(s["stream"], [(int(t), line) for t, line in s["values"]])
            for s in json.loads(body)["streams"]]


class Peer:
    def __init__(self, handler_of):
        self.lock = threading.Lock()
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, answer = handler_of(outer, self.path, dict(self.headers), body)
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def address(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def hec_events(body):
    dec, pos, out = json.JSONDecoder(parse_float=str), 0, []   # "time" as sent
    text = body.decode()
    while pos < len(text):
        while pos < len(text) and text[pos] in " \n":
            pos += 1
        if pos == len(text):
            break
        obj, pos = dec.raw_decode(text, pos)
        out.append(obj)
    return out


class HttpPresetsTest(support.TestCase):
    def read_once(self, tree, drain, outputs):
        """The docker input reads `tree` to its end into `outputs` (YAML under `outputs:`) and
        the daemon exits once everything is delivered."""
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  exit_when_done: true
  drain_timeout: {support.scaled(drain)}s
inputs:
  containers:
    type: docker
    docker_root: {tree.root}
    exit_at_eof: true
outputs:
{outputs}""").start()
        self.assertEqual(d.wait(timeout=support.scaled(60)), 0, d.stderr())

    def docker(self, lines_per_container):
        tree = DockerTree(os.path.join(self.tmp, "docker"))
        for cid, name, image in (("a1" * 32, "web", "nginx:1"), ("b2" * 32, "db", "postgres:16")):
            path = tree.create(cid, name, image=image,
                               labels={"com.example.build": "1234", "team": "payments"})
            with open(path, "ab") as f:
                for s in range(lines_per_container):
                    # Times go backwards every other line: entries must be sorted per stream.
                    t = T0 + (s + (1 if s % 2 == 0 else -1)) * 1000
                    f.write(docker_line(f"{name} line {s}\n", "stderr" if s % 5 == 0 else "stdout", t=t))
        return tree

    def test_splunk_hec_with_indexer_acknowledgement(self):
        state = {"next_ack": 0, "polled": {}, "events": []}

        def handle(peer, path, headers, body):
            with peer.lock:
                peer.requests.append((path, headers, body))
                if headers.get("Authorization") != "Splunk s3cret-token":
                    return 401, b'{"text":"Invalid authorization","code":3}'
                if not headers.get("X-Splunk-Request-Channel"):
                    return 400, b'{"text":"Data channel is missing","code":10}'
                if path == "/services/collector/event":
                    ack = state["next_ack"]
                    state["next_ack"] += 1
                    state["events"].append((ack, hec_events(body)))
                    return 200, json.dumps({"text": "Success", "code": 0, "ackId": ack}).encode()
                if path == "/services/collector/ack":
                    acks = {}
                    for a in json.loads(body)["acks"]:
                        n = state["polled"].get(a, 0)
                        state["polled"][a] = n + 1
                        acks[str(a)] = a != 0 and n > 0   # ackId 0 never; others on the 2nd poll
                    return 200, json.dumps({"acks": acks}).encode()
                return 404, b'{"text":"not found","code":404}'

        peer = Peer(handle)
        self.addCleanup(peer.close)
        tree = self.docker(60)
        self.read_once(tree, drain=30, outputs=f"""
  hec:
    type: http
    preset: splunk_hec
    endpoint: http://{peer.address()}
    hec_token: s3cret-token
    hec_host: collector-1
    hec_sourcetype_field: container_name
    hec_index_field: image
    hec_ack_interval: 50ms
    hec_ack_timeout: 500ms
    max_in_flight: 1
    batch_max_events: 40
""")
        channels = {h["X-Splunk-Request-Channel"] for _, h, _ in peer.requests}
        self.assertEqual(len(channels), 1)
        self.assertRegex(channels.pop(), r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        by_ack = dict(state["events"])
        # ackId 0 was never confirmed: its events were sent again, under a later ackId.
        first = [e["event"] for e in by_ack[0]]
        self.assertGreaterEqual(state["polled"][0], 2)
        confirmed = [e for a, evs in state["events"] if a != 0 for e in evs]
        for a in by_ack:
            if a != 0:
                self.assertEqual(state["polled"].get(a), 2, f"ackId {a} polled until confirmed, then no more")
        messages = [e["event"] for e in confirmed]
        self.assertEqual(len(messages), len(set(messages)), "no event twice among confirmed requests")
        self.assertTrue(set(first) <= set(messages), "the unacknowledged request was resent")
        self.assertEqual(sorted(messages),
                         sorted(f"{n} line {s}" for n in ("web", "db") for s in range(60)))
        for e in confirmed:
            name = e["event"].split()[0]
            self.assertEqual(e["host"], "collector-1")
            self.assertEqual(e["sourcetype"], name)
            self.assertEqual(e["index"], {"web": "nginx:1", "db": "postgres:16"}[name])
            self.assertEqual(e["fields"]["stream"], "stderr" if int(e["event"].split()[2]) % 5 == 0 else "stdout")
            self.assertNotIn("team", json.dumps(e))   # container labels are not HEC fields
            s = int(e["event"].split()[2])
            t = T0 + (s + (1 if s % 2 == 0 else -1)) * 1000
            self.assertEqual(e["time"], f"{t // 10**9}.{t % 10**9 // 1000:06d}")

    def test_splunk_hec_invalid_event_number_dead_letters_that_event_only(self):
        """Splunk answers a request with a bad event 400 {"code":6,"invalid-event-number":N},
        having indexed the events before N. logship dead-letters event N alone and sends the
        others again: every good line arrives (those before a bad one may twice: at least
        once), each bad one is dead-lettered once and never indexed."""
        indexed = []

        def handle(peer, path, headers, body):
            with peer.lock:
                events = hec_events(body)
                for n, e in enumerate(events):
                    if "poison" in e["event"]:
                        return 400, json.dumps({"text": "Invalid data format", "code": 6,
                                                "invalid-event-number": n}).encode()
                    indexed.append(e["event"])
                return 200, b'{"text":"Success","code":0}'

        peer = Peer(handle)
        self.addCleanup(peer.close)
        tree = DockerTree(os.path.join(self.tmp, "docker"))
        path = tree.create("c3" * 32, "app")
        bad = {7, 8, 23, 59}
        with open(path, "ab") as f:
            for s in range(60):
                f.write(docker_line(f"app line {s}{' poison' if s in bad else ''}\n", "stdout"))
        self.read_once(tree, drain=30, outputs=f"""
  hec:
    type: http
    preset: splunk_hec
    endpoint: http://{peer.address()}
    hec_token: t
    max_in_flight: 1
    batch_max_events: 20
""")
        good = {f"app line {s}" for s in range(60) if s not in bad}
        self.assertEqual(set(indexed), good)
        with open(os.path.join(self.tmp, "state", "dlq", "hec.ndjson")) as f:
            dead = [json.loads(line) for line in f]
        self.assertEqual(sorted(r["event"]["message"] for r in dead),
                         sorted(f"app line {s} poison" for s in bad))
        for r in dead:
            self.assertIn("invalid-event-number", r["reason"])

    def run_loki(self, encoding):
        def handle(peer, path, headers, body):
            with peer.lock:
                peer.requests.append((path, headers, body))
            if path != "/loki/api/v1/push":
                return 404, b"404 page not found"
            return 204, b""

        peer = Peer(handle)
        self.addCleanup(peer.close)
        tree = self.docker(50)
        self.read_once(tree, drain=20, outputs=f"""
  loki:
    type: http
    preset: loki
    endpoint: http://{peer.address()}
    loki_encoding: {encoding}
    loki_labels: [container_name, stream]
    loki_static_labels: {{job: logship, env: test}}
    max_in_flight: 1
    batch_max_events: 30
""")
        got = []
        for path, headers, body in peer.requests:
            self.assertEqual(headers["Content-Type"],
                             "application/x-protobuf" if encoding == "protobuf" else "application/json")
            streams = decode_loki_protobuf(body) if encoding == "protobuf" else decode_loki_json(body)
            label_sets = [tuple(sorted(labels.items())) for labels, _ in streams]
            self.assertEqual(len(label_sets), len(set(label_sets)), "one stream per label set")
            for labels, values in streams:
                name = labels["container_name"]
                self.assertEqual(labels, {"container_name": name, "stream": labels["stream"],
                                          "job": "logship", "env": "test"})
                self.assertEqual([t for t, _ in values], sorted(t for t, _ in values), "time order")
                for t, line in values:
                    s = int(line.split()[2])
                    self.assertEqual(t, T0 + (s + (1 if s % 2 == 0 else -1)) * 1000)
                    self.assertEqual(labels["stream"], "stderr" if s % 5 == 0 else "stdout")
                    got.append(line)
        self.assertEqual(sorted(got), sorted(f"{n} line {s}" for n in ("web", "db") for s in range(50)))

    def test_loki_protobuf_snappy(self):
        self.run_loki("protobuf")

    def test_loki_json(self):
        self.run_loki("json")


if __name__ == "__main__":
    support.main()
