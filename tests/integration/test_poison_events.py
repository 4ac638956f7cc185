"""docker -> file with events that can never be written, against the real binary: a container
whose name and compose label make a path too long, a symlink planted at the output path, and
fdatasync failing on the output files. Each asserts that the poison events are dead-lettered
with their reason (never retried forever, never holding up the other containers), that every
other record arrives exactly once, that nothing is acknowledged before it is durable, and that
the daemon stops on SIGTERM within its drain deadline, then and after a restart.

Every record carries "c=<container> seq=<n>" so delivery is checked as an exact set.
"""
import json
import os
import time

import support
from ops_support import admin_port, get, parse_metrics
from test_docker_input import SEQ_RE, DockerTree, docker_line, record_message

DRAIN_S = 5
# SIGTERM to exit: the drain deadline plus the time a sanitizer build needs to flush and exit.
STOP_LIMIT_S = DRAIN_S + support.scaled(3)
SHIM = os.environ.get("LOGSHIP_FAULT_SHIM", "")


def config(tmp, root, path, extra_output=""):
    return f"""
service:
  state_dir: {tmp}/state
  checkpoint_interval: 200ms
  drain_timeout: {DRAIN_S}s
  http_listen: 127.0.0.1:0
inputs:
  containers:
    type: docker
    docker_root: {root}
    rescan_interval: 200ms
outputs:
  archive:
    type: file
    path: {path}
    compress: false
{extra_output}
"""


class PoisonEventsTest(support.TestCase):

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "docker")
        self.out = os.path.join(self.tmp, "out")
        self.dlq = os.path.join(self.tmp, "state", "dlq", "archive.ndjson")
        self.tree = DockerTree(self.root)
        self.logs = {}

    def container(self, short, name, labels=None):
        cid = short.ljust(64, "0")
        self.logs[short] = self.tree.create(cid, name, labels=labels)

    def write(self, short, first, count):
        with open(self.logs[short], "ab") as f:
            for seq in range(first, first + count):
                f.write(docker_line(record_message(short, seq) + "\n"))

    def dead_letters(self):
        if not os.path.exists(self.dlq):
            return []
        with open(self.dlq) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]

    def dead_seqs(self, error):
        seqs = []
        for r in self.dead_letters():
            self.assertEqual(r["output"], "archive")
            self.assertEqual(r["error"], error, r)
            seqs.append(int(r["event"]["message"].split(" ")[1].split("=")[1]))
        return seqs

    def delivered(self):
        """(seqs per container, records without one) from the output files, never reading
        through a symlink a test planted."""
        seqs, raw = {}, []
        if not os.path.isdir(self.out):
            return seqs, raw
        for name in sorted(os.listdir(self.out)):
            path = os.path.join(self.out, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            for line in support.read_lines(path):
                m = SEQ_RE.match(json.loads(line).get("message", ""))
                if m:
                    seqs.setdefault(m.group(1), []).append(int(m.group(2)))
                else:
                    raw.append(line)
        return seqs, raw

    def wait_settled(self, delivered, dead_count):
        def done():
            seqs, _ = self.delivered()
            return (all(len(set(seqs.get(c, []))) >= n for c, n in delivered.items())
                    and len(self.dead_letters()) >= dead_count)
        support.wait_for(done, timeout=support.scaled(30), interval=0.2,
                         what=f"delivery of {delivered} and {dead_count} dead letters")
        time.sleep(1.0)   # duplicates, or dead letters written twice, would show by now

    def assert_exact(self, delivered):
        seqs, raw = self.delivered()
        self.assertEqual(raw, [], "records without a seq")
        self.assertEqual(set(seqs), set(delivered), "records of a container that must have none")
        for c, n in delivered.items():
            self.assertEqual(sorted(seqs[c]), list(range(n)), f"{c}: missing or duplicated")

    def stop_promptly(self, d):
        t0 = time.monotonic()
        rc = d.stop()
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, 0, d.stderr()[-3000:])
        self.assertLess(elapsed, STOP_LIMIT_S, "SIGTERM did not stop the daemon in time")

    def test_too_long_path_is_dead_lettered_and_the_other_containers_arrive_once(self):
        # The name and the compose label are each capped at 200 bytes, but together they make a
        # 405-byte file name: ENAMETOOLONG, for every event of that container and no other.
        self.container("poison", "p" * 300, labels={"com.docker.compose.service": "s" * 300})
        self.container("web", "web")
        self.container("db", "db")
        self.container("long", "n" * 300)   # capped to a 200-byte name: written, not refused
        for c in ("web", "db", "long"):
            self.write(c, 0, 200)
        self.write("poison", 0, 50)
        cfg = config(self.tmp, self.root, f"{self.out}/{{container_name}}.{{compose_service}}.log")
        d = self.daemon(cfg).start()
        port = admin_port(d)
        self.wait_settled({"web": 200, "db": 200, "long": 200}, 50)
        self.assert_exact({"web": 200, "db": 200, "long": 200})
        self.assertEqual(sorted(self.dead_seqs("bad_path")), list(range(50)))
        self.assertIn("File name too long", self.dead_letters()[0]["reason"])
        names = os.listdir(self.out)
        self.assertTrue(all(len(n.encode()) <= 255 for n in names), names)
        m = parse_metrics(get(port, "/metrics")[1])
        self.assertEqual(m['logship_output_dead_lettered_total{output="archive",error="bad_path",type="file"}'], 50)
        self.assertIn('msg="event can never be delivered; dead-lettered"', d.stderr())
        self.stop_promptly(d)

        # The checkpoints passed the poison events: a restart neither blocks on them again nor
        # dead-letters them twice, and new ones of every container go on.
        for c in ("web", "db", "long"):
            self.write(c, 200, 100)
        self.write("poison", 50, 50)
        d2 = self.daemon(cfg, name="restarted").start()
        self.wait_settled({"web": 300, "db": 300, "long": 300}, 100)
        self.assert_exact({"web": 300, "db": 300, "long": 300})
        self.assertEqual(sorted(self.dead_seqs("bad_path")), list(range(100)))
        self.stop_promptly(d2)

    def test_symlink_at_the_output_path_is_refused_and_its_target_untouched(self):
        self.container("victim", "victim")
        self.container("good", "good")
        precious = os.path.join(self.tmp, "precious.txt")
        content = b"owned by someone else\nno newline at the end (a torn-line cut would show)"
        with open(precious, "wb") as f:
            f.write(content)
        os.makedirs(self.out)
        os.symlink(precious, os.path.join(self.out, "victim.log"))
        self.write("victim", 0, 100)
        self.write("good", 0, 100)
        d = self.daemon(config(self.tmp, self.root, f"{self.out}/{{container_name}}.log")).start()
        port = admin_port(d)
        self.wait_settled({"good": 100}, 100)
        with open(precious, "rb") as f:
            self.assertEqual(f.read(), content)
        self.assertTrue(os.path.islink(os.path.join(self.out, "victim.log")))
        self.assert_exact({"good": 100})
        self.assertEqual(sorted(self.dead_seqs("symlink")), list(range(100)))
        self.assertIn("Too many levels of symbolic links", self.dead_letters()[0]["reason"])
        m = parse_metrics(get(port, "/metrics")[1])
        self.assertEqual(m['logship_output_dead_lettered_total{output="archive",error="symlink",type="file"}'], 100)
        self.stop_promptly(d)

    def checkpoint_offsets(self):
        path = os.path.join(self.tmp, "state", "checkpoints.json")
        if not os.path.exists(path):
            return {}
        with open(path) as f:
            return {k: v["offset"] for k, v in json.load(f)["streams"].items()}

    def test_failing_fdatasync_is_never_acknowledged_and_nothing_is_lost(self):
        self.assertTrue(SHIM and os.path.exists(SHIM),
                        "LOGSHIP_FAULT_SHIM must name the built logship_fault_shim library")
        flag = os.path.join(self.tmp, "fail-fdatasync")
        open(flag, "w").close()
        env = {"LD_PRELOAD": SHIM, "LOGSHIP_FAULT_FLAG": flag,
               "LOGSHIP_FAULT_PREFIX": self.out + "/"}
        if support.SANITIZER == "asan":
            # The shim comes before the ASan runtime in the preload list, which ASan refuses
            # by default; the runtime still intercepts everything it needs.
            env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
        self.container("c", "c")
        self.write("c", 0, 300)
        extra = "    sync: interval\n    sync_interval: 100ms\n"
        d = self.daemon(config(self.tmp, self.root, f"{self.out}/{{container_name}}.log", extra),
                        env=env).start()
        port = admin_port(d)

        def failures():
            m = parse_metrics(get(port, "/metrics")[1])
            return m.get('logship_file_sync_failures_total{output="archive",type="file"}', 0) >= 5
        support.wait_for(failures, timeout=support.scaled(20), what="failing fdatasync calls")
        time.sleep(0.5)   # several checkpoint intervals
        self.assertEqual([o for o in self.checkpoint_offsets().values() if o > 0], [],
                         "an offset was committed although its data never became durable")
        self.assertIn('msg="fdatasync failed; the data it covered is not acknowledged"', d.stderr())
        os.unlink(flag)   # the disk heals: everything is written again, once
        self.wait_settled({"c": 300}, 0)
        self.assert_exact({"c": 300})
        size = os.path.getsize(self.logs["c"])
        support.wait_for(lambda: size in self.checkpoint_offsets().values(), timeout=10,
                         what="the checkpoint to reach the end of the container log")
        self.assertEqual(self.dead_letters(), [])
        self.stop_promptly(d)


if __name__ == "__main__":
    support.main()
