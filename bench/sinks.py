#!/usr/bin/env python3
"""Blackhole network sinks for logship-bench: they receive, count and check, then discard.

  python3 bench/sinks.py syslog-tcp [--latency]   RFC 6587 TCP syslog receiver (octet-counting
                                                  or LF framing, told apart per connection by
                                                  the first byte: a digit or '<')
  python3 bench/sinks.py otlp                      OTLP/HTTP /v1/logs (protobuf or JSON)
  python3 bench/sinks.py bulk [--latency]         Elasticsearch `_bulk` endpoint: HTTP/1.1
                                                  keep-alive, gzip request bodies, 200 with
                                                  {"errors":false,"items":[...]}, one item per
                                                  action in request order; honours filter_path

Runs as its own process (asyncio, 127.0.0.1, an ephemeral port) so that its CPU is measured
apart from the daemon's and the harness's and the GIL is not shared with them. Prints
{"port": N} on stdout, then answers commands read from stdin, one JSON line each:
  status            records, distinct ids, open connections so far
  finish SECONDS    waits until every connection is closed by the client (at most SECONDS),
                    then prints the full result and exits

Every logical record carries its id once ("r=<container>-<n>" from bench/loadgen.py, or
"seq=<n>" from the generate input with --id seq); a record quoting an id twice would be
counted as a duplicate. With --latency each record is looked at on its own: its first id, and
its own timestamp (RFC 5424 TIMESTAMP, `_bulk` @timestamp) against the wall clock at receipt.
"""
import argparse
import array
import asyncio
import calendar
import collections
import json
import re
import resource
import sys
import threading
import time
import zlib

# Record ids: "r=<container>-<n>" (bench/loadgen.py, docker-live) or "seq=<n>" (the generate
# input). A literal prefix lets `re` skip ahead with a fast scan: an alternation or a lazy
# "first id of the line" pattern is ten times slower and made the sink the bottleneck.
ID_PREFIXES = {"r": b"r=", "seq": b"seq="}
# Percentiles kept for the latency curve (the "nines" chart) besides the summary ones.
CURVE = [i / 100 for i in range(0, 100, 5)] + [0.95, 0.975, 0.99, 0.995, 0.999, 0.9995, 0.9999]


def latency_summary(values):
    """Latencies (ms) -> ({p50, p90, p99, p99.9, max, count}, [(quantile, ms), ...]) or (None, [])."""
    lat = sorted(values)
    if not lat:
        return None, []
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]  # noqa: E731
    return ({"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99), "p99.9": pct(0.999),
             "max": lat[-1], "count": len(lat)},
            [(q, pct(q)) for q in CURVE] + [(1.0, lat[-1])])


class Stats:
    def __init__(self, latency, id_prefix=b"r="):
        self.latency = latency
        self.rid = re.compile(re.escape(id_prefix) + rb"(\d+(?:-\d+)?)")
        self.records = 0            # frames / documents, identified or not
        self.ids = collections.Counter()
        self.bytes = 0              # payload bytes (uncompressed NDJSON / syslog frames)
        self.requests = 0
        self.conns_open = 0
        self.conns_total = 0
        self.errors = 0             # malformed frames / requests (answered like the real server)
        self.lat_ms = array.array("d")
        self.timeline = []          # (CLOCK_MONOTONIC s, cumulative records), >= 20 ms apart
        self._sec_cache = {}

    def delivered(self, n):
        self.records += n
        now = time.monotonic()
        if self.timeline and now - self.timeline[-1][0] < 0.02:
            self.timeline[-1] = (self.timeline[-1][0], self.records)
        else:
            self.timeline.append((now, self.records))

    def ns_of(self, ts):
        """b'2026-01-01T00:00:00.123456Z' -> ns since the epoch; the seconds part is cached."""
        head = ts[:19]
        sec = self._sec_cache.get(head)
        if sec is None:
            sec = calendar.timegm(time.strptime(head.decode(), "%Y-%m-%dT%H:%M:%S"))
            if len(self._sec_cache) > 64:
                self._sec_cache.clear()
            self._sec_cache[head] = sec
        frac = ts[20:-1] if len(ts) > 20 and ts[19:20] == b"." else b""
        return sec * 1_000_000_000 + int((frac + b"000000000")[:9])

    def add_latencies(self, stamps):
        now = time.time_ns()
        ns_of = self.ns_of
        self.lat_ms.extend((now - ns_of(ts)) / 1e6 for ts in stamps)

    def result(self):
        ru = resource.getrusage(resource.RUSAGE_SELF)
        dup = sum(c - 1 for c in self.ids.values() if c > 1)
        out = {"records": self.records, "distinct_ids": len(self.ids), "duplicates": dup,
               "bytes": self.bytes, "requests": self.requests, "connections": self.conns_total,
               "errors": self.errors, "cpu_s": ru.ru_utime + ru.ru_stime,
               "peak_rss_mib": ru.ru_maxrss / 1024.0, "timeline": self.timeline}
        summary, curve = latency_summary(self.lat_ms)
        if summary:
            out["latency_ms"], out["latency_curve"] = summary, curve
        return out


class SyslogProtocol(asyncio.Protocol):
    def __init__(self, stats):
        self.s = stats
        self.buf = bytearray()
        self.octet = None           # decided by the connection's first byte (RFC 6587 3.4)

    def connection_made(self, transport):
        self.t = transport
        self.s.conns_open += 1
        self.s.conns_total += 1

    def connection_lost(self, exc):
        if self.buf:
            self.s.errors += 1      # a cut frame: the client closed mid-message
        self.s.conns_open -= 1

    def data_received(self, data):
        buf = self.buf
        buf += data
        if self.octet is None:
            self.octet = buf[:1].isdigit()
        self.s.bytes += len(data)
        if self.octet:
            self._octet_frames(buf)
        else:
            self._lf_frames(buf)

    def _octet_frames(self, buf):
        s, pos, n, size = self.s, 0, 0, len(buf)
        ids, stamps = [], []
        find = buf.find
        search = s.rid.search if s.latency else None
        while pos < size:
            sp = find(b" ", pos, pos + 11)
            if sp < 0:
                if size - pos > 10:  # no MSG-LEN: resynchronising is impossible, drop the link
                    return self._bad(buf)
                break
            try:
                end = sp + 1 + int(buf[pos:sp])
            except ValueError:
                return self._bad(buf)
            if end > size:
                break
            if search:
                m = search(buf, sp + 1, end)
                if m:
                    ids.append(m.group(1))
                    ts0 = find(b" ", sp + 1, end) + 1
                    stamps.append(bytes(buf[ts0:find(b" ", ts0, end)]))
            n += 1
            pos = end
        if not search and pos:
            ids = s.rid.findall(buf, 0, pos)
        del buf[:pos]
        self._account(n, ids, stamps)

    def _bad(self, buf):
        self.s.errors += 1
        self.t.close()
        del buf[:]

    def _lf_frames(self, buf):
        end = buf.rfind(b"\n") + 1
        if end == 0:
            return
        seg = bytes(buf[:end])
        del buf[:end]
        n = seg.count(b"\n")
        ids, stamps = [], []
        if self.s.latency:
            search = self.s.rid.search
            for line in seg.split(b"\n"):
                m = search(line)
                if m:
                    ids.append(m.group(1))
                    stamps.append(line.split(b" ", 2)[1])   # <PRI>1 TIMESTAMP ...
        else:
            ids = self.s.rid.findall(seg)
        self._account(n, ids, stamps)

    def _account(self, n, ids, stamps):
        if stamps:
            self.s.add_latencies(stamps)
        self.s.ids.update(ids)
        self.s.delivered(n)


class BulkProtocol(asyncio.Protocol):
    """Just enough HTTP/1.1 for the `_bulk` API; a request Elasticsearch would refuse gets the
    same status here (400 without the final newline, 413 over 100 MiB)."""
    MAX_BODY = 100 * 2**20

    def __init__(self, stats):
        self.s = stats
        self.buf = bytearray()
        self.head = None            # (method, target, headers) while the body is awaited
        self.need = 0
        self.chunks = []            # the body so far: joined once, not copied per read
        self.have = 0
        self.seq = 0

    def connection_made(self, transport):
        self.t = transport
        self.s.conns_open += 1
        self.s.conns_total += 1

    def connection_lost(self, exc):
        self.s.conns_open -= 1

    def data_received(self, data):
        if self.head is not None and not self.buf:
            self.chunks.append(data)
            self.have += len(data)
            if self.have < self.need:
                return
            body = b"".join(self.chunks)
            self.chunks, self.have = [], 0
            self.buf += body[self.need:]   # a pipelined next request
            self._body(body[:self.need] if len(body) > self.need else body)
        else:
            self.buf += data
        while True:
            if self.head is None:
                i = self.buf.find(b"\r\n\r\n")
                if i < 0:
                    return
                lines = bytes(self.buf[:i]).split(b"\r\n")
                del self.buf[:i + 4]
                method, target, _ = lines[0].split(b" ", 2)
                headers = {}
                for h in lines[1:]:
                    k, _, v = h.partition(b":")
                    headers[k.strip().lower()] = v.strip()
                if b"chunked" in headers.get(b"transfer-encoding", b""):
                    self._reply(411, b'{"error":"length required"}', close=True)
                    return
                self.need = int(headers.get(b"content-length", b"0"))
                if self.need > self.MAX_BODY:
                    self._reply(413, b"", close=True)
                    return
                self.head = (method, target, headers)
            if len(self.buf) < self.need:
                # The rest of the body arrives as whole reads: collect them (see above).
                self.chunks, self.have = [bytes(self.buf)], len(self.buf)
                del self.buf[:]
                return
            body = bytes(self.buf[:self.need])
            del self.buf[:self.need]
            self._body(body)

    def _body(self, body):
        method, target, headers = self.head
        self.head = None
        self._request(method, target, headers, body)

    def _reply(self, status, body, close=False):
        reason = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 411: b"Length Required",
                  413: b"Payload Too Large"}[status]
        self.t.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                     b"%s\r\n" % (status, reason, len(body), b"connection: close\r\n" if close else b"")
                     + body)
        if close:
            self.t.close()

    def _request(self, method, target, headers, body):
        close = headers.get(b"connection", b"").lower() == b"close"
        path, _, query = target.partition(b"?")
        if method == b"GET" and path == b"/":
            self._reply(200, b'{"name":"bench-blackhole","cluster_name":"bench","version":'
                             b'{"number":"8.15.0","distribution":"blackhole"},'
                             b'"tagline":"You Know, for Search"}', close)
            return
        if method == b"GET" and path == b"/_license":
            # Filebeat (a peer, not logship) checks the cluster's license before its first bulk.
            self._reply(200, b'{"license":{"status":"active","uid":"bench-blackhole",'
                             b'"type":"basic","issue_date_in_millis":1700000000000,'
                             b'"max_nodes":1000}}', close)
            return
        if method not in (b"POST", b"PUT") or not path.endswith(b"/_bulk"):
            self._reply(404, b'{"error":"no handler","status":404}', close)
            return
        s = self.s
        s.requests += 1
        if headers.get(b"content-encoding", b"").lower() == b"gzip":
            try:
                body = zlib.decompress(body, 31)
            except zlib.error:
                s.errors += 1
                self._reply(400, b'{"error":"bad gzip body","status":400}', close)
                return
        if not body.endswith(b"\n"):
            s.errors += 1
            self._reply(400, b'{"error":{"type":"illegal_argument_exception","reason":"The bulk '
                             b'request must be terminated by a newline [\\\\n]"},"status":400}',
                        close)
            return
        s.bytes += len(body)
        # Every action logship sends (index, create) is followed by one source line, and an
        # output uses one action kind. Counting action lines and newlines checks that shape
        # without splitting the body (splitting cost as much as the rest of the sink). A body of
        # another shape is answered 400 (Elasticsearch would take some of them, but they would
        # be a bug in logship, and a benchmark must not count them as delivered).
        kind = b'{"create":{' if body.startswith(b'{"create":{') else b'{"index":{'
        n = body.count(b"\n" + kind) + body.startswith(kind)
        if n == 0 or 2 * n != body.count(b"\n"):
            s.errors += 1
            self._reply(400, b'{"error":{"type":"illegal_argument_exception","reason":'
                             b'"Malformed action/metadata line"},"status":400}', close)
            return
        if s.latency:
            ids, stamps, search = [], [], s.rid.search
            for src in body.split(b"\n")[1::2]:
                m = search(src)
                if m:
                    ids.append(m.group(1))
                    if src.startswith(b'{"@timestamp":"'):
                        stamps.append(src[15:src.index(b'"', 15)])
            s.add_latencies(stamps)
            s.ids.update(ids)
        else:
            s.ids.update(s.rid.findall(body))
        s.delivered(n)
        self._reply(200, self._items(kind, n, body, query), close)

    def _items(self, kind, n, body, query):
        # With filter_path=errors,items.*.status (what logship asks for) Elasticsearch answers
        # only those keys; without it the full item. Either way one item per action, in order.
        name = kind[2:-3]
        if b"filter_path=" in query:
            return b'{"errors":false,"items":[' + b",".join([b'{"%s":{"status":201}}' % name] * n) + b"]}"
        parts = []
        for a in body.split(b"\n")[0::2][:n]:
            self.seq += 1
            index = re.search(rb'"_index":"([^"]*)"', a)
            doc_id = re.search(rb'"_id":"([^"]*)"', a)
            parts.append(b'{"%s":{"_index":"%s","_id":"%s","_version":1,"result":"created",'
                         b'"_shards":{"total":1,"successful":1,"failed":0},"_seq_no":%d,'
                         b'"_primary_term":1,"status":201}}'
                         % (name, index.group(1) if index else b"bench",
                            doc_id.group(1) if doc_id else b"bh%d" % self.seq, self.seq))
        return b'{"took":1,"errors":false,"items":[' + b",".join(parts) + b"]}"


def _fields(buf, start, end):
    """(field number, value start, value end) of each length-delimited field in buf[start:end];
    varint and fixed fields are skipped."""
    i = start
    while i < end:
        key, shift = 0, 0
        while True:
            b = buf[i]
            i += 1
            key |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        wire = key & 7
        if wire == 0:
            while buf[i] >= 0x80:
                i += 1
            i += 1
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, shift = 0, 0
            while True:
                b = buf[i]
                i += 1
                n |= (b & 0x7F) << shift
                shift += 7
                if b < 0x80:
                    break
            yield key >> 3, i, i + n
            i += n
        else:
            raise ValueError("bad wire type")
    if i != end:
        raise ValueError("truncated")


def otlp_bodies(buf):
    """The string body of every LogRecord of an ExportLogsServiceRequest (protobuf)."""
    out = []
    for f, a, b in _fields(buf, 0, len(buf)):                 # resource_logs
        if f != 1:
            continue
        for f2, a2, b2 in _fields(buf, a, b):                 # scope_logs
            if f2 != 2:
                continue
            for f3, a3, b3 in _fields(buf, a2, b2):           # log_records
                if f3 != 2:
                    continue
                body = b""
                for f4, a4, b4 in _fields(buf, a3, b3):       # body
                    if f4 == 5:
                        for f5, a5, b5 in _fields(buf, a4, b4):   # string_value
                            if f5 == 1:
                                body = buf[a5:b5]
                out.append(body)
    return out


class OtlpProtocol(BulkProtocol):
    """OTLP/HTTP `POST /v1/logs` (protobuf or JSON, gzip or not), answered 200 with an empty
    ExportLogsServiceResponse. Every log record's body is decoded and its id read from it (a
    regex over the raw protobuf would also match bytes of the binary timestamps)."""

    def _request(self, method, target, headers, body):
        close = headers.get(b"connection", b"").lower() == b"close"
        if method != b"POST" or target.partition(b"?")[0] != b"/v1/logs":
            self._reply(404, b"", close)
            return
        s = self.s
        s.requests += 1
        if headers.get(b"content-encoding", b"").lower() == b"gzip":
            try:
                body = zlib.decompress(body, 31)
            except zlib.error:
                s.errors += 1
                self._reply(400, b"", close)
                return
        s.bytes += len(body)
        try:
            if headers.get(b"content-type") == b"application/json":
                bodies = [r["body"].get("stringValue", "").encode()
                          for rl in json.loads(body)["resourceLogs"] for sl in rl["scopeLogs"]
                          for r in sl["logRecords"]]
            else:
                bodies = otlp_bodies(body)
        except (ValueError, KeyError, IndexError):
            bodies = []
        search = s.rid.search
        ids = [m.group(1) for m in map(search, bodies) if m]   # a trace's next lines have none
        if not bodies:
            s.errors += 1
            self._reply(400, b"", close)
            return
        s.ids.update(ids)
        s.delivered(len(bodies))
        self.t.write(b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %d\r\n%s\r\n%s"
                     % (headers.get(b"content-type", b"application/x-protobuf"),
                        2 if headers.get(b"content-type") == b"application/json" else 0,
                        b"connection: close\r\n" if close else b"",
                        b"{}" if headers.get(b"content-type") == b"application/json" else b""))
        if close:
            self.t.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["syslog-tcp", "bulk", "otlp"])
    p.add_argument("--latency", action="store_true", help="parse each record's timestamp")
    p.add_argument("--id", choices=sorted(ID_PREFIXES), default="r", help="record id: r=C-N or seq=N")
    a = p.parse_args()
    stats = Stats(a.latency, ID_PREFIXES[a.id])
    loop = asyncio.new_event_loop()
    proto = {"syslog-tcp": SyslogProtocol, "bulk": BulkProtocol, "otlp": OtlpProtocol}[a.kind]
    server = loop.run_until_complete(loop.create_server(lambda: proto(stats), "127.0.0.1", 0,
                                                        backlog=64))
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    done = threading.Event()

    def commands():
        # Plain reads of counters the loop thread updates: the GIL makes each read consistent.
        for line in sys.stdin:
            cmd = line.split()
            if not cmd:
                continue
            if cmd[0] == "status":
                print(json.dumps({"records": stats.records, "distinct_ids": len(stats.ids),
                                  "conns_open": stats.conns_open}), flush=True)
            elif cmd[0] == "finish":
                deadline = time.monotonic() + (float(cmd[1]) if len(cmd) > 1 else 10.0)
                while (stats.conns_open > 0 or stats.conns_total == 0) and time.monotonic() < deadline:
                    time.sleep(0.02)
                break
        done.set()
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=commands, daemon=True).start()
    loop.run_forever()
    done.wait()
    server.close()
    print(json.dumps(stats.result()), flush=True)


if __name__ == "__main__":
    main()
