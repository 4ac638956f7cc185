// The redact processor: hides secrets and card numbers in messages (and chosen string fields)
// before any output sees them.
#include "daemon/registry/plugin.h"
#include "daemon/core/json_writer.h"
#include "daemon/runtime/component_metrics.h"
#include "parsers/common/bind.h"
#include "parsers/redact/redact.h"

namespace logship::redact {

namespace {

struct Builtin {
  const char* name;
  const char* pattern;
  bool luhn;
};

// Patterns with a capturing group replace only the group: the user name of a URL and the word
// "Bearer" stay readable.
constexpr Builtin kBuiltins[] = {
    {"url_password", R"([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]+:([^\s@/]+)@)", false},
    {"bearer", R"((?i)\bbearer\s+([A-Za-z0-9\-._~+/]{8,}=*))", false},
    {"aws_access_key",
     R"(\b((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16})\b)",
     false},
    {"jwt", R"(\beyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*)", false},
    {"credit_card", R"(\b[2-6](?:[ \-]?[0-9]){12,18}\b)", true},
};

bool luhn_ok(const char* digits, std::size_t n) {
  int sum = 0;
  bool dbl = false;
  for (std::size_t i = n; i-- > 0;) {
    int d = digits[i] - '0';
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 == 0;
}

bool known_issuer(const char* d, std::size_t n) {
  auto prefix = [&](int len) {
    int v = 0;
    for (int i = 0; i < len; ++i) v = v * 10 + (d[i] - '0');
    return v;
  };
  const int p2 = prefix(2), p3 = prefix(3), p4 = prefix(4);
  if (d[0] == '4') return n == 13 || n == 16 || n == 19;                       // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n == 16;   // Mastercard
  if (p2 == 34 || p2 == 37) return n == 15;                                    // Amex
  if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649)) return n >= 16;     // Discover
  if (p4 >= 3528 && p4 <= 3589) return n >= 16;                                // JCB
  if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) return n >= 14;  // Diners
  if (p2 == 62) return n >= 16;                                                // UnionPay
  return false;
}

bool valid_rule_name(const std::string& n) {
  if (n.empty()) return false;
  for (char c : n) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

}  // namespace

bool is_card_number(std::string_view s) {
  char digits[19];
  std::size_t n = 0;
  for (char c : s) {
    if (c == ' ' || c == '-') continue;
    if (c < '0' || c > '9' || n == sizeof digits) return false;
    digits[n++] = c;
  }
  return n >= 13 && known_issuer(digits, n) && luhn_ok(digits, n);
}

const std::vector<std::string>& RuleSet::builtin_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& b : kBuiltins) v.emplace_back(b.name);
    return v;
  }();
  return names;
}

Status RuleSet::build(const std::vector<std::string>& builtins,
                      const std::map<std::string, std::string>& custom,
                      const std::string& marker_template, const std::string& processor) {
  const ComponentMetrics metrics("processor", processor);
  RE2::Options opts;
  opts.set_log_errors(false);
  std::string any;
  auto add = [&](const std::string& name, const std::string& pattern, bool luhn) -> Status {
    Rule r;
    r.name = name;
    r.re = std::make_unique<RE2>(pattern, opts);
    if (!r.re->ok()) {
      return Status::invalid("rules." + name + ": invalid RE2 pattern: " + r.re->error());
    }
    r.luhn = luhn;
    r.marker = marker_template;
    for (auto p = r.marker.find("{rule}"); p != std::string::npos; p = r.marker.find("{rule}")) {
      r.marker.replace(p, 6, name);
    }
    r.counter = &metrics.counter("logship_redactions_total",
                                 "Matches replaced by the redact processor, per rule", "rule",
                                 name);
    if (!any.empty()) any += '|';
    any += "(?:" + pattern + ")";
    rules_.push_back(std::move(r));
    return Status::ok();
  };
  for (const auto& name : builtins) {
    const Builtin* found = nullptr;
    for (const auto& b : kBuiltins) {
      if (name == b.name) found = &b;
    }
    if (found == nullptr) {
      return Status::invalid("builtins: unknown rule '" + name + "'" +
                             config::did_you_mean(name, builtin_names()));
    }
    LOGSHIP_TRY(add(found->name, found->pattern, found->luhn));
  }
  for (const auto& [name, pattern] : custom) {
    if (!valid_rule_name(name)) {
      return Status::invalid("rules." + name + ": names use letters, digits, '_', '-'");
    }
    for (const auto& r : rules_) {
      if (r.name == name) {
        return Status::invalid("rules." + name + ": a built-in rule has this name");
      }
    }
    LOGSHIP_TRY(add(name, pattern, false));
  }
  if (!any.empty()) {
    RE2::Options o = opts;
    o.set_never_capture(true);
    any_ = std::make_unique<RE2>(any, o);
    if (!any_->ok()) {
      return Status::invalid("rules: cannot combine the patterns: " + any_->error());
    }
  }
  return Status::ok();
}

bool RuleSet::may_match(std::string_view text) const {
  return any_ && RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *any_);
}

bool Redactor::apply(std::string_view text, std::string_view* out) {
  if (!rules_->may_match(text)) return false;
  std::string_view cur = text;
  bool changed_any = false;
  for (const Rule& rule : rules_->rules()) {
    const re2::StringPiece whole_text(cur.data(), cur.size());
    const int groups = rule.re->NumberOfCapturingGroups() > 0 ? 2 : 1;
    re2::StringPiece sub[2];
    std::size_t pos = 0, copied = 0;
    std::string& dst = (cur.data() == a_.data()) ? b_ : a_;
    bool changed = false;
    while (pos <= cur.size() &&
           rule.re->Match(whole_text, pos, cur.size(), RE2::UNANCHORED, sub, groups)) {
      const std::size_t whole_end = static_cast<std::size_t>(sub[0].data() - cur.data()) +
                                    sub[0].size();
      const re2::StringPiece target = (groups == 2 && sub[1].data() != nullptr) ? sub[1] : sub[0];
      pos = sub[0].empty() ? whole_end + 1 : whole_end;
      if (target.empty()) continue;
      if (rule.luhn && !is_card_number(std::string_view(target.data(), target.size()))) continue;
      const std::size_t start = static_cast<std::size_t>(target.data() - cur.data());
      if (!changed) {
        dst.clear();
        changed = true;
      }
      dst.append(cur.substr(copied, start - copied));
      dst.append(rule.marker);
      copied = start + target.size();
      rule.counter->fetch_add(1, std::memory_order_relaxed);
    }
    if (!changed) continue;
    dst.append(cur.substr(copied));
    cur = dst;
    changed_any = true;
  }
  if (changed_any) *out = cur;
  return changed_any;
}

}  // namespace logship::redact

namespace logship::plugins {
namespace {

struct RedactOptions {
  std::vector<std::string> builtins = redact::RuleSet::builtin_names();
  std::map<std::string, std::string> rules;
  std::vector<std::string> fields = {"message"};
  std::string marker = "[REDACTED:{rule}]";

  static const config::OptionSchema<RedactOptions>& schema() {
    using S = config::OptionSchema<RedactOptions>;
    static const auto s =
        S{}.add("builtins", &RedactOptions::builtins,
                "Built-in rules to apply: url_password (the password of scheme://user:pass@), "
                "bearer (tokens after 'Bearer'), aws_access_key (AKIA... key ids), jwt, "
                "credit_card (13-19 digits, known issuer prefix, Luhn-checked). [] for none.")
            .add("rules", &RedactOptions::rules,
                 "Custom rules: name -> RE2 pattern. A pattern with a capturing group replaces "
                 "only the first group.")
            .add("fields", &RedactOptions::fields,
                 "What to scan: 'message' and/or names of string fields set by parsers.")
            .add("marker", &RedactOptions::marker,
                 "Replacement text; {rule} becomes the rule's name.");
    return s;
  }
};

// The compiled rules, shared by every stream's processor.
struct RedactSetup {
  RedactOptions o;
  std::shared_ptr<const redact::RuleSet> rules;

  static Result<std::shared_ptr<const RedactSetup>> build(const RedactOptions& o,
                                                          const PluginContext& ctx) {
    if (o.fields.empty()) {
      return Status::invalid("fields: name at least one field (e.g. message)");
    }
    auto set = std::make_shared<redact::RuleSet>();
    LOGSHIP_TRY(set->build(o.builtins, o.rules, o.marker, ctx.name));
    if (set->rules().empty()) {
      return Status::invalid("no rules: keep some builtins or add rules");
    }
    auto s = std::make_shared<RedactSetup>();
    s->o = o;
    s->rules = std::move(set);
    return std::shared_ptr<const RedactSetup>(std::move(s));
  }
};

class RedactProcessor final : public Processor {
 public:
  explicit RedactProcessor(std::shared_ptr<const RedactSetup> setup)
      : setup_(std::move(setup)), o_(setup_->o), redactor_(setup_->rules) {
    for (const auto& f : o_.fields) {
      if (f == "message") {
        message_ = true;
      } else {
        fields_.push_back(f);
      }
    }
  }

  void process(Batch& batch) override {
    std::string_view out;
    for (Event& e : batch.events()) {
      if (message_ && redactor_.apply(e.message, &out)) e.message = batch.copy(out);
      for (const auto& name : fields_) {
        for (Field& f : e.fields) {
          if (f.key != name || f.value.type != ValueType::kString) continue;
          if (redactor_.apply(f.value.s, &out)) f.value = Value::string(batch.copy(out));
        }
      }
    }
  }

 private:
  std::shared_ptr<const RedactSetup> setup_;
  const RedactOptions& o_;
  redact::Redactor redactor_;
  bool message_ = false;
  std::vector<std::string> fields_;
};

}  // namespace

const PluginInfo& redact_processor() {
  static const PluginInfo info{
      PluginKind::kProcessor, "redact",
      "Replaces secrets (URL passwords, bearer tokens, AWS keys, JWTs, card numbers) and custom "
      "RE2 matches with a marker.",
      &schema_of<RedactOptions>, nullptr,
      &parsers::bind_shared<RedactOptions, RedactSetup, RedactProcessor>};
  return info;
}

}  // namespace logship::plugins
