#include "daemon/runtime/tap_hub.h"

#include <algorithm>

#include "daemon/core/json_writer.h"
#include "daemon/runtime/metrics.h"

namespace logship {

TapSubscription::TapSubscription(std::string point, TapOptions options, TimePoint now)
    : point_(std::move(point)),
      options_(std::move(options)),
      tokens_(options_.rate_per_second),
      refilled_(now) {}

bool TapSubscription::take_token(TimePoint now) {
  const double elapsed = std::chrono::duration<double>(now - refilled_).count();
  refilled_ = now;
  tokens_ = std::min(options_.rate_per_second, tokens_ + elapsed * options_.rate_per_second);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void TapSubscription::offer(const Batch& batch, std::string* scratch, TimePoint now) {
  TapHub& hub = TapHub::global();
  for (const Event& e : batch.events()) {
    if (options_.where && !options_.where->matches(e, batch.source(), scratch)) continue;
    if (!take_token(now)) {
      dropped_rate_.fetch_add(1, std::memory_order_relaxed);
      hub.rate_counter().fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    std::lock_guard lock(queue_mu_);
    if (queue_.size() >= options_.max_queued_lines || queued_bytes_ >= options_.max_queued_bytes) {
      dropped_slow_.fetch_add(1, std::memory_order_relaxed);
      hub.slow_counter().fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    std::string& line = queue_.emplace_back();
    render_tap_line(line, options_.format, point_, e, batch.source());
    queued_bytes_ += line.size();
    sent_.fetch_add(1, std::memory_order_relaxed);
    hub.sent_counter().fetch_add(1, std::memory_order_relaxed);
    pending_.store(true, std::memory_order_release);
  }
}

std::deque<std::string> TapSubscription::take() {
  std::deque<std::string> out;
  std::lock_guard lock(queue_mu_);
  out.swap(queue_);
  queued_bytes_ = 0;
  pending_.store(false, std::memory_order_release);
  return out;
}

void TapPoint::offer(const Batch& batch) {
  const TimePoint now = SteadyClock::now();
  std::lock_guard lock(mu_);
  for (const auto& sub : subs_) sub->offer(batch, &scratch_, now);
}

TapHub::TapHub()
    : sent_(&Metrics::global().counter("logship_tap_events_total", "",
                                       "Events sent to tap clients (logship tap, /api/tap)")),
      dropped_slow_(&Metrics::global().counter(
          "logship_tap_dropped_events_total", label("reason", "slow_client"),
          "Tap events not sent: the client's queue was full (slow_client) or over its rate "
          "limit (rate_limit). Pipeline events are never dropped for a tap.")),
      dropped_rate_(&Metrics::global().counter("logship_tap_dropped_events_total",
                                               label("reason", "rate_limit"))),
      active_(&Metrics::global().gauge("logship_tap_clients", "", "Tap clients connected")) {}

TapHub& TapHub::global() {
  static TapHub* hub = new TapHub();   // never destroyed: pipelines keep its points to the end
  return *hub;
}

TapPoint* TapHub::point(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = points_.find(name);
  if (it == points_.end()) it = points_.emplace(name, std::make_unique<TapPoint>(name)).first;
  return it->second.get();
}

void TapHub::set_live_points(std::vector<std::string> names) {
  std::lock_guard lock(mu_);
  live_ = std::move(names);
}

std::vector<std::string> TapHub::live_points() const {
  std::lock_guard lock(mu_);
  return live_;
}

Result<std::shared_ptr<TapSubscription>> TapHub::subscribe(const std::string& point,
                                                           TapOptions options) {
  std::lock_guard lock(mu_);
  if (std::find(live_.begin(), live_.end(), point) == live_.end()) {
    std::string error = "no tap point '" + point + "'; the running pipeline has:";
    for (const std::string& p : live_) error += " " + p;
    return Status::invalid(std::move(error));
  }
  if (open_ >= kMaxSubscriptions) {
    return Status::unavailable("too many taps open (" + std::to_string(kMaxSubscriptions) + ")");
  }
  auto it = points_.find(point);
  if (it == points_.end()) it = points_.emplace(point, std::make_unique<TapPoint>(point)).first;
  TapPoint& p = *it->second;
  auto sub = std::make_shared<TapSubscription>(point, std::move(options), SteadyClock::now());
  {
    std::lock_guard plock(p.mu_);
    p.subs_.push_back(sub);
    p.subscribers_.store(static_cast<int>(p.subs_.size()), std::memory_order_relaxed);
  }
  ++open_;
  active_->store(static_cast<int64_t>(open_), std::memory_order_relaxed);
  return sub;
}

void TapHub::unsubscribe(const std::shared_ptr<TapSubscription>& sub) {
  std::lock_guard lock(mu_);
  auto it = points_.find(sub->point());
  if (it == points_.end()) return;
  TapPoint& p = *it->second;
  std::lock_guard plock(p.mu_);
  auto found = std::find(p.subs_.begin(), p.subs_.end(), sub);
  if (found == p.subs_.end()) return;
  p.subs_.erase(found);
  p.subscribers_.store(static_cast<int>(p.subs_.size()), std::memory_order_relaxed);
  --open_;
  active_->store(static_cast<int64_t>(open_), std::memory_order_relaxed);
}

void render_tap_line(std::string& out, TapOptions::Format format, std::string_view point,
                     const Event& e, const SourceInfo& source) {
  if (format == TapOptions::Format::kJson) {
    out.append("{\"point\":");
    json::append_string(out, point);
    out.append(",\"input\":");
    json::append_string(out, source.input);
    out.append(",\"event\":");
    json::append_event(out, e, source);
    out.append("}\n");
    return;
  }
  json::append_rfc3339(out, e.time_ns);
  out.push_back(' ');
  out.append(point);
  out.push_back(' ');
  out.append(source.input);
  if (e.stream != Stream::kNone) {
    out.push_back('/');
    out.append(stream_name(e.stream));
  }
  out.append(": ");
  // One line per event: control characters of the message are shown escaped.
  for (char c : e.message) {
    if (c == '\n') {
      out.append("\\n");
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out.push_back('?');
    } else {
      out.push_back(c);
    }
  }
  for (const Tag& t : source.tags) {
    out.push_back(' ');
    out.append(t.key);
    out.push_back('=');
    out.append(t.value);
  }
  for (const Field& f : e.fields) {
    out.push_back(' ');
    out.append(f.key);
    out.push_back('=');
    json::append_value(out, f.value);
  }
  out.push_back('\n');
}

}  // namespace logship
