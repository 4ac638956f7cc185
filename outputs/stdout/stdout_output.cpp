// Writes events to standard output, one per line: JSON objects or raw messages.
#include <unistd.h>

#include <cerrno>

#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"
#include "outputs/common/record_format.h"

namespace logship::plugins {
namespace {

struct StdoutOptions {
  RecordFormat format = RecordFormat::kJson;
  static const config::OptionSchema<StdoutOptions>& schema() {
    static const auto s = config::OptionSchema<StdoutOptions>{}.add(
        "format", &StdoutOptions::format,
        "json: one JSON object per event; raw: the message only.");
    return s;
  }
};

class StdoutOutput final : public Output {
 public:
  explicit StdoutOutput(const StdoutOptions& o) : raw_(o.format == RecordFormat::kRaw) {}
  Status start(OutputContext&) override { return Status::ok(); }
  void deliver(std::span<const SharedBatch> batches, DeliverDone done) override {
    buf_.clear();
    for (const auto& b : batches) {
      const std::string src = raw_ ? std::string() : json::encode_source(b->source());
      for (const Event& e : b->events()) {
        if (raw_) {
          buf_.append(e.message);
        } else {
          json::append_event(buf_, e, src);
        }
        buf_.push_back('\n');
      }
    }
    std::size_t off = 0;
    while (off < buf_.size()) {
      ssize_t n = ::write(1, buf_.data() + off, buf_.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        done(DeliveryResult::retry("write to stdout failed"));
        return;
      }
      off += static_cast<std::size_t>(n);
    }
    done(DeliveryResult::delivered());
  }
  void stop() override {}

 private:
  bool raw_;
  std::string buf_;
};

}  // namespace

const PluginInfo& stdout_output() {
  static const PluginInfo info{PluginKind::kOutput, "stdout",
                               "Writes events to standard output as JSON lines or raw messages.",
                               &schema_of<StdoutOptions>, nullptr, nullptr,
                               &bind_output<StdoutOptions, StdoutOutput>};
  return info;
}

}  // namespace logship::plugins
