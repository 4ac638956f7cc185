// `regex` processor: RE2 named groups become event fields, with typed captures. Patterns are
// compiled once per config entry and shared read-only by every per-stream instance (RE2 is
// thread-safe for matching). Captures are views into the parsed text: no copy per field.
#include <re2/re2.h>

#include <algorithm>
#include <map>
#include <set>

#include "daemon/registry/plugin.h"
#include "daemon/runtime/component_metrics.h"
#include "parsers/common/bind.h"
#include "parsers/common/common.h"
#include "parsers/common/parser_options.h"
#include "parsers/regex/builtin_patterns.h"
#include "parsers/regex/combined_scanner.h"

namespace logship::plugins {
namespace {

using parsers::FieldType;
using parsers::ParserStats;

struct RegexOptions {
  std::string field;
  std::vector<std::string> pattern;
  std::string format;
  std::map<std::string, std::string> types;
  bool keep_original = true;
  std::string message_group;
  bool skip_dash = true;
  std::string when_label;

  static const config::OptionSchema<RegexOptions>& schema() {
    using S = config::OptionSchema<RegexOptions>;
    static const auto s = [] {
      S s;
      parsers::add_field_option(s, &RegexOptions::field);
      s.add("pattern", &RegexOptions::pattern,
            "RE2 pattern(s) with named groups (?P<name>...); each group that takes part in "
            "the match becomes a field. Several patterns are tried in order.")
          .add("format", &RegexOptions::format,
               "A built-in pattern instead of `pattern`: combined (alias nginx, apache: NCSA "
               "combined/common access logs), syslog_rfc5424, syslog_rfc3164, syslog (5424, "
               "then 3164; these add facility and severity and take the message group).")
          .add("types", &RegexOptions::types,
               "Group types: {status: int, duration: double, ok: bool, x: auto}; others are "
               "strings. A capture that does not convert stays a string and is counted.");
      parsers::add_keep_original_option(s, &RegexOptions::keep_original,
                                        "the message_group capture");
      s.add("message_group", &RegexOptions::message_group,
            "Group whose capture becomes the event message (not added as a field).")
          .add("skip_dash", &RegexOptions::skip_dash,
               "A capture that is exactly \"-\" (the access-log and syslog nil value) is left "
               "out.");
      parsers::add_when_label_option(s, &RegexOptions::when_label, "logship.parser=nginx");
      return s;
    }();
    return s;
  }
};

struct Group {
  int index;              // capture number
  std::string key;
  FieldType type = FieldType::kString;
  bool is_message = false;
};

struct Compiled {
  std::unique_ptr<RE2> re;
  std::vector<Group> groups;
  int nsub = 0;
};

struct RegexSetup {
  RegexOptions o;
  std::vector<Compiled> patterns;
  bool syslog_pri = false;
  bool combined_fast = false;   // the built-in combined pattern: try the hand-written scan first
  parsers::LabelCondition when;
  mutable ParserStats stats;
  std::atomic<uint64_t>* type_errors;

  RegexSetup(const RegexOptions& opts, const PluginContext& ctx)
      : o(opts), stats("logship_regex_parser", ctx) {
    type_errors = &ComponentMetrics(ctx)
                       .counter("logship_regex_parser_type_errors_total",
                                "Captures that did not convert to their type");
  }

  static Result<std::shared_ptr<const RegexSetup>> build(const RegexOptions& o,
                                                         const PluginContext& ctx) {
    auto s = std::make_shared<RegexSetup>(o, ctx);
    if (Status st = s->when.parse(o.when_label); !st.is_ok()) {
      return Status::invalid("'when_label': " + st.message());
    }
    std::vector<std::string> sources = o.pattern;
    std::map<std::string, std::string> types;
    std::string message_group = o.message_group;
    if (!o.format.empty()) {
      if (!o.pattern.empty()) {
        return Status::invalid("give either 'pattern' or 'format', not both");
      }
      const parsers::BuiltinPattern* b = parsers::find_builtin(o.format);
      if (b == nullptr) {
        std::string why = "'format': unknown built-in pattern \"" + o.format + "\"; known: ";
        for (auto n : parsers::builtin_names()) why += std::string(n) + " ";
        return Status::invalid(why);
      }
      for (auto p : b->patterns) sources.emplace_back(p);
      for (auto [g, t] : b->types) types[std::string(g)] = std::string(t);
      if (message_group.empty()) message_group = std::string(b->message_group);
      s->syslog_pri = b->syslog_pri;
      s->combined_fast = b->patterns.size() == 1 && b->patterns[0] == parsers::combined_pattern();
    }
    if (sources.empty()) {
      return Status::invalid("needs 'pattern' or 'format'");
    }
    for (const auto& [k, v] : o.types) types[k] = v;   // explicit types override built-in ones
    s->o.message_group = message_group;
    std::set<std::string> all_groups;
    for (const auto& src : sources) {
      Compiled c;
      RE2::Options ro;
      ro.set_log_errors(false);
      c.re = std::make_unique<RE2>(src, ro);
      if (!c.re->ok()) {
        return Status::invalid("'pattern' does not compile: " + c.re->error() + " in " + src);
      }
      c.nsub = c.re->NumberOfCapturingGroups() + 1;
      for (const auto& [name, index] : c.re->NamedCapturingGroups()) {
        Group g;
        g.index = index;
        g.key = name;
        g.is_message = name == message_group;
        if (auto t = types.find(name); t != types.end()) {
          if (!parsers::parse_field_type(t->second, &g.type)) {
            return Status::invalid("'types': unknown type \"" + t->second + "\" for " + name +
                                   " (string, int, double, bool, auto)");
          }
        }
        c.groups.push_back(std::move(g));
        all_groups.insert(name);
      }
      if (c.groups.empty()) {
        return Status::invalid("'pattern' has no named group (?P<name>...): " + src);
      }
      // Fields come out in the order the groups appear in the pattern.
      std::sort(c.groups.begin(), c.groups.end(),
                [](const Group& a, const Group& b) { return a.index < b.index; });
      s->patterns.push_back(std::move(c));
    }
    for (const auto& [k, v] : o.types) {
      if (!all_groups.count(k)) {
        return Status::invalid("'types': no group named " + k);
      }
    }
    if (s->combined_fast) {
      // The scan fills captures by number: only use it if RE2 numbers the groups the same way.
      static constexpr std::pair<std::string_view, int> kExpect[] = {
          {"client", parsers::kCgClient},     {"ident", parsers::kCgIdent},
          {"user", parsers::kCgUser},         {"time", parsers::kCgTime},
          {"method", parsers::kCgMethod},     {"path", parsers::kCgPath},
          {"protocol", parsers::kCgProtocol}, {"request", parsers::kCgRequest},
          {"status", parsers::kCgStatus},     {"bytes", parsers::kCgBytes},
          {"referer", parsers::kCgReferer},   {"user_agent", parsers::kCgUserAgent}};
      const auto& named = s->patterns[0].re->NamedCapturingGroups();
      for (auto [name, index] : kExpect) {
        auto it = named.find(std::string(name));
        if (it == named.end() || it->second != index) s->combined_fast = false;
      }
      if (s->patterns[0].nsub != parsers::kCgCount) s->combined_fast = false;
    }
    if (!o.message_group.empty() && !all_groups.count(o.message_group)) {
      return Status::invalid("'message_group': no group named " + o.message_group);
    }
    return std::shared_ptr<const RegexSetup>(std::move(s));
  }
};

constexpr std::string_view kFacility = "facility";
constexpr std::string_view kSeverity = "severity";

class RegexParser final : public Processor {
 public:
  explicit RegexParser(std::shared_ptr<const RegexSetup> setup)
      : setup_(std::move(setup)), o_(setup_->o), stats_(setup_->stats) {
    int most = 0;
    for (const auto& c : setup_->patterns) most = std::max(most, c.nsub);
    sub_.resize(static_cast<std::size_t>(most));
  }

  void process(Batch& batch) override {
    if (!gate_.get(batch, [&](const SourceInfo& s) { return setup_->when.matches(s); })) {
      stats_.skipped->fetch_add(batch.size(), std::memory_order_relaxed);
      return;
    }
    uint64_t parsed = 0, skipped = 0, type_errors = 0;
    for (Event& e : batch.events()) {
      std::string_view text;
      if (!parsers::source_text(e, o_.field, &text)) {
        ++skipped;
        continue;
      }
      const Compiled* hit = nullptr;
      if (setup_->combined_fast && parsers::scan_combined(text, sub_.data())) {
        hit = &setup_->patterns[0];
      }
      for (const auto& c : setup_->patterns) {
        if (hit != nullptr) break;
        if (c.re->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(),
                        RE2::UNANCHORED, sub_.data(), c.nsub)) {
          hit = &c;
          break;
        }
      }
      if (hit == nullptr) {
        parsers::mark_failure(e, "no pattern matched", stats_);
        continue;
      }
      // Views into `text` stay valid when the source field is removed: only the view goes.
      if (!o_.keep_original) parsers::clear_source(e, o_.field);
      for (const Group& g : hit->groups) {
        const re2::StringPiece& cap = sub_[static_cast<std::size_t>(g.index)];
        if (cap.data() == nullptr) continue;   // group did not take part
        std::string_view v(cap.data(), cap.size());
        if (o_.skip_dash && v == "-") continue;
        if (g.is_message) {
          e.message = v;
          continue;
        }
        Value val;
        if (!parsers::convert_text(v, g.type, &val)) {
          ++type_errors;
          val = Value::string(v);
        }
        e.set(g.key, val);
      }
      if (setup_->syslog_pri) add_pri(e);
      ++parsed;
    }
    stats_.parsed->fetch_add(parsed, std::memory_order_relaxed);
    if (skipped) stats_.skipped->fetch_add(skipped, std::memory_order_relaxed);
    if (type_errors) setup_->type_errors->fetch_add(type_errors, std::memory_order_relaxed);
  }

 private:
  static void add_pri(Event& e) {
    const Field* pri = e.find("pri");
    if (pri == nullptr || pri->value.type != ValueType::kInt) return;
    int64_t p = pri->value.i;
    if (p < 0 || p > 191) return;
    e.set(kFacility, Value::integer(p / 8));
    e.set(kSeverity, Value::integer(p % 8));
  }

  std::shared_ptr<const RegexSetup> setup_;
  const RegexOptions& o_;
  ParserStats& stats_;
  parsers::PerSource<bool> gate_;
  std::vector<re2::StringPiece> sub_;
};

}  // namespace

const PluginInfo& regex_parser() {
  static const PluginInfo info{
      PluginKind::kProcessor, "regex",
      "Parses a message or field with RE2 named groups (built-ins: combined, syslog).",
      &schema_of<RegexOptions>, nullptr,
      &parsers::bind_shared<RegexOptions, RegexSetup, RegexParser>};
  return info;
}

}  // namespace logship::plugins
