"""Connection and thread budgets of the server inputs, against the real binary.

Hundreds of idle connections on the syslog TCP port and on the docker_plugin unix socket must
not lock other senders (or the engine) out, must not cost a thread each or spin the CPU, and are
closed after idle_timeout; the good data arrives exactly once and SIGTERM stops the daemon at
once. Run as root, syslog also listens on a port below 1024 after dropping to service.user."""
import json
import os
import pwd
import re
import signal
import socket
import subprocess
import tempfile
import shutil
import time

import support
import test_docker_plugin as dp

USER = "logship-test"
FLOOD = 300


def thread_count(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise AssertionError("no Threads line")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_share_over(pid, seconds):
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds


def tcp_connect(port, source="127.0.0.1"):
    """A connection kept non-blocking, so closed_by_peer() never waits."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    s.setblocking(False)
    return s


def closed_by_peer(sock):
    """True when the other side closed the connection (EOF or reset), False while it is open."""
    try:
        return sock.recv(1, socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def stop_promptly(test, d, limit=5.0):
    started = time.monotonic()
    test.assertEqual(d.stop(), 0, d.stderr()[-3000:])
    took = time.monotonic() - started
    test.assertLess(took, support.scaled(limit), f"SIGTERM took {took:.1f}s")


def ensure_user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        USER], check=True)
        return pwd.getpwnam(USER)


def free_privileged_port():
    """A port in 600..1000 free for both TCP and UDP on 127.0.0.1."""
    for port in range(600, 1000):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind(("127.0.0.1", port))
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise AssertionError("no free port in 600..1000")


class SyslogBudgetTest(support.TestCase):
    def start(self, input_cfg, service=""):
        self.out_dir = os.path.join(self.tmp, "out")
        cfg = f"""
service:
  state_dir: {self.tmp}/state
  drain_timeout: 5s{service}
inputs:
  sys:
    type: syslog
{input_cfg}
outputs:
  file:
    type: file
    path: {self.out_dir}/events.log
    compress: false
"""
        d = self.daemon(cfg).start()
        support.wait_for(lambda: 'msg="pipeline started"' in d.stderr() or not d.running(),
                         timeout=20, what="pipeline started")
        self.assertTrue(d.running(), d.stderr())
        return d

    def messages(self):
        return [r["message"] for r in support.read_file_output(self.out_dir)]

    def wait_messages(self, want):
        support.wait_for(lambda: len(self.messages()) >= len(want), timeout=support.scaled(30),
                         what=f"{len(want)} records (have {len(self.messages())})")
        time.sleep(0.3)
        got = self.messages()
        self.assertEqual(len(got), len(want), "nothing duplicated")
        self.assertEqual(sorted(got), sorted(want))

    def summary(self, d):
        m = re.search(r'msg="input stopped" input=sys (.*)', d.stderr())
        self.assertIsNotNone(m, d.stderr()[-3000:])
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}

    def test_idle_flood_from_one_address_neither_locks_others_out_nor_costs_threads(self):
        per_address, idle = 50, 3.0
        d = self.start(f'    tcp: "127.0.0.1:0"\n    max_connections_per_address: {per_address}\n'
                       f"    idle_timeout: {idle}s\n")
        port = int(re.search(r"tcp=127\.0\.0\.1:(\d+)", d.stderr()).group(1))
        pid = d.proc.pid
        threads_before = thread_count(pid)
        flood = [tcp_connect(port) for _ in range(FLOOD)]
        flooded_at = time.monotonic()
        # The daemon keeps per_address of them and closes the rest at once.
        support.wait_for(lambda: sum(closed_by_peer(s) for s in flood) == FLOOD - per_address,
                         timeout=10, what="connections over the per-address limit closed")
        self.assertLessEqual(thread_count(pid), threads_before, "no thread per connection")
        self.assertLess(cpu_share_over(pid, 1.0), 0.2, "idle connections must not spin the CPU")

        # Other senders get through while the flood is held: every line, once.
        want = []
        for k, source in enumerate(("127.0.0.2", "127.0.0.3")):
            s = socket.create_connection(("127.0.0.1", port), timeout=10,
                                         source_address=(source, 0))
            lines = [f"sender{k} line {i}" for i in range(1000)]
            s.sendall(b"".join(b"<13>" + l.encode() + b"\n" for l in lines))
            s.close()
            want += lines
        self.wait_messages(want)
        self.assertTrue(d.running())

        # The connections the daemon kept are closed after idle_timeout, not before.
        kept = [s for s in flood if not closed_by_peer(s)]
        self.assertEqual(len(kept), per_address)
        support.wait_for(lambda: all(closed_by_peer(s) for s in kept),
                         timeout=idle + 5, what="idle connections closed")
        self.assertGreater(time.monotonic() - flooded_at, idle - 0.5)
        for s in flood:
            s.close()
        stop_promptly(self, d)
        summary = self.summary(d)
        self.assertEqual(summary["rejected_per_address"], FLOOD - per_address)
        self.assertEqual(summary["rejected_connections"], 0)
        self.assertEqual(summary["idle_closed"], per_address)
        self.assertEqual(summary["messages"], len(want))

    def test_global_limit_still_applies_and_a_sender_gets_in_once_idle_ones_time_out(self):
        d = self.start('    tcp: "127.0.0.1:0"\n    max_connections: 20\n'
                       "    idle_timeout: 1500ms\n")
        port = int(re.search(r"tcp=127\.0\.0\.1:(\d+)", d.stderr()).group(1))
        flood = [tcp_connect(port, f"127.0.1.{i % 250 + 1}") for i in range(100)]
        support.wait_for(lambda: sum(closed_by_peer(s) for s in flood) == 80, timeout=10,
                         what="connections over max_connections closed")
        # After the idle ones time out, a sender is served again.
        support.wait_for(lambda: all(closed_by_peer(s) for s in flood), timeout=8,
                         what="idle connections closed")
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"<13>after the flood\n")
        s.close()
        self.wait_messages(["after the flood"])
        for f in flood:
            f.close()
        stop_promptly(self, d)
        summary = self.summary(d)
        self.assertEqual(summary["rejected_connections"], 80)
        self.assertEqual(summary["idle_closed"], 20)

    def test_privileged_port_is_bound_before_dropping_to_the_service_user(self):
        if os.geteuid() != 0:
            self.skipTest("binding a port below 1024 and switching users needs root")
        pw = ensure_user()
        os.chmod(self.tmp, 0o755)
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        os.chmod(out, 0o777)
        port = free_privileged_port()
        d = self.start(f'    tcp: "127.0.0.1:{port}"\n    udp: "127.0.0.1:{port}"\n',
                       service=f"\n  user: {USER}")
        self.assertIn("running as service.user", d.stderr())
        with open(f"/proc/{d.proc.pid}/status") as f:
            uid_line = next(l for l in f if l.startswith("Uid:"))
        self.assertEqual(uid_line.split()[1:], [str(pw.pw_uid)] * 4)

        def send(tag, n):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"".join(b"<13>%s tcp %d\n" % (tag, i) for i in range(n)))
            s.close()
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for i in range(n):
                u.sendto(b"<13>%s udp %d" % (tag, i), ("127.0.0.1", port))
            u.close()
            return [f"{tag.decode()} {proto} {i}" for proto in ("tcp", "udp") for i in range(n)]

        want = send(b"first", 100)
        self.wait_messages(want)
        # A reload cannot bind the port again (no privilege left): the socket bound at start
        # is handed to the new pipeline.
        d.proc.send_signal(signal.SIGHUP)
        support.wait_for(lambda: 'msg="reloaded"' in d.stderr(), timeout=30, what="reload")
        want += send(b"second", 100)
        self.wait_messages(want)

        def reload(text, count):
            with open(d.config_path, "w") as f:
                f.write(text)
            d.proc.send_signal(signal.SIGHUP)
            support.wait_for(lambda: d.stderr().count('msg="reloaded"') == count, timeout=30,
                             what=f"reload {count}")
        # Its settings change: the input restarts in place and leases the same sockets again.
        with open(d.config_path) as f:
            text = f.read()
        reload(text.replace("    type: syslog\n", "    type: syslog\n    max_message_size: 16KiB\n"), 2)
        self.assertIn("restarted_inputs=sys ", d.stderr())
        want += send(b"third", 100)
        self.wait_messages(want)
        # The input leaves the config: its privileged port is closed, not held.
        gone = re.sub(r"inputs:\n.*?\noutputs:", "inputs:\n  gen: {type: generate, rate: 1}\n"
                      "outputs:", text, flags=re.S)
        reload(gone, 3)
        self.assertIn("removed_inputs=sys ", d.stderr())
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=10).close()
        stop_promptly(self, d)


class PluginBudgetTest(support.TestCase):
    def setUp(self):
        super().setUp()
        self.sockdir = tempfile.mkdtemp(prefix="lsp-", dir="/tmp")
        self.addCleanup(shutil.rmtree, self.sockdir, True)
        self.sock = os.path.join(self.sockdir, "plugins", "logship.sock")
        self.out_dir = os.path.join(self.tmp, "out")

    def start(self, extra):
        cfg = f"""
service:
  state_dir: {self.tmp}/state
  drain_timeout: 5s
inputs:
  engine:
    type: docker_plugin
    socket: {self.sock}
{extra}
outputs:
  files:
    type: file
    path: {self.out_dir}/{{container_name}}.log
    compress: false
"""
        d = self.daemon(cfg).start()
        support.wait_for(lambda: os.path.exists(self.sock) or not d.running(), timeout=20,
                         what="plugin socket")
        self.assertTrue(d.running(), d.stderr())
        return d, dp.Engine(self.sock, os.path.join(self.tmp, "fifos"))

    def connect(self):
        # Blocking connect: a full backlog waits for the daemon's accept instead of EAGAIN.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        s.setblocking(False)
        return s

    def records(self, name):
        path = os.path.join(self.out_dir, f"{name}.log")
        return [json.loads(l)["message"] for l in support.read_lines(path)] \
            if os.path.exists(path) else []

    def test_idle_flood_and_open_follow_streams_do_not_starve_the_engine(self):
        streams, idle = 4, 3.0
        d, engine = self.start(f"    max_connections: 32\n    max_log_streams: {streams}\n"
                               f"    idle_timeout: {idle}s\n")
        pid = d.proc.pid
        # A container whose `docker logs -f` streams stay open throughout.
        a_id = "a" * 64
        a_path, a_writer = engine.start(a_id, "followed")
        a_writer.write(dp.frame(dp.encode_entry(b"before the streams", "stdout", 1)))
        threads_before = thread_count(pid)

        flood = [self.connect() for _ in range(FLOOD)]
        flooded_at = time.monotonic()
        time.sleep(0.5)
        self.assertLessEqual(thread_count(pid), threads_before, "no thread per connection")
        self.assertLess(cpu_share_over(pid, 1.0), 0.2, "idle connections must not spin the CPU")

        follows = []
        for _ in range(streams):
            conn, resp = engine.read_logs_request(a_id, follow=True)
            self.assertEqual(resp.status, 200)
            follows.append((conn, resp))
        conn, resp = engine.read_logs_request(a_id, follow=True)
        self.assertEqual(resp.status, 503, "one stream over max_log_streams is refused")
        conn.close()
        self.assertLessEqual(thread_count(pid), threads_before + streams)

        # StartLogging, every line, StopLogging: served while the flood and the streams are open.
        n = 3000
        b_path, b_writer = engine.start("b" * 64, "busy")
        want = [f"busy line {i}" for i in range(n)]
        for i, line in enumerate(want):
            self.assertTrue(b_writer.write(dp.frame(dp.encode_entry(line.encode(), "stdout",
                                                                    1_700_000_000 + i))))
        engine.stop(b_path, b_writer)
        support.wait_for(lambda: len(self.records("busy")) >= n, timeout=support.scaled(30),
                         what="the busy container's lines")
        time.sleep(0.3)
        self.assertEqual(self.records("busy"), want, "every line once, in order")

        # The followers got the followed container's lines too, and end when it stops.
        a_writer.write(dp.frame(dp.encode_entry(b"while followed", "stdout", 2)))
        engine.stop(a_path, a_writer)
        for conn, resp in follows:
            lines = [e["line"] for e in dp.decode_stream(resp.read())]
            # ReadLogs gives each line its newline back, as the engine's json-file reader does.
            self.assertEqual(lines, [b"before the streams\n", b"while followed\n"])
            conn.close()

        # Every flood connection is gone by idle_timeout (most were closed earlier to make
        # room for the engine's), and the daemon is still serving.
        support.wait_for(lambda: all(closed_by_peer(s) for s in flood), timeout=idle + 5,
                         what="idle connections closed")
        self.assertGreater(time.monotonic() - flooded_at, idle - 0.5)
        for s in flood:
            s.close()
        self.assertEqual(engine.call("/Plugin.Activate"), (200, {"Implements": ["LogDriver"]}))
        self.assertLessEqual(thread_count(pid), threads_before + 1)
        stop_promptly(self, d)

    def test_sigterm_with_open_streams_and_idle_connections_is_prompt(self):
        d, engine = self.start("    idle_timeout: 60s\n")
        cid = "c" * 64
        path, writer = engine.start(cid, "held")
        writer.write(dp.frame(dp.encode_entry(b"one line", "stdout", 1)))
        support.wait_for(lambda: self.records("held") == ["one line"], timeout=20,
                         what="the line delivered")
        flood = [self.connect() for _ in range(FLOOD)]
        conn, resp = engine.read_logs_request(cid, follow=True)
        self.assertEqual(resp.status, 200)
        stop_promptly(self, d)
        conn.close()
        for s in flood:
            s.close()
        writer.close()


if __name__ == "__main__":
    support.main()
