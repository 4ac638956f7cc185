#pragma once
// Just enough of the protobuf wire format to write OTLP messages, into a caller-owned buffer
// with no allocation per field. A nested message reserves room for the longest length varint,
// is written in place, and is moved left over the unused bytes when it ends (one memmove per
// message; OTLP nests three deep above a log record).
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace logship::plugins::otlp {

// Bytes of v as a varint.
constexpr std::size_t varint_size(uint64_t v) {
  std::size_t n = 1;
  while (v > 0x7f) {
    v >>= 7;
    ++n;
  }
  return n;
}

class ProtobufWriter {
 public:
  explicit ProtobufWriter(std::string& out) : out_(out) {}

  void varint_field(uint32_t field, uint64_t v) {
    tag(field, 0);
    varint(v);
  }
  void bool_field(uint32_t field, bool v) { varint_field(field, v ? 1 : 0); }
  void fixed64_field(uint32_t field, uint64_t v) {
    tag(field, 1);
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
    out_.append(b, 8);
  }
  void double_field(uint32_t field, double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    fixed64_field(field, bits);
  }
  void bytes_field(uint32_t field, std::string_view v) {
    tag(field, 2);
    varint(v.size());
    out_.append(v);
  }

  // Starts a length-delimited sub-message; returns the mark end_message() needs.
  std::size_t begin_message(uint32_t field) {
    tag(field, 2);
    const std::size_t mark = out_.size();
    out_.append(kLenRoom, '\0');
    return mark;
  }
  void end_message(std::size_t mark) {
    const std::size_t body = mark + kLenRoom;
    const std::size_t len = out_.size() - body;
    char v[kLenRoom];
    std::size_t n = 0;
    uint64_t x = len;
    do {
      v[n++] = static_cast<char>((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
      x >>= 7;
    } while (x != 0);
    std::memcpy(&out_[mark], v, n);
    if (n < kLenRoom) {
      std::memmove(&out_[mark + n], &out_[body], len);
      out_.resize(out_.size() - (kLenRoom - n));
    }
  }

  void tag(uint32_t field, uint32_t wire) { varint((static_cast<uint64_t>(field) << 3) | wire); }
  void varint(uint64_t v) {
    while (v > 0x7f) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }

 private:
  static constexpr std::size_t kLenRoom = 5;   // lengths below 2^35: every OTLP request
  std::string& out_;
};

}  // namespace logship::plugins::otlp
