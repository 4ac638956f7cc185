"""The admin endpoint: /metrics counters equal the real counts of a run and pass promtool (and a
real Prometheus scrapes them); /health and /ready answer with meaningful status codes."""
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse

import support
from ops_support import admin_port, get, parse_metrics

N = 20000
SIZE = 100


class AdminHttpTest(support.TestCase):
    def counted_run(self):
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0
inputs:
  gen:
    type: generate
    count: {N}
    message_size: {SIZE}
    batch_events: 500
outputs:
  n:
    type: "null"
""").start()
        port = admin_port(d)

        def delivered():
            m = parse_metrics(get(port, "/metrics")[1])
            return m if m.get('logship_output_events_total{output="n",type="null"}') == N else None
        return d, port, support.wait_for(delivered, timeout=60, what=f"{N} events delivered")

    def test_counters_equal_the_real_counts_and_promtool_accepts_them(self):
        d, port, m = self.counted_run()
        self.assertEqual(m['logship_input_events_total{input="gen",type="generate"}'], N)
        self.assertEqual(m['logship_input_bytes_total{input="gen",type="generate"}'], N * SIZE)
        self.assertEqual(m['logship_output_bytes_total{output="n",type="null"}'], N * SIZE)
        self.assertEqual(m['logship_output_dropped_events_total{output="n",type="null"}'], 0)
        self.assertEqual(m['logship_output_dead_lettered_total{output="n",error="bad_path",type="null"}'], 0)
        self.assertEqual(m['logship_output_retries_total{output="n",type="null"}'], 0)
        batches = m['logship_output_batches_total{output="n",type="null"}']
        self.assertGreater(batches, 0)
        self.assertEqual(m['logship_output_latency_seconds_count{output="n",type="null"}'], batches)
        self.assertEqual(m['logship_output_latency_seconds_bucket{output="n",type="null",le="+Inf"}'], batches)
        self.assertIn("logship_checkpoint_age_seconds", m)
        status, text = get(port, "/metrics")
        self.assertEqual(status, 200)
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool missing: run scripts/install-deps.sh (prometheus)")
        r = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        self.assertEqual(d.stop(), 0)

    def test_real_prometheus_scrapes_the_counters(self):
        prometheus = shutil.which("prometheus")
        self.assertIsNotNone(prometheus, "prometheus missing: run scripts/install-deps.sh")
        d, port, _ = self.counted_run()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            prom_port = s.getsockname()[1]
        cfg = os.path.join(self.tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: logship
    static_configs:
      - targets: ["127.0.0.1:{port}"]
""")
        log = open(os.path.join(self.tmp, "prometheus.log"), "wb")
        prom = subprocess.Popen([prometheus, f"--config.file={cfg}",
                                 f"--storage.tsdb.path={self.tmp}/tsdb",
                                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                                stdout=log, stderr=log)
        try:
            query = urllib.parse.quote('logship_output_events_total{output="n",type="null"}')

            def scraped():
                try:
                    status, body = get(prom_port, f"/api/v1/query?query={query}")
                except OSError:
                    return None
                if status != 200:
                    return None
                result = json.loads(body)["data"]["result"]
                return result[0] if result else None
            r = support.wait_for(scraped, timeout=90, interval=0.5, what="prometheus scrape")
            self.assertEqual(r["metric"]["job"], "logship")
            self.assertEqual(float(r["value"][1]), N)
        finally:
            prom.terminate()
            prom.wait(timeout=30)
            log.close()
        self.assertEqual(d.stop(), 0)

    def test_health_and_ready(self):
        # The output writes below a regular file: every delivery fails and is retried.
        blocker = os.path.join(self.tmp, "not-a-dir")
        open(blocker, "w").close()
        config = f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0
  ready_max_failing: 500ms
  retry_max: 200ms
inputs:
  gen:
    type: generate
    rate: 100
outputs:
  broken:
    type: file
    path: {blocker}/{{input}}.log
"""
        d = self.daemon(config).start()
        port = admin_port(d)
        self.assertEqual(get(port, "/health"), (200, "ok\n"))

        def not_ready():
            # Also 503 while the pipeline is still starting (slow under a sanitizer): wait for
            # the failing output's reason.
            status, body = get(port, "/ready")
            return (status, body) if status == 503 and "failing" in body else None
        status, body = support.wait_for(not_ready, timeout=support.scaled(20),
                                        what="/ready 503 for the failing output")
        self.assertIn("output broken failing", body)
        self.assertEqual(get(port, "/health")[0], 200)   # alive even though not ready
        self.assertEqual(get(port, "/nope")[0], 404)
        self.assertEqual(get(port, "/metrics", method="POST")[0], 405)

        # Fixing the output by reloading makes the daemon ready again.
        with open(d.config_path, "w") as f:
            f.write(config.replace(f"{blocker}/", f"{self.tmp}/out/"))
        d.proc.send_signal(1)
        support.wait_for(lambda: get(port, "/ready") == (200, "ready\n"), timeout=30,
                         what="/ready 200 after the reload")
        self.assertEqual(d.stop(), 0)

    def test_series_carry_the_plugin_type_and_leave_with_their_component(self):
        base = f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0
inputs:
  gen: {{type: generate, rate: 200}}
outputs:
  keep: {{type: "null"}}
"""
        d = self.daemon(base + f"""  gone: {{type: file, path: {self.tmp}/out/x.log}}
  retyped: {{type: "null"}}
""").start()
        port = admin_port(d)

        def metrics_when(pred):
            return support.wait_for(lambda: (lambda m: m if pred(m) else None)(
                parse_metrics(get(port, "/metrics")[1])), timeout=support.scaled(20),
                what="metrics")
        m = metrics_when(lambda m: m.get('logship_output_events_total{output="gone",type="file"}', 0) > 0)
        self.assertGreater(m['logship_input_events_total{input="gen",type="generate"}'], 0)
        self.assertIn('logship_output_events_total{output="retyped",type="null"}', m)
        self.assertIn('logship_file_rotations_total{output="gone",type="file"}', m)
        # A reload removes `gone` (its series leave) and makes `retyped` a file output (its
        # series go on, shown as type file); `keep` and `gen` count on in the same series.
        keep_before = m['logship_output_events_total{output="keep",type="null"}']
        with open(d.config_path, "w") as f:
            f.write(base + f"""  retyped: {{type: file, path: {self.tmp}/out/y.log}}
""")
        d.proc.send_signal(1)
        # The new runner of `retyped` counts before the reload has finished removing `gone`
        # (its series leave once its runner has stopped): wait for both, bounded.
        m = metrics_when(lambda m: m.get('logship_output_events_total{output="retyped",type="file"}', 0) > 0
                         and not [k for k in m if 'output="gone"' in k])
        self.assertFalse([k for k in m if 'output="retyped",type="null"' in k], m)
        self.assertGreater(m['logship_output_events_total{output="keep",type="null"}'], keep_before)
        text = get(port, "/metrics")[1]
        r = subprocess.run([shutil.which("promtool"), "check", "metrics"], input=text.encode(),
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(d.stop(), 0)

    def test_top_shows_rates_of_each_component(self):
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0
inputs:
  gen: {{type: generate, rate: 400}}
outputs:
  arch: {{type: file, path: {self.tmp}/out/x.log}}
""").start()
        port = admin_port(d)
        r = support.run_logship(["top", "--address", f"127.0.0.1:{port}", "--interval", "500ms",
                                 "--iterations", "3", "--no-clear"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        screens = r.stdout.decode().split("logship top  ")[1:]
        self.assertEqual(len(screens), 3)
        last = screens[-1]
        gen = next(l.split() for l in last.splitlines() if l.startswith("gen "))
        arch = next(l.split() for l in last.splitlines() if l.startswith("arch "))
        self.assertEqual(gen[1], "generate")
        self.assertEqual(arch[1], "file")
        # 400 events/s, measured over 0.5 s windows (a loaded runner jitters them).
        self.assertTrue(100 <= float(gen[2]) <= 800, last)
        self.assertTrue(100 <= float(arch[2]) <= 800, last)
        self.assertIn("process: cpu", last)
        self.assertEqual(d.stop(), 0)
        r = support.run_logship(["top", "--address", f"127.0.0.1:{port}", "--iterations", "1"])
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"cannot read http://127.0.0.1:{port}/metrics", r.stderr.decode())

    def test_bind_failure_is_fatal(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            taken = s.getsockname()[1]
            d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:{taken}
inputs:
  gen: {{type: generate, rate: 1}}
outputs:
  n: {{type: "null"}}
""").start()
            self.assertEqual(d.wait(timeout=30), 1)
        self.assertIn("cannot start the HTTP endpoint", d.stderr())

    def test_default_config_runs_on_even_when_its_port_is_taken(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            env = {"LOGSHIP_STATE_DIR": f"{self.tmp}/state",
                   "LOGSHIP_ARCHIVE_DIR": f"{self.tmp}/archive",
                   "LOGSHIP_HTTP_LISTEN": f"127.0.0.1:{s.getsockname()[1]}"}
            log = open(self.watch_stderr(os.path.join(self.tmp, "default.stderr")), "wb")
            p = subprocess.Popen([support.LOGSHIP, "run"], stdout=subprocess.DEVNULL, stderr=log,
                                 env={**os.environ, **env})
            try:
                def started():
                    with open(log.name) as f:
                        return "pipeline started" in f.read()
                support.wait_for(started, timeout=support.scaled(20), what="pipeline start")
                self.assertIsNone(p.poll())
            finally:
                p.terminate()
                self.assertEqual(p.wait(30), 0)
                log.close()
        with open(log.name) as f:
            self.assertIn("cannot start the HTTP endpoint; running without it", f.read())


if __name__ == "__main__":
    support.main()
