#!/usr/bin/env python3
"""Writes a journal of N entries shaped like Docker's journald driver output (~200-byte
messages, container fields) with systemd-journal-remote. Usage: make_journal.py OUT.journal N"""
import struct
import subprocess
import sys

JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    proc = subprocess.Popen([JOURNAL_REMOTE, "--output=" + out, "-"], stdin=subprocess.PIPE)
    base = 1700000000000000
    cid = "3f4c" + "a" * 60
    common = ("_BOOT_ID=0123456789abcdef0123456789abcdef\nCONTAINER_ID=%s\nCONTAINER_ID_FULL=%s\n"
              "CONTAINER_NAME=web\nCONTAINER_TAG=%s\nIMAGE_NAME=nginx:1.25\nSYSLOG_IDENTIFIER=%s\n"
              "_PID=4242\n_HOSTNAME=host1\n_TRANSPORT=journal\n_COMM=dockerd\n"
              % (cid[:12], cid, cid[:12], cid[:12])).encode()
    chunk = []
    for i in range(n):
        msg = ("seq=%d GET /api/v1/orders/%d HTTP/1.1 200 1532 \"-\" \"Mozilla/5.0 (X11; Linux "
               "x86_64)\" rt=0.012 upstream=10.0.0.%d:8080 " % (i, i * 7, i % 250))
        msg = (msg + "x" * 200)[:200]
        chunk.append(b"__REALTIME_TIMESTAMP=%d\nMESSAGE=%s\nPRIORITY=%d\n%s\n"
                     % (base + i * 10, msg.encode(), 6 if i % 10 else 3, common))
        if len(chunk) == 10000:
            proc.stdin.write(b"".join(chunk))
            chunk = []
    proc.stdin.write(b"".join(chunk))
    proc.stdin.close()
    sys.exit(proc.wait())


if __name__ == "__main__":
    main()
