"""Multiline groups leave after flush_timeout of silence on inputs whose streams the input itself
never flushes on time: a syslog TCP connection that stays open and quiet, and stdin that stays
open. A log statement with its trace arrives as one event; a lone statement arrives alone; both
within flush_timeout plus a little, while the sender is still connected."""
import os
import re
import socket
import subprocess
import time
import urllib.request

import support

FLUSH_TIMEOUT_S = 0.5
SLACK_S = 1.5   # the flusher's pass, the file output's write and the test's polling

STATEMENT = "2024-05-01 10:00:05.412 ERROR 1 --- [nio-8080-exec-1] c.e.shop.OrderController : order 42 failed"
TRACE = [
    "java.lang.IllegalStateException: stock is empty",
    "\tat com.example.shop.Stock.take(Stock.java:88)",
    "\tat com.example.shop.OrderController.place(OrderController.java:42)",
]
LONE = "2024-05-01 10:00:06.001 ERROR 1 --- [nio-8080-exec-2] c.e.shop.OrderController : order 43 failed"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric(port, name):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return None
    m = re.search(r"^" + name + r"(?:\{[^}]*\})? (\d+)$", text, re.M)
    return int(m.group(1)) if m else None


def syslog_frame(msg):
    return f"<11>1 2024-05-01T10:00:05.412Z host shop 1 - - {msg}\n".encode()


class FlushTimeoutTest(support.TestCase):
    def config(self, input_cfg, out_dir):
        return f"""
service:
  state_dir: {self.tmp}/state
inputs:
{input_cfg}
processors:
  traces:
    type: multiline
    rules: auto
    flush_timeout: {int(FLUSH_TIMEOUT_S * 1000)}ms
outputs:
  file:
    type: file
    path: {out_dir}/events.log
    compress: false
routes:
  - processors: [traces]
    outputs: [file]
"""

    def wait_messages(self, out_dir, n, sent_at):
        recs = support.wait_for(
            lambda: (lambda r: r if len(r) >= n else None)(support.read_file_output(out_dir)),
            timeout=FLUSH_TIMEOUT_S + SLACK_S + 5, interval=0.02, what=f"{n} records")
        waited = time.monotonic() - sent_at
        self.assertGreaterEqual(waited, FLUSH_TIMEOUT_S - 0.05, "held for the flush timeout")
        self.assertLess(waited, FLUSH_TIMEOUT_S + SLACK_S, "flushed on time, not at disconnect")
        return [r["message"] for r in recs]

    def check_statement_trace_then_lone(self, send, out_dir):
        sent = time.monotonic()
        send([STATEMENT] + TRACE)
        self.assertEqual(self.wait_messages(out_dir, 1, sent), ["\n".join([STATEMENT] + TRACE)])
        sent = time.monotonic()
        send([LONE])
        msgs = self.wait_messages(out_dir, 2, sent)
        self.assertEqual(msgs, ["\n".join([STATEMENT] + TRACE), LONE])

    def test_syslog_tcp_connection_left_open(self):
        out_dir = os.path.join(self.tmp, "out")
        d = self.daemon(self.config('  sys: {type: syslog, tcp: "127.0.0.1:0"}', out_dir)).start()
        m = support.wait_for(lambda: re.search(r"tcp=127\.0\.0\.1:(\d+)", d.stderr()),
                             timeout=20, what="logship listening")
        with socket.create_connection(("127.0.0.1", int(m.group(1))), timeout=10) as s:
            self.check_statement_trace_then_lone(
                lambda lines: s.sendall(b"".join(syslog_frame(line) for line in lines)), out_dir)
            time.sleep(0.3)
            self.assertEqual(len(support.read_file_output(out_dir)), 2, "nothing more while open")
        self.assertEqual(d.stop(), 0, d.stderr())
        self.assertEqual(len(support.read_file_output(out_dir)), 2, "no duplicate at shutdown")

    def test_stdin_left_open(self):
        out_dir = os.path.join(self.tmp, "out")
        d = self.daemon(self.config("  in: {type: stdin}", out_dir), stdin=subprocess.PIPE).start()

        def send(lines):
            d.proc.stdin.write(("\n".join(lines) + "\n").encode())
            d.proc.stdin.flush()

        self.check_statement_trace_then_lone(send, out_dir)
        d.proc.stdin.close()
        self.assertEqual(d.stop(), 0, d.stderr())
        self.assertEqual(len(support.read_file_output(out_dir)), 2)

    def test_shutdown_flushes_an_open_group(self):
        """A statement and trace still inside their flush timeout at SIGTERM are delivered."""
        out_dir = os.path.join(self.tmp, "out")
        port = free_port()
        cfg = self.config('  sys: {type: syslog, tcp: "127.0.0.1:0"}', out_dir).replace(
            f"flush_timeout: {int(FLUSH_TIMEOUT_S * 1000)}ms", "flush_timeout: 1h").replace(
            "service:\n", f"service:\n  http_listen: 127.0.0.1:{port}\n")
        d = self.daemon(cfg).start()
        m = support.wait_for(lambda: re.search(r"tcp=127\.0\.0\.1:(\d+)", d.stderr()),
                             timeout=20, what="logship listening")
        with socket.create_connection(("127.0.0.1", int(m.group(1))), timeout=10) as s:
            s.sendall(b"".join(syslog_frame(line) for line in [STATEMENT] + TRACE))
            support.wait_for(lambda: metric(port, "logship_input_events_total") == 4, timeout=20,
                             what="the four lines read")
            self.assertEqual(support.read_file_output(out_dir), [], "held, not yet emitted")
            self.assertEqual(d.stop(), 0, d.stderr())
        self.assertEqual([r["message"] for r in support.read_file_output(out_dir)],
                         ["\n".join([STATEMENT] + TRACE)])

if __name__ == "__main__":
    support.main()
