#include "outputs/otlp/otlp_encoder.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "daemon/core/json_writer.h"
#include "outputs/otlp/protobuf_writer.h"

namespace logship::plugins::otlp {

namespace {

// Field numbers of the OTLP messages written here.
namespace f {
constexpr uint32_t kRequestResourceLogs = 1;
constexpr uint32_t kResourceLogsResource = 1, kResourceLogsScopeLogs = 2;
constexpr uint32_t kResourceAttributes = 1;
constexpr uint32_t kScopeLogsScope = 1, kScopeLogsRecords = 2;
constexpr uint32_t kScopeName = 1, kScopeVersion = 2;
constexpr uint32_t kRecordTime = 1, kRecordSeverityNumber = 2, kRecordSeverityText = 3,
                   kRecordBody = 5, kRecordAttributes = 6, kRecordObservedTime = 11;
constexpr uint32_t kKeyValueKey = 1, kKeyValueValue = 2;
constexpr uint32_t kAnyString = 1, kAnyBool = 2, kAnyInt = 3, kAnyDouble = 4;
}  // namespace f

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

void any_value(ProtobufWriter& w, uint32_t field, const Value& v) {
  const std::size_t m = w.begin_message(field);
  switch (v.type) {
    case ValueType::kString:
    case ValueType::kRawJson:
      w.bytes_field(f::kAnyString, v.s);
      break;
    case ValueType::kInt:
      w.varint_field(f::kAnyInt, static_cast<uint64_t>(v.i));
      break;
    case ValueType::kDouble:
      w.double_field(f::kAnyDouble, v.d);
      break;
    case ValueType::kBool:
      w.bool_field(f::kAnyBool, v.b);
      break;
    case ValueType::kNull:
      break;   // an empty AnyValue
  }
  w.end_message(m);
}

void key_value(ProtobufWriter& w, uint32_t field, std::string_view key, const Value& v) {
  const std::size_t m = w.begin_message(field);
  w.bytes_field(f::kKeyValueKey, key);
  any_value(w, f::kKeyValueValue, v);
  w.end_message(m);
}

void json_any_value(std::string& out, const Value& v) {
  switch (v.type) {
    case ValueType::kString:
    case ValueType::kRawJson:
      out += "{\"stringValue\":";
      json::append_string(out, v.s);
      out += '}';
      return;
    case ValueType::kInt: {
      char b[32];
      std::snprintf(b, sizeof b, "{\"intValue\":\"%lld\"}", static_cast<long long>(v.i));
      out += b;
      return;
    }
    case ValueType::kDouble:
      out += "{\"doubleValue\":";
      json::append_value(out, v);
      out += '}';
      return;
    case ValueType::kBool:
      out += v.b ? "{\"boolValue\":true}" : "{\"boolValue\":false}";
      return;
    case ValueType::kNull:
      out += "{}";
      return;
  }
}

void json_key_value(std::string& out, std::string_view key, const Value& v) {
  out += "{\"key\":";
  json::append_string(out, key);
  out += ",\"value\":";
  json_any_value(out, v);
  out += '}';
}

void append_u64_string(std::string& out, uint64_t v) {
  char b[24];
  int n = std::snprintf(b, sizeof b, "\"%llu\"", static_cast<unsigned long long>(v));
  out.append(b, static_cast<std::size_t>(n));
}

const Field* severity_of(const Event& e, std::string_view field) {
  if (field.empty()) return nullptr;
  const Field* s = e.find(field);
  return s != nullptr && s->value.type == ValueType::kString ? s : nullptr;
}

// "repo/name:tag" -> ("repo/name", "tag"); a ':' before the last '/' is a registry port.
std::pair<std::string_view, std::string_view> split_image(std::string_view image) {
  const std::size_t at = image.find('@');
  if (at != std::string_view::npos) image = image.substr(0, at);
  const std::size_t slash = image.rfind('/');
  const std::size_t colon = image.rfind(':');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
    return {image, {}};
  }
  return {image.substr(0, colon), image.substr(colon + 1)};
}

}  // namespace

int severity_number(std::string_view l) {
  struct Name {
    std::string_view name;
    int number;
  };
  // OTLP numbers: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21 (INFO2 10 for notice).
  static constexpr Name kNames[] = {
      {"trace", 1},     {"trc", 1},      {"debug", 5},     {"dbg", 5},   {"d", 5},
      {"info", 9},      {"information", 9}, {"informational", 9}, {"inf", 9}, {"i", 9},
      {"notice", 10},   {"warn", 13},    {"warning", 13},  {"wrn", 13},  {"w", 13},
      {"error", 17},    {"err", 17},     {"e", 17},        {"crit", 18}, {"critical", 18},
      {"alert", 19},    {"emerg", 21},   {"emergency", 21}, {"fatal", 21}, {"panic", 21},
      {"f", 21},        {"t", 1}};
  for (const Name& n : kNames) {
    if (iequals(l, n.name)) return n.number;
  }
  // syslog severities 0 (emerg) .. 7 (debug)
  if (l.size() == 1 && l[0] >= '0' && l[0] <= '7') {
    static constexpr int kSyslog[] = {21, 19, 18, 17, 13, 10, 9, 5};
    return kSyslog[l[0] - '0'];
  }
  return 0;
}

Encoder::Encoder(EncoderOptions o) : o_(std::move(o)) {}

const std::vector<std::pair<std::string, std::string>>& Encoder::resource(const SourceInfo& s) {
  if (cached_source_ == &s) return cached_resource_;
  cached_source_ = &s;
  auto& r = cached_resource_;
  r.clear();
  auto tag = [&](std::string_view k) -> const std::string* {
    const Tag* t = s.find(k);
    return t != nullptr && !t->value.empty() ? &t->value : nullptr;
  };
  if (!o_.host_name.empty()) r.emplace_back("host.name", o_.host_name);
  const std::string* service = nullptr;
  if (!o_.service_name_label.empty()) service = s.label(o_.service_name_label);
  if (service == nullptr) service = tag("compose_service");
  if (service == nullptr) service = tag("container_name");
  if (service != nullptr) r.emplace_back("service.name", *service);
  const bool k8s = tag("pod") != nullptr;
  if (const auto* v = tag("container_id")) r.emplace_back("container.id", *v);
  if (const auto* v = tag("container_name")) {
    r.emplace_back(k8s ? "k8s.container.name" : "container.name", *v);
  }
  if (const auto* v = tag("image")) {
    auto [name, version] = split_image(*v);
    r.emplace_back("container.image.name", std::string(name));
    if (!version.empty()) r.emplace_back("container.image.tag", std::string(version));
  }
  if (const auto* v = tag("namespace")) r.emplace_back("k8s.namespace.name", *v);
  if (const auto* v = tag("pod")) r.emplace_back("k8s.pod.name", *v);
  if (const auto* v = tag("pod_uid")) r.emplace_back("k8s.pod.uid", *v);
  if (const auto* v = tag("compose_project")) r.emplace_back("docker.compose.project", *v);
  if (const auto* v = tag("source_address")) r.emplace_back("client.address", *v);
  for (const auto& [k, v] : s.labels) {
    const bool keep = std::any_of(o_.resource_labels.begin(), o_.resource_labels.end(),
                                  [&](const std::string& g) {
                                    return ::fnmatch(g.c_str(), k.c_str(), 0) == 0;
                                  });
    if (keep) r.emplace_back("container.label." + k, v);
  }
  r.emplace_back("logship.input", s.input);
  return r;
}

void Encoder::encode(std::span<const Slice> slices, int64_t observed_ns, std::string& out) {
  out.clear();
  if (o_.json) {
    json(slices, observed_ns, out);
  } else {
    protobuf(slices, observed_ns, out);
  }
}

void Encoder::protobuf(std::span<const Slice> slices, int64_t observed_ns, std::string& out) {
  ProtobufWriter w(out);
  for (const Slice& sl : slices) {
    const SourceInfo& src = sl.batch->source();
    const std::size_t rl = w.begin_message(f::kRequestResourceLogs);
    const std::size_t res = w.begin_message(f::kResourceLogsResource);
    for (const auto& [k, v] : resource(src)) {
      key_value(w, f::kResourceAttributes, k, Value::string(v));
    }
    w.end_message(res);
    const std::size_t sc = w.begin_message(f::kResourceLogsScopeLogs);
    const std::size_t scope = w.begin_message(f::kScopeLogsScope);
    w.bytes_field(f::kScopeName, "logship");
    w.bytes_field(f::kScopeVersion, LOGSHIP_VERSION);
    w.end_message(scope);
    const auto& events = sl.batch->events();
    for (uint32_t i = sl.begin; i < sl.end; ++i) {
      const Event& e = events[i];
      const std::size_t rec = w.begin_message(f::kScopeLogsRecords);
      if (e.time_ns > 0) w.fixed64_field(f::kRecordTime, static_cast<uint64_t>(e.time_ns));
      if (const Field* lvl = severity_of(e, o_.severity_field)) {
        if (int n = severity_number(lvl->value.s); n != 0) {
          w.varint_field(f::kRecordSeverityNumber, static_cast<uint64_t>(n));
        }
        w.bytes_field(f::kRecordSeverityText, lvl->value.s);
      }
      any_value(w, f::kRecordBody, Value::string(e.message));
      for (const Field& fld : e.fields) {
        if (fld.value.type == ValueType::kNull) continue;
        key_value(w, f::kRecordAttributes, fld.key, fld.value);
      }
      if (e.stream != Stream::kNone) {
        key_value(w, f::kRecordAttributes, "log.iostream", Value::string(stream_name(e.stream)));
      }
      w.fixed64_field(f::kRecordObservedTime, static_cast<uint64_t>(observed_ns));
      w.end_message(rec);
    }
    w.end_message(sc);
    w.end_message(rl);
  }
}

void Encoder::json(std::span<const Slice> slices, int64_t observed_ns, std::string& out) {
  out += "{\"resourceLogs\":[";
  bool first_rl = true;
  for (const Slice& sl : slices) {
    const SourceInfo& src = sl.batch->source();
    if (!first_rl) out += ',';
    first_rl = false;
    out += "{\"resource\":{\"attributes\":[";
    bool first = true;
    for (const auto& [k, v] : resource(src)) {
      if (!first) out += ',';
      first = false;
      json_key_value(out, k, Value::string(v));
    }
    out += "]},\"scopeLogs\":[{\"scope\":{\"name\":\"logship\",\"version\":\"" LOGSHIP_VERSION
           "\"},\"logRecords\":[";
    const auto& events = sl.batch->events();
    for (uint32_t i = sl.begin; i < sl.end; ++i) {
      const Event& e = events[i];
      if (i != sl.begin) out += ',';
      out += '{';
      if (e.time_ns > 0) {
        out += "\"timeUnixNano\":";
        append_u64_string(out, static_cast<uint64_t>(e.time_ns));
        out += ',';
      }
      out += "\"observedTimeUnixNano\":";
      append_u64_string(out, static_cast<uint64_t>(observed_ns));
      if (const Field* lvl = severity_of(e, o_.severity_field)) {
        if (int n = severity_number(lvl->value.s); n != 0) {
          out += ",\"severityNumber\":" + std::to_string(n);
        }
        out += ",\"severityText\":";
        json::append_string(out, lvl->value.s);
      }
      out += ",\"body\":";
      json_any_value(out, Value::string(e.message));
      out += ",\"attributes\":[";
      bool first_attr = true;
      for (const Field& fld : e.fields) {
        if (fld.value.type == ValueType::kNull) continue;
        if (!first_attr) out += ',';
        first_attr = false;
        json_key_value(out, fld.key, fld.value);
      }
      if (e.stream != Stream::kNone) {
        if (!first_attr) out += ',';
        json_key_value(out, "log.iostream", Value::string(stream_name(e.stream)));
      }
      out += "]}";
    }
    out += "]}]}";
  }
  out += "]}";
}

namespace {

bool read_varint(std::string_view& in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Skips or reads one field; `len_out` gets a length-delimited field's bytes.
bool next_field(std::string_view& in, uint32_t* field, uint32_t* wire, uint64_t* num,
                std::string_view* bytes) {
  uint64_t key;
  if (!read_varint(in, &key)) return false;
  *field = static_cast<uint32_t>(key >> 3);
  *wire = static_cast<uint32_t>(key & 7);
  switch (*wire) {
    case 0:
      return read_varint(in, num);
    case 1:
      if (in.size() < 8) return false;
      in.remove_prefix(8);
      return true;
    case 2: {
      uint64_t len;
      if (!read_varint(in, &len) || len > in.size()) return false;
      *bytes = in.substr(0, len);
      in.remove_prefix(len);
      return true;
    }
    case 5:
      if (in.size() < 4) return false;
      in.remove_prefix(4);
      return true;
    default:
      return false;
  }
}

}  // namespace

bool parse_partial_success(std::string_view body, int64_t* rejected, std::string* message) {
  *rejected = 0;
  message->clear();
  uint32_t field, wire;
  uint64_t num = 0;
  std::string_view bytes;
  while (!body.empty()) {
    if (!next_field(body, &field, &wire, &num, &bytes)) return false;
    if (field != 1 || wire != 2) continue;
    std::string_view ps = bytes;
    while (!ps.empty()) {
      if (!next_field(ps, &field, &wire, &num, &bytes)) return false;
      if (field == 1 && wire == 0) *rejected = static_cast<int64_t>(num);
      if (field == 2 && wire == 2) message->assign(bytes);
    }
  }
  return true;
}

}  // namespace logship::plugins::otlp
