#pragma once
// Appends JSON to a std::string without intermediate objects; the encoders of every output use it.
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/core/batch.h"

namespace logship::json {

// Appends s as a quoted JSON string; invalid UTF-8 bytes become U+FFFD so output is always valid.
void append_string(std::string& out, std::string_view s);
void append_value(std::string& out, const Value& v);
// RFC 3339 UTC with nanoseconds, e.g. 2024-05-01T10:00:00.123456789Z.
void append_rfc3339(std::string& out, int64_t time_ns);

// Which keys an event's JSON object uses.
struct EventKeys {
  std::string_view timestamp = "timestamp";
  std::string_view message = "message";
  std::string_view stream = "stream";
};

// {"timestamp":...,"stream":...,"message":...,<tags>,<fields>} without a trailing newline.
void append_event(std::string& out, const Event& e, const SourceInfo& source,
                  const EventKeys& keys = EventKeys{});
// The same, with the source's tags and labels already encoded by encode_source(): every event of
// a batch shares them, so encoders do that work once per batch instead of once per event.
void append_event(std::string& out, const Event& e, std::string_view encoded_source,
                  const EventKeys& keys = EventKeys{});
// ,"tag":"value",...,"labels":{...}  (empty when the source has neither)
std::string encode_source(const SourceInfo& source);

}  // namespace logship::json
