"""An output's disk buffer against the real binary: a long output outage while Docker keeps
rotating and deleting logs, with kill -9 during the outage.

Without a disk buffer the input pauses when the memory queue is full, and Docker deletes rotated
files the input has not read yet: those lines are gone. With `buffer: {type: disk}` the input
keeps reading into the buffer (its checkpoints advance: the data is durable), a kill -9 loses
nothing, and when the output comes back the buffer is delivered. Memory stays bounded.
"""
import json
import os
import time

import support
from test_docker_input import DockerTree
from test_fault_tolerance import LoadWriter, RssSampler, scan_output

RATE = 2000          # records/s over 4 containers, ~330 bytes each on disk
OUTAGE_S = 12


def config(tmp, root, out, buffer):
    return f"""
service:
  state_dir: {tmp}/state
  checkpoint_interval: 200ms
  queue_max_bytes: 256KiB
inputs:
  containers:
    type: docker
    docker_root: {root}
    rescan_interval: 200ms
    rotate_wait: 1s
outputs:
  archive:
    type: file
    path: {out}/{{container_name}}.log
    compress: false
    max_size: 256KiB
    keep_files: 0
{buffer}
"""


DISK = """    buffer:
      type: disk
      max_size: 64MiB
      fsync_interval: 200ms
"""


class DiskBufferTest(support.TestCase):

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "docker")
        self.out = os.path.join(self.tmp, "out")
        self.tree = DockerTree(self.root)
        self.names = [f"c{i}" for i in range(4)]
        self.rss = RssSampler()
        self.rss.start()
        self.addCleanup(self.rss.stop_event.set)
        # Docker keeps 3 files of 200 KB per container: ~2.4 s of this load each. An outage of
        # 12 s outlives them several times over.
        self.writer = LoadWriter(self.tree, self.names, RATE, max_size=200_000, max_file=3)
        self.addCleanup(lambda: self.writer.is_alive() and self.writer.stop())

    def start(self, buffer):
        d = self.daemon(config(self.tmp, self.root, self.out, buffer),
                        name=f"logship{len(self.daemons)}")
        d.start()
        self.rss.pid = d.proc.pid
        return d

    def outage_begins(self):
        os.rename(self.out, self.out + ".away")
        with open(self.out, "w") as f:
            f.write("not a directory\n")

    def outage_ends(self):
        os.unlink(self.out)
        os.rename(self.out + ".away", self.out)

    def buffer_bytes(self):
        root = os.path.join(self.tmp, "state", "buffer", "archive")
        return sum(os.path.getsize(os.path.join(root, f)) for f in os.listdir(root))

    def input_offsets(self):
        with open(os.path.join(self.tmp, "state", "checkpoints.json")) as f:
            streams = json.load(f)["streams"]
        return {k: v["offset"] for k, v in streams.items() if not k.startswith("buffer/")}

    def test_outage_longer_than_dockers_retention_with_kill9_loses_nothing(self):
        d = self.start(DISK)
        self.writer.start()
        support.wait_for(lambda: scan_output(self.out), timeout=30, what="first deliveries")
        time.sleep(1.0)
        self.outage_begins()
        self.rss.reset_window()
        t_mid = time.monotonic() + OUTAGE_S / 2
        time.sleep(2.0)
        checkpoints_before = self.input_offsets()
        while time.monotonic() < t_mid:
            time.sleep(0.2)
        # The input kept reading into the buffer and checkpointed past what it buffered.
        self.assertNotEqual(self.input_offsets(), checkpoints_before)
        self.assertGreater(self.buffer_bytes(), 1_000_000)
        d.kill9()
        d = self.start(DISK)
        support.wait_for(lambda: "replaying undelivered data from the disk buffer" in d.stderr(),
                         timeout=10, what="the restarted daemon replaying its buffer")
        time.sleep(OUTAGE_S / 2)
        outage_rss = self.rss.window_peak
        self.assertTrue(d.running(), d.stderr()[-3000:])
        self.outage_ends()

        self.writer.stop()
        generated = dict(self.writer.counts)

        def complete():
            seqs = scan_output(self.out)
            return all(len(set(seqs.get(c, ()))) >= n for c, n in generated.items())
        try:
            support.wait_for(complete, timeout=90, interval=0.5, what="every record delivered")
        except AssertionError:
            pass   # reported with exact figures below
        self.assertEqual(d.stop(), 0, d.stderr()[-3000:])
        seqs = scan_output(self.out)
        total = sum(generated.values())
        unique = sum(len(set(v) & set(range(generated[c]))) for c, v in seqs.items())
        delivered = sum(len(v) for v in seqs.values())
        print(f"\nDISK-BUFFER outage_s={OUTAGE_S} generated={total} delivered={delivered} "
              f"lost={total - unique} duplicated={delivered - unique} "
              f"rotations={self.writer.rotations} "
              f"peak_rss_during_outage_mib={outage_rss / 2**20:.1f}", flush=True)
        self.assertGreater(self.writer.rotations, 20)
        self.assertEqual(total - unique, 0, "records lost")
        # The kill re-reads at most what was read but not yet synced and checkpointed.
        self.assertLessEqual(delivered - unique, RATE)
        self.assertLess(outage_rss, support.rss_limit(60 << 20))
        self.assertEqual(self.buffer_bytes_after_delivery(), 0)

    def buffer_bytes_after_delivery(self):
        # Delivered segments are deleted; the active (empty or delivered) one may remain.
        with open(os.path.join(self.tmp, "state", "checkpoints.json")) as f:
            streams = json.load(f)["streams"]
        root = os.path.join(self.tmp, "state", "buffer", "archive")
        ends = [int(f[:20]) + os.path.getsize(os.path.join(root, f)) for f in os.listdir(root)]
        return max(ends) - streams["buffer/archive"]["offset"]


if __name__ == "__main__":
    support.main()
