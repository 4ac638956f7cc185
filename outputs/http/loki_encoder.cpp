#include "outputs/http/loki_encoder.h"

#include <snappy-c.h>

#include <algorithm>
#include <charconv>

#include "daemon/core/json_writer.h"
#include "outputs/otlp/protobuf_writer.h"

namespace logship::plugins::httpout {
namespace {

// Cuts `v` to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view cut_utf8(std::string_view v, std::size_t max) {
  if (v.size() <= max) return v;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;
  return v.substr(0, n);
}

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h ^ 0xff;   // separates ("ab","") from ("a","b")
}

// A label value inside `{k="v"}`: Go's %q quoting of the few characters that need it.
void append_quoted_label(std::string& out, std::string_view v) {
  out += '"';
  for (char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  out += '"';
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

bool valid_label_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

LokiEncoder::LokiEncoder(LokiOptions o) : o_(std::move(o)) {
  for (const auto& [k, v] : o_.static_labels) labels_.push_back(Label{k, true, v});
  for (const std::string& f : o_.label_fields) {
    if (o_.static_labels.count(f) == 0) labels_.push_back(Label{f, false, ""});
  }
  std::sort(labels_.begin(), labels_.end(),
            [](const Label& a, const Label& b) { return a.name < b.name; });
}

std::string_view LokiEncoder::value(const Label& label, const Event& e, const SourceInfo& s,
                                    LookupScratch& scratch) const {
  if (label.is_static) return label.static_value;
  return cut_utf8(lookup_text(e, s, label.name, scratch), kMaxLabelValueBytes);
}

bool LokiEncoder::same_labels(const Event& a, const SourceInfo& as, const Event& b,
                              const SourceInfo& bs) const {
  LookupScratch sa, sb;
  for (const Label& l : labels_) {
    if (!l.is_static && value(l, a, as, sa) != value(l, b, bs, sb)) return false;
  }
  return true;
}

uint32_t LokiEncoder::stream_of(const Event& e, const SourceInfo& s) {
  uint64_t h = 14695981039346656037ull;
  LookupScratch scratch;
  for (const Label& l : labels_) {
    if (!l.is_static) h = fnv1a(h, value(l, e, s, scratch));
  }
  // Grows the table to keep it at most half full.
  if (table_.size() < 2 * (streams_.size() + 1)) {
    table_.assign(std::max<std::size_t>(64, table_.size() * 2), 0);
    for (uint32_t i = 0; i < streams_.size(); ++i) {
      std::size_t slot = streams_[i].hash & (table_.size() - 1);
      while (table_[slot] != 0) slot = (slot + 1) & (table_.size() - 1);
      table_[slot] = i + 1;
    }
  }
  std::size_t slot = h & (table_.size() - 1);
  while (table_[slot] != 0) {
    const StreamInfo& st = streams_[table_[slot] - 1];
    if (st.hash == h && same_labels(*st.event, *st.source, e, s)) return table_[slot] - 1;
    slot = (slot + 1) & (table_.size() - 1);
  }
  streams_.push_back(StreamInfo{h, &e, &s});
  table_[slot] = static_cast<uint32_t>(streams_.size());
  return static_cast<uint32_t>(streams_.size() - 1);
}

void LokiEncoder::collect(std::span<const httpbatch::Slice> slices) {
  entries_.clear();
  streams_.clear();
  std::fill(table_.begin(), table_.end(), 0);
  uint32_t order = 0;
  for (const httpbatch::Slice& sl : slices) {
    const SourceInfo& src = sl.batch->source();
    const auto& evs = sl.batch->events();
    for (uint32_t i = sl.begin; i < sl.end; ++i) {
      const Event& e = evs[i];
      entries_.push_back(Entry{stream_of(e, src), order++, e.time_ns, &e, sl.batch});
    }
  }
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    if (a.stream != b.stream) return a.stream < b.stream;
    if (a.time_ns != b.time_ns) return a.time_ns < b.time_ns;
    return a.order < b.order;
  });
}

void LokiEncoder::line(const Entry& e, std::string& out) {
  if (!o_.json_line) {
    out.append(e.event->message);
    return;
  }
  if (source_.get() != &e.batch->source()) {
    source_ = e.batch->source_ptr();   // held so its address cannot be reused
    encoded_source_ = json::encode_source(*source_);
  }
  json::append_event(out, *e.event, encoded_source_);
}

void LokiEncoder::encode(std::span<const httpbatch::Slice> slices, std::string& out) {
  out.clear();
  collect(slices);
  if (o_.protobuf) {
    protobuf(out);
  } else {
    json(out);
  }
}

void LokiEncoder::json(std::string& out) {
  out += "{\"streams\":[";
  LookupScratch scratch;
  for (std::size_t i = 0; i < entries_.size();) {
    const StreamInfo& st = streams_[entries_[i].stream];
    if (i > 0) out += ',';
    out += "{\"stream\":{";
    bool first = true;
    for (const Label& l : labels_) {
      const std::string_view v = value(l, *st.event, *st.source, scratch);
      if (v.empty()) continue;
      if (!first) out += ',';
      first = false;
      json::append_string(out, l.name);
      out += ':';
      json::append_string(out, v);
    }
    out += "},\"values\":[";
    const uint32_t stream = entries_[i].stream;
    for (bool first_value = true; i < entries_.size() && entries_[i].stream == stream; ++i) {
      if (!first_value) out += ',';
      first_value = false;
      out += "[\"";
      append_int(out, entries_[i].time_ns);
      out += "\",";
      if (o_.json_line) {
        scratch_.clear();
        line(entries_[i], scratch_);
        json::append_string(out, scratch_);
      } else {
        json::append_string(out, entries_[i].event->message);
      }
      out += ']';
    }
    out += "]}";
  }
  out += "]}";
}

void LokiEncoder::protobuf(std::string& out) {
  // logproto.PushRequest { repeated StreamAdapter streams = 1; }
  // StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; }
  // EntryAdapter { google.protobuf.Timestamp timestamp = 1; string line = 2; }
  // Timestamp { int64 seconds = 1; int32 nanos = 2; }
  scratch_.clear();
  otlp::ProtobufWriter w(scratch_);
  LookupScratch scratch;
  for (std::size_t i = 0; i < entries_.size();) {
    const StreamInfo& st = streams_[entries_[i].stream];
    const std::size_t stream_mark = w.begin_message(1);
    // The labels field is written in place: its length is known only at its end.
    const std::size_t labels_mark = w.begin_message(1);
    scratch_ += '{';
    bool first = true;
    for (const Label& l : labels_) {
      const std::string_view v = value(l, *st.event, *st.source, scratch);
      if (v.empty()) continue;
      if (!first) scratch_ += ", ";
      first = false;
      scratch_ += l.name;
      scratch_ += '=';
      append_quoted_label(scratch_, v);
    }
    scratch_ += '}';
    w.end_message(labels_mark);
    const uint32_t stream = entries_[i].stream;
    for (; i < entries_.size() && entries_[i].stream == stream; ++i) {
      const Entry& e = entries_[i];
      const std::size_t entry_mark = w.begin_message(2);
      const std::size_t ts_mark = w.begin_message(1);
      int64_t secs = e.time_ns / 1000000000;
      int64_t nanos = e.time_ns % 1000000000;
      if (nanos < 0) {
        nanos += 1000000000;
        --secs;
      }
      if (secs != 0) w.varint_field(1, static_cast<uint64_t>(secs));
      if (nanos != 0) w.varint_field(2, static_cast<uint64_t>(nanos));
      w.end_message(ts_mark);
      const std::size_t line_mark = w.begin_message(2);
      line(e, scratch_);
      w.end_message(line_mark);
      w.end_message(entry_mark);
    }
    w.end_message(stream_mark);
  }
  std::size_t n = snappy_max_compressed_length(scratch_.size());
  out.resize(n);
  if (snappy_compress(scratch_.data(), scratch_.size(), out.data(), &n) != SNAPPY_OK) {
    n = 0;   // cannot happen with a buffer of snappy_max_compressed_length
  }
  out.resize(n);
}

}  // namespace logship::plugins::httpout
