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

IndexTemplate::IndexTemplate(std::string_view t) {
  std::string lit;
  auto flush_lit = [&] {
    if (!lit.empty()) parts_.push_back({Part::kLiteral, std::move(lit)});
    lit.clear();
  };
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '{') {
      std::size_t close = t.find('}', i);
      if (close != std::string_view::npos) {
        flush_lit();
        std::string name(t.substr(i + 1, close - i - 1));
        // Source tags and `input` are per batch; only other names make the index per event.
        parts_.push_back({Part::kField, std::move(name)});
        has_fields_ = true;
        i = close;
        continue;
      }
    }
    if (c == '%' && i + 1 < t.size()) {
      if (t[i + 1] == '%') {
        lit.push_back('%');
        ++i;
        continue;
      }
      flush_lit();
      parts_.push_back({Part::kTime, std::string{'%', t[++i]}});
      has_time_ = true;
      continue;
    }
    lit.push_back(c);
  }
  flush_lit();
}

void IndexTemplate::render(const Event& e, const SourceInfo& source, std::string* out) const {
  std::tm tm{};
  bool have_tm = false;
  for (const Part& p : parts_) {
    switch (p.kind) {
      case Part::kLiteral:
        out->append(p.text);
        break;
      case Part::kField: {
        if (const Tag* t = source.find(p.text)) {
          append_index_safe(out, t->value);
        } else if (const Field* f = e.find(p.text); f && f->value.type == ValueType::kString) {
          append_index_safe(out, f->value.s);
        } else if (p.text == "stream") {
          append_index_safe(out, stream_name(e.stream));
        } else if (p.text == "input") {
          append_index_safe(out, source.input);
        } else {
          out->append("unknown");
        }
        break;
      }
      case Part::kTime: {
        if (!have_tm) {
          int64_t sec = e.time_ns / 1000000000;
          if (e.time_ns < 0 && e.time_ns % 1000000000 != 0) --sec;
          std::time_t t = static_cast<std::time_t>(sec);
          gmtime_r(&t, &tm);
          have_tm = true;
        }
        char buf[64];
        std::size_t n = std::strftime(buf, sizeof buf, p.text.c_str(), &tm);
        out->append(buf, n);
        break;
      }
    }
  }
}

bool IndexTemplate::varies_per_event(const SourceInfo& source) const {
  for (const Part& p : parts_) {
    if (p.kind == Part::kField && p.text != "input" && source.find(p.text) == nullptr) return true;
  }
  return false;
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
