#include <signal.h>

#include <cstdio>
#include <thread>

#include "daemon/commands/commands.h"
#include "daemon/commands/config_args.h"
#include "daemon/pipeline/topology.h"
#include "daemon/runtime/log.h"

namespace logship::commands {

int run(const std::vector<std::string>& args) {
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
  log::Level level = log::Level::kInfo;
  log::parse_level(cfg->service.log_level, &level);
  log::set_level(level);
  const auto drain = cfg->service.drain_timeout;
  const bool exit_when_done = cfg->service.exit_when_done;
  log::info("daemon", "starting", log::kv("version", LOGSHIP_VERSION) +
                                      log::kv("config", a.path.empty() ? "<default>" : a.path));

  Topology topo(std::move(*cfg));
  Status s = topo.start();
  if (!s.is_ok()) {
    log::error("daemon", "cannot start", log::kv("error", s.message()));
    topo.stop(std::chrono::milliseconds(0));
    return 1;
  }

  int sig = 0;
  if (exit_when_done) {
    // Poll for a signal while waiting for the inputs to finish.
    timespec zero{0, 0};
    topo.wait_inputs_finished([&] {
      int r = sigtimedwait(&set, nullptr, &zero);
      if (r > 0 && r != SIGHUP) sig = r;
      return sig != 0;
    });
  } else {
    while (true) {
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGHUP) {
        log::info("daemon", "SIGHUP received; reload is not supported yet, keeping the config");
        continue;
      }
      break;
    }
  }
  log::info("daemon", sig ? "stopping on signal" : "inputs finished; stopping",
            log::kv("signal", static_cast<int64_t>(sig)) +
                log::kv("drain_timeout_ms", static_cast<int64_t>(drain.count())));
  bool clean = topo.stop(drain);
  log::info("daemon", clean ? "stopped; everything delivered"
                            : "stopped; undelivered data stays un-acked and is read again at start");
  return 0;
}

}  // namespace logship::commands
