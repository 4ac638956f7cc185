#pragma once
#include <string>

namespace logship {

// The process_* series every Prometheus client library exports (CPU seconds, resident and
// virtual memory, open and maximum descriptors, start time) read from /proc at scrape time,
// and logship_build_info{version,commit} 1. Appended to /metrics after the registry's series.
std::string render_process_metrics();

// The source commit the binary was configured from ("unknown" outside a git checkout).
const char* build_commit();

}  // namespace logship
