"""`logship fsck` against state a real daemon wrote: a disk buffer filled during an output outage,
then a kill -9, a flipped byte inside a segment and a torn record at the end. fsck reports exactly
those, exports what is undelivered, repairs them, and the daemon started afterwards delivers
everything else exactly once."""
import collections
import json
import os
import struct

import support

N = 3000


def config(tmp, out_path):
    return f"""
service:
  state_dir: {tmp}/state
  checkpoint_interval: 100ms
inputs:
  gen:
    type: generate
    count: {N}
    rate: 20000
    batch_events: 100
    message_size: 24
outputs:
  archive:
    type: file
    path: {out_path}/{{input}}.log
    compress: false
    buffer:
      type: disk
      fsync: batch
      segment_size: 64KiB
"""


def records(path):
    """[(offset in file, length)] of a spool segment."""
    out, pos = [], 0
    with open(path, "rb") as f:
        data = f.read()
    while pos + 8 <= len(data):
        (n,) = struct.unpack_from("<I", data, pos)
        out.append((pos, n))
        pos += 8 + n
    return out


class FsckTest(support.TestCase):

    def fsck(self, *args):
        r = support.run_logship(["fsck", "-c", self.cfg_path] + list(args))
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def test_reports_exports_repairs_and_the_daemon_delivers_the_rest(self):
        blocker = os.path.join(self.tmp, "blocked")
        open(blocker, "w").close()   # the output writes below a regular file: every write fails
        d = self.daemon(config(self.tmp, blocker))
        self.cfg_path = d.config_path
        d.start()
        ckpt = os.path.join(self.tmp, "state", "checkpoints.json")

        def buffered():
            try:
                with open(ckpt) as f:
                    return json.load(f)["streams"]["generate:gen"]["offset"] == N
            except (OSError, ValueError, KeyError):
                return False
        support.wait_for(buffered, timeout=support.scaled(60), what="all events in the buffer")
        rc, out, err = self.fsck()
        self.assertEqual(rc, 8, out + err)
        self.assertIn(f"logship (pid {d.proc.pid}) is running", err)
        d.kill9()

        bdir = os.path.join(self.tmp, "state", "buffer", "archive")
        segs = sorted(os.path.join(bdir, s) for s in os.listdir(bdir))
        self.assertGreaterEqual(len(segs), 2, segs)
        # A flipped byte in the payload of the 3rd record of the first segment, and a torn
        # record at the end of the last one.
        first = records(segs[0])
        bad_pos, bad_len = first[2]
        with open(segs[0], "rb") as f:
            f.seek(bad_pos + 8)
            (bad_events,) = struct.unpack("<I", f.read(4))
        with open(segs[0], "r+b") as f:
            f.seek(bad_pos + 8 + 10)
            b = f.read(1)
            f.seek(bad_pos + 8 + 10)
            f.write(bytes([b[0] ^ 0x01]))
        with open(segs[-1], "ab") as f:
            f.write(b"\x40\x00\x00\x00torn")
        base0 = int(os.path.basename(segs[0])[:20])

        export = os.path.join(self.tmp, "undelivered.ndjson")
        rc, out, err = self.fsck("--export", export)
        self.assertEqual(rc, 4, out + err)
        self.assertIn(f"damage: {8 + bad_len} bytes at offset {base0 + bad_pos} in {segs[0]} "
                      "(records follow: split out)", out)
        self.assertIn(f"damage: 8 bytes at offset", out)
        self.assertIn(f"in {segs[-1]} (runs to the segment's end: cut)", out)
        self.assertIn("checkpoints", out)
        self.assertIn(f"generate:gen offset={N}", out)
        # Every record but the damaged one and the torn one verifies, and none was delivered.
        good = sum(len(records(s)) for s in segs) - 2
        self.assertIn(f"{len(segs)} segments, {good} records", out)
        self.assertIn(f"undelivered: {good} records, {N - bad_events} events", out)
        self.assertIn("result: damaged (2 problems", out)
        with open(export) as f:
            exported = [json.loads(line) for line in f]
        messages = [e["event"]["message"] for e in exported]
        self.assertEqual(len(messages), len(set(messages)))
        self.assertEqual({e["output"] for e in exported}, {"archive"})
        # A record is a batch whose first 4 bytes are its event count (the flip left them).
        self.assertEqual(N - len(messages), bad_events, "exactly the damaged batch's events")
        self.assertIn(f"exported {len(messages)} undelivered events", out)

        rc, out, err = self.fsck("--repair")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("result: repaired (2 problems)", out)
        rc, out, err = self.fsck()
        self.assertEqual(rc, 0, out + err)
        self.assertIn("result: clean", out)

        # The output is back: the daemon replays the buffer, nothing to skip.
        os.unlink(blocker)
        out_dir = os.path.join(self.tmp, "out")
        with open(d.config_path, "w") as f:
            f.write(config(self.tmp, out_dir))
        d2 = self.daemon(config(self.tmp, out_dir), name="second").start()

        def delivered():
            return [r["message"] for r in support.read_file_output(out_dir)] if os.path.isdir(out_dir) else []
        support.wait_for(lambda: len(delivered()) >= len(messages), timeout=support.scaled(60),
                         what="the buffer delivered")
        self.assertEqual(d2.stop(), 0, d2.stderr())
        got = delivered()
        self.assertEqual(collections.Counter(got), collections.Counter(messages))
        self.assertNotIn("does not decode", d2.stderr())
        self.assertNotIn("torn", d2.stderr())

    def test_drop_buffer_gives_up_a_named_buffer(self):
        blocker = os.path.join(self.tmp, "blocked")
        open(blocker, "w").close()
        d = self.daemon(config(self.tmp, blocker))
        self.cfg_path = d.config_path
        d.start()
        bdir = os.path.join(self.tmp, "state", "buffer", "archive")
        support.wait_for(lambda: os.path.isdir(bdir) and any(
            os.path.getsize(os.path.join(bdir, s)) > 0 for s in os.listdir(bdir)),
            timeout=support.scaled(30), what="a buffered record")
        self.assertEqual(d.stop(), 0)
        rc, out, err = self.fsck("--drop-buffer", "nope")
        self.assertEqual(rc, 2, out + err)
        rc, out, err = self.fsck("--drop-buffer", "archive")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("dropped buffer archive:", out)
        self.assertFalse(os.path.exists(bdir))
        with open(os.path.join(self.tmp, "state", "checkpoints.json")) as f:
            self.assertNotIn("buffer/archive", json.load(f)["streams"])


if __name__ == "__main__":
    support.main()
