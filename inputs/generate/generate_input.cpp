// Synthetic events at a given rate or count, for tests, demos and benchmarks. Messages carry
// their sequence number ("seq=N"), so a test can check that each arrived exactly once. The
// stream is checkpointed by sequence: a restarted counted generator continues where the
// delivered prefix ended and still produces exactly `count` events in all.
#include <charconv>
#include <cstring>
#include <thread>

#include "daemon/registry/plugin.h"
#include "daemon/runtime/log.h"

namespace logship::plugins {
namespace {

struct GenerateOptions {
  int64_t count = 0;
  int64_t rate = 0;
  config::ByteSize message_size{200};
  double json_ratio = 0;
  double multiline_ratio = 0;
  int64_t batch_events = 1024;
  std::string stream_key;

  static const config::OptionSchema<GenerateOptions>& schema() {
    using S = config::OptionSchema<GenerateOptions>;
    static const auto s =
        S{}.add("count", &GenerateOptions::count, "Events to produce in all; 0 = no limit.",
                config::at_least<int64_t>(0, "0"))
            .add("rate", &GenerateOptions::rate, "Events per second; 0 = as fast as possible.",
                 config::at_least<int64_t>(0, "0"))
            .add("message_size", &GenerateOptions::message_size,
                 "Length of each plain message (padded after 'seq=N').",
                 config::at_least(config::ByteSize(16), "16B"))
            .add("json_ratio", &GenerateOptions::json_ratio,
                 "Share (0..1) of messages that are JSON objects.")
            .add("multiline_ratio", &GenerateOptions::multiline_ratio,
                 "Share (0..1) of events that belong to Java stack traces, one event per line.")
            .add("batch_events", &GenerateOptions::batch_events, "Events per batch.",
                 config::in_range(1, 1 << 20))
            .add("stream_key", &GenerateOptions::stream_key,
                 "Checkpoint key; default: generate:<input name>.");
    return s;
  }
  Status validate() const {
    if (json_ratio < 0 || json_ratio > 1) {
      return Status::invalid("json_ratio must be between 0 and 1");
    }
    if (multiline_ratio < 0 || multiline_ratio > 1) {
      return Status::invalid("multiline_ratio must be between 0 and 1");
    }
    return Status::ok();
  }
};

constexpr std::string_view kTrace[] = {
    "java.lang.IllegalStateException: order service unavailable",
    "\tat com.shop.orders.OrderService.place(OrderService.java:87)",
    "\tat com.shop.api.OrderController.create(OrderController.java:42)",
    "\tat java.base/java.lang.Thread.run(Thread.java:833)",
};

class GenerateInput final : public Input {
 public:
  explicit GenerateInput(const GenerateOptions& o) : o_(o) {}
  ~GenerateInput() override { stop(); }

  Status start(InputContext& ctx) override {
    ctx_ = &ctx;
    auto src = std::make_shared<SourceInfo>();
    src->input = ctx.name();
    src->key = o_.stream_key.empty() ? "generate:" + ctx.name() : o_.stream_key;
    if (auto saved = ctx.saved_position(src->key)) seq_ = saved->offset;
    stream_ = ctx.open_stream(std::move(src));
    thread_ = std::thread([this] { run(); });
    return Status::ok();
  }

  void stop() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    const uint64_t count = static_cast<uint64_t>(o_.count);
    const auto started = SteadyClock::now();
    const uint64_t first = seq_;
    while (!ctx_->stopping() && (count == 0 || seq_ < count)) {
      uint64_t n = static_cast<uint64_t>(o_.batch_events);
      if (count != 0) n = std::min(n, count - seq_);
      if (o_.rate > 0) {
        // Pace by the schedule since start, so rounding never drifts.
        uint64_t due = static_cast<uint64_t>(
            std::chrono::duration<double>(SteadyClock::now() - started).count() * o_.rate);
        uint64_t produced = seq_ - first;
        if (produced >= due) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        n = std::min(n, due - produced);
      }
      BatchPtr batch = stream_->new_batch(n);
      const int64_t now = wall_now_ns();
      for (uint64_t i = 0; i < n; ++i) fill(*batch, seq_ + i, now);
      seq_ += n;
      if (!stream_->emit(std::move(batch), Position{seq_, {}})) break;
    }
    stream_->flush(true);
    if (count != 0 && seq_ >= count) ctx_->finished();
  }

  // Record kinds are decided by seq so a run is reproducible. A stack trace takes four
  // consecutive events (seq 4k..4k+3), one per line, as a container writes it.
  void fill(Batch& b, uint64_t seq, int64_t now) {
    const uint64_t group = seq / std::size(kTrace);
    const uint64_t trace_bucket = (group * 2654435761u) % 1000;
    const uint64_t bucket = (seq * 2246822519u) % 1000;
    Event& e = b.add_event();
    e.time_ns = now;
    e.offset = seq;
    e.stream = Stream::kStdout;
    char num[24];
    auto r = std::to_chars(num, num + sizeof num, seq);
    std::string_view seqs(num, static_cast<std::size_t>(r.ptr - num));
    if (trace_bucket < o_.multiline_ratio * 1000) {
      e.stream = Stream::kStderr;
      std::size_t line = seq % std::size(kTrace);
      std::string text = line == 0 ? "seq=" + std::string(seqs) + " " + std::string(kTrace[0])
                                   : std::string(kTrace[line]) + " seq=" + std::string(seqs);
      e.message = b.copy(text);
      return;
    }
    if (bucket < o_.json_ratio * 1000) {
      std::string j = "{\"level\":\"info\",\"seq\":" + std::string(seqs) +
                      ",\"msg\":\"request served\",\"status\":200,\"duration_ms\":12.5}";
      e.message = b.copy(j);
      return;
    }
    std::size_t size = std::max<std::size_t>(o_.message_size.bytes, seqs.size() + 5);
    char* p = b.allocate(size);
    std::memcpy(p, "seq=", 4);
    std::memcpy(p + 4, seqs.data(), seqs.size());
    std::size_t used = 4 + seqs.size();
    p[used++] = ' ';
    for (std::size_t k = used; k < size; ++k) p[k] = static_cast<char>('a' + (k % 26));
    e.message = std::string_view(p, size);
  }

  GenerateOptions o_;
  InputContext* ctx_ = nullptr;
  std::unique_ptr<StreamHandle> stream_;
  uint64_t seq_ = 0;
  std::thread thread_;
};

}  // namespace

const PluginInfo& generate_input() {
  static const PluginInfo info{PluginKind::kInput, "generate",
                               "Synthetic events at a rate or count (plain, JSON, stack traces).",
                               &schema_of<GenerateOptions>,
                               &bind_input<GenerateOptions, GenerateInput>};
  return info;
}

}  // namespace logship::plugins
