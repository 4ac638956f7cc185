#include "config/option_types.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>

#include "config/substitution.h"

namespace logship::config {
namespace {

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

bool parse_number_unit(std::string_view s, double* num, std::string* unit) {
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return false;
  std::string n(s.substr(0, i));
  char* end = nullptr;
  errno = 0;
  *num = std::strtod(n.c_str(), &end);
  if (errno != 0 || end != n.c_str() + n.size()) return false;
  std::size_t j = i;
  while (j < s.size() && s[j] == ' ') ++j;
  *unit = lower(s.substr(j));
  return true;
}

}  // namespace

bool parse_byte_size(std::string_view s, uint64_t* out) {
  double num;
  std::string unit;
  if (!parse_number_unit(s, &num, &unit)) return false;
  // SI prefixes are powers of 1000 and IEC ones powers of 1024, as both standards say; a bare
  // K/M/G/T is ambiguous (Fluent Bit and Kubernetes read it differently) and is refused.
  double mult;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "kb") mult = 1e3;
  else if (unit == "mb") mult = 1e6;
  else if (unit == "gb") mult = 1e9;
  else if (unit == "tb") mult = 1e12;
  else if (unit == "kib") mult = 1024.0;
  else if (unit == "mib") mult = 1024.0 * 1024;
  else if (unit == "gib") mult = 1024.0 * 1024 * 1024;
  else if (unit == "tib") mult = 1024.0 * 1024 * 1024 * 1024;
  else return false;
  *out = static_cast<uint64_t>(num * mult);
  return true;
}

bool parse_duration(std::string_view s, Millis* out) {
  double num;
  std::string unit;
  if (!parse_number_unit(s, &num, &unit)) return false;
  double ms;
  if (unit == "ms") ms = num;
  else if (unit.empty() || unit == "s") ms = num * 1000;
  else if (unit == "m" || unit == "min") ms = num * 60'000;
  else if (unit == "h") ms = num * 3'600'000;
  else if (unit == "d") ms = num * 86'400'000;
  else return false;
  *out = Millis(static_cast<int64_t>(ms));
  return true;
}

std::string format_byte_size(uint64_t b) {
  static const char* units[] = {"GiB", "MiB", "KiB"};
  static const int shifts[] = {30, 20, 10};
  for (int i = 0; i < 3; ++i) {
    uint64_t m = uint64_t{1} << shifts[i];
    if (b >= m && b % m == 0) return std::to_string(b / m) + units[i];
  }
  return std::to_string(b) + "B";
}

std::string format_duration(Millis d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  if (ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

Status read_scalar(const YAML::Node& n, std::string* out) {
  if (!n.IsScalar()) {
    return Status::invalid(n.IsNull() ? "expected a value, got nothing" : "expected a single value");
  }
  return substitute(n.Scalar(), out);
}

Status OptionTraits<bool>::parse(const YAML::Node& n, bool* out) {
  std::string s;
  LOGSHIP_TRY(read_scalar(n, &s));
  std::string l = lower(s);
  if (l == "true" || l == "yes" || l == "on") { *out = true; return Status::ok(); }
  if (l == "false" || l == "no" || l == "off") { *out = false; return Status::ok(); }
  return Status::invalid("expected true or false, got \"" + n.Scalar() + "\"");
}

Status OptionTraits<int64_t>::parse(const YAML::Node& n, int64_t* out) {
  std::string s;
  LOGSHIP_TRY(read_scalar(n, &s));
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
    return Status::invalid("expected a whole number, got \"" + n.Scalar() + "\"");
  }
  return Status::ok();
}

Status OptionTraits<double>::parse(const YAML::Node& n, double* out) {
  std::string s;
  LOGSHIP_TRY(read_scalar(n, &s));
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) {
    return Status::invalid("expected a number, got \"" + n.Scalar() + "\"");
  }
  return Status::ok();
}

std::string OptionTraits<double>::format(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

Status OptionTraits<ByteSize>::parse(const YAML::Node& n, ByteSize* out) {
  std::string s;
  LOGSHIP_TRY(read_scalar(n, &s));
  if (!parse_byte_size(s, &out->bytes)) {
    double num;
    std::string unit;
    if (parse_number_unit(s, &num, &unit) && unit.size() == 1 &&
        std::string_view("kmgt").find(unit[0]) != std::string_view::npos) {
      const std::string number = s.substr(0, s.find_first_not_of("0123456789."));
      const char prefix = static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0])));
      return Status::invalid("\"" + n.Scalar() + "\" is ambiguous: write " + number + prefix +
                             "iB (powers of 1024) or " + number + prefix + "B (powers of 1000)");
    }
    return Status::invalid(
        "expected a size like 64MiB (KiB/MiB/GiB: powers of 1024; KB/MB/GB: powers of 1000), "
        "got \"" + n.Scalar() + "\"");
  }
  return Status::ok();
}

Status OptionTraits<Millis>::parse(const YAML::Node& n, Millis* out) {
  std::string s;
  LOGSHIP_TRY(read_scalar(n, &s));
  if (!parse_duration(s, out)) {
    return Status::invalid("expected a duration like 5s or 250ms, got \"" + n.Scalar() + "\"");
  }
  return Status::ok();
}

Status OptionTraits<std::vector<std::string>>::parse(const YAML::Node& n,
                                                     std::vector<std::string>* out) {
  out->clear();
  if (n.IsScalar()) {
    std::string s;
    LOGSHIP_TRY(read_scalar(n, &s));
    out->push_back(std::move(s));
    return Status::ok();
  }
  if (!n.IsSequence()) return Status::invalid("expected a list of strings");
  for (const auto& item : n) {
    std::string s;
    LOGSHIP_TRY(read_scalar(item, &s));
    out->push_back(std::move(s));
  }
  return Status::ok();
}

std::string OptionTraits<std::vector<std::string>>::format(const std::vector<std::string>& v) {
  std::string r = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) r += ", ";
    r += v[i];
  }
  return r + "]";
}

Status OptionTraits<std::map<std::string, std::string>>::parse(
    const YAML::Node& n, std::map<std::string, std::string>* out) {
  out->clear();
  if (n.IsNull()) return Status::ok();
  if (!n.IsMap()) return Status::invalid("expected a map of key: value");
  for (const auto& kv : n) {
    std::string v;
    LOGSHIP_TRY(read_scalar(kv.second, &v));
    (*out)[kv.first.Scalar()] = std::move(v);
  }
  return Status::ok();
}

std::string OptionTraits<std::map<std::string, std::string>>::format(
    const std::map<std::string, std::string>& v) {
  std::string r = "{";
  bool first = true;
  for (const auto& [k, val] : v) {
    if (!first) r += ", ";
    first = false;
    r += k + ": " + val;
  }
  return r + "}";
}

}  // namespace logship::config
