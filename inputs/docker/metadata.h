#pragma once
// Container metadata for enrichment and selection. Docker: <root>/containers/<id>/config.v2.json
// (never Config.Env: it holds secrets). CRI: the pod directory name and container folder.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/batch.h"
#include "daemon/core/status.h"

namespace logship::docker {

// The pod a CRI container belongs to (from its directory's name).
struct PodMeta {
  std::string namespace_name, pod, pod_uid;
};

struct ContainerMeta {
  std::string id;
  std::string name;        // without Docker's leading '/'
  std::string image;       // Config.Image, as the user gave it
  std::string hostname;
  std::unique_ptr<PodMeta> pod;   // CRI only: apart, so 10,000 Docker containers carry none
  std::vector<std::pair<std::string, std::string>> labels;
  const std::string* label(std::string_view k) const;
  // The bytes its strings and labels hold: what it costs to keep while the container exists.
  std::size_t held_bytes() const;
};

// Parses config.v2.json text. Corrupt on anything that is not a container config.
Result<ContainerMeta> parse_container_config(std::string_view json);

// Labels are set by whoever starts the container: bounded before they ride along on every event.
struct LabelLimits {
  std::size_t max_labels = 64;
  std::size_t max_total_bytes = 16 << 10;   // keys + values
  std::size_t max_value_bytes = 4 << 10;
};

// Drops labels beyond the limits: a value over max_value_bytes, then whatever no longer fits
// the count or the byte total. The labels this file turns into tags (compose project and
// service) are kept first; the rest in key order. Returns how many were dropped.
std::size_t limit_labels(const LabelLimits& limits,
                         std::vector<std::pair<std::string, std::string>>* labels);

// CRI: "<namespace>_<pod>_<uid>" + container folder name. False if the directory is not of that
// shape (namespace and pod names cannot contain '_').
bool parse_cri_pod_dir(std::string_view pod_dir, std::string_view container, ContainerMeta* out);

// Tags in the conventional keys and the labels, for every stream of the container;
// `file_path`: the log file the stream is read from; `container_id`: when not in m.id.
std::shared_ptr<const SourceInfo> make_source(const std::string& input, const std::string& key,
                                              const ContainerMeta& m,
                                              const std::string& file_path = {},
                                              const std::string& container_id = {});

// Include/exclude by glob (fnmatch). Each non-empty include list must have a match; any exclude
// match, or opt_out_label set to "false", excludes. Label patterns are "key" or "key=value",
// both sides globs.
struct ContainerFilter {
  std::vector<std::string> include_names, exclude_names;
  std::vector<std::string> include_images, exclude_images;
  std::vector<std::string> include_labels, exclude_labels;
  std::string opt_out_label = "logship.enable";
  bool active() const;
  // "" when the container is selected, otherwise why not (for the log).
  std::string reject_reason(const ContainerMeta& m) const;
};

}  // namespace logship::docker
