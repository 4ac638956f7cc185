// The modify processor: shapes event fields. Operations run in a fixed order, whatever their
// order in the YAML: flatten, rename, copy, set, add, convert, lowercase, uppercase, truncate,
// remove, nest (flatten first so the others see its fields, nest last so it gathers theirs).
// `message` names the event's message in every operation that reads or writes a value.
#include <charconv>
#include <cmath>

#include "daemon/core/field_template.h"
#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/component_metrics.h"
#include "parsers/common/bind.h"
#include "parsers/common/common.h"
#include "processors/modify/flatten.h"
#include "processors/modify/nest.h"

namespace logship::plugins {
namespace {

using StringMap = std::map<std::string, std::string>;

struct ModifyOptions {
  StringMap set, add, rename, copy, convert, truncate;
  std::vector<std::string> remove, lowercase, uppercase;
  std::string truncate_marker = "...";
  modify::NestOptions nest;
  modify::FlattenOptions flatten;

  static const config::OptionSchema<ModifyOptions>& schema() {
    using S = config::OptionSchema<ModifyOptions>;
    static const auto s =
        S{}.add("rename", &ModifyOptions::rename, "Fields to rename: from -> to.")
            .add("copy", &ModifyOptions::copy, "Fields to copy: from -> to (replacing 'to').")
            .add("set", &ModifyOptions::set,
                 "Fields to set: name -> template. {name} takes a field, source tag, stream or "
                 "input; %Y..%S the event time; %% a literal '%'.")
            .add("add", &ModifyOptions::add, "Like set, only where the field is missing.")
            .add("convert", &ModifyOptions::convert,
                 "Type conversions: field -> int | float | bool | string. A value that does not "
                 "convert stays as it is and is counted.")
            .add("lowercase", &ModifyOptions::lowercase, "String fields to lower-case (ASCII).")
            .add("uppercase", &ModifyOptions::uppercase, "String fields to upper-case (ASCII).")
            .add("truncate", &ModifyOptions::truncate,
                 "String fields to cut: field -> max bytes (cut at a UTF-8 boundary, then "
                 "truncate_marker appended).")
            .add("truncate_marker", &ModifyOptions::truncate_marker,
                 "Appended to a value truncate cut.")
            .add("remove", &ModifyOptions::remove, "Fields to remove.")
            .add("flatten", &ModifyOptions::flatten,
                 "Object fields made top-level fields: {fields: [kubernetes], separator: \".\", "
                 "max_depth: 0, keep_name: true, add_prefix: \"\"}.")
            .add("nest", &ModifyOptions::nest,
                 "Fields moved under one object field: {under: http, fields: [status, \"http_*\"], "
                 "remove_prefix: \"http_\"}.");
    return s;
  }
};

enum class ConvertTo : uint8_t { kInt, kFloat, kBool, kString };

struct Template {
  std::string field;
  FieldTemplate tmpl;
  std::string literal;   // the value when it has no {name} or % conversion: no rendering
  bool is_literal = false;
};

void append_raw(std::string* out, std::string_view v) { out->append(v); }

struct ModifySetup {
  std::vector<std::pair<std::string, std::string>> rename, copy;
  std::vector<Template> set, add;
  std::vector<std::pair<std::string, ConvertTo>> convert;
  std::vector<std::pair<std::string, std::size_t>> truncate;
  std::vector<std::string> remove, lowercase, uppercase;
  std::string marker;
  modify::NestOptions nest;
  modify::FlattenOptions flatten;
  bool nests = false, flattens = false;
  std::atomic<uint64_t>* convert_failed = nullptr;
  std::atomic<uint64_t>* collisions = nullptr;
  std::atomic<uint64_t>* not_object = nullptr;

  static Result<std::shared_ptr<const ModifySetup>> build(const ModifyOptions& o,
                                                          const PluginContext& ctx) {
    auto s = std::make_shared<ModifySetup>();
    for (const auto& [from, to] : o.rename) {
      if (from == "message" || to == "message") {
        return Status::invalid("rename: the message cannot be renamed; copy it instead");
      }
      s->rename.emplace_back(from, to);
    }
    for (const auto& kv : o.copy) s->copy.emplace_back(kv);
    auto templates = [](const StringMap& m, std::vector<Template>* out) {
      for (const auto& [field, text] : m) {
        Template t{field, FieldTemplate(text, append_raw), text,
                   text.find('{') == std::string::npos && text.find('%') == std::string::npos};
        out->push_back(std::move(t));
      }
    };
    templates(o.set, &s->set);
    templates(o.add, &s->add);
    for (const auto& [field, type] : o.convert) {
      ConvertTo t;
      if (type == "int" || type == "integer") t = ConvertTo::kInt;
      else if (type == "float" || type == "double" || type == "number") t = ConvertTo::kFloat;
      else if (type == "bool" || type == "boolean") t = ConvertTo::kBool;
      else if (type == "string") t = ConvertTo::kString;
      else {
        return Status::invalid(
            "convert." + field + ": expected int, float, bool or string, got \"" + type + "\"");
      }
      if (field == "message" && t != ConvertTo::kString) {
        return Status::invalid("convert.message: the message is always a string");
      }
      s->convert.emplace_back(field, t);
    }
    for (const auto& [field, max] : o.truncate) {
      uint64_t n = 0;
      auto r = std::from_chars(max.data(), max.data() + max.size(), n);
      if (r.ec != std::errc() || r.ptr != max.data() + max.size() || n == 0) {
        return Status::invalid(
            "truncate." + field + ": expected a positive number of bytes, got \"" + max + "\"");
      }
      s->truncate.emplace_back(field, static_cast<std::size_t>(n));
    }
    for (const auto& f : o.remove) {
      if (f == "message") {
        return Status::invalid("remove: the message cannot be removed (set it to \"\" instead)");
      }
    }
    s->remove = o.remove;
    s->lowercase = o.lowercase;
    s->uppercase = o.uppercase;
    s->marker = o.truncate_marker;
    s->nest = o.nest;
    s->nests = !o.nest.under.empty() || !o.nest.fields.empty();
    if (s->nests && (o.nest.under.empty() || o.nest.fields.empty())) {
      return Status::invalid("nest: give both under and fields");
    }
    if (s->nests && o.nest.under == "message") {
      return Status::invalid("nest.under: the message is a string, not an object; name a field");
    }
    s->flatten = o.flatten;
    s->flattens = !o.flatten.fields.empty();
    if (!s->flattens && (o.flatten.separator != "." || o.flatten.max_depth != 0 ||
                         !o.flatten.keep_name || !o.flatten.add_prefix.empty())) {
      return Status::invalid("flatten: give the fields to flatten");
    }
    if (s->rename.empty() && s->copy.empty() && s->set.empty() && s->add.empty() &&
        s->convert.empty() && s->truncate.empty() && s->remove.empty() && s->lowercase.empty() &&
        s->uppercase.empty() && !s->nests && !s->flattens) {
      return Status::invalid(
          "no operation: give set, add, rename, copy, remove, convert, lowercase, uppercase, "
          "truncate, flatten or nest");
    }
    const auto metrics = ComponentMetrics(ctx);
    s->collisions = &metrics.counter(
        "logship_modify_collisions_total",
        "Fields flatten or nest replaced by another of the same name, and nests skipped because "
        "the target held no object");
    s->not_object = &metrics.counter(
        "logship_modify_not_object_total",
        "Fields flatten left as they were because they held no JSON object");
    s->convert_failed = &metrics.counter(
        "logship_modify_convert_failed_total",
        "Values convert left as they were because they did not fit the type");
    return std::shared_ptr<const ModifySetup>(std::move(s));
  }
};

bool is_message(std::string_view f) { return f == "message"; }

std::optional<Value> get(const Event& e, std::string_view key) {
  if (is_message(key)) return Value::string(e.message);
  if (const Field* f = e.find(key)) return f->value;
  return std::nullopt;
}

// Keys and values written into events live in the batch arena: a batch may outlive the
// processor (a reload while it waits in an output queue).
void put(Batch& b, Event& e, std::string_view arena_key, Value v) {
  if (is_message(arena_key)) {
    if (v.type == ValueType::kString || v.type == ValueType::kRawJson) {
      e.message = v.s;
    } else {
      std::string text;
      json::append_value(text, v);
      e.message = b.copy(text);
    }
    return;
  }
  e.set(arena_key, v);
}

void erase(Event& e, std::string_view key) {
  for (auto it = e.fields.begin(); it != e.fields.end(); ++it) {
    if (it->key == key) {
      e.fields.erase(it);
      return;
    }
  }
}

class ModifyProcessor final : public Processor {
 public:
  explicit ModifyProcessor(std::shared_ptr<const ModifySetup> setup)
      : s_(std::move(setup)), nester_(s_->nest), flattener_(s_->flatten) {}

  void process(Batch& batch) override {
    if (batch.size() == 0) return;
    prepare(batch);
    uint64_t failed = 0, collisions = 0;
    modify::FlattenCounts flattened;
    const std::size_t grows = s_->set.size() + s_->add.size() + s_->copy.size();
    const std::string_view under = s_->nests ? batch.copy(s_->nest.under) : std::string_view();
    for (Event& e : batch.events()) {
      if (s_->flattens) flattener_.apply(batch, e, &flattened);
      // One allocation for the fields this event may gain, not one per doubling.
      if (e.fields.capacity() < e.fields.size() + grows) e.fields.reserve(e.fields.size() + grows);
      for (std::size_t i = 0; i < s_->rename.size(); ++i) {
        const std::string& from = s_->rename[i].first;
        for (Field& f : e.fields) {
          if (f.key == from) {
            erase(e, rename_to_[i]);
            for (Field& g : e.fields) {
              if (g.key == from) g.key = rename_to_[i];
            }
            break;
          }
        }
      }
      for (std::size_t i = 0; i < s_->copy.size(); ++i) {
        if (auto v = get(e, s_->copy[i].first)) write_cached(batch, e, copy_to_[i], *v);
      }
      for (std::size_t i = 0; i < s_->set.size(); ++i) {
        write_cached(batch, e, set_keys_[i], value_of(batch, e, s_->set[i], set_values_[i]));
      }
      for (std::size_t i = 0; i < s_->add.size(); ++i) {
        // The message is always there; a missing field is appended without a second scan.
        if (is_message(add_keys_[i]) || e.find(add_keys_[i]) != nullptr) continue;
        e.fields.push_back(Field{add_keys_[i], value_of(batch, e, s_->add[i], add_values_[i])});
      }
      for (const auto& [field, to] : s_->convert) {
        auto v = get(e, field);
        if (!v) continue;
        Value out;
        if (!convert(batch, *v, to, &out)) {
          ++failed;
          continue;
        }
        write(batch, e, field, out);
      }
      for (const auto& f : s_->lowercase) change_case(batch, e, f, false);
      for (const auto& f : s_->uppercase) change_case(batch, e, f, true);
      for (const auto& [field, max] : s_->truncate) cut(batch, e, field, max);
      for (const auto& f : s_->remove) erase(e, f);
      if (s_->nests) collisions += nester_.apply(batch, e, under);
    }
    if (failed != 0) s_->convert_failed->fetch_add(failed, std::memory_order_relaxed);
    collisions += flattened.collisions;
    if (collisions != 0) s_->collisions->fetch_add(collisions, std::memory_order_relaxed);
    if (flattened.not_object != 0) {
      s_->not_object->fetch_add(flattened.not_object, std::memory_order_relaxed);
    }
  }

 private:
  // Writes `name`: an existing field keeps its key, a new one gets its key copied into the arena.
  static void write(Batch& b, Event& e, const std::string& name, Value v) {
    if (!is_message(name)) {
      for (Field& f : e.fields) {
        if (f.key == name) {
          f.value = v;
          return;
        }
      }
      e.fields.push_back(Field{b.copy(name), v});
      return;
    }
    put(b, e, name, v);
  }

  // Keys, targets and literal values are copied into each batch once, not once per event.
  void prepare(Batch& b) {
    auto keys = [&](const std::vector<Template>& ts, std::vector<std::string_view>* k,
                    std::vector<std::string_view>* v) {
      k->clear();
      v->clear();
      for (const Template& t : ts) {
        k->push_back(is_message(t.field) ? std::string_view("message") : b.copy(t.field));
        v->push_back(t.is_literal ? b.copy(t.literal) : std::string_view());
      }
    };
    keys(s_->set, &set_keys_, &set_values_);
    keys(s_->add, &add_keys_, &add_values_);
    rename_to_.clear();
    for (const auto& r : s_->rename) rename_to_.push_back(b.copy(r.second));
    copy_to_.clear();
    for (const auto& c : s_->copy) {
      copy_to_.push_back(is_message(c.second) ? std::string_view("message") : b.copy(c.second));
    }
  }

  static void write_cached(Batch& b, Event& e, std::string_view arena_key, Value v) {
    if (is_message(arena_key)) {
      put(b, e, arena_key, v);
      return;
    }
    e.set(arena_key, v);
  }

  Value value_of(Batch& b, const Event& e, const Template& t, std::string_view literal) {
    if (t.is_literal) return Value::string(literal);
    return render(b, e, t);
  }

  Value render(Batch& b, const Event& e, const Template& t) {
    buf_.clear();
    t.tmpl.render(e, b.source(), &buf_);
    return Value::string(b.copy(buf_));
  }

  static bool convert(Batch& b, const Value& v, ConvertTo to, Value* out) {
    switch (to) {
      case ConvertTo::kString: {
        if (v.type == ValueType::kString) {
          *out = v;
          return true;
        }
        std::string text;
        json::append_value(text, v);
        *out = Value::string(b.copy(text));
        return true;
      }
      case ConvertTo::kInt:
        if (v.type == ValueType::kInt) { *out = v; return true; }
        if (v.type == ValueType::kBool) { *out = Value::integer(v.b ? 1 : 0); return true; }
        if (v.type == ValueType::kDouble) {
          if (!std::isfinite(v.d) || std::fabs(v.d) > 9.2e18) return false;
          *out = Value::integer(static_cast<int64_t>(v.d));
          return true;
        }
        if (v.type == ValueType::kString) {
          return parsers::convert_text(v.s, parsers::FieldType::kInt, out);
        }
        return false;
      case ConvertTo::kFloat:
        if (v.type == ValueType::kDouble) { *out = v; return true; }
        if (v.type == ValueType::kInt) { *out = Value::real(static_cast<double>(v.i)); return true; }
        if (v.type == ValueType::kString) {
          return parsers::convert_text(v.s, parsers::FieldType::kDouble, out);
        }
        return false;
      case ConvertTo::kBool:
        if (v.type == ValueType::kBool) { *out = v; return true; }
        if (v.type == ValueType::kInt) { *out = Value::boolean(v.i != 0); return true; }
        if (v.type == ValueType::kString) {
          return parsers::convert_text(v.s, parsers::FieldType::kBool, out);
        }
        return false;
    }
    return false;
  }

  static void change_case(Batch& b, Event& e, const std::string& field, bool upper) {
    auto v = get(e, field);
    if (!v || v->type != ValueType::kString || v->s.empty()) return;
    char* p = b.allocate(v->s.size());
    for (std::size_t i = 0; i < v->s.size(); ++i) {
      char c = v->s[i];
      if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      p[i] = c;
    }
    write(b, e, field, Value::string(std::string_view(p, v->s.size())));
  }

  void cut(Batch& b, Event& e, const std::string& field, std::size_t max) {
    auto v = get(e, field);
    if (!v || v->type != ValueType::kString || v->s.size() <= max) return;
    std::size_t n = max;
    // Back up to the start of a UTF-8 sequence so the cut never splits a character.
    while (n > 0 && (static_cast<unsigned char>(v->s[n]) & 0xC0) == 0x80) --n;
    char* p = b.allocate(n + s_->marker.size());
    std::copy(v->s.data(), v->s.data() + n, p);
    std::copy(s_->marker.begin(), s_->marker.end(), p + n);
    write(b, e, field, Value::string(std::string_view(p, n + s_->marker.size())));
  }

  std::shared_ptr<const ModifySetup> s_;
  modify::Nester nester_;
  modify::Flattener flattener_;
  std::string buf_;
  std::vector<std::string_view> set_keys_, set_values_, add_keys_, add_values_, rename_to_,
      copy_to_;
};

}  // namespace

const PluginInfo& modify_processor() {
  static const PluginInfo info{
      PluginKind::kProcessor, "modify",
      "Sets, adds, renames, copies, removes, converts, re-cases, truncates, flattens and nests "
      "fields.",
      &schema_of<ModifyOptions>, nullptr,
      &parsers::bind_shared<ModifyOptions, ModifySetup, ModifyProcessor>};
  return info;
}

}  // namespace logship::plugins
