#include "outputs/file/path_template.h"

#include <ctime>

namespace logship::plugins {

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

PathTemplate::PathTemplate(std::string_view t) {
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
      flush_lit();
      std::string fmt = "%";
      fmt.push_back(t[++i]);
      if (fmt == "%%") {
        lit.push_back('%');
        continue;
      }
      parts_.push_back({Part::kTime, fmt});
      has_time_ = true;
      continue;
    }
    lit.push_back(c);
  }
  flush_lit();
}

void PathTemplate::render(const Event& e, const SourceInfo& source, std::string* out) const {
  out->clear();
  std::tm tm{};
  bool have_tm = false;
  for (const Part& p : parts_) {
    switch (p.kind) {
      case Part::kLiteral: out->append(p.text); break;
      case Part::kField: {
        if (const Tag* t = source.find(p.text)) {
          append_safe(out, t->value);
        } else if (const Field* f = e.find(p.text); f && f->value.type == ValueType::kString) {
          append_safe(out, f->value.s);
        } else if (p.text == "stream") {
          append_safe(out, stream_name(e.stream));
        } else if (p.text == "input") {
          append_safe(out, source.input);
        } else {
          out->append("unknown");
        }
        break;
      }
      case Part::kTime: {
        if (!have_tm) {
          std::time_t t = static_cast<std::time_t>(e.time_ns / 1000000000);
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

}  // namespace logship::plugins
