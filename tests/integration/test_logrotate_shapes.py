"""The logrotate shapes test_file_input.py and test_docker_input.py do not cover, with the real
`logrotate` binary under load (thousands of lines a second, several forced rotations with
`logrotate -f -s STATE CONF`): `copytruncate` + `compress` without `delaycompress` (the copy
becomes <name>.1.gz at once), `create` + `compress` with a stop and a kill -9 across the
compression of the generation being read, `olddir`, `rotate N` + `maxage`, and the
configuration Docker admin guides give for container logs
(`/var/lib/docker/containers/*/*.log { daily rotate 5 compress delaycompress missingok
copytruncate }`) for both the docker and the file input.

Every record carries "c=<name> seq=<n>": delivery is checked as an exact set. Lines are lost
only where copytruncate itself destroys them (written between its copy and its truncate): the
test measures that window (logrotate's run) and fails on any loss outside it.
"""
import os
import re
import shutil
import subprocess
import threading
import time

import support
import test_docker_input as dk

SEQ_RE = re.compile(r"c=(\S+) seq=(\d+) ")
LOGROTATE = shutil.which("logrotate") or "/usr/sbin/logrotate"


def line(name, seq, size=120):
    head = f"c={name} seq={seq} "
    return head + "x" * max(0, size - len(head))


def delivered(out_dir):
    """seqs per name, in delivery order, from every record of the file output."""
    recs = support.read_file_output(out_dir) if os.path.isdir(out_dir) else []
    seqs = {}
    for r in recs:
        m = SEQ_RE.search(r.get("message", ""))
        if m:
            seqs.setdefault(m.group(1), []).append(int(m.group(2)))
    return seqs


class Writer(threading.Thread):
    """Appends lines at a steady pace. Reopens its path when the postrotate script asks
    (`reopen_request` appears; it answers with `reopen_done`), as an application told by
    SIGHUP does, so that logrotate compresses a generation nobody writes to any more."""

    def __init__(self, path, name, count, rate, docker=False, batch=20):
        super().__init__(daemon=True)
        self.path, self.name, self.count = path, name, count
        self.rate, self.batch, self.docker = rate / support.SLOWDOWN, batch, docker
        self.request = path + ".reopen_request"
        self.done = path + ".reopen_done"
        self.times = {}
        self.reopens = 0
        self.error = None

    def _open(self):
        return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)

    def run(self):
        try:
            fd = self._open()
            start = time.monotonic()
            seq = 0
            while seq < self.count:
                if os.path.exists(self.request):
                    os.close(fd)
                    fd = self._open()
                    self.reopens += 1
                    os.unlink(self.request)
                    open(self.done, "w").close()
                n = min(self.batch, self.count - seq)
                if self.docker:
                    data = b"".join(dk.docker_line(line(self.name, s) + "\n")
                                    for s in range(seq, seq + n))
                else:
                    data = "".join(line(self.name, s) + "\n" for s in range(seq, seq + n)).encode()
                now = time.monotonic()
                os.write(fd, data)
                for s in range(seq, seq + n):
                    self.times[s] = now
                seq += n
                delay = start + seq / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            os.close(fd)
        except Exception as e:   # surfaced by the test
            self.error = e


def postrotate_reopen(paths):
    """A postrotate script asking each writer to reopen and waiting (at most 10 s) until it
    did: what `kill -HUP` plus the application's reopen amount to."""
    lines = []
    for p in paths:
        lines.append(f"    touch {p}.reopen_request")
        lines.append(f"    i=0; while [ ! -e {p}.reopen_done ] && [ $i -lt 1000 ]; do "
                     f"sleep 0.01; i=$((i+1)); done; rm -f {p}.reopen_done")
    return "  sharedscripts\n  postrotate\n" + "\n".join(lines) + "\n  endscript\n"


class LogrotateShapesTest(support.TestCase):

    def setUp(self):
        super().setUp()
        self.logs = os.path.join(self.tmp, "logs")
        self.out = os.path.join(self.tmp, "out")
        os.makedirs(self.logs)

    def file_config(self, paths, extra=""):
        globs = ", ".join(f'"{p}"' for p in paths)
        return f"""
service:
  state_dir: {self.tmp}/state
  checkpoint_interval: 200ms
inputs:
  files:
    type: file
    paths: [{globs}]
    rescan_interval: 200ms
    rotate_wait: 1s
{extra}
outputs:
  archive:
    type: file
    path: {self.tmp}/out/all.log
    compress: false
"""

    def rotate(self, conf_text, runs, before=None, after=None, gap=0.4):
        """Runs logrotate -f `runs` times, `gap` s apart; returns the (start, end) monotonic
        times of each run: the window copytruncate may lose lines in."""
        conf = os.path.join(self.tmp, "logrotate.conf")
        with open(conf, "w") as f:
            f.write(conf_text)
        state = os.path.join(self.tmp, "logrotate.state")
        windows = []
        for i in range(runs):
            time.sleep(gap)
            if before:
                before(i)
            t0 = time.monotonic()
            r = subprocess.run([LOGROTATE, "-f", "-s", state, conf], capture_output=True,
                               timeout=60)
            t1 = time.monotonic()
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            windows.append((t0, t1))
            if after:
                after(i)
        return windows

    def wait_all(self, writers, timeout=support.scaled(60)):
        for w in writers:
            w.join(timeout)
            self.assertIsNone(w.error)
        support.wait_for(lambda: all(set(delivered(self.out).get(w.name, [])) >= set(range(w.count))
                                     for w in writers),
                         timeout=timeout, interval=0.2, what="every record")
        time.sleep(1.0)   # duplicates would show now

    def assert_exactly_once(self, writers):
        got = delivered(self.out)
        for w in writers:
            seqs = got.get(w.name, [])
            self.assertEqual(set(seqs), set(range(w.count)), f"{w.name}: lost or foreign")
            self.assertEqual(len(seqs), w.count, f"{w.name}: {len(seqs) - w.count} duplicates")

    def assert_lost_only_in_windows(self, writers, windows, what):
        got = delivered(self.out)
        total_lost, total_in = 0, 0
        for w in writers:
            seqs = got.get(w.name, [])
            self.assertEqual(len(seqs), len(set(seqs)), f"{w.name}: duplicates")
            lost = sorted(set(range(w.count)) - set(seqs))
            in_window = [s for s in range(w.count)
                         if any(t0 - 0.005 <= w.times[s] <= t1 + 0.005 for t0, t1 in windows)]
            outside = sorted(set(lost) - set(in_window))
            self.assertEqual(outside, [], f"{w.name}: lost outside the copy/truncate windows")
            total_lost += len(lost)
            total_in += len(in_window)
        runs = [round((t1 - t0) * 1000, 1) for t0, t1 in windows]
        print(f"{what}: {total_lost} of {sum(w.count for w in writers)} lines lost, all inside "
              f"the copytruncate windows ({total_in} lines written during logrotate's runs of "
              f"{runs} ms)")

    def compressed_reads(self, daemons):
        return sum(len(re.findall(r'msg="tailing file".* from="(?:compressed copy|checkpoint of '
                                  r'the file it was compressed)', d.stderr())) for d in daemons)

    # ---- the file input ----

    def test_copytruncate_compress_without_delaycompress(self):
        """The copy is compressed at once. Running: nothing lost outside the copy/truncate
        window, no duplicates. Stopped across a rotation: the part of the copy logship had not
        read comes from <name>.1.gz."""
        path = os.path.join(self.logs, "app.log")
        open(path, "w").close()
        cfg = self.file_config([path])
        daemons = [self.daemon(cfg, name="run0").start()]
        # Writing starts once app.log is followed: a generation rotated and compressed before
        # logship ever saw it is history it does not read (a slow start, e.g. under TSan, would
        # otherwise lose the first generation by design, not by fault).
        support.wait_for(lambda: "tailing file" in daemons[0].stderr(), timeout=support.scaled(30),
                         what="app.log followed")
        w = Writer(path, "app", 40000, rate=8000)
        w.start()

        def before(i):
            if i == 2:   # stopped in the middle of the file; rotated and compressed meanwhile
                self.assertEqual(daemons[-1].stop(), 0)

        def after(i):
            if i == 2:
                daemons.append(self.daemon(cfg, name="run1").start())
        windows = self.rotate(f"{path} {{\n  rotate 20\n  missingok\n  copytruncate\n"
                              f"  compress\n}}\n", 6, before, after)
        w.join(support.scaled(60))
        self.assertIsNone(w.error)
        time.sleep(3)
        self.assertEqual(daemons[-1].stop(), 0)
        self.assert_lost_only_in_windows([w], windows, "copytruncate + compress")
        gz = [f for f in os.listdir(self.logs) if f.endswith(".gz")]
        self.assertGreaterEqual(len(gz), 6, os.listdir(self.logs))
        self.assertGreaterEqual(self.compressed_reads(daemons), 1,
                                "the restart read the rest of the copy from app.log.1.gz")

    def test_create_compress_stop_and_kill9_across_the_compression(self):
        """create + compress without delaycompress: logship is stopped (then kill -9'd) in the
        middle of app.log, which is renamed and compressed while it is down. Every line is
        delivered, exactly once across the clean stop."""
        path = os.path.join(self.logs, "app.log")
        open(path, "w").close()
        cfg = self.file_config([path])
        daemons = [self.daemon(cfg, name="run0").start()]
        # Writing starts once app.log is followed: a generation rotated and compressed before
        # logship ever saw it is history it does not read (a slow start, e.g. under TSan, would
        # otherwise lose the first generation by design, not by fault).
        support.wait_for(lambda: "tailing file" in daemons[0].stderr(), timeout=support.scaled(30),
                         what="app.log followed")
        w = Writer(path, "app", 40000, rate=8000)
        w.start()
        kills = []

        def before(i):
            if i == 1:
                self.assertEqual(daemons[-1].stop(), 0)
            elif i == 3:
                daemons[-1].kill9()
                kills.append(i)

        def after(i):
            if i in (1, 3):
                time.sleep(0.3)   # lines keep coming while it is down
                daemons.append(self.daemon(cfg, name=f"run{i}").start())
        self.rotate(f"{path} {{\n  rotate 20\n  missingok\n  create 0640\n  compress\n"
                    f"{postrotate_reopen([path])}}}\n", 5, before, after)
        self.wait_all([w])
        self.assertEqual(daemons[-1].stop(), 0)
        got = delivered(self.out)["app"]
        self.assertEqual(set(got), set(range(w.count)), "lines lost")
        dups = len(got) - w.count
        reads = self.compressed_reads(daemons)
        print(f"create + compress, a stop and a kill -9 across compressions: {dups} duplicates "
              f"(kill -9 only), {reads} generations resumed from .gz")
        self.assertGreaterEqual(reads, 2, "both restarts resumed a generation from its .gz")
        # The kill -9: what was delivered but not checkpointed (200 ms at 8,000 lines/s, plus
        # what was in flight). The clean stop duplicates nothing.
        self.assertLessEqual(dups, 4000)
        self.assertEqual(w.reopens, 5)

    def test_olddir_create_compress(self):
        path = os.path.join(self.logs, "app.log")
        old = os.path.join(self.logs, "old")
        os.makedirs(old)
        open(path, "w").close()
        daemons = [self.daemon(self.file_config([path]), name="run0").start()]
        w = Writer(path, "app", 30000, rate=8000)
        w.start()
        self.rotate(f"{path} {{\n  rotate 20\n  olddir {old}\n  create 0640\n  compress\n"
                    f"  delaycompress\n{postrotate_reopen([path])}}}\n", 5)
        self.wait_all([w])
        self.assertEqual(daemons[-1].stop(), 0)
        self.assert_exactly_once([w])
        self.assertEqual(len(os.listdir(old)), 5, os.listdir(old))

    def test_rotate_n_with_maxage_deletes_generations_already_read(self):
        """rotate 2 + maxage 1: logrotate deletes generations beyond the second (and older than
        a day) while logship runs; each was read before it went."""
        path = os.path.join(self.logs, "app.log")
        open(path, "w").close()
        d = self.daemon(self.file_config([path]), name="run0").start()
        w = Writer(path, "app", 30000, rate=8000)
        w.start()
        self.rotate(f"{path} {{\n  rotate 2\n  maxage 1\n  create 0640\n  compress\n"
                    f"  delaycompress\n{postrotate_reopen([path])}}}\n", 6)
        self.wait_all([w])
        self.assertEqual(d.stop(), 0)
        self.assert_exactly_once([w])
        left = sorted(f for f in os.listdir(self.logs) if f.startswith("app.log."))
        self.assertEqual(left, ["app.log.1", "app.log.2.gz"])
        self.assertNotIn("lost_bytes", d.stderr())

    # ---- Docker admin guides' logrotate config for container logs ----

    DOCKER_GUIDE = ("  daily\n  rotate 5\n  compress\n  delaycompress\n  missingok\n"
                    "  copytruncate\n")

    def _docker_guide(self, input_type):
        root = os.path.join(self.tmp, "docker")
        tree = dk.DockerTree(root)
        cids = [f"{i:02d}" + "b" * 62 for i in range(2)]
        paths = [tree.create(cid, f"guide-{i}") for i, cid in enumerate(cids)]
        if input_type == "docker":
            cfg = dk.config(self.tmp, root).replace("{container_name}", "all")
        else:
            cfg = self.file_config([f"{root}/containers/*/*.log"])
        daemons = [self.daemon(cfg, name="run0").start()]
        writers = [Writer(p, f"guide-{i}", 24000, rate=4000, docker=True)
                   for i, p in enumerate(paths)]
        for w in writers:
            w.start()

        def after(i):
            if i == 2:   # a clean restart between rotations
                self.assertEqual(daemons[-1].stop(), 0)
                daemons.append(self.daemon(cfg, name="run1").start())
        windows = self.rotate(f"{root}/containers/*/*.log {{\n{self.DOCKER_GUIDE}}}\n", 7,
                              after=after)
        for w in writers:
            w.join(support.scaled(60))
            self.assertIsNone(w.error)
        time.sleep(3)
        self.assertEqual(daemons[-1].stop(), 0)
        self.assert_lost_only_in_windows(writers, windows, f"docker guide config, {input_type} input")
        for p in paths:
            names = sorted(os.listdir(os.path.dirname(p)))
            self.assertIn(os.path.basename(p) + ".1", names)
            self.assertIn(os.path.basename(p) + ".5.gz", names)
            self.assertNotIn(os.path.basename(p) + ".6.gz", names)

    def test_docker_guide_config_docker_input(self):
        self._docker_guide("docker")

    def test_docker_guide_config_file_input(self):
        self._docker_guide("file")


if __name__ == "__main__":
    support.main()
