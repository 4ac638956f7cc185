#pragma once
// Turns events into JSON documents in the field schema an output chose (ecs, otel or the flat
// logship layout). One per sender thread: begin_source() maps what every event of a batch
// shares (container, host, labels) once; append() then adds each event's own values, reusing
// its buffers so that no event allocates.
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/batch.h"
#include "daemon/core/host_identity.h"
#include "daemon/core/json_writer.h"
#include "outputs/common/document_options.h"
#include "outputs/common/document_tree.h"
#include "outputs/common/field_mapping.h"
#include "outputs/common/label_policy.h"

namespace logship::plugins::doc {

class DocumentEncoder {
 public:
  // `logship_keys`: the top-level keys of the logship layout (the elasticsearch output uses
  // @timestamp).
  DocumentEncoder(const DocumentOptions& o, HostIdentity host,
                  json::EventKeys logship_keys = json::EventKeys{});

  Schema schema() const { return schema_; }
  // Call before the events of each batch.
  void begin_source(const SourceInfo& source);
  // Appends the event as one JSON object, without a newline.
  void append(std::string& out, const Event& e);

 private:
  const Schema schema_;
  const LabelPolicy labels_;
  const std::string fields_under_;
  const HostIdentity host_;
  const json::EventKeys keys_;
  const SourceInfo* source_ = nullptr;
  std::string logship_source_;       // logship: the source's tags and labels, encoded
  std::deque<std::string> owned_;    // strings the source leaves view
  std::vector<Leaf> source_leaves_;  // sorted
  // The source leaves by top-level member (container, host ...), each also rendered whole: an
  // event whose own leaves do not enter that member writes it as one piece of JSON.
  struct Group {
    std::string_view first;
    std::size_t begin, end;   // in source_leaves_
    Leaf whole;
  };
  std::vector<Group> groups_;
  std::vector<Leaf> event_leaves_;
  std::vector<Leaf> merged_;
  std::vector<std::string_view> stack_;
};

}  // namespace logship::plugins::doc
