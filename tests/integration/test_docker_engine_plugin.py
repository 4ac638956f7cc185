"""The logship log-driver plugin installed the way Docker installs it, on a real engine (dockerd 20.10
from Debian, the `dockerd` fixture): build-plugin.sh makes the rootfs from the built binary with
no registry and no network, `docker plugin create` + `enable` with the shipped config.json, then
containers run with `--log-driver`.

`docker logs` through the plugin is compared byte for byte with `docker logs` of the same program
under the default json-file driver, for every way of calling it.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import docker_support
import support

PLUGIN = "logship-test"
SEQ_RE = re.compile(r"^c=(\S+) seq=(\d+) ")
TS_RE = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ")

# Everything a log line can be: empty lines, both streams, lines of 16 KiB and more (the engine
# cuts them into partial entries), exactly 16 KiB and 32 KiB (a cut at the very end), and a last
# line without newline. A pause between the halves gives --since/--until a boundary.
PROGRAM = r"""
echo first; echo; sleep 0.1; echo "to stderr" >&2; sleep 0.1; echo ""; printf 'tab\there\n'
printf 'u:%s\n' "$(printf '\303\251\342\202\254')"
i=0; while [ $i -lt 20 ]; do echo "line $i"; i=$((i+1)); done
head -c 20000 /dev/zero | tr '\0' a; echo
head -c 16384 /dev/zero | tr '\0' b; echo
head -c 32768 /dev/zero | tr '\0' c; echo
sleep 0.1; head -c 50000 /dev/zero | tr '\0' d >&2; echo >&2
sleep 1.2
echo second-half; sleep 0.1; echo "err 2" >&2; sleep 0.1
i=0; while [ $i -lt 5 ]; do echo "tail $i"; i=$((i+1)); done
printf 'no newline at the end'
"""
# The engine copies stdout and stderr in two goroutines, so the order of entries of different
# streams written within microseconds differs from run to run (in the json-file log too); the
# pauses make it one order, so that --tail (which counts entries of both streams) is comparable.


def normalise_ts(data):
    return TS_RE.sub(b"TS ", data)


def first_difference(a, b):
    """A short description of where two byte strings differ (never the whole strings)."""
    i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    return (f"lengths {len(a)} and {len(b)}, first difference at byte {i}: "
            f"{a[max(0, i - 40):i + 40]!r} vs {b[max(0, i - 40):i + 40]!r}")


class DockerEnginePluginTest(support.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.engine = docker_support.Engine()
        cls.engine.check()
        cls.data = tempfile.mkdtemp(prefix="logship-plugin-data-")
        env = dict(cls.engine.env, DOCKER=docker_support.DOCKER)
        script = os.path.join(support.SOURCE_DIR, "packaging/docker-plugin/build-plugin.sh")
        r = subprocess.run(["bash", script, "--name", PLUGIN, "--binary", support.LOGSHIP,
                            "--no-network"], env=env, capture_output=True, timeout=300)
        assert r.returncode == 0, f"build-plugin.sh failed: {r.stdout.decode()}{r.stderr.decode()}"
        cls.engine.docker("plugin", "set", PLUGIN, f"data.source={cls.data}")
        cls.engine.docker("plugin", "enable", PLUGIN, timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.engine.docker("plugin", "disable", "-f", PLUGIN, check=False)
        cls.engine.docker("plugin", "rm", "-f", PLUGIN, check=False)
        shutil.rmtree(cls.data, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.containers = []

    def tearDown(self):
        self.engine.rm(*self.containers)
        super().tearDown()

    def run_container(self, script, *opts, plugin=True):
        driver = ["--log-driver", PLUGIN] if plugin else []
        cid = self.engine.run(script, *driver, *opts)
        self.containers.append(cid)
        return cid

    def records(self, name):
        out = os.path.join(self.data, "logs", name)
        return support.read_file_output(out) if os.path.isdir(out) else []

    def seqs(self, name):
        got = []
        for r in self.records(name):
            m = SEQ_RE.match(r.get("message", ""))
            if m:
                got.append(int(m.group(2)))
        return got

    def assert_exact(self, name, n, timeout=60):
        support.wait_for(lambda: len(self.seqs(name)) >= n, timeout=support.scaled(timeout),
                         interval=0.2, what=f"{n} lines of {name}")
        time.sleep(0.5)
        seqs = self.seqs(name)
        self.assertEqual(sorted(seqs), list(range(n)), f"{name}: lost or duplicated lines")

    def plugin_pid(self):
        r = subprocess.run(["pgrep", "-f", "logship run -c /etc/logship/plugin.yaml"],
                           capture_output=True, timeout=10)
        pids = r.stdout.split()
        return int(pids[0]) if pids else None

    # ------------------------------------------------------------------------------------------

    def test_enabled_plugin_delivers_every_line_once_and_runs_with_engine_defaults(self):
        names = [f"pl{i}" for i in range(2)]
        cids = [self.run_container(docker_support.numbered_lines_script(n, 5000), "--name", n)
                for n in names]
        for cid in cids:
            self.assertEqual(self.engine.wait(cid), 0)
        for n in names:
            self.assert_exact(n, 5000)
        rec = self.records("pl0")[0]
        self.assertEqual(rec["container_id"], cids[0])
        self.assertEqual(rec["container_name"], "pl0")
        self.assertEqual(rec["stream"], "stdout")
        # It runs as root inside the plugin with what the engine gives, and kept nothing more.
        pid = self.plugin_pid()
        self.assertIsNotNone(pid)
        with open(f"/proc/{pid}/status") as f:
            status = dict(l.split(":\t", 1) for l in f.read().splitlines() if ":\t" in l)
        self.assertEqual(int(status["CapEff"], 16), 0, status["CapEff"])
        self.assertEqual(int(status["CapPrm"], 16), 0, status["CapPrm"])
        self.assertEqual(status["NoNewPrivs"].strip(), "1")

    def assert_same(self, got, want, what):
        """got and want: (stdout, stderr) pairs."""
        for g, w, stream in zip(got, want, ("stdout", "stderr")):
            if g != w:
                self.fail(f"{what}, {stream}: {first_difference(g, w)}")

    def _logs_both(self, *opts):
        return [self.engine.logs(c, *opts) for c in (self.json_cid, self.plugin_cid)]

    def test_docker_logs_is_byte_identical_to_json_file(self):
        self.json_cid = self.run_container(PROGRAM, plugin=False)
        self.plugin_cid = self.run_container(PROGRAM)
        self.assertEqual(self.engine.wait(self.json_cid), 0)
        self.assertEqual(self.engine.wait(self.plugin_cid), 0)
        json_file, plugin = self._logs_both()
        self.assertIn(b"no newline at the end", json_file[0])
        self.assert_same(plugin, json_file, "docker logs")
        for tail in ("1", "3", "8", "10", "12", "20", "0", "all"):
            json_file, plugin = self._logs_both("--tail", tail)
            self.assert_same(plugin, json_file, f"--tail {tail}")
        # --timestamps: one timestamp per entry the engine logged (16 KiB chunks included).
        json_file, plugin = self._logs_both("--timestamps")
        self.assert_same([normalise_ts(x) for x in plugin], [normalise_ts(x) for x in json_file],
                         "--timestamps")
        self.assertEqual(len(TS_RE.findall(plugin[0])), len(TS_RE.findall(json_file[0])))
        # --since / --until at each run's own boundary (the first line after the pause).
        bounds = []
        for cid in (self.json_cid, self.plugin_cid):
            out, _ = self.engine.logs(cid, "--timestamps")
            m = re.search(rb"\n(\S+) second-half\n", out)
            self.assertIsNotNone(m, "no second-half line")
            bounds.append(m.group(1).decode())
        for flag in ("--since", "--until"):
            json_file, plugin = [self.engine.logs(c, flag, b) for c, b in
                                 zip((self.json_cid, self.plugin_cid), bounds)]
            self.assert_same(plugin, json_file, flag)
            self.assertLess(len(json_file[0]), len(self._logs_both()[0][0]), flag)
        # What was shipped: every line once, the long ones whole.
        recs = self.records(self.engine.inspect(self.plugin_cid)["Name"].lstrip("/"))
        msgs = [r["message"] for r in recs]
        self.assertEqual(msgs.count("first"), 1)
        self.assertIn("a" * 20000, msgs)
        self.assertIn("b" * 16384, msgs)
        self.assertIn("c" * 32768, msgs)
        self.assertIn("d" * 50000, msgs)
        self.assertEqual(msgs[-1], "no newline at the end")

    def test_follow_streams_like_json_file(self):
        prog = "i=0; while [ $i -lt 30 ]; do echo \"follow $i\"; i=$((i+1)); sleep 0.05; done; echo end >&2"
        outs = []
        for plugin in (False, True):
            cid = self.run_container(prog, plugin=plugin)
            p = subprocess.Popen([docker_support.DOCKER, "logs", "--follow", cid],
                                 env=self.engine.env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            try:
                out, err = p.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                raise AssertionError("docker logs --follow did not end when the container exited")
            self.assertEqual(p.returncode, 0)
            outs.append((out, err))
        self.assertEqual(outs[1], outs[0])
        self.assertEqual(outs[0][0], b"".join(b"follow %d\n" % i for i in range(30)))

    def test_log_opts_arrive_as_labels_and_non_blocking_mode(self):
        cid = self.run_container(docker_support.numbered_lines_script("opts", 2000), "--name", "opts",
                                 "--label", "team=blue", "--log-opt", "logship-parser=none",
                                 "--log-opt", "logship-env=prod", "--log-opt", "mode=non-blocking",
                                 "--log-opt", "max-buffer-size=4m")
        self.assertEqual(self.engine.wait(cid), 0)
        self.assert_exact("opts", 2000)
        labels = self.records("opts")[0]["labels"]
        self.assertEqual(labels.get("logship.env"), "prod")
        self.assertEqual(labels.get("team"), "blue")

    def test_plugin_killed_or_disabled_loses_nothing_and_keeps_history(self):
        # SIGKILL while the container pauses between two bursts: what was spooled is delivered,
        # the restarted plugin (the engine restarts it) reopens the container's FIFO, and the
        # second burst arrives too. (A write the engine makes while no plugin process reads the
        # FIFO fails in the engine with EPIPE and is dropped there: tests/RELIABILITY.md.)
        n = 2000
        prog = (docker_support.numbered_lines_script("survive", n // 2) + "; sleep 6; " +
                docker_support.numbered_lines_script("survive", n // 2, start=n // 2))
        cid = self.run_container(prog, "--name", "survive")
        support.wait_for(lambda: len(self.seqs("survive")) >= n // 2, timeout=30,
                         what="first burst delivered")
        time.sleep(2.5)   # the delivered position is checkpointed (every second)
        pid = self.plugin_pid()
        os.kill(pid, signal.SIGKILL)
        support.wait_for(lambda: self.plugin_pid() not in (None, pid), timeout=30,
                         what="the engine restarting the plugin")
        self.assertEqual(self.engine.wait(cid), 0)
        self.assert_exact("survive", n)
        before, _ = self.engine.logs(cid)
        self.assertEqual(before.count(b"\n"), n)
        # Disabled and enabled again: docker logs still serves the whole history from the spool.
        self.engine.docker("plugin", "disable", "-f", PLUGIN, timeout=60)
        self.engine.docker("plugin", "enable", PLUGIN, timeout=60)
        after, _ = self.engine.logs(cid)
        self.assertEqual(after, before)
        self.assert_exact("survive", n)


class OneBinaryBothModesTest(support.TestCase):
    """One logship process on the host with a `docker` input (json-file logs) and a
    `docker_plugin` input (a legacy plugin: the engine finds its socket in /run/docker/plugins)
    at once: each container's lines arrive once, through the input that matches its driver."""

    @classmethod
    def setUpClass(cls):
        cls.engine = docker_support.Engine()
        cls.engine.check()

    def test_docker_and_docker_plugin_inputs_in_one_process(self):
        name = f"logship-both-{os.getpid()}"
        os.makedirs("/run/docker/plugins", exist_ok=True)
        sock = f"/run/docker/plugins/{name}.sock"
        out = os.path.join(self.tmp, "out")
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
inputs:
  files:
    type: docker
    docker_root: {self.engine.data_root}
    rescan_interval: 200ms
  driver:
    type: docker_plugin
    socket: {sock}
outputs:
  archive:
    type: file
    path: {out}/{{input}}/{{container_name}}.log
""").start()
        cids = []
        try:
            support.wait_for(lambda: os.path.exists(sock), timeout=10, what="plugin socket")
            cids.append(self.engine.run(docker_support.numbered_lines_script("viafile", 2000),
                                        "--name", f"viafile-{os.getpid()}"))
            cids.append(self.engine.run(docker_support.numbered_lines_script("viadriver", 2000),
                                        "--name", f"viadriver-{os.getpid()}",
                                        "--log-driver", name))
            for cid in cids:
                self.assertEqual(self.engine.wait(cid), 0)

            def seqs():
                got = {}
                for r in support.read_file_output(out) if os.path.isdir(out) else []:
                    m = SEQ_RE.match(r.get("message", ""))
                    if m:
                        got.setdefault((r["input"] if "input" in r else "", m.group(1)),
                                       []).append(int(m.group(2)))
                return got
            support.wait_for(lambda: sum(len(v) for v in seqs().values()) >= 4000,
                             timeout=support.scaled(60), interval=0.2, what="both containers")
            time.sleep(0.5)
            got = {k[1]: sorted(v) for k, v in seqs().items()}
            self.assertEqual(got, {"viafile": list(range(2000)), "viadriver": list(range(2000))})
            self.assertTrue(os.path.isdir(os.path.join(out, "files")))
            self.assertTrue(os.path.isdir(os.path.join(out, "driver")))
            self.assertEqual(sorted(os.listdir(os.path.join(out, "driver"))),
                             [f"viadriver-{os.getpid()}.log"])
        finally:
            self.engine.rm(*cids)
            self.assertEqual(d.stop(), 0)
            if os.path.exists(sock):
                os.unlink(sock)


if __name__ == "__main__":
    support.main()
