"""Files closed while idle (close_idle, on by default): a quiet container's log gives its
descriptor back, its directory's inotify events reopen it, and it is resumed at its offset —
after appends, after a rotation while it was closed (also two rotations, so its lines are in
<name>.2 and a generation nobody saw is in <name>.1), and across a restart. Fake Docker tree,
periodic rescan an hour away (only events and partial scans act), exact record sets.
"""
import os
import signal
import time

import support
from test_docker_input import DockerTree, collect, docker_line, record_message


def config(tmp, root):
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
    close_idle: 1s
outputs:
  archive:
    type: file
    path: {tmp}/out/{{container_name}}.log
    compress: false
"""


def cid(i):
    return f"{i:04d}" + "c" * 60


class IdleCloseTest(support.TestCase):

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "docker")
        self.out = os.path.join(self.tmp, "out")
        self.tree = DockerTree(self.root)
        self.written = {}

    def write(self, i, count, path=None):
        name = f"c{i}"
        first = self.written.get(name, 0)
        data = b"".join(docker_line(record_message(name, s) + "\n")
                        for s in range(first, first + count))
        with open(path or self.tree.log_path(cid(i)), "ab") as f:
            f.write(data)
        self.written[name] = first + count

    def wait_exact(self):
        def done():
            seqs, _, _ = collect(self.out)
            return all(len(set(seqs.get(c, []))) >= n for c, n in self.written.items())
        support.wait_for(done, timeout=support.scaled(60), interval=0.1,
                         what=f"delivery of {self.written}")
        time.sleep(0.5)   # duplicates would show
        seqs, raw, _ = collect(self.out)
        self.assertEqual(raw, [])
        for c, n in self.written.items():
            got = seqs.get(c, [])
            self.assertEqual(sorted(got), list(range(n)), f"{c}: missing, foreign or repeated")

    def open_logs(self, d):
        fds = []
        for fd in os.listdir(f"/proc/{d.proc.pid}/fd"):
            try:
                target = os.readlink(f"/proc/{d.proc.pid}/fd/{fd}")
            except FileNotFoundError:
                continue
            if "-json.log" in target:
                fds.append(target)
        return fds

    def wait_all_closed(self, d):
        support.wait_for(lambda: not self.open_logs(d), timeout=support.scaled(15), interval=0.1,
                         what="every idle log file closed")

    def test_closed_while_idle_and_resumed_at_their_offset(self):
        n = 6
        for i in range(n):
            self.tree.create(cid(i), f"c{i}")
            self.write(i, 5)
        d = self.daemon(config(self.tmp, self.root)).start()
        self.wait_exact()
        self.wait_all_closed(d)

        # Appends to closed files: each is reopened by its event and read from its offset.
        for i in range(n):
            self.write(i, 3)
        self.wait_exact()
        self.wait_all_closed(d)

        # Rotations while closed, with lines the daemon never saw before the rename: the daemon
        # is stopped so nothing is reopened in between.
        d.proc.send_signal(signal.SIGSTOP)
        try:
            for i in range(n):
                path = self.tree.log_path(cid(i))
                self.write(i, 4)                 # unread, into the file about to be rotated
                os.rename(path, path + ".1")
                self.write(i, 2, path)           # the new file
                if i % 2 == 0:                   # rotated once more: ours is now .2
                    os.rename(path + ".1", path + ".2")
                    os.rename(path, path + ".1")
                    self.write(i, 2, path)
        finally:
            d.proc.send_signal(signal.SIGCONT)
        self.wait_exact()
        self.wait_all_closed(d)

        # Across a restart: resumed from the checkpoints, nothing read twice.
        self.assertEqual(d.stop(), 0)
        for i in range(n):
            self.write(i, 2)
        d = self.daemon(config(self.tmp, self.root)).start()
        self.wait_exact()
        self.wait_all_closed(d)
        self.assertEqual(d.stop(), 0)

    def test_a_sleeping_file_keeps_its_byte_order(self):
        # UTF-16 big-endian, told by the byte-order mark at the file's start only: a file
        # closed while idle gets a new decoder when it wakes, which must see the mark again.
        logs = os.path.join(self.tmp, "logs")
        os.makedirs(logs)
        path = os.path.join(logs, "app.log")
        with open(path, "wb") as f:
            f.write("\ufeff".encode("utf-16-be") + "first line \u00e9\n".encode("utf-16-be"))
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
inputs:
  app:
    type: file
    paths: ["{logs}/*.log"]
    encoding: utf-16
    rescan_interval: 1h
    close_idle: 1s
outputs:
  archive:
    type: file
    path: {self.out}/all.log
    compress: false
""").start()

        def messages():
            if not os.path.isdir(self.out):
                return []
            return [r["message"] for r in support.read_file_output(self.out)]

        def open_app():
            return [fd for fd in os.listdir(f"/proc/{d.proc.pid}/fd")
                    if os.path.realpath(f"/proc/{d.proc.pid}/fd/{fd}") == path]

        support.wait_for(lambda: messages() == ["first line \u00e9"], timeout=support.scaled(30))
        support.wait_for(lambda: not open_app(), timeout=support.scaled(15),
                         what="the idle file closed")
        time.sleep(0.5)
        with open(path, "ab") as f:
            f.write("second line \u00fc\n".encode("utf-16-be"))
        support.wait_for(lambda: len(messages()) >= 2, timeout=support.scaled(30))
        time.sleep(0.5)
        self.assertEqual(messages(), ["first line \u00e9", "second line \u00fc"])
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    support.main()
