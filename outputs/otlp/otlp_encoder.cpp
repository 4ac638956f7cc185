#include "outputs/otlp/otlp_encoder.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "daemon/core/json_writer.h"
#include "outputs/otlp/protobuf_writer.h"

namespace logship::plugins::otlp {

namespace {

// Field numbers of the OTLP messages written and read here (opentelemetry-proto v1).
namespace f {
constexpr uint32_t kRequestResourceLogs = 1;
constexpr uint32_t kResourceLogsResource = 1, kResourceLogsScopeLogs = 2;
constexpr uint32_t kResourceAttributes = 1;
constexpr uint32_t kScopeLogsScope = 1, kScopeLogsRecords = 2;
constexpr uint32_t kScopeName = 1, kScopeVersion = 2;
constexpr uint32_t kRecordTime = 1, kRecordSeverityNumber = 2, kRecordSeverityText = 3,
                   kRecordBody = 5, kRecordAttributes = 6, kRecordTraceId = 9,
                   kRecordSpanId = 10, kRecordObservedTime = 11;
constexpr uint32_t kKeyValueKey = 1, kKeyValueValue = 2;
constexpr uint32_t kAnyString = 1, kAnyBool = 2, kAnyInt = 3, kAnyDouble = 4, kAnyArray = 5,
                   kAnyKvlist = 6;
constexpr uint32_t kArrayValues = 1, kKvlistValues = 1;
constexpr uint32_t kResponsePartialSuccess = 1;
constexpr uint32_t kPartialRejected = 1, kPartialMessage = 2;
}  // namespace f

// Nested JSON deeper than this is sent as its text (bounds the converter's recursion).
constexpr int kMaxDepth = 32;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Protobuf strings must be UTF-8 (receivers may refuse the request otherwise): invalid bytes
// become U+FFFD, as the JSON writer does. Valid text (nearly always) is written as it is.
void string_bytes(ProtobufWriter& w, uint32_t field, std::string_view s, std::string& scratch) {
  if (simdjson::validate_utf8(s.data(), s.size())) {
    w.bytes_field(field, s);
    return;
  }
  // append_string's output is valid UTF-8 JSON: unquote it, keeping only the replaced bytes.
  scratch.clear();
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n != 0 && i + n <= s.size() && simdjson::validate_utf8(s.data() + i, n)) {
      scratch.append(s.data() + i, n);
      i += n;
    } else {
      scratch += "\xEF\xBF\xBD";
      ++i;
    }
  }
  w.bytes_field(field, scratch);
}

// KeyValue{key, AnyValue{string_value}} with its lengths computed up front (no memmove).
void string_key_value(ProtobufWriter& w, uint32_t field, std::string_view key, std::string_view v) {
  const std::size_t any_len = 1 + varint_size(v.size()) + v.size();
  const std::size_t kv_len = 1 + varint_size(key.size()) + key.size() + 1 + varint_size(any_len) + any_len;
  w.tag(field, 2);
  w.varint(kv_len);
  w.bytes_field(f::kKeyValueKey, key);
  w.tag(f::kKeyValueValue, 2);
  w.varint(any_len);
  w.bytes_field(f::kAnyString, v);
}

void append_u64_string(std::string& out, uint64_t v) {
  char b[24];
  int n = std::snprintf(b, sizeof b, "\"%llu\"", static_cast<unsigned long long>(v));
  out.append(b, static_cast<std::size_t>(n));
}

// "repo/name:tag@digest" -> ("repo/name", "tag"); a ':' before the last '/' is a registry port.
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

bool is_hex_id(std::string_view s, std::size_t len) {
  if (s.size() != len) return false;
  bool nonzero = false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    nonzero |= c != '0';
  }
  return nonzero;   // an all-zero id is invalid in OTLP
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return (std::tolower(static_cast<unsigned char>(c)) - 'a') + 10;
}

// The fields of one event that become log record fields instead of attributes.
struct Special {
  const Field* severity = nullptr;
  const Field* trace_id = nullptr;
  const Field* span_id = nullptr;
  bool is(const Field& fld) const { return &fld == severity || &fld == trace_id || &fld == span_id; }
};

Special special_fields(const Event& e, const std::vector<std::string>& severity_fields) {
  Special sp;
  std::size_t best = severity_fields.size();
  for (const Field& fld : e.fields) {
    if (fld.value.type != ValueType::kString) continue;
    const std::string_view k = fld.key;
    for (std::size_t i = 0; i < best; ++i) {
      if (k == severity_fields[i]) {
        sp.severity = &fld;
        best = i;
        break;
      }
    }
    if (sp.trace_id == nullptr && (k == "trace_id" || k == "trace.id" || k == "traceId") &&
        is_hex_id(fld.value.s, 32)) {
      sp.trace_id = &fld;
    }
    if (sp.span_id == nullptr && (k == "span_id" || k == "span.id" || k == "spanId") &&
        is_hex_id(fld.value.s, 16)) {
      sp.span_id = &fld;
    }
  }
  return sp;
}

void hex_bytes_field(ProtobufWriter& w, uint32_t field, std::string_view hex) {
  char b[16];
  const std::size_t n = hex.size() / 2;
  for (std::size_t i = 0; i < n; ++i) {
    b[i] = static_cast<char>((hex_digit(hex[2 * i]) << 4) | hex_digit(hex[2 * i + 1]));
  }
  w.bytes_field(field, std::string_view(b, n));
}

void json_lower_hex(std::string& out, std::string_view hex) {
  out += '"';
  for (char c : hex) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out += '"';
}

// --- nested JSON (raw text kept by the parsers) as OTLP AnyValue ----------------------------

void proto_any_json(ProtobufWriter& w, uint32_t field, simdjson::dom::element el, int depth,
                    std::string& scratch);

void proto_any_json_inner(ProtobufWriter& w, simdjson::dom::element el, int depth,
                          std::string& scratch) {
  using simdjson::dom::element_type;
  switch (el.type()) {
    case element_type::ARRAY: {
      const std::size_t a = w.begin_message(f::kAnyArray);
      const simdjson::dom::array arr = el.get_array().value_unsafe();
      for (simdjson::dom::element child : arr) {
        proto_any_json(w, f::kArrayValues, child, depth + 1, scratch);
      }
      w.end_message(a);
      return;
    }
    case element_type::OBJECT: {
      const std::size_t kl = w.begin_message(f::kAnyKvlist);
      const simdjson::dom::object obj = el.get_object().value_unsafe();
      for (auto [key, child] : obj) {
        const std::size_t kv = w.begin_message(f::kKvlistValues);
        string_bytes(w, f::kKeyValueKey, key, scratch);
        proto_any_json(w, f::kKeyValueValue, child, depth + 1, scratch);
        w.end_message(kv);
      }
      w.end_message(kl);
      return;
    }
    case element_type::STRING:
      w.bytes_field(f::kAnyString, el.get_string().value_unsafe());   // simdjson validated it
      return;
    case element_type::INT64:
      w.varint_field(f::kAnyInt, static_cast<uint64_t>(el.get_int64().value_unsafe()));
      return;
    case element_type::UINT64:
      w.double_field(f::kAnyDouble, static_cast<double>(el.get_uint64().value_unsafe()));
      return;
    case element_type::DOUBLE:
      w.double_field(f::kAnyDouble, el.get_double().value_unsafe());
      return;
    case element_type::BOOL:
      w.bool_field(f::kAnyBool, el.get_bool().value_unsafe());
      return;
    case element_type::NULL_VALUE:
      return;   // an empty AnyValue
  }
}

void proto_any_json(ProtobufWriter& w, uint32_t field, simdjson::dom::element el, int depth,
                    std::string& scratch) {
  const std::size_t m = w.begin_message(field);
  if (depth >= kMaxDepth) {
    w.bytes_field(f::kAnyString, simdjson::minify(el));
  } else {
    proto_any_json_inner(w, el, depth, scratch);
  }
  w.end_message(m);
}

void json_any_json(std::string& out, simdjson::dom::element el, int depth) {
  using simdjson::dom::element_type;
  if (depth >= kMaxDepth) {
    out += "{\"stringValue\":";
    json::append_string(out, simdjson::minify(el));
    out += '}';
    return;
  }
  switch (el.type()) {
    case element_type::ARRAY: {
      out += "{\"arrayValue\":{\"values\":[";
      bool first = true;
      const simdjson::dom::array arr = el.get_array().value_unsafe();
      for (simdjson::dom::element child : arr) {
        if (!first) out += ',';
        first = false;
        json_any_json(out, child, depth + 1);
      }
      out += "]}}";
      return;
    }
    case element_type::OBJECT: {
      out += "{\"kvlistValue\":{\"values\":[";
      bool first = true;
      const simdjson::dom::object obj = el.get_object().value_unsafe();
      for (auto [key, child] : obj) {
        if (!first) out += ',';
        first = false;
        out += "{\"key\":";
        json::append_string(out, key);
        out += ",\"value\":";
        json_any_json(out, child, depth + 1);
        out += '}';
      }
      out += "]}}";
      return;
    }
    case element_type::STRING:
      out += "{\"stringValue\":";
      json::append_string(out, el.get_string().value_unsafe());
      out += '}';
      return;
    case element_type::INT64: {
      char b[40];
      std::snprintf(b, sizeof b, "{\"intValue\":\"%lld\"}",
                    static_cast<long long>(el.get_int64().value_unsafe()));
      out += b;
      return;
    }
    case element_type::UINT64: {   // above int64: a double, its digits written as they were
      char b[48];
      std::snprintf(b, sizeof b, "{\"doubleValue\":%llu}",
                    static_cast<unsigned long long>(el.get_uint64().value_unsafe()));
      out += b;
      return;
    }
    case element_type::DOUBLE:
      out += "{\"doubleValue\":";
      json::append_value(out, Value::real(el.get_double().value_unsafe()));
      out += '}';
      return;
    case element_type::BOOL:
      out += el.get_bool().value_unsafe() ? "{\"boolValue\":true}" : "{\"boolValue\":false}";
      return;
    case element_type::NULL_VALUE:
      out += "{}";
      return;
  }
}

void json_key_value_string(std::string& out, std::string_view key, std::string_view v) {
  out += "{\"key\":";
  json::append_string(out, key);
  out += ",\"value\":{\"stringValue\":";
  json::append_string(out, v);
  out += "}}";
}

}  // namespace

int severity_number(std::string_view l) {
  struct Name {
    std::string_view name;
    int number;
  };
  // OTLP numbers: TRACE 1, DEBUG 5, INFO 9, INFO2 10 (notice), WARN 13, ERROR 17, ERROR2 18
  // (critical), ERROR3 19 (alert), FATAL 21.
  static constexpr Name kNames[] = {
      {"trace", 1},     {"trc", 1},      {"t", 1},         {"debug", 5},   {"dbg", 5},
      {"d", 5},         {"info", 9},     {"information", 9}, {"informational", 9},
      {"inf", 9},       {"i", 9},        {"notice", 10},   {"warn", 13},   {"warning", 13},
      {"wrn", 13},      {"w", 13},       {"error", 17},    {"err", 17},    {"e", 17},
      {"crit", 18},     {"critical", 18}, {"alert", 19},   {"emerg", 21},  {"emergency", 21},
      {"fatal", 21},    {"panic", 21},   {"f", 21}};
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

std::vector<std::pair<std::string, std::string>> Encoder::resource_attributes(const SourceInfo& s) const {
  std::vector<std::pair<std::string, std::string>> r;
  auto tag = [&](std::string_view k) -> const std::string* {
    const Tag* t = s.find(k);
    return t != nullptr && !t->value.empty() ? &t->value : nullptr;
  };
  const bool pod = tag("pod") != nullptr || tag("namespace") != nullptr;
  const std::string* service = nullptr;
  if (!o_.service_name_label.empty()) service = s.label(o_.service_name_label);
  if (service != nullptr && service->empty()) service = nullptr;
  if (service == nullptr) service = tag("compose_service");
  if (service == nullptr) service = tag("container_name");
  if (service != nullptr) r.emplace_back("service.name", *service);
  if (!o_.host.name.empty()) r.emplace_back("host.name", o_.host.name);
  if (!o_.host.id.empty()) r.emplace_back("host.id", o_.host.id);
  if (const auto* v = tag("container_id")) r.emplace_back("container.id", *v);
  if (const auto* v = tag("container_name")) r.emplace_back("container.name", *v);
  if (const auto* v = tag("image")) {
    auto [name, version] = split_image(*v);
    r.emplace_back("container.image.name", std::string(name));
    if (!version.empty()) r.emplace_back("container.image.tags", std::string(version));
  }
  if (pod) {
    if (const auto* v = tag("namespace")) r.emplace_back("k8s.namespace.name", *v);
    if (const auto* v = tag("pod")) r.emplace_back("k8s.pod.name", *v);
    if (const auto* v = tag("pod_uid")) r.emplace_back("k8s.pod.uid", *v);
    if (const auto* v = tag("container_name")) r.emplace_back("k8s.container.name", *v);
    if (!o_.host.node_name.empty()) r.emplace_back("k8s.node.name", o_.host.node_name);
  }
  if (const auto* v = tag("source_address")) r.emplace_back("network.peer.address", *v);
  for (const Tag& t : s.tags) {
    static constexpr std::string_view kMapped[] = {
        "container_id", "container_name", "image", "namespace", "pod", "pod_uid",
        "source_address",
        // The container's own hostname is its id; compose's names are in the labels.
        "hostname", "compose_project", "compose_service"};
    if (t.value.empty() || std::find(std::begin(kMapped), std::end(kMapped), t.key) != std::end(kMapped)) {
      continue;
    }
    r.emplace_back(t.key, t.value);
  }
  for (const auto& label : s.labels) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    const std::string& k = label.first;
    const bool keep = std::any_of(o_.resource_labels.begin(), o_.resource_labels.end(),
                                  [&k](const std::string& g) {
                                    return ::fnmatch(g.c_str(), k.c_str(), 0) == 0;
                                  });
    if (keep) r.emplace_back("container.label." + k, label.second);
  }
  r.emplace_back("logship.input", s.input);
  return r;
}

const Encoder::Cached& Encoder::cached(const Batch& b) {
  const SourceInfo& s = b.source();
  if (cache_.source.get() == &s) return cache_;
  cache_.source = b.source_ptr();
  cache_.resource.clear();
  cache_.file_path_attribute.clear();
  std::string scratch;
  const auto attrs = resource_attributes(s);
  if (o_.json) {
    std::string& out = cache_.resource;
    out += "{\"attributes\":[";
    bool first = true;
    for (const auto& [k, v] : attrs) {
      if (!first) out += ',';
      first = false;
      if (k == "container.image.tags") {
        out += "{\"key\":\"container.image.tags\",\"value\":{\"arrayValue\":{\"values\":[{\"stringValue\":";
        json::append_string(out, v);
        out += "}]}}}";
      } else {
        json_key_value_string(out, k, v);
      }
    }
    out += "]}";
    if (!s.file_path.empty()) json_key_value_string(cache_.file_path_attribute, "log.file.path", s.file_path);
    return cache_;
  }
  ProtobufWriter w(cache_.resource);
  for (const auto& [k, v] : attrs) {
    const std::size_t kv = w.begin_message(f::kResourceAttributes);
    string_bytes(w, f::kKeyValueKey, k, scratch);
    const std::size_t any = w.begin_message(f::kKeyValueValue);
    if (k == "container.image.tags") {   // a string array in the semantic conventions
      const std::size_t arr = w.begin_message(f::kAnyArray);
      const std::size_t item = w.begin_message(f::kArrayValues);
      string_bytes(w, f::kAnyString, v, scratch);
      w.end_message(item);
      w.end_message(arr);
    } else {
      string_bytes(w, f::kAnyString, v, scratch);
    }
    w.end_message(any);
    w.end_message(kv);
  }
  if (!s.file_path.empty()) {
    ProtobufWriter fw(cache_.file_path_attribute);
    const std::size_t kv = fw.begin_message(f::kRecordAttributes);
    fw.bytes_field(f::kKeyValueKey, "log.file.path");
    const std::size_t any = fw.begin_message(f::kKeyValueValue);
    string_bytes(fw, f::kAnyString, s.file_path, scratch);
    fw.end_message(any);
    fw.end_message(kv);
  }
  return cache_;
}

void Encoder::encode(std::span<const Slice> slices, std::string& out) {
  out.clear();
  if (o_.json) {
    json(slices, out);
  } else {
    protobuf(slices, out);
  }
}

bool Encoder::parse_raw(std::string_view text, simdjson::dom::element* out) {
  const std::size_t need = text.size() + simdjson::SIMDJSON_PADDING;
  if (padded_.size() < need) padded_.resize(std::max(need, padded_.size() * 2));
  std::memcpy(padded_.data(), text.data(), text.size());
  auto r = parser_.parse(padded_.data(), text.size(), false);
  if (r.error() != simdjson::SUCCESS) return false;
  *out = r.value_unsafe();
  return true;
}

void Encoder::proto_value(std::string& out, uint32_t field, const Value& v) {
  ProtobufWriter w(out);
  std::string& scratch = scratch_;
  switch (v.type) {
    case ValueType::kString: {
      if (simdjson::validate_utf8(v.s.data(), v.s.size())) {
        // AnyValue{string_value} with its length known: no memmove.
        w.tag(field, 2);
        w.varint(1 + varint_size(v.s.size()) + v.s.size());
        w.bytes_field(f::kAnyString, v.s);
        return;
      }
      const std::size_t m = w.begin_message(field);
      string_bytes(w, f::kAnyString, v.s, scratch);
      w.end_message(m);
      return;
    }
    case ValueType::kRawJson: {
      simdjson::dom::element el;
      if (parse_raw(v.s, &el)) {
        proto_any_json(w, field, el, 0, scratch);
        return;
      }
      const std::size_t m = w.begin_message(field);
      string_bytes(w, f::kAnyString, v.s, scratch);
      w.end_message(m);
      return;
    }
    case ValueType::kInt: {
      const std::size_t m = w.begin_message(field);
      w.varint_field(f::kAnyInt, static_cast<uint64_t>(v.i));
      w.end_message(m);
      return;
    }
    case ValueType::kDouble: {
      const std::size_t m = w.begin_message(field);
      w.double_field(f::kAnyDouble, v.d);
      w.end_message(m);
      return;
    }
    case ValueType::kBool: {
      const std::size_t m = w.begin_message(field);
      w.bool_field(f::kAnyBool, v.b);
      w.end_message(m);
      return;
    }
    case ValueType::kNull:
      w.tag(field, 2);
      w.varint(0);   // an empty AnyValue
      return;
  }
}

void Encoder::json_value(std::string& out, const Value& v) {
  switch (v.type) {
    case ValueType::kString:
      out += "{\"stringValue\":";
      json::append_string(out, v.s);
      out += '}';
      return;
    case ValueType::kRawJson: {
      simdjson::dom::element el;
      if (parse_raw(v.s, &el)) {
        json_any_json(out, el, 0);
      } else {
        out += "{\"stringValue\":";
        json::append_string(out, v.s);
        out += '}';
      }
      return;
    }
    case ValueType::kInt: {
      char b[40];
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

void Encoder::protobuf_record(std::string& out, const Event& e, int64_t observed_ns, const Cached& c) {
  ProtobufWriter w(out);
  const Special sp = special_fields(e, o_.severity_fields);
  const std::size_t rec = w.begin_message(f::kScopeLogsRecords);
  if (e.time_ns > 0) w.fixed64_field(f::kRecordTime, static_cast<uint64_t>(e.time_ns));
  if (sp.severity != nullptr) {
    if (int n = severity_number(sp.severity->value.s); n != 0) {
      w.varint_field(f::kRecordSeverityNumber, static_cast<uint64_t>(n));
    }
    string_bytes(w, f::kRecordSeverityText, sp.severity->value.s, scratch_);
  }
  bool map_body = o_.map_body && !e.fields.empty();
  if (map_body) {
    map_body = false;
    for (const Field& fld : e.fields) map_body |= !sp.is(fld);
  }
  if (map_body) {
    const std::size_t body = w.begin_message(f::kRecordBody);
    const std::size_t kl = w.begin_message(f::kAnyKvlist);
    if (!e.message.empty()) {
      const std::size_t kv = w.begin_message(f::kKvlistValues);
      w.bytes_field(f::kKeyValueKey, "message");
      proto_value(out, f::kKeyValueValue, Value::string(e.message));
      w.end_message(kv);
    }
    for (const Field& fld : e.fields) {
      if (sp.is(fld)) continue;
      const std::size_t kv = w.begin_message(f::kKvlistValues);
      string_bytes(w, f::kKeyValueKey, fld.key, scratch_);
      proto_value(out, f::kKeyValueValue, fld.value);
      w.end_message(kv);
    }
    w.end_message(kl);
    w.end_message(body);
  } else {
    proto_value(out, f::kRecordBody, Value::string(e.message));
    for (const Field& fld : e.fields) {
      if (sp.is(fld)) continue;
      const std::size_t kv = w.begin_message(f::kRecordAttributes);
      string_bytes(w, f::kKeyValueKey, fld.key, scratch_);
      proto_value(out, f::kKeyValueValue, fld.value);
      w.end_message(kv);
    }
  }
  if (e.stream != Stream::kNone) {
    string_key_value(w, f::kRecordAttributes, "log.iostream", stream_name(e.stream));
  }
  out += c.file_path_attribute;
  if (sp.trace_id != nullptr) hex_bytes_field(w, f::kRecordTraceId, sp.trace_id->value.s);
  if (sp.span_id != nullptr) hex_bytes_field(w, f::kRecordSpanId, sp.span_id->value.s);
  w.fixed64_field(f::kRecordObservedTime, static_cast<uint64_t>(observed_ns));
  w.end_message(rec);
}

void Encoder::protobuf(std::span<const Slice> slices, std::string& out) {
  ProtobufWriter w(out);
  for (std::size_t i = 0; i < slices.size();) {
    const Cached& c = cached(*slices[i].batch);
    const std::size_t rl = w.begin_message(f::kRequestResourceLogs);
    w.tag(f::kResourceLogsResource, 2);
    w.varint(c.resource.size());
    out += c.resource;
    const std::size_t sc = w.begin_message(f::kResourceLogsScopeLogs);
    w.tag(f::kScopeLogsScope, 2);
    constexpr std::string_view kName = "logship", kVersion = LOGSHIP_VERSION;
    w.varint(2 + kName.size() + 1 + varint_size(kVersion.size()) + kVersion.size());
    w.bytes_field(f::kScopeName, kName);
    w.bytes_field(f::kScopeVersion, kVersion);
    // Every following slice of the same source goes into this ResourceLogs.
    for (; i < slices.size() && &slices[i].batch->source() == c.source.get(); ++i) {
      const Slice& sl = slices[i];
      const auto& events = sl.batch->events();
      const int64_t observed = sl.batch->created_ns();
      for (uint32_t k = sl.begin; k < sl.end; ++k) protobuf_record(out, events[k], observed, c);
    }
    w.end_message(sc);
    w.end_message(rl);
  }
}

void Encoder::json_record(std::string& out, const Event& e, int64_t observed_ns, const Cached& c) {
  const Special sp = special_fields(e, o_.severity_fields);
  out += '{';
  if (e.time_ns > 0) {
    out += "\"timeUnixNano\":";
    append_u64_string(out, static_cast<uint64_t>(e.time_ns));
    out += ',';
  }
  out += "\"observedTimeUnixNano\":";
  append_u64_string(out, static_cast<uint64_t>(observed_ns));
  if (sp.severity != nullptr) {
    if (int n = severity_number(sp.severity->value.s); n != 0) {
      char b[32];
      std::snprintf(b, sizeof b, ",\"severityNumber\":%d", n);
      out += b;
    }
    out += ",\"severityText\":";
    json::append_string(out, sp.severity->value.s);
  }
  if (sp.trace_id != nullptr) {
    out += ",\"traceId\":";
    json_lower_hex(out, sp.trace_id->value.s);
  }
  if (sp.span_id != nullptr) {
    out += ",\"spanId\":";
    json_lower_hex(out, sp.span_id->value.s);
  }
  bool map_body = false;
  if (o_.map_body) {
    for (const Field& fld : e.fields) map_body |= !sp.is(fld);
  }
  out += ",\"body\":";
  bool first = true;
  if (map_body) {
    out += "{\"kvlistValue\":{\"values\":[";
    if (!e.message.empty()) {
      json_key_value_string(out, "message", e.message);
      first = false;
    }
    for (const Field& fld : e.fields) {
      if (sp.is(fld)) continue;
      if (!first) out += ',';
      first = false;
      out += "{\"key\":";
      json::append_string(out, fld.key);
      out += ",\"value\":";
      json_value(out, fld.value);
      out += '}';
    }
    out += "]}}";
  } else {
    json_value(out, Value::string(e.message));
  }
  out += ",\"attributes\":[";
  first = true;
  if (!map_body) {
    for (const Field& fld : e.fields) {
      if (sp.is(fld)) continue;
      if (!first) out += ',';
      first = false;
      out += "{\"key\":";
      json::append_string(out, fld.key);
      out += ",\"value\":";
      json_value(out, fld.value);
      out += '}';
    }
  }
  if (e.stream != Stream::kNone) {
    if (!first) out += ',';
    first = false;
    json_key_value_string(out, "log.iostream", stream_name(e.stream));
  }
  if (!c.file_path_attribute.empty()) {
    if (!first) out += ',';
    out += c.file_path_attribute;
  }
  out += "]}";
}

void Encoder::json(std::span<const Slice> slices, std::string& out) {
  out += "{\"resourceLogs\":[";
  for (std::size_t i = 0; i < slices.size();) {
    const Cached& c = cached(*slices[i].batch);
    if (i != 0) out += ',';
    out += "{\"resource\":";
    out += c.resource;
    out += ",\"scopeLogs\":[{\"scope\":{\"name\":\"logship\",\"version\":\"" LOGSHIP_VERSION
           "\"},\"logRecords\":[";
    bool first = true;
    for (; i < slices.size() && &slices[i].batch->source() == c.source.get(); ++i) {
      const Slice& sl = slices[i];
      const auto& events = sl.batch->events();
      for (uint32_t k = sl.begin; k < sl.end; ++k) {
        if (!first) out += ',';
        first = false;
        json_record(out, events[k], sl.batch->created_ns(), c);
      }
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

// Reads one field: a varint's value into `num`, a length-delimited field's bytes into `bytes`;
// fixed-size fields are skipped.
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
    if (field != f::kResponsePartialSuccess || wire != 2) continue;
    std::string_view ps = bytes;
    while (!ps.empty()) {
      if (!next_field(ps, &field, &wire, &num, &bytes)) return false;
      if (field == f::kPartialRejected && wire == 0) *rejected = static_cast<int64_t>(num);
      if (field == f::kPartialMessage && wire == 2) message->assign(bytes.substr(0, 1024));
    }
  }
  if (*rejected < 0) return false;
  return true;
}

bool parse_json_partial_success(std::string_view body, int64_t* rejected, std::string* message) {
  *rejected = 0;
  message->clear();
  if (body.empty()) return true;   // an empty body: everything accepted
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size(), true).get(root) != simdjson::SUCCESS) return false;
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) return false;
  simdjson::dom::element ps;
  if (obj["partialSuccess"].get(ps) != simdjson::SUCCESS) return true;
  simdjson::dom::element n;
  if (ps["rejectedLogRecords"].get(n) == simdjson::SUCCESS) {
    // int64 travels as a JSON string in OTLP/JSON; a number is accepted too.
    std::string_view s;
    int64_t i;
    if (n.get_string().get(s) == simdjson::SUCCESS) {
      int64_t v = 0;
      if (s.empty() || s.size() > 18) return false;
      for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
      }
      *rejected = v;
    } else if (n.get_int64().get(i) == simdjson::SUCCESS && i >= 0) {
      *rejected = i;
    } else {
      return false;
    }
  }
  std::string_view m;
  if (ps["errorMessage"].get_string().get(m) == simdjson::SUCCESS) message->assign(m.substr(0, 1024));
  return true;
}

}  // namespace logship::plugins::otlp
