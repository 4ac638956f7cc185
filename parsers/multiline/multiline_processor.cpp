// `multiline` processor: reassembles lines that belong together (a log statement and the stack
// trace under it, tracebacks, goroutine dumps) into one event whose message is the lines joined
// with "\n". With rules: auto and no label, a stream's own lines choose the rule set (detect.h).
//
// Each source stream gets its own instance; inside it stdout and stderr keep separate groups.
// Groups that end inside a batch are merged in place (one arena copy for the joined message).
// A group still open when the batch ends is copied into the processor's own buffer and the
// batch's acks are shared into it (AckSet::share_into), so the checkpoint cannot pass a line that
// is only held here; when the group is emitted, in a later batch or by a flush, those references
// move into the batch that carries it (AckSet::take_from). Nothing is dropped: caps split groups.
#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "config/enum_option.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/memory_budget.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/component_metrics.h"
#include "parsers/common/bind.h"
#include "parsers/common/common.h"
#include "parsers/common/parser_options.h"
#include "parsers/multiline/detect.h"
#include "parsers/multiline/line_checks.h"
#include "parsers/multiline/log_header.h"
#include "parsers/multiline/rules.h"

namespace logship::plugins {
namespace {

using config::ByteSize;
using config::Millis;
using parsers::LineAction;
using parsers::LineRules;

// The `rules` option: a built-in set by name, custom (start/continue), or auto (label, else
// detection).
enum class RulesOption {
  kAuto, kJava, kPython, kGo, kNodejs, kRuby, kDotnet, kPhp, kHeader, kCustom
};
constexpr config::EnumNames<RulesOption, 10> enum_names(RulesOption) {
  return {{{"auto", RulesOption::kAuto},
           {"java", RulesOption::kJava},
           {"python", RulesOption::kPython},
           {"go", RulesOption::kGo},
           {"nodejs", RulesOption::kNodejs},
           {"ruby", RulesOption::kRuby},
           {"dotnet", RulesOption::kDotnet},
           {"php", RulesOption::kPhp},
           {"header", RulesOption::kHeader},
           {"custom", RulesOption::kCustom}}};
}

struct MultilineOptions {
  RulesOption rules = RulesOption::kAuto;
  std::string label = "logship.multiline";
  std::string start;
  std::string cont;
  bool negate = false;
  int64_t max_lines = 1000;
  ByteSize max_bytes = config::operator""_KiB(512);
  Millis flush_timeout{1000};
  std::string when_label;

  static const config::OptionSchema<MultilineOptions>& schema() {
    using S = config::OptionSchema<MultilineOptions>;
    static const auto s = [] {
      S s;
      s.add("rules", &MultilineOptions::rules,
            "Rule set: java (frames, Caused by, Suppressed, ... N more), python (tracebacks, "
            "chained exceptions), go (panics, goroutine dumps, %+v stacks), nodejs (stacks, "
            "uncaught exception reports, pino-pretty), ruby (backtraces, Rails blocks), dotnet "
            "(unhandled exceptions, inner exceptions), php (uncaught exceptions, stack "
            "traces), header (a record starts with a time stamp or level header), custom "
            "(start/continue), or auto: the set named by the container label `label`, else "
            "the set whose traces the stream's own lines show. Built-in sets join a trace to "
            "the log statement printed right above it.")
          .add("label", &MultilineOptions::label,
               "For rules: auto, the container label naming the rule set (java, python, go, "
               "nodejs, ruby, dotnet, php, header, none, auto, or custom when start/continue "
               "are configured). Without it the stream's rule set is detected.")
          .add("start", &MultilineOptions::start,
               "custom: RE2 pattern of a line that starts a group. Alone: every other line "
               "continues the open group.")
          .add("continue", &MultilineOptions::cont,
               "custom: RE2 pattern of a line that continues the open group. With `start` too, "
               "lines matching neither pass alone.")
          .add("negate", &MultilineOptions::negate,
               "custom: lines NOT matching `continue` continue the group.")
          .add("max_lines", &MultilineOptions::max_lines,
               "Lines per group; a longer group is emitted in parts (nothing is dropped).",
               config::in_range(2, 1000000))
          .add("max_bytes", &MultilineOptions::max_bytes,
               "Bytes per merged message; a longer group is emitted in parts.",
               config::at_least(ByteSize(256), "256B"))
          .add("flush_timeout", &MultilineOptions::flush_timeout,
               "Emit an open group when no line came for this long.",
               config::at_least(Millis(1), "1ms"));
      parsers::add_when_label_option(s, &MultilineOptions::when_label);
      return s;
    }();
    return s;
  }
};

// What a stream gets: a rule set, nothing (passes untouched), or detection from its lines.
struct RulesChoice {
  const LineRules* rules = nullptr;
  bool detect = false;
};

struct MultilineSetup {
  MultilineOptions o;
  const LineRules* fixed = nullptr;   // rules other than auto
  std::unique_ptr<parsers::CustomRules> custom;
  parsers::LabelCondition when;
  std::atomic<uint64_t>* groups;
  std::atomic<uint64_t>* lines_merged;
  std::atomic<uint64_t>* splits;
  std::atomic<uint64_t>* timeouts;
  std::atomic<uint64_t>* unknown_label;
  // Streams whose detection settled on each built-in set, in builtin_rule_names() order.
  std::vector<std::pair<std::string_view, std::atomic<uint64_t>*>> detected;
  std::optional<ComponentLog> logger;
  // Every new stream with an unknown label value logs: rate-limited.
  mutable log::RateLimit unknown_label_log;

  static Result<std::shared_ptr<const MultilineSetup>> build(const MultilineOptions& o,
                                                             const PluginContext& ctx) {
    auto s = std::make_shared<MultilineSetup>();
    s->o = o;
    s->logger.emplace(ctx);
    if (Status st = s->when.parse(o.when_label); !st.is_ok()) {
      return Status::invalid("'when_label': " + st.message());
    }
    const bool has_custom = !o.start.empty() || !o.cont.empty();
    if (o.rules == RulesOption::kCustom || (o.rules == RulesOption::kAuto && has_custom)) {
      s->custom = std::make_unique<parsers::CustomRules>();
      LOGSHIP_TRY(s->custom->compile(o.start, o.cont, o.negate));
    } else if (has_custom || o.negate) {
      return Status::invalid("'start', 'continue' and 'negate' belong to rules: custom (or auto)");
    }
    switch (o.rules) {
      case RulesOption::kCustom: s->fixed = s->custom.get(); break;
      case RulesOption::kAuto: break;
      default: s->fixed = parsers::builtin_rules(config::enum_name(o.rules)); break;
    }
    const ComponentMetrics m(ctx);
    s->groups = &m.counter("logship_multiline_groups_total",
                           "Merged events emitted (groups of two lines or more)");
    s->lines_merged = &m.counter("logship_multiline_lines_merged_total",
                                 "Lines folded into a previous line's event");
    s->splits = &m.counter("logship_multiline_splits_total",
                           "Groups emitted in parts because of max_lines or max_bytes");
    s->timeouts = &m.counter("logship_multiline_flush_timeouts_total",
                             "Groups emitted because no line came within flush_timeout");
    s->unknown_label = &m.counter("logship_multiline_unknown_rules_total",
                                  "Streams whose label names no rule set (passed untouched)");
    for (std::string_view set : parsers::builtin_rule_names()) {
      if (set == "header") continue;   // never detected: it has no trace lines to see
      s->detected.emplace_back(
          set, &m.counter("logship_multiline_detected_streams_total",
                          "Streams under rules: auto whose own lines chose this rule set",
                          "rules", set));
    }
    return std::shared_ptr<const MultilineSetup>(std::move(s));
  }

  void count_detected(std::string_view set) const {
    for (const auto& [name, counter] : detected) {
      if (name == set) counter->fetch_add(1, std::memory_order_relaxed);
    }
  }

  RulesChoice rules_for(const SourceInfo& src) const {
    if (!when.matches(src)) return {};
    if (fixed != nullptr) return {fixed, false};
    const std::string* v = src.label(o.label);
    if (v == nullptr || v->empty() || *v == "auto") return {nullptr, true};
    if (*v == "none") return {};
    if (*v == "custom" && custom) return {custom.get(), false};
    if (const LineRules* r = parsers::builtin_rules(*v)) return {r, false};
    unknown_label->fetch_add(1, std::memory_order_relaxed);
    logger->warn(unknown_label_log, "label names no rule set; stream passes untouched",
                 log::kv("label", o.label) + log::kv("value", *v) + log::kv("source", src.key));
    return {};
  }
};

// The first line's event of a held group, deep-copied: its batch may be gone when it is emitted.
struct HeldEvent {
  int64_t time_ns = 0;
  uint64_t offset = 0;
  Stream stream = Stream::kNone;
  uint8_t flags = 0;
  struct F {
    uint32_t key_off, key_len;
    ValueType type;
    uint32_t s_off, s_len;
    int64_t i;
    double d;
    bool b;
  };
  std::string store;
  std::vector<F> fields;

  void save(const Event& e) {
    time_ns = e.time_ns;
    offset = e.offset;
    stream = e.stream;
    flags = e.flags;
    store.clear();
    fields.clear();
    for (const Field& f : e.fields) {
      F h{};
      h.key_off = static_cast<uint32_t>(store.size());
      h.key_len = static_cast<uint32_t>(f.key.size());
      store.append(f.key);
      h.type = f.value.type;
      if (f.value.type == ValueType::kString || f.value.type == ValueType::kRawJson) {
        h.s_off = static_cast<uint32_t>(store.size());
        h.s_len = static_cast<uint32_t>(f.value.s.size());
        store.append(f.value.s);
      } else {
        h.i = f.value.type == ValueType::kInt ? f.value.i : 0;
        h.d = f.value.type == ValueType::kDouble ? f.value.d : 0;
        h.b = f.value.type == ValueType::kBool ? f.value.b : false;
      }
      fields.push_back(h);
    }
  }

  // Fills `e` (a fresh event of `b`); strings go into b's arena.
  void restore(Batch& b, Event& e) const {
    e.time_ns = time_ns;
    e.offset = offset;
    e.stream = stream;
    e.flags = flags;
    if (fields.empty()) return;
    std::string_view s = b.copy(store);
    e.fields.reserve(fields.size());
    for (const F& h : fields) {
      Value v;
      switch (h.type) {
        case ValueType::kString: v = Value::string(s.substr(h.s_off, h.s_len)); break;
        case ValueType::kRawJson: v = Value::raw_json(s.substr(h.s_off, h.s_len)); break;
        case ValueType::kInt: v = Value::integer(h.i); break;
        case ValueType::kDouble: v = Value::real(h.d); break;
        case ValueType::kBool: v = Value::boolean(h.b); break;
        case ValueType::kNull: break;
      }
      e.fields.push_back(Field{s.substr(h.key_off, h.key_len), v});
    }
  }
};

// One output stream's (stdout, stderr, none) reassembly state.
struct Slot {
  uint8_t state = 0;
  bool open = false;
  bool takes_trace = false;     // the group is one line that a trace starting next may join
  bool held = false;            // the group lives in `text`/`first`, not in the current batch
  uint32_t nlines = 0;          // lines in the group, tentative ones included
  uint32_t tentative = 0;       // trailing lines not yet confirmed
  std::size_t bytes = 0;        // joined size, tentative lines included
  uint8_t flags = 0;            // OR of the continuation lines' flags
  // In-batch group: where its event sits in the output, and its lines (views into the batch).
  std::size_t out_index = 0;
  std::vector<std::string_view> lines;
  std::vector<uint32_t> line_src;   // input index of each line (tentative lines re-emit it)
  // Held group.
  std::string text;                   // lines joined with '\n'
  std::vector<uint32_t> line_ends;    // end offset of each line in `text`
  HeldEvent first;
  AckSet acks;
  TimePoint last_line{};
};

// Held-group capacity a slot keeps for its next group; more is returned to the allocator.
constexpr std::size_t kKeepHeldBytes = 4096;

constexpr std::size_t slot_of(Stream s) { return static_cast<std::size_t>(s) % 3; }

class MultilineProcessor final : public Processor {
 public:
  explicit MultilineProcessor(std::shared_ptr<const MultilineSetup> setup)
      : setup_(std::move(setup)), o_(setup_->o) {}

  void process(Batch& batch) override {
    const RulesChoice& choice =
        rules_.get(batch, [&](const SourceInfo& s) { return setup_->rules_for(s); });
    if (choice.rules == nullptr && !choice.detect) return;
    const LineRules* rules = choice.detect ? detected_ : choice.rules;
    const TimePoint now = SteadyClock::now();
    auto& in = batch.events();
    std::pmr::vector<Event> out(batch.arena());
    out.reserve(in.size() + 2);
    AckSet emitted_holds;   // acks of held groups emitted into this batch
    std::array<bool, 3> touched{};

    for (std::size_t i = 0; i < in.size(); ++i) {
      Event& e = in[i];
      Slot& s = slots_[slot_of(e.stream)];
      LineAction a;
      if (rules != nullptr) {
        a = rules->classify(e.message, s.open, s.state);
      } else if (parsers::Detection d = parsers::detect_rules(e.message); d.rules != nullptr) {
        rules = settle(d);
        a = rules->classify(e.message, s.open, s.state);
      } else {
        s.state = 0;
        a = d.maybe_trace_start               ? LineAction::kMaybeTraceStart
            : parsers::lines::json_line(e.message) ? LineAction::kSingle
                                                   : LineAction::kStart;
      }
      if (a == LineAction::kTraceStart || a == LineAction::kMaybeTraceStart) {
        a = joins_statement(s, rules, now) ? (a == LineAction::kTraceStart
                                                  ? LineAction::kAppend
                                                  : LineAction::kAppendTentative)
                                           : LineAction::kTraceStart;
      }
      if (s.open && (a == LineAction::kAppend || a == LineAction::kAppendTentative)) {
        if (s.nlines + 1 > static_cast<uint64_t>(o_.max_lines) ||
            s.bytes + 1 + e.message.size() > o_.max_bytes.bytes) {
          setup_->splits->fetch_add(1, std::memory_order_relaxed);
          // The group goes on in a new part that starts with this line; the rule's state is
          // kept so the following continuation lines join that part.
          close(s, batch, in, out, emitted_holds);
          open_here(s, e, i, out);
          touched[slot_of(e.stream)] = true;
          continue;
        }
        append(s, e, i, a == LineAction::kAppendTentative);
        touched[slot_of(e.stream)] = true;
        continue;
      }
      if (s.open) close(s, batch, in, out, emitted_holds);
      if (a == LineAction::kSingle) {
        out.push_back(std::move(e));
        continue;
      }
      open_here(s, e, i, out);
      s.takes_trace = a == LineAction::kStart;
      touched[slot_of(e.stream)] = true;
    }

    // Groups still open are held: copy them out of the batch, leave a hole where they were.
    std::array<std::size_t, 3> holes{};
    std::size_t nholes = 0;
    for (std::size_t k = 0; k < slots_.size(); ++k) {
      Slot& s = slots_[k];
      if (!s.open) continue;
      if (touched[k]) s.last_line = now;
      if (!s.held) {
        hold(s, out[s.out_index]);
        holes[nholes++] = s.out_index;
      }
    }
    // At most three holes: erase from the back so earlier indexes stay valid.
    while (nholes > 0) {
      std::size_t top = 0;
      for (std::size_t h = 1; h < nholes; ++h) {
        if (holes[h] > holes[top]) top = h;
      }
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(holes[top]));
      holes[top] = holes[--nholes];
    }
    // Share this batch's own acks into every open group first, then add the references of the
    // groups emitted here, so a holder never keeps references of data it already let go.
    for (Slot& s : slots_) {
      if (s.open) batch.acks().share_into(s.acks);
    }
    batch.acks().take_from(emitted_holds);
    in.swap(out);
    charge_.set(held_bytes());
  }

  void flush(Batch& out, TimePoint now, bool force) override {
    std::pmr::vector<Event> none(out.arena());
    AckSet emitted;
    for (Slot& s : slots_) {
      if (!s.open) continue;
      if (!force && s.last_line + o_.flush_timeout > now) continue;
      if (!force) setup_->timeouts->fetch_add(1, std::memory_order_relaxed);
      // Tentative lines are whole lines of their own; close() emits them separately.
      close(s, out, none, out.events(), emitted);
      s.state = 0;
    }
    out.acks().take_from(emitted);
    charge_.set(held_bytes());
  }

  std::optional<TimePoint> next_flush() const override {
    std::optional<TimePoint> best;
    for (const Slot& s : slots_) {
      if (!s.open) continue;
      TimePoint t = s.last_line + o_.flush_timeout;
      if (!best || t < *best) best = t;
    }
    return best;
  }

 private:
  // Heap the held groups keep (capacity: cleared buffers keep theirs for the next group).
  std::size_t held_bytes() const {
    std::size_t n = 0;
    for (const Slot& s : slots_) {
      n += s.text.capacity() + s.line_ends.capacity() * sizeof(uint32_t) +
           s.first.store.capacity() + s.first.fields.capacity() * sizeof(HeldEvent::F);
    }
    return n;
  }

  // A trace starts on this line: it joins the open group if that is a single line which is a
  // log statement (as the stream's rule set sees it; while detecting, a common header with an
  // error level) and the trace came within flush_timeout of it. A statement is thus held only
  // until the next line decides, as any line is.
  bool joins_statement(const Slot& s, const LineRules* rules, TimePoint now) const {
    if (!s.open || !s.takes_trace) return false;
    if (s.held && s.last_line + o_.flush_timeout < now) return false;
    std::string_view first = s.held ? held_line(s, 0) : s.lines[0];
    return rules != nullptr ? rules->statement(first)
                            : parsers::log_statement(parsers::lines::rstrip_cr(first));
  }

  // Detection found the stream's rule set: keep it, and replay the open groups' lines through
  // it so its per-group state (inside a panic, after a header ...) is what it would have been.
  const LineRules* settle(const parsers::Detection& d) {
    detected_ = d.rules;
    setup_->count_detected(d.name);
    for (Slot& s : slots_) {
      if (!s.open) continue;
      s.state = 0;
      for (uint32_t k = 0; k < s.nlines; ++k) {
        std::string_view line = s.held ? held_line(s, k) : s.lines[k];
        detected_->classify(line, k > 0, s.state);
      }
    }
    return detected_;
  }

  static std::string_view held_line(const Slot& s, uint32_t k) {
    const uint32_t b = k == 0 ? 0 : s.line_ends[k - 1] + 1;
    return std::string_view(s.text).substr(b, s.line_ends[k] - b);
  }

  void open_here(Slot& s, Event& e, std::size_t i, std::pmr::vector<Event>& out) {
    s.open = true;
    s.takes_trace = false;
    s.held = false;
    s.nlines = 1;
    s.tentative = 0;
    s.bytes = e.message.size();
    s.flags = 0;
    s.out_index = out.size();
    s.lines.clear();
    s.line_src.clear();
    s.lines.push_back(e.message);
    s.line_src.push_back(static_cast<uint32_t>(i));
    out.push_back(std::move(e));
  }

  void append(Slot& s, const Event& e, std::size_t i, bool tentative) {
    s.takes_trace = false;   // a statement is one line; what follows it is no longer one
    s.tentative = tentative ? s.tentative + 1 : 0;
    ++s.nlines;
    s.bytes += 1 + e.message.size();
    s.flags |= e.flags;
    if (s.held) {
      s.text.push_back('\n');
      s.text.append(e.message);
      s.line_ends.push_back(static_cast<uint32_t>(s.text.size()));
    } else {
      s.lines.push_back(e.message);
      s.line_src.push_back(static_cast<uint32_t>(i));
    }
  }

  // Copies an in-batch group into the slot's own storage.
  void hold(Slot& s, const Event& first) {
    s.first.save(first);
    s.text.clear();
    s.line_ends.clear();
    for (std::size_t k = 0; k < s.lines.size(); ++k) {
      if (k) s.text.push_back('\n');
      s.text.append(s.lines[k]);
      s.line_ends.push_back(static_cast<uint32_t>(s.text.size()));
    }
    s.first.flags |= s.flags;
    s.flags = 0;
    s.held = true;
    s.lines.clear();
    s.line_src.clear();
  }

  // Emits the group into `out` (its confirmed lines as one event, then each tentative line
  // alone) and resets the slot. `in` holds the input events of an in-batch group.
  void close(Slot& s, Batch& batch, std::pmr::vector<Event>& in, std::pmr::vector<Event>& out,
             AckSet& emitted) {
    const std::size_t confirmed = s.nlines - s.tentative;
    if (!s.held) {
      Event& ev = out[s.out_index];
      if (confirmed > 1) {
        std::size_t len = confirmed - 1;
        for (std::size_t k = 0; k < confirmed; ++k) len += s.lines[k].size();
        char* p = batch.allocate(len);
        char* w = p;
        for (std::size_t k = 0; k < confirmed; ++k) {
          if (k) *w++ = '\n';
          if (s.lines[k].empty()) continue;   // an empty view may have no data pointer
          std::memcpy(w, s.lines[k].data(), s.lines[k].size());
          w += s.lines[k].size();
        }
        ev.message = std::string_view(p, len);
        ev.flags |= s.flags;
      }
      for (std::size_t k = confirmed; k < s.nlines; ++k) out.push_back(std::move(in[s.line_src[k]]));
    } else {
      std::size_t end = s.line_ends[confirmed - 1];
      Event& ev = out.emplace_back(batch.arena());
      s.first.restore(batch, ev);
      ev.flags |= s.flags;
      ev.message = batch.copy(std::string_view(s.text).substr(0, end));
      for (std::size_t k = confirmed; k < s.nlines; ++k) {
        std::size_t b = s.line_ends[k - 1] + 1;
        Event& t = out.emplace_back(batch.arena());
        s.first.restore(batch, t);
        t.message = batch.copy(std::string_view(s.text).substr(b, s.line_ends[k] - b));
      }
      emitted.take_from(s.acks);
    }
    if (confirmed > 1) {
      setup_->groups->fetch_add(1, std::memory_order_relaxed);
      setup_->lines_merged->fetch_add(confirmed - 1, std::memory_order_relaxed);
    }
    s.open = false;
    s.takes_trace = false;
    s.held = false;
    s.nlines = 0;
    s.tentative = 0;
    s.bytes = 0;
    s.flags = 0;
    s.lines.clear();
    s.line_src.clear();
    s.text.clear();
    s.line_ends.clear();
    // A long group's buffer is let go: thousands of streams must not each keep their largest.
    if (s.text.capacity() > kKeepHeldBytes) {
      std::string().swap(s.text);
      std::vector<uint32_t>().swap(s.line_ends);
    }
  }

  std::shared_ptr<const MultilineSetup> setup_;
  const MultilineOptions& o_;
  parsers::PerSource<RulesChoice> rules_;
  const LineRules* detected_ = nullptr;   // rules: auto, no label: the set the lines showed
  std::array<Slot, 3> slots_;
  MemoryCharge charge_{MemoryPart::kMultiline};
};

}  // namespace

const PluginInfo& multiline_processor() {
  static const PluginInfo info{
      PluginKind::kProcessor, "multiline",
      "Joins log statements and the stack traces under them into one event (java, python, go, "
      "nodejs, ruby, dotnet, php, header, custom; auto detects the set per stream).",
      &schema_of<MultilineOptions>, nullptr,
      &parsers::bind_shared<MultilineOptions, MultilineSetup, MultilineProcessor>};
  return info;
}

}  // namespace logship::plugins
