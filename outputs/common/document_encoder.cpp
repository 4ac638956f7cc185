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
  groups_.clear();
  for (std::size_t i = 0; i < source_leaves_.size();) {
    const std::string_view first = first_segment(source_leaves_[i]);
    std::size_t j = i + 1;
    while (j < source_leaves_.size() && first_segment(source_leaves_[j]) == first) ++j;
    Group g{first, i, j, source_leaves_[i]};
    const bool top_level_value = j == i + 1 && source_leaves_[i].base.empty() &&
                                 source_leaves_[i].rest.empty();
    if (!top_level_value) {
      // `"first":{...}` rendered once; the leaf keeps the `{...}` after the key.
      std::string& rendered = owned_.emplace_back();
      const std::span<const Leaf> leaves(source_leaves_.data() + i, j - i);
      write_leaves(rendered, leaves, /*has_members=*/false, &stack_);
      std::string key;
      json::append_string(key, first);
      g.whole = Leaf::json({}, first, std::string_view(rendered).substr(key.size() + 1));
    }
    groups_.push_back(g);
    i = j;
  }
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
  // A source member the event's leaves also enter is merged leaf by leaf; the others go in
  // whole. Source leaves first: they win ties of path and rank.
  merged_.clear();
  for (const Group& g : groups_) {
    bool entered = false;
    for (const Leaf& l : event_leaves_) entered = entered || first_segment(l) == g.first;
    if (entered) {
      merged_.insert(merged_.end(), source_leaves_.begin() + static_cast<std::ptrdiff_t>(g.begin),
                     source_leaves_.begin() + static_cast<std::ptrdiff_t>(g.end));
    } else {
      merged_.push_back(g.whole);
    }
  }
  merged_.insert(merged_.end(), event_leaves_.begin(), event_leaves_.end());
  sort_leaves(&merged_);
  write_leaves(out, merged_, /*has_members=*/true, &stack_);
  out.push_back('}');
}

}  // namespace logship::plugins::doc
