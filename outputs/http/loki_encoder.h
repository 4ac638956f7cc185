#pragma once
// The `loki` preset's request body: a push request (POST /loki/api/v1/push) with one stream per
// label set among the request's events (streams in order of first appearance) and each
// stream's entries ordered by time (events of equal time keep their order), as Loki refuses
// out-of-order entries within a stream.
//  - json: {"streams":[{"stream":{"k":"v",...},"values":[["<unix ns>","<line>"],...]},...]}
//  - protobuf: logproto.PushRequest (streams: labels as `{k="v", ...}`, entries: timestamp and
//    line), snappy-compressed as Loki expects for application/x-protobuf.
// Labels come only from the configured fields (plus static labels), never from every container
// label: each label set is a Loki stream, and Loki's cardinality limits refuse many of them.
// A field an event lacks is left out of its label set; values are cut to kMaxLabelValueBytes.
// No allocation per event once the buffers have grown to the size of a request.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "outputs/common/http_batch_output.h"
#include "outputs/http/event_lookup.h"

namespace logship::plugins::httpout {

// Loki's own default limit is 2048; a label value longer than this is a message, not a label.
inline constexpr std::size_t kMaxLabelValueBytes = 1024;
// Loki's default max_label_names_per_series.
inline constexpr std::size_t kMaxLokiLabels = 15;

struct LokiOptions {
  bool protobuf = false;
  bool json_line = false;                         // line: the event as logship JSON, not the message
  std::vector<std::string> label_fields;          // label name = field name
  std::map<std::string, std::string> static_labels;
};

// True for a valid Prometheus/Loki label name: [a-zA-Z_][a-zA-Z0-9_]*.
bool valid_label_name(std::string_view name);

class LokiEncoder final : public httpbatch::RequestEncoder {
 public:
  explicit LokiEncoder(LokiOptions o);
  void encode(std::span<const httpbatch::Slice> slices, std::string& out) override;

 private:
  // One label of the request: its name, and whether it is static (value in static_value).
  struct Label {
    std::string name;
    bool is_static = false;
    std::string static_value;
  };
  struct Entry {
    uint32_t stream;
    uint32_t order;   // position in the request: ties of time keep it
    int64_t time_ns;
    const Event* event;
    const Batch* batch;
  };
  // A stream: its label set is that of its first event (the values are read again from it).
  struct StreamInfo {
    uint64_t hash;
    const Event* event;
    const SourceInfo* source;
  };

  void collect(std::span<const httpbatch::Slice> slices);
  // The label value of `label` for an event ("" = absent), cut to kMaxLabelValueBytes.
  std::string_view value(const Label& label, const Event& e, const SourceInfo& s,
                         LookupScratch& scratch) const;
  bool same_labels(const Event& a, const SourceInfo& as, const Event& b, const SourceInfo& bs) const;
  uint32_t stream_of(const Event& e, const SourceInfo& s);
  void line(const Entry& e, std::string& out);
  void json(std::string& out);
  void protobuf(std::string& out);

  const LokiOptions o_;
  std::vector<Label> labels_;                    // sorted by name; static and field labels
  std::vector<Entry> entries_;
  std::vector<StreamInfo> streams_;
  std::vector<uint32_t> table_;                  // open addressing: stream index + 1, 0 = empty
  std::string scratch_;                          // the protobuf before compression; a JSON line
  std::shared_ptr<const SourceInfo> source_;   // whose tags and labels encoded_source_ holds
  std::string encoded_source_;
};

}  // namespace logship::plugins::httpout
