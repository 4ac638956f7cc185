"""The Helm chart (packaging/helm/logship), checked without a cluster: helm renders it, and
k8s-validate (tests/tools/k8s-validate) decodes every object strictly into the k8s.io/api types,
runs apimachinery's validation and the pod-spec rules an API server enforces, and evaluates the
pod template against the Pod Security Standards with the admission plugin's own library. With
default values the chart renders exactly the objects of packaging/kubernetes/daemonset.yaml."""
import json
import os
import subprocess
import tempfile

import yaml

import support

CHART = os.path.join(support.SOURCE_DIR, "packaging", "helm", "logship")
MANIFEST = os.path.join(support.SOURCE_DIR, "packaging", "kubernetes", "daemonset.yaml")
TOOLS = os.path.join(support.SOURCE_DIR, "scripts", "servers", "k8s-tools.sh")

# What `baseline` forbids and a node log agent needs (packaging/kubernetes/daemonset.yaml says
# why): the node's pod logs and state directory as hostPath volumes, and DAC_READ_SEARCH to read
# the root-owned 0640 logs. Nothing else.
BASELINE_FINDINGS = [
    {"reason": "non-default capabilities",
     "detail": 'container "logship" must not include "DAC_READ_SEARCH" in '
               "securityContext.capabilities.add"},
    {"reason": "hostPath volumes", "detail": 'volumes "pods", "state"'},
]


def tool(which):
    r = subprocess.run(["bash", TOOLS, which], capture_output=True, timeout=2400)
    if r.returncode != 0:
        raise AssertionError(f"k8s-tools.sh {which} failed: {r.stderr.decode()[-3000:]}")
    return r.stdout.decode().strip()


def objects(text):
    """{(kind, namespace, name): object} with the config file of a ConfigMap parsed: the chart
    writes it with toYaml (sorted keys, no comments), the manifest by hand."""
    out = {}
    for doc in yaml.safe_load_all(text):
        if not doc:
            continue
        if doc["kind"] == "ConfigMap":
            doc["data"] = {k: yaml.safe_load(v) for k, v in doc["data"].items()}
        key = (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])
        out[key] = doc
    return out


class HelmChartTest(support.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.helm = tool("helm")
        cls.validate = tool("validate")

    def render(self, *args):
        r = subprocess.run([self.helm, "template", "logship", CHART, *args],
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return r.stdout.decode()

    def check(self, text):
        """k8s-validate's report; its errors must be none."""
        r = subprocess.run([self.validate], input=text.encode(), capture_output=True, timeout=120)
        report = json.loads(r.stdout.decode() or "{}")
        self.assertEqual(report.get("errors"), [], r.stdout.decode()[-4000:] + r.stderr.decode())
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return report

    def test_lint(self):
        r = subprocess.run([self.helm, "lint", "--strict", CHART], capture_output=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())

    def test_defaults_render_the_plain_manifests(self):
        rendered = self.render()
        with open(MANIFEST) as f:
            manifest = f.read()
        self.assertEqual(objects(rendered), objects(manifest))
        for text in (rendered, manifest):
            report = self.check(text)
            self.assertEqual(len(report["objects"]), 4, report)
            ps = report["podSecurity"]["DaemonSet/logging/logship"]
            self.assertEqual(ps["baseline"], BASELINE_FINDINGS)

    def test_values_for_outputs_tolerations_resources_and_volumes(self):
        values = {
            "namespace": {"name": "observability", "create": False},
            "image": {"repository": "registry.example/logship", "tag": "0.2.0",
                      "pullPolicy": "IfNotPresent"},
            "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "logs",
                             "effect": "NoSchedule"}],
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "resources": {"requests": {"cpu": "200m", "memory": "160Mi"},
                          "limits": {"cpu": "2", "memory": "256Mi"}},
            "extraVolumes": [{"name": "ca", "configMap": {"name": "kafka-ca"}}],
            "extraVolumeMounts": [{"name": "ca", "mountPath": "/etc/logship/ca",
                                   "readOnly": True}],
            "extraEnv": [{"name": "TZ", "value": "UTC"}],
            "httpPort": 2020,
            "config": {
                "service": {"memory_limit": "128MiB"},
                "outputs": {"search": None,
                            "kafka": {"type": "kafka", "brokers": ["kafka.kafka.svc:9093"],
                                      "topic": "logs",
                                      "properties": {
                                          "security.protocol": "ssl",
                                          "ssl.ca.location": "/etc/logship/ca/ca.pem"}}},
            },
        }
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            yaml.safe_dump(values, f)
            f.flush()
            rendered = self.render("-f", f.name)
        # The namespace is not the chart's; the CA's ConfigMap is the user's: both exist in a
        # real cluster, so they join the rendered objects for the reference checks.
        extra = ("---\napiVersion: v1\nkind: Namespace\nmetadata: {name: observability}\n"
                 "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: kafka-ca, "
                 "namespace: observability}\ndata: {ca.pem: x}\n")
        self.check(rendered + extra)
        objs = objects(rendered)
        self.assertNotIn(("Namespace", "", "observability"), objs)
        ds = objs[("DaemonSet", "observability", "logship")]
        pod = ds["spec"]["template"]["spec"]
        self.assertEqual(pod["tolerations"], values["tolerations"])
        self.assertEqual(pod["nodeSelector"], values["nodeSelector"])
        (c,) = pod["containers"]
        self.assertEqual(c["image"], "registry.example/logship:0.2.0")
        self.assertEqual(c["imagePullPolicy"], "IfNotPresent")
        self.assertEqual(c["resources"], values["resources"])
        self.assertIn(values["extraVolumeMounts"][0], c["volumeMounts"])
        self.assertIn(values["extraVolumes"][0], pod["volumes"])
        self.assertIn(values["extraEnv"][0], c["env"])
        self.assertEqual(c["ports"][0]["containerPort"], 2020)
        self.assertEqual(ds["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"],
                         "2020")
        cfg = objs[("ConfigMap", "observability", "logship-config")]["data"]["logship.yaml"]
        self.assertEqual(cfg["service"]["http_listen"], "0.0.0.0:2020")
        self.assertEqual(cfg["service"]["memory_limit"], "128MiB")
        self.assertEqual(cfg["service"]["config_watch_interval"], "10s")   # defaults kept
        self.assertEqual(sorted(cfg["outputs"]), ["kafka"])
        # The rendered config is one logship accepts.
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            yaml.safe_dump(cfg, f)
            f.flush()
            r = support.run_logship(["validate", "-c", f.name])
            self.assertEqual(r.returncode, 0, r.stderr.decode())

    def test_the_validator_rejects_what_an_api_server_would(self):
        base = self.render()
        bad = {
            "unknown field": base.replace("automountServiceAccountToken: false\n",
                                          "automountServiceAccountToken: false\n  hostNetwrk: true\n", 1),
            "wrong type": base.replace("terminationGracePeriodSeconds: 30",
                                       'terminationGracePeriodSeconds: "soon"'),
            "mount of no volume": base.replace("- name: archive\n          emptyDir: {}",
                                               "- name: scratch\n          emptyDir: {}"),
            "bad quantity": base.replace("memory: 128Mi", "memory: 128 megs"),
            "selector misses the pod": base.replace(
                "      labels:\n        app.kubernetes.io/name: logship",
                "      labels:\n        app.kubernetes.io/name: other", 1),
        }
        for what, text in bad.items():
            with self.subTest(what):
                self.assertNotEqual(text, base, f"{what}: the edit did not apply")
                r = subprocess.run([self.validate], input=text.encode(), capture_output=True,
                                   timeout=120)
                self.assertEqual(r.returncode, 1, r.stdout.decode() + r.stderr.decode())
                self.assertNotEqual(json.loads(r.stdout.decode())["errors"], [])


if __name__ == "__main__":
    support.main()
