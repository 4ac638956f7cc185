"""elasticsearch output against a real OpenSearch node (started by the ctest fixture).

Exactly-N checks: every generated event carries seq=N in its message; the tests read back all
documents and compare the set of sequence numbers with range(N), so both loss and duplicates fail.

The node stopped mid-stream and restarted is tested in test_fault_tolerance.py
(test_opensearch_node_down_then_back): it stops a node, so it starts one of its own instead of
these shared fixture nodes, and runs under steady Docker load.
"""
import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import support
from test_docker_input import DockerTree, docker_line

RUN_DIR = os.environ.get("LOGSHIP_OPENSEARCH_DIR", "/tmp/logship-opensearch")
# A node whose write thread pool and queue hold one bulk shard request each: it answers
# concurrent bulk requests with real 429 item rejections.
TINY_DIR = os.environ.get("LOGSHIP_OPENSEARCH_TINY_DIR", "/tmp/logship-opensearch-tiny")


def node_address(run_dir=RUN_DIR):
    with open(os.path.join(run_dir, "address")) as f:
        return f.read().strip()


def es(method, path, body=None, ok=(200, 201), node=RUN_DIR):
    url = f"http://{node_address(node)}{path}"
    data = None
    headers = {}
    if body is not None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    if ok is not None and status not in ok:
        raise AssertionError(f"{method} {path} -> {status}: {text[:500]}")
    return json.loads(text) if text else {}


def status_of(method, path):
    req = urllib.request.Request(f"http://{node_address()}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def count(target, node=RUN_DIR):
    es("POST", f"/{target}/_refresh", node=node)
    return es("GET", f"/{target}/_count", node=node)["count"]


def seqs(target, size, node=RUN_DIR):
    """Sequence numbers of every document in target (with duplicates)."""
    es("POST", f"/{target}/_refresh", node=node)
    out = []
    body = {"size": 10000, "sort": ["_doc"], "_source": ["message"], "query": {"match_all": {}}}
    res = es("POST", f"/{target}/_search?scroll=1m", body, node=node)
    while res["hits"]["hits"]:
        for h in res["hits"]["hits"]:
            m = re.match(r"seq=(\d+)", h["_source"]["message"])
            out.append(int(m.group(1)))
        res = es("POST", "/_search/scroll", {"scroll": "1m", "scroll_id": res["_scroll_id"]},
                 node=node)
    return out


def free_dead_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ElasticsearchOutputTest(support.TestCase):
    def setUp(self):
        super().setUp()
        # Each test owns its lstest-out-<name> indices; drop leftovers of an earlier run on this node.
        # Only this file's prefix: the other elasticsearch tests run at the same time on this node.
        es("DELETE", "/_data_stream/lstest-out-*", ok=None)
        es("DELETE", "/lstest-out-*?expand_wildcards=all", ok=None)

    def config(self, inputs, output, service_extra=f"  drain_timeout: {support.scaled(20)}s",
               node=RUN_DIR):
        return f"""
service:
  state_dir: {self.tmp}/state
  log_level: info
  exit_when_done: true
{service_extra}
inputs:
{inputs}
outputs:
  es:
    type: elasticsearch
    hosts: ["http://{node_address(node)}"]
{output}
"""

    def test_count_fields_timestamp_and_templated_index(self):
        n = 20000
        cfg = self.config("""  gen1:
    type: generate
    count: %d
    message_size: 64
    batch_events: 500
""" % n, """    index: lstest-out-basic-{input}-%Y.%m.%d
    max_in_flight: 3
    bulk_max_events: 1500
""")
        before = datetime.datetime.now(datetime.timezone.utc)
        d = self.daemon(cfg).start()
        self.assertEqual(d.wait(timeout=support.scaled(180)), 0, d.stderr())
        after = datetime.datetime.now(datetime.timezone.utc)
        self.assertEqual(count("lstest-out-basic-*"), n)
        got = seqs("lstest-out-basic-*", n)
        self.assertEqual(len(got), n)
        self.assertEqual(sorted(got), list(range(n)))
        indices = {i["index"] for i in es("GET", "/_cat/indices/lstest-out-basic-*?format=json")}
        allowed = {f"lstest-out-basic-gen1-{t:%Y.%m.%d}" for t in (before, after)}
        self.assertTrue(indices and indices <= allowed, (indices, allowed))
        hit = es("POST", "/lstest-out-basic-*/_search", {"size": 1, "query": {"match": {"message": "seq=7"}}})
        doc = hit["hits"]["hits"][0]["_source"]
        self.assertTrue(doc["message"].startswith("seq=7 "), doc)
        self.assertRegex(doc["@timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
        ts = datetime.datetime.strptime(doc["@timestamp"][:26] + "Z", "%Y-%m-%dT%H:%M:%S.%fZ")
        ts = ts.replace(tzinfo=datetime.timezone.utc)
        self.assertTrue(before - datetime.timedelta(seconds=5) <= ts <= after, (before, ts, after))
        mapping = es("GET", "/lstest-out-basic-*/_mapping")
        props = next(iter(mapping.values()))["mappings"]["properties"]
        self.assertEqual(props["@timestamp"]["type"], "date")

    def test_data_stream_mode(self):
        es("PUT", "/_index_template/lstest-out-ds", {
            "index_patterns": ["lstest-out-ds-*"], "data_stream": {}, "priority": 500,
            "template": {"settings": {"number_of_replicas": 0}}})
        n = 3000
        cfg = self.config("""  gen2:
    type: generate
    count: %d
    message_size: 32
""" % n, """    index: lstest-out-ds-{input}
    mode: data_stream
    deterministic_ids: true
""")
        d = self.daemon(cfg).start()
        self.assertEqual(d.wait(timeout=support.scaled(120)), 0, d.stderr())
        self.assertEqual(count("lstest-out-ds-gen2"), n)
        streams = es("GET", "/_data_stream/lstest-out-ds-gen2")["data_streams"]
        self.assertEqual([s["name"] for s in streams], ["lstest-out-ds-gen2"])
        self.assertEqual(sorted(seqs("lstest-out-ds-gen2", n)), list(range(n)))

    def test_mapping_conflict_goes_to_dead_letter_file(self):
        es("PUT", "/lstest-out-map", {"settings": {"number_of_replicas": 0},
                                  "mappings": {"properties": {"message": {"type": "long"}}}})
        lines = ["1", "2", "three", "4", "{not a number}", "6"]
        cfg = self.config("""  in:
    type: stdin
""", """    index: lstest-out-map
""")
        d = self.daemon(cfg, stdin=subprocess.PIPE).start()
        d.proc.stdin.write(("\n".join(lines) + "\n").encode())
        d.proc.stdin.close()
        self.assertEqual(d.wait(timeout=support.scaled(60)), 0, d.stderr())
        self.assertEqual(count("lstest-out-map"), 4)
        dlq = os.path.join(self.tmp, "state", "dlq", "es.ndjson")
        recs = [json.loads(l) for l in support.read_lines(dlq)]
        self.assertEqual(sorted(r["event"]["message"] for r in recs), ["three", "{not a number}"])
        for r in recs:
            self.assertEqual(r["output"], "es")
            self.assertRegex(r["reason"], r"^status 400: (mapper|document)_parsing_exception")

    def docker_config(self, root, output, exit_at_eof):
        return self.config(f"""  containers:
    type: docker
    docker_root: {root}
    rescan_interval: 200ms
    exit_at_eof: {str(exit_at_eof).lower()}
""", output, service_extra=f"  checkpoint_interval: 2s\n  drain_timeout: {support.scaled(20)}s")

    @staticmethod
    def write_lines(path, first, n, t0):
        """Docker json-file lines "seq=NNNNNNN ..." of equal length, with fixed timestamps
        (1 us apart, no trailing zero) so every run reads the very same bytes."""
        with open(path, "ab") as f:
            for i in range(first, first + n):
                f.write(docker_line(f"seq={i:07d} {'y' * 40}\n", t=t0 + i * 1000 + 1))

    def test_deterministic_ids_survive_kill9_and_restart(self):
        n = 60000
        root = os.path.join(self.tmp, "docker")
        tree = DockerTree(root)
        path = tree.create("d" * 64, "web")
        self.write_lines(path, 0, n, 1_714_557_600_000_000_000)
        cfg = self.docker_config(root, """    index: lstest-out-restart
    mode: create
    deterministic_ids: true
    max_in_flight: 2
    bulk_max_events: 500
""", exit_at_eof=True)
        es("PUT", "/lstest-out-restart", {"settings": {"number_of_replicas": 0, "refresh_interval": "200ms"}})
        d = self.daemon(cfg).start()
        support.wait_for(lambda: count("lstest-out-restart") >= n // 3, timeout=60, interval=0.2,
                         what="a third of the events indexed")
        d.kill9()
        mid = count("lstest-out-restart")
        self.assertLess(mid, n)
        # The restart re-reads from the checkpoint; it must lag what the node already holds, or
        # this test would not exercise duplicate suppression at all.
        ckpt_path = os.path.join(self.tmp, "state", "checkpoints.json")
        committed = 0
        if os.path.exists(ckpt_path):
            with open(ckpt_path) as f:
                streams = json.load(f)["streams"]
            line = len(docker_line(f"seq={0:07d} {'y' * 40}\n", t=1_714_557_600_000_000_001))
            committed = sum(v["offset"] for v in streams.values()) // line
        self.assertLess(committed, mid)
        d2 = self.daemon(cfg, name="logship2").start()
        self.assertEqual(d2.wait(timeout=support.scaled(120)), 0, d2.stderr())
        self.assertEqual(count("lstest-out-restart"), n)
        self.assertEqual(sorted(seqs("lstest-out-restart", n)), list(range(n)))

    def test_copytruncate_restart_at_the_same_offsets_is_not_taken_for_a_resend(self):
        # After copytruncate the file restarts at offset 0 with the same device and inode (the
        # checkpoint key): new lines of the same length sit at the offsets of old ones. Their
        # ids must differ, or `create` would answer 409 and they would count as delivered.
        n = 5000
        root = os.path.join(self.tmp, "docker")
        tree = DockerTree(root)
        path = tree.create("e" * 64, "web")
        self.write_lines(path, 0, n, 1_714_557_600_000_000_000)
        cfg = self.docker_config(root, """    index: lstest-out-copytruncate
    mode: create
    deterministic_ids: true
""", exit_at_eof=False)
        es("PUT", "/lstest-out-copytruncate",
           {"settings": {"number_of_replicas": 0, "refresh_interval": "200ms"}})
        d = self.daemon(cfg).start()
        support.wait_for(lambda: count("lstest-out-copytruncate") == n, timeout=60, interval=0.2,
                         what="the first file indexed")
        shutil.copy(path, path + ".1")
        os.truncate(path, 0)
        time.sleep(1.0)   # the input sees the shrink before the file grows back
        self.write_lines(path, n, n, 1_714_557_700_000_000_000)
        support.wait_for(lambda: count("lstest-out-copytruncate") >= 2 * n, timeout=60, interval=0.2,
                         what="the lines written after the truncation indexed")
        self.assertEqual(d.stop(), 0, d.stderr())
        self.assertEqual(sorted(seqs("lstest-out-copytruncate", 2 * n)), list(range(2 * n)))

    def test_real_429s_from_a_tiny_write_pool(self):
        es("DELETE", "/lstest-out-429", ok=None, node=TINY_DIR)
        es("PUT", "/lstest-out-429", {"settings": {"number_of_replicas": 0, "number_of_shards": 1}},
           node=TINY_DIR)
        n = 10000
        cfg = self.config("""  gen5:
    type: generate
    count: %d
    message_size: 48
""" % n, """    index: lstest-out-429
    mode: create
    deterministic_ids: true
    max_in_flight: 6
    bulk_max_events: 100
    item_retry_initial: 20ms
    item_retry_max: 500ms
""", service_extra="  drain_timeout: 240s", node=TINY_DIR)
        d = self.daemon(cfg).start()
        self.assertEqual(d.wait(timeout=300), 0, d.stderr())
        # OpenSearch: rejected_execution_exception; Elasticsearch: es_rejected_execution_exception.
        self.assertIn("status 429: rejected_execution_exception", d.stderr())
        self.assertEqual(count("lstest-out-429", node=TINY_DIR), n)
        self.assertEqual(sorted(seqs("lstest-out-429", n, node=TINY_DIR)), list(range(n)))

    def test_unreachable_host_keeps_data_unacked(self):
        n = 500
        inputs = """  gen4:
    type: generate
    count: %d
""" % n
        dead = self.config(inputs, """    index: lstest-out-unreach
    deterministic_ids: true
    connect_timeout: 500ms
""", service_extra="  drain_timeout: 2s")
        dead = dead.replace(f"http://{node_address()}", f"http://127.0.0.1:{free_dead_port()}")
        d = self.daemon(dead).start()
        support.wait_for(lambda: "cannot reach node" in d.stderr(), timeout=30, what="connect error log")
        self.assertIn("connect http://127.0.0.1:", d.stderr())
        d.stop()
        self.assertEqual(status_of("HEAD", "/lstest-out-unreach"), 404)
        d2 = self.daemon(self.config(inputs, """    index: lstest-out-unreach
    deterministic_ids: true
"""), name="logship2").start()
        self.assertEqual(d2.wait(timeout=60), 0, d2.stderr())
        self.assertEqual(sorted(seqs("lstest-out-unreach", n)), list(range(n)))


if __name__ == "__main__":
    support.main()
