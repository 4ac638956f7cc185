#pragma once
// File path templates: `{name}` takes a source tag or event field, `%Y %m %d %H %M %S` the
// event's UTC time. Substituted values are made file-name safe: only [A-Za-z0-9._-] survive, so a
// container name can never escape the directory.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/batch.h"

namespace logship::plugins {

class PathTemplate {
 public:
  explicit PathTemplate(std::string_view text);
  void render(const Event& e, const SourceInfo& source, std::string* out) const;
  bool has_time() const { return has_time_; }
  bool has_event_fields() const { return has_fields_; }

 private:
  struct Part {
    enum Kind { kLiteral, kField, kTime } kind;
    std::string text;   // literal text, field name, or strftime format
  };
  std::vector<Part> parts_;
  bool has_time_ = false;
  bool has_fields_ = false;
};

void append_safe(std::string* out, std::string_view value);

}  // namespace logship::plugins
