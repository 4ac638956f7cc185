#pragma once
// The `splunk_hec` preset's request body for the HEC events endpoint
// (/services/collector/event): one JSON object per event, concatenated (HEC's batch form),
//   {"time":<epoch s.micros>,"host":..,"source":..,"sourcetype":..,"index":..,
//    "event":<message>,"fields":{<stream and the event's fields as strings>}}
// host, sourcetype and index come from the configured fields (an event field or source tag, see
// event_lookup.h), else from the configured constants; an empty index is left out (the
// token's default index). source is the file the event was read from, else the input's name.
// The fields used for host, sourcetype and index are not repeated in "fields"; raw JSON
// values are sent as their text (HEC indexed fields are flat strings).
#include <span>
#include <string>

#include "outputs/common/http_batch_output.h"
#include "outputs/http/event_lookup.h"

namespace logship::plugins::httpout {

struct SplunkHecOptions {
  std::string host;                     // default host (the daemon's host name)
  std::string host_field = "host";
  std::string sourcetype = "logship";
  std::string sourcetype_field = "sourcetype";
  std::string index;
  std::string index_field = "index";
};

class SplunkHecEncoder final : public httpbatch::RequestEncoder {
 public:
  explicit SplunkHecEncoder(SplunkHecOptions o) : o_(std::move(o)) {}
  void encode(std::span<const httpbatch::Slice> slices, std::string& out) override;

 private:
  void event(std::string& out, const Event& e, const SourceInfo& s);
  // Whether a field is one of those read for host, sourcetype or index.
  bool is_metadata(std::string_view key) const {
    return key == o_.host_field || key == o_.sourcetype_field || key == o_.index_field;
  }

  const SplunkHecOptions o_;
};

}  // namespace logship::plugins::httpout
