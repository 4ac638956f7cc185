"""The elasticsearch output's reach: an HTTP proxy in front of the real OpenSearch node (CONNECT
tunnel for an https node, absolute-form requests for an http node, credentials from a file,
NO_PROXY bypassing it)."""
import os

import support
from proxy_support import Proxy, TlsFront
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


if __name__ == "__main__":
    support.main()
