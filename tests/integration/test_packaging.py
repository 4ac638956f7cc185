"""Packaging rules, checked without a Docker engine or a cluster: the systemd unit's exposure
score, the Dockerfile, the Kubernetes DaemonSet and the compose stack, and the configs they
ship."""
import os
import re
import shutil
import subprocess

import yaml

import support

PKG = os.path.join(support.SOURCE_DIR, "packaging")
READ_SEARCH = "DAC_READ_SEARCH"


def unit_directives(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", "[")):
                continue
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
    return out


# Capabilities Pod Security `baseline` lets a container add (Kubernetes 1.30 docs).
BASELINE_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                 "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}


def baseline_violations(pod):
    """What in a pod spec the Pod Security `baseline` level forbids, one string each."""
    out = set()
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            out.add(key)
    for v in pod.get("volumes", []):
        if "hostPath" in v:
            out.add(f"hostPath volume {v['name']}")
    for c in pod.get("initContainers", []) + pod.get("containers", []):
        sc = c.get("securityContext", {})
        if sc.get("privileged"):
            out.add(f"privileged container {c['name']}")
        for cap in sc.get("capabilities", {}).get("add", []):
            if cap not in BASELINE_CAPS:
                out.add(f"capability {cap} in container {c['name']}")
        if sc.get("procMount", "Default") != "Default":
            out.add(f"procMount in container {c['name']}")
        for p in c.get("ports", []):
            if p.get("hostPort"):
                out.add(f"hostPort in container {c['name']}")
    if pod.get("securityContext", {}).get("sysctls"):
        out.add("sysctls")
    return out


def duration_seconds(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", str(text))
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def dockerfile_instructions(path):
    """[(INSTRUCTION, args)] with continuation lines joined and comments dropped."""
    out, cur = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not cur and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.rstrip().endswith("\\"):
                cur += line.rstrip()[:-1] + " "
                continue
            cur += line
            word, _, rest = cur.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            cur = ""
    return out


def image_pinned(image):
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and tag not in ("", "latest") and "$" not in image


def listen_port(config_text):
    cfg = yaml.safe_load(config_text)
    m = re.fullmatch(r"0\.0\.0\.0:(\d+)", cfg["service"]["http_listen"])
    return int(m.group(1)) if m else None


class PackagingTest(support.TestCase):
    def validate_config(self, path):
        """`logship validate`; plugin types another branch provides may be missing from this
        build: then those must be the only errors."""
        r = support.run_logship(["validate", "-c", path])
        if r.returncode == 0:
            return
        errors = [l for l in r.stderr.decode().splitlines() if not l.endswith(f"in {path}")]
        unknown = [e for e in errors
                   if re.search(r"unknown (input|output) type '(docker|cri|elasticsearch)'", e)]
        self.assertEqual(errors, unknown, f"{path} has real errors")
        print(f"NOTE: {os.path.basename(path)}: plugins not in this build, only checked the rest:"
              f" {unknown}")

    def test_systemd_unit_exposure_is_ok(self):
        unit = os.path.join(PKG, "systemd", "logship.service")
        tool = shutil.which("systemd-analyze")
        self.assertIsNotNone(tool, "systemd-analyze missing")
        r = subprocess.run([tool, "security", "--offline=yes", unit], capture_output=True,
                           timeout=120)
        out = r.stdout.decode() + r.stderr.decode()
        m = re.search(r"Overall exposure level for logship\.service: (\d+\.\d+) (\w+)", out)
        self.assertIsNotNone(m, out)
        self.assertLessEqual(float(m.group(1)), 2.0, out)
        self.assertEqual(m.group(2), "OK", out)

        d = unit_directives(unit)
        self.assertNotIn(d.get("User", ["root"])[0], ("root", "0", ""))
        self.assertEqual(d["CapabilityBoundingSet"], ["CAP_DAC_READ_SEARCH"])
        self.assertEqual(d["AmbientCapabilities"], ["CAP_DAC_READ_SEARCH"])
        for k, v in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                     "PrivateTmp": "yes"}.items():
            self.assertEqual(d[k], [v], k)
        self.assertEqual(d["ReadWritePaths"], ["/var/lib/logship /var/log/logship"])
        self.assertEqual(d["RestrictAddressFamilies"], ["AF_UNIX AF_INET AF_INET6"])
        self.assertIn("@system-service", d["SystemCallFilter"])
        # systemctl reload returns the daemon's outcome, not just "signal sent".
        self.assertEqual(d["ExecReload"], [d["ExecStart"][0].split(" run ")[0] +
                                           " reload -c /etc/logship/logship.yaml"])

    def test_dockerfile_rules(self):
        # The image is built by build-image.sh from the local rootfs (no base image, no registry);
        # test_docker_engine_image.py builds and runs it on a real engine.
        ins = dockerfile_instructions(os.path.join(PKG, "docker", "Dockerfile"))
        self.assertEqual(ins[0], ("FROM", "scratch"))
        final = ins
        kinds = [k for k, _ in final]
        self.assertEqual(sum(k in ("RUN", "COPY", "ADD") for k in kinds), 1, kinds)
        self.assertIn(("ADD", "rootfs.tar /"), final)
        users = [a for k, a in final if k == "USER"]
        self.assertEqual(len(users), 1)
        self.assertNotIn(users[0].split(":")[0], ("root", "0"))
        with open(os.path.join(PKG, "docker", "build-image.sh")) as f:
            build = f.read()
        self.assertIn('setcap cap_dac_read_search=p "$rootfs/usr/bin/logship"', build)
        self.assertIn("-perm /6000", build)
        self.assertIn("--xattrs-include='security.capability'", build)

        health = [a for k, a in final if k == "HEALTHCHECK"]
        self.assertEqual(len(health), 1)
        with open(os.path.join(PKG, "docker", "logship.yaml")) as f:
            config_text = f.read()
        port = listen_port(config_text)
        self.assertIn(f'"http://127.0.0.1:{port}/health"', health[0])
        self.assertIn(("EXPOSE", str(port)), final)
        # --read-only: everything logship writes is on a volume.
        cfg = yaml.safe_load(config_text)
        volumes = [a for k, a in final if k == "VOLUME"]
        self.assertEqual(len(volumes), 1)
        for path in (cfg["service"]["state_dir"], "/var/log/logship"):
            self.assertIn(f'"{path}"', volumes[0])
        self.assertTrue(cfg["outputs"]["archive"]["path"].startswith("/var/log/logship/"))
        self.assertEqual(ins[-1], ("CMD", '["run", "-c", "/etc/logship/logship.yaml"]'))
        self.assertTrue(os.path.exists(os.path.join(PKG, "docker", "Dockerfile.dockerignore")))
        self.validate_config(os.path.join(PKG, "docker", "logship.yaml"))

    def test_kubernetes_daemonset_rules(self):
        with open(os.path.join(PKG, "kubernetes", "daemonset.yaml")) as f:
            docs = list(yaml.safe_load_all(f))
        by_kind = {d["kind"]: d for d in docs}
        ds = by_kind["DaemonSet"]
        pod = ds["spec"]["template"]["spec"]
        self.assertIs(pod["securityContext"]["runAsNonRoot"], True)
        self.assertNotEqual(pod["securityContext"]["runAsUser"], 0)
        self.assertIs(pod["automountServiceAccountToken"], False)
        self.assertNotIn("hostNetwork", pod)
        self.assertNotIn("hostPID", pod)
        (c,) = pod["containers"]
        sc = c["securityContext"]
        self.assertIs(sc["runAsNonRoot"], True)
        self.assertNotEqual(sc["runAsUser"], 0)
        self.assertIs(sc["readOnlyRootFilesystem"], True)
        self.assertIs(sc["privileged"], False)
        self.assertEqual(sc["capabilities"], {"drop": ["ALL"], "add": [READ_SEARCH]})
        self.assertTrue(image_pinned(c["image"]), c["image"])
        for init in pod.get("initContainers", []):
            self.assertEqual(init["securityContext"]["capabilities"],
                             {"drop": ["ALL"], "add": ["CHOWN"]})
            self.assertIs(init["securityContext"]["allowPrivilegeEscalation"], False)
            self.assertIs(init["securityContext"]["readOnlyRootFilesystem"], True)
        self.assertIn("limits", c["resources"])

        config_text = by_kind["ConfigMap"]["data"]["logship.yaml"]
        port = listen_port(config_text)
        self.assertEqual(c["ports"][0]["containerPort"], port)
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/health")
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/ready")

        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        cfg = yaml.safe_load(config_text)
        # Host log directories are read-only; state survives pod restarts on the node.
        pods_root = cfg["inputs"]["pods"]["pods_root"]
        self.assertIs(mounts[pods_root]["readOnly"], True)
        self.assertIn("hostPath", volumes[mounts[pods_root]["name"]])
        state = mounts[cfg["service"]["state_dir"]]
        self.assertIn("hostPath", volumes[state["name"]])
        for m in c["volumeMounts"]:
            if "hostPath" in volumes[m["name"]] and m is not state:
                self.assertIs(m.get("readOnly"), True, m)
        self.assertEqual(volumes["secrets"]["secret"]["defaultMode"], 0o400)

        # Config edits reach the pod (no subPath) and are picked up without a restart.
        for m in c["volumeMounts"]:
            self.assertNotIn("subPath", m, m)
        config_file = c["args"][c["args"].index("-c") + 1]
        config_mount = mounts[os.path.dirname(config_file)]
        self.assertIn("configMap", volumes[config_mount["name"]])
        self.assertGreater(duration_seconds(cfg["service"]["config_watch_interval"]), 0)
        self.assertEqual(pod["priorityClassName"], "system-node-critical")

        # The container's memory holds logship's budget with room for the process itself.
        def mib(q):
            units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "KiB": 1 / 1024, "MiB": 1, "GiB": 1024}
            num = q.rstrip("KMGiB")
            return float(num) * units[q[len(num):]]
        budget = mib(cfg["service"]["memory_limit"])
        self.assertGreaterEqual(mib(c["resources"]["requests"]["memory"]), budget + 32)
        self.assertGreaterEqual(mib(c["resources"]["limits"]["memory"]),
                                mib(c["resources"]["requests"]["memory"]))

        # Pod Security: exactly the two documented needs break `baseline`, so the namespace
        # enforces `privileged` and warns/audits at `baseline`.
        labels = by_kind["Namespace"]["metadata"]["labels"]
        self.assertEqual(labels["pod-security.kubernetes.io/enforce"], "privileged")
        self.assertEqual(labels["pod-security.kubernetes.io/warn"], "baseline")
        self.assertEqual(baseline_violations(pod),
                         {"hostPath volume pods", "hostPath volume state",
                          "capability DAC_READ_SEARCH in container logship"})
        path = os.path.join(self.tmp, "k8s.yaml")
        with open(path, "w") as f:
            f.write(config_text)
        self.validate_config(path)

    def test_compose_stack_rules(self):
        with open(os.path.join(PKG, "compose", "docker-compose.yml")) as f:
            compose = yaml.safe_load(f)
        services = compose["services"]
        self.assertEqual(set(services), {"logship", "opensearch", "dashboards"})
        ls = services["logship"]
        self.assertIs(ls["read_only"], True)
        self.assertEqual(ls["cap_drop"], ["ALL"])
        self.assertEqual(ls["cap_add"], [READ_SEARCH])
        self.assertNotIn(ls["user"].split(":")[0], ("root", "0"))
        self.assertNotIn("privileged", ls)
        self.assertIn("/var/lib/docker/containers:/var/lib/docker/containers:ro", ls["volumes"])
        self.assertNotIn("build", ls)   # packaging/docker/build-image.sh makes the image
        self.assertEqual(ls["depends_on"]["opensearch"]["condition"], "service_healthy")
        for name, svc in services.items():
            self.assertTrue(image_pinned(svc["image"]), f"{name}: {svc['image']}")
            for p in svc.get("ports", []):
                self.assertTrue(p.startswith("127.0.0.1:"), f"{name} publishes {p} beyond loopback")
        self.assertIn("healthcheck", services["opensearch"])
        with open(os.path.join(PKG, "compose", "logship.yaml")) as f:
            cfg = yaml.safe_load(f)
        self.assertIn("./logship.yaml:/etc/logship/logship.yaml:ro", ls["volumes"])
        self.assertEqual(cfg["outputs"]["search"]["hosts"], ["http://opensearch:9200"])
        self.assertIn(f"127.0.0.1:{listen_port(yaml.dump(cfg))}:{listen_port(yaml.dump(cfg))}",
                      ls["ports"])
        self.assertTrue(any(v.startswith("logship-state:" + cfg["service"]["state_dir"])
                            for v in ls["volumes"]))
        self.validate_config(os.path.join(PKG, "compose", "logship.yaml"))


if __name__ == "__main__":
    support.main()
