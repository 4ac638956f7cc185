"""Small servers in front of the real OpenSearch node, for the elasticsearch output's reach
tests: an HTTP proxy (CONNECT tunnels and absolute-form forwarding, optional Basic
credentials) that records what it saw, and a TLS terminator so an https node exists."""
import base64
import socket
import ssl
import subprocess
import threading


def pipe(a, b):
    """Copies bytes both ways between two sockets until either side closes."""
    def one_way(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
    t = threading.Thread(target=one_way, args=(b, a), daemon=True)
    t.start()
    one_way(a, b)
    t.join(timeout=5)
    a.close()
    b.close()


def read_head(sock, buf):
    """(head bytes, rest) once buf + reads hold a blank line; (None, b"") at EOF."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            return None, b""
        buf += data
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def read_body(sock, head, rest):
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            break
        rest += data
    return rest[:length], rest[length:]


class Server:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve_safely, args=(conn,), daemon=True).start()

    def _serve_safely(self, conn):
        try:
            self.serve(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.closed = True
        self.sock.close()


class Proxy(Server):
    """Records (method, target, proxy_authorization) of every request it takes."""

    def __init__(self, credentials=None):
        self.credentials = credentials
        self.seen = []
        self.lock = threading.Lock()
        super().__init__()

    def record(self, method, target, auth):
        with self.lock:
            self.seen.append((method, target, auth))

    def requests(self):
        with self.lock:
            return list(self.seen)

    def authorized(self, head):
        if self.credentials is None:
            return True
        want = b"Basic " + base64.b64encode(self.credentials.encode())
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"proxy-authorization" and v.strip() == want:
                return True
        return False

    def serve(self, conn):
        held = []   # the upstream connection of this client connection, closed with it
        try:
            self._serve(conn, held)
        finally:
            for s in held:
                s.close()

    def _serve(self, conn, held):
        buf = b""
        upstream = None
        while True:
            head, rest = read_head(conn, buf)
            if head is None:
                return
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            ok = self.authorized(head)
            self.record(method, target, ok)
            if not ok:
                conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                             b"Proxy-Authenticate: Basic realm=\"t\"\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
                return
            if method == "CONNECT":
                host, port = target.rsplit(":", 1)
                up = socket.create_connection((host, int(port)), timeout=30)
                up.settimeout(None)
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if rest:
                    up.sendall(rest)
                pipe(conn, up)
                return
            # Absolute form: http://host:port/path -> origin form to that host.
            assert target.startswith("http://"), target
            hostport, _, path = target[len("http://"):].partition("/")
            body, buf = read_body(conn, head, rest)
            lines = head.split(b"\r\n")
            kept = [l for l in lines[1:] if not l.lower().startswith(b"proxy-authorization:")]
            request = b"\r\n".join([f"{method} /{path} HTTP/1.1".encode()] + kept) + b"\r\n\r\n" + body
            if upstream is None:
                host, port = hostport.rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)), timeout=60)
                held.append(upstream)
            upstream.sendall(request)
            rhead, rrest = read_head(upstream, b"")
            if rhead is None:
                return
            rbody, _ = read_body(upstream, rhead, rrest)
            conn.sendall(rhead + b"\r\n\r\n" + rbody)


class TlsFront(Server):
    """https://localhost:<port> in front of a plain HTTP node, with its own certificate."""

    def __init__(self, workdir, upstream):
        self.upstream = upstream
        self.cert = f"{workdir}/front.crt"
        key = f"{workdir}/front.key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                        "-keyout", key, "-out", self.cert], check=True, capture_output=True)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.cert, key)
        super().__init__()

    def serve(self, conn):
        tls = self.ctx.wrap_socket(conn, server_side=True)
        host, port = self.upstream.rsplit(":", 1)
        up = socket.create_connection((host, int(port)), timeout=30)
        up.settimeout(None)
        pipe(tls, up)


def _aws_quote(s):
    import urllib.parse
    return urllib.parse.quote(s, safe="-_.~")


def sigv4_expected(method, target, headers, signed, body, secret, date, region, service):
    """The SigV4 signature of a request, computed here from AWS's documented algorithm
    (independently of the C++ implementation under test)."""
    import hashlib
    import hmac
    import urllib.parse
    path, _, query = target.partition("?")
    params = sorted((_aws_quote(k), _aws_quote(v))
                    for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True))
    canonical_query = "&".join(f"{k}={v}" for k, v in params)
    canonical_path = urllib.parse.quote(path, safe="/-_.~")
    canon_headers = "".join(f"{h}:{' '.join(headers[h].split())}\n" for h in signed)
    payload = hashlib.sha256(body).hexdigest()
    creq = "\n".join([method, canonical_path, canonical_query, canon_headers, ";".join(signed),
                      payload])
    scope = f"{date[:8]}/{region}/{service}/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (date[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


class SigV4Checker(Server):
    """An HTTP server that checks every request's SigV4 signature (403 on any mismatch, as AWS
    answers) and forwards the valid ones to the OpenSearch node."""

    def __init__(self, upstream, keys, region, service, token=None):
        self.upstream = upstream
        self.keys = keys          # access key id -> secret
        self.region = region
        self.service = service
        self.token = token        # the x-amz-security-token requests must carry and sign
        self.accepted = 0
        self.rejected = []
        self.lock = threading.Lock()
        super().__init__()

    def check(self, method, target, headers, body):
        import datetime
        import hashlib
        import re
        auth = headers.get("authorization", "")
        m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                         r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})", auth)
        if not m:
            return "no SigV4 authorization header"
        key_id, day, region, service, signed, signature = m.groups()
        signed = signed.split(";")
        if key_id not in self.keys:
            return "unknown access key"
        if (region, service) != (self.region, self.service):
            return "wrong scope"
        for h in ("host", "x-amz-date", "x-amz-content-sha256"):
            if h not in signed:
                return f"{h} not signed"
        if signed != sorted(signed) or any(h not in headers for h in signed):
            return "signed headers missing or unsorted"
        if self.token is not None and (headers.get("x-amz-security-token") != self.token
                                       or "x-amz-security-token" not in signed):
            return "security token missing or not signed"
        if headers["x-amz-content-sha256"] != hashlib.sha256(body).hexdigest():
            return "payload hash mismatch"
        date = headers["x-amz-date"]
        when = datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        if abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) > 300 or day != date[:8]:
            return "request time too skewed"
        want = sigv4_expected(method, target, headers, signed, body, self.keys[key_id], date,
                              region, service)
        if want != signature:
            return "signature mismatch"
        return None

    def serve(self, conn):
        import http.client
        buf = b""
        up = None
        while True:
            head, rest = read_head(conn, buf)
            if head is None:
                return
            body, buf = read_body(conn, head, rest)
            lines = head.decode().split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for l in lines[1:]:
                k, _, v = l.partition(":")
                headers[k.strip().lower()] = v.strip()
            why = self.check(method, target, headers, body)
            if why is not None:
                with self.lock:
                    self.rejected.append(why)
                msg = ('{"message":"The request signature we calculated does not match: %s"}' % why).encode()
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(msg) + msg)
                continue
            with self.lock:
                self.accepted += 1
            if up is None:
                host, port = self.upstream.rsplit(":", 1)
                up = http.client.HTTPConnection(host, int(port), timeout=60)
            fwd = {k: v for k, v in headers.items()
                   if k in ("content-type", "content-encoding")}
            up.request(method, target, body=body, headers=fwd)
            r = up.getresponse()
            data = r.read()
            conn.sendall(b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                         % (r.status, r.reason.encode(),
                            (r.getheader("Content-Type") or "application/json").encode(), len(data))
                         + data)


class InstanceMetadata(Server):
    """The EC2 instance metadata endpoint (IMDSv2) handing out one role's credentials."""

    def __init__(self, role, key_id, secret, token):
        import json
        self.role = role
        self.doc = json.dumps({"Code": "Success", "AccessKeyId": key_id, "SecretAccessKey": secret,
                               "Token": token, "Expiration": "2099-01-01T00:00:00Z"}).encode()
        self.session = "imds-session-token"
        self.requests = []
        super().__init__()

    def serve(self, conn):
        buf = b""
        while True:
            head, rest = read_head(conn, buf)
            if head is None:
                return
            _, buf = read_body(conn, head, rest)
            lines = head.decode().split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {l.partition(":")[0].strip().lower(): l.partition(":")[2].strip()
                       for l in lines[1:]}
            self.requests.append((method, target))
            base = "/latest/meta-data/iam/security-credentials/"
            if method == "PUT" and target == "/latest/api/token":
                status, body = 200, self.session.encode()
            elif headers.get("x-aws-ec2-metadata-token") != self.session:
                status, body = 401, b""
            elif target == base:
                status, body = 200, self.role.encode()
            elif target == base + self.role:
                status, body = 200, self.doc
            else:
                status, body = 404, b""
            conn.sendall(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n" % (status, len(body)) + body)
