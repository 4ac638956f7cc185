"""The command line: validate, plugins, version, and stdin -> stdout through the real binary."""
import json
import os
import signal
import socket
import subprocess

import support


class CliTest(support.TestCase):
    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(text if isinstance(text, bytes) else text.encode())
        return path

    def test_validate_ok_and_error_exit_codes(self):
        good = self.write("good.yaml", "inputs:\n  g: {type: generate}\noutputs:\n  o: {type: null}\n")
        r = support.run_logship(["validate", "-c", good])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"OK (1 inputs, 0 processors, 1 outputs, 1 routes)", r.stdout)

        bad = self.write("bad.yaml", "inputs:\n  g:\n    type: generate\n    cuont: 3\noutputs:\n  o: {type: nul}\n")
        r = support.run_logship(["validate", "-c", bad])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.decode().splitlines(), [
            f"{bad}:4:5: inputs.g (generate): unknown option 'cuont'; did you mean 'count'?",
            f"{bad}:6:13: outputs.o: unknown output type 'nul'; did you mean 'null'?",
            f"2 error(s) in {bad}",
        ])

    def test_validate_print_shows_the_effective_config_without_secrets(self):
        secret = self.write("pw", "hunter2-but-longer\n")
        os.chmod(secret, 0o600)
        cfg = self.write("c.yaml", f"""
service:
  state_dir: ${{LOGSHIP_TEST_STATE}}/state
inputs:
  gen: {{type: generate, count: 10}}
outputs:
  es:
    type: elasticsearch
    hosts: [https://127.0.0.1:9200]
    username: admin
    password: ${{file:{secret}}}
    buffer: {{type: disk, max_size: 1GiB}}
  nothing: {{type: null}}
""")
        env = dict(os.environ, LOGSHIP_TEST_STATE=self.tmp)
        r = subprocess.run([support.LOGSHIP, "validate", "-c", cfg, "--print"], capture_output=True,
                           env=env, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertNotIn("hunter2", out)
        self.assertIn('password: "***"', out)
        self.assertIn(f"state_dir: {self.tmp}/state", out)      # ${ENV} expanded
        self.assertIn("queue_max_bytes: 8MiB", out)             # defaults filled in
        self.assertIn("tls_verify: true", out)
        self.assertIn("      max_size: 1GiB\n      when_full: block", out)
        self.assertIn('type: "null"', out)

        # Without secrets the printed config is a valid config meaning the same thing: printing
        # it again gives the same text.
        plain = self.write("plain.yaml", out.replace('password: "***"', 'password: ""'))
        r2 = subprocess.run([support.LOGSHIP, "validate", "-c", plain, "--print"],
                            capture_output=True, timeout=30)
        self.assertEqual(r2.returncode, 0, r2.stderr)
        self.assertEqual(r2.stdout.decode(), out.replace('password: "***"', 'password: ""'))

    def test_default_config_validates(self):
        r = support.run_logship(["validate"])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_garbage_configs_give_errors_not_crashes(self):
        cases = {
            "empty.yaml": b"",
            "binary.yaml": bytes(range(256)) * 4,
            "list.yaml": b"- a\n- b\n",
            "deep.yaml": b"inputs: " + b"[" * 500 + b"]" * 500 + b"\n",
            "tabs.yaml": b"inputs:\n\tg: {type: generate}\n",
            "missing.yaml": None,
        }
        for name, content in cases.items():
            path = self.write(name, content) if content is not None else os.path.join(self.tmp, name)
            r = support.run_logship(["validate", "-c", path])
            self.assertEqual(r.returncode, 1, f"{name}: {r.stderr}")
            self.assertTrue(r.stderr.strip(), name)
            r = support.run_logship(["run", "-c", path])
            self.assertEqual(r.returncode, 1, f"run {name}: {r.stderr}")

    def test_plugins_list_and_describe(self):
        r = support.run_logship(["plugins"])
        self.assertEqual(r.returncode, 0)
        lines = r.stdout.decode().splitlines()
        self.assertTrue(any(l.split()[:2] == ["output", "file"] for l in lines), lines)
        # An input and an output are both called file: --json wants one, named by kind.
        r = support.run_logship(["plugins", "describe", "file", "--json"])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"describe one of output/file, input/file", r.stderr)
        r = support.run_logship(["plugins", "describe", "output/file", "--json"])
        self.assertEqual(r.returncode, 0)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["kind"], "output")
        names = [o["name"] for o in doc["options"]]
        self.assertIn("max_size", names)
        max_size = next(o for o in doc["options"] if o["name"] == "max_size")
        self.assertEqual(max_size["default"], "100MiB")
        r = support.run_logship(["plugins", "describe", "fiel"])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"did you mean 'file'?", r.stderr)

    def test_version_and_unknown_command(self):
        r = support.run_logship(["--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.decode(), r"^logship \d+\.\d+\.\d+\n$")
        r = support.run_logship(["frobnicate"])
        self.assertEqual(r.returncode, 2)

    def test_stdin_to_stdout_raw_is_byte_exact(self):
        cfg = self.write("c.yaml", f"""
service: {{state_dir: {self.tmp}/state, exit_when_done: true}}
inputs:
  in: {{type: stdin}}
outputs:
  out: {{type: stdout, format: raw}}
""")
        lines = [f"line {i} \u00e9\u20ac \"q\" \\ tab\t".encode() for i in range(5000)]
        payload = b"\n".join(lines) + b"\nlast line without newline"
        r = support.run_logship(["run", "-c", cfg], input_bytes=payload, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, payload + b"\n")

    def test_stdin_to_stdout_json_escapes(self):
        cfg = self.write("c.yaml", f"""
service: {{state_dir: {self.tmp}/state, exit_when_done: true}}
inputs:
  in: {{type: stdin}}
outputs:
  out: {{type: stdout}}
""")
        r = support.run_logship(["run", "-c", cfg], input_bytes=b'a "quoted" \\ \x01 \xff\r\n', timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        rec = json.loads(r.stdout)
        self.assertEqual(rec["message"], 'a "quoted" \\ \x01 \ufffd')
        self.assertRegex(rec["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")


    def test_bare_logship_prints_usage_and_every_command_has_help(self):
        r = support.run_logship([])
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith(b"usage: logship <command>"), r.stderr)
        for command in ("run", "validate", "reload", "plugins", "dead-letters", "fsck", "top", "test"):
            r = support.run_logship([command, "--help"])
            self.assertEqual(r.returncode, 0, (command, r.stderr))
            self.assertTrue(r.stdout.startswith(f"usage: logship {command}".encode()), r.stdout)

    def test_config_from_the_environment_when_no_dash_c(self):
        cfg = self.write("env.yaml", "inputs:\n  g: {type: generate}\n  h: {type: generate}\n"
                                     "outputs:\n  o: {type: null}\n")
        env = dict(os.environ, LOGSHIP_CONFIG=cfg)
        r = subprocess.run([support.LOGSHIP, "validate"], capture_output=True, env=env, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode(), f"{cfg}: OK (2 inputs, 0 processors, 1 outputs, 1 routes)\n")
        # ${VAR:?message}: a required variable's message reaches the operator.
        req = self.write("req.yaml", "service:\n  state_dir: ${LOGSHIP_TEST_REQUIRED:?set it to the state dir}\n"
                                     "inputs:\n  g: {type: generate}\noutputs:\n  o: {type: null}\n")
        r = subprocess.run([support.LOGSHIP, "validate", "-c", req], capture_output=True,
                           env={k: v for k, v in os.environ.items() if k != "LOGSHIP_TEST_REQUIRED"},
                           timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"environment variable 'LOGSHIP_TEST_REQUIRED' is not set: set it to the state dir",
                      r.stderr)

    def test_systemd_readiness_reload_and_stopping_are_notified(self):
        sock_path = os.path.join(self.tmp, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sock_path)
        sock.settimeout(support.scaled(20))
        self.addCleanup(sock.close)
        cfg = f"""
service: {{state_dir: {self.tmp}/state, http_listen: ""}}
inputs:
  g: {{type: generate, rate: 10}}
outputs:
  o: {{type: null}}
"""
        d = support.Daemon(cfg, self.tmp, env={"NOTIFY_SOCKET": sock_path}).start()
        self.addCleanup(d.stop)
        self.assertEqual(sock.recv(4096), b"READY=1\nSTATUS=running")
        d.proc.send_signal(signal.SIGHUP)
        self.assertEqual(sock.recv(4096), b"RELOADING=1\nSTATUS=reloading")
        self.assertEqual(sock.recv(4096), b"READY=1\nSTATUS=running")
        self.assertEqual(d.stop(), 0, d.stderr())
        self.assertEqual(sock.recv(4096), b"STOPPING=1\nSTATUS=draining")


    def test_log_flags_make_logships_own_lines_json_at_the_level_asked(self):
        cfg = self.write("c.yaml", f"""
service: {{state_dir: {self.tmp}/state, exit_when_done: true, http_listen: ""}}
inputs:
  in: {{type: stdin}}
outputs:
  out: {{type: null}}
""")
        r = support.run_logship(["run", "-c", cfg, "--log-format", "json"],
                                input_bytes=b"one\ntwo\n", timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [json.loads(l) for l in r.stderr.decode().splitlines()]
        self.assertTrue(lines)
        first = lines[0]
        self.assertEqual((first["level"], first["component"], first["msg"]),
                         ("info", "daemon", "starting"))
        self.assertEqual(first["config"], cfg)
        self.assertEqual(first["config_from"], "-c")
        self.assertRegex(first["ts"], r"^\d{4}-\d\d-\d\dT")
        # --log-level over the config: at error, a clean run says nothing.
        r = support.run_logship(["run", "-c", cfg, "--log-level=error"], input_bytes=b"one\n",
                                timeout=60)
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        r = support.run_logship(["run", "-c", cfg, "--log-format", "xml"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--log-format takes logfmt or json, not 'xml'", r.stderr)

if __name__ == "__main__":
    support.main()
