"""http output (NDJSON, gzip, basic auth) against a plain HTTP receiver scripted in this test:
its first answers are 429 with Retry-After, 503, then 400 for the same request; every other
request is accepted. Asserted: every Docker line is delivered exactly once or, for the request
answered 400, dead-lettered with the server's words; Retry-After was honoured."""
import base64
import gzip
import http.server
import json
import os
import threading
import time

import support
from test_docker_input import DockerTree, docker_line

T0 = 1714557600_000_000_000


class Receiver:
    def __init__(self, script):
        self.requests = []   # (monotonic time, headers, [message, ...], status)
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                lines = raw.decode().split("\n")
                assert lines[-1] == "", "NDJSON ends with a newline"
                messages = [json.loads(l)["message"] for l in lines[:-1]]
                with outer.lock:
                    n = len(outer.requests)
                    status, extra = script(n)
                    outer.requests.append((time.monotonic(), dict(self.headers), messages, status))
                body = b"refused: bad input" if status == 400 else b"{}"
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def address(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class HttpOutputTest(support.TestCase):
    def test_ndjson_with_scripted_429_503_400(self):
        def script(n):
            return {0: (429, {"Retry-After": "1"}), 1: (503, {}), 2: (400, {})}.get(n, (200, {}))

        rx = Receiver(script)
        self.addCleanup(rx.close)
        tree = DockerTree(os.path.join(self.tmp, "docker"))
        path = tree.create("f6" * 32, "web", image="app:1")
        with open(path, "ab") as f:
            for s in range(300):
                f.write(docker_line(f"line {s}\n", t=T0 + s * 1000 + 1))
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  exit_when_done: true
  drain_timeout: {support.scaled(20)}s
inputs:
  containers:
    type: docker
    docker_root: {tree.root}
    exit_at_eof: true
outputs:
  rx:
    type: http
    endpoint: http://{rx.address()}
    path: /ingest
    compression: gzip
    basic_user: logship
    basic_password: s3cret
    max_in_flight: 1
    batch_max_events: 100
    retry_initial: 50ms
""").start()
        self.assertEqual(d.wait(timeout=support.scaled(60)), 0, d.stderr())
        reqs = rx.requests
        self.assertGreaterEqual(len(reqs), 5)   # 3 answers for the first, then >= 2 for 200 lines
        auth = "Basic " + base64.b64encode(b"logship:s3cret").decode()
        for _, headers, _, _ in reqs:
            self.assertEqual(headers["Authorization"], auth)
            self.assertEqual(headers["Content-Type"], "application/x-ndjson")
            self.assertEqual(headers["Content-Encoding"], "gzip")
        # The same request three times: 429, 503, then 400.
        self.assertEqual([r[3] for r in reqs[:3]], [429, 503, 400])
        self.assertEqual(reqs[0][2], reqs[1][2])
        self.assertEqual(reqs[1][2], reqs[2][2])
        self.assertGreaterEqual(reqs[1][0] - reqs[0][0], 0.95)   # Retry-After: 1
        refused = reqs[2][2]
        delivered = [m for r in reqs[3:] for m in r[2]]
        self.assertTrue(all(r[3] == 200 for r in reqs[3:]))
        self.assertEqual(len(delivered), len(set(delivered)))   # none twice
        dlq = os.path.join(self.tmp, "state", "dlq", "rx.ndjson")
        dead = [json.loads(l) for l in support.read_lines(dlq)]
        self.assertEqual([r["event"]["message"] for r in dead], refused)
        for r in dead:
            self.assertEqual(r["error"], "rejected")
            self.assertEqual(r["reason"], "HTTP 400: refused: bad input")
        self.assertEqual(sorted(delivered + refused, key=lambda m: int(m.split()[1])),
                         [f"line {s}" for s in range(300)])
        self.assertTrue(set(delivered).isdisjoint(refused))


if __name__ == "__main__":
    support.main()
