"""syslog output against a real rsyslogd receiver (imtcp, imudp, imtcp+gtls, imrelp).

Messages enter logship through its syslog input (octet-counted TCP from this test), so events
carry fields (appname, procid, msgid, severity, sd.*) and a source tag (source_address); the
syslog output under test maps them to the header and STRUCTURED-DATA and rsyslog writes what it
parsed with a '|'-separated template. Every message is checked field by field.
"""
import re
import socket
import time

import support
from rsyslog_support import RelpRsyslog, Rsyslog, free_port, make_certs

N = 200
# kill -9 restart tests: fast enough that deliveries are always in flight when rsyslog dies.
TOTAL_KILL, RATE_KILL = 20000, 5000
BOM = "\ufeff"
SD_USER_RAW = 'bob \\"the\\" \\]builder\\\\'     # as escaped on the wire
MSG = 'msg {i} grüße 🚀 "q" [b] \\ end'


def input_frame(i, message=None):
    sev = i % 8
    text = MSG.format(i=i) if message is None else message
    m = (f'<{8 + sev}>1 2024-05-01T10:00:00Z h app-{i} {100 + i} ID{i} '
         f'[meta@32473 user="{SD_USER_RAW}"] {text}').encode()
    return str(len(m)).encode() + b" " + m


class SyslogOutputTest(support.TestCase):
    def setUp(self):
        super().setUp()
        self.peers = []

    def tearDown(self):
        for p in self.peers:
            p.stop()
        super().tearDown()

    def rsyslog(self, **kw):
        r = Rsyslog(self.tmp, **kw)
        self.peers.append(r)
        return r.start()

    def logship(self, output_cfg, name="logship"):
        cfg = f"""
service:
  state_dir: {self.tmp}/state-{name}
  retry_initial: 50ms
  retry_max: 500ms
inputs:
  sys:
    type: syslog
    tcp: "127.0.0.1:0"
outputs:
  out:
    type: syslog
    hostname: node-7
    app_name: "{{appname}}"
    procid: "{{procid}}"
    msgid: "{{msgid}}"
    severity_field: severity
    facility: local3
    sd_fields: ["sd.meta@32473.user"]
{output_cfg}
"""
        d = self.daemon(cfg, name=name).start()
        m = support.wait_for(lambda: re.search(r"tcp=127\.0\.0\.1:(\d+)", d.stderr()), timeout=20,
                             what="logship listening")
        d.input_port = int(m.group(1))
        return d

    def send(self, d, frames):
        with socket.create_connection(("127.0.0.1", d.input_port), timeout=10) as s:
            s.sendall(b"".join(frames))

    def stop_and_summary(self, d):
        self.assertEqual(d.stop(), 0, d.stderr())
        m = re.search(r'msg="output stopped" output=out sent=(\d+) truncated=(\d+) '
                      r'connect_failures=(\d+) write_failures=(\d+)', d.stderr())
        self.assertIsNotNone(m, d.stderr())
        return dict(zip(["sent", "truncated", "connect_failures", "write_failures"],
                        map(int, m.groups())))

    def check_5424(self, records, n, msg=lambda i: BOM + MSG.format(i=i)):
        self.assertEqual(len(records), n)
        for i, r in enumerate(records):
            self.assertEqual(r["pri"], str(19 * 8 + i % 8))
            self.assertEqual(r["version"], "1")
            self.assertEqual(r["hostname"], "node-7")
            self.assertEqual(r["app"], f"app-{i}")
            self.assertEqual(r["procid"], str(100 + i))
            self.assertEqual(r["msgid"], f"ID{i}")
            self.assertRegex(r["sd"], r'^\[logship@32473 source_address="127\.0\.0\.1:\d+" '
                             + re.escape(f'sd.meta@32473.user="{SD_USER_RAW}"]') + "$")
            self.assertEqual(r["msg"], msg(i))

    def check_3164(self, records, n):
        self.assertEqual(len(records), n)
        for i, r in enumerate(records):
            self.assertEqual(r["pri"], str(19 * 8 + i % 8))
            self.assertEqual(r["hostname"], "node-7")
            self.assertEqual(r["app"], f"app-{i}")
            self.assertEqual(r["procid"], str(100 + i))
            self.assertEqual(r["msgid"], "-")
            self.assertEqual(r["sd"], "-")
            # rsyslog keeps the space after "TAG:" in %msg% for BSD messages.
            self.assertEqual(r["msg"], " " + MSG.format(i=i))

    def run_case(self, transport, fmt, framing="octet-counting", tls=None, n=N, extra=""):
        port = free_port()
        kw = {"udp_port": port} if transport == "udp" else {"tcp_port": port}
        rs = self.rsyslog(tls=tls, **kw)
        cfg = f"    port: {port}\n    transport: {transport}\n    format: {fmt}\n"
        if transport != "udp":
            cfg += f"    framing: {framing}\n"
        if tls:
            cfg += f"    tls_ca_file: {tls['ca']}\n"
        d = self.logship(cfg + extra)
        self.send(d, [input_frame(i) for i in range(n)])
        rs.wait_lines(n)
        summary = self.stop_and_summary(d)
        self.assertEqual(summary["sent"], n)
        self.assertEqual(summary["truncated"], 0)
        self.assertEqual(len(rs.lines()), n, "no duplicates")
        return rs.records()

    def test_dead_letters_replayed_through_the_syslog_output_arrive_once(self):
        # Dead-letter lines as the format documents them (daemon/core/dead_letter_record.h),
        # written by hand: events of a syslog input, one with labels and a tag.
        import json
        import os
        n = 50
        path = os.path.join(self.tmp, "out.ndjson")
        with open(path, "w") as f:
            for i in range(n):
                event = {"timestamp": f"2024-05-01T10:00:{i % 60:02d}.5Z", "message": f"replayed {i}"}
                tags = 0
                if i % 2:
                    event["source_address"] = "10.0.0.9:514"
                    tags = 1
                event.update({"appname": f"app-{i}", "procid": str(100 + i), "msgid": f"ID{i}"})
                f.write(json.dumps({"output": "archive", "error": "rejected", "reason": "x",
                                    "event": event,
                                    "meta": {"input": "sys", "key": "syslog:tcp", "offset": i,
                                             "flags": 0, "tags": tags, "labels": 0}}) + "\n")
        port = free_port()
        rs = self.rsyslog(tcp_port=port)
        cfg = os.path.join(self.tmp, "replay.yaml")
        with open(cfg, "w") as f:
            f.write(f"""
service:
  state_dir: {self.tmp}/state
inputs:
  sys:
    type: syslog
    tcp: "127.0.0.1:0"
outputs:
  out:
    type: syslog
    hostname: node-7
    app_name: "{{appname}}"
    procid: "{{procid}}"
    msgid: "{{msgid}}"
    port: {port}
    transport: tcp
    format: rfc5424
""")
        r = support.run_logship(["dead-letters", "replay", path, "--output", "out", "-c", cfg],
                                timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        self.assertIn(f"{n} delivered through out, 0 rejected again", r.stdout.decode())
        self.assertFalse(os.path.exists(path))
        rs.wait_lines(n)
        recs = rs.records()
        self.assertEqual(len(recs), n, "each once")
        for i, rec in enumerate(recs):
            self.assertEqual((rec["hostname"], rec["app"], rec["procid"], rec["msgid"]),
                             ("node-7", f"app-{i}", str(100 + i), f"ID{i}"))
            self.assertEqual(rec["msg"], BOM + f"replayed {i}")
            if i % 2:
                self.assertIn('source_address="10.0.0.9:514"', rec["sd"])

    def test_tcp_rfc5424_octet_counting(self):
        self.check_5424(self.run_case("tcp", "rfc5424"), N)

    def test_tcp_rfc5424_lf_framing(self):
        self.check_5424(self.run_case("tcp", "rfc5424", framing="lf"), N)

    def test_tcp_rfc3164(self):
        self.check_3164(self.run_case("tcp", "rfc3164", framing="lf"), N)

    def test_udp_rfc5424(self):
        self.check_5424(self.run_case("udp", "rfc5424"), N)

    def test_udp_rfc3164(self):
        self.check_3164(self.run_case("udp", "rfc3164"), N)

    def test_tls_rfc5424(self):
        certs = make_certs(self.tmp + "/certs")
        self.check_5424(self.run_case("tls", "rfc5424", tls=certs), N)

    def run_relp_case(self, fmt, tls=None, n=N):
        """Exactly n messages over RELP to imrelp, each acknowledged once (sent counts 200s)."""
        port = free_port()
        rs = RelpRsyslog(self.tmp, port, tls=tls)
        self.peers.append(rs)
        rs.start()
        cfg = f"    port: {port}\n    transport: {'relp+tls' if tls else 'relp'}\n" \
              f"    format: {fmt}\n    window_size: 16\n"
        if tls:
            # imrelp wants a client certificate: the test CA's (clientAuth) one will do.
            cfg += (f"    tls_ca_file: {tls['ca']}\n    tls_cert_file: {tls['cert']}\n"
                    f"    tls_key_file: {tls['key']}\n")
        d = self.logship(cfg)
        self.send(d, [input_frame(i) for i in range(n)])
        rs.wait_lines(n)
        self.assertIn("transport=relp", d.stderr())
        summary = self.stop_and_summary(d)
        self.assertEqual(summary["sent"], n)
        self.assertEqual(summary["truncated"], 0)
        self.assertEqual(summary["write_failures"], 0)
        self.assertEqual(summary["connect_failures"], 0)
        self.assertIn("relp_refused=0 relp_protocol_errors=0", d.stderr())
        self.assertEqual(len(rs.lines()), n, "no duplicates")
        return rs.records()

    def test_relp_rfc5424(self):
        self.check_5424(self.run_relp_case("rfc5424"), N)

    def test_relp_rfc3164(self):
        self.check_3164(self.run_relp_case("rfc3164"), N)

    def test_relp_tls_rfc5424(self):
        certs = make_certs(self.tmp + "/certs")
        self.check_5424(self.run_relp_case("rfc5424", tls=certs), N)

    def test_relp_embedded_newline_is_carried(self):
        """RELP frames by length: a newline inside a message arrives as one message."""
        port = free_port()
        rs = RelpRsyslog(self.tmp, port)
        self.peers.append(rs)
        rs.start()
        d = self.logship(f"    port: {port}\n    transport: relp\n    bom: false\n")
        self.send(d, [input_frame(0, "line1\nline2"), input_frame(1, "after")])
        rs.wait_lines(2)
        self.assertEqual(self.stop_and_summary(d)["sent"], 2)
        self.assertEqual([r["msg"] for r in rs.records()], ["line1#012line2", "after"])

    def test_relp_tls_wrong_ca_fails(self):
        certs = make_certs(self.tmp + "/certs")
        other = make_certs(self.tmp + "/other", name="other")
        port = free_port()
        rs = RelpRsyslog(self.tmp, port, tls=certs)
        self.peers.append(rs)
        rs.start()
        d = self.logship(f"    port: {port}\n    transport: relp+tls\n"
                         f"    tls_ca_file: {other['ca']}\n    tls_cert_file: {certs['cert']}\n"
                         f"    tls_key_file: {certs['key']}\n")
        self.send(d, [input_frame(i) for i in range(5)])
        support.wait_for(lambda: len(re.findall(r"delivery failed; will retry", d.stderr())) >= 2,
                         timeout=30, what="two failed deliveries")
        self.assertIn("certificate verify failed", d.stderr())
        time.sleep(0.5)
        self.assertEqual(rs.lines(), [], "nothing may reach an unverified server")
        self.assertEqual(self.stop_and_summary(d)["sent"], 0)

    def test_embedded_newline_octet_counting_vs_lf(self):
        """Octet counting carries a newline inside one message (rsyslog shows it as #012); LF
        framing would split it, so the output turns it into a space."""
        for framing, expected in (("octet-counting", "line1#012line2"), ("lf", "line1 line2")):
            with self.subTest(framing=framing):
                port = free_port()
                rs = Rsyslog(self.tmp, name=f"rs-{framing}", tcp_port=port).start()
                self.peers.append(rs)
                d = self.logship(f"    port: {port}\n    framing: {framing}\n    bom: false\n",
                                 name=f"ls-{framing}")
                self.send(d, [input_frame(0, "line1\nline2"), input_frame(1, "after")])
                rs.wait_lines(2)
                self.assertEqual(self.stop_and_summary(d)["sent"], 2)
                recs = rs.records()
                self.assertEqual([r["msg"] for r in recs], [expected, "after"])

    def test_udp_truncation_counted(self):
        port = free_port()
        rs = self.rsyslog(udp_port=port)
        d = self.logship(f"    port: {port}\n    transport: udp\n    max_message_size: 600\n"
                         "    bom: false\n")
        self.send(d, [input_frame(0, "x" * 3000), input_frame(1, "short")])
        rs.wait_lines(2)
        summary = self.stop_and_summary(d)
        self.assertEqual(summary["sent"], 2)
        self.assertEqual(summary["truncated"], 1)
        recs = rs.records()
        self.assertEqual(recs[1]["msg"], "short")
        r = recs[0]
        # The datagram is exactly 600 bytes: header, SD, then as much message as fits.
        header = (f"<{r['pri']}>1 2024-05-01T10:00:00.000000Z {r['hostname']} {r['app']} "
                  f"{r['procid']} {r['msgid']} {r['sd']} ")
        self.assertEqual(r["msg"], "x" * (600 - len(header.encode())))

    def tls_must_fail(self, extra):
        certs = make_certs(self.tmp + "/certs")
        other = make_certs(self.tmp + "/other", name="other")
        port = free_port()
        rs = self.rsyslog(tcp_port=port, tls=certs)
        d = self.logship(f"    port: {port}\n    transport: tls\n" + extra.format(other=other,
                                                                                   certs=certs))
        self.send(d, [input_frame(i) for i in range(5)])
        support.wait_for(lambda: len(re.findall(r"delivery failed; will retry", d.stderr())) >= 2,
                         timeout=30, what="two failed deliveries")
        self.assertIn("certificate verify failed", d.stderr())
        time.sleep(0.5)
        self.assertEqual(rs.lines(), [], "nothing may reach an unverified server")
        summary = self.stop_and_summary(d)
        self.assertEqual(summary["sent"], 0)
        self.assertGreaterEqual(summary["connect_failures"], 2)

    def test_tls_wrong_ca_fails(self):
        self.tls_must_fail("    tls_ca_file: {other[ca]}\n")

    def test_tls_system_cas_do_not_trust_test_ca(self):
        self.tls_must_fail("")

    def test_tls_wrong_server_name_fails(self):
        self.tls_must_fail("    tls_ca_file: {certs[ca]}\n    tls_server_name: not-this-host.example\n")


class SyslogOutputRestartTest(support.TestCase):
    """rsyslog restarted mid-stream. What is guaranteed: a delivery is acknowledged once all of it
    was written to the socket (TCP) or encrypted and written (TLS); plain syslog has no
    application acknowledgement, so messages the kernel accepted but the server never read
    before it went down are lost. logship checks the connection for a close by the server
    before each delivery and reconnects with backoff, so the loss is limited to what was in
    flight while the server shut down; everything written after the restart arrives. This test
    measures that window and asserts its bound. RELP closes it: its kill -9 test asserts that
    nothing is lost, beside the same fault over TCP for comparison."""

    def run_restart(self, tls):
        certs = make_certs(self.tmp + "/certs") if tls else None
        port = free_port()
        template = "%msg%\\n"
        rs = Rsyslog(self.tmp, tcp_port=port, tls=certs, template=template).start()
        total, rate = 3000, 500
        extra = f"    transport: tls\n    tls_ca_file: {certs['ca']}\n" if tls else ""
        cfg = f"""
service:
  state_dir: {self.tmp}/state
  retry_initial: 50ms
  retry_max: 300ms
inputs:
  gen:
    type: generate
    count: {total}
    rate: {rate}
    message_size: 64
    batch_events: 16
outputs:
  out:
    type: syslog
    port: {port}
    bom: false
    app_name: gen
{extra}"""
        d = self.daemon(cfg).start()
        missing, dups = self.interrupt_receiver(
            d, rs, total, rs.stop,
            lambda: Rsyslog(self.tmp, tcp_port=port, tls=certs, template=template).start())
        got = total - len(missing) + dups
        print(f"\n[restart tls={tls}] received={got} missing={len(missing)} "
              f"duplicates={dups} missing_seqs={missing[:20]}")
        # Everything sent after the restart is there, and the hole is only what was in flight
        # (measured 0-5 messages at 500 msg/s; bound: 200 ms worth).
        self.assertTrue(all(m < total // 2 for m in missing), missing)
        self.assertLessEqual(len(missing), rate // 5)
        self.assertIn("delivery failed; will retry", d.stderr())

    def interrupt_receiver(self, d, rs, total, take_down, bring_back):
        """A quarter into the stream `take_down()` the receiver, bring a new one up half a second
        later (the output retries against a closed port meanwhile), wait for the last message,
        stop both. Returns (missing seqs, duplicates); only whole messages may arrive."""
        seq = re.compile(rb"seq=(\d+) ")
        try:
            support.wait_for(lambda: len(rs.lines()) >= total // 4, timeout=30,
                             what="a quarter of the stream")
            take_down()
            time.sleep(0.5)
            rs = bring_back()
            support.wait_for(lambda: any(seq.match(l) and int(seq.match(l).group(1)) == total - 1
                                         for l in rs.lines()[-50:]),
                             timeout=60, what="the last message after the restart")
            time.sleep(0.5)
        finally:
            rs.stop()
            d.stop()
        got = [int(seq.match(l).group(1)) for l in rs.lines() if seq.match(l)]
        self.assertEqual(len(got), len(rs.lines()), "only whole messages")
        return sorted(set(range(total)) - set(got)), len(got) - len(set(got))

    def test_tcp_restart(self):
        self.run_restart(tls=False)

    def run_kill_restart(self, transport):
        """rsyslog SIGKILLed mid-stream (no serverclose, no FIN handshake: what sat in its socket
        buffers is gone) and started again while logship keeps sending at a steady rate.
        Returns (missing seqs, duplicates)."""
        port, relp_port = free_port(), free_port()
        template = "%msg%\\n"
        total, rate, window = TOTAL_KILL, RATE_KILL, 32
        # The same receiver for both: imtcp beside imrelp, both through the direct main queue,
        # so rsyslog itself buffers nothing and only the transport makes the difference.
        if transport == "relp":
            port = relp_port
        make = lambda: RelpRsyslog(self.tmp, relp_port, template=template,
                                   tcp_port=None if transport == "relp" else port)
        rs = make().start()
        cfg = f"""
service:
  state_dir: {self.tmp}/state
  retry_initial: 50ms
  retry_max: 300ms
inputs:
  gen:
    type: generate
    count: {total}
    rate: {rate}
    message_size: 64
    batch_events: 64
outputs:
  out:
    type: syslog
    port: {port}
    transport: {transport}
    window_size: {window}
    bom: false
    app_name: gen
"""
        d = self.daemon(cfg).start()
        missing, dups = self.interrupt_receiver(d, rs, total, rs.kill, lambda: make().start())
        got = total - len(missing) + dups
        print(f"\n[kill -9 restart transport={transport}] received={got} "
              f"missing={len(missing)} duplicates={dups} missing_seqs={missing[:20]}")
        for line in re.findall(r'msg="RELP delivery failed.*', d.stderr())[:3]:
            print("  " + line)
        self.assertIn("delivery failed; will retry", d.stderr())
        return missing, dups, window, total

    def test_relp_kill_restart_loses_nothing(self):
        missing, dups, window, _ = self.run_kill_restart("relp")
        self.assertEqual(missing, [], "RELP: nothing acknowledged by the server may be lost")
        # Only messages the server wrote whose 200 died with it are sent twice: at most a window.
        self.assertLessEqual(dups, window)

    def test_tcp_kill_restart_for_comparison(self):
        """The same fault over plain TCP: the loss RELP exists to avoid, measured (bounded by
        what fits in flight, everything after the restart arrives)."""
        missing, dups, _, total = self.run_kill_restart("tcp")
        self.assertTrue(all(m < total // 2 for m in missing), missing)
        self.assertLessEqual(len(missing), RATE_KILL // 2)

    def test_tls_restart(self):
        self.run_restart(tls=True)


if __name__ == "__main__":
    support.main()
