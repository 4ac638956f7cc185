"""A `_bulk` endpoint that reads and discards every request and answers "errors":false, to
measure the daemon's own cost without a node. Prints its address, then serves until killed.
  python3 bench/elasticsearch/blackhole.py [port]   (127.0.0.1 only)
"""
import http.server
import socketserver
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        while n > 0:
            n -= len(self.rfile.read(min(n, 1 << 20)))
        body = b'{"errors":false,"items":[]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    srv = Server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    print(f"127.0.0.1:{srv.server_address[1]}", flush=True)
    srv.serve_forever()
