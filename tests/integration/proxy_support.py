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
