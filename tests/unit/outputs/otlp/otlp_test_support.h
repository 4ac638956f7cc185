#pragma once
// A minimal protobuf reader for the OTLP tests: decodes a message into its fields without the
// encoder's code, so the tests check the encoder against the wire format itself.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace logship::plugins::otlp::testing {

struct PbField {
  uint32_t number = 0;
  uint32_t wire = 0;
  uint64_t num = 0;    // varint, fixed64 (wire 1)
  std::string bytes;   // wire 2
};

// The fields of one message in order; throws nothing, returns false on malformed input.
inline bool pb_decode(std::string_view in, std::vector<PbField>* out) {
  auto varint = [&](uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
      auto b = static_cast<unsigned char>(in.front());
      in.remove_prefix(1);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  };
  while (!in.empty()) {
    uint64_t key;
    if (!varint(&key)) return false;
    PbField f;
    f.number = static_cast<uint32_t>(key >> 3);
    f.wire = static_cast<uint32_t>(key & 7);
    if (f.wire == 0) {
      if (!varint(&f.num)) return false;
    } else if (f.wire == 1) {
      if (in.size() < 8) return false;
      for (int i = 0; i < 8; ++i) f.num |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
      in.remove_prefix(8);
    } else if (f.wire == 2) {
      uint64_t len;
      if (!varint(&len) || len > in.size()) return false;
      f.bytes.assign(in.substr(0, len));
      in.remove_prefix(len);
    } else {
      return false;
    }
    out->push_back(std::move(f));
  }
  return true;
}

inline std::vector<PbField> pb(std::string_view in) {
  std::vector<PbField> v;
  if (!pb_decode(in, &v)) v.clear();
  return v;
}

inline std::vector<std::string> pb_all(std::string_view msg, uint32_t number) {
  std::vector<std::string> r;
  for (const PbField& f : pb(msg)) {
    if (f.number == number && f.wire == 2) r.push_back(f.bytes);
  }
  return r;
}

inline const PbField* pb_find(const std::vector<PbField>& fs, uint32_t number) {
  for (const PbField& f : fs) {
    if (f.number == number) return &f;
  }
  return nullptr;
}

// An AnyValue as text: strings as they are, ints as "i:N", bools "b:true", doubles "d:X",
// arrays "[a,b]", maps "{k=v,...}", empty "null".
inline std::string any_text(std::string_view any) {
  const auto fs = pb(any);
  if (fs.empty()) return "null";
  const PbField& f = fs[0];
  switch (f.number) {
    case 1: return f.bytes;
    case 2: return f.num ? "b:true" : "b:false";
    case 3: return "i:" + std::to_string(static_cast<int64_t>(f.num));
    case 4: {
      double d;
      std::memcpy(&d, &f.num, sizeof d);
      char b[64];
      std::snprintf(b, sizeof b, "d:%g", d);
      return b;
    }
    case 5: {
      std::string r = "[";
      for (const auto& v : pb_all(f.bytes, 1)) r += (r.size() > 1 ? "," : "") + any_text(v);
      return r + "]";
    }
    case 6: {
      std::string r = "{";
      for (const auto& kv : pb_all(f.bytes, 1)) {
        const auto k = pb_all(kv, 1), v = pb_all(kv, 2);
        r += (r.size() > 1 ? "," : "") + (k.empty() ? "" : k[0]) + "=" + (v.empty() ? "" : any_text(v[0]));
      }
      return r + "}";
    }
  }
  return "?";
}

// KeyValue list (repeated field `number` of `msg`) as ordered (key, text) pairs.
inline std::vector<std::pair<std::string, std::string>> key_values(std::string_view msg, uint32_t number) {
  std::vector<std::pair<std::string, std::string>> r;
  for (const auto& kv : pb_all(msg, number)) {
    const auto k = pb_all(kv, 1), v = pb_all(kv, 2);
    r.emplace_back(k.empty() ? "" : k[0], v.empty() ? "null" : any_text(v[0]));
  }
  return r;
}

// One decoded ResourceLogs of a request: its resource attributes, scope and records.
struct DecodedResourceLogs {
  std::vector<std::pair<std::string, std::string>> resource;
  std::string scope_name, scope_version;
  std::vector<std::string> records;   // LogRecord bytes
};

inline std::vector<DecodedResourceLogs> decode_request(std::string_view request) {
  std::vector<DecodedResourceLogs> out;
  for (const auto& rl : pb_all(request, 1)) {
    DecodedResourceLogs d;
    for (const auto& res : pb_all(rl, 1)) d.resource = key_values(res, 1);
    for (const auto& sl : pb_all(rl, 2)) {
      for (const auto& scope : pb_all(sl, 1)) {
        const auto n = pb_all(scope, 1), v = pb_all(scope, 2);
        d.scope_name = n.empty() ? "" : n[0];
        d.scope_version = v.empty() ? "" : v[0];
      }
      for (const auto& rec : pb_all(sl, 2)) d.records.push_back(rec);
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace logship::plugins::otlp::testing
