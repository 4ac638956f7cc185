// `json` processor: a message (or field) holding a JSON object becomes event fields.
// simdjson On-Demand with one parser per stream, reused for every event; the text is copied into
// a reusable padded buffer first because arena strings have no SIMDJSON_PADDING after them.
// Nested objects and arrays stay raw JSON text (validated, newlines removed); strings are
// unescaped into the batch arena. A text that does not parse is kept raw and marked.
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "config/enum_option.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/component_metrics.h"
#include "parsers/common/bind.h"
#include "parsers/common/common.h"
#include "parsers/common/json_text.h"
#include "parsers/common/parser_options.h"

namespace logship::plugins {
namespace {

using parsers::ParserStats;

// What becomes of text that is not a JSON object (the `non_object` option).
enum class NonObject { kFail, kPass };
constexpr config::EnumNames<NonObject, 2> enum_names(NonObject) {
  return {{{"fail", NonObject::kFail}, {"pass", NonObject::kPass}}};
}

struct JsonOptions {
  std::string field;
  std::string target;
  bool keep_original = false;
  std::vector<std::string> message_key = {"message", "msg"};
  std::string when_label;
  NonObject non_object = NonObject::kFail;

  static const config::OptionSchema<JsonOptions>& schema() {
    using S = config::OptionSchema<JsonOptions>;
    static const auto s = [] {
      S s;
      parsers::add_field_option(s, &JsonOptions::field);
      s.add("target", &JsonOptions::target,
            "Empty: the object's keys become top-level fields (replacing fields of the same "
            "name). Otherwise the whole object is nested under this one field.");
      parsers::add_keep_original_option(s, &JsonOptions::keep_original, "the message_key value",
                                        parsers::kKeepOriginalSkipsMessageKey);
      parsers::add_message_key_option(s, &JsonOptions::message_key);
      parsers::add_when_label_option(s, &JsonOptions::when_label, "logship.parser=json");
      s.add("non_object", &JsonOptions::non_object,
            "Text that does not start with '{': fail = mark it parse-failed like invalid "
            "JSON; pass = leave it untouched (counted as skipped), for mixed streams.");
      return s;
    }();
    return s;
  }
};

struct JsonSetup {
  JsonOptions o;
  parsers::LabelCondition when;
  mutable ParserStats stats;

  JsonSetup(const JsonOptions& opts, const PluginContext& ctx)
      : o(opts), stats("logship_json_parser", ctx) {}

  static Result<std::shared_ptr<const JsonSetup>> build(const JsonOptions& o,
                                                        const PluginContext& ctx) {
    auto s = std::make_shared<JsonSetup>(o, ctx);
    if (Status st = s->when.parse(o.when_label); !st.is_ok()) {
      return Status::invalid("'when_label': " + st.message());
    }
    return std::shared_ptr<const JsonSetup>(std::move(s));
  }
};

class JsonParser final : public Processor {
 public:
  explicit JsonParser(std::shared_ptr<const JsonSetup> setup)
      : setup_(std::move(setup)), o_(setup_->o), stats_(setup_->stats) {}

  void process(Batch& batch) override {
    const bool applies = gate_.get(batch, [&](const SourceInfo& s) { return setup_->when.matches(s); });
    if (!applies) {
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
      switch (parse_one(batch, e, text)) {
        case Result::kParsed: ++parsed; break;
        case Result::kSkipped: ++skipped; break;
        case Result::kFailed: break;   // counted by mark_failure
      }
    }
    stats_.parsed->fetch_add(parsed, std::memory_order_relaxed);
    if (skipped) stats_.skipped->fetch_add(skipped, std::memory_order_relaxed);
  }

 private:
  enum class Result { kParsed, kSkipped, kFailed };

  Result fail(Event& e, std::string_view why) {
    parsers::mark_failure(e, why, stats_);
    return Result::kFailed;
  }

  Result parse_one(Batch& batch, Event& e, std::string_view text) {
    std::size_t lead = 0;
    while (lead < text.size() && parsers::json_text::is_space(text[lead])) ++lead;
    if (lead == text.size() || text[lead] != '{') {
      if (o_.non_object == NonObject::kPass) return Result::kSkipped;
      return fail(e, "not a JSON object");
    }
    if (!o_.target.empty()) return parse_nested(batch, e, text);

    scratch_.clear();
    constexpr int kNoRank = 1 << 30;
    int msg_rank = kNoRank;
    Field msg_field;
    std::string_view new_message;
    bool have_message = false;
    const bool use_message_key = !(o_.keep_original && parsers::is_message(o_.field));
    std::size_t cap = parsers::json_text::fill_padded(pad_, text);
    simdjson::ondemand::document doc;
    if (parser_.iterate(pad_.data(), text.size(), cap).get(doc)) return fail(e, "invalid JSON");
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) return fail(e, "invalid JSON");
    for (auto item : obj) {
      simdjson::ondemand::field fld;
      if (std::move(item).get(fld)) return fail(e, "invalid JSON");
      std::string_view key;
      if (fld.unescaped_key().get(key)) return fail(e, "invalid JSON");
      simdjson::ondemand::value v = fld.value();
      simdjson::ondemand::json_type t;
      if (v.type().get(t)) return fail(e, "invalid JSON");
      Value val;
      switch (t) {
        case simdjson::ondemand::json_type::string: {
          std::string_view sv;
          if (v.get_string().get(sv)) return fail(e, "invalid JSON");
          val = Value::string(batch.copy(sv));
          break;
        }
        case simdjson::ondemand::json_type::number: {
          simdjson::ondemand::number n;
          if (v.get_number().get(n)) return fail(e, "invalid JSON number");
          switch (n.get_number_type()) {
            case simdjson::ondemand::number_type::signed_integer:
              val = Value::integer(n.get_int64());
              break;
            case simdjson::ondemand::number_type::unsigned_integer:
              val = Value::real(static_cast<double>(n.get_uint64()));
              break;
            default: val = Value::real(n.get_double()); break;
          }
          break;
        }
        case simdjson::ondemand::json_type::boolean: {
          bool b;
          if (v.get_bool().get(b)) return fail(e, "invalid JSON");
          val = Value::boolean(b);
          break;
        }
        case simdjson::ondemand::json_type::null: {
          bool is_null = false;
          if (v.is_null().get(is_null) || !is_null) return fail(e, "invalid JSON");
          val = Value();
          break;
        }
        case simdjson::ondemand::json_type::object:
        case simdjson::ondemand::json_type::array: {
          // On-Demand would only skip over a nested value (brackets, not contents), so walk it
          // fully to validate it, then take its text from where it started to where the
          // iterator stopped.
          std::string_view raw;
          if (!parsers::json_text::take_raw(doc, v, &raw)) return fail(e, "invalid JSON");
          val = Value::raw_json(parsers::json_text::keep_raw(batch, raw));
          break;
        }
      }
      if (use_message_key) {
        // The best-ranked message key present wins; one it displaces becomes a field again. A
        // non-string value gives its JSON text (a field named like the message would collide
        // with it in every output).
        int rank = message_rank(key);
        if (rank >= 0 && rank < msg_rank) {
          if (msg_rank != kNoRank) scratch_.push_back(msg_field);
          msg_rank = rank;
          msg_field = Field{batch.copy(key), val};
          continue;
        }
      }
      scratch_.push_back(Field{batch.copy(key), val});
    }
    if (msg_rank != kNoRank) {
      new_message = value_text(batch, msg_field.value);
      have_message = true;
    }
    // In bounds after the object means another token follows it.
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
      return fail(e, "trailing characters after JSON object");
    }

    // Parsed completely: only now touch the event, so a failure leaves it exactly as it was.
    if (!o_.keep_original) parsers::clear_source(e, o_.field);
    if (have_message) e.message = new_message;
    // One allocation in the arena instead of growing 1, 2, 4, 8...
    e.fields.reserve(e.fields.size() + scratch_.size());
    for (const Field& f : scratch_) e.set(f.key, f.value);
    return Result::kParsed;
  }

  int message_rank(std::string_view key) const {
    for (std::size_t i = 0; i < o_.message_key.size(); ++i) {
      if (o_.message_key[i] == key) return static_cast<int>(i);
    }
    return -1;
  }

  static std::string_view value_text(Batch& batch, const Value& v) {
    char buf[32];
    switch (v.type) {
      case ValueType::kString:
      case ValueType::kRawJson: return v.s;
      case ValueType::kBool: return v.b ? "true" : "false";
      case ValueType::kNull: return "null";
      case ValueType::kInt: {
        auto r = std::to_chars(buf, buf + sizeof buf, v.i);
        return batch.copy(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
      }
      case ValueType::kDouble: {
        auto r = std::to_chars(buf, buf + sizeof buf, v.d);
        return batch.copy(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
      }
    }
    return {};
  }

  // On-Demand only skips over nested values (it checks brackets, not their contents), so they
  // are validated fully before being passed on as raw JSON. Line breaks are minified away so
  // JSON-lines outputs stay one event per line.
  bool raw_value(Batch& batch, std::string_view raw, std::string_view* out) {
    std::size_t cap = parsers::json_text::fill_padded(pad2_, raw);
    (void)cap;
    simdjson::dom::element root;
    if (dom_.parse(reinterpret_cast<const uint8_t*>(pad2_.data()), raw.size(), false).get(root)) {
      return false;
    }
    if (raw.find_first_of("\r\n") == std::string_view::npos) {
      *out = batch.copy(raw);
      return true;
    }
    char* dst = batch.allocate(raw.size());
    std::size_t len = 0;
    if (simdjson::minify(pad2_.data(), raw.size(), dst, len) != simdjson::SUCCESS) return false;
    *out = std::string_view(dst, len);
    return true;
  }

  // target: the whole object, validated, goes under one field as raw JSON.
  Result parse_nested(Batch& batch, Event& e, std::string_view text) {
    while (!text.empty() && parsers::json_text::is_space(text.back())) text.remove_suffix(1);
    while (!text.empty() && parsers::json_text::is_space(text.front())) text.remove_prefix(1);
    std::string_view kept;
    if (!raw_value(batch, text, &kept)) return fail(e, "invalid JSON");
    std::string_view new_message;
    bool have_message = false;
    if (!(o_.keep_original && parsers::is_message(o_.field))) {
      simdjson::dom::element root;
      if (dom_.parse(reinterpret_cast<const uint8_t*>(pad2_.data()), text.size(), false)
              .get(root) == simdjson::SUCCESS) {
        for (const auto& k : o_.message_key) {
          std::string_view sv;
          if (root[k].get_string().get(sv) == simdjson::SUCCESS) {
            new_message = batch.copy(sv);
            have_message = true;
            break;
          }
        }
      }
    }
    if (!o_.keep_original) parsers::clear_source(e, o_.field);
    if (have_message) e.message = new_message;
    e.set(batch.copy(o_.target), Value::raw_json(kept));
    return Result::kParsed;
  }

  std::shared_ptr<const JsonSetup> setup_;
  const JsonOptions& o_;
  ParserStats& stats_;
  parsers::PerSource<bool> gate_;
  simdjson::ondemand::parser parser_;
  simdjson::dom::parser dom_;
  std::vector<char> pad_;
  std::vector<char> pad2_;
  std::vector<Field> scratch_;
};

}  // namespace

const PluginInfo& json_parser() {
  static const PluginInfo info{
      PluginKind::kProcessor, "json",
      "Parses a message or field holding a JSON object into event fields.",
      &schema_of<JsonOptions>, nullptr,
      &parsers::bind_shared<JsonOptions, JsonSetup, JsonParser>};
  return info;
}

}  // namespace logship::plugins
