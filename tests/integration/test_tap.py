"""`logship tap` against the real daemon: at each tap point (after the input, after a named
processor, before an output) a tap filtered to one container prints exactly that container's
events while the output still gets every event; a client that reads nothing does not slow the
pipeline and what it missed is counted exactly on /metrics; service.tap off, an unknown point
and a bad condition are refused with the reason."""
import json
import os
import socket
import subprocess
import time

import support
from ops_support import admin_port, get, parse_metrics
from test_docker_input import DockerTree, docker_line

API = "a" * 64
WEB = "b" * 64


def app_line(i, who):
    return json.dumps({"level": "error" if i % 3 == 0 else "info", "msg": f"{who}-{i}"},
                      separators=(",", ":"))


class TapTest(support.TestCase):

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "docker")
        self.tree = DockerTree(self.root)
        self.out = os.path.join(self.tmp, "main")

    def config(self, service=""):
        return f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0{service}
inputs:
  containers:
    type: docker
    docker_root: {self.root}
    rescan_interval: 200ms
    processors: [parse]
processors:
  parse: {{type: json}}
  shape: {{type: modify, set: {{env: prod}}}}
outputs:
  main: {{type: file, path: "{self.out}/{{container_name}}.log", compress: false}}
routes:
  - match: [containers]
    processors: [shape]
    outputs: [main]
"""

    def tap(self, port, point, *extra):
        base = os.path.join(self.tmp, f"tap-{point}")
        with open(self.watch_stderr(base + ".stderr"), "wb") as err, open(base + ".out", "wb") as out:
            p = subprocess.Popen([support.LOGSHIP, "tap", "--address", f"127.0.0.1:{port}", "--at",
                                  point, "--rate", "10000", *extra], stdout=out, stderr=err)
        p.out_path = base + ".out"
        self.addCleanup(lambda: p.poll() is None and p.kill())
        return p

    @staticmethod
    def printed(p):
        with open(p.out_path) as f:
            return f.read().splitlines()

    def test_each_tap_point_sees_exactly_the_filtered_containers_events(self):
        self.tree.create(API, "api")
        self.tree.create(WEB, "web")
        d = self.daemon(self.config()).start()
        port = admin_port(d)
        where = 'container_name == "api"'
        taps = {point: self.tap(port, point, "--where", where, "--format", "json")
                for point in ("input:containers", "processor:shape", "output:main")}
        # A readable-form tap beside them, after the input's own processor.
        line_tap = self.tap(port, "processor:parse", "--where", 'container_name == "api" and '
                            'level == "error"')
        support.wait_for(lambda: d.stderr().count('msg="tap opened"') == 4, timeout=15,
                         what="four taps open")
        n = 300
        for cid, who in ((API, "api"), (WEB, "web")):
            with open(self.tree.log_path(cid), "ab") as f:
                for i in range(n):
                    f.write(docker_line(app_line(i, who) + "\n"))

        def delivered():
            return len(support.read_file_output(self.out)) if os.path.isdir(self.out) else 0
        support.wait_for(lambda: delivered() == 2 * n, timeout=support.scaled(30),
                         what="every event in the output")
        errors = [i for i in range(n) if i % 3 == 0]
        # Every tap printed its share (and, a moment later, nothing more), then ends on SIGTERM.
        support.wait_for(lambda: all(len(self.printed(p)) == n for p in taps.values()) and
                         len(self.printed(line_tap)) == len(errors), timeout=support.scaled(15),
                         what="every tap's lines printed")
        time.sleep(0.5)
        got = {}
        for point, p in list(taps.items()) + [("line", line_tap)]:
            p.terminate()
            self.assertEqual(p.wait(timeout=10), 0)
            got[point] = self.printed(p)

        api_lines = [app_line(i, "api") for i in range(n)]
        raw = [json.loads(l) for l in got["input:containers"]]
        self.assertEqual([r["point"] for r in raw], ["input:containers"] * n)
        # After the input: the message as read, before the input's json parser.
        self.assertEqual([r["event"]["message"] for r in raw], api_lines)
        self.assertTrue(all(r["event"]["container_name"] == "api" for r in raw))
        shaped = [json.loads(l) for l in got["processor:shape"]]
        self.assertEqual([r["event"]["message"] for r in shaped], [f"api-{i}" for i in range(n)])
        self.assertTrue(all(r["event"]["env"] == "prod" for r in shaped))
        out = [json.loads(l) for l in got["output:main"]]
        self.assertEqual([r["event"] for r in out], [r["event"] for r in shaped])
        self.assertEqual({r["point"] for r in out}, {"output:main"})
        # The readable form: one line per event, errors of api only.
        self.assertEqual(len(got["line"]), len(errors), got["line"][:3])
        for i, line in zip(errors, got["line"]):
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT[\d:.]+Z processor:parse containers/stdout: "
                                   rf"api-{i} container_id={API} container_name=api image=app:1 "
                                   rf"hostname={API[:12]} level=\"error\"$")

        # The pipeline's own output is complete and unaffected.
        records = support.read_file_output(self.out)
        self.assertEqual(sorted(r["message"] for r in records),
                         sorted([f"api-{i}" for i in range(n)] + [f"web-{i}" for i in range(n)]))
        m = parse_metrics(get(port, "/metrics")[1])
        self.assertEqual(m['logship_tap_dropped_events_total{reason="slow_client"}'], 0)
        self.assertEqual(m['logship_tap_dropped_events_total{reason="rate_limit"}'], 0)
        self.assertEqual(m["logship_tap_events_total"], 3 * n + len(errors))
        support.wait_for(lambda: d.stderr().count('msg="tap closed"') == 4, timeout=10,
                         what="taps closed")
        self.assertEqual(parse_metrics(get(port, "/metrics")[1])["logship_tap_clients"], 0)
        self.assertEqual(d.stop(), 0, d.stderr())

    def test_a_client_that_reads_nothing_does_not_slow_the_pipeline(self):
        n = 100000
        self.tree.create(API, "api")
        d = self.daemon(self.config()).start()
        port = admin_port(d)
        # Connected, asked, never reads a byte: its socket buffers fill, then its queue.
        stalled = socket.create_connection(("127.0.0.1", port))
        self.addCleanup(stalled.close)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.sendall(b"GET /api/tap?point=output:main&rate=100000 HTTP/1.1\r\n"
                        b"Host: x\r\n\r\n")
        support.wait_for(lambda: 'msg="tap opened"' in d.stderr(), timeout=10, what="tap open")
        payload = "x" * 150
        with open(self.tree.log_path(API), "ab") as f:
            f.write(b"".join(docker_line(json.dumps({"msg": f"{i} {payload}"}) + "\n")
                             for i in range(n)))
        started = time.monotonic()
        key = 'logship_output_events_total{output="main",type="file"}'

        def metrics():
            return parse_metrics(get(port, "/metrics")[1])
        support.wait_for(lambda: metrics().get(key) == n, timeout=support.scaled(90),
                         interval=0.2, what="every event delivered")
        elapsed = time.monotonic() - started
        m = metrics()
        sent = m["logship_tap_events_total"]
        slow = m['logship_tap_dropped_events_total{reason="slow_client"}']
        rate = m['logship_tap_dropped_events_total{reason="rate_limit"}']
        # Every event offered to the tap is accounted for: queued for the client, or dropped.
        self.assertEqual(sent + slow + rate, n, m)
        self.assertGreater(slow, n // 2, "a client that reads nothing must lose tap events")
        self.assertEqual(m["logship_tap_clients"], 1)
        print(f"\n{n} events with a stalled tap delivered in {elapsed:.2f}s; tap sent {sent:.0f}, "
              f"dropped {slow:.0f} (slow client), {rate:.0f} (rate limit)")
        self.assertEqual(len(support.read_file_output(self.out)), n)
        stalled.close()
        support.wait_for(lambda: metrics()["logship_tap_clients"] == 0, timeout=10,
                         what="the stalled tap closed")
        self.assertEqual(d.stop(), 0, d.stderr())

    def test_refusals_say_why(self):
        d = self.daemon(self.config()).start()
        port = admin_port(d)
        status, body = get(port, "/api/tap?point=output:nope")
        self.assertEqual(status, 404)
        self.assertIn("no tap point 'output:nope'", body)
        self.assertIn("output:main", body)
        self.assertIn("processor:shape", body)
        status, body = get(port, "/api/tap?point=output:main&where=level%20%3E%3D")
        self.assertEqual(status, 400)
        self.assertTrue(body.startswith("where: column "), body)
        r = support.run_logship(["tap", "--address", f"127.0.0.1:{port}", "--at", "input:x"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("answered 404: no tap point 'input:x'", r.stderr.decode())
        r = support.run_logship(["tap", "--address", f"127.0.0.1:{port}"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--at POINT is required", r.stderr.decode())
        self.assertEqual(d.stop(), 0, d.stderr())

        off = self.daemon(self.config('\n  tap: "off"'), name="off").start()
        port = admin_port(off)
        status, body = get(port, "/api/tap?point=output:main")
        self.assertEqual((status, body), (403, "tap is off (service.tap)\n"))
        self.assertIn('paths="/metrics /health /ready /api/reload"', off.stderr())
        self.assertEqual(off.stop(), 0, off.stderr())


if __name__ == "__main__":
    support.main()
