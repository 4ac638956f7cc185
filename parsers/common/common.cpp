#include "parsers/common/common.h"

#include <charconv>
#include <cmath>

#include "daemon/runtime/component_metrics.h"

namespace logship::parsers {

Status LabelCondition::parse(std::string_view spec) {
  key_.clear();
  values_.clear();
  if (spec.empty()) return Status::ok();
  auto eq = spec.find('=');
  key_ = std::string(spec.substr(0, eq));
  if (key_.empty()) {
    return Status::invalid("expected LABEL or LABEL=VALUE[|VALUE...], got \"" +
                           std::string(spec) + "\"");
  }
  if (eq == std::string_view::npos) return Status::ok();
  std::string_view rest = spec.substr(eq + 1);
  while (true) {
    auto bar = rest.find('|');
    values_.emplace_back(rest.substr(0, bar));
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 1);
  }
  return Status::ok();
}

bool LabelCondition::matches(const SourceInfo& src) const {
  if (key_.empty()) return true;
  const std::string* v = src.label(key_);
  if (v == nullptr) return false;
  if (values_.empty()) return true;
  for (const auto& want : values_) {
    if (*v == want) return true;
  }
  return false;
}

bool parse_field_type(std::string_view s, FieldType* out) {
  if (s == "string") *out = FieldType::kString;
  else if (s == "int" || s == "integer") *out = FieldType::kInt;
  else if (s == "double" || s == "float" || s == "number") *out = FieldType::kDouble;
  else if (s == "bool" || s == "boolean") *out = FieldType::kBool;
  else if (s == "auto") *out = FieldType::kAuto;
  else return false;
  return true;
}

namespace {

bool to_int(std::string_view t, int64_t* v) {
  if (t.empty()) return false;
  const char* b = t.data();
  if (*b == '+') ++b;
  auto r = std::from_chars(b, t.data() + t.size(), *v);
  return r.ec == std::errc() && r.ptr == t.data() + t.size();
}

bool to_double(std::string_view t, double* v) {
  if (t.empty()) return false;
  const char* b = t.data();
  if (*b == '+') ++b;
  // from_chars also takes "inf"/"nan", which JSON cannot carry.
  if (b == t.data() + t.size() || !(std::isdigit(static_cast<unsigned char>(*b)) || *b == '-' ||
                                     *b == '.')) {
    return false;
  }
  auto r = std::from_chars(b, t.data() + t.size(), *v, std::chars_format::general);
  return r.ec == std::errc() && r.ptr == t.data() + t.size() && std::isfinite(*v);
}

bool to_bool(std::string_view t, bool* v) {
  if (t == "true" || t == "TRUE" || t == "True") { *v = true; return true; }
  if (t == "false" || t == "FALSE" || t == "False") { *v = false; return true; }
  return false;
}

}  // namespace

bool convert_text(std::string_view text, FieldType type, Value* out) {
  switch (type) {
    case FieldType::kString: *out = Value::string(text); return true;
    case FieldType::kInt: {
      int64_t i;
      if (!to_int(text, &i)) return false;
      *out = Value::integer(i);
      return true;
    }
    case FieldType::kDouble: {
      double d;
      if (!to_double(text, &d)) return false;
      *out = Value::real(d);
      return true;
    }
    case FieldType::kBool: {
      bool b;
      if (!to_bool(text, &b)) return false;
      *out = Value::boolean(b);
      return true;
    }
    case FieldType::kAuto: {
      int64_t i;
      double d;
      bool b;
      if (!text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-')) {
        if (to_int(text, &i)) { *out = Value::integer(i); return true; }
        if (to_double(text, &d)) { *out = Value::real(d); return true; }
      } else if (to_bool(text, &b)) {
        *out = Value::boolean(b);
        return true;
      }
      *out = Value::string(text);
      return true;
    }
  }
  return false;
}

bool is_message(std::string_view field) { return field.empty() || field == "message"; }

bool source_text(const Event& e, std::string_view field, std::string_view* out) {
  if (is_message(field)) {
    *out = e.message;
    return true;
  }
  const Field* f = e.find(field);
  if (f == nullptr) return false;
  if (f->value.type != ValueType::kString && f->value.type != ValueType::kRawJson) return false;
  *out = f->value.s;
  return true;
}

void clear_source(Event& e, std::string_view field) {
  if (is_message(field)) {
    e.message = {};
    return;
  }
  for (auto it = e.fields.begin(); it != e.fields.end(); ++it) {
    if (it->key == field) {
      e.fields.erase(it);
      return;
    }
  }
}

ParserStats::ParserStats(std::string_view prefix, const PluginContext& processor)
    : log(processor) {
  const ComponentMetrics m(processor);
  std::string p(prefix);
  parsed = &m.counter(p + "_parsed_total", "Events the parser parsed");
  failed = &m.counter(p + "_failed_total", "Events kept raw because they did not parse");
  skipped = &m.counter(p + "_skipped_total",
                       "Events the parser did not apply to (label condition, missing field)");
}

void mark_failure(Event& e, std::string_view reason, ParserStats& stats) {
  e.flags |= kEventParseFailed;
  e.set("parse_error", Value::string(reason));
  stats.failed->fetch_add(1, std::memory_order_relaxed);
  stats.log.warn(stats.limit, "cannot parse event; kept raw", log::kv("reason", reason));
}

}  // namespace logship::parsers
