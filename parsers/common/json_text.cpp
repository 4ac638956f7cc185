#include "parsers/common/json_text.h"

#include <algorithm>
#include <cstring>

namespace logship::parsers::json_text {
namespace {

// Consumes a value completely, so every byte of it is validated.
bool walk(simdjson::ondemand::value v) {
  simdjson::ondemand::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object o;
      if (v.get_object().get(o)) return false;
      for (auto item : o) {
        simdjson::ondemand::field f;
        std::string_view k;
        if (std::move(item).get(f) || f.unescaped_key().get(k) || !walk(f.value())) return false;
      }
      return true;
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array a;
      if (v.get_array().get(a)) return false;
      for (auto item : a) {
        simdjson::ondemand::value x;
        if (std::move(item).get(x) || !walk(x)) return false;
      }
      return true;
    }
    case simdjson::ondemand::json_type::string: {
      std::string_view sv;
      return v.get_string().get(sv) == simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::number: {
      simdjson::ondemand::number n;
      return v.get_number().get(n) == simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::boolean: {
      bool b;
      return v.get_bool().get(b) == simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::null: {
      bool n = false;
      return v.is_null().get(n) == simdjson::SUCCESS && n;
    }
  }
  return false;
}

}  // namespace

bool is_object(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  return i < s.size() && s[i] == '{';
}

std::size_t fill_padded(std::vector<char>& buf, std::string_view s) {
  const std::size_t need = s.size() + simdjson::SIMDJSON_PADDING;
  if (buf.size() < need) buf.resize(std::max(need, buf.size() * 2));
  std::memcpy(buf.data(), s.data(), s.size());
  std::memset(buf.data() + s.size(), 0, simdjson::SIMDJSON_PADDING);
  return buf.size();
}

bool take_raw(simdjson::ondemand::document& doc, simdjson::ondemand::value v,
              std::string_view* raw) {
  const char* start = v.raw_json_token().data();
  if (!walk(v)) return false;
  const char* end = nullptr;
  if (doc.current_location().get(end)) return false;
  std::string_view r(start, static_cast<std::size_t>(end - start));
  while (!r.empty() && is_space(r.back())) r.remove_suffix(1);
  *raw = r;
  return true;
}

std::string_view keep_raw(Batch& b, std::string_view raw) {
  if (raw.find_first_of("\r\n") == std::string_view::npos) return b.copy(raw);
  char* dst = b.allocate(raw.size());
  std::size_t len = 0;
  if (simdjson::minify(raw.data(), raw.size(), dst, len) != simdjson::SUCCESS) {
    return b.copy(raw);   // cannot happen for validated JSON; keep it rather than lose it
  }
  return std::string_view(dst, len);
}

}  // namespace logship::parsers::json_text
