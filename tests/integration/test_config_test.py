"""`logship test`: a config's processors and routes run on events a test gives, with no I/O; the
exit code and the failure lines say what differs, field by field."""
import os

import support

CONFIG = """
inputs:
  containers: {type: docker, docker_root: /nonexistent/docker}
  host: {type: file, paths: [/nonexistent/*.log]}
processors:
  parse: {type: json}
  secrets: {type: redact}
  health: {type: filter, drop_if: 'message contains "/health"'}
outputs:
  archive:
    type: file
    path: /nonexistent/archive/x.log
    buffer: {type: disk}
  hostlogs:
    type: file
    path: /nonexistent/host/x.log
routes:
  - match: [containers]
    processors: [health, parse, secrets]
    outputs: [archive]
  - match: [host]
    outputs: [hostlogs]
"""

PASSING = """
tests:
  - name: container JSON is parsed and secrets redacted
    input: containers
    source: {tags: {container_name: web}, labels: {team: payments}}
    events:
      - '{"level":"error","msg":"boom","n":3}'
      - {message: 'auth Bearer abcdefgh12345678 ok', stream: stderr}
    expect:
      - output: archive
        events:
          - {level: error, message: boom, n: 3, container_name: web, labels.team: payments,
             where: 'level >= warn and label("team") == "payments"'}
          - {stream: stderr, message: 'auth Bearer [REDACTED:bearer] ok'}
      - output: hostlogs
        count: 0
  - name: health checks are dropped
    input: containers
    events: ['GET /health 200', 'GET /api 200']
    expect:
      - output: archive
        events:
          - {message: 'GET /api 200'}
  - name: host lines go to their own output untouched
    input: host
    events: ['{"level":"info"}']
    expect:
      - output: hostlogs
        events:
          - {message: '{"level":"info"}'}
      - output: archive
        count: 0
"""

FAILING = """
tests:
  - name: wrong level
    input: containers
    events: ['{"level":"warn"}', '{"level":"info"}']
    expect:
      - output: archive
        where: 'level >= warn'
        events:
          - {level: error}
"""


class ConfigTestCommandTest(support.TestCase):

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_passing_and_failing_suites(self):
        cfg = self.write("c.yaml", CONFIG)
        r = support.run_logship(["test", "-c", cfg, self.write("ok.yaml", PASSING)])
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out + r.stderr.decode())
        self.assertEqual(out, "PASS  container JSON is parsed and secrets redacted\n"
                              "PASS  health checks are dropped\n"
                              "PASS  host lines go to their own output untouched\n"
                              "3 tests, 0 failed\n")
        # Expecting the secret itself fails, and says what the output got instead.
        leaked = self.write("leaked.yaml", PASSING.replace("[REDACTED:bearer]", "abcdefgh12345678"))
        r = support.run_logship(["test", "-c", cfg, leaked])
        self.assertEqual(r.returncode, 1)
        self.assertIn('output archive: event 2: field message: expected "auth Bearer '
                      'abcdefgh12345678 ok", got "auth Bearer [REDACTED:bearer] ok"',
                      r.stdout.decode())

        r = support.run_logship(["test", "-c", cfg, self.write("bad.yaml", FAILING)])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout.decode(),
                         "FAIL  wrong level\n"
                         "      output archive: event 2 does not satisfy `level >= warn`: "
                         "{\"timestamp\":\"2026-01-01T00:00:00.000000000Z\",\"stream\":\"stdout\","
                         "\"message\":\"\",\"level\":\"info\"}\n"
                         "      output archive: expected 1 events, got 2\n"
                         "      output archive: event 1: field level: expected \"error\", got \"warn\"\n"
                         "      output archive: unexpected event 2: {\"timestamp\":"
                         "\"2026-01-01T00:00:00.000000000Z\",\"stream\":\"stdout\",\"message\":\"\","
                         "\"level\":\"info\"}\n"
                         "1 tests, 1 failed\n")
        # Nothing was written where the config's inputs and outputs point.
        self.assertFalse(os.path.exists("/nonexistent"))

    def test_bad_tests_file_is_a_usage_error(self):
        cfg = self.write("c.yaml", CONFIG)
        r = support.run_logship(["test", "-c", cfg, self.write("t.yaml", "tests:\n  - name: x\n")])
        self.assertEqual(r.returncode, 2)
        self.assertIn("a test needs name, input, events and expect", r.stderr.decode())
        bad_where = "tests:\n  - {name: x, input: host, events: [a], expect: [{output: hostlogs, where: 'level >='}]}\n"
        r = support.run_logship(["test", "-c", cfg, self.write("w.yaml", bad_where)])
        self.assertEqual(r.returncode, 2)
        self.assertIn("where: column", r.stderr.decode())


if __name__ == "__main__":
    support.main()
