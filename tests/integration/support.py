"""Helpers for integration tests: run the real logship binary, wait for conditions, read outputs.

Every wait is bounded; every process a test starts is stopped by the test (or its tearDown).
"""
import glob
import gzip
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import unittest

LOGSHIP = os.environ.get("LOGSHIP_BIN", os.path.join(os.path.dirname(__file__), "../../build/daemon/logship"))
SOURCE_DIR = os.environ.get("LOGSHIP_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
# "asan" (ASan + UBSan) or "tsan" when LOGSHIP_BIN is a sanitizer build (scripts/test.sh sets it).
# Only bounds a sanitizer legitimately changes read it (RSS, throughput-bound timeouts); counts,
# bytes, loss and duplication are asserted exactly as in the release build.
SANITIZER = os.environ.get("LOGSHIP_SANITIZER", "")

# The first line of every ASan/LSan/UBSan/TSan report. UBSan's is "file:line:col: runtime error:",
# matched with its location so a log message quoting the words cannot trip it.
_SANITIZER_REPORT = re.compile(
    r"ERROR: (?:Address|Leak|Thread|Memory)Sanitizer|WARNING: ThreadSanitizer|"
    r"\S+:\d+:\d+: runtime error: |SUMMARY: UndefinedBehaviorSanitizer")


def sanitizer_report(text):
    """The sanitizer report in text (from its first line on, shortened), or None."""
    m = _SANITIZER_REPORT.search(text)
    if not m:
        return None
    start = text.rfind("\n", 0, m.start()) + 1
    return text[start:start + 6000]


def assert_no_sanitizer_report(text, what):
    report = sanitizer_report(text)
    if report:
        raise AssertionError(f"sanitizer report in {what}:\n{report}")


# How much slower the daemon is than the release build, with margin: ASan+UBSan Debug ~2-3x,
# TSan Debug ~5-10x (measured on 2 busy cores). Tests whose load generator must stay below the
# daemon's throughput (Docker deletes files the daemon has not reached yet: that loss would be the
# test's, not the daemon's) divide their write rate by it; timeouts waiting on throughput multiply
# by it.
SLOWDOWN = {"": 1, "asan": 3, "tsan": 6}[SANITIZER]


# Debian's librdkafka starts its threads with C11 thrd_create, which TSan does not intercept: the
# first malloc on a librdkafka thread crashes inside TSan (uninitialized thread state), and no
# suppression can help. Kafka tests skip under TSan only; they run under ASan+UBSan.
KAFKA_UNDER_TSAN = ("librdkafka threads (C11 thrd_create) crash under ThreadSanitizer; "
                    "the Kafka tests run under ASan+UBSan instead")


def scaled(seconds):
    """A timeout that waits on the daemon's throughput, longer under a sanitizer. Not for
    timeouts that assert a latency promise."""
    return seconds * SLOWDOWN


def rss_limit(release_bytes):
    """An RSS bound for the build under test. ASan keeps up to 256 MiB of freed memory in its
    quarantine and adds shadow memory and redzones (~3x live heap); TSan's shadow is ~4x. Memory
    must still stay bounded: an outage that grows the heap without limit still fails."""
    if SANITIZER == "asan":
        return 3 * release_bytes + (256 << 20)
    if SANITIZER == "tsan":
        return 4 * release_bytes
    return release_bytes


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
    """Runs a logship command to completion; returns CompletedProcess with text output.
    A sanitizer report on its stderr fails the caller."""
    r = subprocess.run([LOGSHIP] + args, capture_output=True, timeout=timeout, input=input_bytes)
    assert_no_sanitizer_report(r.stderr.decode("utf-8", "replace"), f"logship {' '.join(args)}")
    return r


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
        self.stderr_logs = []

    def tearDown(self):
        for d in self.daemons:
            if d.running():
                d.kill9()
        # A sanitizer report fails the test even when the daemon otherwise behaved (a race or a
        # leak reported at exit does not change what the test observed).
        for path in [d.log_path for d in self.daemons] + self.stderr_logs:
            if os.path.exists(path):
                with open(path, "rb") as f:
                    assert_no_sanitizer_report(f.read().decode("utf-8", "replace"), path)

    def watch_stderr(self, path):
        """Registers the stderr file of a logship process a test started itself, so that a
        sanitizer report in it fails the test like one in a Daemon's."""
        self.stderr_logs.append(path)
        return path

    def daemon(self, config_text, **kw):
        d = Daemon(config_text, self.tmp, **kw)
        self.daemons.append(d)
        return d


def main():
    unittest.main(verbosity=2)
