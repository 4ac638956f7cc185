"""Reload: a valid config swaps pipelines with no loss and no duplication (the counted generator
resumes from its checkpoint), an invalid one is rejected with file:line errors and the old
pipeline keeps running."""
import collections
import json
import os
import re

import support

N = 6000


def seqs(directory):
    out = []
    for r in support.read_file_output(directory):
        m = re.match(r"seq=(\d+) ", r["message"])
        out.append(int(m.group(1)))
    return out


class ReloadTest(support.TestCase):
    def config(self, outputs, rate=1500, watch=""):
        outs = "".join(f"""
  {name}:
    type: file
    path: {self.tmp}/{name}/{{input}}.log
""" for name in outputs)
        return f"""
service:
  state_dir: {self.tmp}/state
  exit_when_done: true
  drain_timeout: 30s{watch}
inputs:
  gen:
    type: generate
    count: {N}
    rate: {rate}
    batch_events: 50
    message_size: 32
outputs:{outs}
routes:
  - match: ["*"]
    outputs: [{", ".join(outputs)}]
"""

    def test_valid_reload_adds_an_output_without_loss_or_duplication(self):
        d = self.daemon(self.config(["a"])).start()
        support.wait_for(lambda: len(seqs(f"{self.tmp}/a")) >= 1000, timeout=30,
                         what="first events in output a")
        with open(d.config_path, "w") as f:
            f.write(self.config(["a", "b"]))
        # `logship reload` validates the file and signals the pid in <state_dir>/logship.pid.
        r = support.run_logship(["reload", "-c", d.config_path])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(f"pid {d.proc.pid}", r.stdout.decode())
        self.assertEqual(d.wait(timeout=60), 0, d.stderr())
        log = d.stderr()
        self.assertIn('msg="reloaded"', log)
        self.assertIn("outputs=2", log)

        a = seqs(f"{self.tmp}/a")
        dup = [s for s, c in collections.Counter(a).items() if c > 1]
        self.assertEqual(dup, [], "duplicates in a")
        self.assertEqual(sorted(a), list(range(N)), "a lost events")
        b = seqs(f"{self.tmp}/b")
        self.assertGreater(len(b), 0, "the new output received nothing")
        first = min(b)
        self.assertGreater(first, 0, "b should only see events after the reload")
        self.assertEqual(sorted(b), list(range(first, N)), "b has gaps or duplicates")
        with open(f"{self.tmp}/state/checkpoints.json") as f:
            self.assertEqual(json.load(f)["streams"]["generate:gen"]["offset"], N)
        self.assertFalse(os.path.exists(f"{self.tmp}/state/logship.pid"))

    def test_a_changed_config_file_is_reloaded_without_a_signal(self):
        watch = "\n  config_watch_interval: 200ms"
        d = self.daemon(self.config(["a"], watch=watch)).start()
        support.wait_for(lambda: len(seqs(f"{self.tmp}/a")) >= 1000, timeout=30,
                         what="first events in output a")
        # As a ConfigMap update does it: the new file is renamed over the old path.
        tmp = d.config_path + ".new"
        with open(tmp, "w") as f:
            f.write(self.config(["a", "b"], watch=watch))
        os.rename(tmp, d.config_path)
        self.assertEqual(d.wait(timeout=60), 0, d.stderr())
        log = d.stderr()
        self.assertIn('msg="config file changed"', log)
        self.assertEqual(log.count('msg="reloaded"'), 1, log)
        a = seqs(f"{self.tmp}/a")
        self.assertEqual(sorted(a), list(range(N)), "a lost or duplicated events")
        b = seqs(f"{self.tmp}/b")
        self.assertGreater(len(b), 0, "the new output received nothing")
        self.assertEqual(sorted(b), list(range(min(b), N)), "b has gaps or duplicates")

    def test_invalid_reload_keeps_the_old_pipeline_running(self):
        d = self.daemon(self.config(["a"], rate=1000)).start()
        support.wait_for(lambda: len(seqs(f"{self.tmp}/a")) >= 500, timeout=30,
                         what="first events in output a")
        bad = self.config(["a"]).replace("type: file", "type: fiel").replace(
            "batch_events: 50", "batch_events: 50\n    bogus_option: 1")
        bad_path = os.path.join(self.tmp, "bad.yaml")
        with open(bad_path, "w") as f:
            f.write(bad)
        lines = bad.splitlines()
        type_line = next(i for i, l in enumerate(lines, 1) if "type: fiel" in l)
        bogus_line = next(i for i, l in enumerate(lines, 1) if "bogus_option" in l)

        # The reload command refuses an invalid file itself and does not signal.
        with open(d.config_path, "w") as f:
            f.write(bad)
        r = support.run_logship(["reload", "-c", d.config_path])
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{d.config_path}:{type_line}:", r.stderr.decode())
        self.assertNotIn('msg="reloading"', d.stderr())

        # SIGHUP straight to the daemon: rejected, every error logged with file:line.
        d.proc.send_signal(1)
        support.wait_for(lambda: "reload rejected" in d.stderr(), timeout=30, what="rejection")
        log = d.stderr()
        self.assertIn(f"{d.config_path}:{type_line}:", log)
        self.assertIn(f"{d.config_path}:{bogus_line}:", log)
        self.assertIn("unknown output type 'fiel'", log)
        self.assertTrue(d.running())

        # The old pipeline finishes its work: every event exactly once.
        self.assertEqual(d.wait(timeout=60), 0, d.stderr())
        a = seqs(f"{self.tmp}/a")
        self.assertEqual(len(a), N)
        self.assertEqual(sorted(a), list(range(N)))

    def test_state_dir_change_is_rejected(self):
        d = self.daemon(self.config(["a"], rate=1000)).start()
        support.wait_for(lambda: len(seqs(f"{self.tmp}/a")) >= 200, timeout=30, what="events")
        with open(d.config_path, "w") as f:
            f.write(self.config(["a"]).replace(f"{self.tmp}/state", f"{self.tmp}/state2"))
        d.proc.send_signal(1)
        support.wait_for(lambda: "state_dir cannot change" in d.stderr(), timeout=30,
                         what="rejection")
        self.assertEqual(d.wait(timeout=60), 0)
        self.assertEqual(sorted(seqs(f"{self.tmp}/a")), list(range(N)))


if __name__ == "__main__":
    support.main()
