"""Dead letters against a real OpenSearch node: a mapping conflict sends exactly the
conflicting events to the dead-letter file, the counters and the log say so, and
`logship dead-letters replay` after the mapping is fixed indexes them all exactly once."""
import json
import os
import shutil
import subprocess

import support
from ops_support import admin_port, get, parse_metrics
from test_elasticsearch_output import es, count, node_address

INDEX = "lstest-dlq"


def docs(index):
    es("POST", f"/{index}/_refresh")
    res = es("POST", f"/{index}/_search", {"size": 10000, "_source": ["message"],
                                           "query": {"match_all": {}}})
    return [(h["_id"], h["_source"]["message"]) for h in res["hits"]["hits"]]


class DeadLettersTest(support.TestCase):
    def setUp(self):
        super().setUp()
        es("DELETE", f"/{INDEX}*?expand_wildcards=all", ok=None)

    def tearDown(self):
        es("DELETE", f"/{INDEX}*?expand_wildcards=all", ok=None)
        super().tearDown()

    def config(self):
        return f"""
service:
  state_dir: {self.tmp}/state
  exit_when_done: true
  http_listen: 127.0.0.1:0
  drain_timeout: {support.scaled(20)}s
inputs:
  in:
    type: stdin
outputs:
  es:
    type: elasticsearch
    hosts: ["http://{node_address()}"]
    index: {INDEX}
    mode: create
    deterministic_ids: true
    compression: none
"""

    def replay(self, path, cfg_path):
        r = support.run_logship(["dead-letters", "replay", path, "--output", "es", "-c", cfg_path,
                                 "--attempts", "2"], timeout=support.scaled(120))
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def test_mapping_conflict_dead_letters_exactly_the_conflicting_events_and_replay_indexes_them_once(self):
        # message is a number in this index: the events whose message is not are rejected (400).
        es("PUT", f"/{INDEX}", {"settings": {"number_of_replicas": 0},
                                "mappings": {"properties": {"message": {"type": "long"}}}})
        n = 300
        bad = {f"bad-{i}" for i in range(n) if i % 10 == 3}
        lines = [f"bad-{i}" if i % 10 == 3 else str(1000 + i) for i in range(n)]
        d = self.daemon(self.config(), stdin=subprocess.PIPE).start()
        d.proc.stdin.write(("\n".join(lines) + "\n").encode())
        d.proc.stdin.flush()
        port = admin_port(d)
        dlq = os.path.join(self.tmp, "state", "dlq", "es.ndjson")
        support.wait_for(lambda: os.path.exists(dlq) and len(support.read_lines(dlq)) >= len(bad)
                         and count(INDEX) >= n - len(bad), timeout=support.scaled(60),
                         what="good events indexed and bad ones dead-lettered")
        m = parse_metrics(get(port, "/metrics")[1])
        self.assertEqual(m['logship_output_dead_lettered_total{output="es",error="rejected",type="elasticsearch"}'], len(bad))
        self.assertEqual(m['logship_output_events_total{output="es",type="elasticsearch"}'], n - len(bad))
        self.assertEqual(m['logship_output_dead_letters_dropped_total{output="es",type="elasticsearch"}'], 0)
        d.proc.stdin.close()
        self.assertEqual(d.wait(timeout=support.scaled(60)), 0, d.stderr())
        log = d.stderr()
        self.assertIn('msg="event can never be delivered; dead-lettered" output=es error=rejected '
                      'reason="status 400: mapper_parsing_exception', log)
        self.assertIn(f'msg="stopped; everything delivered except {len(bad)} events dead-lettered"',
                      log)
        self.assertNotIn("stopped; everything delivered\"", log)

        recs = [json.loads(l) for l in support.read_lines(dlq)]
        self.assertEqual(sorted(r["event"]["message"] for r in recs), sorted(bad))
        for r in recs:
            self.assertEqual((r["output"], r["error"]), ("es", "rejected"))
            self.assertRegex(r["reason"], r"^status 400: mapper_parsing_exception")
            self.assertEqual(r["meta"]["input"], "in")
        self.assertEqual(count(INDEX), n - len(bad))

        listing = support.run_logship(["dead-letters", "list", dlq])
        self.assertEqual(listing.returncode, 0, listing.stderr)
        out = listing.stdout.decode()
        self.assertIn(f"{dlq}: {len(bad)} dead letters", out)
        self.assertIn(f"output=es error=rejected: {len(bad)}", out)
        self.assertRegex(out, rf"first reasons:\n    {len(bad)}  status 400: mapper_parsing_exception")

        # Replayed before the fix: rejected again, every event kept (with the new reason).
        code, out, err = self.replay(dlq, d.config_path)
        self.assertEqual(code, 1, out + err)
        self.assertIn(f"0 delivered through es, {len(bad)} rejected again", out)
        self.assertEqual(sorted(json.loads(l)["event"]["message"] for l in support.read_lines(dlq)),
                         sorted(bad))
        self.assertFalse(os.path.exists(dlq + ".replaying"))
        self.assertEqual(count(INDEX), n - len(bad))

        # The fix: the index is recreated with message as a keyword.
        copy = os.path.join(self.tmp, "copy.ndjson")
        shutil.copyfile(dlq, copy)
        es("DELETE", f"/{INDEX}")
        es("PUT", f"/{INDEX}", {"settings": {"number_of_replicas": 0},
                                "mappings": {"properties": {"message": {"type": "keyword"}}}})
        code, out, err = self.replay(dlq, d.config_path)
        self.assertEqual(code, 0, out + err)
        self.assertIn(f"{len(bad)} delivered through es, 0 rejected again, 0 not sent", out)
        self.assertFalse(os.path.exists(dlq), "delivered events must leave the file")
        self.assertFalse(os.path.exists(dlq + ".replaying"))
        got = docs(INDEX)
        self.assertEqual(sorted(msg for _, msg in got), sorted(bad))
        self.assertEqual(len({i for i, _ in got}), len(bad), "one document per event")

        # Replayed a second time (a copy of the file): the deterministic ids make every resend a
        # 409 for a document already there, so nothing is indexed twice.
        code, out, err = self.replay(copy, d.config_path)
        self.assertEqual(code, 0, out + err)
        self.assertEqual(sorted(docs(INDEX)), sorted(got))

    def test_replay_while_the_daemon_runs_loses_and_duplicates_nothing(self):
        es("PUT", f"/{INDEX}", {"settings": {"number_of_replicas": 0},
                                "mappings": {"properties": {"message": {"type": "long"}}}})
        d = self.daemon(self.config(), stdin=subprocess.PIPE).start()
        dlq = os.path.join(self.tmp, "state", "dlq", "es.ndjson")

        def send(lines):
            d.proc.stdin.write(("\n".join(lines) + "\n").encode())
            d.proc.stdin.flush()

        def dead():
            if not os.path.exists(dlq):
                return []
            return sorted(json.loads(l)["event"]["message"] for l in support.read_lines(dlq))

        send([str(i) for i in range(5)] + [f"bad-{i}" for i in range(5)])
        support.wait_for(lambda: len(dead()) == 5, timeout=support.scaled(60), what="5 dead letters")
        # Replayed while the daemon holds the file open: rejected again, put back in place.
        code, out, err = self.replay(dlq, d.config_path)
        self.assertEqual(code, 1, out + err)
        self.assertIn("0 delivered through es, 5 rejected again", out)
        # The daemon's next dead letters go to the file replay rewrote, after the kept ones.
        send([f"bad-{i}" for i in range(5, 10)])
        support.wait_for(lambda: len(dead()) >= 10, timeout=support.scaled(60), what="10 dead letters")
        d.proc.stdin.close()
        self.assertEqual(d.wait(timeout=support.scaled(60)), 0, d.stderr())
        self.assertEqual(dead(), sorted(f"bad-{i}" for i in range(10)))
        self.assertIn('msg="stopped; everything delivered except 10 events dead-lettered"', d.stderr())
        self.assertEqual(count(INDEX), 5)


if __name__ == "__main__":
    support.main()
