#pragma once
// Encodes events as RFC 5424 or RFC 3164 syslog messages (without transport framing). Pure: the
// bytes depend only on the event, its source and the settings, so tests compare them exactly.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/batch.h"

namespace logship::syslog {

enum class Format { k5424, k3164 };

// A header value: a literal, or "{name}" = the event's field `name`, else the source tag `name`
// ("{stream}" is the event's stream). Missing values become the nil value '-'.
struct ValueSpec {
  std::string literal;
  std::string ref;   // non-empty: a reference
  static ValueSpec parse(std::string_view s);
};

struct EncoderSettings {
  Format format = Format::k5424;
  int facility = 1;                  // user
  int default_severity = 6;          // info, when neither a level field nor a stream says more
  std::string hostname;              // already resolved (gethostname by the caller)
  ValueSpec app_name = ValueSpec::parse("{container_name}");
  ValueSpec procid = ValueSpec::parse("-");
  ValueSpec msgid = ValueSpec::parse("-");
  std::string severity_field = "level";
  std::string sd_id = "logship@32473";   // empty: no STRUCTURED-DATA
  bool sd_tags = true;                    // source tags (container_id, image, ...) as SD params
  std::vector<std::string> sd_fields;     // event fields added as SD params
  bool bom = true;                        // RFC 5424 UTF-8 MSG prefix
  bool replace_newlines = false;          // LF framing cannot carry '\n'
  std::size_t max_size = 0;               // whole message cap; 0 = none
};

// Parses a severity word ("warn", "ERROR", "fatal", "6") -> 0..7, or -1.
int severity_from_word(std::string_view w);
// Facility name ("local0", "user", "daemon") or number -> 0..23, or -1.
int facility_from_name(std::string_view w);

class Encoder {
 public:
  explicit Encoder(EncoderSettings s);
  // Appends one message to `out`. Returns true when the message was cut to max_size.
  bool encode(std::string& out, const Event& e, const SourceInfo& src);
  const EncoderSettings& settings() const { return s_; }

 private:
  int severity_of(const Event& e) const;
  std::string_view resolve(const ValueSpec& v, const Event& e, const SourceInfo& src,
                           std::string& scratch) const;
  void append_time_5424(std::string& out, int64_t ns);
  void append_time_3164(std::string& out, int64_t ns);
  void append_sd(std::string& out, const Event& e, const SourceInfo& src);

  EncoderSettings s_;
  // Timestamps change once a second per stream of events: format the seconds part once.
  int64_t cached_sec_5424_ = INT64_MIN;
  char cached_5424_[64] = {};
  int64_t cached_sec_3164_ = INT64_MIN;
  char cached_3164_[16] = {};
  std::string scratch_;
};

// Appends `s` with the printable US-ASCII (33..126) a header field allows, others as '_', cut
// to `max`; empty -> "-".
void append_header_field(std::string& out, std::string_view s, std::size_t max);
// Appends an SD-NAME: printable ASCII without '=', ' ', ']', '"', at most 32 characters.
void append_sd_name(std::string& out, std::string_view s);
// Appends a PARAM-VALUE with '"', '\' and ']' escaped; invalid UTF-8 becomes U+FFFD.
void append_sd_value(std::string& out, std::string_view s);
// Appends `s` as valid UTF-8 (invalid bytes -> U+FFFD).
void append_utf8(std::string& out, std::string_view s, bool replace_newlines);
// Length of the longest prefix of `s` no longer than `max` that ends on a UTF-8 boundary.
std::size_t utf8_prefix(std::string_view s, std::size_t max);

}  // namespace logship::syslog
