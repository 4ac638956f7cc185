#include "daemon/core/field_template.h"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace logship {

void append_safe(std::string* out, std::string_view v) {
  if (v.empty()) {
    out->push_back('_');
    return;
  }
  // Over the cap: a prefix plus a hash of the whole value, so two long values that share the
  // prefix still name different files. FNV-1a: fixed, fast, and needs no table.
  const bool capped = v.size() > kMaxSafeValueBytes;
  const std::string_view kept = capped ? v.substr(0, kMaxSafeValueBytes - 17) : v;
  bool leading = true;
  for (char c : kept) {
    // A leading dot would make "..", "." or a hidden file; only dots after another byte stay.
    leading = leading && c == '.';
    bool ok = !leading && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                           c == '-');
    out->push_back(ok ? c : '_');
  }
  if (capped) {
    uint64_t h = 14695981039346656037ull;
    for (char c : v) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ull;
    }
    char hex[18];
    std::snprintf(hex, sizeof hex, "-%016llx", static_cast<unsigned long long>(h));
    out->append(hex, 17);
  }
}

FieldTemplate::FieldTemplate(std::string_view t, Sanitizer sanitize) : sanitize_(sanitize) {
  std::string lit;
  auto flush_lit = [&] {
    if (!lit.empty()) parts_.push_back({Part::kLiteral, std::move(lit)});
    lit.clear();
  };
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '{') {
      std::size_t close = t.find('}', i);
      if (close != std::string_view::npos) {
        flush_lit();
        parts_.push_back({Part::kField, std::string(t.substr(i + 1, close - i - 1))});
        has_fields_ = true;
        i = close;
        continue;
      }
    }
    if (c == '%' && i + 1 < t.size()) {
      if (t[i + 1] == '%') {
        lit.push_back('%');
        ++i;
        continue;
      }
      flush_lit();
      parts_.push_back({Part::kTime, std::string{'%', t[++i]}});
      has_time_ = true;
      continue;
    }
    lit.push_back(c);
  }
  flush_lit();
}

void FieldTemplate::render(const Event& e, const SourceInfo& source, std::string* out) const {
  std::tm tm{};
  bool have_tm = false;
  for (const Part& p : parts_) {
    switch (p.kind) {
      case Part::kLiteral: out->append(p.text); break;
      case Part::kField: {
        if (const Tag* t = source.find(p.text)) {
          sanitize_(out, t->value);
        } else if (const Field* f = e.find(p.text); f && f->value.type == ValueType::kString) {
          sanitize_(out, f->value.s);
        } else if (p.text == "stream") {
          sanitize_(out, stream_name(e.stream));
        } else if (p.text == "input") {
          sanitize_(out, source.input);
        } else {
          out->append("unknown");
        }
        break;
      }
      case Part::kTime: {
        if (!have_tm) {
          int64_t sec = e.time_ns / 1000000000;
          if (e.time_ns < 0 && e.time_ns % 1000000000 != 0) --sec;
          std::time_t t = static_cast<std::time_t>(sec);
          gmtime_r(&t, &tm);
          have_tm = true;
        }
        char buf[64];
        std::size_t n = std::strftime(buf, sizeof buf, p.text.c_str(), &tm);
        out->append(buf, n);
        break;
      }
    }
  }
}

bool FieldTemplate::varies_per_event(const SourceInfo& source) const {
  for (const Part& p : parts_) {
    if (p.kind == Part::kField && p.text != "input" && source.find(p.text) == nullptr) return true;
  }
  return false;
}

}  // namespace logship
