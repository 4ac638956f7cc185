#include "processors/modify/flatten.h"

#include <algorithm>
#include <cstring>

#include "parsers/common/json_text.h"

namespace logship::plugins::modify {

const config::OptionSchema<FlattenOptions>& FlattenOptions::schema() {
  using S = config::OptionSchema<FlattenOptions>;
  static const auto s =
      S{}.add("fields", &FlattenOptions::fields, "Object fields to flatten (required).")
          .add("separator", &FlattenOptions::separator,
               "Joins a parent's name and a member's name: kubernetes.pod.name (\"_\": "
               "kubernetes_pod_name).")
          .add("max_depth", &FlattenOptions::max_depth,
               "Levels flattened: 1 takes the field's members up only, deeper objects stay JSON "
               "values; 0: every level.",
               config::in_range(0, 1000))
          .add("keep_name", &FlattenOptions::keep_name,
               "New names start with the field's name and the separator (Vector's flatten); "
               "false: with the members' own names (Fluent Bit's nest lift).")
          .add("add_prefix", &FlattenOptions::add_prefix,
               "Put before every new name (Fluent Bit's Add_prefix).");
  return s;
}

void Flattener::apply(Batch& b, Event& e, FlattenCounts* counts) {
  for (const std::string& name : o_.fields) {
    for (std::size_t i = 0; i < e.fields.size(); ++i) {
      if (e.fields[i].key != name) continue;
      flatten_field(b, e, i, counts);
      break;
    }
  }
}

bool Flattener::flatten_field(Batch& b, Event& e, std::size_t index, FlattenCounts* counts) {
  const Value v = e.fields[index].value;
  if (v.type != ValueType::kRawJson || !parsers::json_text::is_object(v.s)) {
    ++counts->not_object;
    return false;
  }
  std::size_t cap = parsers::json_text::fill_padded(pad_, v.s);
  simdjson::ondemand::object obj;
  // keep_name: every new name starts with the field's own.
  path_.assign(o_.keep_name ? e.fields[index].key : std::string_view());
  produced_.clear();
  if (parser_.iterate(pad_.data(), v.s.size(), cap).get(doc_) || doc_.get_object().get(obj) ||
      !walk_object(b, obj, 1) ||
      doc_.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    ++counts->not_object;   // invalid JSON: left exactly as it was
    return false;
  }
  merge(e, index, counts);
  return true;
}

// Walks `obj` at `depth` (1 = the flattened field's own members); path_ holds the parent's name.
bool Flattener::walk_object(Batch& b, simdjson::ondemand::object obj, int depth) {
  const std::size_t parent_len = path_.size();
  for (auto item : obj) {
    simdjson::ondemand::field f;
    std::string_view key;
    if (std::move(item).get(f) || f.unescaped_key().get(key)) return false;
    path_.resize(parent_len);
    if (parent_len != 0) path_ += o_.separator;
    path_ += key;
    simdjson::ondemand::value v = f.value();
    simdjson::ondemand::json_type t;
    if (v.type().get(t)) return false;
    const bool deeper = o_.max_depth == 0 || depth < o_.max_depth;
    if (t == simdjson::ondemand::json_type::object && deeper) {
      simdjson::ondemand::object inner;
      if (v.get_object().get(inner) || !walk_object(b, inner, depth + 1)) return false;
      continue;
    }
    if (!leaf(b, v, t)) return false;
  }
  path_.resize(parent_len);
  return true;
}

// One new field named path_ (with the prefix the options give) holding `v`.
bool Flattener::leaf(Batch& b, simdjson::ondemand::value v, simdjson::ondemand::json_type t) {
  Value out;
  switch (t) {
    case simdjson::ondemand::json_type::string: {
      std::string_view sv;
      if (v.get_string().get(sv)) return false;
      out = Value::string(b.copy(sv));
      break;
    }
    case simdjson::ondemand::json_type::number: {
      simdjson::ondemand::number n;
      if (v.get_number().get(n)) return false;
      switch (n.get_number_type()) {
        case simdjson::ondemand::number_type::signed_integer:
          out = Value::integer(n.get_int64());
          break;
        case simdjson::ondemand::number_type::unsigned_integer:
          out = Value::real(static_cast<double>(n.get_uint64()));
          break;
        default: out = Value::real(n.get_double()); break;
      }
      break;
    }
    case simdjson::ondemand::json_type::boolean: {
      bool x = false;
      if (v.get_bool().get(x)) return false;
      out = Value::boolean(x);
      break;
    }
    case simdjson::ondemand::json_type::null: {
      bool is_null = false;
      if (v.is_null().get(is_null) || !is_null) return false;
      out = Value();
      break;
    }
    case simdjson::ondemand::json_type::object:
    case simdjson::ondemand::json_type::array: {
      std::string_view raw;
      if (!parsers::json_text::take_raw(doc_, v, &raw)) return false;
      out = Value::raw_json(parsers::json_text::keep_raw(b, raw));
      break;
    }
  }
  const std::size_t n = o_.add_prefix.size() + path_.size();
  char* p = b.allocate(n);
  std::memcpy(p, o_.add_prefix.data(), o_.add_prefix.size());
  std::memcpy(p + o_.add_prefix.size(), path_.data(), path_.size());
  produced_.push_back(Field{std::string_view(p, n), out});
  return true;
}

void Flattener::merge(Event& e, std::size_t index, FlattenCounts* counts) {
  // Of members that end with the same name, the later wins.
  order_.resize(produced_.size());
  for (uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
  std::stable_sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
    return produced_[a].key < produced_[b].key;
  });
  dead_.assign(produced_.size(), 0);
  for (std::size_t i = 1; i < order_.size(); ++i) {
    if (produced_[order_[i - 1]].key == produced_[order_[i]].key) {
      dead_[order_[i - 1]] = 1;
      ++counts->collisions;
    }
  }
  e.fields.erase(e.fields.begin() + static_cast<std::ptrdiff_t>(index));
  // An existing field of a new name takes the new value where it stands.
  for (Field& f : e.fields) {
    auto it = std::lower_bound(order_.begin(), order_.end(), f.key, [&](uint32_t a, std::string_view k) {
      return produced_[a].key < k;
    });
    // The last of equal names is the live one.
    auto last = it;
    while (last != order_.end() && produced_[*last].key == f.key) ++last;
    if (last == it) continue;
    const uint32_t live = *(last - 1);
    if (dead_[live]) continue;
    f.value = produced_[live].value;
    dead_[live] = 1;
    ++counts->collisions;
  }
  std::size_t live = 0;
  for (char d : dead_) live += d ? 0 : 1;
  if (e.fields.capacity() < e.fields.size() + live) e.fields.reserve(e.fields.size() + live);
  auto at = e.fields.begin() + static_cast<std::ptrdiff_t>(index);
  for (std::size_t i = 0; i < produced_.size(); ++i) {
    if (dead_[i]) continue;
    at = e.fields.insert(at, produced_[i]) + 1;
  }
}

}  // namespace logship::plugins::modify
