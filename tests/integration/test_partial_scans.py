"""cri and file inputs with the periodic rescan an hour away: a new log file, a kubelet rotation,
a new container in a pod and a new pod (cri); a new file, a rotation and a new directory under
a `**` glob (file) are found by partial scans of the directories inotify names, within a
second or two; `logship_input_scans_total{scope=...}` shows no complete scan ran besides the
first (except for the new directory, which asks for one). Exact record sets.
"""
import os
import time

import ops_support
import support
from test_cri_input import cri_line
from test_docker_input import collect, record_message
from test_file_input import line, records, seqs_of


def scans(port, scope):
    _, text = ops_support.get(port, "/metrics")
    for key, value in ops_support.parse_metrics(text).items():
        if key.startswith("logship_input_scans_total{") and f'scope="{scope}"' in key:
            return int(value)
    return 0


class PartialScanTest(support.TestCase):

    def arrives(self, delivered, what, limit=2.0):
        t0 = time.monotonic()
        support.wait_for(delivered, timeout=support.scaled(30), interval=0.05, what=what)
        took = time.monotonic() - t0
        self.assertLess(took, support.scaled(limit), f"{what} took {took:.2f}s")

    def test_cri(self):
        pods = os.path.join(self.tmp, "pods")
        out = os.path.join(self.tmp, "out")
        written = {}

        def write(pod, container, n, name="0.log"):
            cdir = os.path.join(pods, pod, container)
            os.makedirs(cdir, exist_ok=True)
            key = f"{container}"
            first = written.get(key, 0)
            with open(os.path.join(cdir, name), "ab") as f:
                f.write(b"".join(cri_line(record_message(key, s)) for s in range(first, first + n)))
            written[key] = first + n

        def have(key, n):
            return lambda: len(collect(out)[0].get(key, [])) >= n

        write("shop_api-1_0f1e-1111", "api", 3)
        write("shop_web-1_0f1e-2222", "web", 3)
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0
inputs:
  k8s:
    type: cri
    pods_root: {pods}
    rescan_interval: 1h
    rotate_wait: 1s
outputs:
  archive:
    type: file
    path: {out}/{{pod}}/{{container_name}}.log
    compress: false
""").start()
        port = ops_support.admin_port(d)
        support.wait_for(lambda: have("api", 3)() and have("web", 3)(), timeout=support.scaled(30))
        self.assertEqual(scans(port, "complete"), 1)

        # kubelet's rotation: 0.log renamed with a timestamp, a new 0.log.
        cdir = os.path.join(pods, "shop_api-1_0f1e-1111", "api")
        write("shop_api-1_0f1e-1111", "api", 2)
        os.rename(os.path.join(cdir, "0.log"), os.path.join(cdir, "0.log.20261204-101500"))
        write("shop_api-1_0f1e-1111", "api", 2)
        self.arrives(have("api", 7), "the rotated container's lines")
        # A restarted container: a new file in its directory.
        write("shop_web-1_0f1e-2222", "web", 2, name="1.log")
        self.arrives(have("web", 5), "a new file's lines")
        # A new container in an existing pod, then a new pod.
        write("shop_web-1_0f1e-2222", "sidecar", 2)
        self.arrives(have("sidecar", 2), "a new container's lines")
        write("shop_db-1_0f1e-3333", "db", 2)
        self.arrives(have("db", 2), "a new pod's lines")
        self.assertEqual(scans(port, "complete"), 1, "a complete scan ran")
        self.assertGreater(scans(port, "partial"), 0)
        time.sleep(0.5)
        seqs, raw, _ = collect(out)
        self.assertEqual(raw, [])
        for key, n in written.items():
            self.assertEqual(sorted(seqs.get(key, [])), list(range(n)), key)
        self.assertEqual(d.stop(), 0)

    def test_file(self):
        logs = os.path.join(self.tmp, "logs")
        apps = os.path.join(self.tmp, "apps")
        out = os.path.join(self.tmp, "out")
        os.makedirs(logs)
        os.makedirs(os.path.join(apps, "a"))
        os.makedirs(os.path.join(logs, "unrelated"))   # a directory no glob looks into
        written = {}

        def write(path, name, n):
            first = written.get(name, 0)
            with open(path, "a") as f:
                f.write("".join(line(name, s) + "\n" for s in range(first, first + n)))
            written[name] = first + n

        def have(name, n):
            return lambda: len(seqs_of(records(out)).get(name, [])) >= n

        write(os.path.join(logs, "one.log"), "one", 3)
        write(os.path.join(apps, "a", "x.log"), "ax", 3)
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0
inputs:
  files:
    type: file
    paths: ["{logs}/*.log", "{apps}/**/*.log"]
    rescan_interval: 1h
    rotate_wait: 1s
outputs:
  archive:
    type: file
    path: {out}/all.log
    compress: false
""").start()
        port = ops_support.admin_port(d)
        support.wait_for(lambda: have("one", 3)() and have("ax", 3)(), timeout=support.scaled(30))
        self.assertEqual(scans(port, "complete"), 1)

        write(os.path.join(logs, "two.log"), "two", 2)
        self.arrives(have("two", 2), "a new file's lines")
        write(os.path.join(logs, "one.log"), "one", 2)   # then renamed: logrotate's create
        os.rename(os.path.join(logs, "one.log"), os.path.join(logs, "one.log.1"))
        write(os.path.join(logs, "one.log"), "one", 2)
        self.arrives(have("one", 7), "the rotated file's lines")
        write(os.path.join(logs, "unrelated", "skip.log"), "skip", 1)   # matches no glob
        write(os.path.join(apps, "a", "y.log"), "ay", 2)
        self.arrives(have("ay", 2), "a new file's lines under **")
        self.assertEqual(scans(port, "complete"), 1, "a complete scan ran")
        self.assertGreater(scans(port, "partial"), 0)

        # A new directory a glob looks into: one complete scan expands the globs again.
        os.makedirs(os.path.join(apps, "b", "c"))
        write(os.path.join(apps, "b", "c", "z.log"), "bz", 2)
        self.arrives(have("bz", 2), "a new directory's file")
        self.assertGreaterEqual(scans(port, "complete"), 2)
        write(os.path.join(apps, "b", "c", "z.log"), "bz", 2)
        self.arrives(have("bz", 4), "more lines in the new directory")

        time.sleep(0.5)
        seqs = seqs_of(records(out))
        self.assertNotIn("skip", seqs)
        for name, n in written.items():
            if name != "skip":
                self.assertEqual(sorted(seqs.get(name, [])), list(range(n)), name)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    support.main()
