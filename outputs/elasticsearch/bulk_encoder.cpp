#include "outputs/elasticsearch/bulk_encoder.h"

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

BulkEncoder::BulkEncoder(BulkEncoderOptions o)
    : o_(std::move(o)), template_(o_.index), keys_{"@timestamp", "message", "stream"} {}

uint64_t BulkEncoder::hash_key(std::string_view key) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void BulkEncoder::append_id(std::string& out, uint64_t source_hash, uint64_t offset) {
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[33];
  for (int i = 0; i < 16; ++i) buf[i] = kHex[(source_hash >> (60 - 4 * i)) & 0xf];
  buf[16] = '-';
  for (int i = 0; i < 16; ++i) buf[17 + i] = kHex[(offset >> (60 - 4 * i)) & 0xf];
  out.append(buf, sizeof buf);
}

void BulkEncoder::begin_source(const SourceInfo& source) {
  source_hash_ = hash_key(source.key);
  index_valid_ = false;
  per_event_ = template_.varies_per_event(source);
  encoded_source_ = json::encode_source(source);
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
    append_id(out, source_hash_, e.offset);
    out.push_back('"');
  }
  out.append("}}\n");
  if (&source != encoded_for_) {   // a caller that skipped begin_source()
    encoded_source_ = json::encode_source(source);
    encoded_for_ = &source;
  }
  json::append_event(out, e, encoded_source_, keys_);
  out.push_back('\n');
}

}  // namespace logship::plugins::es
