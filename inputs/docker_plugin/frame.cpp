#include "inputs/docker_plugin/frame.h"

namespace logship::docker_plugin {
namespace {

// Wire types proto3 uses; 3/4 (groups) are not valid in this schema and are rejected.
constexpr int kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5;

bool read_varint(const unsigned char*& p, const unsigned char* end, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const unsigned char b = *p++;
    r |= uint64_t{b & 0x7Fu} << shift;
    if ((b & 0x80) == 0) {
      *v = r;
      return true;
    }
  }
  return false;
}

// Skips one field of `wire` type; nullptr on success.
const char* skip_field(int wire, const unsigned char*& p, const unsigned char* end) {
  uint64_t v;
  switch (wire) {
    case kVarint:
      return read_varint(p, end, &v) ? nullptr : "truncated varint";
    case kFixed64:
      if (end - p < 8) return "truncated fixed64";
      p += 8;
      return nullptr;
    case kFixed32:
      if (end - p < 4) return "truncated fixed32";
      p += 4;
      return nullptr;
    case kLen:
      if (!read_varint(p, end, &v)) return "truncated length";
      if (v > static_cast<uint64_t>(end - p)) return "field length past end of entry";
      p += v;
      return nullptr;
    default:
      return "invalid wire type";
  }
}

const char* read_bytes(const unsigned char*& p, const unsigned char* end, std::string_view* out) {
  uint64_t n;
  if (!read_varint(p, end, &n)) return "truncated length";
  if (n > static_cast<uint64_t>(end - p)) return "field length past end of entry";
  *out = std::string_view(reinterpret_cast<const char*>(p), n);
  p += n;
  return nullptr;
}

const char* decode_meta(std::string_view bytes, LogEntryView* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p < end) {
    uint64_t key;
    if (!read_varint(p, end, &key)) return "truncated key";
    const int wire = static_cast<int>(key & 7);
    const uint64_t field = key >> 3;
    uint64_t v;
    if (field == 1 && wire == kVarint) {
      if (!read_varint(p, end, &v)) return "truncated varint";
      out->last = v != 0;
    } else if (field == 2 && wire == kLen) {
      if (const char* e = read_bytes(p, end, &out->partial_id)) return e;
    } else if (field == 3 && wire == kVarint) {
      if (!read_varint(p, end, &v)) return "truncated varint";
      out->ordinal = static_cast<int32_t>(static_cast<uint32_t>(v));
    } else if (field == 0) {
      return "field number 0";
    } else if (field <= 3) {
      return "wrong wire type for a known field";
    } else if (const char* e = skip_field(wire, p, end)) {
      return e;
    }
  }
  return nullptr;
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_bytes(std::string& out, int field, std::string_view s) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | kLen);
  put_varint(out, s.size());
  out.append(s);
}

// nullptr on success, else a static description: the per-field helpers and this loop run for
// every entry and stay free of Status, which is built once, on failure only.
const char* decode_entry(std::string_view bytes, LogEntryView* out) {
  *out = LogEntryView{};
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p < end) {
    uint64_t key;
    if (!read_varint(p, end, &key)) return "truncated key";
    const int wire = static_cast<int>(key & 7);
    const uint64_t field = key >> 3;
    uint64_t v;
    if (field == 1 && wire == kLen) {
      if (const char* e = read_bytes(p, end, &out->source)) return e;
    } else if (field == 2 && wire == kVarint) {
      if (!read_varint(p, end, &v)) return "truncated varint";
      out->time_nano = static_cast<int64_t>(v);
    } else if (field == 3 && wire == kLen) {
      if (const char* e = read_bytes(p, end, &out->line)) return e;
    } else if (field == 4 && wire == kVarint) {
      if (!read_varint(p, end, &v)) return "truncated varint";
      out->partial = v != 0;
    } else if (field == 5 && wire == kLen) {
      std::string_view meta;
      if (const char* e = read_bytes(p, end, &meta)) return e;
      out->has_partial_meta = true;
      if (const char* e = decode_meta(meta, out)) return e;
    } else if (field == 0) {
      return "field number 0";
    } else if (field <= 5) {
      return "wrong wire type for a known field";
    } else if (const char* e = skip_field(wire, p, end)) {
      return e;
    }
  }
  return nullptr;
}

}  // namespace

Status decode_log_entry(std::string_view bytes, LogEntryView* out) {
  if (const char* why = decode_entry(bytes, out)) return Status::corrupt(why);
  return Status::ok();
}

void encode_log_entry(std::string& out, const LogEntryView& e) {
  if (!e.source.empty()) put_bytes(out, 1, e.source);
  if (e.time_nano != 0) {
    put_varint(out, (2 << 3) | kVarint);
    put_varint(out, static_cast<uint64_t>(e.time_nano));
  }
  if (!e.line.empty()) put_bytes(out, 3, e.line);
  if (e.partial) {
    put_varint(out, (4 << 3) | kVarint);
    put_varint(out, 1);
  }
  if (e.has_partial_meta) {
    std::string meta;
    if (e.last) {
      put_varint(meta, (1 << 3) | kVarint);
      put_varint(meta, 1);
    }
    if (!e.partial_id.empty()) put_bytes(meta, 2, e.partial_id);
    if (e.ordinal != 0) {
      put_varint(meta, (3 << 3) | kVarint);
      // int32 negatives are sign-extended to 10 bytes on the wire.
      put_varint(meta, static_cast<uint64_t>(static_cast<int64_t>(e.ordinal)));
    }
    put_bytes(out, 5, meta);
  }
}

void append_frame(std::string& out, const LogEntryView& e) {
  const std::size_t at = out.size();
  out.append(4, '\0');
  encode_log_entry(out, e);
  const auto size = static_cast<uint32_t>(out.size() - at - 4);
  out[at] = static_cast<char>(size >> 24);
  out[at + 1] = static_cast<char>(size >> 16);
  out[at + 2] = static_cast<char>(size >> 8);
  out[at + 3] = static_cast<char>(size);
}

}  // namespace logship::docker_plugin
