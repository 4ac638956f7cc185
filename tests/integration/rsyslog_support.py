"""rsyslog (Debian's rsyslogd) as a private test peer, and test certificates made with openssl.

Each Rsyslog runs in the foreground with a generated config, its own work directory and pid
file in the test's temporary directory, on 127.0.0.1 only, without imuxsock/imklog: it never
touches system paths or a system rsyslog. Every wait is bounded.
"""
import os
import signal
import socket
import subprocess
import time

from support import wait_for

# Parsed fields, '|'-separated; msg last so a '|' inside it does not shift anything.
FIELDS_TEMPLATE = ("%pri%|%protocol-version%|%hostname%|%app-name%|%procid%|%msgid%|"
                   "%structured-data%|%msg%\\n")


def free_port(kind=socket.SOCK_STREAM):
    """A port free for both TCP and UDP right now (the peer binds it moments later)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port")


def make_certs(directory, name="ca"):
    """A CA and a server certificate for localhost/127.0.0.1 signed by it; returns paths."""
    os.makedirs(directory, exist_ok=True)
    p = lambda f: os.path.join(directory, f)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda args: subprocess.run(["openssl"] + args, check=True, capture_output=True, timeout=60)
    run(["req", "-x509"] + ec + ["-keyout", p(f"{name}.key"), "-out", p(f"{name}.pem"),
                                 "-days", "2", "-subj", f"/CN=logship test {name}"])
    run(["req"] + ec + ["-keyout", p(f"{name}-server.key"), "-out", p(f"{name}-server.csr"),
                        "-subj", "/CN=localhost"])
    with open(p("ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "extendedKeyUsage=serverAuth,clientAuth\n")
    run(["x509", "-req", "-in", p(f"{name}-server.csr"), "-CA", p(f"{name}.pem"), "-CAkey",
         p(f"{name}.key"), "-CAcreateserial", "-out", p(f"{name}-server.pem"), "-days", "2",
         "-extfile", p("ext.cnf")])
    return {"ca": p(f"{name}.pem"), "cert": p(f"{name}-server.pem"), "key": p(f"{name}-server.key")}


class Rsyslog:
    """rsyslogd receiving on tcp/udp (optionally TLS via gtls) and writing FIELDS_TEMPLATE lines,
    or forwarding (extra config) — `rules` is the ruleset body."""

    def __init__(self, workdir, name="rsyslog", tcp_port=None, udp_port=None, tls=None,
                 rules=None, template=FIELDS_TEMPLATE, global_extra=()):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.out = os.path.join(self.dir, "out.log")
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        self.pidfile = os.path.join(self.dir, "rsyslogd.pid")
        self.tcp_port = tcp_port
        self.udp_port = udp_port
        self.proc = None
        glob = [f'workDirectory="{self.dir}"', 'maxMessageSize="64k"']
        if tls:
            glob += [f'DefaultNetstreamDriverCAFile="{tls["ca"]}"',
                     f'DefaultNetstreamDriverCertFile="{tls["cert"]}"',
                     f'DefaultNetstreamDriverKeyFile="{tls["key"]}"']
        glob += list(global_extra)
        lines = [f"global({' '.join(glob)})"]
        if tcp_port:
            if tls:
                lines.append('module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" '
                             'StreamDriver.AuthMode="anon")')
            else:
                lines.append('module(load="imtcp")')
            lines.append(f'input(type="imtcp" address="127.0.0.1" port="{tcp_port}" ruleset="test")')
        if udp_port:
            lines.append('module(load="imudp")')
            lines.append(f'input(type="imudp" address="127.0.0.1" port="{udp_port}" ruleset="test")')
        lines.append(f'template(name="fields" type="string" string="{template}")')
        body = rules or f'action(type="omfile" file="{self.out}" template="fields")'
        lines.append(f'ruleset(name="test") {{ {body} }}')
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        check = subprocess.run(["rsyslogd", "-N1", "-f", self.conf], capture_output=True,
                               timeout=60)
        if check.returncode != 0:
            raise AssertionError("rsyslog config invalid: " + check.stderr.decode(errors="replace"))
        self._log = open(os.path.join(self.dir, "rsyslogd.stderr"), "ab")
        self.proc = subprocess.Popen(["rsyslogd", "-n", "-f", self.conf, "-i", self.pidfile],
                                     stdout=self._log, stderr=self._log,
                                     stdin=subprocess.DEVNULL)
        if self.tcp_port:
            wait_for(lambda: self._can_connect(), timeout=20, what="rsyslog tcp listener")
        else:
            wait_for(lambda: os.path.exists(self.pidfile), timeout=20, what="rsyslog pid file")
            time.sleep(0.3)
        return self

    def _can_connect(self):
        if self.proc.poll() is not None:
            raise AssertionError("rsyslogd exited: " + self.stderr())
        try:
            with socket.create_connection(("127.0.0.1", self.tcp_port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self, timeout=20):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
        self.proc = None

    def stderr(self):
        try:
            with open(os.path.join(self.dir, "rsyslogd.stderr"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def lines(self):
        """Output lines as bytes (the template ends each with LF)."""
        try:
            with open(self.out, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        # rsyslog may be mid-write: a last line without its LF is not complete yet.
        return [l for l in data.split(b"\n")[:-1] if l]

    def records(self):
        """Each line split into the template's fields (msg may contain '|')."""
        out = []
        for line in self.lines():
            parts = line.decode("utf-8").split("|", 7)
            out.append(dict(zip(["pri", "version", "hostname", "app", "procid", "msgid", "sd",
                                 "msg"], parts)))
        return out

    def wait_lines(self, n, timeout=30):
        wait_for(lambda: len(self.lines()) >= n, timeout=timeout,
                 what=f"{n} lines from rsyslog (have {len(self.lines())})")
        time.sleep(0.3)   # a few more would show a duplicate
        return self.lines()


class RelpRsyslog(Rsyslog):
    """rsyslogd receiving RELP (imrelp) on `relp_port` into the same ruleset and template.

    The main queue is direct, so the output action runs on imrelp's thread before it answers:
    a RELP "200 OK" then means the line is in out.log (the page cache, which survives SIGKILL),
    and a lost line can only be the client's fault. `tls`: imrelp TLS; imrelp then requires a
    client certificate, and any one signed by tls["ca"] is accepted (authMode certvalid)."""

    def __init__(self, workdir, relp_port, tls=None, **kw):
        super().__init__(workdir, **kw)
        self.tcp_port = relp_port   # start() waits until this port accepts connections
        relp = f'input(type="imrelp" address="127.0.0.1" port="{relp_port}" ruleset="test"'
        if tls:
            relp += (f' tls="on" tls.caCert="{tls["ca"]}" tls.myCert="{tls["cert"]}"'
                     f' tls.myPrivKey="{tls["key"]}" tls.authMode="certvalid"')
        with open(self.conf) as f:
            conf = f.read()
        with open(self.conf, "w") as f:
            f.write('main_queue(queue.type="Direct")\nmodule(load="imrelp")\n' + relp + ")\n"
                    + conf)

    def kill(self):
        """SIGKILL: no serverclose, no flush, unread socket data answered with RST."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.stop()
