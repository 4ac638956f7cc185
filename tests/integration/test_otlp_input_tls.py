"""otlp input over HTTPS: the listener serves TLS with a server certificate made by openssl,
Python's ssl client (verifying it against the test CA) posts OTLP/JSON and the file output holds
exactly those records; plain HTTP to the TLS port is refused (the connection is closed, counted
and logged) and the listener goes on serving; with tls_ca_file a client without a certificate
is refused and one with a certificate signed by the CA is served; a bad certificate path is a
`logship validate` error."""
import http.client
import json
import os
import re
import ssl

import support
from ops_support import admin_port, get
from rsyslog_support import make_certs
from test_otlp_input import T0, json_request, records


class OtlpInputTlsTest(support.TestCase):
    def setUp(self):
        super().setUp()
        self.certs = make_certs(os.path.join(self.tmp, "certs"))
        self.out_dir = os.path.join(self.tmp, "out")

    def logship(self, client_ca=False):
        ca = f"\n    tls_ca_file: {self.certs['ca']}" if client_ca else ""
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0
inputs:
  otel:
    type: otlp
    listen: "127.0.0.1:0"
    read_timeout: 2s
    tls_cert_file: {self.certs['cert']}
    tls_key_file: {self.certs['key']}{ca}
outputs:
  file:
    type: file
    path: {self.out_dir}/events.log
    compress: false
""").start()
        m = support.wait_for(lambda: re.search(r"https=127\.0\.0\.1:(\d+)", d.stderr()),
                             timeout=20, what="logship listening on https")
        d.port = int(m.group(1))
        return d

    def client_context(self, with_cert=False):
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        if with_cert:
            ctx.load_cert_chain(self.certs["cert"], self.certs["key"])
        return ctx

    def post_tls(self, port, body, ctx):
        conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=30)
        try:
            conn.request("POST", "/v1/logs", body=body, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def wait_records(self, n):
        support.wait_for(lambda: len(support.read_file_output(self.out_dir)) >= n, timeout=30,
                         what=f"{n} records")
        recs = support.read_file_output(self.out_dir)
        self.assertEqual(len(recs), n, "exactly n, no duplicates")
        return recs

    def test_https_records_and_plaintext_refused(self):
        d = self.logship()
        first = records(5, "tls")
        self.assertEqual(self.post_tls(d.port, json_request("svc", first), self.client_context()),
                         (200, b"{}"))
        # Plain HTTP to the TLS port: the handshake fails at its first bytes and the connection
        # is closed; no record comes of it.
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionResetError,
                                http.client.BadStatusLine)):
            conn.request("POST", "/v1/logs", body=json_request("svc", records(3, "plain")),
                         headers={"Content-Type": "application/json"})
            conn.getresponse().read()
        conn.close()
        support.wait_for(lambda: "tls handshake failed" in d.stderr(), timeout=10,
                         what="the failed handshake logged")
        # The listener goes on serving TLS.
        second = records(4, "again", T0 + 10**9)
        self.assertEqual(self.post_tls(d.port, json_request("svc", second), self.client_context()),
                         (200, b"{}"))
        recs = self.wait_records(9)
        self.assertEqual(sorted((r["tag"], r["seq"], r["message"]) for r in recs),
                         sorted((a["tag"], a["seq"], body) for _, _, _, body, a in first + second))
        for r in recs:
            self.assertEqual(r["service.name"], "svc")
        status, metrics = get(admin_port(d), "/metrics")
        self.assertEqual(status, 200)
        self.assertRegex(metrics, r'logship_otlp_input_tls_failures_total\{[^}]*\} 1\b')
        self.assertEqual(d.stop(), 0, d.stderr())

    def test_client_certificate_required_with_tls_ca_file(self):
        d = self.logship(client_ca=True)
        with self.assertRaises((ssl.SSLError, ConnectionResetError, BrokenPipeError,
                                http.client.RemoteDisconnected)):
            self.post_tls(d.port, json_request("svc", records(2, "nocert")), self.client_context())
        ok = records(3, "mtls")
        self.assertEqual(
            self.post_tls(d.port, json_request("svc", ok), self.client_context(with_cert=True)),
            (200, b"{}"))
        recs = self.wait_records(3)
        self.assertEqual(sorted(r["message"] for r in recs), ["mtls 0", "mtls 1", "mtls 2"])
        self.assertEqual(d.stop(), 0, d.stderr())

    def test_bad_certificate_path_is_a_validate_error(self):
        cfg = os.path.join(self.tmp, "bad.yaml")
        with open(cfg, "w") as f:
            f.write(f"""
inputs:
  otel:
    type: otlp
    tls_cert_file: {self.tmp}/missing.pem
    tls_key_file: {self.certs['key']}
outputs:
  o: {{type: "null"}}
""")
        r = support.run_logship(["validate", "-c", cfg])
        self.assertEqual(r.returncode, 1, r.stdout)
        err = r.stderr.decode()
        self.assertIn(f"inputs.otel (otlp): tls_cert_file {self.tmp}/missing.pem:", err)
        with open(cfg, "w") as f:
            f.write(f"""
inputs:
  otel:
    type: otlp
    tls_cert_file: {self.certs['cert']}
outputs:
  o: {{type: "null"}}
""")
        r = support.run_logship(["validate", "-c", cfg])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("tls_cert_file needs tls_key_file", r.stderr.decode())


if __name__ == "__main__":
    support.main()
