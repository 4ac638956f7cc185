#include "processors/modify/nest.h"

#include <algorithm>

#include "daemon/core/json_writer.h"
#include "parsers/common/json_text.h"

namespace logship::plugins::modify {

const config::OptionSchema<NestOptions>& NestOptions::schema() {
  using S = config::OptionSchema<NestOptions>;
  static const auto s =
      S{}.add("under", &NestOptions::under, "The object field the fields move under (required).")
          .add("fields", &NestOptions::fields,
               "Fields to move (required): names, or prefixes ending in '*' (\"http_*\"; \"*\": "
               "every field). The message stays the message.")
          .add("remove_prefix", &NestOptions::remove_prefix,
               "Taken off the start of a moved field's name (Fluent Bit's Remove_prefix).");
  return s;
}

bool Nester::matches(std::string_view key) const {
  for (const std::string& p : o_.fields) {
    if (!p.empty() && p.back() == '*') {
      if (key.substr(0, p.size() - 1) == std::string_view(p).substr(0, p.size() - 1)) return true;
    } else if (key == p) {
      return true;
    }
  }
  return false;
}

std::string_view Nester::member_name(std::string_view key) const {
  const std::string& rp = o_.remove_prefix;
  if (!rp.empty() && key.size() > rp.size() && key.substr(0, rp.size()) == rp) {
    return key.substr(rp.size());
  }
  return key;
}

// Reads the members of the object `under` holds into members_ (views into pad_).
bool Nester::existing_members(std::string_view object_json) {
  members_.clear();
  std::size_t cap = parsers::json_text::fill_padded(pad_, object_json);
  simdjson::ondemand::object obj;
  if (parser_.iterate(pad_.data(), object_json.size(), cap).get(doc_) ||
      doc_.get_object().get(obj)) {
    return false;
  }
  for (auto item : obj) {
    simdjson::ondemand::field f;
    std::string_view key;   // in the parser's buffer until the next document
    if (std::move(item).get(f) || f.unescaped_key().get(key)) return false;
    simdjson::ondemand::value v = f.value();
    simdjson::ondemand::json_type t;
    if (v.type().get(t)) return false;
    std::string_view raw;
    if (t == simdjson::ondemand::json_type::object || t == simdjson::ondemand::json_type::array) {
      if (!parsers::json_text::take_raw(doc_, v, &raw)) return false;
    } else {
      // Scalars: validated by reading them, their text taken as written.
      raw = v.raw_json_token();
      std::string_view sv;
      simdjson::ondemand::number n;
      bool x = false;
      switch (t) {
        case simdjson::ondemand::json_type::string:
          if (v.get_string().get(sv)) return false;
          break;
        case simdjson::ondemand::json_type::number:
          if (v.get_number().get(n)) return false;
          break;
        case simdjson::ondemand::json_type::boolean:
          if (v.get_bool().get(x)) return false;
          break;
        default:
          if (v.is_null().get(x) || !x) return false;
          break;
      }
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\r' ||
                              raw.back() == '\n')) {
        raw.remove_suffix(1);
      }
    }
    members_.emplace_back(key, raw);
  }
  return doc_.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

uint64_t Nester::apply(Batch& b, Event& e, std::string_view under_key) {
  auto& fields = e.fields;
  int under = -1;
  moved_.assign(fields.size(), 0);
  names_.clear();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].key == o_.under) {
      under = static_cast<int>(i);
    } else if (matches(fields[i].key)) {
      moved_[i] = 1;
      names_.emplace_back(member_name(fields[i].key), static_cast<uint32_t>(i));
    }
  }
  if (names_.empty()) return 0;
  uint64_t collisions = 0;
  members_.clear();
  if (under >= 0) {
    const Value& u = fields[static_cast<std::size_t>(under)].value;
    if (u.type != ValueType::kRawJson || !parsers::json_text::is_object(u.s) || !existing_members(u.s)) {
      return 1;   // `under` holds no object: the event stays as it is
    }
  }
  // Of moved fields with one name the later wins.
  std::stable_sort(names_.begin(), names_.end(),
                   [](const auto& a, const auto& c) { return a.first < c.first; });
  text_.assign("{");
  bool first = true;
  auto comma = [&] {
    if (!first) text_.push_back(',');
    first = false;
  };
  for (const auto& [key, raw_value] : members_) {
    if (std::binary_search(names_.begin(), names_.end(), std::make_pair(key, uint32_t{0}),
                           [](const auto& a, const auto& c) { return a.first < c.first; })) {
      ++collisions;
      continue;
    }
    comma();
    json::append_string(text_, key);
    text_.push_back(':');
    text_.append(raw_value);
  }
  // Moved fields in the event's order; of one name only the last (moved_ 2: replaced).
  for (std::size_t i = 0; i + 1 < names_.size(); ++i) {
    if (names_[i + 1].first == names_[i].first) {
      moved_[names_[i].second] = 2;
      ++collisions;
    }
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (moved_[i] != 1) continue;
    comma();
    json::append_string(text_, member_name(fields[i].key));
    text_.push_back(':');
    json::append_value(text_, fields[i].value);
  }
  text_.push_back('}');
  const Value nested = Value::raw_json(b.copy(text_));
  if (under >= 0) {
    fields[static_cast<std::size_t>(under)].value = nested;
  } else {
    fields.push_back(Field{under_key, nested});
    moved_.push_back(0);
  }
  std::size_t out = 0;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (moved_[i]) continue;
    if (out != i) fields[out] = fields[i];
    ++out;
  }
  fields.resize(out, Field{});
  return collisions;
}

}  // namespace logship::plugins::modify
