"""docker input against real files in Docker's json-file format, written by the test while
rotation happens (Docker's own rename, real logrotate create and copytruncate), across restarts
and kill -9, with container metadata and malformed lines.

Every record carries "c=<container> seq=<n>" so delivery is checked as an exact set.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from datetime import datetime, timezone

import support

SEQ_RE = re.compile(r"^c=(\S+) seq=(\d+) ")
LOGROTATE = shutil.which("logrotate") or "/usr/sbin/logrotate"


def rfc3339nano(t=None):
    t = time.time_ns() if t is None else t
    s, ns = divmod(t, 1_000_000_000)
    base = datetime.fromtimestamp(s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{ns:09d}".rstrip("0")
    return base + ("." + frac if frac else "") + "Z"


def go_json(s):
    """Go's encoding/json string escaping (what Docker writes)."""
    out = json.dumps(s, ensure_ascii=False)
    return out.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def docker_line(log, stream="stdout", t=None, attrs=None):
    parts = ['{"log":' + go_json(log), '"stream":"' + stream + '"']
    if attrs:
        parts.append('"attrs":' + json.dumps(attrs, sort_keys=True, separators=(",", ":")))
    parts.append('"time":"' + rfc3339nano(t) + '"}')
    return (",".join(parts) + "\n").encode()


def record_message(container, seq, size=180):
    head = f"c={container} seq={seq} "
    return head + "x" * max(0, size - len(head))


class DockerTree:
    """A fake <docker_root>/containers tree."""

    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "containers"), exist_ok=True)

    def container_dir(self, cid):
        return os.path.join(self.root, "containers", cid)

    def log_path(self, cid):
        return os.path.join(self.container_dir(cid), f"{cid}-json.log")

    def create(self, cid, name, image="app:1", labels=None, env=None):
        os.makedirs(self.container_dir(cid), exist_ok=True)
        self.write_config(cid, name, image, labels, env)
        open(self.log_path(cid), "ab").close()
        return self.log_path(cid)

    def write_config(self, cid, name, image="app:1", labels=None, env=None):
        cfg = {"ID": cid, "Name": "/" + name, "Image": "sha256:" + "ab" * 32,
               "State": {"Running": True},
               "Config": {"Hostname": cid[:12], "Image": image, "Labels": labels or {},
                          "Env": env or ["PATH=/usr/bin"]},
               "LogPath": self.log_path(cid)}
        path = os.path.join(self.container_dir(cid), "config.v2.json")
        tmp = path + ".tmp"   # Docker replaces it atomically
        with open(tmp, "w") as f:
            json.dump(cfg, f)
        os.rename(tmp, path)


class Writer(threading.Thread):
    """Appends records to a container log at a steady pace, rotating like Docker when asked
    (max_size/max_file), or reopening the path when told (logrotate create's postrotate)."""

    def __init__(self, path, container, count, rate=20000, max_size=0, max_file=3, batch=20):
        super().__init__(daemon=True)
        self.path, self.container, self.count = path, container, count
        # A slower daemon under a sanitizer gets a slower writer: with Docker's max_file, a
        # writer that outruns the reader deletes unread files (the test's loss, not ours).
        rate = rate / support.SLOWDOWN
        self.rate, self.max_size, self.max_file, self.batch = rate, max_size, max_file, batch
        self.reopen = threading.Event()
        self.times = {}   # seq -> monotonic time of its write
        self.rotations = 0
        self.error = None

    def _open(self):
        return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)

    def _docker_rotate(self, fd):
        os.close(fd)
        last = f"{self.path}.{self.max_file - 1}"
        if os.path.exists(last):
            os.unlink(last)
        for i in range(self.max_file - 2, 0, -1):
            if os.path.exists(f"{self.path}.{i}"):
                os.rename(f"{self.path}.{i}", f"{self.path}.{i + 1}")
        os.rename(self.path, self.path + ".1")
        self.rotations += 1
        return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)

    def run(self):
        try:
            fd = self._open()
            size = os.fstat(fd).st_size
            start = time.monotonic()
            seq = 0
            while seq < self.count:
                if self.reopen.is_set():
                    os.close(fd)
                    fd = self._open()
                    size = os.fstat(fd).st_size
                    self.reopen.clear()
                n = min(self.batch, self.count - seq)
                data = b"".join(docker_line(record_message(self.container, s) + "\n")
                                for s in range(seq, seq + n))
                if self.max_size and size >= self.max_size:
                    fd = self._docker_rotate(fd)
                    size = 0
                now = time.monotonic()
                os.write(fd, data)
                for s in range(seq, seq + n):
                    self.times[s] = now
                size += len(data)
                seq += n
                due = start + seq / self.rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            os.close(fd)
        except Exception as e:   # surfaced by the test
            self.error = e


def config(tmp, root, extra_input="", service_extra=""):
    return f"""
service:
  state_dir: {tmp}/state
  checkpoint_interval: 200ms
{service_extra}
inputs:
  containers:
    type: docker
    docker_root: {root}
    rescan_interval: 200ms
    rotate_wait: 1s
    partial_timeout: 1s
{extra_input}
outputs:
  archive:
    type: file
    path: {tmp}/out/{{container_name}}.log
    compress: false
"""


def collect(out_dir):
    """(delivered seqs per container as a list, malformed raw records, all records)."""
    recs = support.read_file_output(out_dir) if os.path.isdir(out_dir) else []
    seqs, raw = {}, []
    for r in recs:
        m = SEQ_RE.match(r.get("message", ""))
        if m:
            seqs.setdefault(m.group(1), []).append(int(m.group(2)))
        else:
            raw.append(r)
    return seqs, raw, recs


def stop_stats(daemon):
    m = re.findall(r'msg="input stopped" input=\S+ lines=(\d+) events=(\d+) malformed=(\d+) '
                   r'truncated=(\d+)', daemon.stderr())
    assert m, "no 'input stopped' line in the daemon log"
    return [tuple(int(x) for x in g) for g in m]


class DockerInputTest(support.TestCase):

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "docker")
        self.out = os.path.join(self.tmp, "out")
        self.tree = DockerTree(self.root)

    def wait_delivered(self, expected, timeout=support.scaled(60)):
        """Waits until every expected (container -> count) seq arrived, then a little longer so
        duplicates would show."""
        def done():
            seqs, _, _ = collect(self.out)
            return all(len(set(seqs.get(c, []))) >= n for c, n in expected.items())
        support.wait_for(done, timeout=timeout, interval=0.2, what=f"delivery of {expected}")
        time.sleep(1.0)

    def assert_exact(self, expected):
        seqs, _, _ = collect(self.out)
        for c, n in expected.items():
            got = seqs.get(c, [])
            self.assertEqual(set(got), set(range(n)), f"{c}: missing or foreign records")
            self.assertEqual(len(got), n, f"{c}: {len(got) - n} duplicates")

    def test_docker_rotation_delivers_every_record_once(self):
        writers = []
        for i in range(3):
            cid = f"{i:02d}" + "c" * 62
            path = self.tree.create(cid, f"svc-{i}")
            # Docker keeps max_file files: about 0.3 s of this load. A sanitizer build stalls
            # longer under a busy CI (JVM servers beside it) and Docker would delete unread files.
            max_file = 10 if support.SANITIZER else 3
            writers.append(Writer(path, f"svc-{i}", 30000, rate=15000, max_size=300_000,
                                  max_file=max_file))
        d = self.daemon(config(self.tmp, self.root)).start()
        for w in writers:
            w.start()
        for w in writers:
            w.join(support.scaled(60))
            self.assertIsNone(w.error)
            self.assertGreater(w.rotations, 10)
        self.wait_delivered({f"svc-{i}": 30000 for i in range(3)})
        self.assertEqual(d.stop(), 0)
        self.assert_exact({f"svc-{i}": 30000 for i in range(3)})
        self.assertEqual(stop_stats(d)[0][2], 0, "no malformed lines expected")
        print(f"docker rotations: {[w.rotations for w in writers]}")

    def _logrotate(self, path, mode, runs):
        conf = os.path.join(self.tmp, f"logrotate-{mode}.conf")
        with open(conf, "w") as f:
            f.write(f"{path} {{\n  rotate 20\n  missingok\n  nocompress\n  {mode}\n}}\n")
        state = os.path.join(self.tmp, "logrotate.state")
        windows = []
        for _ in range(runs):
            time.sleep(0.35)
            t0 = time.monotonic()
            r = subprocess.run([LOGROTATE, "-f", "-s", state, conf], capture_output=True, timeout=30)
            t1 = time.monotonic()
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            windows.append((t0, t1))
            yield t0, t1
        self.windows = windows

    def test_logrotate_create(self):
        cid = "d" * 64
        path = self.tree.create(cid, "lr-create")
        w = Writer(path, "lr-create", 40000, rate=12000)
        d = self.daemon(config(self.tmp, self.root)).start()
        w.start()
        for _ in self._logrotate(path, "create 0640", 6):
            time.sleep(0.05)   # the application notices the rotation a little later
            w.reopen.set()
        w.join(support.scaled(60))
        self.assertIsNone(w.error)
        self.wait_delivered({"lr-create": 40000})
        self.assertEqual(d.stop(), 0)
        self.assert_exact({"lr-create": 40000})
        rotated = [f for f in os.listdir(os.path.dirname(path)) if ".log." in f]
        self.assertGreaterEqual(len(rotated), 6)

    def test_logrotate_copytruncate_loses_only_the_copy_truncate_window(self):
        cid = "e" * 64
        path = self.tree.create(cid, "lr-copy")
        w = Writer(path, "lr-copy", 40000, rate=12000)
        d = self.daemon(config(self.tmp, self.root)).start()
        w.start()
        windows = list(self._logrotate(path, "copytruncate", 6))
        w.join(support.scaled(60))
        self.assertIsNone(w.error)
        time.sleep(3)
        seqs, raw, _ = collect(self.out)
        got = seqs.get("lr-copy", [])
        self.assertEqual(len(got), len(set(got)), "duplicates")
        lost = sorted(set(range(40000)) - set(got))
        # Lines written while logrotate ran (between its copy and its truncate) are in neither
        # file; anything else missing would be our fault.
        outside = [s for s in lost
                   if not any(t0 - 0.005 <= w.times[s] <= t1 + 0.005 for t0, t1 in windows)]
        print(f"copytruncate: {len(lost)} of 40000 records lost in {len(windows)} rotations "
              f"(logrotate run times {[round(t1 - t0, 4) for t0, t1 in windows]} s); "
              f"{len(raw)} cut lines passed raw")
        self.assertEqual(outside, [], "records lost outside the copy/truncate windows")
        in_windows = sum(1 for s in range(40000)
                         if any(t0 - 0.005 <= w.times[s] <= t1 + 0.005 for t0, t1 in windows))
        self.assertLessEqual(len(lost), in_windows)
        d.stop()

    def test_restart_clean_and_kill9(self):
        cids = ["f" * 64, "a" * 64]
        # Docker deletes the oldest file at each rotation; keep enough of them that nothing is
        # deleted unread while the daemon is down (that loss would be Docker's, not ours).
        writers = [Writer(self.tree.create(cid, f"rs-{i}"), f"rs-{i}", 60000, rate=10000,
                          max_size=1_000_000, max_file=8)
                   for i, cid in enumerate(cids)]
        cfg = config(self.tmp, self.root)
        for w in writers:
            w.start()
        d = self.daemon(cfg, name="first").start()
        time.sleep(1.5)
        self.assertEqual(d.stop(), 0)              # clean stop mid-stream
        seqs1, _, _ = collect(self.out)
        d = self.daemon(cfg, name="second").start()
        time.sleep(1.5)
        d.kill9()                                  # crash mid-stream
        seqs2, _, _ = collect(self.out)
        d = self.daemon(cfg, name="third").start()
        for w in writers:
            w.join(support.scaled(60))
            self.assertIsNone(w.error)
        self.wait_delivered({"rs-0": 60000, "rs-1": 60000})
        self.assertEqual(d.stop(), 0)
        seqs, _, _ = collect(self.out)
        for c in ("rs-0", "rs-1"):
            got = seqs[c]
            self.assertEqual(set(got), set(range(60000)), f"{c}: records lost")
            dups = len(got) - 60000
            before_kill = len(seqs2.get(c, []))
            print(f"{c}: {dups} duplicates after a clean restart and a kill -9 "
                  f"({len(seqs1.get(c, []))} delivered before the clean stop, "
                  f"{before_kill} before the kill)")
            # A clean stop commits what it delivered, so only the kill can duplicate, and only
            # what was delivered but not yet checkpointed (checkpoint_interval 200 ms, at
            # 10,000 records/s, plus what was read ahead in flight).
            self.assertLessEqual(dups, 10000)
            first_part = [s for s in seqs1.get(c, [])]
            self.assertEqual(len(first_part), len(set(first_part)))

    def test_metadata_labels_filters_and_late_container(self):
        t = self.tree
        web = t.create("1" * 64, "web-1", "nginx:1.25",
                       {"com.docker.compose.project": "shop", "com.docker.compose.service": "web",
                        "team": "payments"}, env=["PATH=/bin", "DB_PASSWORD=hunter2"])
        skipped = t.create("2" * 64, "skip-me", "app:1")
        busy = t.create("3" * 64, "bb", "busybox:1.36")
        optout = t.create("4" * 64, "quiet", "app:1", {"logship.enable": "false"})
        extra = """    exclude_names: ["skip-*"]
    exclude_images: ["busybox*"]
"""
        d = self.daemon(config(self.tmp, self.root, extra)).start()
        for path, name in ((web, "web-1"), (skipped, "skip-me"), (busy, "bb"), (optout, "quiet")):
            with open(path, "ab") as f:
                for s in range(100):
                    f.write(docker_line(record_message(name, s) + "\n",
                                        attrs={"tag": name} if name == "web-1" else None))
        self.wait_delivered({"web-1": 100})
        started = time.monotonic()
        late = t.create("5" * 64, "late-1", "redis:7", {"tier": "cache"})
        with open(late, "ab") as f:
            for s in range(50):
                f.write(docker_line(record_message("late-1", s) + "\n", stream="stderr"))
        support.wait_for(lambda: len(set(collect(self.out)[0].get("late-1", []))) == 50,
                         timeout=10, interval=0.02, what="late container")
        late_delay = time.monotonic() - started
        # A label change (config.v2.json replaced) reaches later records.
        t.write_config("1" * 64, "web-1", "nginx:1.25",
                       {"com.docker.compose.project": "shop", "com.docker.compose.service": "web",
                        "team": "platform"})
        time.sleep(1.0)
        with open(web, "ab") as f:
            for s in range(100, 120):
                f.write(docker_line(record_message("web-1", s) + "\n"))
        self.wait_delivered({"web-1": 120, "late-1": 50})
        self.assertEqual(d.stop(), 0)
        seqs, raw, recs = collect(self.out)
        self.assertEqual(sorted(seqs), ["late-1", "web-1"])
        self.assertEqual(raw, [])
        self.assert_exact({"web-1": 120, "late-1": 50})
        web_recs = [r for r in recs if r.get("container_name") == "web-1"]
        first = next(r for r in web_recs if r["message"].startswith("c=web-1 seq=0 "))
        self.assertEqual(first["container_id"], "1" * 64)
        self.assertEqual(first["image"], "nginx:1.25")
        self.assertEqual(first["hostname"], "1" * 12)
        self.assertEqual(first["compose_project"], "shop")
        self.assertEqual(first["compose_service"], "web")
        self.assertEqual(first["labels"]["team"], "payments")
        self.assertEqual(first["tag"], "web-1")               # attrs become fields
        self.assertEqual(first["stream"], "stdout")
        self.assertNotIn("hunter2", json.dumps(web_recs))     # Env never copied
        later = next(r for r in web_recs if r["message"].startswith("c=web-1 seq=119 "))
        self.assertEqual(later["labels"]["team"], "platform")
        late_rec = next(r for r in recs if r.get("container_name") == "late-1")
        self.assertEqual(late_rec["image"], "redis:7")
        self.assertEqual(late_rec["stream"], "stderr")
        self.assertEqual(late_rec["labels"], {"tier": "cache"})
        print(f"late container picked up and delivered in {late_delay:.2f} s")
        self.assertLess(late_delay, 3.0)
        self.assertIn('reason="opted out by label logship.enable"', d.stderr())

    def test_partial_lines_are_merged_byte_exactly(self):
        path = self.tree.create("6" * 64, "big")
        sizes = [16 * 1024, 100 * 1024, 1024 * 1024]
        msgs = []
        with open(path, "ab") as f:
            for i, n in enumerate(sizes):
                head = f"c=big seq={i} "
                body = "".join(chr(0x41 + (k * 7) % 26) if k % 97 else '"<é\\' for k in range(n))
                # Exactly n bytes of UTF-8 (max_line_size is 1 MiB: the largest fits exactly).
                msg = (head + body).encode()[:n].decode("utf-8", "ignore")
                msg += "z" * (n - len(msg.encode()))
                msgs.append(msg)
                raw = (msg + "\n").encode()
                # Docker cuts raw bytes at 16 KiB; keep UTF-8 characters whole for exactness.
                at = 0
                while at < len(raw):
                    end = min(at + 16384, len(raw))
                    while end < len(raw) and (raw[end] & 0xC0) == 0x80:
                        end -= 1
                    f.write(docker_line(raw[at:end].decode()))
                    if at == 0:
                        f.write(docker_line(f"c=small seq={i} interleaved\n", stream="stderr"))
                    at = end
        d = self.daemon(config(self.tmp, self.root)).start()
        self.wait_delivered({"big": 3, "small": 3})
        self.assertEqual(d.stop(), 0)
        _, _, recs = collect(self.out)
        got = {r["message"].split(" ")[1]: r["message"] for r in recs
               if r["message"].startswith("c=big ")}
        for i, msg in enumerate(msgs):
            self.assertEqual(len(got[f"seq={i}"].encode()), sizes[i])
            self.assertTrue(got[f"seq={i}"] == msg, f"line of {len(msg)} bytes differs")
        self.assertEqual(len(recs), 6)

    def test_malformed_lines_are_counted_and_passed_raw(self):
        path = self.tree.create("7" * 64, "bad")
        good = [docker_line(record_message("bad", s) + "\n") for s in range(6)]
        malformed = [
            b"this is not json\n",
            b'{"log":"invalid utf8 \xff\xfe here\\n","stream":"stdout","time":"2024-05-01T10:00:00Z"}\n',
            b"\x89PNG\r\n\x1a\n"[:4] + bytes(range(1, 9)) + b"\n",                # binary garbage
            b'{"log":"cut by a crash, then the next wri' + good[5],               # two lines fused
            b'{"log":"no time\\n","stream":"stdout"}\n',
            b'{"log":"bad stream\\n","stream":"stdin","time":"2024-05-01T10:00:00Z"}\n',
        ]
        with open(path, "ab") as f:
            for i in range(5):
                f.write(good[i])
                f.write(malformed[i])
            f.write(malformed[5])
            f.write(b'{"log":"c=bad seq=6 xx\\n","stream":"stdout","ti')   # incomplete: wait
        d = self.daemon(config(self.tmp, self.root)).start()
        self.wait_delivered({"bad": 5})
        time.sleep(1.5)   # longer than partial_timeout and rotate_wait: still not malformed
        seqs, raw, _ = collect(self.out)
        self.assertEqual(sorted(seqs["bad"]), [0, 1, 2, 3, 4])
        self.assertEqual(len(raw), 6)
        with open(path, "ab") as f:
            f.write(b'me":"2024-05-01T10:00:00.5Z"}\n')
        self.wait_delivered({"bad": 6})
        self.assertEqual(d.stop(), 0)
        seqs, raw, recs = collect(self.out)
        self.assertEqual(sorted(seqs["bad"]), [0, 1, 2, 3, 4, 6])   # 5 died in the fused line
        self.assertEqual(stop_stats(d)[0][2], 6)
        self.assertEqual(len(raw), 6)
        self.assertEqual(raw[0]["message"], "this is not json")
        self.assertIn("malformed log line", d.stderr())
        six = next(r for r in recs if r["message"].startswith("c=bad seq=6 "))
        self.assertEqual(six["timestamp"], "2024-05-01T10:00:00.500000000Z")

    def test_malformed_skip_mode(self):
        path = self.tree.create("8" * 64, "skip")
        with open(path, "ab") as f:
            f.write(docker_line(record_message("skip", 0) + "\n"))
            f.write(b"garbage line\n\x00\x01\x02\n")
            f.write(docker_line(record_message("skip", 1) + "\n"))
        d = self.daemon(config(self.tmp, self.root, "    on_malformed: skip\n")).start()
        self.wait_delivered({"skip": 2})
        self.assertEqual(d.stop(), 0)
        _, raw, recs = collect(self.out)
        self.assertEqual(raw, [])
        self.assertEqual(len(recs), 2)
        self.assertEqual(stop_stats(d)[0][2], 2)

    def test_read_from_tail_skips_old_lines_of_files_found_at_start(self):
        old = self.tree.create("a1" * 32, "old")
        with open(old, "ab") as f:
            for s in range(10):
                f.write(docker_line(f"c=old-before seq={s} x\n"))
            f.write(b'{"log":"c=old seq=0 half written')   # the writer is mid-line
        d = self.daemon(config(self.tmp, self.root, "    read_from: tail\n")).start()
        support.wait_for(lambda: "tailing file" in d.stderr(), timeout=10, what="tailing")
        time.sleep(0.5)
        with open(old, "ab") as f:
            f.write(b' x\\n","stream":"stdout","time":"2024-05-01T10:00:00Z"}\n')
            for s in range(1, 5):
                f.write(docker_line(record_message("old", s) + "\n"))
        late = self.tree.create("b2" * 32, "new")   # appears later: read from its start
        with open(late, "ab") as f:
            for s in range(3):
                f.write(docker_line(record_message("new", s) + "\n"))
        self.wait_delivered({"old": 5, "new": 3}, timeout=10)
        self.assertEqual(d.stop(), 0)
        seqs, raw, _ = collect(self.out)
        self.assertNotIn("old-before", seqs)
        # The line being written at start is read whole: tailing starts after the last newline.
        self.assertEqual(sorted(seqs["old"]), [0, 1, 2, 3, 4])
        self.assertEqual(sorted(seqs["new"]), [0, 1, 2])
        self.assertEqual(raw, [])   # no torn line

    def test_missing_root_is_reported_and_watched(self):
        d = self.daemon(config(self.tmp, self.root + "-later")).start()
        support.wait_for(lambda: "log root not found" in d.stderr(), timeout=10,
                         what="missing root message")
        time.sleep(0.5)
        self.assertTrue(d.running())
        tree = DockerTree(self.root + "-later")
        path = tree.create("9" * 64, "appeared")
        with open(path, "ab") as f:
            f.write(docker_line(record_message("appeared", 0) + "\n"))
        self.wait_delivered({"appeared": 1}, timeout=10)
        self.assertEqual(d.stop(), 0)
        self.assertEqual(d.stderr().count("log root not found"), 1)

    def test_default_config_validates_and_runs_without_docker(self):
        r = support.run_logship(["validate"])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        env = {"LOGSHIP_STATE_DIR": os.path.join(self.tmp, "state"),
               "LOGSHIP_ARCHIVE_DIR": os.path.join(self.tmp, "archive"),
               "LOGSHIP_DOCKER_ROOT": os.path.join(self.tmp, "no-docker-here")}
        log = open(self.watch_stderr(os.path.join(self.tmp, "default.stderr")), "wb")
        p = subprocess.Popen([support.LOGSHIP, "run"], stdout=subprocess.DEVNULL, stderr=log,
                             env={**os.environ, **env})
        try:
            def reported():
                with open(log.name, "rb") as f:
                    return b"log root not found" in f.read()
            support.wait_for(reported, timeout=support.scaled(10),
                             what="missing docker root message")
            time.sleep(0.5)
            self.assertIsNone(p.poll(), "daemon exited without Docker")
        finally:
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(30), 0)
            log.close()


if __name__ == "__main__":
    support.main()
