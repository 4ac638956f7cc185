#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "daemon/registry/config_diff.h"
#include "daemon/commands/commands.h"
#include "daemon/commands/config_args.h"
#include "daemon/commands/config_watch.h"
#include "daemon/commands/pid_file.h"
#include "daemon/core/host_identity.h"
#include "daemon/pipeline/topology.h"
#include "daemon/runtime/admin_http.h"
#include "daemon/runtime/listen_sockets.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/metrics.h"
#include "daemon/runtime/privileges.h"
#include "daemon/runtime/reload_outcome.h"
#include "daemon/runtime/systemd_notify.h"
#include "daemon/state/atomic_file.h"

namespace logship::commands {

namespace {


// The running pipeline, swapped on reload. The HTTP thread reads it for /ready.
class Running {
 public:
  std::shared_ptr<Topology> get() const {
    std::lock_guard lock(mu_);
    return topo_;
  }
  std::shared_ptr<Topology> take() {
    std::lock_guard lock(mu_);
    return std::move(topo_);
  }
  void set(std::shared_ptr<Topology> t) {
    std::lock_guard lock(mu_);
    topo_ = std::move(t);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<Topology> topo_;
};

// --log-level / --log-format given on the command line win over the config, reloads included.
struct LogFlags {
  std::string level;
  std::string format;
};
LogFlags g_log_flags;

void apply_log_level(const config::Config& cfg) {
  log::Level level = log::Level::kInfo;
  log::parse_level(g_log_flags.level.empty() ? cfg.service.log_level : g_log_flags.level, &level);
  log::set_level(level);
  log::Format format = log::Format::kLogfmt;
  log::parse_format(g_log_flags.format.empty() ? cfg.service.log_format : g_log_flags.format,
                    &format);
  log::set_format(format);
}

// Takes --log-level LEVEL and --log-format FORMAT (or --x=VALUE) out of args.
Status take_log_flags(std::vector<std::string>* args, LogFlags* flags) {
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args->size(); ++i) {
    const std::string& a = (*args)[i];
    std::string* target = nullptr;
    std::string name = a.substr(0, a.find('='));
    if (name == "--log-level") target = &flags->level;
    if (name == "--log-format") target = &flags->format;
    if (target == nullptr) {
      rest.push_back(a);
      continue;
    }
    if (a.size() > name.size()) {
      *target = a.substr(name.size() + 1);
    } else if (i + 1 < args->size()) {
      *target = (*args)[++i];
    } else {
      return Status::invalid(name + " needs a value");
    }
  }
  log::Level level;
  log::Format format;
  if (!flags->level.empty() && !log::parse_level(flags->level, &level)) {
    return Status::invalid("--log-level takes debug, info, warn or error, not '" + flags->level +
                           "'");
  }
  if (!flags->format.empty() && !log::parse_format(flags->format, &format)) {
    return Status::invalid("--log-format takes logfmt or json, not '" + flags->format + "'");
  }
  *args = std::move(rest);
  return Status::ok();
}

std::shared_ptr<Topology> start_topology(const config::Config& cfg, Status* s) {
  // Before outputs start: they copy the identity once, in start().
  set_process_host_identity(resolve_host_identity(cfg.service.host_name, cfg.service.host_id));
  auto t = std::make_shared<Topology>(cfg);
  *s = t->start();
  if (!s->is_ok()) {
    t->stop(std::chrono::milliseconds(0));
    return nullptr;
  }
  ListenSockets::global().close_unleased();   // an input that left the config frees its port
  return t;
}

AdminHttp::Access admin_access(config::ClientAccess a) {
  switch (a) {
    case config::ClientAccess::kAny: return AdminHttp::Access::kAny;
    case config::ClientAccess::kLoopback: return AdminHttp::Access::kLoopback;
    case config::ClientAccess::kOff: return AdminHttp::Access::kOff;
  }
  return AdminHttp::Access::kOff;
}

// Service options a running process cannot change: they act once at start.
void warn_restart_only(const config::ServiceOptions& cur, const config::ServiceOptions& next) {
  auto warn = [](const char* option) {
    log::warn("reload", "option changes only on restart; keeping the running value",
              log::kv("option", std::string("service.") + option));
  };
  if (cur.http_listen != next.http_listen) warn("http_listen");
  if (cur.http_reload != next.http_reload) warn("http_reload");
  if (cur.tap != next.tap) warn("tap");
  if (cur.user != next.user) warn("user");
  if (cur.allow_root != next.allow_root) warn("allow_root");
}

// Series of components the new config no longer has leave /metrics; the others keep counting
// into the same series (shown with their type now). Called once the old pipeline is gone.
void forget_removed_components(const config::Config& cur, const config::Config& next) {
  auto sweep = [](const char* key, const std::vector<config::ComponentConfig>& was,
                  const std::vector<config::ComponentConfig>& now) {
    for (const auto& c : was) {
      const bool kept = std::any_of(now.begin(), now.end(),
                                    [&](const auto& n) { return n.name == c.name; });
      if (!kept) Metrics::global().forget_component(key, c.name);
    }
  };
  sweep("input", cur.inputs, next.inputs);
  sweep("processor", cur.processors, next.processors);
  sweep("output", cur.outputs, next.outputs);
}

std::string reload_status_path(const config::Config& cfg) {
  return cfg.service.state_dir + "/reload.json";
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ",") + n;
  return out.empty() ? "-" : out;
}

// The log fields of a reload applied in place: what was replaced, and what kept running.
std::string in_place_fields(const config::ConfigDiff& diff) {
  std::string kv = log::kv("restarted_inputs", joined(diff.restarted_inputs)) +
                   log::kv("added_inputs", joined(diff.added_inputs)) +
                   log::kv("removed_inputs", joined(diff.removed_inputs)) +
                   log::kv("replaced_outputs", joined(diff.changed_outputs)) +
                   log::kv("added_outputs", joined(diff.added_outputs)) +
                   log::kv("removed_outputs", joined(diff.removed_outputs));
  return kv + log::kv("kept_inputs", joined(diff.unchanged_inputs)) +
         log::kv("kept_outputs", joined(diff.unchanged_outputs));
}

// The pipeline's service options are unchanged: the running pipeline takes the new config
// (Topology::reconfigure). Unchanged inputs keep their streams, in-flight events, processors'
// state and positions, unchanged outputs their queues and open files; changed outputs' runners
// are swapped; inputs whose settings or processors/routes changed stop and start again at their
// committed positions. Nullopt never: a failure puts the pipeline back together from the
// running config, and the outcome says so.
ReloadOutcome reload_in_place(const ConfigArgs& a, const config::ConfigDiff& diff,
                              config::Config& current, config::Config& next, Running& running) {
  Status s = Status::internal("no running pipeline");
  if (std::shared_ptr<Topology> t = running.get()) {
    s = t->reconfigure(next, diff, current.service.drain_timeout);
    if (s.is_ok()) t->acknowledge_losses();   // as a rebuilt pipeline would
  }
  if (s.is_ok()) {
    forget_removed_components(current, next);
    // Inputs that stopped gave their privileged ports back, the ones started took theirs.
    ListenSockets::global().close_unleased();
    current = std::move(next);
    apply_log_level(current);
    log::info("reload", "reloaded",
              log::kv("config", a.path) +
                  log::kv("inputs", static_cast<int64_t>(current.inputs.size())) +
                  log::kv("outputs", static_cast<int64_t>(current.outputs.size())) +
                  in_place_fields(diff));
    return ReloadOutcomes::global().publish("reloaded", {});
  }
  log::error("reload", "the new config failed to start in place; rebuilding the pipeline from "
                       "the previous config",
             log::kv("error", s.message()));
  const std::string why = "the new config failed to start: " + s.message();
  if (std::shared_ptr<Topology> old = running.take()) old->stop(current.service.drain_timeout);
  if (auto fresh = start_topology(current, &s)) {
    running.set(std::move(fresh));
    return ReloadOutcomes::global().publish("rolled_back", {why});
  }
  log::error("reload", "previous config failed to start too", log::kv("error", s.message()));
  return ReloadOutcomes::global().publish(
      "failed", {why, "the previous config failed to start too: " + s.message()});
}

// Validates the file again and applies it: in place when the pipeline's service options did
// not change (reload_in_place), otherwise by swapping pipelines: the old one drains (inputs stop,
// outputs deliver, final checkpoint) and the new one starts from the same state_dir, so inputs
// resume at their committed positions. The outcome goes to ReloadOutcomes (POST /api/reload waits on
// it) and to <state_dir>/reload.json (`logship reload` waits on that).
ReloadOutcome reload(const ConfigArgs& a, config::Config& current, Running& running) {
  auto outcome = [](const char* result, std::vector<std::string> errors) {
    return ReloadOutcomes::global().publish(result, std::move(errors));
  };
  if (a.path.empty()) {
    log::warn("reload", "SIGHUP ignored: running the embedded default config, no file to re-read");
    return outcome("rejected", {"running the embedded default config: no file to re-read"});
  }
  log::info("reload", "reloading", log::kv("config", a.path));
  config::Errors errors(a.path);
  std::optional<config::Config> next = config::load_config_file(a.path, errors);
  if (!next) {
    std::vector<std::string> lines;
    for (const auto& e : errors.all()) {
      lines.push_back(e.to_string());
      log::error("reload", "invalid config", log::kv("error", e.to_string()));
    }
    log::error("reload", "reload rejected; the running config stays",
               log::kv("config", a.path) +
                   log::kv("errors", static_cast<int64_t>(errors.all().size())));
    return outcome("rejected", std::move(lines));
  }
  if (next->service.state_dir != current.service.state_dir) {
    log::error("reload",
               "reload rejected; service.state_dir cannot change while running (positions "
               "live there): restart logship to move it",
               log::kv("running", current.service.state_dir) +
                   log::kv("new", next->service.state_dir));
    return outcome("rejected", {"service.state_dir cannot change while running (from " +
                                current.service.state_dir + " to " + next->service.state_dir +
                                "): restart logship to move it"});
  }
  warn_restart_only(current.service, next->service);
  next->service.http_listen = current.service.http_listen;
  next->service.http_reload = current.service.http_reload;
  next->service.tap = current.service.tap;
  next->service.user = current.service.user;
  next->service.allow_root = current.service.allow_root;

  const config::ConfigDiff diff = config::diff_configs(current, *next);
  // Pipeline service options (memory, queues, batches, retries, checkpoints) are read once by
  // every component: a change there builds a new pipeline.
  if (diff.in_place) return reload_in_place(a, diff, current, *next, running);

  std::shared_ptr<Topology> old = running.take();   // /ready answers 503 during the swap
  bool clean = old->stop(current.service.drain_timeout);
  old.reset();
  forget_removed_components(current, *next);
  if (!clean) {
    log::warn("reload", "old pipeline did not drain in time; undelivered data stays un-acked "
                        "and is read again by the new one");
  }
  Status s;
  if (auto t = start_topology(*next, &s)) {
    running.set(std::move(t));
    current = std::move(*next);
    apply_log_level(current);
    log::info("reload", "reloaded", log::kv("config", a.path) +
                                        log::kv("inputs", static_cast<int64_t>(current.inputs.size())) +
                                        log::kv("outputs", static_cast<int64_t>(current.outputs.size())));
    return outcome("reloaded", {});
  }
  log::error("reload", "new config failed to start; going back to the previous one",
             log::kv("error", s.message()));
  const std::string why = "the new config failed to start: " + s.message();
  if (auto t = start_topology(current, &s)) {
    running.set(std::move(t));
    return outcome("rolled_back", {why});
  }
  log::error("reload", "previous config failed to start too", log::kv("error", s.message()));
  return outcome("failed", {why, "the previous config failed to start too: " + s.message()});
}

// Where `logship reload` finds the outcome. A failure to write it is logged, never fatal.
void write_reload_status(const config::Config& cfg, const ReloadOutcome& o) {
  const std::string path = reload_status_path(cfg);
  if (Status w = write_file_atomically(path, o.to_json(::getpid()) + "\n"); !w.is_ok()) {
    log::warn("reload", "cannot write the reload outcome; `logship reload` will not see it",
              log::kv("path", path) + log::kv("error", w.message()));
  }
}

// The last words of a run: what was delivered, and what was not and where it is.
void report_stop(bool clean, const std::string& state_dir) {
  const uint64_t dead = OutputRunner::dead_lettered_in_process();
  const uint64_t lost = OutputRunner::dead_letters_dropped_in_process();
  std::string kv;
  if (dead > 0) {
    kv = log::kv("dead_lettered", static_cast<int64_t>(dead)) +
         log::kv("dead_letters_dropped", static_cast<int64_t>(lost)) +
         log::kv("dead_letter_dir", state_dir + "/dlq") +
         log::kv("hint", "logship dead-letters list|replay FILE");
  }
  if (!clean) {
    log::warn("daemon", "stopped; undelivered data stays un-acked and is read again at start", kv);
  } else if (dead == 0) {
    log::info("daemon", "stopped; everything delivered");
  } else {
    log::warn("daemon", "stopped; everything delivered except " + std::to_string(dead) +
                            " events dead-lettered" +
                            (lost > 0 ? "; " + std::to_string(lost) + " dead letters dropped by "
                                        "the dead-letter files' limit" : std::string()),
              kv);
  }
}

}  // namespace

int run(const std::vector<std::string>& given) {
  std::vector<std::string> args = given;
  if (Status s = take_log_flags(&args, &g_log_flags); !s.is_ok()) {
    std::fprintf(stderr, "logship run: %s\n", s.message().c_str());
    return 2;
  }
  ConfigArgs a = parse_config_args(args);
  if (!a.ok) {
    std::fprintf(stderr, "logship run: %s\n", a.error.c_str());
    return 2;
  }
  // Signals are blocked in every thread and taken synchronously by the main thread.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::optional<config::Config> cfg = load_or_report(a);
  if (!cfg) return 1;
  apply_log_level(*cfg);
  log::info("daemon", "starting", log::kv("version", LOGSHIP_VERSION) +
                                      log::kv("config", a.path.empty() ? "<default>" : a.path) +
                                      log::kv("config_from", a.chosen_by) +
                                      log::kv("config_pieces",
                                              static_cast<int64_t>(cfg->pieces.size())));

  // Ports below 1024 can only be bound now, before the privileges go.
  for (const auto& input : cfg->inputs) {
    if (Status b = input.make_input()->bind_privileged(); !b.is_ok()) {
      log::error("daemon", "cannot bind a privileged port", log::kv("input", input.name) +
                                                             log::kv("error", b.message()));
      return 1;
    }
  }

  // Before any thread exists: capabilities are per thread.
  Status s = apply_privileges(
      {cfg->service.user, cfg->service.allow_root, cfg->service.state_dir});
  if (!s.is_ok()) {
    log::error("daemon", "cannot drop privileges; refusing to run", log::kv("error", s.message()));
    return 1;
  }

  config::Config current = std::move(*cfg);
  const std::string pid_file = pid_file_path(current.service.state_dir);
  bool wrote_pid = make_dirs(current.service.state_dir).is_ok() &&
                   write_file_atomically(pid_file, std::to_string(::getpid()) + "\n").is_ok();
  if (!wrote_pid) {
    log::warn("daemon", "cannot write the pid file; `logship reload` will not find this process",
              log::kv("path", pid_file));
  }

  Running running;
  AdminHttp http;
  if (!current.service.http_listen.empty()) {
    auto max_failing = current.service.ready_max_failing;
    // The main thread takes SIGHUP (blocked everywhere else) and runs the reload; the answer
    // waits for its outcome, at most a drain and a start.
    http.enable_reload(admin_access(current.service.http_reload),
                       [] { ::kill(::getpid(), SIGHUP); },
                       current.service.drain_timeout + std::chrono::seconds(60));
    http.enable_tap(admin_access(current.service.tap));
    s = http.start(current.service.http_listen, [&running, max_failing](std::string* why) {
      std::shared_ptr<Topology> t = running.get();
      if (!t) {
        *why = "pipeline not running (starting or reloading)";
        return false;
      }
      return t->ready(max_failing, why);
    });
    if (!s.is_ok() && a.path.empty()) {
      // The embedded default config is a quick start: a taken port must not stop it shipping.
      log::error("daemon", "cannot start the HTTP endpoint; running without it",
                 log::kv("error", s.message()) +
                     log::kv("hint", "set LOGSHIP_HTTP_LISTEN=127.0.0.1:<free port>"));
    } else if (!s.is_ok()) {
      log::error("daemon", "cannot start the HTTP endpoint", log::kv("error", s.message()));
      if (wrote_pid) ::unlink(pid_file.c_str());
      return 1;
    }
  }

  SystemdNotifier systemd;
  if (auto t = start_topology(current, &s)) {
    running.set(std::move(t));
    systemd.ready("running");
  } else {
    log::error("daemon", "cannot start", log::kv("error", s.message()));
    http.stop();
    if (wrote_pid) ::unlink(pid_file.c_str());
    return 1;
  }

  // The interval of the config running: a reload may change it.
  ConfigWatch config_watch(a.path, current.service.config_watch_interval);
  int sig = 0;
  bool fatal = false;
  while (true) {
    timespec wait{0, current.service.exit_when_done ? 20'000'000 : 200'000'000};
    int r = sigtimedwait(&set, nullptr, &wait);
    systemd.keep_alive();
    if (r != SIGHUP && config_watch.changed()) {
      log::info("reload", "config file changed", log::kv("config", a.path));
      r = SIGHUP;
    }
    if (r == SIGHUP) {
      systemd.reloading();
      const ReloadOutcome o = reload(a, current, running);
      write_reload_status(current, o);
      if (o.result == "failed") {
        fatal = true;
        break;
      }
      systemd.ready("running");
      config_watch = ConfigWatch(a.path, current.service.config_watch_interval);
      continue;
    }
    if (r > 0) {
      sig = r;
      break;
    }
    if (current.service.exit_when_done && running.get()->all_inputs_finished()) break;
  }
  int rc = 0;
  systemd.stopping();
  if (!fatal) {
    const auto drain = current.service.drain_timeout;
    log::info("daemon", sig ? "stopping on signal" : "inputs finished; stopping",
              log::kv("signal", static_cast<int64_t>(sig)) +
                  log::kv("drain_timeout_ms", static_cast<int64_t>(drain.count())));
    std::shared_ptr<Topology> t = running.take();
    bool clean = t->stop(drain);
    report_stop(clean, current.service.state_dir);
  } else {
    rc = 1;
  }
  http.stop();
  if (wrote_pid) ::unlink(pid_file.c_str());
  return rc;
}

namespace {

// The outcome in <state_dir>/reload.json when it was written by process `pid`.
std::optional<ReloadOutcome> read_reload_status(const std::string& path, long pid) {
  std::string text;
  long writer = 0;
  ReloadOutcome o;
  if (!read_whole_file(path, &text) || !ReloadOutcome::from_json(text, &writer, &o) ||
      writer != pid) {
    return std::nullopt;
  }
  return o;
}

}  // namespace

int reload(const std::vector<std::string>& given) {
  // --timeout DURATION (how long to wait for the outcome), --no-wait (signal only).
  std::vector<std::string> args;
  config::Millis timeout{120000};
  bool wait = true;
  for (std::size_t i = 0; i < given.size(); ++i) {
    const std::string& g = given[i];
    if (g == "--no-wait") {
      wait = false;
    } else if (g == "--timeout" || g.rfind("--timeout=", 0) == 0) {
      std::string v = g.size() > 9 ? g.substr(10) : (i + 1 < given.size() ? given[++i] : "");
      if (!config::parse_duration(v, &timeout) || timeout.count() <= 0) {
        std::fprintf(stderr, "logship reload: --timeout takes a duration such as 90s, not '%s'\n",
                     v.c_str());
        return 2;
      }
    } else {
      args.push_back(g);
    }
  }
  ConfigArgs a = parse_config_args(args);
  if (!a.ok) {
    std::fprintf(stderr, "logship reload: %s\n", a.error.c_str());
    return 2;
  }
  if (a.path.empty()) {
    std::fprintf(stderr, "logship reload: -c FILE is required (the file the daemon runs with)\n");
    return 2;
  }
  // Validate here too, so the operator sees the errors at once instead of in the daemon's log.
  std::optional<config::Config> cfg = load_or_report(a);
  if (!cfg) {
    std::fprintf(stderr, "logship reload: not reloading; the running config stays\n");
    return 1;
  }
  const std::string path = pid_file_path(cfg->service.state_dir);
  const std::optional<long> named = read_pid_file(path);
  if (!named) {
    std::fprintf(stderr, "logship reload: cannot read %s: is logship running with this config?\n",
                 path.c_str());
    return 1;
  }
  const long pid = *named;
  if (!is_running_logship(pid)) {
    std::fprintf(stderr, "logship reload: %s names pid %ld, which is not a running logship\n",
                 path.c_str(), pid);
    return 1;
  }
  const std::string status_path = reload_status_path(*cfg);
  const std::optional<ReloadOutcome> before = read_reload_status(status_path, pid);
  const uint64_t after = before ? before->generation : 0;
  if (::kill(static_cast<pid_t>(pid), SIGHUP) != 0) {
    std::perror("logship reload: kill");
    return 1;
  }
  if (!wait) {
    std::printf("sent SIGHUP to logship (pid %ld); its log reports the result\n", pid);
    return 0;
  }
  // The daemon drains the old pipeline and starts the new one, then writes the outcome.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::optional<ReloadOutcome> o = read_reload_status(status_path, pid);
    if (o && o->generation > after) {
      if (o->ok()) {
        std::printf("reloaded: logship (pid %ld) runs %s\n", pid, a.path.c_str());
        return 0;
      }
      std::fprintf(stderr, "logship reload: %s\n",
                   o->result == "rejected"      ? "rejected; the running config stays"
                   : o->result == "rolled_back" ? "the new config did not start; the previous "
                                                  "one runs again"
                                                : "failed; logship is stopping");
      for (const std::string& e : o->errors) std::fprintf(stderr, "  %s\n", e.c_str());
      return 1;
    }
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::fprintf(stderr, "logship reload: logship (pid %ld) exited\n", pid);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::fprintf(stderr,
               "logship reload: no outcome from pid %ld within %s; its log will have it\n", pid,
               config::format_duration(timeout).c_str());
  return 3;
}

}  // namespace logship::commands
