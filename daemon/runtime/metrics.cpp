#include "daemon/runtime/metrics.h"

namespace logship {

Metrics& Metrics::global() {
  static Metrics m;
  return m;
}

Metrics::Entry& Metrics::entry(std::string_view name, std::string_view labels,
                               std::string_view help, bool is_counter) {
  std::lock_guard lock(mu_);
  auto fit = families_.find(name);
  if (fit == families_.end()) {
    fit = families_.emplace(std::string(name), Family{}).first;
    fit->second.is_counter = is_counter;
  }
  Family& fam = fit->second;
  if (fam.help.empty() && !help.empty()) fam.help = std::string(help);
  auto sit = fam.series.find(labels);
  if (sit == fam.series.end()) {
    sit = fam.series.emplace(std::string(labels), std::make_unique<Entry>()).first;
    sit->second->is_counter = is_counter;
  }
  return *sit->second;
}

std::atomic<uint64_t>& Metrics::counter(std::string_view name, std::string_view labels,
                                        std::string_view help) {
  return entry(name, labels, help, true).counter;
}

std::atomic<int64_t>& Metrics::gauge(std::string_view name, std::string_view labels,
                                     std::string_view help) {
  return entry(name, labels, help, false).gauge;
}

int64_t Metrics::value(std::string_view name, std::string_view labels) const {
  std::lock_guard lock(mu_);
  auto fit = families_.find(name);
  if (fit == families_.end()) return 0;
  auto sit = fit->second.series.find(labels);
  if (sit == fit->second.series.end()) return 0;
  return sit->second->is_counter ? static_cast<int64_t>(sit->second->counter.load())
                                 : sit->second->gauge.load();
}

std::string Metrics::render_prometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, fam] : families_) {
    if (!fam.help.empty()) {
      out += "# HELP " + name + " " + fam.help + "\n";
    }
    out += "# TYPE " + name + (fam.is_counter ? " counter\n" : " gauge\n");
    for (const auto& [labels, e] : fam.series) {
      out += name;
      if (!labels.empty()) out += "{" + labels + "}";
      out += " ";
      out += fam.is_counter ? std::to_string(e->counter.load()) : std::to_string(e->gauge.load());
      out += "\n";
    }
  }
  return out;
}

}  // namespace logship
