#include "inputs/otlp/otlp_decoder.h"

#include <charconv>
#include <cstring>
#include <vector>

#include "daemon/core/json_writer.h"

namespace logship::plugins::otlp_in {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void append_base64(std::string& out, std::string_view in) {
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kBase64[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += kBase64[(v >> 6) & 63];
    out += '=';
  }
}

void append_hex(std::string& out, std::string_view in) {
  for (char c : in) {
    out += kHex[uint8_t(c) >> 4];
    out += kHex[uint8_t(c) & 15];
  }
}

// What both formats gather for one LogRecord before it becomes an event.
struct Record {
  uint64_t time = 0;
  uint64_t observed = 0;
  int64_t severity_number = 0;
  std::string_view severity_text;   // arena
  std::string_view trace_id;        // arena, hex
  std::string_view span_id;         // arena, hex
  bool has_body = false;
  Value body;                       // strings in the arena
};

// The per-ResourceLogs and per-ScopeLogs context every record of them shares.
struct Context {
  std::vector<Field> resource;   // views into the arena
  std::string_view scope_name;   // arena
};

void finish_event(Event& e, const Record& r, const Context& c, int64_t now_ns) {
  const uint64_t t = r.time != 0 ? r.time : r.observed;
  e.time_ns = t != 0 && t <= uint64_t(INT64_MAX) ? int64_t(t) : now_ns;
  if (r.has_body) {
    if (r.body.type == ValueType::kString || r.body.type == ValueType::kRawJson) {
      e.message = r.body.s;
    }
  }
  if (!r.severity_text.empty()) e.fields.push_back({"level", Value::string(r.severity_text)});
  if (r.severity_number != 0) {
    e.fields.push_back({"severity_number", Value::integer(r.severity_number)});
  }
  if (!r.trace_id.empty()) e.fields.push_back({"trace_id", Value::string(r.trace_id)});
  if (!r.span_id.empty()) e.fields.push_back({"span_id", Value::string(r.span_id)});
  if (!c.scope_name.empty()) e.fields.push_back({"otel.scope.name", Value::string(c.scope_name)});
  for (const Field& f : c.resource) {
    if (e.find(f.key) == nullptr) e.fields.push_back(f);
  }
}

// A body that is not a string: its JSON text (numbers and bools as JSON, bytes as base64).
std::string_view body_text(Batch& b, const Value& v, std::string& scratch) {
  scratch.clear();
  switch (v.type) {
    case ValueType::kString: case ValueType::kRawJson: return v.s;
    case ValueType::kNull: return {};
    default: json::append_value(scratch, v); return b.copy(scratch);
  }
}

// ---------------------------------------------------------------------------------------------
// Protobuf.

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

// Reads one message's fields; every read is bounded by the message's own bytes.
class Reader {
 public:
  explicit Reader(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}
  bool done() const { return p_ == end_; }

  // The next field: its number, wire type and value (varint/fixed in `num`, bytes in `bytes`).
  // False at the end or on malformed input (then error() is set).
  bool next(uint32_t* field, uint32_t* wire, uint64_t* num, std::string_view* bytes) {
    if (p_ == end_) return false;
    uint64_t key;
    if (!varint(&key)) return fail("truncated field key");
    *field = uint32_t(key >> 3);
    *wire = uint32_t(key & 7);
    if (*field == 0 || (key >> 3) > 0x1fffffff) return fail("invalid field number");
    switch (*wire) {
      case kVarint:
        if (!varint(num)) return fail("truncated varint");
        return true;
      case kFixed64:
        if (end_ - p_ < 8) return fail("truncated fixed64");
        std::memcpy(num, p_, 8);   // little-endian hosts only (x86-64, arm64)
        p_ += 8;
        return true;
      case kFixed32: {
        if (end_ - p_ < 4) return fail("truncated fixed32");
        uint32_t v;
        std::memcpy(&v, p_, 4);
        *num = v;
        p_ += 4;
        return true;
      }
      case kLen: {
        uint64_t n;
        if (!varint(&n)) return fail("truncated length");
        if (n > uint64_t(end_ - p_)) return fail("length past the end of the message");
        *bytes = std::string_view(p_, n);
        p_ += n;
        return true;
      }
      default:
        return fail("unsupported wire type");   // groups (3, 4) are not used by OTLP
    }
  }
  const char* error() const { return error_; }

 private:
  bool varint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70 && p_ < end_; shift += 7) {
      const uint8_t b = uint8_t(*p_++);
      if (shift == 63 && b > 1) return false;   // more than 64 bits
      v |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *out = v;
        return true;
      }
    }
    return false;
  }
  bool fail(const char* why) {
    error_ = why;
    return false;
  }
  const char* p_;
  const char* end_;
  const char* error_ = nullptr;
};

class ProtoDecoder {
 public:
  ProtoDecoder(Batch& b, int64_t now_ns) : b_(b), now_ns_(now_ns) {}

  std::string request(std::string_view msg) {
    Reader r(msg);
    uint32_t f, w;
    uint64_t n;
    std::string_view bytes;
    while (r.next(&f, &w, &n, &bytes)) {
      if (f == 1 && w == kLen && !resource_logs(bytes)) return error_;
    }
    return r.error() ? std::string(r.error()) : std::string();
  }

 private:
  bool fail(const char* why) {
    if (error_.empty()) error_ = why;
    return false;
  }
  bool check(const Reader& r) { return r.error() ? fail(r.error()) : true; }

  // resource (1) may come after the scope_logs (2) on the wire: read it first.
  bool resource_logs(std::string_view msg) {
    ctx_.resource.clear();
    Reader r(msg);
    uint32_t f, w;
    uint64_t n;
    std::string_view bytes;
    while (r.next(&f, &w, &n, &bytes)) {
      if (f == 1 && w == kLen) {
        ctx_.resource.clear();
        if (!key_values(bytes, 1, &ctx_.resource)) return false;
      }
    }
    if (!check(r)) return false;
    Reader again(msg);
    while (again.next(&f, &w, &n, &bytes)) {
      if (f == 2 && w == kLen && !scope_logs(bytes)) return false;
    }
    return check(again);
  }

  // The repeated KeyValue field `field` of a message (Resource, InstrumentationScope).
  bool key_values(std::string_view msg, uint32_t field, std::vector<Field>* out) {
    Reader r(msg);
    uint32_t f, w;
    uint64_t n;
    std::string_view bytes;
    while (r.next(&f, &w, &n, &bytes)) {
      if (f == field && w == kLen) {
        Field kv;
        if (!key_value(bytes, &kv, 0)) return false;
        out->push_back(kv);
      }
    }
    return check(r);
  }

  bool scope_logs(std::string_view msg) {
    ctx_.scope_name = {};
    Reader r(msg);
    uint32_t f, w;
    uint64_t n;
    std::string_view bytes;
    while (r.next(&f, &w, &n, &bytes)) {
      if (f == 1 && w == kLen && !scope(bytes)) return false;
    }
    if (!check(r)) return false;
    Reader again(msg);
    while (again.next(&f, &w, &n, &bytes)) {
      if (f == 2 && w == kLen && !log_record(bytes)) return false;
    }
    return check(again);
  }

  bool scope(std::string_view msg) {
    Reader r(msg);
    uint32_t f, w;
    uint64_t n;
    std::string_view bytes;
    while (r.next(&f, &w, &n, &bytes)) {
      if (f == 1 && w == kLen) ctx_.scope_name = b_.copy(bytes);
    }
    return check(r);
  }

  bool log_record(std::string_view msg) {
    Event& e = b_.add_event();
    Record rec;
    Reader r(msg);
    uint32_t f, w;
    uint64_t n;
    std::string_view bytes;
    while (r.next(&f, &w, &n, &bytes)) {
      switch (f) {
        case 1: if (w == kFixed64) rec.time = n; break;
        case 11: if (w == kFixed64) rec.observed = n; break;
        case 2: if (w == kVarint) rec.severity_number = int64_t(int32_t(n)); break;
        case 3: if (w == kLen) rec.severity_text = b_.copy(bytes); break;
        case 5:
          if (w == kLen) {
            if (!any_value(bytes, &rec.body, 0)) return false;
            rec.has_body = true;
          }
          break;
        case 6:
          if (w == kLen) {
            Field kv;
            if (!key_value(bytes, &kv, 0)) return false;
            e.fields.push_back(kv);
          }
          break;
        case 9: if (w == kLen && !bytes.empty()) rec.trace_id = hex(bytes); break;
        case 10: if (w == kLen && !bytes.empty()) rec.span_id = hex(bytes); break;
        default: break;   // dropped counts, flags, event_name, fields of newer versions
      }
    }
    if (!check(r)) return false;
    if (rec.has_body) {
      rec.body.s = body_text(b_, rec.body, scratch_);
      rec.body.type = ValueType::kString;
    }
    finish_event(e, rec, ctx_, now_ns_);
    return true;
  }

  std::string_view hex(std::string_view bytes) {
    scratch_.clear();
    append_hex(scratch_, bytes);
    return b_.copy(scratch_);
  }

  bool key_value(std::string_view msg, Field* out, int depth) {
    Reader r(msg);
    uint32_t f, w;
    uint64_t n;
    std::string_view bytes;
    out->key = {};
    out->value = Value();
    while (r.next(&f, &w, &n, &bytes)) {
      if (f == 1 && w == kLen) out->key = b_.copy(bytes);
      if (f == 2 && w == kLen && !any_value(bytes, &out->value, depth)) return false;
    }
    return check(r);
  }

  // A scalar AnyValue as a Value; a map or an array as raw JSON text.
  bool any_value(std::string_view msg, Value* out, int depth) {
    if (depth > kMaxDepth) return fail("values nested too deep");
    Reader r(msg);
    uint32_t f, w;
    uint64_t n;
    std::string_view bytes;
    *out = Value();
    while (r.next(&f, &w, &n, &bytes)) {
      if (f == 1 && w == kLen) {
        *out = Value::string(b_.copy(bytes));
      } else if (f == 2 && w == kVarint) {
        *out = Value::boolean(n != 0);
      } else if (f == 3 && w == kVarint) {
        *out = Value::integer(int64_t(n));
      } else if (f == 4 && w == kFixed64) {
        double d;
        std::memcpy(&d, &n, 8);
        *out = Value::real(d);
      } else if ((f == 5 || f == 6) && w == kLen) {
        std::string text;
        if (!container_json(bytes, f == 6, depth + 1, text)) return false;
        *out = Value::raw_json(b_.copy(text));
      } else if (f == 7 && w == kLen) {
        scratch_.clear();
        append_base64(scratch_, bytes);
        *out = Value::string(b_.copy(scratch_));
      }
    }
    return check(r);
  }

  // ArrayValue (values: 1, AnyValue) or KeyValueList (values: 1, KeyValue) as JSON.
  bool container_json(std::string_view msg, bool map, int depth, std::string& out) {
    if (depth > kMaxDepth) return fail("values nested too deep");
    Reader r(msg);
    uint32_t f, w;
    uint64_t n;
    std::string_view bytes;
    out += map ? '{' : '[';
    bool first = true;
    while (r.next(&f, &w, &n, &bytes)) {
      if (f != 1 || w != kLen) continue;
      if (!first) out += ',';
      first = false;
      std::string_view value_msg = bytes;
      if (map) {
        Reader kv(bytes);
        std::string_view key;
        value_msg = {};
        while (kv.next(&f, &w, &n, &bytes)) {
          if (f == 1 && w == kLen) key = bytes;
          if (f == 2 && w == kLen) value_msg = bytes;
        }
        if (!check(kv)) return false;
        json::append_string(out, key);
        out += ':';
      }
      if (!any_value_json(value_msg, depth, out)) return false;
    }
    out += map ? '}' : ']';
    return check(r);
  }

  bool any_value_json(std::string_view msg, int depth, std::string& out) {
    Reader r(msg);
    uint32_t f, w;
    uint64_t n;
    std::string_view bytes;
    const std::size_t start = out.size();
    bool any = false;
    while (r.next(&f, &w, &n, &bytes)) {
      const bool known = ((f == 1 || f == 5 || f == 6 || f == 7) && w == kLen) ||
                         ((f == 2 || f == 3) && w == kVarint) || (f == 4 && w == kFixed64);
      if (!known) continue;   // fields of newer versions
      out.resize(start);      // the last member of the oneof wins, as in protobuf
      any = true;
      if (f == 1) {
        json::append_string(out, bytes);
      } else if (f == 2) {
        out += n != 0 ? "true" : "false";
      } else if (f == 3) {
        json::append_value(out, Value::integer(int64_t(n)));
      } else if (f == 4) {
        double d;
        std::memcpy(&d, &n, 8);
        json::append_value(out, Value::real(d));
      } else if (f == 7) {
        out += '"';
        append_base64(out, bytes);
        out += '"';
      } else if (!container_json(bytes, f == 6, depth + 1, out)) {
        return false;
      }
    }
    if (!check(r)) return false;
    if (!any) out += "null";
    return true;
  }

  Batch& b_;
  int64_t now_ns_;
  Context ctx_;
  std::string error_;
  std::string scratch_;
};

// ---------------------------------------------------------------------------------------------
// OTLP/JSON: lowerCamelCase keys, 64-bit integers as strings or numbers, ids as hex, bytes as
// base64, enums as numbers.

using simdjson::dom::element;

bool json_u64(element v, uint64_t* out) {
  if (v.is_uint64()) { *out = v.get_uint64().value_unsafe(); return true; }
  if (v.is_int64()) { *out = uint64_t(v.get_int64().value_unsafe()); return true; }
  std::string_view s;
  if (v.get_string().get(s)) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool json_i64(element v, int64_t* out) {
  if (v.is_int64()) { *out = v.get_int64().value_unsafe(); return true; }
  if (v.is_uint64()) { *out = int64_t(v.get_uint64().value_unsafe()); return true; }
  std::string_view s;
  if (v.get_string().get(s)) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

class JsonDecoder {
 public:
  JsonDecoder(Batch& b, int64_t now_ns) : b_(b), now_ns_(now_ns) {}

  std::string request(element root) {
    simdjson::dom::object obj;
    if (root.get_object().get(obj)) return "request is not a JSON object";
    simdjson::dom::array list;
    auto field = obj["resourceLogs"];
    if (field.error() == simdjson::NO_SUCH_FIELD) return "";
    if (field.get_array().get(list)) return "resourceLogs is not an array";
    for (element rl : list) {
      if (!resource_logs(rl)) return error_;
    }
    return "";
  }

 private:
  bool fail(const char* why) {
    if (error_.empty()) error_ = why;
    return false;
  }

  // An optional member: absent is fine, a wrong type is not.
  template <typename T>
  int member(simdjson::dom::object o, std::string_view key, T* out) {
    auto f = o[key];
    if (f.error() == simdjson::NO_SUCH_FIELD) return 0;
    if (f.get(*out)) return -1;
    return 1;
  }

  bool resource_logs(element rl) {
    simdjson::dom::object o, res;
    if (rl.get_object().get(o)) return fail("resourceLogs entry is not an object");
    ctx_.resource.clear();
    int has = member(o, "resource", &res);
    if (has < 0) return fail("resource is not an object");
    if (has > 0 && !attributes(res, &ctx_.resource)) return false;
    simdjson::dom::array scopes;
    has = member(o, "scopeLogs", &scopes);
    if (has < 0) return fail("scopeLogs is not an array");
    if (has == 0) return true;
    for (element sl : scopes) {
      if (!scope_logs(sl)) return false;
    }
    return true;
  }

  bool attributes(simdjson::dom::object o, std::vector<Field>* out) {
    simdjson::dom::array list;
    int has = member(o, "attributes", &list);
    if (has < 0) return fail("attributes is not an array");
    if (has == 0) return true;
    for (element kv : list) {
      Field f;
      if (!key_value(kv, &f)) return false;
      out->push_back(f);
    }
    return true;
  }

  bool key_value(element kv, Field* out) {
    simdjson::dom::object o;
    if (kv.get_object().get(o)) return fail("attribute is not an object");
    std::string_view key;
    if (member(o, "key", &key) < 0) return fail("attribute key is not a string");
    out->key = b_.copy(key);
    out->value = Value();
    simdjson::dom::object v;
    int has = member(o, "value", &v);
    if (has < 0) return fail("attribute value is not an object");
    if (has > 0 && !any_value(v, &out->value, 0)) return false;
    return true;
  }

  bool scope_logs(element sl) {
    simdjson::dom::object o, scope;
    if (sl.get_object().get(o)) return fail("scopeLogs entry is not an object");
    ctx_.scope_name = {};
    int has = member(o, "scope", &scope);
    if (has < 0) return fail("scope is not an object");
    if (has > 0) {
      std::string_view name;
      if (member(scope, "name", &name) < 0) return fail("scope name is not a string");
      ctx_.scope_name = b_.copy(name);
    }
    simdjson::dom::array records;
    has = member(o, "logRecords", &records);
    if (has < 0) return fail("logRecords is not an array");
    if (has == 0) return true;
    for (element r : records) {
      if (!log_record(r)) return false;
    }
    return true;
  }

  bool log_record(element el) {
    simdjson::dom::object o;
    if (el.get_object().get(o)) return fail("logRecord is not an object");
    Event& e = b_.add_event();
    Record rec;
    element v;
    if (member(o, "timeUnixNano", &v) > 0 && !json_u64(v, &rec.time)) {
      return fail("timeUnixNano is not an integer");
    }
    if (member(o, "observedTimeUnixNano", &v) > 0 && !json_u64(v, &rec.observed)) {
      return fail("observedTimeUnixNano is not an integer");
    }
    if (member(o, "severityNumber", &v) > 0 && !json_i64(v, &rec.severity_number)) {
      return fail("severityNumber is not an integer");
    }
    std::string_view s;
    if (member(o, "severityText", &s) < 0) return fail("severityText is not a string");
    rec.severity_text = b_.copy(s);
    s = {};
    if (member(o, "traceId", &s) < 0) return fail("traceId is not a string");
    if (!s.empty()) rec.trace_id = lower(s);
    s = {};
    if (member(o, "spanId", &s) < 0) return fail("spanId is not a string");
    if (!s.empty()) rec.span_id = lower(s);
    simdjson::dom::object body;
    int has = member(o, "body", &body);
    if (has < 0) return fail("body is not an object");
    if (has > 0) {
      if (!any_value(body, &rec.body, 0)) return false;
      rec.has_body = true;
      rec.body.s = body_text(b_, rec.body, scratch_);
      rec.body.type = ValueType::kString;
    }
    simdjson::dom::array list;
    has = member(o, "attributes", &list);
    if (has < 0) return fail("attributes is not an array");
    if (has > 0) {
      for (element kv : list) {
        Field f;
        if (!key_value(kv, &f)) return false;
        e.fields.push_back(f);
      }
    }
    finish_event(e, rec, ctx_, now_ns_);
    return true;
  }

  std::string_view lower(std::string_view hex) {
    scratch_.assign(hex);
    for (char& c : scratch_) {
      if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    }
    return b_.copy(scratch_);
  }

  bool any_value(simdjson::dom::object o, Value* out, int depth) {
    if (depth > kMaxDepth) return fail("values nested too deep");
    *out = Value();
    for (auto [key, v] : o) {
      if (key == "stringValue") {
        std::string_view s;
        if (v.get_string().get(s)) return fail("stringValue is not a string");
        *out = Value::string(b_.copy(s));
      } else if (key == "boolValue") {
        bool b;
        if (v.get_bool().get(b)) return fail("boolValue is not a bool");
        *out = Value::boolean(b);
      } else if (key == "intValue") {
        int64_t i;
        if (!json_i64(v, &i)) return fail("intValue is not an integer");
        *out = Value::integer(i);
      } else if (key == "doubleValue") {
        double d;
        if (v.is_number()) {
          d = v.is_double() ? v.get_double().value_unsafe()
              : v.is_int64() ? double(v.get_int64().value_unsafe())
                             : double(v.get_uint64().value_unsafe());
        } else {
          return fail("doubleValue is not a number");
        }
        *out = Value::real(d);
      } else if (key == "bytesValue") {
        std::string_view s;
        if (v.get_string().get(s)) return fail("bytesValue is not a string");
        *out = Value::string(b_.copy(s));   // base64 already
      } else if (key == "arrayValue" || key == "kvlistValue") {
        simdjson::dom::object inner;
        if (v.get_object().get(inner)) return fail("arrayValue/kvlistValue is not an object");
        std::string text;
        if (!container_json(inner, key == "kvlistValue", depth + 1, text)) return false;
        *out = Value::raw_json(b_.copy(text));
      }
    }
    return true;
  }

  bool container_json(simdjson::dom::object o, bool map, int depth, std::string& out) {
    if (depth > kMaxDepth) return fail("values nested too deep");
    out += map ? '{' : '[';
    simdjson::dom::array values;
    int has = member(o, "values", &values);
    if (has < 0) return fail("values is not an array");
    bool first = true;
    if (has > 0) {
      for (element item : values) {
        if (!first) out += ',';
        first = false;
        simdjson::dom::object io;
        if (item.get_object().get(io)) return fail("value is not an object");
        simdjson::dom::object value_obj;
        bool has_value = true;
        if (map) {
          std::string_view key;
          if (member(io, "key", &key) < 0) return fail("key is not a string");
          json::append_string(out, key);
          out += ':';
          int hv = member(io, "value", &value_obj);
          if (hv < 0) return fail("value is not an object");
          has_value = hv > 0;
        } else {
          value_obj = io;
        }
        if (!has_value) {
          out += "null";
          continue;
        }
        Value v;
        if (!any_value(value_obj, &v, depth)) return false;
        json::append_value(out, v);   // raw JSON as is, strings quoted
      }
    }
    out += map ? '}' : ']';
    return true;
  }

  Batch& b_;
  int64_t now_ns_;
  Context ctx_;
  std::string error_;
  std::string scratch_;
};

}  // namespace

std::string decode_protobuf(std::string_view body, Batch& batch, int64_t now_ns) {
  return ProtoDecoder(batch, now_ns).request(body);
}

std::string decode_json(std::string_view body, Batch& batch, int64_t now_ns,
                        simdjson::dom::parser& parser) {
  element root;
  if (auto err = parser.parse(body.data(), body.size(), true).get(root); err) {
    return std::string("invalid JSON: ") + simdjson::error_message(err);
  }
  return JsonDecoder(batch, now_ns).request(root);
}

}  // namespace logship::plugins::otlp_in
