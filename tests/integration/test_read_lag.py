"""Per-file read lag on /metrics: grows while a stalled output pauses the docker input, and
returns to 0 once the output recovers and the file is read to its end."""
import os
import re
import shutil
import socket
import sys
import urllib.request

import support

sys.path.insert(0, os.path.join(support.SOURCE_DIR, "bench"))
import loadgen  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ReadLagTest(support.TestCase):
    def lags(self, port):
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        except OSError:
            return []   # not listening yet
        return [int(v) for v in re.findall(r'^logship_input_file_lag_bytes\{[^}]*\} (\d+)$', text, re.M)]

    def test_lag_reported_per_file_and_drains_to_zero(self):
        root = os.path.join(self.tmp, "docker")
        loadgen.write_tree(root, containers=2, lines=40000, size=180, json_share=0, multiline_share=0)
        out = os.path.join(self.tmp, "out")
        with open(out, "w") as f:   # a file where the output needs a directory: every write fails
            f.write("blocker")
        port = free_port()
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:{port}
  queue_max_bytes: 64KiB
  retry_max: 200ms
inputs:
  docker: {{type: docker, docker_root: {root}}}
outputs:
  sink: {{type: file, path: "{out}/{{container_name}}.log"}}
""").start()
        lags = support.wait_for(lambda: (lambda l: l if len(l) == 2 and all(v > 0 for v in l) else None)(self.lags(port)),
                                timeout=30, what="two files with lag while the output is stalled")
        self.assertTrue(all(v > 100000 for v in lags), lags)
        os.unlink(out)
        os.makedirs(out)
        support.wait_for(lambda: self.lags(port) == [0, 0], timeout=60, what="lag back to 0")
        self.assertEqual(d.stop(), 0, d.stderr())
        lines = sum(len(support.read_lines(os.path.join(out, f))) for f in os.listdir(out))
        self.assertEqual(lines, 40000)


if __name__ == "__main__":
    support.main()
