"""The logship container image (packaging/docker/), built from the local rootfs by
build-image.sh and run on a real engine (the `dockerd` fixture) exactly as the Dockerfile
documents it: read-only root, --cap-drop ALL --cap-add DAC_READ_SEARCH, uid 10001, Docker's
containers directory mounted read-only, state on a volume. It ships the other containers' logs
(exact record set) and what the packaging promises about privilege is checked on the running
process.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time

import docker_support
import support

IMAGE = "logship-test/logship:1"
SEQ_RE = re.compile(r"^c=(\S+) seq=(\d+) ")
CAP_DAC_READ_SEARCH = 1 << 2


class DockerEngineImageTest(support.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.engine = docker_support.Engine()
        cls.engine.check()
        env = dict(cls.engine.env, DOCKER=docker_support.DOCKER)
        script = os.path.join(support.SOURCE_DIR, "packaging/docker/build-image.sh")
        r = subprocess.run(["bash", script, "--binary", support.LOGSHIP, "--tag", IMAGE], env=env,
                           capture_output=True, timeout=300)
        assert r.returncode == 0, f"build-image.sh failed: {r.stdout.decode()}{r.stderr.decode()}"

    def setUp(self):
        super().setUp()
        self.containers = []
        self.volumes = []

    def tearDown(self):
        self.engine.rm(*self.containers)
        for v in self.volumes:
            self.engine.docker("volume", "rm", "-f", v, check=False)
        super().tearDown()

    def test_image_ships_other_containers_logs_with_least_privilege(self):
        archive = tempfile.mkdtemp(prefix="logship-image-archive-", dir=self.tmp)
        os.chown(archive, 10001, 10001)
        state = f"logship-state-{os.getpid()}"
        self.volumes.append(state)
        # As documented in packaging/docker/Dockerfile (--network none instead of -p: the test
        # engine has no bridge; /health is asked from inside, by the HEALTHCHECK's own command).
        r = self.engine.docker(
            "run", "-d", "--name", f"logship-{os.getpid()}", "--network", "none",
            "--read-only", "--cap-drop", "ALL", "--cap-add", "DAC_READ_SEARCH",
            "-v", f"{self.engine.data_root}/containers:/var/lib/docker/containers:ro",
            "-v", f"{state}:/var/lib/logship", "-v", f"{archive}:/var/log/logship",
            "--health-interval", "1s", IMAGE)
        ls = r.stdout.decode().strip()
        self.containers.append(ls)

        names = [f"img{i}" for i in range(3)]
        cids = [self.engine.run(docker_support.numbered_lines_script(n, 3000), "--name",
                                f"{n}-{os.getpid()}") for n in names]
        self.containers += cids
        for cid in cids:
            self.assertEqual(self.engine.wait(cid), 0)

        def seqs():
            got = {}
            for r in support.read_file_output(archive):
                m = SEQ_RE.match(r.get("message", ""))
                if m:
                    got.setdefault(m.group(1), []).append(int(m.group(2)))
            return got

        def logs():
            return b"".join(self.engine.logs(ls)).decode(errors="replace")

        try:
            support.wait_for(lambda: all(len(seqs().get(n, [])) >= 3000 for n in names),
                             timeout=support.scaled(60), interval=0.3, what="every line shipped")
        except AssertionError:
            raise AssertionError("not shipped; logship's log:\n" + logs()[-3000:])
        time.sleep(0.5)
        got = seqs()
        for n in names:
            self.assertEqual(sorted(got[n]), list(range(3000)), n)

        # /health, asked the way the image's HEALTHCHECK asks it; and the engine's verdict.
        r = self.engine.docker("exec", ls, "/bin/wget", "-q", "-O", "-",
                               "http://127.0.0.1:2021/health")
        self.assertEqual(r.returncode, 0)
        support.wait_for(lambda: self.engine.inspect(ls)["State"].get("Health", {}).get("Status")
                         == "healthy", timeout=30, what="container healthy")

        # Least privilege, on the running process.
        pid = self.engine.inspect(ls)["State"]["Pid"]
        with open(f"/proc/{pid}/status") as f:
            st = dict(l.split(":\t", 1) for l in f.read().splitlines() if ":\t" in l)
        self.assertEqual(st["Uid"].split()[:3], ["10001"] * 3)
        self.assertEqual(st["Gid"].split()[:3], ["10001"] * 3)
        self.assertEqual(int(st["CapEff"], 16), CAP_DAC_READ_SEARCH)
        self.assertEqual(int(st["CapPrm"], 16), CAP_DAC_READ_SEARCH)
        self.assertEqual(int(st["CapBnd"], 16), CAP_DAC_READ_SEARCH)
        self.assertEqual(int(st["CapAmb"], 16), 0)
        self.assertEqual(st["NoNewPrivs"].strip(), "1")
        info = self.engine.inspect(ls)
        self.assertTrue(info["HostConfig"]["ReadonlyRootfs"])
        r = self.engine.docker("exec", ls, "/bin/sh", "-c", "echo x > /usr/bin/x", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"Read-only file system", r.stderr)
        # No setuid/setgid file anywhere in the image.
        r = self.engine.docker("exec", ls, "/bin/busybox", "find", "/", "-xdev", "-perm", "+6000",
                               "-type", "f")
        self.assertEqual(r.stdout.strip(), b"")
        # Its own log, read through docker logs: started, no error.
        self.assertIn('msg="starting"', logs())
        self.assertNotIn("level=error", logs())

        # SIGTERM (docker stop) drains and exits 0.
        self.engine.docker("stop", "-t", "20", ls, timeout=60)
        self.assertEqual(self.engine.inspect(ls)["State"]["ExitCode"], 0)


if __name__ == "__main__":
    support.main()
