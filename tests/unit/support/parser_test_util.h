#pragma once
// Builds processors through their real plugin binding (YAML options, shared setup) and batches
// of plain lines, and renders an event's fields as JSON for byte-exact comparisons.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <vector>

#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/metrics.h"

namespace logship::testing {

// Keeps the maker (and so the shared setup) alive as long as the processors made from it.
struct Made {
  ProcessorMaker maker;
  std::unique_ptr<Processor> p;
  Processor* operator->() { return p.get(); }
};

inline ProcessorMaker bind(std::string_view type, const std::string& name,
                           const std::string& yaml, std::string* error = nullptr) {
  const PluginInfo* info = find_plugin(PluginKind::kProcessor, type);
  EXPECT_NE(info, nullptr) << type;
  if (info == nullptr) return {};
  config::Errors errors;
  YAML::Node node = yaml.empty() ? YAML::Node() : YAML::Load(yaml);
  ProcessorMaker m =
      info->bind_processor(node, errors, PluginContext{PluginKind::kProcessor, name, std::string(type)});
  if (error != nullptr) {
    *error = errors.all().empty() ? "" : errors.all().front().message;
  }
  return m;
}

inline Made make(std::string_view type, const std::string& name, const std::string& yaml) {
  Made m;
  m.maker = bind(type, name, yaml);
  EXPECT_TRUE(static_cast<bool>(m.maker)) << "options did not bind: " << yaml;
  if (m.maker) m.p = m.maker();
  return m;
}

inline std::shared_ptr<SourceInfo> source(
    std::vector<std::pair<std::string, std::string>> labels = {}) {
  auto s = std::make_shared<SourceInfo>();
  s->input = "test";
  s->key = "test:stream";
  s->labels = std::move(labels);
  return s;
}

inline BatchPtr batch(const std::shared_ptr<const SourceInfo>& src,
                      const std::vector<std::string>& messages, Stream stream = Stream::kStdout) {
  auto b = std::make_unique<Batch>(src, messages.size() + 1);
  uint64_t off = 0;
  for (const auto& m : messages) {
    Event& e = b->add_event();
    e.message = b->copy(m);
    e.stream = stream;
    e.offset = off;
    off += m.size() + 1;
  }
  return b;
}

// {"key":value,...} of the event's fields in order.
inline std::string fields_json(const Event& e) {
  std::string out = "{";
  bool first = true;
  for (const Field& f : e.fields) {
    if (!first) out.push_back(',');
    first = false;
    json::append_string(out, f.key);
    out.push_back(':');
    json::append_value(out, f.value);
  }
  out.push_back('}');
  return out;
}

inline std::vector<std::string> messages(const Batch& b) {
  std::vector<std::string> r;
  for (const Event& e : b.events()) r.emplace_back(e.message);
  return r;
}

inline int64_t metric(std::string_view name, const std::string& processor) {
  return Metrics::global().value(name, "processor=\"" + processor + "\"");
}

}  // namespace logship::testing
