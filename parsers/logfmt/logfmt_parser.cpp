// `logfmt` processor: key=value pairs (values bare or "quoted" with Go-style escapes) become
// event fields; a bare key is `true`. A line is parsed completely before the event changes, so a
// malformed line stays exactly as it was (marked and counted).
#include <algorithm>
#include <map>

#include "daemon/registry/plugin.h"
#include "daemon/runtime/component_metrics.h"
#include "parsers/common/bind.h"
#include "parsers/common/common.h"
#include "parsers/common/parser_options.h"

namespace logship::plugins {
namespace {

using parsers::FieldType;
using parsers::ParserStats;

struct LogfmtOptions {
  std::string field;
  bool keep_original = false;
  std::vector<std::string> message_key = {"msg", "message"};
  std::map<std::string, std::string> types;
  bool auto_types = false;
  std::string when_label;

  static const config::OptionSchema<LogfmtOptions>& schema() {
    using S = config::OptionSchema<LogfmtOptions>;
    static const auto s = [] {
      S s;
      parsers::add_field_option(s, &LogfmtOptions::field);
      parsers::add_keep_original_option(s, &LogfmtOptions::keep_original, "the message_key value",
                                        parsers::kKeepOriginalSkipsMessageKey);
      parsers::add_message_key_option(s, &LogfmtOptions::message_key);
      s.add("types", &LogfmtOptions::types,
            "Key types: {status: int, took: double, ok: bool}; a value that does not convert "
            "stays a string.")
          .add("auto_types", &LogfmtOptions::auto_types,
               "Keys without a type become int, double or bool when their bare value looks so.");
      parsers::add_when_label_option(s, &LogfmtOptions::when_label, "logship.parser=logfmt");
      return s;
    }();
    return s;
  }
};

struct LogfmtSetup {
  LogfmtOptions o;
  std::vector<std::pair<std::string, FieldType>> types;
  parsers::LabelCondition when;
  mutable ParserStats stats;

  LogfmtSetup(const LogfmtOptions& opts, const PluginContext& ctx)
      : o(opts), stats("logship_logfmt_parser", ctx) {}

  static Result<std::shared_ptr<const LogfmtSetup>> build(const LogfmtOptions& o,
                                                          const PluginContext& ctx) {
    auto s = std::make_shared<LogfmtSetup>(o, ctx);
    if (Status st = s->when.parse(o.when_label); !st.is_ok()) {
      return Status::invalid("'when_label': " + st.message());
    }
    for (const auto& [k, v] : o.types) {
      FieldType t;
      if (!parsers::parse_field_type(v, &t)) {
        return Status::invalid("'types': unknown type \"" + v + "\" for " + k);
      }
      s->types.emplace_back(k, t);
    }
    return std::shared_ptr<const LogfmtSetup>(std::move(s));
  }
};

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void put_utf8(char*& w, uint32_t cp) {
  if (cp < 0x80) {
    *w++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *w++ = static_cast<char>(0xC0 | (cp >> 6));
    *w++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *w++ = static_cast<char>(0xE0 | (cp >> 12));
    *w++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *w++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *w++ = static_cast<char>(0xF0 | (cp >> 18));
    *w++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *w++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *w++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class LogfmtParser final : public Processor {
 public:
  explicit LogfmtParser(std::shared_ptr<const LogfmtSetup> setup)
      : setup_(std::move(setup)), o_(setup_->o), stats_(setup_->stats) {}

  void process(Batch& batch) override {
    if (!gate_.get(batch, [&](const SourceInfo& s) { return setup_->when.matches(s); })) {
      stats_.skipped->fetch_add(batch.size(), std::memory_order_relaxed);
      return;
    }
    uint64_t parsed = 0, skipped = 0;
    for (Event& e : batch.events()) {
      std::string_view text;
      if (!parsers::source_text(e, o_.field, &text)) {
        ++skipped;
        continue;
      }
      const char* why = parse(batch, text);
      if (why != nullptr) {
        parsers::mark_failure(e, why, stats_);
        continue;
      }
      commit(e);
      ++parsed;
    }
    stats_.parsed->fetch_add(parsed, std::memory_order_relaxed);
    if (skipped) stats_.skipped->fetch_add(skipped, std::memory_order_relaxed);
  }

 private:
  struct Pair {
    std::string_view key;
    std::string_view value;
    bool bare_key = false;   // no '=' at all
    bool quoted = false;
  };

  // Fills pairs_; returns null or why the text is not logfmt (static text).
  const char* parse(Batch& batch, std::string_view t) {
    pairs_.clear();
    std::size_t i = 0, n = t.size();
    bool any_value = false;
    while (true) {
      while (i < n && is_space(t[i])) ++i;
      if (i == n) break;
      std::size_t k = i;
      while (i < n && !is_space(t[i]) && t[i] != '=' && t[i] != '"') ++i;
      if (i == k) return t[i] == '"' ? "quote in key" : "empty key";
      Pair p;
      p.key = t.substr(k, i - k);
      if (i == n || is_space(t[i])) {
        p.bare_key = true;
        pairs_.push_back(p);
        continue;
      }
      if (t[i] == '"') return "quote in key";
      ++i;   // '='
      any_value = true;
      if (i < n && t[i] == '"') {
        ++i;
        std::size_t start = i;
        bool escaped = false;
        while (i < n && t[i] != '"') {
          if (t[i] == '\\') {
            escaped = true;
            if (++i == n) break;
          }
          ++i;
        }
        if (i >= n) return "unterminated quoted value";
        std::string_view raw = t.substr(start, i - start);
        ++i;   // closing quote
        if (i < n && !is_space(t[i])) return "garbage after quoted value";
        p.quoted = true;
        if (!escaped) {
          p.value = raw;
        } else if (!unescape(batch, raw, &p.value)) {
          return "bad escape in quoted value";
        }
      } else {
        std::size_t start = i;
        while (i < n && !is_space(t[i])) {
          if (t[i] == '"') return "quote in bare value";
          ++i;
        }
        p.value = t.substr(start, i - start);
      }
      pairs_.push_back(p);
    }
    if (!any_value) return "no key=value pair";
    return nullptr;
  }

  static bool unescape(Batch& batch, std::string_view raw, std::string_view* out) {
    char* dst = batch.allocate(raw.size());
    char* w = dst;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (c != '\\') {
        *w++ = c;
        continue;
      }
      if (++i == raw.size()) return false;
      switch (raw[i]) {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case 'n': *w++ = '\n'; break;
        case 't': *w++ = '\t'; break;
        case 'r': *w++ = '\r'; break;
        case 'u': {
          if (i + 4 >= raw.size()) return false;
          uint32_t cp = 0;
          for (int d = 1; d <= 4; ++d) {
            int h = hex_digit(raw[i + d]);
            if (h < 0) return false;
            cp = cp * 16 + static_cast<uint32_t>(h);
          }
          i += 4;
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;   // lone surrogates are not text
          put_utf8(w, cp);   // at most 3 bytes for 6 input bytes: fits
          break;
        }
        default: return false;
      }
    }
    *out = std::string_view(dst, static_cast<std::size_t>(w - dst));
    return true;
  }

  FieldType type_of(std::string_view key) const {
    for (const auto& [k, t] : setup_->types) {
      if (k == key) return t;
    }
    return o_.auto_types ? FieldType::kAuto : FieldType::kString;
  }

  void commit(Event& e) {
    const bool use_message_key = !(o_.keep_original && parsers::is_message(o_.field));
    if (!o_.keep_original) parsers::clear_source(e, o_.field);
    bool have_message = false;
    for (const Pair& p : pairs_) {
      if (use_message_key && !have_message && !p.bare_key) {
        auto it = std::find(o_.message_key.begin(), o_.message_key.end(), p.key);
        if (it != o_.message_key.end()) {
          e.message = p.value;
          have_message = true;
          continue;
        }
      }
      if (p.bare_key) {
        e.set(p.key, Value::boolean(true));
        continue;
      }
      FieldType t = type_of(p.key);
      // A quoted value is text by intent; only explicit types convert it.
      if (p.quoted && t == FieldType::kAuto) t = FieldType::kString;
      Value v;
      if (!parsers::convert_text(p.value, t, &v)) v = Value::string(p.value);
      e.set(p.key, v);
    }
  }

  std::shared_ptr<const LogfmtSetup> setup_;
  const LogfmtOptions& o_;
  ParserStats& stats_;
  parsers::PerSource<bool> gate_;
  std::vector<Pair> pairs_;
};

}  // namespace

const PluginInfo& logfmt_parser() {
  static const PluginInfo info{
      PluginKind::kProcessor, "logfmt",
      "Parses key=value (logfmt) messages or fields into event fields.",
      &schema_of<LogfmtOptions>, nullptr,
      &parsers::bind_shared<LogfmtOptions, LogfmtSetup, LogfmtParser>};
  return info;
}

}  // namespace logship::plugins
