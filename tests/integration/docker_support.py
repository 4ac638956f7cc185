"""The private Docker engine of the test run (scripts/servers/dockerd.sh, started once per ctest run
by the `dockerd` fixture), and helpers to run test containers on it.

Test containers use `logship-test/busybox:1` (Debian's static busybox, imported by dockerd.sh) and
run with --network none. Every call is bounded by a timeout.
"""
import json
import os
import subprocess
import time

import support

DOCKERD_DIR = os.environ.get("LOGSHIP_DOCKERD_DIR", f"/tmp/logship-dockerd-{os.getuid()}")
# Debian's client matches dockerd 20.10 (a newer client elsewhere on PATH may not).
DOCKER = "/usr/bin/docker" if os.access("/usr/bin/docker", os.X_OK) else "docker"
TEST_IMAGE = "logship-test/busybox:1"


class Engine:
    def __init__(self):
        self.dir = DOCKERD_DIR
        self.host = "unix://" + os.path.join(self.dir, "docker.sock")
        self.data_root = os.path.join(self.dir, "root")
        self.env = dict(os.environ, DOCKER_HOST=self.host)

    def check(self):
        """Fails (never skips) when the engine of the fixture is not there."""
        r = subprocess.run([DOCKER, "version", "--format", "{{.Server.Version}}"], env=self.env,
                           capture_output=True, timeout=30)
        assert r.returncode == 0, (
            f"no Docker engine at {self.host} (ctest starts it: fixture servers.dockerd.start; by "
            f"hand: scripts/servers/dockerd.sh start): {r.stderr.decode()}")
        return r.stdout.decode().strip()

    def docker(self, *args, check=True, timeout=120, input=None):
        r = subprocess.run([DOCKER, *args], env=self.env, capture_output=True, timeout=timeout,
                           input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed ({r.returncode}): "
                                 f"{r.stderr.decode(errors='replace')}")
        return r

    def run(self, script, *opts, detach=True, image=TEST_IMAGE, timeout=120):
        """Starts `sh -c script` in a test container; returns its id (detached) or the result."""
        args = ["run", "--network", "none"]
        if detach:
            args.append("-d")
        args += list(opts) + [image, "sh", "-c", script]
        r = self.docker(*args, timeout=timeout)
        return r.stdout.decode().strip() if detach else r

    def wait(self, cid, timeout=120):
        """Waits for the container to exit; returns its exit code."""
        r = self.docker("wait", cid, timeout=timeout)
        return int(r.stdout.decode().strip())

    def inspect(self, cid):
        return json.loads(self.docker("inspect", cid).stdout)[0]

    def rm(self, *cids):
        if cids:
            self.docker("rm", "-f", *cids, check=False)

    def logs(self, cid, *opts):
        """`docker logs` as the engine prints it: (stdout bytes, stderr bytes)."""
        r = self.docker("logs", *opts, cid)
        return r.stdout, r.stderr

    def container_dir(self, cid):
        return os.path.join(self.data_root, "containers", cid)


def numbered_lines_script(name, count, pad=60, stream="stdout", start=0):
    """A busybox sh program printing `c=<name> seq=<n> xxx...` for n in [start, start+count)."""
    filler = "x" * pad
    redirect = " >&2" if stream == "stderr" else ""
    return (f"i={start}; while [ $i -lt {start + count} ]; do "
            f"echo \"c={name} seq=$i {filler}\"{redirect}; i=$((i+1)); done")


def wait_gone(path, timeout=30):
    support.wait_for(lambda: not os.path.exists(path), timeout=timeout, what=f"{path} removed")
