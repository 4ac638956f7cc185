#include "daemon/runtime/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <string>

#include "daemon/runtime/log.h"

namespace logship {

SystemdNotifier::SystemdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  uint64_t usec = 0;
  // 0 = do not unset the variables: a reload builds a new pipeline in this same process.
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0) watchdog_ = std::chrono::microseconds(usec);
}

void SystemdNotifier::send(const char* state) {
  if (!enabled_) return;
  int r = sd_notify(0, state);
  if (r < 0) {
    static log::RateLimit limit(1, std::chrono::seconds(60));
    uint64_t suppressed = 0;
    if (limit.allow(&suppressed)) {
      log::warn("daemon", "cannot notify systemd", log::kv("error", std::to_string(-r)));
    }
  }
}

void SystemdNotifier::ready(std::string_view status) {
  std::string msg = "READY=1\nSTATUS=";
  msg += status;
  send(msg.c_str());
  last_ping_ = std::chrono::steady_clock::now();
}

void SystemdNotifier::reloading() { send("RELOADING=1\nSTATUS=reloading"); }

void SystemdNotifier::stopping() { send("STOPPING=1\nSTATUS=draining"); }

void SystemdNotifier::keep_alive() {
  if (watchdog_.count() == 0) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ping_ < watchdog_ / 2) return;
  last_ping_ = now;
  send("WATCHDOG=1");
}

}  // namespace logship
