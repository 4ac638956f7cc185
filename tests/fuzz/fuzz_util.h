#pragma once
// Shared by the fuzz targets: processors built through their real plugin binding, batches of
// lines, and a JSON validity check of what an output would write.
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/batch.h"
#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"

namespace logship::fuzz {

// Bound once per process: the maker keeps shared setup (compiled rules, metrics) alive.
inline ProcessorMaker bind(std::string_view type, const std::string& name, const std::string& yaml) {
  const PluginInfo* info = find_plugin(PluginKind::kProcessor, type);
  if (info == nullptr) __builtin_trap();
  config::Errors errors;
  ProcessorMaker m = info->bind_processor(YAML::Load(yaml), errors,
                                          PluginContext{PluginKind::kProcessor, name, std::string(type)});
  if (!m) __builtin_trap();
  return m;
}

inline std::vector<std::string_view> split_lines(std::string_view in) {
  std::vector<std::string_view> out;
  while (!in.empty()) {
    std::size_t nl = in.find('\n');
    out.push_back(in.substr(0, nl));
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  return out;
}

inline std::shared_ptr<const SourceInfo> source() {
  static auto s = [] {
    auto p = std::make_shared<SourceInfo>();
    p->input = "fuzz";
    p->key = "fuzz:stream";
    return p;
  }();
  return s;
}

inline BatchPtr batch(const std::vector<std::string_view>& lines, Stream stream = Stream::kStdout) {
  auto b = std::make_unique<Batch>(source(), lines.size() + 1);
  uint64_t off = 0;
  for (auto l : lines) {
    Event& e = b->add_event();
    e.message = b->copy(l);
    e.stream = stream;
    e.offset = off;
    off += l.size() + 1;
  }
  return b;
}

// Every event must encode to one valid JSON object, whatever a parser put in its fields.
inline void check_events_encode(const Batch& b) {
  static simdjson::dom::parser parser;
  std::string out;
  for (const Event& e : b.events()) {
    out.clear();
    json::append_event(out, e, b.source());
    simdjson::dom::element doc;
    auto err = parser.parse(out).get(doc);
    // JSON numbers have no range limit; simdjson's DOM rejects integers beyond 64 bits
    // (NUMBER_ERROR in simdjson 3.0), which a JSON parser's "1e20"-style integer or a big double may be.
    if (err == simdjson::NUMBER_ERROR) continue;
    if (err != simdjson::SUCCESS || !doc.is_object()) {
      std::fprintf(stderr, "invalid JSON event: %s\n", out.c_str());
      __builtin_trap();
    }
  }
}

}  // namespace logship::fuzz

namespace logship::fuzz {

// A parser given one line per input line: it keeps every event, an event it could not parse
// keeps its message byte-exact, and every event still encodes as valid JSON.
inline void check_parser(const ProcessorMaker& maker, std::string_view text) {
  const auto lines = split_lines(text);
  auto p = maker();
  auto b = batch(lines);
  p->process(*b);
  if (b->size() != lines.size()) __builtin_trap();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Event& e = b->events()[i];
    if ((e.flags & kEventParseFailed) && e.message != lines[i]) __builtin_trap();
  }
  check_events_encode(*b);
}

}  // namespace logship::fuzz
