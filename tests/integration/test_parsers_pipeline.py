"""generate -> json parser + multiline(java) -> file output: exact counts of parsed and merged events.

The generate input decides each record's kind from its sequence number (see
inputs/generate/generate_input.cpp); this test recomputes those decisions, so every expected count
is exact: each Java trace (4 consecutive stderr events) becomes one 4-line event, each JSON record
becomes fields, every other line passes unchanged, and every sequence number arrives exactly once.
"""
import json
import os
import re

import support

MASK = (1 << 64) - 1
TRACE_FIRST = "java.lang.IllegalStateException: order service unavailable"
TRACE_REST = [
    "\tat com.shop.orders.OrderService.place(OrderService.java:87)",
    "\tat com.shop.api.OrderController.create(OrderController.java:42)",
    "\tat java.base/java.lang.Thread.run(Thread.java:833)",
]


def kinds(count, json_ratio, multiline_ratio):
    """The kind of each seq exactly as the generate input decides it."""
    out = []
    for seq in range(count):
        group = seq // 4
        trace_bucket = ((group * 2654435761) & MASK) % 1000
        bucket = ((seq * 2246822519) & MASK) % 1000
        if trace_bucket < multiline_ratio * 1000:
            out.append("trace")
        elif bucket < json_ratio * 1000:
            out.append("json")
        else:
            out.append("plain")
    return out


class ParsersPipelineTest(support.TestCase):
    def run_pipeline(self, count, batch_events, json_ratio=0.3, multiline_ratio=0.1):
        out_dir = os.path.join(self.tmp, "out")
        config = f"""
service:
  state_dir: {self.tmp}/state
  exit_when_done: true
  log_level: warn
inputs:
  gen:
    type: generate
    count: {count}
    batch_events: {batch_events}
    message_size: 64B
    json_ratio: {json_ratio}
    multiline_ratio: {multiline_ratio}
processors:
  parse_json:
    type: json
    non_object: pass
  java_traces:
    type: multiline
    rules: java
    flush_timeout: 200ms
outputs:
  archive:
    type: file
    path: {out_dir}/events.log
    compress: false
routes:
  - match: gen
    processors: [parse_json, java_traces]
    outputs: [archive]
"""
        d = self.daemon(config)
        d.start()
        rc = d.wait(timeout=120)
        self.assertEqual(rc, 0, d.stderr())
        return support.read_file_output(out_dir), kinds(count, json_ratio, multiline_ratio)

    def check(self, records, kind):
        n_plain = kind.count("plain")
        n_json = kind.count("json")
        n_trace_lines = kind.count("trace")
        self.assertEqual(n_trace_lines % 4, 0)
        n_traces = n_trace_lines // 4
        self.assertGreater(n_traces, 10)
        self.assertGreater(n_json, 100)
        self.assertEqual(len(records), n_plain + n_json + n_traces)

        seen = {}
        merged = parsed = 0
        for r in records:
            msg = r["message"]
            self.assertNotIn("parse_error", r, r)
            if "\n" in msg:
                merged += 1
                lines = msg.split("\n")
                self.assertEqual(len(lines), 4, msg)
                self.assertEqual(r["stream"], "stderr")
                m = re.fullmatch(r"seq=(\d+) " + re.escape(TRACE_FIRST), lines[0])
                self.assertIsNotNone(m, lines[0])
                first = int(m.group(1))
                self.assertEqual(first % 4, 0)
                for k, line in enumerate(lines[1:], start=1):
                    self.assertEqual(line, f"{TRACE_REST[k - 1]} seq={first + k}")
                for s in range(first, first + 4):
                    seen[s] = seen.get(s, 0) + 1
            elif "seq" in r:
                parsed += 1
                self.assertEqual(msg, "request served")
                self.assertEqual(r["level"], "info")
                self.assertEqual(r["status"], 200)
                self.assertEqual(r["duration_ms"], 12.5)
                self.assertNotIn("msg", r)
                seen[r["seq"]] = seen.get(r["seq"], 0) + 1
            else:
                m = re.match(r"seq=(\d+) [a-z]+$", msg)
                self.assertIsNotNone(m, msg)
                s = int(m.group(1))
                seen[s] = seen.get(s, 0) + 1
        self.assertEqual(merged, n_traces)
        self.assertEqual(parsed, n_json)
        # Every sequence number exactly once, each in the kind it was generated as.
        self.assertEqual(sorted(seen), list(range(len(kind))))
        self.assertEqual(set(seen.values()), {1})

    def test_traces_aligned_with_batches(self):
        records, kind = self.run_pipeline(count=20000, batch_events=1024)
        self.check(records, kind)

    def test_traces_cut_by_batch_boundaries_are_held_and_merged(self):
        # 1023 events per batch: traces start anywhere in a batch and end in the next one.
        records, kind = self.run_pipeline(count=20000, batch_events=1023)
        self.check(records, kind)


if __name__ == "__main__":
    support.main()
