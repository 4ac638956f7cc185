"""service.memory_limit against the real binary: busy containers and a stalled output. The output
queue may grow far beyond the budget (queue_max_bytes 256MiB), so only the budget can stop the
input: RSS (its peak, VmHWM) stays under memory_limit while the output is down, /metrics shows
what holds the memory, and once the output recovers every record arrives exactly once."""
import os
import re
import socket
import sys
import time
import urllib.request

import support

sys.path.insert(0, os.path.join(support.SOURCE_DIR, "bench"))
import loadgen  # noqa: E402

MEMORY_LIMIT = 32 << 20
# Under ASan, freed memory waits in a quarantine before it is reused (to catch use after free):
# the catch-up after the stall frees a lot at once, and a full default quarantine (256 MiB)
# would be measured as logship's. This daemon gets a smaller one, counted in the bound.
ASAN_QUARANTINE = 64 << 20
ASAN_ENV = ({"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
             f":quarantine_size_mb={ASAN_QUARANTINE >> 20}"} if support.SANITIZER == "asan"
            else None)
# Measured: a 22 MiB peak in the release build is 245 MiB while stalled and 290 MiB after the
# catch-up under ASan with that quarantine (a Debug build whose many small allocations each get
# redzones and shadow). Without a
# working budget the queues would hold the 75 MB of lines (over 600 MiB under ASan), so the
# bound still tells a budget that works from none.
RSS_BOUND = (8 * MEMORY_LIMIT + ASAN_QUARANTINE if support.SANITIZER == "asan"
             else support.rss_limit(MEMORY_LIMIT))
CONTAINERS = 6
LINES = 300_000   # about 75 MB of json-file lines: twice the limit


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(port):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return ""


def series(text, name):
    return {labels: int(v) for labels, v in
            re.findall(r"^" + name + r"(?:\{([^}]*)\})? (-?\d+)$", text, re.M)}


def proc_status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
    return int(m.group(1))


class MemoryBudgetTest(support.TestCase):
    def test_stalled_output_busy_containers_stay_under_the_limit_and_lose_nothing(self):
        root = os.path.join(self.tmp, "docker")
        summary = loadgen.write_tree(root, containers=CONTAINERS, lines=LINES, size=200,
                                     json_share=0, multiline_share=0)
        self.assertGreater(summary["bytes"], 2 * MEMORY_LIMIT)
        out = os.path.join(self.tmp, "out")
        with open(out, "w") as f:   # a file where the output needs a directory: every write fails
            f.write("blocker")
        port = free_port()
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:{port}
  memory_limit: {MEMORY_LIMIT >> 20}MiB
  queue_max_bytes: 256MiB
  retry_max: 200ms
inputs:
  docker: {{type: docker, docker_root: {root}}}
processors:
  traces: {{type: multiline, rules: auto}}
outputs:
  sink: {{type: file, path: "{out}/{{container_name}}.log", compress: false}}
routes:
  - processors: [traces]
    outputs: [sink]
""", env=ASAN_ENV).start()
        pid = d.proc.pid

        last = {}

        def paused():
            """The output queues hold the budget's share and the input read nothing since the
            previous poll."""
            text = metrics(port)
            mem = series(text, "logship_memory_bytes")
            lags = series(text, "logship_input_file_lag_bytes")
            read = series(text, "logship_input_events_total")
            still = read and read == last.get("read")
            last["read"] = read
            if still and mem.get('part="output_queues"', 0) > (8 << 20) and \
                    len(lags) == CONTAINERS and sum(lags.values()) > 0:
                return text
            return None

        text = support.wait_for(paused, timeout=support.scaled(60), interval=0.3,
                                what="the input paused at the budget with the output down")
        self.assertEqual(series(text, "logship_memory_limit_bytes")[""], MEMORY_LIMIT)
        # What following the containers costs is charged too (not a buffer: it never pauses).
        mem = series(text, "logship_memory_bytes")
        self.assertEqual(mem['part="followed_files"'], CONTAINERS * 4096)
        self.assertGreaterEqual(mem['part="container_metadata"'], CONTAINERS * 1024)
        # Paused means paused: what the input read stays put for a while.
        read_before = series(text, "logship_input_events_total")
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            self.assertLess(proc_status_kib(pid, "VmRSS") << 10, RSS_BOUND)
            time.sleep(0.1)
        self.assertEqual(series(metrics(port), "logship_input_events_total"), read_before)
        peak_stalled = proc_status_kib(pid, "VmHWM") << 10
        self.assertLess(peak_stalled, RSS_BOUND,
                        f"peak RSS {peak_stalled >> 20} MiB while stalled")

        os.unlink(out)
        os.makedirs(out, exist_ok=True)   # the output may have made it first
        support.wait_for(lambda: (lambda l: l and all(v == 0 for v in l.values()))(
            series(metrics(port), "logship_input_file_lag_bytes")),
            timeout=support.scaled(120), what="every file read to its end")
        support.wait_for(lambda: series(metrics(port), "logship_memory_bytes").get(
            'part="output_queues"') == 0, timeout=support.scaled(60), what="queues delivered")
        peak = proc_status_kib(pid, "VmHWM") << 10
        self.assertEqual(d.stop(), 0, d.stderr())
        print(f"peak RSS {peak_stalled >> 20} MiB while stalled, {peak >> 20} MiB after the "
              f"catch-up (bound {RSS_BOUND >> 20} MiB)")
        self.assertLess(peak, RSS_BOUND, f"peak RSS {peak >> 20} MiB")

        seen = set()
        total = 0
        for name in os.listdir(out):
            for line in support.read_lines(os.path.join(out, name)):
                m = re.search(rb'"message":"(r=\d+-\d+) ', line)
                self.assertIsNotNone(m, line[:200])
                seen.add(m.group(1))
                total += 1
        self.assertEqual(total, summary["records"], "no loss, no duplicate")
        self.assertEqual(len(seen), summary["records"])


if __name__ == "__main__":
    support.main()
