#pragma once
// Templates for names built from events: file paths, Kafka topics, index names.
// `{name}` takes a source tag, an event string field, `stream` or `input`; `%Y %m %d %H %M %S`
// (any strftime conversion) the event's UTC time; `%%` is a literal '%'. Substituted values go
// through a sanitizer so a container name can never escape a directory or break an index name.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/batch.h"

namespace logship {

using Sanitizer = void (*)(std::string* out, std::string_view value);

// The longest value append_safe writes: a file name component is at most 255 bytes, so one
// value can never make a path component too long on its own.
inline constexpr std::size_t kMaxSafeValueBytes = 200;
// Keeps [A-Za-z0-9._-] and replaces the rest ('/', NUL, spaces, any non-ASCII byte) with '_';
// leading dots become '_' too, so a value is never ".", ".." or a hidden name; "" becomes "_".
// A value longer than kMaxSafeValueBytes is cut to a prefix plus '-' and a 16-hex-digit hash of
// the whole value (kMaxSafeValueBytes in all).
void append_safe(std::string* out, std::string_view value);

class FieldTemplate {
 public:
  explicit FieldTemplate(std::string_view text, Sanitizer sanitize = append_safe);
  // Appends the rendering of the template for `e` to *out.
  void render(const Event& e, const SourceInfo& source, std::string* out) const;
  bool has_time() const { return has_time_; }
  bool has_event_fields() const { return has_fields_; }
  // True when a {name} is not a tag of `source` (nor `input`): the result may differ per event.
  bool varies_per_event(const SourceInfo& source) const;

 private:
  struct Part {
    enum Kind { kLiteral, kField, kTime } kind;
    std::string text;   // literal text, field name, or strftime conversion
  };
  std::vector<Part> parts_;
  Sanitizer sanitize_;
  bool has_time_ = false;
  bool has_fields_ = false;
};

}  // namespace logship
