#pragma once
// Which container labels a document carries and under which keys: include/exclude globs, a
// byte cap, and dedot ('.' -> '_', as Filebeat's labels.dedot), so that label sets like
// Traefik's `r.tls` + `r.tls.certresolver` cannot make one key both a value and an object.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace logship::plugins::doc {

using Labels = std::vector<std::pair<std::string, std::string>>;

class LabelPolicy {
 public:
  LabelPolicy(std::vector<std::string> include, std::vector<std::string> exclude,
              uint64_t max_bytes, bool dedot)
      : include_(std::move(include)), exclude_(std::move(exclude)), max_bytes_(max_bytes),
        dedot_(dedot) {}

  // True when apply() would return the labels unchanged.
  bool keeps_all() const { return include_.empty() && exclude_.empty() && max_bytes_ == 0 && !dedot_; }
  // The kept labels in their order, keys dedotted; the cap counts key and value bytes.
  Labels apply(const Labels& labels) const;
  bool keeps(const std::string& key) const;

 private:
  std::vector<std::string> include_, exclude_;
  uint64_t max_bytes_;
  bool dedot_;
};

}  // namespace logship::plugins::doc
