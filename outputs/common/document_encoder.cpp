#include "outputs/common/document_encoder.h"

#include <algorithm>

namespace logship::plugins::doc {
namespace {

// std::sort, not stable_sort: that one takes a heap buffer per call, and this runs per event.
// The order field keeps equal paths of equal rank in the order they were mapped.
void sort_leaves(std::vector<Leaf>* leaves) {
  for (std::size_t i = 0; i < leaves->size(); ++i) (*leaves)[i].order = static_cast<uint16_t>(i);
  std::sort(leaves->begin(), leaves->end(), leaf_less);
}

}  // namespace

DocumentEncoder::DocumentEncoder(const DocumentOptions& o, HostIdentity host,
                                 json::EventKeys logship_keys)
    : schema_(parse_schema(o.schema_name)),
      // The logship layout keeps label keys as they are: it is the unchanged format.
      labels_(o.labels.include, o.labels.exclude, o.labels_max_bytes.bytes,
              o.dedot && schema_ != Schema::kLogship),
      fields_under_(o.fields_under),
      host_(std::move(host)),
      keys_(logship_keys) {}

void DocumentEncoder::begin_source(const SourceInfo& source) {
  source_ = &source;
  if (schema_ == Schema::kLogship) {
    if (labels_.keeps_all()) {
      logship_source_ = json::encode_source(source);
    } else {
      SourceInfo kept = source;
      kept.labels = labels_.apply(source.labels);
      logship_source_ = json::encode_source(kept);
    }
    return;
  }
  owned_.clear();
  source_leaves_.clear();
  map_source(schema_, source, labels_.apply(source.labels), host_, &owned_, &source_leaves_);
  sort_leaves(&source_leaves_);
}

void DocumentEncoder::append(std::string& out, const Event& e) {
  if (schema_ == Schema::kLogship) {
    json::append_event(out, e, logship_source_, keys_);
    return;
  }
  out.append("{\"@timestamp\":\"");
  json::append_rfc3339(out, e.time_ns);
  out.append(schema_ == Schema::kEcs ? "\",\"message\":" : "\",\"body\":");
  json::append_string(out, e.message);
  event_leaves_.clear();
  if (e.stream != Stream::kNone) {
    Leaf l;
    l.kind = Leaf::Kind::kString;
    l.text = stream_name(e.stream);
    // Filebeat's container input writes `stream`; OpenTelemetry names it log.iostream.
    if (schema_ == Schema::kEcs) {
      l.key = "stream";
    } else {
      l.base = "attributes";
      l.key = "log.iostream";
    }
    event_leaves_.push_back(l);
  }
  for (const Field& f : e.fields) map_event_field(schema_, f, fields_under_, &event_leaves_);
  sort_leaves(&event_leaves_);
  merged_.clear();
  std::merge(source_leaves_.begin(), source_leaves_.end(), event_leaves_.begin(),
             event_leaves_.end(), std::back_inserter(merged_), leaf_less);
  write_leaves(out, merged_, /*has_members=*/true, &stack_);
  out.push_back('}');
}

}  // namespace logship::plugins::doc
