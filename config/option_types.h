#pragma once
// Value types options use beyond the built-in ones, and their parsing from YAML scalars.
#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/core/status.h"

namespace logship::config {

struct ByteSize {
  uint64_t bytes = 0;
  constexpr ByteSize() = default;
  constexpr explicit ByteSize(uint64_t b) : bytes(b) {}
  auto operator<=>(const ByteSize&) const = default;
};
constexpr ByteSize operator""_KiB(unsigned long long v) { return ByteSize(v << 10); }
constexpr ByteSize operator""_MiB(unsigned long long v) { return ByteSize(v << 20); }
constexpr ByteSize operator""_GiB(unsigned long long v) { return ByteSize(v << 30); }

using Millis = std::chrono::milliseconds;

// "64MiB", "10MB", "512k", "1048576" -> bytes. False on anything else.
bool parse_byte_size(std::string_view s, uint64_t* out);
// "250ms", "5s", "2m", "1h", "7d", plain number = seconds.
bool parse_duration(std::string_view s, Millis* out);
std::string format_byte_size(uint64_t b);
std::string format_duration(Millis d);

// Reads a scalar with ${...} substitution applied. Invalid when not a scalar or the substitution
// fails.
Status read_scalar(const YAML::Node& n, std::string* out);

template <class T>
struct OptionTraits;

template <>
struct OptionTraits<bool> {
  static std::string type_name() { return "bool"; }
  static Status parse(const YAML::Node& n, bool* out);
  static std::string format(bool v) { return v ? "true" : "false"; }
};
template <>
struct OptionTraits<int64_t> {
  static std::string type_name() { return "int"; }
  static Status parse(const YAML::Node& n, int64_t* out);
  static std::string format(int64_t v) { return std::to_string(v); }
};
template <>
struct OptionTraits<double> {
  static std::string type_name() { return "number"; }
  static Status parse(const YAML::Node& n, double* out);
  static std::string format(double v);
};
template <>
struct OptionTraits<std::string> {
  static std::string type_name() { return "string"; }
  static Status parse(const YAML::Node& n, std::string* out) {
    return read_scalar(n, out);
  }
  static std::string format(const std::string& v) { return v.empty() ? "\"\"" : v; }
};
template <>
struct OptionTraits<ByteSize> {
  static std::string type_name() { return "size"; }
  static Status parse(const YAML::Node& n, ByteSize* out);
  static std::string format(ByteSize v) { return format_byte_size(v.bytes); }
};
template <>
struct OptionTraits<Millis> {
  static std::string type_name() { return "duration"; }
  static Status parse(const YAML::Node& n, Millis* out);
  static std::string format(Millis v) { return format_duration(v); }
};
template <>
struct OptionTraits<std::vector<std::string>> {
  static std::string type_name() { return "list of strings"; }
  static Status parse(const YAML::Node& n, std::vector<std::string>* out);
  static std::string format(const std::vector<std::string>& v);
};
template <>
struct OptionTraits<std::map<std::string, std::string>> {
  static std::string type_name() { return "map of strings"; }
  static Status parse(const YAML::Node& n, std::map<std::string, std::string>* out);
  static std::string format(const std::map<std::string, std::string>& v);
};

}  // namespace logship::config
