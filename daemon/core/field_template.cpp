#include "daemon/core/field_template.h"

#include <ctime>

namespace logship {

void append_safe(std::string* out, std::string_view v) {
  if (v.empty() || v == "." || v == "..") {
    out->append("_");
    return;
  }
  for (char c : v) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    out->push_back(ok ? c : '_');
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
