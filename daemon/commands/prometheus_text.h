#pragma once
// Reads the Prometheus text format logship's /metrics writes, for `logship top`.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace logship::commands {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
  std::string label(const std::string& key) const {
    auto it = labels.find(key);
    return it == labels.end() ? std::string() : it->second;
  }
};

// Every sample of `text`; comment lines and lines that do not parse are skipped.
std::vector<Sample> parse_prometheus_text(std::string_view text);

}  // namespace logship::commands
