#pragma once
// Options whose value is one of a few names, held as a C++ enum. The enum's namespace declares
// its names once, next to the enum:
//   enum class Sync { kNone, kBatch };
//   constexpr config::EnumNames<Sync, 2> enum_names(Sync) {
//     return {{{"none", Sync::kNone}, {"batch", Sync::kBatch}}};
//   }
// The option schema then validates against those names (with a "did you mean"), `plugins
// describe` prints them, and plugins switch on the enum: a misspelt value is a compile error,
// not a string comparison that silently takes the default branch.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/option_types.h"
#include "config/suggest.h"

namespace logship::config {

template <class E, std::size_t N>
using EnumNames = std::array<std::pair<std::string_view, E>, N>;

// An enum with enum_names(E) found by argument-dependent lookup.
template <class E>
concept NamedEnum = std::is_enum_v<E> && requires(E e) { enum_names(e); };

template <NamedEnum E>
constexpr std::string_view enum_name(E v) {
  for (const auto& [name, e] : enum_names(E{})) {
    if (e == v) return name;
  }
  return "?";
}

// False when `s` is none of the names.
template <NamedEnum E>
constexpr bool parse_enum(std::string_view s, E* out) {
  for (const auto& [name, e] : enum_names(E{})) {
    if (name == s) {
      *out = e;
      return true;
    }
  }
  return false;
}

template <NamedEnum E>
std::vector<std::string> enum_name_list() {
  std::vector<std::string> r;
  for (const auto& [name, e] : enum_names(E{})) r.emplace_back(name);
  return r;
}

template <NamedEnum E>
struct OptionTraits<E> {
  static std::string type_name() {
    std::string t = "string (one of: ";
    const auto names = enum_name_list<E>();
    for (std::size_t i = 0; i < names.size(); ++i) t += (i ? "|" : "") + names[i];
    return t + ")";
  }
  static Status parse(const YAML::Node& n, E* out) {
    std::string s;
    LOGSHIP_TRY(read_scalar(n, &s));
    if (parse_enum(s, out)) return Status::ok();
    const auto names = enum_name_list<E>();
    std::string msg = "expected one of ";
    for (std::size_t i = 0; i < names.size(); ++i) msg += (i ? ", " : "") + names[i];
    return Status::invalid(msg + ", got \"" + s + "\"" + did_you_mean(s, names));
  }
  static std::string format(E v) { return std::string(enum_name(v)); }
};

}  // namespace logship::config
