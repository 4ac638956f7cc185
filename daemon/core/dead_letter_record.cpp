#include "daemon/core/dead_letter_record.h"

#include <simdjson.h>

#include "daemon/core/json_writer.h"
#include "daemon/core/rfc3339.h"

namespace logship::dead_letter {

void encode(std::string& line, std::string_view output, std::string_view error,
            std::string_view reason, const Event& e, const SourceInfo& source) {
  line.append("{\"output\":");
  json::append_string(line, output);
  line.append(",\"error\":");
  json::append_string(line, error);
  line.append(",\"reason\":");
  json::append_string(line, reason);
  line.append(",\"event\":");
  json::append_event(line, e, source);
  line.append(",\"meta\":{\"input\":");
  json::append_string(line, source.input);
  line.append(",\"key\":");
  json::append_string(line, source.key);
  if (!source.file_path.empty()) {
    line.append(",\"file_path\":");
    json::append_string(line, source.file_path);
  }
  line.append(",\"offset\":");
  line.append(std::to_string(e.offset));
  line.append(",\"flags\":");
  line.append(std::to_string(e.flags));
  line.append(",\"tags\":");
  line.append(std::to_string(source.tags.size()));
  line.append(",\"labels\":");
  line.append(std::to_string(source.labels.size()));
  line.append("}}\n");
}

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool get_string(element el, std::string* out) {
  std::string_view s;
  if (el.get_string().get(s) != simdjson::SUCCESS) return false;
  out->assign(s);
  return true;
}

Record::FieldValue value_of(std::string_view key, element el) {
  Record::FieldValue f;
  f.key.assign(key);
  switch (el.type()) {
    case element_type::STRING:
      f.type = ValueType::kString;
      f.text.assign(std::string_view(el));
      break;
    case element_type::INT64:
      f.type = ValueType::kInt;
      f.i = int64_t(el);
      break;
    case element_type::UINT64:   // never written (values are int64); kept as its number
    case element_type::DOUBLE:
      f.type = ValueType::kDouble;
      f.d = double(el);
      break;
    case element_type::BOOL:
      f.type = ValueType::kBool;
      f.b = bool(el);
      break;
    case element_type::NULL_VALUE:
      f.type = ValueType::kNull;
      break;
    default:   // objects and arrays: raw JSON
      f.type = ValueType::kRawJson;
      f.text = simdjson::minify(el);
      break;
  }
  return f;
}

}  // namespace

Result<Record> decode(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  thread_local simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(line.data(), line.size(), true).get(doc); err) {
    return Status::corrupt(std::string("not JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object root, event, meta;
  if (doc.get_object().get(root) || root["event"].get_object().get(event) ||
      root["meta"].get_object().get(meta)) {
    return Status::corrupt("not a dead-letter line (needs the objects \"event\" and \"meta\")");
  }
  Record r;
  auto source = std::make_shared<SourceInfo>();
  if (!get_string(root["output"], &r.output) || !get_string(root["error"], &r.error) ||
      !get_string(root["reason"], &r.reason) || !get_string(meta["input"], &source->input) ||
      !get_string(meta["key"], &source->key)) {
    return Status::corrupt("missing output, error, reason, meta.input or meta.key");
  }
  if (element fp; !meta["file_path"].get(fp)) {
    if (!get_string(fp, &source->file_path)) {
      return Status::corrupt("meta.file_path is not a string");
    }
  }
  uint64_t offset = 0, flags = 0, tags = 0, labels = 0;
  if (meta["offset"].get_uint64().get(offset) || meta["flags"].get_uint64().get(flags) ||
      meta["tags"].get_uint64().get(tags) || meta["labels"].get_uint64().get(labels) ||
      flags > 255) {
    return Status::corrupt("meta.offset, flags, tags or labels missing or not a count");
  }
  r.offset = offset;
  r.flags = static_cast<uint8_t>(flags);
  // The event's keys in order: timestamp, [stream], message, T tags, [labels], fields.
  enum class Part { kTimestamp, kStream, kMessage, kTags, kLabels, kFields };
  Part part = Part::kTimestamp;
  uint64_t tags_left = tags;
  for (auto [key, value] : event) {
    if (part == Part::kTimestamp) {
      std::string_view ts;
      if (key != "timestamp" || value.get_string().get(ts) || !parse_rfc3339(ts, &r.time_ns)) {
        return Status::corrupt("event.timestamp missing or not RFC 3339");
      }
      part = Part::kStream;
      continue;
    }
    if (part == Part::kStream) {
      part = Part::kMessage;
      if (key == "stream") {
        std::string_view s;
        if (value.get_string().get(s) || (s != "stdout" && s != "stderr")) {
          return Status::corrupt("event.stream is not stdout or stderr");
        }
        r.stream = s == "stdout" ? Stream::kStdout : Stream::kStderr;
        continue;
      }
    }
    if (part == Part::kMessage) {
      if (key != "message" || !get_string(value, &r.message)) {
        return Status::corrupt("event.message missing or not a string");
      }
      part = tags_left > 0 ? Part::kTags : (labels > 0 ? Part::kLabels : Part::kFields);
      continue;
    }
    if (part == Part::kTags) {
      Tag t;
      t.key.assign(key);
      if (value.is_string()) {
        t.value.assign(std::string_view(value));
      } else {
        t.type = ValueType::kRawJson;
        t.value = simdjson::minify(value);
      }
      source->tags.push_back(std::move(t));
      if (--tags_left == 0) part = labels > 0 ? Part::kLabels : Part::kFields;
      continue;
    }
    if (part == Part::kLabels) {
      simdjson::dom::object lo;
      if (key != "labels" || value.get_object().get(lo)) {
        return Status::corrupt("event.labels missing or not an object");
      }
      for (auto [lk, lv] : lo) {
        std::string v;
        if (!get_string(lv, &v)) {
          return Status::corrupt("a label value is not a string");
        }
        source->labels.emplace_back(std::string(lk), std::move(v));
      }
      part = Part::kFields;
      continue;
    }
    r.fields.push_back(value_of(key, value));
  }
  if (part == Part::kTimestamp || part == Part::kStream || part == Part::kMessage ||
      part == Part::kTags || (part == Part::kLabels)) {
    return Status::corrupt("event ends before its message, tags or labels");
  }
  r.source = std::move(source);
  return r;
}

void add_event(const Record& record, Batch& batch) {
  Event& e = batch.add_event();
  e.time_ns = record.time_ns;
  e.offset = record.offset;
  e.stream = record.stream;
  e.flags = record.flags;
  e.message = batch.copy(record.message);
  e.fields.reserve(record.fields.size());
  for (const Record::FieldValue& f : record.fields) {
    Value v;
    switch (f.type) {
      case ValueType::kString: v = Value::string(batch.copy(f.text)); break;
      case ValueType::kRawJson: v = Value::raw_json(batch.copy(f.text)); break;
      case ValueType::kInt: v = Value::integer(f.i); break;
      case ValueType::kDouble: v = Value::real(f.d); break;
      case ValueType::kBool: v = Value::boolean(f.b); break;
      case ValueType::kNull: break;
    }
    e.fields.push_back(Field{batch.copy(f.key), v});
  }
}

bool same_source(const SourceInfo& a, const SourceInfo& b) {
  if (a.input != b.input || a.key != b.key || a.file_path != b.file_path ||
      a.labels != b.labels || a.tags.size() != b.tags.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.tags.size(); ++i) {
    if (a.tags[i].key != b.tags[i].key || a.tags[i].type != b.tags[i].type ||
        a.tags[i].value != b.tags[i].value) {
      return false;
    }
  }
  return true;
}

}  // namespace logship::dead_letter
