"""The ecs schema of the elasticsearch output against a real OpenSearch node (ctest fixture).

A Compose service behind Traefik writes JSON app logs to its json-file; a second container
writes plain lines. Every document must be indexed (Traefik's `r.tls` + `r.tls.certresolver`
labels would otherwise make every event of the first container a 400), and searches on the ECS
fields find exactly the expected documents.
"""
import json
import os

import support
from test_docker_input import DockerTree, docker_line
from test_elasticsearch_output import count, es, node_address

T0 = 1_714_557_600_000_000_000   # 2024-05-01T10:00:00Z
SECOND = 1_000_000_000
SHOP_EVENTS = 30
WORKER_EVENTS = 15
SHOP_LABELS = {
    "com.docker.compose.project": "shop",
    "com.docker.compose.service": "api",
    "com.docker.compose.config-hash": "9f8e7d",
    "traefik.enable": "true",
    "traefik.http.routers.x.tls": "true",
    "traefik.http.routers.x.tls.certresolver": "le",
    "logship.parser": "json",
}


class ElasticsearchEcsTest(support.TestCase):
    def setUp(self):
        super().setUp()
        es("DELETE", "/_data_stream/lstest-ecs*", ok=None)
        es("DELETE", "/lstest-ecs*?expand_wildcards=all", ok=None)
        es("DELETE", "/_index_template/lstest-ecs-template", ok=None)

    def ship(self, index, output_extra=""):
        """Writes both containers' logs and runs logship until it has read them all."""
        root = os.path.join(self.tmp, "docker")
        tree = DockerTree(root)
        shop = tree.create("a" * 64, "shop-api-1", image="shop/api:1.4", labels=SHOP_LABELS)
        worker = tree.create("b" * 64, "worker-1", image="shop/worker:2",
                             labels={"com.docker.compose.service": "worker"})
        with open(shop, "ab") as f:
            for i in range(SHOP_EVENTS):
                app = {"level": "error" if i % 5 == 0 else "info", "msg": f"seq={i} order",
                       "trace.id": f"t{i}", "user_id": i}
                f.write(docker_line(json.dumps(app) + "\n", t=T0 + i * SECOND))
        with open(worker, "ab") as f:
            for i in range(WORKER_EVENTS):
                f.write(docker_line(f"seq={i} job done\n", "stderr", t=T0 + i * SECOND))
        if "index_template: true" not in output_extra:
            es("PUT", f"/{index}", {"settings": {"number_of_replicas": 0}})
        cfg = f"""
service:
  state_dir: {self.tmp}/state
  exit_when_done: true
  drain_timeout: {support.scaled(20)}s
  host_name: ecs-node-1
inputs:
  containers:
    type: docker
    docker_root: {root}
    rescan_interval: 200ms
    exit_at_eof: true
processors:
  app_json:
    type: json
    when_label: logship.parser=json
outputs:
  es:
    type: elasticsearch
    hosts: ["http://{node_address()}"]
    index: {index}
{output_extra}
routes:
  - match: containers
    processors: [app_json]
    outputs: [es]
"""
        d = self.daemon(cfg).start()
        self.assertEqual(d.wait(timeout=support.scaled(60)), 0, d.stderr())
        es("POST", f"/{index}/_refresh")
        return os.path.join(self.tmp, "state", "dlq", "es.ndjson")

    def search(self, index, *filters):
        """(container name, seq) of every document matching all the filters."""
        res = es("POST", f"/{index}/_search", {"size": 1000, "query": {"bool": {"filter": list(filters)}}})
        return sorted((h["_source"]["container"]["name"], int(h["_source"]["message"].split()[0][4:]))
                      for h in res["hits"]["hits"])

    def test_docker_events_index_with_no_rejection_and_are_found_by_their_ecs_fields(self):
        dlq = self.ship("lstest-ecs")
        self.assertFalse(os.path.exists(dlq) and os.path.getsize(dlq) > 0,
                         "dead letters: " + (open(dlq).read()[:500] if os.path.exists(dlq) else ""))
        self.assertEqual(count("lstest-ecs"), SHOP_EVENTS + WORKER_EVENTS)

        def term(field, value):
            return {"term": {f"{field}.keyword": value}}

        shop = [("shop-api-1", i) for i in range(SHOP_EVENTS)]
        worker = [("worker-1", i) for i in range(WORKER_EVENTS)]
        self.assertEqual(self.search("lstest-ecs", term("container.name", "shop-api-1")), shop)
        self.assertEqual(self.search("lstest-ecs", term("host.name", "ecs-node-1")),
                         sorted(shop + worker))
        self.assertEqual(self.search("lstest-ecs", term("log.level", "error")),
                         [("shop-api-1", i) for i in range(0, SHOP_EVENTS, 5)])
        ten_to_twenty = {"range": {"@timestamp": {"gte": "2024-05-01T10:00:10Z",
                                                  "lt": "2024-05-01T10:00:20Z"}}}
        self.assertEqual(self.search("lstest-ecs", ten_to_twenty),
                         sorted([("shop-api-1", i) for i in range(10, 20)] +
                                [("worker-1", i) for i in range(10, 15)]))
        self.assertEqual(self.search("lstest-ecs", ten_to_twenty, term("log.level", "error"),
                                     term("container.name", "shop-api-1")),
                         [("shop-api-1", 10), ("shop-api-1", 15)])

        hit = es("POST", "/lstest-ecs/_search", {"query": {"match_phrase": {"message": "seq=7 order"}}})
        doc = hit["hits"]["hits"][0]["_source"]
        self.assertEqual(doc["@timestamp"], "2024-05-01T10:00:07.000000000Z")
        self.assertEqual(doc["message"], "seq=7 order")
        self.assertEqual(doc["stream"], "stdout")
        self.assertEqual(doc["container"], {
            "id": "a" * 64, "name": "shop-api-1", "image": {"name": "shop/api:1.4"},
            "labels": {k.replace(".", "_"): v for k, v in SHOP_LABELS.items()}})
        self.assertEqual(doc["host"], {"name": "ecs-node-1"})
        self.assertEqual(doc["log"], {"level": "info", "file": {
            "path": os.path.join(self.tmp, "docker", "containers", "a" * 64, "a" * 64 + "-json.log")}})
        self.assertEqual(doc["trace"], {"id": "t7"})
        self.assertEqual(doc["user_id"], 7)
        self.assertEqual(doc["ecs"], {"version": "8.17.0"})
        self.assertEqual(doc["agent"]["type"], "logship")
        self.assertEqual(set(doc), {"@timestamp", "message", "stream", "container", "host", "log",
                                    "trace", "user_id", "ecs", "agent"})
        labels = es("GET", "/lstest-ecs/_mapping")["lstest-ecs"]["mappings"]["properties"][
            "container"]["properties"]["labels"]["properties"]
        self.assertIn("traefik_http_routers_x_tls", labels)
        self.assertIn("traefik_http_routers_x_tls_certresolver", labels)

    def test_without_dedot_the_traefik_labels_make_every_event_of_the_container_a_400(self):
        dlq = self.ship("lstest-ecs-dotted", "    dedot: false\n")
        self.assertEqual(count("lstest-ecs-dotted"), WORKER_EVENTS)
        recs = [json.loads(line) for line in support.read_lines(dlq)]
        self.assertEqual(len(recs), SHOP_EVENTS)
        self.assertRegex(recs[0]["reason"], r"^status 400: ")

    def test_installed_template_and_data_stream(self):
        extra = ("    mode: data_stream\n    index_template: true\n"
                 "    index_template_name: lstest-ecs-template\n")
        dlq = self.ship("lstest-ecs-ds-default", extra)
        self.assertFalse(os.path.exists(dlq) and os.path.getsize(dlq) > 0)
        self.assertEqual(count("lstest-ecs-ds-default"), SHOP_EVENTS + WORKER_EVENTS)
        streams = es("GET", "/_data_stream/lstest-ecs-ds-default")["data_streams"]
        self.assertEqual([(s["name"], s["template"]) for s in streams],
                         [("lstest-ecs-ds-default", "lstest-ecs-template")])
        tpl = es("GET", "/_index_template/lstest-ecs-template")["index_templates"][0]
        self.assertEqual(tpl["index_template"]["index_patterns"], ["lstest-ecs-ds-default"])
        mapping = next(iter(es("GET", "/lstest-ecs-ds-default/_mapping").values()))["mappings"]
        props = mapping["properties"]
        self.assertEqual(props["container"]["properties"]["name"]["type"], "keyword")
        self.assertEqual(props["log"]["properties"]["level"]["type"], "keyword")
        self.assertEqual(props["message"]["type"], "text")
        # Keywords: terms without .keyword.
        res = es("POST", "/lstest-ecs-ds-default/_search", {"size": 100, "query": {"bool": {"filter": [
            {"term": {"container.name": "worker-1"}}, {"term": {"host.name": "ecs-node-1"}}]}}})
        self.assertEqual(len(res["hits"]["hits"]), WORKER_EVENTS)


if __name__ == "__main__":
    support.main()
