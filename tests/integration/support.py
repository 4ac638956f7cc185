"""Helpers for integration tests: run the real logship binary, wait for conditions, read outputs.

Every wait is bounded; every process a test starts is stopped by the test (or its tearDown).
"""
import glob
import gzip
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

LOGSHIP = os.environ.get("LOGSHIP_BIN", os.path.join(os.path.dirname(__file__), "../../build/daemon/logship"))
SOURCE_DIR = os.environ.get("LOGSHIP_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))


def wait_for(predicate, timeout=30.0, interval=0.05, what="condition"):
    """Polls predicate until it returns a truthy value; fails loudly after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Daemon:
    """One logship process running a config written to a temporary directory."""

    def __init__(self, config_text, workdir, name="logship", extra_args=None, stdin=None, env=None):
        self.workdir = workdir
        self.config_path = os.path.join(workdir, f"{name}.yaml")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.log_path = os.path.join(workdir, f"{name}.stderr")
        self.stdout_path = os.path.join(workdir, f"{name}.stdout")
        self.extra_args = extra_args or []
        self.stdin = stdin
        self.env = env
        self.proc = None

    def start(self):
        self._log = open(self.log_path, "ab")
        self._out = open(self.stdout_path, "ab")
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen([LOGSHIP, "run", "-c", self.config_path] + self.extra_args,
                                     stdout=self._out, stderr=self._log,
                                     stdin=self.stdin if self.stdin is not None else subprocess.DEVNULL,
                                     env=env)
        return self

    def wait(self, timeout=60):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._close_files()

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Sends sig and waits for exit; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            self._close_files()
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        return self.wait(timeout)

    def kill9(self):
        return self.stop(signal.SIGKILL, timeout=30)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def _close_files(self):
        for f in (getattr(self, "_log", None), getattr(self, "_out", None)):
            if f and not f.closed:
                f.close()


def run_logship(args, timeout=60, input_bytes=None):
    """Runs a logship command to completion; returns CompletedProcess with text output."""
    return subprocess.run([LOGSHIP] + args, capture_output=True, timeout=timeout, input=input_bytes)


def read_lines(path):
    """Complete lines only: a file being appended to may end in a line whose rest is still
    in flight, and polling readers must not mistake that for a corrupt record. A final
    assertion on counts still catches a line that never gets its newline."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        lines = f.read().split(b"\n")
    return [l for l in lines[:-1] if l]


def read_file_output(directory, pattern="**/*"):
    """All JSON records under a file output's directory: archives and active files."""
    records = []
    for path in sorted(glob.glob(os.path.join(directory, pattern), recursive=True)):
        if os.path.isdir(path) or path.endswith(".tmp"):
            continue
        for line in read_lines(path):
            records.append(json.loads(line))
    return records


class TestCase(unittest.TestCase):
    """Gives each test a fresh temporary directory (kept on failure for inspection)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix=f"logship-{self.id().split('.')[-1]}-")
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            if d.running():
                d.kill9()

    def daemon(self, config_text, **kw):
        d = Daemon(config_text, self.tmp, **kw)
        self.daemons.append(d)
        return d


def main():
    unittest.main(verbosity=2)
