#include <cstdio>
#include <string>

#include "daemon/commands/commands.h"

namespace logship::commands {
namespace {

constexpr const char* kConfigSearch =
    "  Without -c the config is $LOGSHIP_CONFIG, else /etc/logship/logship.yaml if it exists,\n"
    "  else the embedded default; the daemon's first log line says which it took.\n";

struct CommandHelp {
  const char* name;
  const char* text;
};

const CommandHelp kHelp[] = {
    {"run",
     "usage: logship run [-c FILE] [--log-level debug|info|warn|error] [--log-format logfmt|json]\n"
     "\n"
     "Runs the daemon in the foreground until SIGTERM or SIGINT (drains, then exits 0).\n"
     "SIGHUP re-reads the config file; a config that does not validate is refused and the\n"
     "running one stays. Under systemd (Type=notify) it reports READY/RELOADING/STOPPING.\n"
     "--log-level and --log-format set logship's own log lines, over service.log_level and\n"
     "service.log_format.\n"},
    {"validate",
     "usage: logship validate [-c FILE] [--print] [--offline]\n"
     "\n"
     "Checks a config and exits 0 (valid) or 1 (errors, each with file:line:col).\n"
     "  --print    the effective config: defaults filled in, ${...} expanded, secrets as ***\n"
     "  --offline  secret files (${file:...}) need not exist here (CI, before deployment)\n"},
    {"reload",
     "usage: logship reload [-c FILE] [--timeout DURATION] [--no-wait]\n"
     "\n"
     "Validates FILE, then sends SIGHUP to the daemon whose pid is in <state_dir>/logship.pid\n"
     "(state_dir from FILE) and waits for the outcome the daemon writes to\n"
     "<state_dir>/reload.json: exits 0 once the new config runs, 1 if FILE has errors (nothing\n"
     "is signalled), if the daemon rejected it or could not start it (the errors are printed),\n"
     "3 if no outcome came within --timeout (default 2m). Suited for systemd's ExecReload.\n"
     "  --no-wait  send the signal and exit 0 (the daemon's log has the outcome)\n"
     "The HTTP endpoint does the same: POST /api/reload answers 200, 422 (rejected) or 500\n"
     "with the outcome as JSON (service.http_reload: loopback clients by default).\n"},
    {"plugins",
     "usage: logship plugins\n"
     "       logship plugins describe [KIND/]NAME [--json]\n"
     "\n"
     "Lists the inputs, processors and outputs, or prints one plugin's options with type,\n"
     "default and documentation. KIND (input, processor, output) picks one where names are\n"
     "shared: output/file.\n"},
    {"dead-letters",
     "usage: logship dead-letters list FILE...\n"
     "       logship dead-letters replay FILE --output NAME [-c CONFIG] [--attempts N]\n"
     "\n"
     "list: the dead letters of each file (<state_dir>/dlq/<output>.ndjson and its rotated\n"
     "  .1, .2, ...) per output and error, the first distinct reasons, the events' time range.\n"
     "replay: sends FILE's events again through output NAME of CONFIG (after fixing what\n"
     "  rejected them, e.g. the index mapping). What is delivered leaves FILE; what is rejected\n"
     "  again stays, with its new reason. Safe while the daemon runs; an interrupted replay\n"
     "  leaves FILE.replaying, which replay resumes. Exits 0 when everything was delivered.\n"},
    {"test",
     "usage: logship test [-c CONFIG] TESTS.yaml\n"
     "\n"
     "Unit tests for a config's processors and routes. Each test gives events to one input of\n"
     "CONFIG (messages, with stream, time, source tags and labels as that input would set\n"
     "them), runs the config's real processors and routing with no input, output or state\n"
     "I/O, and checks what reaches each output: the fields of each event in order (dotted\n"
     "paths such as labels.team), conditions (`where: 'level >= warn'` on an event or on the\n"
     "whole output), or a count (0: dropped). Prints PASS/FAIL per test with\n"
     "each difference; exits 0 when all pass, 1 when one fails, 2 on a bad CONFIG or TESTS.\n"
     "\n"
     "  tests:\n"
     "    - name: errors of payments go to their own index\n"
     "      input: containers\n"
     "      source: {tags: {container_name: api}, labels: {team: payments}}\n"
     "      events: ['{\"level\":\"error\",\"msg\":\"boom\"}']\n"
     "      expect:\n"
     "        - output: payments\n"
     "          events: [{level: error, message: boom}]\n"
     "        - output: archive\n"
     "          count: 0\n"},
    {"top",
     "usage: logship top [-c FILE | --address HOST:PORT] [--interval 1s] [--iterations N]\n"
     "                   [--no-clear]\n"
     "\n"
     "A live view of a running daemon from its /metrics endpoint (service.http_listen of\n"
     "FILE, or --address): per input events and bytes per second, lag, lost bytes and errors;\n"
     "per output events and bytes per second, queue and disk-buffer fill, retries per second,\n"
     "dead-lettered and dropped events; the files furthest behind; CPU, RSS, open files and\n"
     "the memory budget. Refreshed every interval; --iterations N stops after N screens\n"
     "(scripts, CI); --no-clear appends screens instead of redrawing.\n"},
    {"tap",
     "usage: logship tap [-c FILE | --address HOST:PORT] --at POINT [--where CONDITION]\n"
     "                   [--rate N] [--format line|json] [--count N] [--for DURATION]\n"
     "\n"
     "Prints the live events of a running daemon at one point of its pipeline, from GET\n"
     "/api/tap on its HTTP endpoint (service.http_listen of FILE, or --address):\n"
     "  --at input:NAME      what the input read, before any processor\n"
     "  --at processor:NAME  what leaves that processor (wherever it runs)\n"
     "  --at output:NAME     what is handed to that output\n"
     "  --where COND   only events that satisfy the condition (README, \"Conditions\")\n"
     "  --rate N       at most N events per second (default 100); the rest are dropped\n"
     "  --format       line (default: time, point, input/stream, message, tags, fields) or\n"
     "                 json (one {\"point\",\"input\",\"event\"} object per line; --json)\n"
     "  --count N, --for DURATION  stop after N events or that long (default: until ^C)\n"
     "The pipeline never waits for a tap: what a slow client cannot take is dropped and\n"
     "counted (logship_tap_dropped_events_total). service.tap: loopback (default), any, off.\n"},
    {"fsck",
     "usage: logship fsck [-c FILE | --state-dir DIR] [--repair] [--export OUT.ndjson]\n"
     "       logship fsck [-c FILE | --state-dir DIR] --drop-buffer OUTPUT\n"
     "\n"
     "Checks what logship keeps in its state_dir while it is stopped (it refuses while the\n"
     "daemon runs): lists every checkpoint, verifies every output disk buffer and docker_plugin\n"
     "spool record by record (length, CRC, batch encoding) and reports what is undelivered.\n"
     "  --repair        take damage out: a torn or corrupt end of a segment is cut; a corrupt\n"
     "                  run inside one is split out, the records after it keeping their offsets\n"
     "                  (the daemon would skip the same bytes; repaired, it does not have to)\n"
     "  --export OUT    write the undelivered events of every disk buffer to OUT as dead-letter\n"
     "                  lines (logship dead-letters replay OUT --output NAME sends them)\n"
     "  --drop-buffer OUTPUT  delete that output's disk buffer and its checkpoint on purpose\n"
     "Exit codes, as e2fsck's: 0 clean, 1 damage repaired, 4 damage left, 8 could not check.\n"},
};

}  // namespace

int print_usage(bool to_stderr) {
  std::FILE* f = to_stderr ? stderr : stdout;
  std::fputs(
      "usage: logship <command> [options]\n"
      "\n"
      "  run [-c FILE]               run the daemon\n"
      "  validate [-c FILE] [--print] [--offline]  check a config\n"
      "  reload [-c FILE]            validate FILE, make the daemon re-read it, wait for the outcome\n"
      "  plugins                     list the available inputs, processors and outputs\n"
      "  plugins describe NAME [--json]  print a plugin's options\n"
      "  dead-letters list FILE...   summarize dead-letter files\n"
      "  dead-letters replay FILE --output NAME [-c FILE]  send dead letters again\n"
      "  fsck [-c FILE] [--repair] [--export OUT]  check and repair buffers and checkpoints\n"
      "  top [-c FILE | --address HOST:PORT]  live rates, queues, lag and errors\n"
      "  tap [-c FILE] --at POINT [--where COND]  print live events at an input, processor or output\n"
      "  test [-c FILE] TESTS.yaml   unit-test the config's processors and routes\n"
      "  version                     print the version\n"
      "\n",
      f);
  std::fputs(kConfigSearch, f);
  std::fputs("  logship <command> --help prints a command's own help.\n", f);
  return to_stderr ? 2 : 0;
}

bool print_command_help(const std::string& command) {
  for (const CommandHelp& h : kHelp) {
    if (command == h.name) {
      std::fputs(h.text, stdout);
      if (command != "plugins") std::fputs(kConfigSearch, stdout);
      return true;
    }
  }
  return false;
}

}  // namespace logship::commands
