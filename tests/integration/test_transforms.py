"""Transforms and routing by content on a fake Docker tree: a filter drops health checks, a
modify adds fields, errors of containers labelled team=payments go to a second file and the rest
to the first (exact record sets on both); a throttled noisy container beside a quiet one (the
quiet one untouched, the noisy one's drops counted exactly on /metrics); the same in
`mode: delay` (the noisy one's lines all delivered, in order, late; the delays counted exactly)."""
import json
import os

import support
from ops_support import admin_port, get, parse_metrics
from test_docker_input import DockerTree, docker_line


def app_line(level, path, msg):
    return json.dumps({"level": level, "path": path, "msg": msg}, separators=(",", ":"))


class TransformsTest(support.TestCase):

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "docker")
        self.tree = DockerTree(self.root)

    def write(self, cid, name, labels, lines):
        path = self.tree.create(cid, name, labels=labels)
        with open(path, "ab") as f:
            for stream, text in lines:
                f.write(docker_line(text + "\n", stream=stream))

    def records(self, out):
        got = []
        for r in (support.read_file_output(out) if os.path.isdir(out) else []):
            got.append((r.get("container_name") or r.get("container", {}).get("name"),
                        r.get("message"), r.get("level"), r.get("env"), r.get("route_hint")))
        return sorted(got, key=repr)

    def test_filter_modify_and_route_by_label_and_level(self):
        self.write("a" * 64, "pay-api", {"team": "payments"}, [
            ("stdout", app_line("info", "/health", "hc1")),
            ("stdout", app_line("ERROR", "/pay", "p1")),
            ("stdout", app_line("info", "/pay", "p2")),
            ("stderr", app_line("fatal", "/pay", "p3")),
            ("stdout", app_line("warn", "/pay", "p4")),
        ])
        self.write("b" * 64, "search", {"team": "search"}, [
            ("stdout", app_line("error", "/q", "s1")),
            ("stdout", app_line("info", "/health", "hc2")),
            ("stdout", app_line("W", "/q", "s2")),
        ])
        main_out = os.path.join(self.tmp, "main")
        pay_out = os.path.join(self.tmp, "payments")
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0
inputs:
  containers:
    type: docker
    docker_root: {self.root}
    rescan_interval: 200ms
    processors: [parse, no_health, shape]
processors:
  parse: {{type: json}}
  no_health: {{type: filter, drop_if: 'path == "/health"'}}
  shape:
    type: modify
    set: {{env: prod}}
    add: {{level: unknown}}
    lowercase: [level]
  mark_pay: {{type: modify, set: {{route_hint: "pay-{{container_name}}"}}}}
outputs:
  main: {{type: file, path: "{main_out}/{{container_name}}.log", compress: false}}
  payments: {{type: file, path: "{pay_out}/{{container_name}}.log", compress: false}}
routes:
  - match: {{inputs: [containers], condition: 'level >= error and label("team") == "payments"'}}
    exclusive: true
    processors: [mark_pay]
    outputs: [payments]
  - match: [containers]
    outputs: [main]
""").start()
        port = admin_port(d)
        expected_pay = [("pay-api", "p1", "error", "prod", "pay-pay-api"),
                        ("pay-api", "p3", "fatal", "prod", "pay-pay-api")]
        expected_main = sorted([("pay-api", "p2", "info", "prod", None),
                                ("pay-api", "p4", "warn", "prod", None),
                                ("search", "s1", "error", "prod", None),
                                ("search", "s2", "w", "prod", None)], key=repr)
        support.wait_for(lambda: len(self.records(pay_out)) >= 2 and
                         len(self.records(main_out)) >= 4, timeout=support.scaled(30),
                         what="records on both outputs")
        m = parse_metrics(get(port, "/metrics")[1])
        self.assertEqual(m.get('logship_processor_dropped_total{processor="no_health",'
                               'reason="drop_if",type="filter"}'), 2)
        self.assertEqual(d.stop(), 0)
        self.assertEqual(self.records(pay_out), expected_pay)
        self.assertEqual(self.records(main_out), expected_main)

    def test_throttle_cuts_the_noisy_container_only(self):
        noisy = [("stdout", f"noisy {i}") for i in range(500)]
        quiet = [("stdout", f"quiet {i}") for i in range(20)]
        self.write("c" * 64, "noisy", {}, noisy)
        self.write("d" * 64, "quiet", {}, quiet)
        out = os.path.join(self.tmp, "out")
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0
inputs:
  containers:
    type: docker
    docker_root: {self.root}
    rescan_interval: 200ms
processors:
  limit: {{type: throttle, rate: 0.001, burst: 50, key: "{{container_name}}"}}
outputs:
  file: {{type: file, path: "{out}/{{container_name}}.log", compress: false}}
""").start()
        port = admin_port(d)
        key = 'logship_processor_dropped_total{processor="limit",reason="throttle",type="throttle"}'

        def settled():
            m = parse_metrics(get(port, "/metrics")[1])
            return m.get(key) == 450 and m.get('logship_output_events_total{output="file",type="file"}') == 70
        support.wait_for(settled, timeout=support.scaled(30), what="450 throttled, 70 delivered")
        self.assertEqual(d.stop(), 0)
        msgs = sorted(r["message"] for r in support.read_file_output(out))
        self.assertEqual(msgs, sorted([f"noisy {i}" for i in range(50)] +
                                      [f"quiet {i}" for i in range(20)]))

    def test_throttle_delay_holds_the_noisy_container_back_and_loses_nothing(self):
        noisy = [f"noisy {i}" for i in range(300)]
        quiet = [f"quiet {i}" for i in range(20)]
        self.write("e" * 64, "noisy", {}, [("stdout", m) for m in noisy])
        self.write("f" * 64, "quiet", {}, [("stdout", m) for m in quiet])
        out = os.path.join(self.tmp, "out")
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0
inputs:
  containers:
    type: docker
    docker_root: {self.root}
    rescan_interval: 200ms
processors:
  limit: {{type: throttle, rate: 100, burst: 50, key: "{{container_name}}", mode: delay}}
outputs:
  file: {{type: file, path: "{out}/{{container_name}}.log", compress: false}}
""").start()
        port = admin_port(d)
        labels = '{processor="limit",type="throttle"}'

        def lines(name):
            path = os.path.join(out, f"{name}.log")
            return [r["message"] for r in support.read_file_output(out, f"{name}.log")] \
                if os.path.exists(path) else []

        # 250 noisy lines wait for tokens at 100/s: 2.5 s. The quiet container does not wait.
        support.wait_for(lambda: lines("quiet") == quiet, timeout=support.scaled(20),
                         what="the quiet container's 20 lines")
        self.assertLess(len(lines("noisy")), 300, "the quiet container waited for the noisy one")
        support.wait_for(lambda: len(lines("noisy")) >= 300, timeout=support.scaled(30),
                         what="all 300 noisy lines")
        self.assertEqual(lines("noisy"), noisy)   # every line, once, in order
        m = parse_metrics(get(port, "/metrics")[1])
        self.assertEqual(m.get("logship_throttle_delayed_total" + labels), 250)
        self.assertEqual(m.get("logship_throttle_held_events" + labels), 0)
        self.assertEqual(m.get("logship_throttle_held_bytes" + labels), 0)
        self.assertIsNone(m.get('logship_processor_dropped_total{processor="limit",'
                                'reason="throttle",type="throttle"}'))
        self.assertEqual(m.get('logship_output_events_total{output="file",type="file"}'), 320)
        self.assertEqual(d.stop(), 0)
        self.assertEqual(lines("noisy"), noisy)
        self.assertEqual(lines("quiet"), quiet)


if __name__ == "__main__":
    support.main()
