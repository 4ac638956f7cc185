"""docker input driven by inotify, with the periodic rescan set to an hour: a quiet container's
new line, and a new container, arrive within a second; events lost to a queue overflow (the
daemon stopped while thousands of writes happen) are recovered by a scan, nothing lost; files
closed for max_open_files are reopened by their directory's events and resumed at their
offset, also after a rotation while closed. Fake Docker tree, exact record sets.
"""
import os
import signal
import time

import support
from test_docker_input import DockerTree, collect, docker_line, record_message


def config(tmp, root, extra=""):
    return f"""
service:
  state_dir: {tmp}/state
  checkpoint_interval: 200ms
inputs:
  containers:
    type: docker
    docker_root: {root}
    rescan_interval: 1h
    rotate_wait: 1s
{extra}
outputs:
  archive:
    type: file
    path: {tmp}/out/{{container_name}}.log
    compress: false
"""


def cid(i):
    return f"{i:04d}" + "e" * 60


class DockerIdleTest(support.TestCase):

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "docker")
        self.out = os.path.join(self.tmp, "out")
        self.tree = DockerTree(self.root)
        self.written = {}   # container name -> records written

    def write(self, i, count, path=None):
        name = f"q{i}"
        first = self.written.get(name, 0)
        data = b"".join(docker_line(record_message(name, s) + "\n")
                        for s in range(first, first + count))
        with open(path or self.tree.log_path(cid(i)), "ab") as f:
            f.write(data)
        self.written[name] = first + count

    def delivered(self):
        seqs, _, _ = collect(self.out)
        return seqs

    def wait_exact(self, timeout=support.scaled(60)):
        def done():
            seqs = self.delivered()
            return all(len(set(seqs.get(c, []))) >= n for c, n in self.written.items())
        support.wait_for(done, timeout=timeout, interval=0.1, what=f"delivery of {self.written}")
        time.sleep(0.5)   # duplicates would show
        seqs = self.delivered()
        for c, n in self.written.items():
            got = seqs.get(c, [])
            self.assertEqual(set(got), set(range(n)), f"{c}: missing or foreign records")
            self.assertEqual(len(got), n, f"{c}: {len(got) - n} duplicates")

    def latency_of(self, name, seq, timeout):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if seq in self.delivered().get(name, []):
                return time.monotonic() - t0
            time.sleep(0.02)
        return None

    def test_quiet_container_and_new_container_within_a_second(self):
        for i in range(20):
            self.tree.create(cid(i), f"q{i}")
            self.write(i, 3)
        d = self.daemon(config(self.tmp, self.root)).start()
        self.wait_exact()
        time.sleep(3)   # silence: nothing read, nothing scanned (the rescan is an hour away)
        self.write(7, 1)
        took = self.latency_of("q7", 3, support.scaled(10))
        self.assertIsNotNone(took, "the quiet container's line never arrived")
        self.assertLess(took, support.scaled(1.0), f"the quiet container's line took {took:.2f}s")
        # A container started after the silence: its directory's creation asks for a scan.
        self.tree.create(cid(20), "q20")
        self.write(20, 1)
        took = self.latency_of("q20", 0, support.scaled(10))
        self.assertIsNotNone(took, "the new container's line never arrived")
        self.assertLess(took, support.scaled(1.0), f"the new container's line took {took:.2f}s")
        self.wait_exact()
        self.assertEqual(d.stop(), 0)

    def test_queue_overflow_while_stopped_loses_nothing(self):
        with open("/proc/sys/fs/inotify/max_queued_events") as f:
            max_queued = int(f.read())
        for i in range(2):
            self.tree.create(cid(i), f"q{i}")
            self.write(i, 1)
        d = self.daemon(config(self.tmp, self.root)).start()
        self.wait_exact()
        d.proc.send_signal(signal.SIGSTOP)   # the queue fills while nobody reads it
        try:
            fds = [os.open(self.tree.log_path(cid(i)), os.O_WRONLY | os.O_APPEND) for i in range(2)]
            for _ in range(max_queued // 2 + 1000):
                for i, fd in enumerate(fds):   # alternating: the kernel merges no two events
                    name = f"q{i}"
                    os.write(fd, docker_line(record_message(name, self.written[name]) + "\n"))
                    self.written[name] += 1
            for fd in fds:
                os.close(fd)
            # Created after the queue is full: their events are lost.
            for i in range(2, 30):
                self.tree.create(cid(i), f"q{i}")
                self.write(i, 5)
        finally:
            d.proc.send_signal(signal.SIGCONT)
        self.wait_exact()
        self.assertIn("inotify queue overflowed", d.stderr())
        self.assertEqual(d.stop(), 0)

    def test_closed_for_the_budget_resumed_at_their_offset_across_rotations(self):
        n = 12
        for i in range(n):
            self.tree.create(cid(i), f"q{i}")
            self.write(i, 5)
        d = self.daemon(config(self.tmp, self.root, "    max_open_files: 4")).start()
        self.wait_exact()
        for rnd in range(3):
            for i in range(n):
                path = self.tree.log_path(cid(i))
                self.write(i, 3)
                if (i + rnd) % 2 == 0:
                    # Docker's rotation while the file is (most likely) closed: the lines just
                    # written go with the old file, the next ones into a new one.
                    if os.path.exists(path + ".1"):
                        os.rename(path + ".1", path + ".2")
                    os.rename(path, path + ".1")
                    self.write(i, 2, path)
            self.wait_exact()
        # Never more than the budget of log files open at once.
        logs = [l for l in (os.readlink(f"/proc/{d.proc.pid}/fd/{fd}")
                            for fd in os.listdir(f"/proc/{d.proc.pid}/fd")) if "-json.log" in l]
        self.assertLessEqual(len(logs), 4, logs)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    support.main()
