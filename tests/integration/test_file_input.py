"""file input against real files: globs with '**', exclude, fields and the path on every event,
CRLF and long lines, read_from tail, a symlink at a matched path, and real logrotate (create,
copytruncate with compress + delaycompress) under load with a restart and a kill -9 between
rotations. Every record carries "c=<file> seq=<n>" so delivery is checked as an exact set.
"""
import glob
import os
import re
import shutil
import subprocess
import threading
import time

import support

SEQ_RE = re.compile(r"^c=(\S+) seq=(\d+) ")
LOGROTATE = shutil.which("logrotate") or "/usr/sbin/logrotate"


def config(tmp, paths, extra_input="", service_extra=""):
    globs = ", ".join(f'"{p}"' for p in paths)
    return f"""
service:
  state_dir: {tmp}/state
  checkpoint_interval: 200ms
{service_extra}
inputs:
  files:
    type: file
    paths: [{globs}]
    rescan_interval: 200ms
    rotate_wait: 1s
{extra_input}
outputs:
  archive:
    type: file
    path: {tmp}/out/all.log
    compress: false
"""


def records(out_dir):
    return support.read_file_output(out_dir) if os.path.isdir(out_dir) else []


def seqs_of(recs):
    seqs = {}
    for r in recs:
        m = SEQ_RE.match(r.get("message", ""))
        if m:
            seqs.setdefault(m.group(1), []).append(int(m.group(2)))
    return seqs


def line(name, seq, size=120):
    head = f"c={name} seq={seq} "
    return head + "x" * max(0, size - len(head))


class Writer(threading.Thread):
    """Appends lines at a steady pace; reopens the path when told (logrotate create)."""

    def __init__(self, path, name, count, rate=10000, batch=20):
        super().__init__(daemon=True)
        self.path, self.name, self.count = path, name, count
        self.rate, self.batch = rate / support.SLOWDOWN, batch
        self.reopen = threading.Event()
        self.times = {}
        self.error = None

    def run(self):
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
            start = time.monotonic()
            seq = 0
            while seq < self.count:
                if self.reopen.is_set():
                    os.close(fd)
                    fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
                    self.reopen.clear()
                n = min(self.batch, self.count - seq)
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


class FileInputTest(support.TestCase):

    def setUp(self):
        super().setUp()
        self.logs = os.path.join(self.tmp, "logs")
        self.out = os.path.join(self.tmp, "out")
        os.makedirs(self.logs)

    def write(self, rel, text, mode="a"):
        path = os.path.join(self.logs, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, mode + "b") as f:
            f.write(text.encode() if isinstance(text, str) else text)
        return path

    def wait_records(self, n, timeout=support.scaled(30)):
        return support.wait_for(lambda: len(records(self.out)) >= n and records(self.out),
                                timeout=timeout, what=f"{n} records")

    def test_globs_exclude_fields_path_and_symlink(self):
        a = self.write("a.log", "a1\na2\n")
        b = self.write("app/x/y/b.log", "b1\n")
        self.write("skip.log", "skipped\n")
        self.write("app/notes.txt", "not matched\n")
        self.write("app/a.log.2.gz", "compressed generation\n")
        outside = os.path.join(self.tmp, "outside")
        os.makedirs(outside)
        with open(os.path.join(outside, "secret.log"), "w") as f:
            f.write("secret\n")
        os.symlink(os.path.join(outside, "secret.log"), os.path.join(self.logs, "link.log"))
        # A symlinked directory a glob matches is not walked either.
        os.symlink(outside, os.path.join(self.logs, "linkdir"))
        d = self.daemon(config(self.tmp, [f"{self.logs}/**/*.log"],
                               "    exclude: [\"skip.log\"]\n"
                               "    fields: {service: nginx, team: edge}\n")).start()
        self.wait_records(3)
        # A file that appears later, in a new directory, and lines appended later.
        c = self.write("late/c.log", "c1\n")
        self.write("a.log", "a3\n")
        self.wait_records(5)
        # a.log replaced by a symlink to a file outside `paths`: the old file is drained and
        # released, the symlink never opened.
        os.unlink(a)
        os.symlink(os.path.join(outside, "secret.log"), a)
        with open(os.path.join(outside, "secret.log"), "a") as f:
            f.write("secret after the swap\n")
        support.wait_for(lambda: re.search(r'msg="file released" input=files path=' + re.escape(a),
                                           d.stderr()), what="a.log released")
        time.sleep(0.6)   # three rescans that must not open the symlink: nothing to wait for
        self.assertEqual(d.stop(), 0)
        got = sorted((r["message"], r["file"], r["service"], r["team"]) for r in records(self.out))
        self.assertEqual(got, sorted([
            ("a1", a, "nginx", "edge"), ("a2", a, "nginx", "edge"), ("a3", a, "nginx", "edge"),
            ("b1", b, "nginx", "edge"), ("c1", c, "nginx", "edge")]))

    def test_path_regex_fields_generations_and_validate(self):
        ngx = self.write("nginx/access.log", "n1\n")
        app = self.write("app/jobs/run.log", "j1\n")
        self.write("notes/readme.txt", "not matched by the regex\n")
        self.write("top.log", "not matched: no service directory\n")
        regex = f"{self.logs}/(?P<service>[^/]+)/(?P<name>.*)\\.log"
        cfg = config(self.tmp, [f"{self.logs}/**/*"], f"    path_regex: '{regex}'\n")
        d = self.daemon(cfg).start()
        self.wait_records(2)
        # A rotated generation carries its active file's fields.
        os.rename(ngx, ngx + ".1")
        self.write("nginx/access.log.1", "n2\n")
        self.write("nginx/access.log", "n3\n")
        self.wait_records(4)
        time.sleep(0.6)   # three rescans: nothing else may follow
        self.assertEqual(d.stop(), 0)
        got = sorted((r["message"], r["service"], r["name"]) for r in records(self.out))
        self.assertEqual(got, [("j1", "app", "jobs/run"), ("n1", "nginx", "access"),
                               ("n2", "nginx", "access"), ("n3", "nginx", "access")])
        # A pattern that does not compile, or makes no field, is refused with RE2's reason.
        for bad, why in ((f"{self.logs}/(?P<service>[^/]+", "missing )"),
                         (f"{self.logs}/.*\\.log", "no named group")):
            path = os.path.join(self.tmp, "bad.yaml")
            with open(path, "w") as f:
                f.write(config(self.tmp, [f"{self.logs}/**/*"], f"    path_regex: '{bad}'\n"))
            r = support.run_logship(["validate", "-c", path])
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            err = (r.stdout + r.stderr).decode()
            self.assertIn("path_regex:", err)
            self.assertIn(why, err)

    def test_crlf_long_lines_and_read_from_tail(self):
        self.write("old.log", "before start 1\r\nbefore start 2\r\npartial")
        d = self.daemon(config(self.tmp, [f"{self.logs}/*.log"],
                               "    line_ending: crlf\n    max_line_size: 64\n"
                               "    read_from: tail\n")).start()
        support.wait_for(lambda: "tailing file" in d.stderr(), what="the file opened")
        self.write("old.log", " line\r\n" + "L" * 100 + "\r\nafter\r\n")
        self.write("new.log", "new file from its start\r\n")
        self.wait_records(4)
        time.sleep(0.5)
        self.assertEqual(d.stop(), 0)
        got = sorted(r["message"] for r in records(self.out))
        self.assertEqual(got, sorted(["partial line", "L" * 64, "after",
                                      "new file from its start"]))
        metrics = d.stderr()
        self.assertIn("truncated=1 dropped_bytes=36", metrics)

    def test_utf16_and_latin1_reencoded_across_a_restart(self):
        u16 = self.write("win.log", "\ufeffpremi\u00e8re \U0001F600\r\nzwei\r\n".encode("utf-16-be"))
        lat = self.write("legacy.txt", "caf\u00e9 1\n".encode("latin-1"))
        cfg = f"""
service:
  state_dir: {self.tmp}/state
  checkpoint_interval: 100ms
inputs:
  windows:
    type: file
    paths: ["{u16}"]
    encoding: utf-16
    line_ending: crlf
    rescan_interval: 200ms
  legacy:
    type: file
    paths: ["{lat}"]
    encoding: latin-1
    rescan_interval: 200ms
outputs:
  archive:
    type: file
    path: {self.tmp}/out/all.log
    compress: false
"""
        d = self.daemon(cfg, name="first").start()
        self.wait_records(3)
        self.assertEqual(d.stop(), 0)
        # Resumed past the byte-order mark: the endianness still comes from it.
        self.write("win.log", "drei \u00fc\r\n".encode("utf-16-be"))
        self.write("legacy.txt", "na\u00efve 2\n".encode("latin-1"))
        d = self.daemon(cfg, name="second").start()
        self.wait_records(5)
        time.sleep(0.5)   # nothing else may follow
        self.assertEqual(d.stop(), 0)
        got = sorted(r["message"] for r in records(self.out))
        self.assertEqual(got, sorted(["premi\u00e8re \U0001F600", "zwei", "drei \u00fc",
                                      "caf\u00e9 1", "na\u00efve 2"]))

    def test_ten_thousand_files_within_max_open_files(self):
        n = 10000
        for i in range(n):
            self.write(f"d{i // 1000}/f{i}.log", line(f"f{i}", 0) + "\n")
        d = self.daemon(config(self.tmp, [f"{self.logs}/*/*.log"],
                               "    max_open_files: 200\n")).start()
        peak_fds = [0]

        def fds():
            try:
                peak_fds[0] = max(peak_fds[0], len(os.listdir(f"/proc/{d.proc.pid}/fd")))
            except OSError:
                pass

        def delivered(k):
            fds()   # counting lines, not parsing them: the final check parses every record
            total = 0
            for p in glob.glob(os.path.join(self.out, "*")):
                with open(p, "rb") as f:
                    total += f.read().count(b"\n")
            return total >= k

        support.wait_for(lambda: delivered(n), timeout=support.scaled(120), interval=0.2,
                         what=f"{n} records")
        # Parked files that grow get a descriptor back in turn.
        for i in range(0, n, 100):
            self.write(f"d{i // 1000}/f{i}.log", line(f"f{i}", 1) + "\n")
        support.wait_for(lambda: delivered(n + 100), timeout=support.scaled(60), interval=0.2,
                         what="the appended records")
        with open(f"/proc/{d.proc.pid}/status") as f:
            hwm = int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1)) * 1024
        self.assertEqual(d.stop(), 0)
        got = seqs_of(records(self.out))
        want = {f"f{i}": [0, 1] if i % 100 == 0 else [0] for i in range(n)}
        self.assertEqual({k: sorted(v) for k, v in got.items()}, want)
        print(f"10,000 files, max_open_files 200: peak {peak_fds[0]} descriptors, "
              f"peak RSS {hwm / 2**20:.1f} MiB")
        # 200 log files plus the daemon's own (output, checkpoints, inotify, stdio...).
        self.assertLessEqual(peak_fds[0], 200 + 30)
        # 10,000 followed files are mostly small allocations, where ASan's per-allocation
        # header and redzones cost more than its usual 3x (measured: 626 MiB against 54 MiB
        # in the release build); the release bound is the one that matters.
        bound = support.rss_limit(96 << 20)
        if support.SANITIZER == "asan":
            bound += 256 << 20
        self.assertLess(hwm, bound)

    def _logrotate(self, path, directives, runs, between=None):
        conf = os.path.join(self.tmp, "logrotate.conf")
        with open(conf, "w") as f:
            f.write(f"{path} {{\n  rotate 20\n  missingok\n{directives}\n}}\n")
        state = os.path.join(self.tmp, "logrotate.state")
        windows = []
        for i in range(runs):
            time.sleep(0.35)
            t0 = time.monotonic()
            r = subprocess.run([LOGROTATE, "-f", "-s", state, conf], capture_output=True,
                               timeout=30)
            t1 = time.monotonic()
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            windows.append((t0, t1))
            if between:
                between(i)
        return windows

    def _restart_between(self, cfg):
        """Rotation 2: a clean restart; rotation 4: kill -9 and start again."""
        state = {"d": self.daemon(cfg, name="run0").start(), "n": 0}

        def between(i):
            if i == 1:
                self.assertEqual(state["d"].stop(), 0)
                state["d"] = self.daemon(cfg, name="run1").start()
            elif i == 3:
                state["d"].kill9()
                state["d"] = self.daemon(cfg, name="run2").start()
        return state, between

    def test_logrotate_create_under_load_with_restart_and_kill9(self):
        path = os.path.join(self.logs, "app.log")
        open(path, "w").close()
        cfg = config(self.tmp, [path])
        state, restart = self._restart_between(cfg)
        w = Writer(path, "app", 40000, rate=10000)
        w.start()

        def between(i):
            time.sleep(0.05)   # the application notices the rotation a little later
            w.reopen.set()
            restart(i)
        self._logrotate(path, "  create 0640\n  compress\n  delaycompress", 6, between)
        w.join(support.scaled(60))
        self.assertIsNone(w.error)
        support.wait_for(lambda: set(seqs_of(records(self.out)).get("app", [])) >= set(range(40000)),
                         timeout=support.scaled(60), what="every record")
        self.assertEqual(state["d"].stop(), 0)
        got = seqs_of(records(self.out))["app"]
        self.assertEqual(set(got), set(range(40000)), "records lost")
        dups = len(got) - 40000
        print(f"logrotate create: 6 rotations, a restart and a kill -9: {dups} duplicates")
        # Only the kill -9 may duplicate: what was delivered but not yet checkpointed
        # (checkpoint_interval 200 ms at 10,000 lines/s, plus what was in flight).
        self.assertLessEqual(dups, 6000)
        gz = [f for f in os.listdir(self.logs) if f.endswith(".gz")]
        self.assertGreaterEqual(len(gz), 4, "delaycompress compressed the older generations")

    def test_logrotate_dateext_create_under_load(self):
        """dateext names generations app.log-<date>; dateformat with seconds so that several
        rotations a second apart get distinct names."""
        path = os.path.join(self.logs, "app.log")
        open(path, "w").close()
        cfg = config(self.tmp, [path])
        daemons = [self.daemon(cfg, name="run0").start()]
        w = Writer(path, "app", 30000, rate=8000)
        w.start()

        def between(i):
            time.sleep(0.05)
            w.reopen.set()
            # Stopped across the third rotation: its generation, written to while logship was
            # down, is found by its dated name at the restart.
            if i == 1:
                self.assertEqual(daemons[-1].stop(), 0)
            elif i == 2:
                daemons.append(self.daemon(cfg, name="run1").start())
            time.sleep(0.7)   # dateformat has one-second resolution
        self._logrotate(path, "  create 0640\n  dateext\n  dateformat -%Y%m%d%H%M%S", 4, between)
        w.join(support.scaled(60))
        self.assertIsNone(w.error)
        support.wait_for(lambda: set(seqs_of(records(self.out)).get("app", [])) >= set(range(30000)),
                         timeout=support.scaled(60), what="every record")
        self.assertEqual(daemons[-1].stop(), 0)
        got = seqs_of(records(self.out))["app"]
        self.assertEqual(sorted(got), list(range(30000)), "lost or duplicated")
        dated = [f for f in os.listdir(self.logs) if re.fullmatch(r"app\.log-\d{14}", f)]
        self.assertEqual(len(dated), 4, os.listdir(self.logs))

    def test_logrotate_copytruncate_under_load_with_restart(self):
        path = os.path.join(self.logs, "app.log")
        open(path, "w").close()
        cfg = config(self.tmp, [path])
        d = self.daemon(cfg, name="run0").start()
        w = Writer(path, "app", 40000, rate=10000)
        w.start()
        daemons = [d]

        def between(i):
            if i == 2:   # a clean restart between rotations
                self.assertEqual(daemons[-1].stop(), 0)
                daemons.append(self.daemon(cfg, name="run1").start())
        windows = self._logrotate(path, "  copytruncate\n  compress\n  delaycompress", 6, between)
        w.join(support.scaled(60))
        self.assertIsNone(w.error)
        time.sleep(3)
        self.assertEqual(daemons[-1].stop(), 0)
        got = seqs_of(records(self.out)).get("app", [])
        self.assertEqual(len(got), len(set(got)), "duplicates")
        lost = sorted(set(range(40000)) - set(got))
        # Lines written while logrotate ran (between its copy and its truncate) are in neither
        # file; anything else missing would be ours.
        outside = [s for s in lost
                   if not any(t0 - 0.005 <= w.times[s] <= t1 + 0.005 for t0, t1 in windows)]
        print(f"logrotate copytruncate: {len(lost)} of 40000 lost in {len(windows)} rotations "
              f"(logrotate run times {[round(t1 - t0, 4) for t0, t1 in windows]} s)")
        self.assertEqual(outside, [], "records lost outside the copy/truncate windows")


if __name__ == "__main__":
    support.main()
