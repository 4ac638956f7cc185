"""The docker input and the daemon's state against what a container, a local user or an
exhausted limit can do to them: config.v2.json as a link to /dev/zero, a FIFO, a directory or a
100 MiB file; a 50 MiB label and hundreds of labels; a few hundred containers under a low
`ulimit -n`; a flood of idle connections to the admin port; a corrupt checkpoints.json.

Each test asserts the exact record set ("c=<container> seq=<n>"), that the daemon kept running,
and that SIGTERM stops it within the drain deadline.
"""
import glob
import json
import os
import resource
import socket
import time

import support
from ops_support import admin_port, get, parse_metrics
from test_docker_input import DockerTree, collect, docker_line, record_message

DRAIN_SECONDS = 5


def config(tmp, root, input_extra="", service_extra=""):
    # One output file: the output's own descriptors stay out of what is measured.
    return f"""
service:
  state_dir: {tmp}/state
  checkpoint_interval: 200ms
  drain_timeout: {DRAIN_SECONDS}s
  http_listen: 127.0.0.1:0
{service_extra}
inputs:
  containers:
    type: docker
    docker_root: {root}
    rescan_interval: 200ms
    rotate_wait: 1s
{input_extra}
outputs:
  archive:
    type: file
    path: {tmp}/out/all.log
    compress: false
"""


def cid_of(i):
    return f"{i:04d}" + "d" * 60


def write_records(path, name, start, count):
    with open(path, "ab") as f:
        f.write(b"".join(docker_line(record_message(name, s) + "\n") for s in range(start, start + count)))


def delivered(out):
    """collect(), again if the output renamed a file between listing and reading it."""
    for _ in range(5):
        try:
            return collect(out)
        except FileNotFoundError:
            time.sleep(0.05)
    return collect(out)


def peak_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(port, name):
    return parse_metrics(get(port, "/metrics")[1]).get(name, 0)


class HostileInputsTest(support.TestCase):

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "docker")
        self.out = os.path.join(self.tmp, "out")
        self.tree = DockerTree(self.root)

    def start_limited(self, daemon, nofile):
        """Starts the daemon with RLIMIT_NOFILE = nofile (soft and hard), as `ulimit -n` would."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))
        try:
            daemon.start()
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        return daemon

    def wait_exact(self, expected, timeout=support.scaled(60)):
        """Waits for every expected (container -> count) record, then asserts the exact set:
        none missing, none twice, nothing foreign."""
        def done():
            seqs = delivered(self.out)[0]
            return all(len(set(seqs.get(c, []))) >= n for c, n in expected.items())
        support.wait_for(done, timeout=timeout, interval=0.2, what="delivery")
        time.sleep(0.5)   # duplicates would show
        seqs = delivered(self.out)[0]
        self.assertEqual(sorted(seqs), sorted(expected), "records of unexpected containers")
        for c, n in expected.items():
            got = seqs.get(c, [])
            self.assertEqual(sorted(got), list(range(n)), f"{c}: missing or duplicate records")

    def stop_in_time(self, d):
        started = time.monotonic()
        self.assertEqual(d.stop(timeout=support.scaled(DRAIN_SECONDS + 20)), 0)
        took = time.monotonic() - started
        self.assertLess(took, DRAIN_SECONDS + 2 * support.SLOWDOWN, "SIGTERM took too long")
        return took

    def test_untrusted_config_v2_json_is_skipped_and_the_logs_still_ship(self):
        t = self.tree
        good = t.create(cid_of(0), "good", "app:1", {"team": "a"})
        bad = {}
        for i, kind in enumerate(["zero", "fifo", "dir", "huge"], start=1):
            log = t.create(cid_of(i), kind)
            cfg = os.path.join(t.container_dir(cid_of(i)), "config.v2.json")
            os.unlink(cfg)
            if kind == "zero":
                os.symlink("/dev/zero", cfg)
            elif kind == "fifo":
                os.mkfifo(cfg)
            elif kind == "dir":
                os.mkdir(cfg)
            else:
                with open(cfg, "wb") as f:
                    f.truncate(100 << 20)   # sparse: 100 MiB of zeros without the disk
            bad[kind] = log
        d = self.daemon(config(self.tmp, self.root)).start()
        port = admin_port(d)
        write_records(good, "good", 0, 200)
        for kind, log in bad.items():
            write_records(log, kind, 0, 200)
        self.wait_exact({k: 200 for k in ["good", *bad]})
        self.assertTrue(d.running())
        self.assertEqual(metric(port, 'logship_input_metadata_skipped_total{input="containers",type="docker"}'), 4)
        # Each skipped once, not at every scan.
        time.sleep(1.0)
        self.assertEqual(metric(port, 'logship_input_metadata_skipped_total{input="containers",type="docker"}'), 4)
        rss = peak_rss(d.proc.pid)
        took = self.stop_in_time(d)
        recs = delivered(self.out)[2]
        by_name = {}
        for r in recs:
            by_name.setdefault(r["message"].split()[0][2:], r)
        self.assertEqual(by_name["good"]["container_name"], "good")
        self.assertEqual(by_name["good"]["labels"], {"team": "a"})
        for kind in bad:
            self.assertEqual(by_name[kind]["container_id"], cid_of(list(bad).index(kind) + 1))
            self.assertNotIn("container_name", by_name[kind])
        log = d.stderr()
        self.assertIn("is a symbolic link", log)
        self.assertIn("is a FIFO", log)
        self.assertIn("is a directory", log)
        self.assertIn("is larger than 1048576 bytes", log)
        print(f"peak RSS {rss >> 20} MiB; SIGTERM took {took:.2f} s")
        self.assertLess(rss, support.rss_limit(64 << 20))

    def test_huge_and_many_labels_are_bounded(self):
        t = self.tree
        huge = t.create(cid_of(0), "huge", "app:1", {"blob": "x" * (50 << 20), "team": "a"})
        labels = {f"l{i:03d}": "v" * 10 for i in range(100)}
        labels["big"] = "y" * (500 << 10)   # read (under max_metadata_size), never on events
        many = t.create(cid_of(1), "many", "app:1", labels)
        d = self.daemon(config(self.tmp, self.root)).start()
        port = admin_port(d)
        write_records(huge, "huge", 0, 100)
        write_records(many, "many", 0, 100)
        self.wait_exact({"huge": 100, "many": 100})
        dropped = 'logship_input_labels_dropped_total{input="containers",type="docker"}'
        self.assertEqual(metric(port, dropped), 37)   # "big" + 36 over max_labels (64)
        self.assertEqual(metric(port, 'logship_input_metadata_skipped_total{input="containers",type="docker"}'), 1)
        # The same labels again (config.v2.json rewritten): counted again, logged once.
        t.write_config(cid_of(1), "many", "app:1", labels)
        support.wait_for(lambda: metric(port, dropped) == 74, timeout=10, what="labels re-read")
        write_records(many, "many", 100, 10)
        self.wait_exact({"huge": 100, "many": 110})
        rss = peak_rss(d.proc.pid)
        self.stop_in_time(d)
        recs = delivered(self.out)[2]
        many_recs = [r for r in recs if r["message"].startswith("c=many ")]
        self.assertEqual(len(many_recs), 110)
        for r in many_recs:
            self.assertEqual(sorted(r["labels"]), [f"l{i:03d}" for i in range(64)])
        huge_recs = [r for r in recs if r["message"].startswith("c=huge ")]
        self.assertTrue(all("labels" not in r for r in huge_recs))
        self.assertEqual(d.stderr().count("container labels over the limits"), 1)
        print(f"peak RSS with a 50 MiB label and a 500 KiB label: {rss >> 20} MiB")
        self.assertLess(rss, support.rss_limit(64 << 20))

    def test_few_descriptors_many_containers_read_in_turn_exactly_once(self):
        n, nofile = 300, 256
        t = self.tree
        logs = [t.create(cid_of(i), f"c{i}") for i in range(n)]
        for i, log in enumerate(logs):
            write_records(log, f"c{i}", 0, 20)
        d = self.start_limited(self.daemon(config(self.tmp, self.root)), nofile)
        port = admin_port(d)
        self.wait_exact({f"c{i}": 20 for i in range(n)}, timeout=support.scaled(90))
        self.assertGreater(metric(port, 'logship_input_files_parked{input="containers",type="docker"}'), 0)
        # Parked files that grow, and parked files rotated like Docker does (rename + create),
        # are read to their end in turn.
        for i, log in enumerate(logs):
            write_records(log, f"c{i}", 20, 10)
            if i % 10 == 0:
                os.rename(log, log + ".1")
                open(log, "wb").close()
            write_records(log, f"c{i}", 30, 10)
        self.wait_exact({f"c{i}": 40 for i in range(n)}, timeout=support.scaled(90))
        self.assertEqual(metric(port, 'logship_input_fs_errors_total{input="containers",type="docker"}'), 0)
        fds = len(os.listdir(f"/proc/{d.proc.pid}/fd"))
        self.stop_in_time(d)
        # The checkpoints survived: a restart (limit unchanged) re-reads nothing.
        d2 = self.start_limited(self.daemon(config(self.tmp, self.root), name="again"), nofile)
        admin_port(d2)
        for i, log in enumerate(logs):
            write_records(log, f"c{i}", 40, 5)
        self.wait_exact({f"c{i}": 45 for i in range(n)}, timeout=support.scaled(90))
        self.stop_in_time(d2)
        print(f"{n} containers under ulimit -n {nofile}: {fds} descriptors open at the end")

    def test_emfile_on_scans_and_opens_loses_and_duplicates_nothing(self):
        # max_open_files above the limit: directory listings and opens fail with EMFILE.
        t = self.tree
        early = {f"e{i}": t.create(cid_of(1000 + i), f"e{i}") for i in range(5)}
        for name, log in early.items():
            write_records(log, name, 0, 5)
        d = self.start_limited(self.daemon(config(self.tmp, self.root, "    max_open_files: 100000")), 160)
        self.wait_exact({name: 5 for name in early})   # the output file is open now
        late = {f"c{i}": t.create(cid_of(i), f"c{i}") for i in range(300)}
        for name, log in late.items():
            write_records(log, name, 0, 5)
        support.wait_for(lambda: "Too many open files" in d.stderr(), timeout=support.scaled(30),
                         what="EMFILE")
        time.sleep(2.0)   # several scans under EMFILE
        # The files that are open keep flowing, exactly once: none was taken for gone and
        # read again from its start.
        for name, log in early.items():
            write_records(log, name, 5, 5)
        support.wait_for(lambda: all(len(delivered(self.out)[0].get(name, [])) >= 10 for name in early),
                         timeout=support.scaled(30), what="records of the open files")
        time.sleep(2.0)
        seqs = delivered(self.out)[0]
        for name in early:
            self.assertEqual(sorted(seqs[name]), list(range(10)), f"{name}: lost or duplicated")
        opened = [name for name in late if seqs.get(name)]
        for name in opened:
            self.assertEqual(sorted(seqs[name]), list(range(5)), f"{name}: lost or duplicated")
        self.assertLess(len(opened), len(late), "expected EMFILE to leave files unopened")
        self.assertTrue(d.running())
        # The operator raises the limit: every file is read, still exactly once. (Also what lets
        # a sanitizer runtime open the pipes its checks need at exit.)
        resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
        expected = {name: 10 for name in early}
        expected.update({name: 5 for name in late})
        self.wait_exact(expected)
        self.stop_in_time(d)
        self.assertNotIn("file released", d.stderr())
        print(f"under EMFILE: {len(opened)} of {len(late)} new files opened, no duplicates; "
              f"all {len(late)} read exactly once after the limit was raised")

    def test_idle_connection_flood_on_the_admin_port(self):
        log = self.tree.create(cid_of(0), "busy")
        d = self.start_limited(self.daemon(config(self.tmp, self.root)), 256)
        port = admin_port(d)
        write_records(log, "busy", 0, 100)
        self.wait_exact({"busy": 100})
        socks = []
        try:
            for _ in range(300):
                socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            time.sleep(0.5)
            cpu0, t0 = cpu_seconds(d.proc.pid), time.monotonic()
            time.sleep(3.0)
            cpu = (cpu_seconds(d.proc.pid) - cpu0) / (time.monotonic() - t0)
            fds = len(os.listdir(f"/proc/{d.proc.pid}/fd"))
            # A fresh probe is served while the idle ones are held.
            started = time.monotonic()
            self.assertEqual(get(port, "/health"), (200, "ok\n"))
            health_s = time.monotonic() - started
            write_records(log, "busy", 100, 100)
            self.wait_exact({"busy": 200})
            evicted = metric(port, "logship_admin_connections_evicted_total")
        finally:
            for s in socks:
                s.close()
        print(f"300 idle admin connections: CPU {cpu:.0%}, {fds} descriptors, /health in "
              f"{health_s * 1000:.0f} ms, {evicted} evicted")
        self.assertLess(cpu, 0.15 * support.SLOWDOWN)
        self.assertLess(fds, 128)
        self.assertLess(health_s, 2.0)
        self.assertGreaterEqual(evicted, 300 - 64)
        self.stop_in_time(d)

    def test_corrupt_checkpoints_fall_back_to_the_previous_copy(self):
        log = self.tree.create(cid_of(0), "app")
        # read_from: tail would skip what was written while the daemon was down if it started
        # without checkpoints.
        cfg = config(self.tmp, self.root, "    read_from: tail")
        d = self.daemon(cfg).start()
        # Found empty at start: read_from tail starts at 0, and every record written from now on
        # is read.
        support.wait_for(lambda: "tailing file" in d.stderr(), timeout=support.scaled(10),
                         what="the log file found")
        write_records(log, "app", 0, 100)
        self.wait_exact({"app": 100})
        write_records(log, "app", 100, 100)
        self.wait_exact({"app": 200})
        time.sleep(1.0)   # a checkpoint write after the last records
        self.stop_in_time(d)
        state = os.path.join(self.tmp, "state")
        self.assertTrue(os.path.exists(os.path.join(state, "checkpoints.json.prev")))
        with open(os.path.join(state, "checkpoints.json"), "wb") as f:
            f.write(b'{"version":1,"streams":{"docker:1:2":{"offset":\x00\x00')
        write_records(log, "app", 200, 100)   # while down
        d2 = self.daemon(cfg, name="again").start()
        port = admin_port(d2)
        support.wait_for(lambda: set(delivered(self.out)[0].get("app", [])) >= set(range(300)),
                         timeout=support.scaled(30), what="the records written while down")
        time.sleep(0.5)
        got = delivered(self.out)[0]["app"]
        self.assertEqual(set(got), set(range(300)), "records lost")
        again = len(got) - 300
        self.assertLessEqual(again, 200, "read again from before the previous copy")
        self.assertEqual(metric(port, "logship_checkpoint_corrupt_total"), 1)
        self.assertEqual(len(glob.glob(os.path.join(state, "checkpoints.json.corrupt-*"))), 1)
        self.assertIn("using the previous checkpoint copy", d2.stderr())
        self.stop_in_time(d2)
        print(f"corrupt checkpoints: fell back to the previous copy, {again} records read again")


if __name__ == "__main__":
    support.main()
