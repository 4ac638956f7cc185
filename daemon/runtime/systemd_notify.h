#pragma once
#include <chrono>
#include <string_view>

namespace logship {

// Tells systemd (Type=notify) where the daemon is: READY=1 once the pipeline runs, RELOADING=1
// and READY=1 around a reload, STOPPING=1 when it drains, and WATCHDOG=1 pings when the unit sets
// WatchdogSec=. Without $NOTIFY_SOCKET (not under systemd) every call does nothing.
class SystemdNotifier {
 public:
  SystemdNotifier();
  void ready(std::string_view status);
  void reloading();
  void stopping();
  // Sends WATCHDOG=1 if half the watchdog interval has passed since the last ping; call it from
  // the main loop, which wakes at least every 200 ms.
  void keep_alive();

 private:
  void send(const char* state);
  bool enabled_ = false;
  std::chrono::microseconds watchdog_{0};
  std::chrono::steady_clock::time_point last_ping_{};
};

}  // namespace logship
