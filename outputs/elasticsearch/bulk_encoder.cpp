#include "outputs/elasticsearch/bulk_encoder.h"

#include <cstring>
#include <ctime>

namespace logship::plugins::es {

void append_index_safe(std::string* out, std::string_view v) {
  if (v.empty()) {
    out->append("unknown");
    return;
  }
  for (char c : v) {
    switch (c) {
      case '\\': case '/': case '*': case '?': case '"': case '<': case '>': case '|':
      case ',': case '#': case ':': case ' ':
        out->push_back('_');
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out->push_back('_');
        } else if (c >= 'A' && c <= 'Z') {
          out->push_back(static_cast<char>(c - 'A' + 'a'));
        } else {
          out->push_back(c);
        }
    }
  }
}

BulkEncoder::BulkEncoder(BulkEncoderOptions o, const doc::DocumentOptions& document,
                         const HostIdentity& host)
    : o_(std::move(o)),
      document_(document, host, json::EventKeys{"@timestamp", "message", "stream"}),
      template_(o_.index) {}

uint64_t BulkEncoder::hash_key(std::string_view key) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

namespace {

uint64_t mix(uint64_t h, uint64_t w) {
  h ^= w;
  h *= 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 29);
}

void append_hex(std::string& out, uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[16];
  for (int i = 0; i < digits; ++i) buf[i] = kHex[(v >> (4 * (digits - 1 - i))) & 0xf];
  out.append(buf, static_cast<std::size_t>(digits));
}

}  // namespace

// 8 bytes a step: the id is computed for every event, so FNV's byte loop would show.
uint32_t BulkEncoder::hash_content(int64_t time_ns, std::string_view message) {
  uint64_t h = mix(0x243F6A8885A308D3ull, static_cast<uint64_t>(time_ns));
  std::size_t i = 0;
  for (; i + 8 <= message.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, message.data() + i, 8);
    h = mix(h, w);
  }
  uint64_t tail = 0;
  if (i < message.size()) std::memcpy(&tail, message.data() + i, message.size() - i);
  h = mix(h, tail ^ (static_cast<uint64_t>(message.size()) << 56));
  return static_cast<uint32_t>(h ^ (h >> 32));
}

void BulkEncoder::append_id(std::string& out, uint64_t source_hash, const Event& e) {
  append_hex(out, source_hash, 16);
  out.push_back('-');
  append_hex(out, e.offset, 16);
  out.push_back('-');
  append_hex(out, hash_content(e.time_ns, e.message), 8);
}

void BulkEncoder::begin_source(const SourceInfo& source) {
  source_hash_ = hash_key(source.key);
  index_valid_ = false;
  per_event_ = template_.varies_per_event(source);
  document_.begin_source(source);
  encoded_for_ = &source;
}

void BulkEncoder::append(std::string& out, const Event& e, const SourceInfo& source) {
  int64_t sec = e.time_ns / 1000000000;
  if (!index_valid_ || per_event_ || (template_.has_time() && sec != index_second_)) {
    index_.clear();
    template_.render(e, source, &index_);
    index_second_ = sec;
    index_valid_ = true;
  }
  out.append(o_.action == BulkAction::kCreate ? "{\"create\":{\"_index\":\""
                                              : "{\"index\":{\"_index\":\"");
  out.append(index_);
  out.push_back('"');
  if (o_.deterministic_ids) {
    out.append(",\"_id\":\"");
    append_id(out, source_hash_, e);
    out.push_back('"');
  }
  out.append("}}\n");
  if (&source != encoded_for_) {   // a caller that skipped begin_source()
    document_.begin_source(source);
    encoded_for_ = &source;
  }
  document_.append(out, e);
  out.push_back('\n');
}

}  // namespace logship::plugins::es
