"""Per-file read lag on /metrics: grows while a stalled output pauses the docker input, and
returns to 0 once the output recovers and the file is read to its end."""
import os
import re
import shutil
import socket
import sys
import time
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

    def stalled_daemon(self, root, file_name):
        """The docker input over `root` into a file output whose directory is a plain file, so
        every write fails until unstall(); the input pauses with lag. (daemon, port, out)"""
        out = os.path.join(self.tmp, "out")
        with open(out, "w") as f:
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
  sink: {{type: file, path: "{out}/{file_name}"}}
""").start()
        return d, port, out

    @staticmethod
    def unstall(out):
        os.unlink(out)
        os.makedirs(out, exist_ok=True)   # the output may have made it first

    def series(self, port, name):
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        except OSError:
            return []
        return [int(v) for v in re.findall(r'^' + name + r'\{[^}]*\} (-?\d+)$', text, re.M)]

    def test_how_far_behind_in_time_is_the_newest_record_read(self):
        """Lines written a second apart a day ago: while the output is stalled the reader stops
        somewhere in the file, and the read timestamp says which second it reached; once read
        to the end it is the last line's."""
        root = os.path.join(self.tmp, "docker")
        cid = loadgen.container_id(0, 7)
        cdir = os.path.join(root, "containers", cid)
        os.makedirs(cdir)
        loadgen.write_config(cdir, cid, 0)
        lines = 20000
        t0 = int(time.time()) - 86400
        with open(os.path.join(cdir, f"{cid}-json.log"), "w") as f:
            for i in range(lines):
                f.write(loadgen.json_line(f"line {i} " + "x" * 150 + "\n", "stdout",
                                          (t0 + i) * 1_000_000_000))
        d, port, out = self.stalled_daemon(root, "all.log")

        def stalled_read_at():
            # The lag shows as soon as the file is followed, the read time once its first
            # records were read: under a slow build there is time between the two.
            behind = [v for v in self.lags(port) if v > 0]
            at = self.series(port, "logship_input_file_read_timestamp_seconds")
            return at if len(behind) == 1 and len(at) == 1 and at[0] > 0 else None
        read_at = support.wait_for(stalled_read_at, timeout=30,
                                   what="lag and a read time while stalled")
        self.assertGreaterEqual(read_at[0], t0)
        self.assertLess(read_at[0], t0 + lines - 1, "stalled: the last line is not read yet")
        self.assertGreater(time.time() - read_at[0], 86400 - lines, "about a day behind")
        self.unstall(out)
        support.wait_for(lambda: self.lags(port) == [0], timeout=60, what="lag back to 0")
        self.assertEqual(self.series(port, "logship_input_file_read_timestamp_seconds"),
                         [t0 + lines - 1])
        self.assertEqual(d.stop(), 0, d.stderr())
        self.assertEqual(len(support.read_lines(os.path.join(out, "all.log"))), lines)

    def test_lag_reported_per_file_and_drains_to_zero(self):
        root = os.path.join(self.tmp, "docker")
        loadgen.write_tree(root, containers=2, lines=40000, size=180, json_share=0, multiline_share=0)
        d, port, out = self.stalled_daemon(root, "{container_name}.log")
        lags = support.wait_for(lambda: (lambda l: l if len(l) == 2 and all(v > 0 for v in l) else None)(self.lags(port)),
                                timeout=30, what="two files with lag while the output is stalled")
        self.assertTrue(all(v > 100000 for v in lags), lags)
        self.unstall(out)
        support.wait_for(lambda: self.lags(port) == [0, 0], timeout=60, what="lag back to 0")
        self.assertEqual(d.stop(), 0, d.stderr())
        lines = sum(len(support.read_lines(os.path.join(out, f))) for f in os.listdir(out))
        self.assertEqual(lines, 40000)


if __name__ == "__main__":
    support.main()
