#include "outputs/http/splunk_hec_encoder.h"

#include <charconv>

#include "daemon/core/json_writer.h"

namespace logship::plugins::httpout {
namespace {

// Epoch seconds with microseconds, as HEC's "time" takes them: 1714557600.000001.
void append_epoch(std::string& out, int64_t time_ns) {
  int64_t micros = time_ns / 1000;
  if (time_ns < 0 && time_ns % 1000 != 0) --micros;
  int64_t secs = micros / 1000000;
  int64_t frac = micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, secs);
  out.append(buf, r.ptr);
  out += '.';
  char digits[6];
  for (int i = 5; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  out.append(digits, 6);
}

void append_key_value(std::string& out, std::string_view key, std::string_view value) {
  out += ",\"";
  out += key;   // a literal key of this file
  out += "\":";
  json::append_string(out, value);
}

}  // namespace

void SplunkHecEncoder::encode(std::span<const httpbatch::Slice> slices, std::string& out) {
  out.clear();
  for (const httpbatch::Slice& sl : slices) {
    const SourceInfo& src = sl.batch->source();
    const auto& evs = sl.batch->events();
    for (uint32_t i = sl.begin; i < sl.end; ++i) event(out, evs[i], src);
  }
}

void SplunkHecEncoder::event(std::string& out, const Event& e, const SourceInfo& s) {
  LookupScratch scratch;
  out += "{\"time\":";
  append_epoch(out, e.time_ns);
  std::string_view host = lookup_text(e, s, o_.host_field, scratch);
  if (host.empty()) host = o_.host;
  if (!host.empty()) append_key_value(out, "host", host);
  append_key_value(out, "source", s.file_path.empty() ? std::string_view(s.input) : s.file_path);
  std::string_view sourcetype = lookup_text(e, s, o_.sourcetype_field, scratch);
  if (sourcetype.empty()) sourcetype = o_.sourcetype;
  if (!sourcetype.empty()) append_key_value(out, "sourcetype", sourcetype);
  std::string_view index = lookup_text(e, s, o_.index_field, scratch);
  if (index.empty()) index = o_.index;
  if (!index.empty()) append_key_value(out, "index", index);
  out += ",\"event\":";
  json::append_string(out, e.message);
  out += ",\"fields\":{";
  bool first = true;
  if (e.stream != Stream::kNone) {
    out += "\"stream\":";
    json::append_string(out, stream_name(e.stream));
    first = false;
  }
  for (const Field& f : e.fields) {
    if (is_metadata(f.key) || f.key == "stream" || f.value.type == ValueType::kNull) continue;
    if (!first) out += ',';
    first = false;
    json::append_string(out, f.key);
    out += ':';
    if (f.value.type == ValueType::kString || f.value.type == ValueType::kRawJson) {
      json::append_string(out, f.value.s);
    } else {
      // Numbers and booleans as their JSON text, quoted: indexed fields are strings.
      out += '"';
      json::append_value(out, f.value);
      out += '"';
    }
  }
  out += "}}\n";
}

}  // namespace logship::plugins::httpout
