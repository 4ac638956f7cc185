"""Per-container series of the docker input: labelled by the container's name (escaped and
bounded: names come from whoever starts the container), capped by service.max_container_series
with the rest in container="_other", gone when the container is; /metrics passes promtool."""
import os
import shutil
import subprocess

import support
from ops_support import admin_port, get, parse_metrics
from test_docker_input import DockerTree, docker_line

# Sorted ids: the containers are found in this order.
WEB1, HOSTILE, WEB2 = "a" * 64, "b" * 64, "c" * 64
HOSTILE_NAME = 'evil"\\name\x07' + "x" * 300
# What /metrics shows of it: quote and backslash escaped, the control byte as '_', cut to 127
# bytes plus '~'.
HOSTILE_LABEL = ('evil\\"\\\\name_' + "x" * (127 - len('evil"\\name\x07')) + "~")
EVENTS = {WEB1: 30, HOSTILE: 20, WEB2: 10}
MESSAGE = "m" * 50


def series(metrics, name, container):
    return metrics.get(f'{name}{{input="containers",container="{container}",type="docker"}}')


class ContainerSeriesTest(support.TestCase):
    def test_series_by_name_capped_escaped_and_removed(self):
        root = os.path.join(self.tmp, "docker")
        tree = DockerTree(root)
        for cid, name in ((WEB1, "web-1"), (HOSTILE, HOSTILE_NAME), (WEB2, "web-2")):
            path = tree.create(cid, name)
            with open(path, "ab") as f:
                for i in range(EVENTS[cid]):
                    f.write(docker_line(MESSAGE + "\n"))   # a whole line: not a partial
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0
  max_container_series: 2
inputs:
  containers:
    type: docker
    docker_root: {root}
    rescan_interval: 200ms
    rotate_wait: 1s
outputs:
  n:
    type: "null"
""").start()
        port = admin_port(d)

        def read_all():
            m = parse_metrics(get(port, "/metrics")[1])
            total = sum(v for k, v in m.items()
                        if k.startswith("logship_input_container_events_total{"))
            return m if total == sum(EVENTS.values()) else None
        m = support.wait_for(read_all, timeout=support.scaled(30), what="every event counted")
        # Two named series (the cap), the third container in _other, counted as overflow.
        self.assertEqual(series(m, "logship_input_container_events_total", "web-1"), 30)
        self.assertEqual(series(m, "logship_input_container_bytes_total", "web-1"), 30 * 50)
        self.assertEqual(series(m, "logship_input_container_events_total", HOSTILE_LABEL), 20, m)
        self.assertEqual(series(m, "logship_input_container_events_total", "_other"), 10)
        self.assertEqual(series(m, "logship_input_container_bytes_total", "_other"), 10 * 50)
        self.assertIsNone(series(m, "logship_input_container_events_total", "web-2"))
        self.assertEqual(
            m['logship_input_container_series_overflow_total{input="containers",type="docker"}'], 1)
        self.assertEqual(m['logship_input_container_series{input="containers",type="docker"}'], 2)

        text = get(port, "/metrics")[1]
        r = subprocess.run([shutil.which("promtool") or "promtool", "check", "metrics"],
                           input=text.encode(), capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())

        # The container goes away: once its file is released, its series leave /metrics.
        shutil.rmtree(tree.container_dir(WEB1))

        def gone():
            m = parse_metrics(get(port, "/metrics")[1])
            return m if series(m, "logship_input_container_events_total", "web-1") is None else None
        m = support.wait_for(gone, timeout=support.scaled(30), what="web-1's series removed")
        self.assertIsNone(series(m, "logship_input_container_bytes_total", "web-1"))
        self.assertEqual(m['logship_input_container_series{input="containers",type="docker"}'], 1)
        self.assertEqual(series(m, "logship_input_container_events_total", "_other"), 10)
        d.stop()


if __name__ == "__main__":
    support.main()
