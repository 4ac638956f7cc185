// Reads lines from standard input; each line becomes an event. Not replayable, so not
// checkpointed. At end of file the input is finished (with service.exit_when_done, the daemon
// drains and exits: `producer | logship run -c cfg`).
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "daemon/registry/plugin.h"
#include "daemon/runtime/memory_budget.h"

namespace logship::plugins {
namespace {

struct StdinOptions {
  config::ByteSize max_line{1 << 20};
  int64_t batch_events = 1024;
  static const config::OptionSchema<StdinOptions>& schema() {
    static const auto s =
        config::OptionSchema<StdinOptions>{}
            .add("max_line", &StdinOptions::max_line,
                 "Longer lines are cut into events of this size (marked truncated).",
                 config::at_least(config::ByteSize(64), "64B"))
            .add("batch_events", &StdinOptions::batch_events, "Most events per batch.",
                 config::in_range(1, 1 << 20));
    return s;
  }
};

class StdinInput final : public Input {
 public:
  explicit StdinInput(const StdinOptions& o) : o_(o) {}
  ~StdinInput() override { stop(); }

  Status start(InputContext& ctx) override {
    ctx_ = &ctx;
    auto src = std::make_shared<SourceInfo>();
    src->input = ctx.name();
    src->key = "stdin:" + ctx.name();
    stream_ = ctx.open_stream(std::move(src), /*checkpointed=*/false);
    thread_ = std::thread([this] { run(); });
    return Status::ok();
  }
  void stop() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void add(Batch& b, std::string_view line, bool truncated) {
    Event& e = b.add_event();
    e.time_ns = wall_now_ns();
    e.offset = offset_;
    if (truncated) e.flags |= kEventTruncated;
    e.message = b.copy(line);
  }

  void run() {
    std::string buf;
    std::vector<char> chunk(256 * 1024);
    bool eof = false;
    while (!ctx_->stopping() && !eof) {
      pollfd p{0, POLLIN, 0};
      int pr = ::poll(&p, 1, 100);
      if (pr == 0) continue;
      if (pr < 0 && errno == EINTR) continue;
      ssize_t n = ::read(0, chunk.data(), chunk.size());
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      BatchPtr batch = stream_->new_batch(256);
      if (n <= 0) {
        eof = true;
        if (!buf.empty()) add(*batch, buf, false);
        buf.clear();
      } else {
        buf.append(chunk.data(), static_cast<std::size_t>(n));
        std::size_t start = 0;
        while (true) {
          const char* nl = static_cast<const char*>(
              std::memchr(buf.data() + start, '\n', buf.size() - start));
          if (nl == nullptr) break;
          std::size_t end = static_cast<std::size_t>(nl - buf.data());
          std::size_t len = end - start;
          if (len > 0 && buf[end - 1] == '\r') --len;
          add(*batch, std::string_view(buf.data() + start, len), false);
          offset_ += end + 1 - start;
          start = end + 1;
          if (batch->size() >= static_cast<std::size_t>(o_.batch_events)) {
            if (!stream_->emit(std::move(batch), Position{offset_, {}})) return;
            batch = stream_->new_batch(256);
          }
        }
        buf.erase(0, start);
        mem_.set(chunk.capacity() + buf.capacity());
        while (buf.size() >= o_.max_line.bytes) {
          add(*batch, std::string_view(buf.data(), o_.max_line.bytes), true);
          offset_ += o_.max_line.bytes;
          buf.erase(0, o_.max_line.bytes);
        }
      }
      if (batch->size() > 0 && !stream_->emit(std::move(batch), Position{offset_, {}})) return;
    }
    stream_->flush(true);
    if (eof) ctx_->finished();
  }

  StdinOptions o_;
  InputContext* ctx_ = nullptr;
  std::unique_ptr<StreamHandle> stream_;
  uint64_t offset_ = 0;
  MemoryCharge mem_{MemoryPart::kReadBuffers};   // the read chunk and an incomplete line
  std::thread thread_;
};

}  // namespace

const PluginInfo& stdin_input() {
  static const PluginInfo info{PluginKind::kInput, "stdin", "Reads lines from standard input.",
                               &schema_of<StdinOptions>, &bind_input<StdinOptions, StdinInput>};
  return info;
}

}  // namespace logship::plugins
