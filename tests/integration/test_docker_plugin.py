"""docker_plugin input, driven by a harness that behaves as dockerd does (formats.md §3).

The Engine class plays the engine's part: it creates each container's FIFO (os.mkfifo) and holds
it O_RDWR|O_NONBLOCK, calls the plugin's HTTP API over the unix socket, writes length-prefixed
LogEntry frames (protobuf encoded by hand here), calls StopLogging and reads ReadLogs streams.
"""
import http.client
import json
import os
import random
import select
import shutil
import socket
import string
import subprocess
import struct
import tempfile
import threading
import time

import support
from ops_support import admin_port, get, parse_metrics


def pending_bytes(port):
    """logship_memory_bytes{part="docker_plugin_pending"} of the daemon."""
    metrics = parse_metrics(get(port, "/metrics")[1])
    return metrics['logship_memory_bytes{part="docker_plugin_pending"}']


CHUNK = 16 * 1024   # Docker splits lines at 16 KiB


# ---- protobuf LogEntry, by hand -----------------------------------------------------------

def varint(v):
    if v < 0:
        v += 1 << 64
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field_bytes(num, data):
    return varint((num << 3) | 2) + varint(len(data)) + data


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def encode_entry(line, source="stdout", time_nano=0, partial=False, meta=None):
    """meta = (last, id, ordinal) for partial_log_metadata."""
    out = b""
    if source:
        out += field_bytes(1, source.encode())
    if time_nano:
        out += field_varint(2, time_nano)
    if line:
        out += field_bytes(3, line)
    if partial:
        out += field_varint(4, 1)
    if meta is not None:
        last, pid, ordinal = meta
        m = b""
        if last:
            m += field_varint(1, 1)
        if pid:
            m += field_bytes(2, pid.encode())
        if ordinal:
            m += field_varint(3, ordinal)
        out += field_bytes(5, m)
    return out


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def read_varint(b, i):
    shift = v = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def decode_entry(b):
    e = {"source": "", "time_nano": 0, "line": b"", "partial": False, "meta": None}
    i = 0
    while i < len(b):
        key, i = read_varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = read_varint(b, i)
            if num == 2:
                e["time_nano"] = v
            elif num == 4:
                e["partial"] = bool(v)
        elif wire == 2:
            n, i = read_varint(b, i)
            data = b[i:i + n]
            i += n
            if num == 1:
                e["source"] = data.decode()
            elif num == 3:
                e["line"] = data
            elif num == 5:
                meta = {"last": False, "id": "", "ordinal": 0}
                j = 0
                while j < len(data):
                    k, j = read_varint(data, j)
                    if k & 7 == 0:
                        v, j = read_varint(data, j)
                        if k >> 3 == 1:
                            meta["last"] = bool(v)
                        elif k >> 3 == 3:
                            meta["ordinal"] = v
                    else:
                        n2, j = read_varint(data, j)
                        if k >> 3 == 2:
                            meta["id"] = data[j:j + n2].decode()
                        j += n2
                e["meta"] = meta
        else:
            raise AssertionError(f"unexpected wire type {wire}")
    return e


def decode_stream(data):
    """Frames -> complete lines (partial chunks merged as the engine's reader does)."""
    lines, i, merging = [], 0, None
    while i + 4 <= len(data):
        (size,) = struct.unpack(">I", data[i:i + 4])
        assert i + 4 + size <= len(data), "truncated frame in ReadLogs stream"
        e = decode_entry(data[i + 4:i + 4 + size])
        i += 4 + size
        if merging is None:
            merging = e
        else:
            merging["line"] += e["line"]
        if not e["partial"] or (e["meta"] and e["meta"]["last"]):
            lines.append(merging)
            merging = None
    assert i == len(data), "trailing bytes in ReadLogs stream"
    return lines


def chunks_of(line, time_nano, pid, source="stdout"):
    """The frames Docker writes for one long line: all partial, the last with last=true."""
    parts = [line[k:k + CHUNK] for k in range(0, len(line), CHUNK)]
    return [frame(encode_entry(p, source, time_nano, True, (n == len(parts), pid, n)))
            for n, p in enumerate(parts, 1)]


# ---- the engine side ----------------------------------------------------------------------

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class FifoWriter:
    """The engine's end of a container FIFO: O_RDWR|O_NONBLOCK, so the plugin never sees EOF."""

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self.max_stall = 0.0

    def write(self, data, stall_limit=60.0):
        """Writes all of data; returns False if a write could not proceed for stall_limit s."""
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
                view = view[n:]
                continue
            except BlockingIOError:
                pass
            started = time.monotonic()
            _, w, _ = select.select([], [self.fd], [], stall_limit)
            stalled = time.monotonic() - started
            self.max_stall = max(self.max_stall, stalled)
            if not w:
                return False
        return True

    def close(self):
        os.close(self.fd)


class Engine:
    def __init__(self, sock_path, fifo_dir):
        self.sock_path = sock_path
        self.fifo_dir = fifo_dir
        os.makedirs(fifo_dir, exist_ok=True)

    def call(self, endpoint, body=None, method="POST", raw=None):
        conn = UnixHTTPConnection(self.sock_path)
        data = raw if raw is not None else (b"" if body is None else (json.dumps(body) + "\n").encode())
        conn.request(method, endpoint, body=data,
                     headers={"Accept": "application/vnd.docker.plugins.v1.2+json",
                              "Content-Type": "application/json"})
        resp = conn.getresponse()
        text = resp.read()
        conn.close()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return resp.status, parsed

    def start(self, cid, name, image="shop/api:1.2", labels=None, opts=None):
        path = os.path.join(self.fifo_dir, "".join(random.choices("0123456789abcdef", k=64)))
        os.mkfifo(path, 0o700)
        writer = FifoWriter(path)
        info = {"Config": opts or {}, "ContainerID": cid, "ContainerName": "/" + name,
                "ContainerEntrypoint": "/app", "ContainerArgs": [], "ContainerImageID": "sha256:abc",
                "ContainerImageName": image, "ContainerCreated": "2026-01-01T00:00:00Z",
                "ContainerEnv": ["SECRET_TOKEN=hunter2"], "ContainerLabels": labels or {},
                "LogPath": "", "DaemonName": "docker"}
        status, reply = self.call("/LogDriver.StartLogging", {"File": path, "Info": info})
        assert status == 200 and reply == {"Err": ""}, (status, reply)
        return path, writer

    def stop(self, path, writer):
        status, reply = self.call("/LogDriver.StopLogging", {"File": path})
        assert status == 200 and reply == {"Err": ""}, (status, reply)
        # Only after the reply does the engine close its end and remove the FIFO.
        writer.close()
        os.unlink(path)

    def read_logs_request(self, cid, since=None, until=None, tail=-1, follow=False):
        cfg = {"Since": since or "0001-01-01T00:00:00Z", "Until": until or "0001-01-01T00:00:00Z",
               "Tail": tail, "Follow": follow}
        conn = UnixHTTPConnection(self.sock_path)
        conn.request("POST", "/LogDriver.ReadLogs",
                     body=(json.dumps({"Info": {"ContainerID": cid}, "Config": cfg}) + "\n").encode())
        resp = conn.getresponse()
        return conn, resp

    def read_logs(self, cid, **kw):
        conn, resp = self.read_logs_request(cid, **kw)
        assert resp.status == 200, resp.status
        data = resp.read()
        conn.close()
        return decode_stream(data)


def rfc3339(ns):
    s, frac = divmod(ns, 10**9)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%09dZ" % frac


def words(rng, n):
    return "".join(rng.choices(string.ascii_letters + string.digits + " ", k=n)).encode()


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


class DockerPluginTest(support.TestCase):

    def config(self, out_path, extra_input="", service=""):
        # sun_path holds 108 bytes; the test's temp dir name can be longer.
        if not hasattr(self, "sockdir"):
            self.sockdir = tempfile.mkdtemp(prefix="lsp-", dir="/tmp")
            self.addCleanup(shutil.rmtree, self.sockdir, True)
        self.sock = os.path.join(self.sockdir, "plugins", "logship.sock")
        self.state = os.path.join(self.tmp, "state")
        self.out_path = out_path
        return f"""
service:
  state_dir: {self.state}
  retry_initial: 20ms
  retry_max: 200ms
  drain_timeout: 5s
{service}
inputs:
  engine:
    type: docker_plugin
    socket: {self.sock}
    max_frame_size: 64KiB
    max_line: 2MiB
{extra_input}
outputs:
  files:
    type: file
    path: {out_path}
    compress: false
"""

    def start_daemon(self, cfg, name="logship"):
        d = self.daemon(cfg, name=name).start()
        support.wait_for(lambda: os.path.exists(self.sock) or not d.running(), timeout=20,
                         what="plugin socket")
        self.assertTrue(d.running(), d.stderr())
        self.engine = Engine(self.sock, os.path.join(self.tmp, "run-docker-logging"))
        return d

    def assertSameList(self, got, want):
        """Like assertEqual on lists, with a short message (difflib is too slow for 40k items)."""
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                self.fail(f"item {i}: got {g!r}, want {w!r}")
        self.assertEqual(len(got), len(want))

    def records(self, directory=None):
        return support.read_file_output(directory or os.path.join(self.tmp, "out"))

    def wait_records(self, n, directory=None, timeout=60):
        return support.wait_for(lambda: (lambda r: r if len(r) >= n else None)(self.records(directory)),
                                timeout=timeout, what=f"{n} records")

    # --------------------------------------------------------------------------------------

    def test_protocol_replies(self):
        d = self.start_daemon(self.config(os.path.join(self.tmp, "out", "{container_name}.log")))
        self.assertEqual(self.engine.call("/Plugin.Activate"), (200, {"Implements": ["LogDriver"]}))
        self.assertEqual(self.engine.call("/LogDriver.Capabilities"),
                         (200, {"Cap": {"ReadLogs": True}, "Err": ""}))
        d.stop()

    def test_lines_from_several_containers_arrive_exactly_once_with_container_fields(self):
        d = self.start_daemon(self.config(os.path.join(self.tmp, "out", "{container_name}.log")))
        rng = random.Random(8)
        n = 3000
        containers = []
        for k in range(3):
            cid = f"{k:x}" * 64
            path, w = self.engine.start(
                cid, f"svc-{k}", image=f"shop/svc{k}:1.{k}",
                labels={"com.docker.compose.project": "shop", "team": f"t{k}"},
                opts={"logship-parser": "json", "logship-multiline": "java", "mode": "blocking"})
            containers.append((cid, f"svc-{k}", path, w))
        expected = {}
        base = 1_700_000_000_000_000_000
        # Interleave the containers, as concurrent containers do.
        for i in range(n):
            for k, (cid, name, path, w) in enumerate(containers):
                line = b"%s seq=%d " % (name.encode(), i) + words(rng, rng.randint(0, 300))
                src = "stderr" if i % 7 == 0 else "stdout"
                self.assertTrue(w.write(frame(encode_entry(line, src, base + i))))
                expected[(name, i)] = (line.decode(), src, base + i)
        for cid, name, path, w in containers:
            self.engine.stop(path, w)
        recs = self.wait_records(3 * n)
        time.sleep(0.5)
        recs = self.records()
        self.assertEqual(len(recs), 3 * n)
        seen = set()
        for r in recs:
            name = r["container_name"]
            seq = int(r["message"].split(" ")[1].split("=")[1])
            key = (name, seq)
            self.assertNotIn(key, seen)
            seen.add(key)
            line, src, t = expected[key]
            self.assertEqual(r["message"], line)
            self.assertEqual(r["stream"], src)
            self.assertEqual(r["timestamp"], rfc3339(t))
            k = int(name.split("-")[1])
            self.assertEqual(r["container_id"], f"{k:x}" * 64)
            self.assertEqual(r["image"], f"shop/svc{k}:1.{k}")
            self.assertEqual(r["compose_project"], "shop")
            self.assertEqual(r["labels"], {"com.docker.compose.project": "shop", "team": f"t{k}",
                                           "logship.parser": "json", "logship.multiline": "java"})
            self.assertNotIn("hunter2", json.dumps(r))
        self.assertEqual(len(seen), 3 * n)
        self.assertEqual(d.stop(), 0)

    def test_partial_entries_are_merged_byte_exactly(self):
        d = self.start_daemon(self.config(os.path.join(self.tmp, "out", "{container_name}.log")))
        rng = random.Random(16)
        cid = "c" * 64
        path, w = self.engine.start(cid, "big")
        sizes = [CHUNK, CHUNK + 1, 3 * CHUNK - 1, 100 * 1024, 512 * 1024 + 7, 1024 * 1024]
        lines = []
        t = 1_700_000_100_000_000_000
        for n, size in enumerate(sizes):
            line = b"big%d " % n + words(rng, size - len(b"big%d " % n))
            lines.append(line)
            pid = "%064x" % rng.getrandbits(256)
            for fr in chunks_of(line, t + n, pid, "stderr" if n % 2 else "stdout"):
                self.assertTrue(w.write(fr))
            # A short line between the long ones stays separate.
            self.assertTrue(w.write(frame(encode_entry(b"small%d" % n, "stdout", t + n))))
            lines.append(b"small%d" % n)
        # Pre-metadata engines: partial=true without metadata, completed by a non-partial entry.
        self.assertTrue(w.write(frame(encode_entry(b"legacy-a ", "stdout", t + 99, partial=True))))
        self.assertTrue(w.write(frame(encode_entry(b"legacy-b", "stdout", t + 99))))
        lines.append(b"legacy-a legacy-b")
        self.engine.stop(path, w)
        recs = self.wait_records(len(lines))
        time.sleep(0.3)
        recs = self.records()
        self.assertEqual([r["message"].encode() for r in recs], lines)
        self.assertEqual(recs[0]["timestamp"], rfc3339(t))
        self.assertEqual(recs[2]["stream"], "stderr")
        # docker logs gets the same lines back (chunked again as the engine cut them, merged by
        # the reader), each with the newline the container wrote.
        got = [e["line"] for e in self.engine.read_logs(cid)]
        self.assertEqual(got, [l + b"\n" for l in lines])
        d.stop()

    def _stall_config(self, when_full="block", max_buffer="64MiB", blocker=None):
        blocker = blocker or os.path.join(self.tmp, "blocked")
        # A regular file where the output wants a directory: every delivery fails until it goes.
        # (Tests run as root, so a read-only directory would not stop the file output.)
        with open(blocker, "w") as f:
            f.write("not a directory")
        out = os.path.join(blocker, "{container_name}.log")
        cfg = self.config(out, service="  queue_max_bytes: 64KiB\n  batch_max_bytes: 16KiB\n",
                          extra_input=f"    max_buffer_size: {max_buffer}\n"
                                      f"    segment_size: 256KiB\n    when_full: {when_full}\n")
        return cfg, blocker

    def test_stalled_output_never_blocks_the_fifo_writer_and_spooled_data_is_delivered(self):
        cfg, blocker = self._stall_config()
        d = self.start_daemon(cfg)
        cid = "a" * 64
        path, w = self.engine.start(cid, "chatty")
        n = 40000
        payload = b"".join(frame(encode_entry(b"line %06d " % i + b"x" * 180, "stdout",
                                              1_700_000_000_000_000_000 + i)) for i in range(n))
        started = time.monotonic()
        for k in range(0, len(payload), 65536):
            self.assertTrue(w.write(payload[k:k + 65536], stall_limit=5.0),
                            "the FIFO writer was blocked for 5 s")
        elapsed = time.monotonic() - started
        # ~8.6 MB through a 64 KiB pipe while the output delivers nothing: the writer was only
        # ever briefly held (the plugin reads as fast as the disk takes it).
        self.assertLess(w.max_stall, 2.0)
        self.assertLess(elapsed, 30.0)
        spool = os.path.join(self.state, "spool", cid)
        # Every line is on disk (record: 8 header + 10 meta + 192 line bytes).
        support.wait_for(lambda: dir_bytes(spool) >= n * 210, timeout=20, what="spooled bytes")
        self.assertTrue(os.path.isfile(blocker))
        # The output recovers: everything arrives, exactly once, in order.
        os.unlink(blocker)
        recs = self.wait_records(n, directory=blocker, timeout=120)
        time.sleep(0.5)
        recs = self.records(blocker)
        self.assertSameList([r["message"][:12] for r in recs], ["line %06d " % i for i in range(n)])
        self.engine.stop(path, w)
        self.assertEqual(d.stop(), 0)

    def test_kill9_loses_nothing_spooled_and_restart_reopens_the_fifo(self):
        cfg, blocker = self._stall_config()
        d = self.start_daemon(cfg)
        cid = "b" * 64
        path, w = self.engine.start(cid, "survivor")
        n = 5000
        for i in range(n):
            self.assertTrue(w.write(frame(encode_entry(b"before %05d" % i, "stdout", 1 + i))))
        spool = os.path.join(self.state, "spool", cid)
        # All of them on disk (record: 8 header + 10 meta + 12 line bytes) before the kill.
        support.wait_for(lambda: dir_bytes(spool) >= n * 30, timeout=20, what="spooled lines")
        d.kill9()
        # The engine does not re-send StartLogging after a plugin restart; it keeps writing.
        # (Fewer than a pipe holds: with the plugin down the engine's writes would block.)
        during = 1000
        for i in range(during):
            self.assertTrue(w.write(frame(encode_entry(b"during %05d" % i, "stdout", 10**6 + i))))
        os.unlink(blocker)
        d2 = self.start_daemon(cfg, name="second")
        for i in range(n):
            self.assertTrue(w.write(frame(encode_entry(b"after %05d" % i, "stdout", 10**7 + i))))
        self.engine.stop(path, w)
        recs = self.wait_records(2 * n + during, directory=blocker, timeout=120)
        time.sleep(0.5)
        msgs = [r["message"] for r in self.records(blocker)]
        expected = (["before %05d" % i for i in range(n)] + ["during %05d" % i for i in range(during)]
                    + ["after %05d" % i for i in range(n)])
        self.assertSameList(msgs, expected)
        self.assertIn("reopened FIFO after restart", d2.stderr())
        self.assertEqual(d2.stop(), 0)

    def test_block_policy_holds_the_writer_when_the_spool_is_full(self):
        cfg, blocker = self._stall_config(when_full="block", max_buffer="256KiB")
        cfg = cfg.replace("  drain_timeout: 5s\n", "  drain_timeout: 5s\n  http_listen: 127.0.0.1:0\n")
        d = self.start_daemon(cfg)
        port = admin_port(d)
        path, w = self.engine.start("d" * 64, "blocky")
        n = 20000
        payload = b"".join(frame(encode_entry(b"row %05d " % i + b"y" * 100, "stdout", 1 + i))
                           for i in range(n))
        # Spool (256 KiB) + pipe (64 KiB) + queues take far less than 2.5 MB: the writer must stall.
        written = 0
        blocked = False
        for k in range(0, len(payload), 16384):
            if not w.write(payload[k:k + 16384], stall_limit=2.0):
                blocked = True
                break
            written = k + 16384
        self.assertTrue(blocked, "a full spool under when_full: block must hold the writer")
        self.assertLess(written, 1500 * 1024)
        # What the FIFO holds before the spool (the frames read, the records refused) counts
        # against service.memory_limit.
        self.assertGreater(pending_bytes(port), 0)
        os.unlink(blocker)
        self.assertTrue(w.write(payload[written:], stall_limit=30.0))
        self.engine.stop(path, w)
        recs = self.wait_records(n, directory=blocker, timeout=120)
        time.sleep(0.3)
        self.assertSameList([r["message"][:10] for r in self.records(blocker)],
                            ["row %05d " % i for i in range(n)])
        self.assertEqual(pending_bytes(port), 0)   # the FIFO is closed: nothing held
        d.stop()

    def test_drop_oldest_policy_never_holds_the_writer(self):
        cfg, blocker = self._stall_config(when_full="drop_oldest", max_buffer="256KiB")
        d = self.start_daemon(cfg)
        path, w = self.engine.start("e" * 64, "droppy")
        n = 20000
        for k in range(0, n, 500):
            chunk = b"".join(frame(encode_entry(b"row %05d " % i + b"z" * 100, "stdout", 1 + i))
                             for i in range(k, k + 500))
            self.assertTrue(w.write(chunk, stall_limit=2.0), "drop_oldest must not block")
        self.engine.stop(path, w)
        os.unlink(blocker)
        support.wait_for(lambda: "oldest un-delivered records dropped" in d.stderr(), timeout=20,
                         what="drop log")
        last = lambda: [int(r["message"][4:9]) for r in self.records(blocker)]
        support.wait_for(lambda: (lambda s: s and s[-1] == n - 1)(last()), timeout=60,
                         what="newest line delivered")
        time.sleep(0.5)
        seqs = last()
        # Old data went, the newest stayed, nothing reordered or duplicated.
        self.assertGreater(len(seqs), 0)
        self.assertLess(len(seqs), n)
        self.assertEqual(seqs, sorted(set(seqs)))
        self.assertEqual(seqs[-1], n - 1)
        d.stop()

    def test_read_logs_tail_since_until_follow(self):
        d = self.start_daemon(self.config(os.path.join(self.tmp, "out", "{container_name}.log")))
        cid = "f" * 64
        path, w = self.engine.start(cid, "reader")
        base = 1_700_000_000_000_000_000
        sec = 10**9
        for i in range(100):
            self.assertTrue(w.write(frame(encode_entry(b"entry %03d" % i, "stderr" if i % 2 else "stdout",
                                                       base + i * sec))))
        support.wait_for(lambda: len(self.engine.read_logs(cid)) == 100, timeout=20, what="100 lines")
        all_lines = self.engine.read_logs(cid)
        self.assertEqual([e["line"] for e in all_lines], [b"entry %03d\n" % i for i in range(100)])
        self.assertEqual([e["time_nano"] for e in all_lines], [base + i * sec for i in range(100)])
        self.assertEqual(all_lines[1]["source"], "stderr")
        self.assertEqual([e["line"] for e in self.engine.read_logs(cid, tail=10)],
                         [b"entry %03d\n" % i for i in range(90, 100)])
        self.assertEqual(self.engine.read_logs(cid, tail=0), [])
        self.assertEqual([e["line"] for e in self.engine.read_logs(cid, since=rfc3339(base + 95 * sec))],
                         [b"entry %03d\n" % i for i in range(95, 100)])
        self.assertEqual([e["line"] for e in self.engine.read_logs(cid, until=rfc3339(base + 4 * sec))],
                         [b"entry %03d\n" % i for i in range(5)])
        self.assertEqual([e["line"] for e in self.engine.read_logs(
            cid, since=rfc3339(base + 10 * sec), until=rfc3339(base + 19 * sec), tail=3)],
            [b"entry %03d\n" % i for i in range(17, 20)])
        # RFC 3339 with an offset: 10:00+02:00 is 08:00Z.
        since_offset = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base // sec + 98 * 1 + 7200)) + "+02:00"
        self.assertEqual(len(self.engine.read_logs(cid, since=since_offset)), 2)

        # Follow: the last 2, then new lines as they come; the stream ends on StopLogging.
        conn, resp = self.engine.read_logs_request(cid, tail=2, follow=True)
        self.assertEqual(resp.status, 200)
        got = bytearray()
        reader_done = threading.Event()

        def pump():
            try:
                while True:
                    b = resp.read1(65536) if hasattr(resp, "read1") else resp.read(1)
                    if not b:
                        break
                    got.extend(b)
            finally:
                reader_done.set()

        t = threading.Thread(target=pump, daemon=True)
        t.start()
        support.wait_for(lambda: len(decode_stream_prefix(bytes(got))) >= 2, timeout=10, what="tail")
        for i in range(100, 105):
            self.assertTrue(w.write(frame(encode_entry(b"entry %03d" % i, "stdout", base + i * sec))))
        support.wait_for(lambda: len(decode_stream_prefix(bytes(got))) >= 7, timeout=10,
                         what="followed lines")
        self.assertFalse(reader_done.is_set())
        self.engine.stop(path, w)
        self.assertTrue(reader_done.wait(10), "follow stream did not end after StopLogging")
        conn.close()
        self.assertEqual([e["line"] for e in decode_stream(bytes(got))],
                         [b"entry %03d\n" % i for i in range(98, 105)])
        # `docker logs` on the stopped container: the engine starts a fresh logger (new FIFO),
        # calls ReadLogs, then StopLogging.
        path2, w2 = self.engine.start(cid, "reader")
        self.assertEqual([e["line"] for e in self.engine.read_logs(cid, tail=3)],
                         [b"entry %03d\n" % i for i in range(102, 105)])
        self.engine.stop(path2, w2)
        # An unknown container has no logs: an empty stream, not an error.
        self.assertEqual(self.engine.read_logs("0" * 64), [])
        d.stop()

    def test_writer_gone_without_stop_logging_releases_the_fifo(self):
        d = self.start_daemon(self.config(os.path.join(self.tmp, "out", "{container_name}.log")))
        cid = "9" * 64
        path, w = self.engine.start(cid, "orphan")
        for i in range(100):
            self.assertTrue(w.write(frame(encode_entry(b"orphan %03d" % i, "stdout", 1 + i))))
        # A mid-line chunk, then the engine dies: the partial line is still delivered.
        self.assertTrue(w.write(frame(encode_entry(b"half a line", "stdout", 500, True, (False, "p1", 1)))))
        w.close()
        recs = self.wait_records(101)
        self.assertEqual([r["message"] for r in recs],
                         ["orphan %03d" % i for i in range(100)] + ["half a line"])
        state = os.path.join(self.state, "spool", cid, "container.json")
        support.wait_for(lambda: json.load(open(state))["Files"] == [], timeout=10,
                         what="FIFO dropped from the container state")
        self.assertIn("FIFO closed by every writer", d.stderr())
        status, reply = self.engine.call("/LogDriver.StopLogging", {"File": path})
        self.assertEqual((status, reply), (200, {"Err": ""}))
        os.unlink(path)
        self.assertEqual(d.stop(), 0)

    def test_bad_input_gives_clear_errors_and_other_containers_keep_flowing(self):
        d = self.start_daemon(self.config(os.path.join(self.tmp, "out", "{container_name}.log")))
        e = self.engine
        # HTTP level.
        status, reply = e.call("/LogDriver.Nope", {})
        self.assertEqual(status, 404)
        self.assertIn("unknown endpoint /LogDriver.Nope", reply["Err"])
        status, reply = e.call("/LogDriver.StartLogging", raw=b'{"File": "/x", "Info": {')
        self.assertEqual(status, 400)
        self.assertIn("malformed JSON", reply["Err"])
        status, reply = e.call("/LogDriver.StopLogging", raw=b"[1,2")
        self.assertEqual(status, 400)
        self.assertIn("malformed JSON", reply["Err"])
        status, reply = e.call("/LogDriver.ReadLogs", raw=b"not json")
        self.assertEqual(status, 400)
        status, reply = e.call("/LogDriver.StartLogging", {"File": "/x", "Info": {}})
        self.assertEqual((status, reply), (400, {"Err": "missing Info.ContainerID"}))
        status, reply = e.call("/LogDriver.StartLogging",
                               {"File": "/x", "Info": {"ContainerID": "../../etc"}})
        self.assertEqual((status, reply), (400, {"Err": "invalid Info.ContainerID"}))
        status, reply = e.call("/LogDriver.StartLogging", {"File": os.path.join(self.tmp, "missing"),
                                                            "Info": {"ContainerID": "abc"}})
        self.assertEqual(status, 500)
        self.assertIn("cannot open", reply["Err"])
        status, reply = e.call("/LogDriver.StopLogging", {"File": "/never/started"})
        self.assertEqual(status, 404)
        self.assertIn("not logging to /never/started", reply["Err"])
        status, reply = e.call("/Plugin.Activate", method="GET")
        self.assertEqual(status, 405)

        good_path, good = e.start("1" * 64, "good")
        bad_path, bad = e.start("2" * 64, "bad")
        n = 2000
        for i in range(n):
            self.assertTrue(good.write(frame(encode_entry(b"good %04d" % i, "stdout", 1 + i))))
            if i == 500:
                # Undecodable payload (wire type 7), an over-cap frame (skipped whole), then a
                # field running past the entry's end.
                bad.write(frame(b"\x4f\x07\x07\x07"))
                bad.write(struct.pack(">I", 64 * 1024 + 1) + b"\x00" * (64 * 1024 + 1))
                bad.write(frame(b"\x1a\x7f" + b"short"))
            if i % 2 == 0:
                self.assertTrue(bad.write(frame(encode_entry(b"bad-ok %04d" % i, "stdout", 1 + i))))
        # The bad container ends inside a frame.
        bad.write(struct.pack(">I", 100) + b"\x0a\x06stdout")
        e.stop(bad_path, bad)
        e.stop(good_path, good)
        # Both containers' good lines arrive, each once.
        recs = self.wait_records(n + n // 2)
        time.sleep(0.5)
        recs = self.records()
        good_msgs = [r["message"] for r in recs if r["container_name"] == "good"]
        bad_msgs = [r["message"] for r in recs if r["container_name"] == "bad"]
        self.assertEqual(good_msgs, ["good %04d" % i for i in range(n)])
        self.assertEqual(bad_msgs, ["bad-ok %04d" % i for i in range(0, n, 2)])
        log = d.stderr()
        self.assertIn("undecodable FIFO frame skipped", log)
        self.assertIn("invalid wire type", log)
        self.assertIn("FIFO frame over max_frame_size skipped", log)
        self.assertIn("field length past end of entry", log)
        self.assertIn("FIFO ended inside a frame", log)
        # Still serving.
        self.assertEqual(e.call("/Plugin.Activate"), (200, {"Implements": ["LogDriver"]}))
        self.assertTrue(d.running())
        self.assertEqual(d.stop(), 0)


class PackagingTest(support.TestCase):
    """The managed-plugin files (no Docker engine here, so they are checked, not run)."""

    DIR = os.path.join(support.SOURCE_DIR, "packaging", "docker-plugin")

    def load_config(self):
        with open(os.path.join(self.DIR, "config.json")) as f:
            return json.load(f)

    def test_config_json_declares_a_log_driver_with_no_more_than_it_needs(self):
        cfg = self.load_config()
        self.assertEqual(cfg["interface"], {"types": ["docker.logdriver/1.0"], "socket": "logship.sock"})
        self.assertIn("exec /usr/bin/logship run -c \"$LOGSHIP_CONFIG\"", " ".join(cfg["entrypoint"]))
        self.assertEqual(cfg["linux"]["capabilities"], [])
        self.assertFalse(cfg["linux"]["allowAllDevices"])
        self.assertFalse(cfg["linux"].get("devices"))
        self.assertFalse(cfg.get("ipchost", False))
        self.assertFalse(cfg.get("pidhost", False))
        self.assertNotIn("propagatedMount", cfg)
        self.assertEqual(cfg["network"], {"type": "host"})   # for network outputs; see README
        self.assertEqual(len(cfg["mounts"]), 1)
        mount = cfg["mounts"][0]
        self.assertEqual((mount["type"], mount["destination"]), ("bind", "/var/lib/logship"))
        self.assertIn("rbind", mount["options"])
        env = {e["name"]: e["value"] for e in cfg["env"]}
        self.assertEqual(env["LOGSHIP_CONFIG"], "/etc/logship/plugin.yaml")
        allowed = {"description", "documentation", "entrypoint", "workdir", "interface", "network",
                   "mounts", "env", "linux", "ipchost", "pidhost"}
        self.assertLessEqual(set(cfg), allowed)

    def test_plugin_yaml_is_valid_and_matches_config_json(self):
        cfg = self.load_config()
        path = os.path.join(self.DIR, "plugin.yaml")
        r = support.run_logship(["validate", "-c", path])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        with open(path) as f:
            text = f.read()
        # The socket the engine dials inside the plugin, and every written path in the mount.
        self.assertIn("socket: /run/docker/plugins/" + cfg["interface"]["socket"] + "\n", text)
        self.assertIn("state_dir: /var/lib/logship/state\n", text)
        self.assertIn("path: /var/lib/logship/logs/", text)
        with open(os.path.join(self.DIR, "build-plugin.sh")) as f:
            build = f.read()
        # The rootfs is made from the binary with no base image (test_docker_engine_plugin.py
        # builds, installs and runs it on a real engine).
        self.assertIn('--config "$here/plugin.yaml:/etc/logship/plugin.yaml"', build)
        self.assertNotIn("docker build", build)

    def test_build_script_parses_and_finds_the_runtime_packages(self):
        script = os.path.join(self.DIR, "build-plugin.sh")
        self.assertTrue(os.access(script, os.X_OK))
        self.assertEqual(subprocess.run(["bash", "-n", script]).returncode, 0)
        r = subprocess.run([script, "--print-packages", "--binary", support.LOGSHIP],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        packages = r.stdout.decode().split()
        for p in ("libyaml-cpp0.7", "libsimdjson14", "zlib1g", "libstdc++6"):
            self.assertIn(p, packages)
        r = subprocess.run([script, "--bogus"], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"unknown argument --bogus", r.stderr)


def decode_stream_prefix(data):
    """Complete lines in a stream that may end mid-frame (follow)."""
    i = 0
    while i + 4 <= len(data):
        (size,) = struct.unpack(">I", data[i:i + 4])
        if i + 4 + size > len(data):
            break
        i += 4 + size
    return decode_stream(data[:i])


if __name__ == "__main__":
    support.main()
