// Counts and discards: for benchmarks and for measuring the pipeline without I/O.
#include "daemon/registry/plugin.h"

namespace logship::plugins {
namespace {

struct NullOptions {
  static const config::OptionSchema<NullOptions>& schema() {
    static const config::OptionSchema<NullOptions> s;
    return s;
  }
};

class NullOutput final : public Output {
 public:
  explicit NullOutput(const NullOptions&) {}
  Status start(OutputContext&) override { return Status::ok(); }
  void deliver(std::span<const SharedBatch>, DeliverDone done) override {
    done(DeliveryResult::delivered());
  }
  void stop() override {}
};

}  // namespace

const PluginInfo& null_output() {
  static const PluginInfo info{PluginKind::kOutput, "null", "Discards events (they count as delivered).",
                               &schema_of<NullOptions>, nullptr, nullptr,
                               &bind_output<NullOptions, NullOutput>};
  return info;
}

}  // namespace logship::plugins
