"""The elasticsearch output's reach: an HTTP proxy in front of the real OpenSearch node (CONNECT
tunnel for an https node, absolute-form requests for an http node, credentials from a file,
NO_PROXY bypassing it)."""
import os

import support
from proxy_support import InstanceMetadata, Proxy, SigV4Checker, TlsFront
from test_elasticsearch_output import es, seqs, node_address, status_of


class ElasticsearchProxyTest(support.TestCase):
    def setUp(self):
        super().setUp()
        es("DELETE", "/lstest-proxy-*", ok=None)
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.close()
        es("DELETE", "/lstest-proxy-*", ok=None)
        super().tearDown()

    def server(self, s):
        self.servers.append(s)
        return s

    def ship(self, index, host, n, output_extra="", env=None):
        cfg = f"""
service:
  state_dir: {self.tmp}/state-{index}
  exit_when_done: true
  drain_timeout: {support.scaled(20)}s
inputs:
  gen:
    type: generate
    count: {n}
    message_size: 48
outputs:
  es:
    type: elasticsearch
    hosts: ["{host}"]
    index: {index}
{output_extra}"""
        d = self.daemon(cfg, name=index, env=env).start()
        self.assertEqual(d.wait(timeout=support.scaled(120)), 0, d.stderr())
        self.assertEqual(sorted(seqs(index, n)), list(range(n)))
        return d

    def test_https_node_through_a_connect_tunnel_with_credentials_from_a_file(self):
        front = self.server(TlsFront(self.tmp, node_address()))
        proxy = self.server(Proxy(credentials="shipper:s3cret-pw"))
        creds = os.path.join(self.tmp, "proxy-credentials")
        with open(creds, "w") as f:
            f.write("shipper:s3cret-pw\n")
        d = self.ship("lstest-proxy-connect", f"https://localhost:{front.port}", 2000, f"""\
    tls_ca_file: {front.cert}
    proxy: http://127.0.0.1:{proxy.port}
    proxy_credentials_file: {creds}
""")
        seen = proxy.requests()
        self.assertTrue(seen)
        self.assertTrue(all(m == "CONNECT" and t == f"localhost:{front.port}" and ok
                            for m, t, ok in seen), seen)
        self.assertIn("node reached through a proxy", d.stderr())
        self.assertNotIn("s3cret", d.stderr())

    def test_wrong_proxy_credentials_are_retried_and_reported_without_the_secret(self):
        proxy = self.server(Proxy(credentials="shipper:right"))
        creds = os.path.join(self.tmp, "proxy-credentials")
        with open(creds, "w") as f:
            f.write("shipper:wrong-secret")
        front = self.server(TlsFront(self.tmp, node_address()))
        cfg = f"""
service:
  state_dir: {self.tmp}/state
  drain_timeout: 1s
inputs:
  gen:
    type: generate
    count: 10
outputs:
  es:
    type: elasticsearch
    hosts: ["https://localhost:{front.port}"]
    tls_ca_file: {front.cert}
    index: lstest-proxy-denied
    proxy: http://127.0.0.1:{proxy.port}
    proxy_credentials_file: {creds}
"""
        d = self.daemon(cfg).start()
        support.wait_for(lambda: "HTTP 407" in d.stderr(), timeout=support.scaled(30),
                         what="the proxy's 407 in the log")
        d.stop()
        self.assertIn("proxy authentication required", d.stderr())
        self.assertNotIn("wrong-secret", d.stderr())
        self.assertEqual(status_of("HEAD", "/lstest-proxy-denied"), 404)   # nothing got through

    def test_http_node_through_the_environment_proxy_with_absolute_form_requests(self):
        proxy = self.server(Proxy())
        addr = node_address()
        self.ship("lstest-proxy-plain", f"http://{addr}", 3000, "    compression: gzip\n",
                  env={"HTTP_PROXY": f"http://127.0.0.1:{proxy.port}", "NO_PROXY": "example.com"})
        seen = proxy.requests()
        bulks = [t for m, t, _ in seen if m == "POST"]
        self.assertTrue(bulks, seen)
        self.assertTrue(all(t.startswith(f"http://{addr}/_bulk") for t in bulks), bulks)

    def test_no_proxy_bypasses_the_proxy(self):
        proxy = self.server(Proxy())
        addr = node_address()
        self.ship("lstest-proxy-bypass", f"http://{addr}", 500,
                  env={"HTTP_PROXY": f"http://127.0.0.1:{proxy.port}",
                       "NO_PROXY": "localhost," + addr.rsplit(":", 1)[0]})
        self.assertEqual(proxy.requests(), [])


class ElasticsearchSigV4Test(ElasticsearchProxyTest):
    """aws_sigv4 against a signature-checking server of our own in front of OpenSearch: it
    recomputes every signature with Python's hmac/hashlib and answers 403 on a mismatch."""
    KEY_ID = "AKIDLOGSHIPTEST"
    SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

    # The proxy tests are not run twice.
    test_https_node_through_a_connect_tunnel_with_credentials_from_a_file = None
    test_wrong_proxy_credentials_are_retried_and_reported_without_the_secret = None
    test_http_node_through_the_environment_proxy_with_absolute_form_requests = None
    test_no_proxy_bypasses_the_proxy = None

    def credentials_file(self, secret):
        path = os.path.join(self.tmp, "aws-credentials")
        with open(path, "w") as f:
            f.write(f"[default]\naws_access_key_id = nope\naws_secret_access_key = nope\n\n"
                    f"[profile shipper]\naws_access_key_id = {self.KEY_ID}\n"
                    f"aws_secret_access_key = {secret}\n")
        return path

    def test_signed_requests_with_a_credentials_file_are_accepted(self):
        checker = self.server(SigV4Checker(node_address(), {self.KEY_ID: self.SECRET},
                                           "eu-west-1", "es"))
        d = self.ship("lstest-proxy-sigv4", f"http://127.0.0.1:{checker.port}", 3000, f"""\
    index_template: true
    index_template_name: lstest-proxy-sigv4
    aws_sigv4:
      region: eu-west-1
      service: es
      credentials_file: {self.credentials_file(self.SECRET)}
      profile: shipper
""")
        self.assertEqual(checker.rejected, [])
        self.assertGreaterEqual(checker.accepted, 2)   # the template PUT and the bulks
        self.assertIn("signing requests with AWS SigV4", d.stderr())
        self.assertNotIn(self.SECRET, d.stderr())
        es("DELETE", "/_index_template/lstest-proxy-sigv4", ok=None)

    def test_a_wrong_secret_is_refused_with_403_and_nothing_is_indexed(self):
        checker = self.server(SigV4Checker(node_address(), {self.KEY_ID: self.SECRET},
                                           "eu-west-1", "es"))
        cfg = f"""
service:
  state_dir: {self.tmp}/state
  drain_timeout: 1s
inputs:
  gen:
    type: generate
    count: 10
outputs:
  es:
    type: elasticsearch
    hosts: ["http://127.0.0.1:{checker.port}"]
    index: lstest-proxy-sigv4-denied
    aws_sigv4:
      region: eu-west-1
      credentials_file: {self.credentials_file("not-the-secret")}
      profile: shipper
"""
        d = self.daemon(cfg).start()
        support.wait_for(lambda: checker.rejected, timeout=support.scaled(30), what="a 403")
        support.wait_for(lambda: "authentication or authorization failed" in d.stderr(),
                         timeout=support.scaled(30), what="the 403 in the log")
        d.stop()
        self.assertEqual(set(checker.rejected), {"signature mismatch"})
        self.assertEqual(checker.accepted, 0)
        self.assertNotIn("not-the-secret", d.stderr())
        self.assertEqual(status_of("HEAD", "/lstest-proxy-sigv4-denied"), 404)

    def test_instance_role_credentials_with_a_session_token_serverless(self):
        token = "FQoGZXIvYXdzEXAMPLESESSIONTOKEN+/="
        imds = self.server(InstanceMetadata("logship-role", "ASIAROLEKEY", self.SECRET, token))
        checker = self.server(SigV4Checker(node_address(), {"ASIAROLEKEY": self.SECRET},
                                           "us-east-1", "aoss", token=token))
        d = self.ship("lstest-proxy-sigv4-role", f"http://127.0.0.1:{checker.port}", 2000, f"""\
    aws_sigv4:
      region: us-east-1
      service: aoss
      metadata_endpoint: http://127.0.0.1:{imds.port}
""", env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
        self.assertEqual(checker.rejected, [])
        self.assertGreaterEqual(checker.accepted, 1)
        self.assertEqual(imds.requests[0], ("PUT", "/latest/api/token"))
        self.assertIn(("GET", "/latest/meta-data/iam/security-credentials/logship-role"),
                      imds.requests)
        self.assertNotIn(token, d.stderr())

    def test_signed_requests_through_a_proxy_keep_their_signature(self):
        # Absolute-form through the proxy, origin-form at the checker: the signature covers the
        # path the service sees.
        checker = self.server(SigV4Checker(node_address(), {self.KEY_ID: self.SECRET},
                                           "eu-west-1", "es"))
        proxy = self.server(Proxy())
        self.ship("lstest-proxy-sigv4-via", f"http://127.0.0.1:{checker.port}", 1000, f"""\
    aws_sigv4:
      region: eu-west-1
      credentials_file: {self.credentials_file(self.SECRET)}
      profile: shipper
""", env={"HTTP_PROXY": f"http://127.0.0.1:{proxy.port}", "NO_PROXY": ""})
        self.assertEqual(checker.rejected, [])
        self.assertTrue(any(m == "POST" for m, _, _ in proxy.requests()), proxy.requests())


if __name__ == "__main__":
    support.main()
