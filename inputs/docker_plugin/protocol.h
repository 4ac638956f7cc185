#pragma once
// Request bodies of Docker's log-driver plugin protocol (formats.md §3.2) and the container
// metadata the plugin keeps. Parsing never throws: each function returns "" or a message fit for
// the {"Err":...} reply.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "daemon/core/batch.h"
#include "daemon/core/status.h"

namespace logship::docker_plugin {

using StringPairs = std::vector<std::pair<std::string, std::string>>;

// From StartLogging/ReadLogs `Info`. ContainerEnv is never read: it carries secrets.
struct ContainerInfo {
  std::string id;
  std::string name;    // without the leading '/'
  std::string image;   // ContainerImageName
  StringPairs labels;  // ContainerLabels
  StringPairs log_opts;   // Config: the --log-opt map
};

struct StartRequest {
  std::string file;
  ContainerInfo info;
};

struct ReadRequest {
  ContainerInfo info;
  int64_t since_ns = INT64_MIN;   // unbounded when zero time or absent
  int64_t until_ns = INT64_MAX;
  int64_t tail = -1;              // -1 = all
  bool follow = false;
};

// Invalid (saying which member is wrong) for a request the plugin answers with 400.
Status parse_start_logging(std::string_view body, simdjson::dom::parser& p, StartRequest* out);
Status parse_stop_logging(std::string_view body, simdjson::dom::parser& p, std::string* file);
Status parse_read_logs(std::string_view body, simdjson::dom::parser& p, ReadRequest* out);

// RFC 3339 with optional fraction (up to 9 digits) and Z or ±hh:mm. Go's zero time
// (0001-01-01T00:00:00Z) and anything before 1678 (outside int64 ns) give INT64_MIN.
bool parse_rfc3339_ns(std::string_view s, int64_t* ns);

// Container ids name directories: 1-128 of [A-Za-z0-9_.-], not starting with '.'.
bool valid_container_id(std::string_view id);

// Tags container_id, container_name, image (+ compose_project/compose_service from labels),
// exactly as the docker input sets them; labels = container labels, then each
// --log-opt logship-<x>=v as label logship.<x>=v (overriding a container label of that name),
// so processors select parsers/multiline per container the same way in both modes.
std::shared_ptr<SourceInfo> make_source(const std::string& input, const std::string& key,
                                        const ContainerInfo& info);

// The persisted per-container state: its metadata and the FIFOs being read (reopened after a
// restart of the plugin, since the engine does not send StartLogging again).
std::string container_state_json(const ContainerInfo& info, const std::vector<std::string>& files);
bool parse_container_state(std::string_view text, simdjson::dom::parser& p, ContainerInfo* info,
                           std::vector<std::string>* files);

}  // namespace logship::docker_plugin
