"""generate -> file: exact record counts across rotated segments, valid gzip archives, retention,
crash recovery of the active segment, and SIGTERM drain."""
import glob
import gzip
import json
import os
import re
import signal
import subprocess
import time

import support


def seqs_of(records):
    out = []
    for r in records:
        m = re.match(r"seq=(\d+) ", r["message"])
        assert m, r
        out.append(int(m.group(1)))
    return out


class FileOutputTest(support.TestCase):
    def config(self, count=0, rate=0, max_size="64KiB", keep_files=0, extra_out="", exit_when_done=True,
               state="state"):
        return f"""
service:
  state_dir: {self.tmp}/{state}
  exit_when_done: {str(exit_when_done).lower()}
  drain_timeout: 20s
inputs:
  gen:
    type: generate
    count: {count}
    rate: {rate}
    message_size: 200
outputs:
  archive:
    type: file
    path: {self.tmp}/out/{{input}}/app.log
    max_size: {max_size}
    keep_files: {keep_files}
{extra_out}
"""

    def archives(self):
        return sorted(glob.glob(f"{self.tmp}/out/gen/app.log.*.gz"))

    def test_exact_records_across_rotated_segments_and_valid_gzip(self):
        n = 20000
        d = self.daemon(self.config(count=n)).start()
        self.assertEqual(d.wait(timeout=120), 0, d.stderr())
        archives = self.archives()
        self.assertGreater(len(archives), 20, "small max_size must rotate many times")
        for a in archives:
            r = subprocess.run(["gzip", "-t", a], capture_output=True)
            self.assertEqual(r.returncode, 0, f"{a}: {r.stderr}")
        self.assertEqual([p for p in glob.glob(f"{self.tmp}/out/gen/*") if not p.endswith(".gz")],
                         [f"{self.tmp}/out/gen/app.log"], "only the active file stays uncompressed")
        seqs = seqs_of(support.read_file_output(f"{self.tmp}/out"))
        self.assertEqual(len(seqs), n)
        self.assertEqual(sorted(seqs), list(range(n)))
        for a in archives:
            # Each archive holds whole lines only, and is no bigger than the rotation size plus one line.
            raw = gzip.open(a).read()
            self.assertTrue(raw.endswith(b"\n"))
            self.assertLess(len(raw), 64 * 1024 + 1024)
        with open(f"{self.tmp}/state/checkpoints.json") as f:
            ckpt = json.load(f)
        self.assertEqual(ckpt["streams"]["generate:gen"]["offset"], n)

    def test_retention_keeps_only_the_newest_archives(self):
        n = 20000
        d = self.daemon(self.config(count=n, keep_files=3)).start()
        self.assertEqual(d.wait(timeout=120), 0, d.stderr())
        archives = self.archives()
        self.assertEqual(len(archives), 3, archives)
        # The kept archives plus the active file are the newest records, contiguous up to n-1.
        seqs = seqs_of(support.read_file_output(f"{self.tmp}/out"))
        self.assertEqual(sorted(seqs), list(range(n - len(seqs), n)))

    def test_sigterm_mid_stream_drains_and_writes_every_generated_record_once(self):
        d = self.daemon(self.config(count=0, rate=20000, max_size="1MiB", exit_when_done=False)).start()
        support.wait_for(lambda: os.path.exists(f"{self.tmp}/out/gen/app.log")
                         and os.path.getsize(f"{self.tmp}/out/gen/app.log") > 200000,
                         timeout=30, what="records written")
        self.assertEqual(d.stop(signal.SIGTERM, timeout=30), 0, d.stderr())
        self.assertIn("stopped; everything delivered", d.stderr())
        seqs = seqs_of(support.read_file_output(f"{self.tmp}/out"))
        self.assertEqual(sorted(seqs), list(range(len(seqs))), "no gap, no duplicate")
        with open(f"{self.tmp}/state/checkpoints.json") as f:
            ckpt = json.load(f)
        self.assertEqual(ckpt["streams"]["generate:gen"]["offset"], len(seqs))

    def test_kill9_then_restart_loses_nothing(self):
        n = 300000
        cfg = self.config(count=n, rate=100000, max_size="1MiB")
        d = self.daemon(cfg).start()
        support.wait_for(lambda: len(self.archives()) >= 2, timeout=60, what="a few segments")
        d.kill9()
        d2 = self.daemon(cfg, name="second").start()
        self.assertEqual(d2.wait(timeout=120), 0, d2.stderr())
        seqs = seqs_of(support.read_file_output(f"{self.tmp}/out"))
        self.assertEqual(set(seqs), set(range(n)), "every record delivered at least once")
        duplicates = len(seqs) - n
        # Only what was written but not yet checkpointed (1 s checkpoint interval at 100k/s) repeats.
        self.assertLessEqual(duplicates, 150000)
        for a in self.archives():
            self.assertEqual(subprocess.run(["gzip", "-t", a]).returncode, 0)

    def test_torn_last_line_and_uncompressed_segment_are_recovered_at_start(self):
        out = f"{self.tmp}/out/gen"
        os.makedirs(out)
        with open(f"{out}/app.log", "w") as f:
            f.write('{"message":"seq=999999 whole line"}\n{"message":"seq=99999')   # torn by a crash
        with open(f"{out}/app.log.00000000000000000001", "w") as f:
            f.write('{"message":"seq=888888 closed but never compressed"}\n')
        with open(f"{out}/app.log.00000000000000000001.gz.tmp", "w") as f:
            f.write("half an archive")
        d = self.daemon(self.config(count=10)).start()
        self.assertEqual(d.wait(timeout=60), 0, d.stderr())
        self.assertIn("removed a torn last line", d.stderr())
        self.assertFalse(os.path.exists(f"{out}/app.log.00000000000000000001.gz.tmp"))
        self.assertFalse(os.path.exists(f"{out}/app.log.00000000000000000001"))
        self.assertEqual(support.read_lines(f"{out}/app.log.00000000000000000001.gz"),
                         [b'{"message":"seq=888888 closed but never compressed"}'])
        seqs = seqs_of(support.read_file_output(f"{self.tmp}/out"))
        self.assertEqual(sorted(seqs), list(range(10)) + [888888, 999999])

    def test_ecs_schema_with_the_configured_host_name(self):
        cfg = self.config(count=3, extra_out="    schema: ecs\n").replace(
            "  drain_timeout: 20s\n", "  drain_timeout: 20s\n  host_name: file-node\n")
        d = self.daemon(cfg).start()
        self.assertEqual(d.wait(timeout=60), 0, d.stderr())
        records = [json.loads(l) for l in support.read_lines(f"{self.tmp}/out/gen/app.log")]
        self.assertEqual(sorted(seqs_of(records)), [0, 1, 2])
        for r in records:
            self.assertEqual(set(r), {"@timestamp", "message", "stream", "agent", "ecs", "host"}, r)
            self.assertEqual(r["stream"], "stdout")
            self.assertEqual(r["host"], {"name": "file-node"})
            self.assertEqual(r["ecs"], {"version": "8.17.0"})

    def test_raw_format_and_templated_time_path(self):
        cfg = f"""
service: {{state_dir: {self.tmp}/state, exit_when_done: true}}
inputs:
  gen: {{type: generate, count: 5, message_size: 20}}
outputs:
  raw:
    type: file
    format: raw
    path: {self.tmp}/raw/{{input}}-%Y.log
"""
        d = self.daemon(cfg).start()
        self.assertEqual(d.wait(timeout=60), 0, d.stderr())
        year = time.gmtime().tm_year
        with open(f"{self.tmp}/raw/gen-{year}.log", "rb") as f:
            lines = f.read().split(b"\n")
        self.assertEqual(lines[:5], [b"seq=0 ghijklmnopqrst", b"seq=1 ghijklmnopqrst", b"seq=2 ghijklmnopqrst",
                                     b"seq=3 ghijklmnopqrst", b"seq=4 ghijklmnopqrst"])
        self.assertEqual(lines[5:], [b""])


if __name__ == "__main__":
    support.main()
