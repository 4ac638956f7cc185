#pragma once
// Typed, self-documenting options. A plugin declares each option once (name, member, doc,
// optional check, required); the same table validates YAML, fills the struct, reports unknown
// keys with the nearest valid name and prints `logship plugins describe`.
#include <concepts>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/errors.h"
#include "config/option_types.h"
#include "config/peer_spellings.h"
#include "config/substitution.h"
#include "config/suggest.h"

namespace logship::config {

struct OptionDoc {
  std::string name;
  std::string type;
  std::string default_value;
  std::string doc;
  bool required = false;
  bool secret = false;   // by name (is_secret_option_name): never echoed, no ${ENV} by default
};

// A constraint on a value: an invalid Status says why not.
template <class V>
struct Check {
  std::function<Status(const V&)> fn;
  std::string describe;   // appended to the type in docs, e.g. "one of: json|raw"
};

inline Check<std::string> one_of(std::vector<std::string> allowed) {
  std::string d = "one of: ";
  for (std::size_t i = 0; i < allowed.size(); ++i) d += (i ? "|" : "") + allowed[i];
  return {[allowed](const std::string& v) -> Status {
            for (const auto& a : allowed) {
              if (a == v) return Status::ok();
            }
            std::string msg = "expected one of ";
            for (std::size_t i = 0; i < allowed.size(); ++i) {
              msg += (i ? ", " : "") + allowed[i];
            }
            return Status::invalid(msg + ", got \"" + v + "\"" + did_you_mean(v, allowed));
          },
          d};
}

template <class V>
Check<V> at_least(V min, std::string shown) {
  return {[min, shown](const V& v) -> Status {
            return v < min ? Status::invalid("must be at least " + shown) : Status::ok();
          },
          ">= " + shown};
}

inline Check<int64_t> in_range(int64_t lo, int64_t hi) {
  return {[lo, hi](const int64_t& v) -> Status {
            return (v < lo || v > hi) ? Status::invalid("must be between " + std::to_string(lo) +
                                                        " and " + std::to_string(hi))
                                      : Status::ok();
          },
          std::to_string(lo) + ".." + std::to_string(hi)};
}

class SchemaBase {
 public:
  virtual ~SchemaBase() = default;
  virtual std::vector<OptionDoc> describe() const = 0;
};

template <class Opts>
class OptionSchema final : public SchemaBase {
 public:
  template <class V>
  OptionSchema& add(std::string name, V Opts::*member, std::string doc, Check<V> check = {},
                    bool required = false) {
    Entry e;
    e.doc.name = name;
    e.doc.type = OptionTraits<V>::type_name() + (check.describe.empty() ? "" : " (" + check.describe + ")");
    e.doc.default_value = required ? "" : OptionTraits<V>::format(Opts{}.*member);
    e.doc.doc = std::move(doc);
    e.doc.required = required;
    e.doc.secret = is_secret_option_name(e.doc.name);
    e.bind = [member, check](const YAML::Node& n, Opts& o) -> Status {
      V v{};
      LOGSHIP_TRY(OptionTraits<V>::parse(n, &v));
      if (check.fn) LOGSHIP_TRY(check.fn(v));
      o.*member = std::move(v);
      return Status::ok();
    };
    entries_.push_back(std::move(e));
    return *this;
  }
  template <class V>
  OptionSchema& required(std::string name, V Opts::*member, std::string doc, Check<V> check = {}) {
    return add(std::move(name), member, std::move(doc), std::move(check), true);
  }

  // Fills `out` from a YAML map. Keys in `ignore` (e.g. "type") are skipped. Every problem is
  // added to `errors`; returns true when there was none.
  bool bind(const YAML::Node& node, Opts& out, Errors& errors, const std::string& context,
            const std::set<std::string>& ignore = {"type"}) const {
    std::size_t before = errors.all().size();
    if (node && !node.IsNull() && !node.IsMap()) {
      errors.add(node.Mark(), context + ": expected a map of options");
      return false;
    }
    std::set<std::string> seen;
    if (node && node.IsMap()) {
      for (const auto& kv : node) {
        const std::string key = kv.first.Scalar();
        if (ignore.count(key)) continue;
        const Entry* e = find(key);
        if (e == nullptr) {
          std::string hint = did_you_mean(key, names());
          if (hint.empty()) hint = peer_spelling_hint(Spelling::kOption, key);
          errors.add(kv.first.Mark(), context + ": unknown option '" + key + "'" + hint);
          continue;
        }
        if (!seen.insert(key).second) {
          errors.add(kv.first.Mark(), context + ": option '" + key + "' is given twice");
          continue;
        }
        SecretOptionScope secret_scope(e->doc.secret);
        if (Status st = e->bind(kv.second, out); !st.is_ok()) {
          errors.add(kv.second.Mark(), context + ": '" + key + "': " + st.message());
        }
      }
    }
    for (const auto& e : entries_) {
      if (e.doc.required && !seen.count(e.doc.name)) {
        errors.add(node ? node.Mark() : YAML::Mark::null_mark(),
                   context + ": missing required option '" + e.doc.name + "'");
      }
    }
    return errors.all().size() == before;
  }

  std::vector<OptionDoc> describe() const override {
    std::vector<OptionDoc> r;
    for (const auto& e : entries_) r.push_back(e.doc);
    return r;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> r;
    for (const auto& e : entries_) r.push_back(e.doc.name);
    return r;
  }

 private:
  struct Entry {
    OptionDoc doc;
    std::function<Status(const YAML::Node&, Opts&)> bind;
  };
  const Entry* find(const std::string& k) const {
    for (const auto& e : entries_) {
      if (e.doc.name == k) return &e;
    }
    return nullptr;
  }
  std::vector<Entry> entries_;
};

// An option whose value is a map of options of its own (e.g. `labels: {include: [...]}`): the
// struct declares them in its own schema, which validates, fills and describes them.
template <class T>
concept NestedOptions = requires {
  { T::schema() } -> std::convertible_to<const OptionSchema<T>&>;
};

template <NestedOptions T>
struct OptionTraits<T> {
  static std::string type_name() { return "map"; }
  static Status parse(const YAML::Node& n, T* out) {
    Errors errors;
    if (T::schema().bind(n, *out, errors, "", {})) return Status::ok();
    std::string err;
    for (const ConfigError& e : errors.all()) {
      std::string m = e.message.rfind(": ", 0) == 0 ? e.message.substr(2) : e.message;
      err += (err.empty() ? "" : "; ") + m;
    }
    return Status::invalid(err);
  }
  // The defaults as a YAML flow map, e.g. {include: [], exclude: []}.
  static std::string format(const T&) {
    std::string r = "{";
    for (const OptionDoc& d : T::schema().describe()) {
      r += (r.size() > 1 ? ", " : "") + d.name + ": " + d.default_value;
    }
    return r + "}";
  }
};

}  // namespace logship::config
