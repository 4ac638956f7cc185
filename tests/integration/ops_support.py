"""Helpers shared by the operations tests: the admin endpoint's port and plain HTTP GETs."""
import re
import urllib.error
import urllib.request

import support


def admin_port(daemon, timeout=15):
    """The port the daemon's admin endpoint bound (http_listen with port 0 logs it)."""
    def find():
        m = re.search(r'msg="admin endpoint listening" address=127\.0\.0\.1:(\d+)', daemon.stderr())
        return int(m.group(1)) if m else None
    return support.wait_for(find, timeout=timeout, what="admin endpoint log line")


def get(port, path, method="GET"):
    """(status, body) of one request to 127.0.0.1:port."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def parse_metrics(text):
    """{'name{labels}': value} from Prometheus text."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, value = line.rsplit(" ", 1)
        out[key] = float(value)
    return out
