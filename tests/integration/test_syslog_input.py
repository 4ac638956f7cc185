"""syslog input fed by real senders: util-linux `logger`, rsyslog forwarding (omfwd), a TLS
client, and misbehaving clients. logship writes JSON lines to a file output; every record is
checked field by field and counts are exact."""
import os
import random
import re
import socket
import ssl
import subprocess
import time

import support
from rsyslog_support import Rsyslog, free_port, make_certs


class SyslogInputTest(support.TestCase):
    def setUp(self):
        super().setUp()
        self.peers = []

    def tearDown(self):
        for p in self.peers:
            p.stop()
        super().tearDown()

    def logship(self, input_cfg=""):
        self.out_dir = os.path.join(self.tmp, "out")
        cfg = f"""
service:
  state_dir: {self.tmp}/state
inputs:
  sys:
    type: syslog
    tcp: "127.0.0.1:0"
    udp: "127.0.0.1:0"
{input_cfg}
outputs:
  file:
    type: file
    path: {self.out_dir}/events.log
    compress: false
"""
        d = self.daemon(cfg).start()
        m = support.wait_for(lambda: re.search(r"(?:tcp|tls)=127\.0\.0\.1:(\d+) udp=127\.0\.0\.1:(\d+)",
                                               d.stderr()), timeout=20, what="logship listening")
        d.tcp_port, d.udp_port = int(m.group(1)), int(m.group(2))
        return d

    def records(self):
        return support.read_file_output(self.out_dir)

    def wait_records(self, n, timeout=30):
        support.wait_for(lambda: len(self.records()) >= n, timeout=timeout,
                         what=f"{n} records (have {len(self.records())})")
        time.sleep(0.3)
        recs = self.records()
        self.assertEqual(len(recs), n, "exactly n, no duplicates")
        return recs

    def stop_summary(self, d):
        self.assertEqual(d.stop(), 0, d.stderr())
        m = re.search(r'msg="input stopped" input=sys (.*)', d.stderr())
        self.assertIsNotNone(m, d.stderr())
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}

    def logger(self, args, lines):
        subprocess.run(["logger"] + args, input="\n".join(lines).encode() + b"\n", check=True,
                       timeout=30)

    def test_logger_all_transports_and_formats(self):
        d = self.logship()
        host = socket.gethostname()
        variants = [
            ("tcp5424oc", ["--tcp", "--rfc5424", "--octet-count", "--msgid", "MSG42"], d.tcp_port),
            ("tcp5424lf", ["--tcp", "--rfc5424", "--msgid", "MSG42"], d.tcp_port),
            ("tcp3164", ["--tcp", "--rfc3164"], d.tcp_port),
            ("udp5424", ["--udp", "--rfc5424", "--msgid", "MSG42"], d.udp_port),
            ("udp3164", ["--udp", "--rfc3164"], d.udp_port),
        ]
        k = 20
        for name, args, port in variants:
            lines = [f"{name} line {i} grüße \"q\" [b]" for i in range(k)]
            self.logger(["--server", "127.0.0.1", "--port", str(port), "-t", f"app-{name}",
                         "--id=4242", "-p", "local0.warning"] + args, lines)
        recs = self.wait_records(k * len(variants))
        by_app = {}
        for r in recs:
            by_app.setdefault(r.get("appname"), []).append(r)
        for name, args, _ in variants:
            got = by_app.get(f"app-{name}", [])
            self.assertEqual(sorted(r["message"] for r in got),
                             sorted(f"{name} line {i} grüße \"q\" [b]" for i in range(k)), name)
            for r in got:
                self.assertEqual(r["facility"], "local0")
                self.assertEqual(r["severity"], "warning")
                self.assertEqual(r["procid"], "4242")
                self.assertEqual(r["hostname"], host)
                if "--rfc5424" in args:
                    self.assertEqual(r["msgid"], "MSG42")
                    self.assertEqual(r["sd.timeQuality.tzKnown"], "1")
                else:
                    self.assertNotIn("msgid", r)
        summary = self.stop_summary(d)
        self.assertEqual(summary["messages"], k * len(variants))
        self.assertEqual(summary["garbage"] + summary["oversized"] + summary["malformed"], 0)

    def test_rsyslog_forwarding_tcp_5424_and_udp_traditional(self):
        d = self.logship()
        in_port = free_port()
        rules = (f'action(type="omfwd" target="127.0.0.1" port="{d.tcp_port}" protocol="tcp" '
                 f'TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format") '
                 f'action(type="omfwd" target="127.0.0.1" port="{d.udp_port}" protocol="udp")')
        rs = Rsyslog(self.tmp, tcp_port=in_port, rules=rules).start()
        self.peers.append(rs)
        n = 50
        frames = []
        for i in range(n):
            m = (f'<{16 * 8 + 3}>1 2024-05-01T10:00:00.123456Z web-{i} shop 77 REQ '
                 f'[req@32473 id="{i}" note="a \\"b\\" \\]c"] message {i} ünïcode').encode()
            frames.append(str(len(m)).encode() + b" " + m)
        with socket.create_connection(("127.0.0.1", in_port), timeout=10) as s:
            s.sendall(b"".join(frames))
        recs = self.wait_records(2 * n)
        tcp = sorted((r for r in recs if "msgid" in r), key=lambda r: int(r["sd.req@32473.id"]))
        udp = [r for r in recs if "msgid" not in r]
        self.assertEqual(len(tcp), n)
        self.assertEqual(len(udp), n)
        for i, r in enumerate(tcp):
            self.assertEqual(r["hostname"], f"web-{i}")
            self.assertEqual(r["appname"], "shop")
            self.assertEqual(r["procid"], "77")
            self.assertEqual(r["msgid"], "REQ")
            self.assertEqual(r["facility"], "local0")
            self.assertEqual(r["severity"], "err")
            self.assertEqual(r["sd.req@32473.note"], 'a "b" ]c')
            self.assertEqual(r["message"], f"message {i} ünïcode")
            self.assertEqual(r["timestamp"], "2024-05-01T10:00:00.123456000Z")
        for r in udp:
            self.assertEqual(r["appname"], "shop")
            self.assertEqual(r["procid"], "77")
            self.assertEqual(r["severity"], "err")
            self.assertRegex(r["hostname"], r"^web-\d+$")
        self.assertEqual(sorted(r["message"] for r in udp),
                         sorted(f"message {i} ünïcode" for i in range(n)))
        self.assertEqual(self.stop_summary(d)["messages"], 2 * n)

    def test_rsyslog_forwarding_over_tls(self):
        """rsyslog's gtls driver as a TLS client, verifying logship's certificate by name."""
        certs = make_certs(os.path.join(self.tmp, "certs"))
        d = self.logship(f"    tls: true\n    tls_cert_file: {certs['cert']}\n"
                         f"    tls_key_file: {certs['key']}\n")
        in_port = free_port()
        rules = (f'action(type="omfwd" target="127.0.0.1" port="{d.tcp_port}" protocol="tcp" '
                 f'StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name" '
                 f'StreamDriverPermittedPeers="localhost" TCP_Framing="octet-counted" '
                 f'template="RSYSLOG_SyslogProtocol23Format")')
        rs = Rsyslog(self.tmp, tcp_port=in_port, rules=rules,
                     global_extra=[f'DefaultNetstreamDriverCAFile="{certs["ca"]}"']).start()
        self.peers.append(rs)
        n = 50
        frames = []
        for i in range(n):
            m = f'<{4 * 8 + 5}>1 - host-{i} auth - - [a@1 n="{i}"] tls message {i} ✓'.encode()
            frames.append(str(len(m)).encode() + b" " + m)
        with socket.create_connection(("127.0.0.1", in_port), timeout=10) as s:
            s.sendall(b"".join(frames))
        recs = sorted(self.wait_records(n), key=lambda r: int(r["sd.a@1.n"]))
        for i, r in enumerate(recs):
            self.assertEqual(r["message"], f"tls message {i} ✓")
            self.assertEqual(r["hostname"], f"host-{i}")
            self.assertEqual(r["appname"], "auth")
            self.assertEqual(r["facility"], "auth")
            self.assertEqual(r["severity"], "notice")
        rs.stop()
        summary = self.stop_summary(d)
        self.assertEqual(summary["messages"], n)
        self.assertEqual(summary["tls_failures"], 0)

    def test_bad_clients_counted_good_client_unaffected(self):
        d = self.logship("    max_message_size: 4KiB\n")
        rnd = random.Random(7)
        junk = bytes(rnd.randrange(256) for _ in range(20000)).replace(b"\n", b"")
        bad = []
        # 1: random bytes without a newline, longer than max_message_size -> oversized, closed.
        s1 = socket.create_connection(("127.0.0.1", d.tcp_port), timeout=10)
        s1.sendall(junk)
        bad.append(s1)
        # 2: an oversized octet-counted frame followed by a good one on the same connection.
        s2 = socket.create_connection(("127.0.0.1", d.tcp_port), timeout=10)
        big = b"<13>" + b"y" * 10000
        s2.sendall(str(len(big)).encode() + b" " + big + b"13 <13>after-big")
        bad.append(s2)
        # 3: half a frame, then close -> incomplete.
        s3 = socket.create_connection(("127.0.0.1", d.tcp_port), timeout=10)
        s3.sendall(b"100 <13>only part")
        s3.close()
        # 4: garbage lines (no <PRI>).
        s4 = socket.create_connection(("127.0.0.1", d.tcp_port), timeout=10)
        s4.sendall(b"hello\nnot syslog\n\x01\x02\x03\n")
        bad.append(s4)
        # UDP: a garbage datagram and an oversized one.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.sendto(b"\x00\xffjunk", ("127.0.0.1", d.udp_port))
            u.sendto(b"<13>" + b"z" * 5000, ("127.0.0.1", d.udp_port))
        # The good client, interleaved with the bad ones.
        n = 300
        with socket.create_connection(("127.0.0.1", d.tcp_port), timeout=10) as good:
            for i in range(n):
                m = f"<14>1 - h good - - - good {i}".encode()
                good.sendall(str(len(m)).encode() + b" " + m)
        recs = self.wait_records(n + 1)
        for s in bad:
            s.close()
        goods = [r["message"] for r in recs if r["message"].startswith("good ")]
        self.assertEqual(goods, [f"good {i}" for i in range(n)])
        self.assertIn("after-big", [r["message"] for r in recs])
        summary = self.stop_summary(d)
        self.assertEqual(summary["messages"], n + 1)
        self.assertEqual(summary["oversized"], 3)    # junk stream, big frame, big datagram
        self.assertEqual(summary["incomplete"], 1)
        self.assertEqual(summary["garbage"], 4)      # 3 garbage lines + 1 datagram

    def test_max_connections(self):
        d = self.logship("    max_connections: 2\n")
        a = socket.create_connection(("127.0.0.1", d.tcp_port), timeout=10)
        b = socket.create_connection(("127.0.0.1", d.tcp_port), timeout=10)
        time.sleep(0.3)
        c = socket.create_connection(("127.0.0.1", d.tcp_port), timeout=10)
        self.assertEqual(c.recv(10), b"", "the third connection is closed at once")
        c.close()
        a.sendall(b"<13>from a\n")
        b.sendall(b"<13>from b\n")
        a.close()
        b.close()
        recs = self.wait_records(2)
        self.assertEqual(sorted(r["message"] for r in recs), ["from a", "from b"])
        self.assertEqual(self.stop_summary(d)["rejected_connections"], 1)

    def test_tls_input(self):
        certs = make_certs(os.path.join(self.tmp, "certs"))
        d = self.logship(f"    tls: true\n    tls_cert_file: {certs['cert']}\n"
                         f"    tls_key_file: {certs['key']}\n")
        # A client speaking plain text to the TLS port fails its handshake and is counted.
        with socket.create_connection(("127.0.0.1", d.tcp_port), timeout=10) as plain:
            plain.sendall(b"<13>plain text\n")
            plain.settimeout(10)
            try:
                plain.recv(100)
            except OSError:
                pass
        ctx = ssl.create_default_context(cafile=certs["ca"])
        n = 100
        with socket.create_connection(("127.0.0.1", d.tcp_port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                for i in range(n):
                    m = f"<14>1 - h tls - - [x@1 k=\"v{i}\"] secure {i} ✓".encode()
                    s.sendall(str(len(m)).encode() + b" " + m)
                # An orderly end: FIN, then read the server's session tickets and its close.
                # (Closing with those unread sends a RST, and the receiving kernel may then
                # drop records the server has not read yet - true for any TLS receiver.)
                s.shutdown(socket.SHUT_WR)
                try:
                    while s.recv(4096):
                        pass
                except (ssl.SSLError, OSError):
                    pass
        recs = self.wait_records(n)
        self.assertEqual([r["message"] for r in recs], [f"secure {i} ✓" for i in range(n)])
        self.assertEqual([r["sd.x@1.k"] for r in recs], [f"v{i}" for i in range(n)])
        summary = self.stop_summary(d)
        self.assertEqual(summary["messages"], n)
        self.assertEqual(summary["tls_failures"], 1)

    def test_tls_input_requires_client_certificate_when_ca_given(self):
        certs = make_certs(os.path.join(self.tmp, "certs"))
        d = self.logship(f"    tls: true\n    tls_cert_file: {certs['cert']}\n"
                         f"    tls_key_file: {certs['key']}\n    tls_ca_file: {certs['ca']}\n")

        def send(with_cert, text):
            ctx = ssl.create_default_context(cafile=certs["ca"])
            if with_cert:
                # The test server certificate doubles as a client certificate (clientAuth).
                ctx.load_cert_chain(certs["cert"], certs["key"])
            with socket.create_connection(("127.0.0.1", d.tcp_port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    m = f"<14>1 - h app - - - {text}".encode()
                    s.sendall(str(len(m)).encode() + b" " + m)
                    s.shutdown(socket.SHUT_WR)
                    while s.recv(4096):
                        pass

        # TLS 1.3 finishes the client's side of the handshake before the server checks the
        # certificate, so the client may or may not see an error; the server must drop it.
        try:
            send(False, "anonymous")
        except (ssl.SSLError, OSError):
            pass
        send(True, "authenticated")
        recs = self.wait_records(1)
        self.assertEqual(recs[0]["message"], "authenticated")
        summary = self.stop_summary(d)
        self.assertEqual(summary["tls_failures"], 1)
        self.assertEqual(summary["messages"], 1)


if __name__ == "__main__":
    support.main()
