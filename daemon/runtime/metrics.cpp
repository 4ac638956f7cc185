#include "daemon/runtime/metrics.h"

#include "daemon/core/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace logship {

std::string label(std::string_view key, std::string_view value) {
  std::string l(key);
  l += '=';
  json::append_string(l, value);
  return l;
}


Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  counts_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
}

void Histogram::observe(double value) {
  std::size_t i = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (value > 0) {
    sum_nanos_.fetch_add(static_cast<uint64_t>(std::llround(value * 1e9)),
                         std::memory_order_relaxed);
  }
}

double Histogram::sum() const {
  return static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
}

Metrics& Metrics::global() {
  static Metrics m;
  return m;
}

const std::vector<double>& Metrics::latency_buckets() {
  static const std::vector<double> b = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1,     2.5,  5,     10,   30, 60};
  return b;
}

namespace {

// The first label of a series when it names a component (`input="x"`), else empty. Component
// names are plain ([A-Za-z0-9_.-]), so the first closing quote ends the value.
std::string_view component_label(std::string_view labels) {
  for (std::string_view key : {"input=\"", "output=\"", "processor=\""}) {
    if (labels.substr(0, key.size()) != key) continue;
    const std::size_t close = labels.find('"', key.size());
    if (close == std::string_view::npos) return {};
    return labels.substr(0, close + 1);
  }
  return {};
}

}  // namespace

std::string Metrics::typed(std::string_view labels) const {
  std::string out(labels);
  const std::string_view c = component_label(labels);
  if (c.empty() || labels.find("type=\"") != std::string_view::npos) return out;
  auto it = component_types_.find(c);
  if (it == component_types_.end()) return out;
  out += ",type=";
  json::append_string(out, it->second);
  return out;
}

void Metrics::set_component_type(std::string_view key, std::string_view name,
                                 std::string_view type) {
  std::lock_guard lock(mu_);
  if (type.empty()) {
    component_types_.erase(label(key, name));
  } else {
    component_types_[label(key, name)] = std::string(type);
  }
}

void Metrics::forget_component(std::string_view key, std::string_view name) {
  const std::string c = label(key, name);
  std::lock_guard lock(mu_);
  component_types_.erase(c);
  for (auto& [fname, fam] : families_) {
    for (auto it = fam.series.begin(); it != fam.series.end();) {
      if (component_label(it->first) == c) {
        // Out of /metrics, but kept alive: a config loaded and then rolled back may still
        // hold a reference (processors make their series when the config is bound).
        retired_.push_back(std::move(it->second));
        it = fam.series.erase(it);
      } else {
        ++it;
      }
    }
  }
}

Metrics::Entry& Metrics::entry(std::string_view name, std::string_view labels,
                               std::string_view help, Type type) {
  auto fit = families_.find(name);
  if (fit == families_.end()) {
    fit = families_.emplace(std::string(name), Family{}).first;
    fit->second.type = type;
  }
  Family& fam = fit->second;
  if (fam.help.empty() && !help.empty()) fam.help = std::string(help);
  auto sit = fam.series.find(labels);
  if (sit == fam.series.end()) {
    sit = fam.series.emplace(std::string(labels), std::make_unique<Entry>()).first;
    sit->second->type = type;
  }
  return *sit->second;
}

std::atomic<uint64_t>& Metrics::counter(std::string_view name, std::string_view labels,
                                        std::string_view help) {
  std::lock_guard lock(mu_);
  return entry(name, labels, help, Type::kCounter).counter;
}

std::atomic<int64_t>& Metrics::gauge(std::string_view name, std::string_view labels,
                                     std::string_view help) {
  std::lock_guard lock(mu_);
  return entry(name, labels, help, Type::kGauge).gauge;
}

Histogram& Metrics::histogram(std::string_view name, std::string_view labels,
                              std::string_view help, const std::vector<double>& upper_bounds) {
  std::lock_guard lock(mu_);
  Entry& e = entry(name, labels, help, Type::kHistogram);
  if (!e.histogram) e.histogram = std::make_unique<Histogram>(upper_bounds);
  return *e.histogram;
}

int64_t Metrics::value(std::string_view name, std::string_view labels) const {
  std::lock_guard lock(mu_);
  auto fit = families_.find(name);
  if (fit == families_.end()) return 0;
  auto sit = fit->second.series.find(labels);
  if (sit == fit->second.series.end()) return 0;
  const Entry& e = *sit->second;
  switch (e.type) {
    case Type::kCounter: return static_cast<int64_t>(e.counter.load());
    case Type::kGauge: return e.gauge.load();
    case Type::kHistogram: return e.histogram ? static_cast<int64_t>(e.histogram->count()) : 0;
  }
  return 0;
}

namespace {

std::string format_double(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Shortest form that reads back the same, in plain decimal as Prometheus' own clients print
  // it (le="10", le="0.005"), not "1e+01"; exponents only for very large or small values.
  char buf[64];
  const double a = std::fabs(v);
  const auto fmt = a == 0 || (a >= 1e-6 && a < 1e15) ? std::chars_format::fixed
                                                     : std::chars_format::general;
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, fmt);
  if (ec != std::errc()) {
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
  }
  return std::string(buf, end);
}

void series_name(std::string& out, std::string_view name, std::string_view suffix,
                 std::string_view labels, std::string_view extra) {
  out += name;
  out += suffix;
  if (labels.empty() && extra.empty()) return;
  out += '{';
  out += labels;
  if (!labels.empty() && !extra.empty()) out += ',';
  out += extra;
  out += '}';
}

}  // namespace

void Metrics::remove(std::string_view name, std::string_view labels) {
  std::lock_guard lock(mu_);
  auto fit = families_.find(name);
  if (fit == families_.end()) return;
  auto sit = fit->second.series.find(labels);
  if (sit != fit->second.series.end()) fit->second.series.erase(sit);
}

std::string Metrics::render_prometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, fam] : families_) {
    if (!fam.help.empty()) out += "# HELP " + name + " " + fam.help + "\n";
    const char* type = fam.type == Type::kCounter ? " counter\n"
                       : fam.type == Type::kGauge ? " gauge\n"
                                                  : " histogram\n";
    out += "# TYPE " + name + type;
    for (const auto& [given_labels, e] : fam.series) {
      const std::string labels = typed(given_labels);
      if (e->type == Type::kHistogram) {
        if (!e->histogram) continue;
        const Histogram& h = *e->histogram;
        uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= h.bounds().size(); ++i) {
          cumulative += h.bucket(i);
          std::string le = "le=\"" +
                           (i < h.bounds().size() ? format_double(h.bounds()[i]) : "+Inf") + "\"";
          series_name(out, name, "_bucket", labels, le);
          out += " " + std::to_string(cumulative) + "\n";
        }
        series_name(out, name, "_sum", labels, {});
        out += " " + format_double(h.sum()) + "\n";
        series_name(out, name, "_count", labels, {});
        // The count printed equals the +Inf bucket, as Prometheus requires, even while
        // observations race with rendering.
        out += " " + std::to_string(cumulative) + "\n";
        continue;
      }
      series_name(out, name, "", labels, {});
      out += " ";
      out += e->type == Type::kCounter ? std::to_string(e->counter.load())
                                       : std::to_string(e->gauge.load());
      out += "\n";
    }
  }
  return out;
}

}  // namespace logship
