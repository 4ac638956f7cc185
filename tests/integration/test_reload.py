"""Reload: a valid config swaps pipelines with no loss and no duplication (the counted generator
resumes from its checkpoint), an invalid one is rejected with file:line errors and the old
pipeline keeps running."""
import collections
import json
import os
import re
import socket
import threading
import time

import support
from ops_support import admin_port, get

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


class ReloadInPlaceTest(support.TestCase):
    """A reload that changes one output's settings swaps that output only: the input keeps
    reading through it (one pipeline start, checkpoints moving, the other output growing),
    every event reaches each output exactly once, and an output whose new settings cannot
    start is reported as a failed reload while the pipeline goes on."""
    N = 15000

    def config(self, b_dir, b_extra=""):
        return f"""
service:
  state_dir: {self.tmp}/state
  exit_when_done: true
  drain_timeout: 30s
  checkpoint_interval: 100ms
inputs:
  gen: {{type: generate, count: {self.N}, rate: 3000, batch_events: 50, message_size: 32}}
outputs:
  a: {{type: file, path: "{self.tmp}/a/{{input}}.log"}}
  b: {{type: file, path: "{self.tmp}/{b_dir}/{{input}}.log"{b_extra}}}
routes:
  - match: ["*"]
    outputs: [a, b]
"""

    def checkpoint(self):
        try:
            with open(f"{self.tmp}/state/checkpoints.json") as f:
                return json.load(f)["streams"]["generate:gen"]["offset"]
        except (OSError, ValueError, KeyError):
            return 0

    def test_reloading_one_output_keeps_the_input_and_the_other_output_running(self):
        d = self.daemon(self.config("b1")).start()
        support.wait_for(lambda: len(seqs(f"{self.tmp}/a")) >= 3000, timeout=support.scaled(30),
                         what="first events in output a")
        samples = []   # (time, checkpoint, events in a)
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                samples.append((time.monotonic(), self.checkpoint(), len(seqs(f"{self.tmp}/a"))))
                time.sleep(0.02)
        sampler = threading.Thread(target=sample)
        sampler.start()
        time.sleep(0.5)
        with open(d.config_path, "w") as f:
            f.write(self.config("b2"))
        t0 = time.monotonic()
        r = support.run_logship(["reload", "-c", d.config_path])
        t1 = time.monotonic()
        time.sleep(0.5)
        stop.set()
        sampler.join()
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        log = d.stderr()
        self.assertIn('msg="output replaced while the pipeline runs" output=b', log)
        self.assertIn("replaced_outputs=b added_outputs=- removed_outputs=- kept_inputs=gen "
                      "kept_outputs=a", log)
        self.assertEqual(log.count('msg="pipeline started"'), 1, "the input was restarted")
        # Around the reload the checkpoint and output a kept moving: no stop of the input.
        around = [s for s in samples if t0 - 0.5 <= s[0] <= t1 + 0.5]
        self.assertGreater(around[-1][1], around[0][1], "checkpoint did not move")
        self.assertGreater(around[-1][2], around[0][2], "output a did not grow")
        moves = [s[0] for prev, s in zip(around, around[1:]) if s[1] != prev[1]]
        gaps = [b - a for a, b in zip(moves, moves[1:])]
        self.assertLess(max(gaps), 0.5, f"the checkpoint stood still for {max(gaps):.2f}s")

        # New settings that cannot start (the disk buffer's directory cannot be made): the
        # command says so, and the pipeline goes on with the running config.
        os.makedirs(f"{self.tmp}/state", exist_ok=True)
        with open(f"{self.tmp}/state/buffer", "w") as f:
            f.write("not a directory")
        with open(d.config_path, "w") as f:
            f.write(self.config("b2", ", buffer: {type: disk}"))
        r = support.run_logship(["reload", "-c", d.config_path])
        self.assertEqual(r.returncode, 1, r.stderr.decode())
        self.assertIn("the new config did not start; the previous one runs again", r.stderr.decode())
        self.assertIn("output b", r.stderr.decode())

        self.assertEqual(d.wait(timeout=support.scaled(60)), 0, d.stderr())
        a = seqs(f"{self.tmp}/a")
        self.assertEqual(sorted(a), list(range(self.N)), "a lost or duplicated events")
        b1, b2 = seqs(f"{self.tmp}/b1"), seqs(f"{self.tmp}/b2")
        self.assertGreater(len(b1), 0)
        self.assertGreater(len(b2), 0)
        self.assertEqual(sorted(b1 + b2), list(range(self.N)), "b lost or duplicated events")
        self.assertLess(max(b1), min(b2), "b's old settings wrote after its new ones")
        self.assertEqual(self.checkpoint(), self.N)


class ReloadInPlaceDockerTest(support.TestCase):
    """The same with the docker input under a generated load (a fake Docker tree written at
    ~3,000 lines/s): b's settings change mid-load; the input keeps its open file and position
    (one pipeline start, its checkpoint moving through the reload), a gets every line once, b's
    two directories together get every line once."""
    N = 12000

    def config(self, b_dir):
        return f"""
service:
  state_dir: {self.tmp}/state
  drain_timeout: 30s
  checkpoint_interval: 100ms
inputs:
  containers: {{type: docker, docker_root: {self.tmp}/docker, rescan_interval: 200ms}}
outputs:
  a: {{type: file, path: "{self.tmp}/a/{{container_name}}.log"}}
  b: {{type: file, path: "{self.tmp}/{b_dir}/{{container_name}}.log"}}
"""

    def checkpoint(self):
        try:
            with open(f"{self.tmp}/state/checkpoints.json") as f:
                return sum(s.get("offset", 0) for s in json.load(f)["streams"].values())
        except (OSError, ValueError, KeyError, AttributeError):
            return 0

    def test_reloading_one_output_while_the_docker_input_is_under_load(self):
        from test_docker_input import DockerTree, docker_line
        tree = DockerTree(f"{self.tmp}/docker")
        log = tree.create("c" * 64, "loadgen")
        d = self.daemon(self.config("b1")).start()

        def write():
            with open(log, "ab") as f:
                for i in range(0, self.N, 30):
                    f.write(b"".join(docker_line(f"seq={j} payload\n") for j in range(i, i + 30)))
                    f.flush()
                    time.sleep(0.01)
        writer = threading.Thread(target=write)
        writer.start()
        support.wait_for(lambda: len(seqs(f"{self.tmp}/a")) >= 2000, timeout=support.scaled(30),
                         what="first lines in output a")
        before = (self.checkpoint(), len(seqs(f"{self.tmp}/a")))
        with open(d.config_path, "w") as f:
            f.write(self.config("b2"))
        r = support.run_logship(["reload", "-c", d.config_path])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        time.sleep(0.3)
        after = (self.checkpoint(), len(seqs(f"{self.tmp}/a")))
        self.assertGreater(after[0], before[0], "checkpoint did not move through the reload")
        self.assertGreater(after[1], before[1], "output a did not grow through the reload")
        writer.join()
        support.wait_for(lambda: len(seqs(f"{self.tmp}/a")) == self.N and
                         len(seqs(f"{self.tmp}/b1")) + len(seqs(f"{self.tmp}/b2")) >= self.N,
                         timeout=support.scaled(30), what="every line on both outputs")
        self.assertEqual(d.stop(), 0, d.stderr())
        text = d.stderr()
        self.assertEqual(text.count('msg="pipeline started"'), 1, "the input was restarted")
        self.assertIn("replaced_outputs=b added_outputs=- removed_outputs=- kept_inputs=containers "
                      "kept_outputs=a", text)
        self.assertEqual(sorted(seqs(f"{self.tmp}/a")), list(range(self.N)))
        b1, b2 = seqs(f"{self.tmp}/b1"), seqs(f"{self.tmp}/b2")
        self.assertGreater(len(b2), 0)
        self.assertEqual(sorted(b1 + b2), list(range(self.N)), "b lost or duplicated lines")


class ReloadInputsInPlaceTest(support.TestCase):
    """Two file inputs into one file output. Input a is written at ~3,000 lines/s while b's
    options change and then b leaves and c comes: a and the output keep running (one pipeline
    start, a's checkpoint moving through each reload), b and c stop and start alone, resuming
    at their committed positions, and every line of every input arrives exactly once."""
    N = 12000

    def config(self, inputs, rest=None):
        ins = "".join(f"""
  {name}: {{type: file, paths: ["{self.tmp}/logs/{name}.log"], rescan_interval: {rescan}}}"""
                      for name, rescan in inputs)
        if rest is None:
            rest = f"""outputs:
  out: {{type: file, path: "{self.tmp}/out/{{input}}/lines.log"}}
"""
        return f"""
service:
  state_dir: {self.tmp}/state
  drain_timeout: 30s
  checkpoint_interval: 100ms
inputs:{ins}
{rest}"""

    def append(self, name, first, last):
        os.makedirs(f"{self.tmp}/logs", exist_ok=True)
        with open(f"{self.tmp}/logs/{name}.log", "a") as f:
            f.write("".join(f"seq={i} payload\n" for i in range(first, last)))

    def got(self, name):
        d = f"{self.tmp}/out/{name}"
        return seqs(d) if os.path.isdir(d) else []

    def offset_of_a(self):
        try:
            st = os.stat(f"{self.tmp}/logs/a.log")
            with open(f"{self.tmp}/state/checkpoints.json") as f:
                return json.load(f)["streams"][f"file:{st.st_dev}:{st.st_ino}"]["offset"]
        except (OSError, ValueError, KeyError):
            return 0

    def start_writing_a(self):
        """Writes a's N lines at ~3,000 lines/s on a thread; returns it."""
        def write_a():
            for i in range(0, self.N, 30):
                self.append("a", i, i + 30)
                time.sleep(0.01)
        writer = threading.Thread(target=write_a)
        writer.start()
        return writer

    def reload(self, d, inputs, rest=None):
        """Reloads with `inputs` (and `rest` after them); returns the longest time a's checkpoint
        stood still from 0.5s before the reload to 0.5s after it."""
        samples = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                samples.append((time.monotonic(), self.offset_of_a()))
                time.sleep(0.02)
        sampler = threading.Thread(target=sample)
        sampler.start()
        time.sleep(0.5)
        with open(d.config_path, "w") as f:
            f.write(self.config(inputs, rest))
        t0 = time.monotonic()
        r = support.run_logship(["reload", "-c", d.config_path])
        t1 = time.monotonic()
        time.sleep(0.5)
        stop.set()
        sampler.join()
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        with open(f"{self.tmp}/state/reload.json") as f:
            self.assertEqual(json.load(f)["result"], "reloaded")
        around = [s for s in samples if t0 - 0.5 <= s[0] <= t1 + 0.5]
        self.assertGreater(around[-1][1], around[0][1], "a's checkpoint did not move")
        moves = [s[0] for prev, s in zip(around, around[1:]) if s[1] != prev[1]]
        return max(b - a for a, b in zip(moves, moves[1:]))

    def test_changing_adding_and_removing_inputs_keeps_the_others_running(self):
        self.append("a", 0, 0)
        self.append("b", 0, 1000)
        self.append("c", 0, 500)   # read from the start once c is added
        d = self.daemon(self.config([("a", "200ms"), ("b", "200ms")])).start()

        writer = self.start_writing_a()
        support.wait_for(lambda: len(self.got("a")) >= 2000 and len(self.got("b")) == 1000,
                         timeout=support.scaled(30), what="first lines of a and b")

        # b's options change, with lines of b on their way: it resumes where it stopped.
        self.append("b", 1000, 1500)
        pause_change = self.reload(d, [("a", "200ms"), ("b", "300ms")])
        self.append("b", 1500, 2000)
        support.wait_for(lambda: len(self.got("b")) >= 2000, timeout=support.scaled(30),
                         what="every line of b")

        # b leaves (every line of it delivered), c comes.
        pause_swap = self.reload(d, [("a", "200ms"), ("c", "200ms")])
        self.append("c", 500, 1000)
        writer.join()
        support.wait_for(lambda: len(self.got("a")) >= self.N and len(self.got("c")) >= 1000,
                         timeout=support.scaled(30), what="every line of a and c")
        log = d.stderr()
        self.assertEqual(d.stop(), 0, d.stderr())

        # a opened its file once and never stopped; b stopped twice and opened its file again
        # at its checkpoint in between.
        self.assertEqual(len(re.findall(r'msg="tailing file" input=a ', log)), 1, log)
        self.assertNotIn('msg="input stopped" input=a ', log)
        self.assertEqual(len(re.findall(r'msg="input stopped" input=b ', log)), 2, log)
        self.assertEqual(len(re.findall(r'msg="tailing file" input=b ', log)), 2, log)
        self.assertEqual(log.count('msg="pipeline started"'), 1, "the pipeline was rebuilt")
        self.assertIn("restarted_inputs=b added_inputs=- removed_inputs=- replaced_outputs=- "
                      "added_outputs=- removed_outputs=- kept_inputs=a kept_outputs=out", log)
        self.assertIn("restarted_inputs=- added_inputs=c removed_inputs=b replaced_outputs=- "
                      "added_outputs=- removed_outputs=- kept_inputs=a kept_outputs=out", log)
        self.assertNotIn("output replaced", log)
        self.assertEqual(sorted(self.got("a")), list(range(self.N)), "a lost or duplicated lines")
        self.assertEqual(sorted(self.got("b")), list(range(2000)), "b lost or duplicated lines")
        self.assertEqual(sorted(self.got("c")), list(range(1000)), "c lost or duplicated lines")
        print(f"a's checkpoint stood still at most {pause_change:.3f}s (b changed), "
              f"{pause_swap:.3f}s (b removed, c added)")
        self.assertLess(pause_change, 0.5, "a paused while b restarted")
        self.assertLess(pause_swap, 0.5, "a paused while b left and c came")

    def test_processors_routes_and_outputs_change_while_a_keeps_reading(self):
        """b's route gains a processor and a new output, then loses both: b restarts alone each
        time, a reads on; the new output gets exactly b's lines read while it was routed to,
        and only those lines carry the processor's field."""
        def rest(tagged):
            extra = f"""
  extra: {{type: file, path: "{self.tmp}/extra/{{input}}/lines.log"}}""" if tagged else ""
            return f"""processors:
  tag: {{type: modify, set: {{stage: tagged}}}}
outputs:
  out: {{type: file, path: "{self.tmp}/out/{{input}}/lines.log"}}{extra}
routes:
  - {{match: [a], outputs: [out]}}
  - {{match: [b], processors: [{"tag" if tagged else ""}], outputs: [out{", extra" if tagged else ""}]}}
"""
        inputs = [("a", "200ms"), ("b", "200ms")]
        self.append("a", 0, 0)
        self.append("b", 0, 1000)
        d = self.daemon(self.config(inputs, rest(False))).start()

        writer = self.start_writing_a()
        support.wait_for(lambda: len(self.got("a")) >= 2000 and len(self.got("b")) == 1000,
                         timeout=support.scaled(30), what="first lines of a and b")
        pause_add = self.reload(d, inputs, rest(True))
        self.append("b", 1000, 2000)
        support.wait_for(lambda: len(self.got("b")) >= 2000, timeout=support.scaled(30),
                         what="b's lines after the first reload")
        pause_remove = self.reload(d, inputs, rest(False))
        self.append("b", 2000, 3000)
        writer.join()
        support.wait_for(lambda: len(self.got("a")) >= self.N and len(self.got("b")) >= 3000,
                         timeout=support.scaled(30), what="every line of a and b")
        log = d.stderr()
        self.assertEqual(d.stop(), 0, d.stderr())
        self.assertEqual(log.count('msg="pipeline started"'), 1, "the pipeline was rebuilt")
        self.assertEqual(len(re.findall(r'msg="tailing file" input=a ', log)), 1, log)
        self.assertEqual(len(re.findall(r'msg="input stopped" input=b ', log)), 2, log)
        self.assertIn("restarted_inputs=b added_inputs=- removed_inputs=- replaced_outputs=- "
                      "added_outputs=extra removed_outputs=- kept_inputs=a kept_outputs=out", log)
        self.assertIn("restarted_inputs=b added_inputs=- removed_inputs=- replaced_outputs=- "
                      "added_outputs=- removed_outputs=extra kept_inputs=a kept_outputs=out", log)
        self.assertEqual(sorted(self.got("a")), list(range(self.N)), "a lost or duplicated lines")
        self.assertEqual(sorted(self.got("b")), list(range(3000)), "b lost or duplicated lines")
        self.assertEqual(sorted(seqs(f"{self.tmp}/extra/b")), list(range(1000, 2000)),
                         "the added output got other lines than those routed to it")
        tagged = sorted(int(re.match(r"seq=(\d+) ", r["message"]).group(1))
                        for r in support.read_file_output(f"{self.tmp}/out/b")
                        if r.get("stage") == "tagged")
        self.assertEqual(tagged, list(range(1000, 2000)), "the processor ran on other lines")
        self.assertFalse(any("stage" in r for r in support.read_file_output(f"{self.tmp}/out/a")))
        print(f"a's checkpoint stood still at most {pause_add:.3f}s (b's route gained a "
              f"processor and an output), {pause_remove:.3f}s (and lost them)")
        self.assertLess(pause_add, 0.5, "a paused while b's route changed")
        self.assertLess(pause_remove, 0.5, "a paused while b's route changed back")

    def test_an_added_input_that_cannot_start_rolls_back(self):
        self.append("a", 0, 3000)
        d = self.daemon(self.config([("a", "200ms")])).start()
        support.wait_for(lambda: len(self.got("a")) >= 3000, timeout=support.scaled(30),
                         what="first lines of a")
        # Valid, but the new syslog input cannot bind a port that is taken: it fails when it
        # starts, and the pipeline is rebuilt from the previous config.
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            with open(d.config_path, "w") as f:
                f.write(self.config([("a", "200ms")]) .replace(
                    "\noutputs:", f"""
  sys: {{type: syslog, tcp: "127.0.0.1:{port}"}}
outputs:"""))
            r = support.run_logship(["reload", "-c", d.config_path])
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1, err)
        self.assertIn("the new config did not start; the previous one runs again", err)
        self.assertIn(f"127.0.0.1:{port}", err)
        with open(f"{self.tmp}/state/reload.json") as f:
            self.assertEqual(json.load(f)["result"], "rolled_back")
        self.assertIn("the new config failed to start in place", d.stderr())
        self.append("a", 3000, 4000)
        support.wait_for(lambda: len(self.got("a")) >= 4000, timeout=support.scaled(30),
                         what="lines of a after the rollback")
        self.assertEqual(d.stop(), 0, d.stderr())
        self.assertEqual(sorted(self.got("a")), list(range(4000)), "a lost or duplicated lines")


class ReloadOutcomeTest(support.TestCase):
    """`logship reload` and POST /api/reload return the daemon's own outcome."""

    def config(self, outputs=("a",), extra_inputs="", service=""):
        outs = "".join(f"""
  {name}:
    type: file
    path: {self.tmp}/{name}/{{input}}.log""" for name in outputs)
        return f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0
  drain_timeout: 5s{service}
inputs:
  gen: {{type: generate, rate: 200, message_size: 32}}{extra_inputs}
outputs:{outs}
"""

    def write(self, d, text):
        with open(d.config_path, "w") as f:
            f.write(text)

    def post_reload(self, port):
        return get(port, "/api/reload", method="POST")

    def test_reload_command_waits_for_the_outcome(self):
        d = self.daemon(self.config()).start()
        support.wait_for(lambda: os.path.isdir(f"{self.tmp}/a"), timeout=support.scaled(20),
                         what="output a")
        self.write(d, self.config(("a", "b")))
        r = support.run_logship(["reload", "-c", d.config_path])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stdout.decode(), f"reloaded: logship (pid {d.proc.pid}) runs "
                                            f"{d.config_path}\n")
        # It returned after the reload: the new output exists by now.
        self.assertIn('msg="reloaded"', d.stderr())
        self.assertTrue(os.path.isdir(f"{self.tmp}/b") or
                        support.wait_for(lambda: os.path.isdir(f"{self.tmp}/b"), timeout=10))

        # Valid, but the new syslog input cannot bind a port that is taken: the previous
        # config runs again, and the command says so with the reason.
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            self.write(d, self.config(("a", "b"), extra_inputs=f"""
  sys: {{type: syslog, tcp: "127.0.0.1:{port}"}}"""))
            r = support.run_logship(["reload", "-c", d.config_path])
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1, err)
        self.assertIn("the new config did not start; the previous one runs again", err)
        self.assertIn(f"127.0.0.1:{port}", err)
        self.assertTrue(d.running())
        with open(f"{self.tmp}/state/reload.json") as f:
            status = json.load(f)
        self.assertEqual((status["pid"], status["generation"], status["result"]),
                         (d.proc.pid, 2, "rolled_back"))

        # --no-wait only signals.
        self.write(d, self.config(("a",)))
        r = support.run_logship(["reload", "--no-wait", "-c", d.config_path])
        self.assertEqual(r.returncode, 0)
        self.assertIn("its log reports the result", r.stdout.decode())
        support.wait_for(lambda: d.stderr().count('msg="reloaded"') == 2, timeout=30,
                         what="second reload")
        self.assertEqual(d.stop(), 0, d.stderr())

    def test_api_reload_answers_with_the_outcome(self):
        d = self.daemon(self.config()).start()
        port = admin_port(d)
        self.assertEqual(get(port, "/api/reload")[0], 405)
        # An invalid file: 422 with every error at its place; the old pipeline runs on.
        self.write(d, self.config().replace("type: generate", "type: generat"))
        status, body = self.post_reload(port)
        self.assertEqual(status, 422, body)
        outcome = json.loads(body)
        self.assertEqual((outcome["pid"], outcome["generation"], outcome["result"]),
                         (d.proc.pid, 1, "rejected"))
        line = next(i for i, l in enumerate(self.config().splitlines(), 1) if "type: generate" in l)
        self.assertEqual(len(outcome["errors"]), 1, outcome)
        self.assertTrue(outcome["errors"][0].startswith(f"{d.config_path}:{line}:"), outcome)
        self.assertIn("unknown input type 'generat'; did you mean 'generate'?", outcome["errors"][0])
        self.assertEqual(get(port, "/ready")[0], 200)
        # Fixed: 200 once the new pipeline runs (it is ready when the answer comes).
        self.write(d, self.config(("a", "c")))
        status, body = self.post_reload(port)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["result"], "reloaded")
        self.assertIn('msg="reloaded"', d.stderr())
        self.assertEqual(d.stop(), 0, d.stderr())

    def test_api_reload_can_be_turned_off(self):
        d = self.daemon(self.config(service="\n  http_reload: \"off\"")).start()
        port = admin_port(d)
        status, body = self.post_reload(port)
        self.assertEqual((status, body), (403, "reload over HTTP is off (service.http_reload)\n"))
        self.assertNotIn("reloading", d.stderr())
        self.assertEqual(d.stop(), 0, d.stderr())


if __name__ == "__main__":
    support.main()
