"""otlp input under service.memory_limit: a sender cannot be paused, so while an output is
blocked the input holds request bodies (otlp_request_bodies in logship_memory_bytes) only up to
the budget and answers 429 with Retry-After past it, instead of holding more. Once the output
writes again every request answered 200 is in the output exactly once, and a retried 429 goes
through."""
import gzip
import os
import re
import threading
import time

import support
from ops_support import admin_port, get, parse_metrics
from test_otlp_input import T0, pb_request, post

MEMORY_LIMIT = 16 << 20          # the smallest service.memory_limit
BUFFERS = 4 << 20                # what buffers get of it (the limit less a 20 MiB reserve, >= 4 MiB)
RECORDS_PER_REQUEST = 400
BODY = 1000                      # bytes of each record's body


def request_records(tag):
    return [(T0 + i * 1000, "INFO", 9, f"{tag} {i} " + "b" * BODY, {"seq": i, "tag": tag})
            for i in range(RECORDS_PER_REQUEST)]


def memory(port):
    m = parse_metrics(get(port, "/metrics")[1])
    parts = {re.search(r'part="([^"]+)"', k).group(1): v for k, v in m.items()
             if k.startswith("logship_memory_bytes{")}
    return parts, m


class OtlpMemoryBudgetTest(support.TestCase):
    def test_past_the_budget_requests_are_answered_429_not_held(self):
        blocker = os.path.join(self.tmp, "blocked")
        open(blocker, "w").close()   # a regular file where the output's directory should be
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0
  memory_limit: {MEMORY_LIMIT >> 20}MiB
  queue_max_bytes: 256MiB
  retry_max: 200ms
inputs:
  otel:
    type: otlp
    listen: "127.0.0.1:0"
    max_pending_requests: 64
    max_pending_bytes: 256MiB
outputs:
  file:
    type: file
    path: {blocker}/events.log
    compress: false
""").start()
        port = admin_port(d)
        m = support.wait_for(lambda: re.search(r"http=127\.0\.0\.1:(\d+)", d.stderr()),
                             timeout=20, what="otlp listening")
        otlp_port = int(m.group(1))

        held, answers, threads = {}, {}, []

        def send(tag, body):
            answers[tag] = post(otlp_port, body, timeout=120)[0]

        refused = None
        for n in range(20):   # the budget holds about three of these; bounded anyway
            tag = f"r{n}"
            body = pb_request("svc", request_records(tag))
            before, _ = memory(port)
            t = threading.Thread(target=send, args=(tag, body))
            t.start()

            def settled():
                if tag in answers:
                    return True
                parts, _ = memory(port)
                return parts["otlp_request_bodies"] > before["otlp_request_bodies"] or None
            support.wait_for(settled, timeout=20, what=f"request {tag} held or answered")
            if tag in answers:
                t.join()
                self.assertEqual(answers[tag], 429, answers)
                refused = (tag, body)
                break
            held[tag] = len(body)
            threads.append(t)
            time.sleep(0.5)   # its records reach the output queue (or wait for room)
        self.assertIsNotNone(refused, "never refused: the budget did not bound the input")
        self.assertGreaterEqual(len(held), 1)

        parts, m = memory(port)
        # What is held is exactly the bodies of the requests waiting for their answer, and the
        # whole stays within the buffers' share of the budget.
        self.assertEqual(parts["otlp_request_bodies"], sum(held.values()), parts)
        self.assertLessEqual(sum(parts.values()), BUFFERS, parts)
        self.assertGreater(parts["output_queues"], 0, parts)
        self.assertEqual(m['logship_memory_limit_bytes'], MEMORY_LIMIT)
        throttled = [v for k, v in m.items() if k.startswith("logship_otlp_") and "throttled" in k]
        self.assertEqual(throttled, [1], [k for k in m if k.startswith("logship_otlp_")])

        # The output writes again: every held request is answered 200, the refused one retried.
        os.remove(blocker)
        os.makedirs(blocker, exist_ok=True)   # the output may have made it first
        for t in threads:
            t.join(120)
        self.assertEqual({t: answers[t] for t in held}, {t: 200 for t in held})
        tag, body = refused
        self.assertEqual(post(otlp_port, body, timeout=120)[0], 200)
        expected = {(t, i) for t in list(held) + [tag] for i in range(RECORDS_PER_REQUEST)}

        def written():
            recs = support.read_file_output(blocker)
            return recs if len(recs) >= len(expected) else None
        recs = support.wait_for(written, timeout=60, what=f"{len(expected)} records")
        time.sleep(0.5)
        recs = support.read_file_output(blocker)
        got = [(r["tag"], r["seq"]) for r in recs]
        self.assertEqual(len(got), len(expected), "no duplicates")
        self.assertEqual(set(got), expected)
        parts, _ = memory(port)
        self.assertEqual(parts["otlp_request_bodies"], 0, parts)
        self.assertEqual(d.stop(), 0, d.stderr())

    def test_the_decompressed_copy_of_a_gzip_body_is_charged(self):
        out = os.path.join(self.tmp, "out")
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
  http_listen: 127.0.0.1:0
inputs:
  otel: {{type: otlp, listen: "127.0.0.1:0"}}
outputs:
  file: {{type: file, path: {out}/events.log, compress: false}}
""").start()
        port = admin_port(d)
        m = support.wait_for(lambda: re.search(r"http=127\.0\.0\.1:(\d+)", d.stderr()),
                             timeout=20, what="otlp listening")
        otlp_port = int(m.group(1))
        # About 420 kB once decompressed: the input keeps that copy's buffer for the next
        # request (up to 1 MiB), and it stays charged while kept.
        small = pb_request("svc", request_records("s"))
        self.assertEqual(post(otlp_port, gzip.compress(small), encoding="gzip")[0], 200)
        parts, _ = memory(port)
        self.assertGreaterEqual(parts["otlp_request_bodies"], len(small), parts)
        self.assertLessEqual(parts["otlp_request_bodies"], 1 << 20, parts)
        # Over 1 MiB decompressed: the buffer goes once the request is decoded, and so does
        # its charge.
        large = pb_request("svc", request_records("l") * 4)
        self.assertGreater(len(large), 1 << 20)
        self.assertEqual(post(otlp_port, gzip.compress(large), encoding="gzip")[0], 200)
        parts, _ = memory(port)
        self.assertEqual(parts["otlp_request_bodies"], 0, parts)
        self.assertEqual(d.stop(), 0, d.stderr())


if __name__ == "__main__":
    support.main()
