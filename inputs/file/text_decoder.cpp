#include "inputs/file/text_decoder.h"

#include <cstring>

namespace logship::file {

namespace {

void put_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

constexpr uint32_t kReplacement = 0xFFFD;

}  // namespace

TextDecoder::TextDecoder(const TextOptions& o, TextStats* stats) : o_(o), stats_(stats) {
  if (o.encoding == Encoding::kUtf16 || o.encoding == Encoding::kUtf16Le ||
      o.encoding == Encoding::kUtf16Be) {
    unit_ = 2;
    big_endian_ = o.encoding == Encoding::kUtf16Be;
  }
}

std::string_view TextDecoder::terminator() const {
  const char c = o_.framing == Framing::kNul ? '\0' : '\n';
  static const char lf_le[2] = {'\n', '\0'}, lf_be[2] = {'\0', '\n'}, nul2[2] = {'\0', '\0'};
  static const char lf[1] = {'\n'}, nul[1] = {'\0'};
  if (!utf16()) return std::string_view(c == '\n' ? lf : nul, 1);
  if (c == '\0') return std::string_view(nul2, 2);
  return std::string_view(big_endian_ ? lf_be : lf_le, 2);
}

std::size_t TextDecoder::bom(std::string_view b) {
  if (utf16()) {
    if (b.size() < 2) return 0;
    const auto b0 = static_cast<unsigned char>(b[0]), b1 = static_cast<unsigned char>(b[1]);
    if (b0 == 0xFF && b1 == 0xFE) {
      if (o_.encoding == Encoding::kUtf16) big_endian_ = false;
      return o_.encoding == Encoding::kUtf16Be ? 0 : 2;
    }
    if (b0 == 0xFE && b1 == 0xFF) {
      if (o_.encoding == Encoding::kUtf16) big_endian_ = true;
      return o_.encoding == Encoding::kUtf16Le ? 0 : 2;
    }
    return 0;
  }
  if (o_.encoding == Encoding::kUtf8 && b.size() >= 3 && b.substr(0, 3) == "\xEF\xBB\xBF") return 3;
  return 0;
}

void TextDecoder::head(std::string_view first_bytes) { bom(first_bytes); }

std::size_t TextDecoder::find_end(const char* data, std::size_t pos, std::size_t len) const {
  const char term = o_.framing == Framing::kNul ? '\0' : '\n';
  if (!utf16()) {
    const void* p = std::memchr(data + pos, term, len - pos);
    return p == nullptr ? std::string::npos : static_cast<std::size_t>(static_cast<const char*>(p) - data);
  }
  for (std::size_t i = pos; i + 1 < len; i += 2) {
    const char lo = big_endian_ ? data[i + 1] : data[i];
    const char hi = big_endian_ ? data[i] : data[i + 1];
    if (lo == term && hi == '\0') return i;
  }
  return std::string::npos;
}

std::size_t TextDecoder::consume(const char* data, std::size_t len, std::size_t, uint64_t base,
                                 Batch& batch, TimePoint) {
  const int64_t time_ns = wall_now_ns();   // one clock read per chunk, not per line
  std::size_t pos = 0;
  if (base == 0 && !skipping_) {
    // A byte-order mark starts the file: not part of the first line. Wait for enough bytes to
    // tell.
    if (len < (utf16() ? 2u : 3u) && (len == 0 || data[0] == '\xEF' || data[0] == '\xFF' ||
                                      data[0] == '\xFE')) {
      return 0;
    }
    pos = bom(std::string_view(data, len));
  }
  const std::size_t term_len = unit_;
  while (pos < len) {
    const std::size_t end = find_end(data, pos, len);
    if (end == std::string::npos) {
      // Whole code units only, so lines stay aligned.
      const std::size_t rest = (len - pos) & ~(unit_ - 1);
      if (skipping_) {
        stats_->dropped_bytes += rest;
        pos += rest;
      } else if (rest > o_.max_line_size * unit_ + (utf16() ? 2 : 0)) {
        // (that many bytes re-encode to more than max_line_size bytes of UTF-8, with a
        // surrogate pair's second half to spare)
        // Cut now rather than hold an unbounded line: its head goes out, the rest is dropped
        // up to its terminator.
        line(std::string_view(data + pos, rest), base + pos, time_ns, batch);
        skipping_ = true;
        pos += rest;
      }
      consumed_end_ = base + pos;
      break;
    }
    if (skipping_) {
      stats_->dropped_bytes += end - pos;
      skipping_ = false;
    } else {
      line(std::string_view(data + pos, end - pos), base + pos, time_ns, batch);
    }
    pos = end + term_len;
    consumed_end_ = base + pos;
  }
  return pos;
}

std::string_view TextDecoder::to_utf8(std::string_view raw) {
  if (o_.encoding == Encoding::kUtf8) return raw;
  scratch_.clear();
  if (o_.encoding == Encoding::kLatin1) {
    for (char c : raw) put_utf8(scratch_, static_cast<unsigned char>(c));
    return scratch_;
  }
  auto unit = [&](std::size_t i) -> uint32_t {
    const auto a = static_cast<unsigned char>(raw[i]), b = static_cast<unsigned char>(raw[i + 1]);
    return big_endian_ ? (a << 8 | b) : (b << 8 | a);
  };
  for (std::size_t i = 0; i + 1 < raw.size(); i += 2) {
    uint32_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (i + 3 < raw.size()) {
        const uint32_t lo = unit(i + 2);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
          put_utf8(scratch_, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
          i += 2;
          continue;
        }
      }
      u = kReplacement;
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      u = kReplacement;
    }
    put_utf8(scratch_, u);
  }
  return scratch_;
}

void TextDecoder::line(std::string_view raw, uint64_t offset, int64_t time_ns, Batch& batch) {
  ++stats_->lines;
  std::string_view text = to_utf8(raw);
  if (o_.framing == Framing::kCrlf && !text.empty() && text.back() == '\r') text.remove_suffix(1);
  uint8_t flags = 0;
  if (text.size() > o_.max_line_size) {
    std::size_t cut = o_.max_line_size;
    if (o_.encoding != Encoding::kUtf8) {
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
      // What was dropped, in the file's bytes: the share of the line past the cut.
      stats_->dropped_bytes += raw.size() - raw.size() * cut / text.size();
    } else {
      stats_->dropped_bytes += text.size() - cut;
    }
    text = text.substr(0, cut);
    flags = kEventTruncated;
  }
  if (flags != 0) ++stats_->truncated;
  Event& e = batch.add_event();
  e.message = batch.copy(text);
  e.time_ns = time_ns;
  e.offset = offset;
  e.flags = flags;
}

}  // namespace logship::file
