#pragma once
// Binds a parser's options once per config into an immutable, shared setup (compiled regexes,
// counters, label gate); the maker then builds cheap per-stream instances around it.
#include <memory>
#include <string>

#include "daemon/registry/plugin.h"

namespace logship::parsers {

// `Setup::build(const Opts&, const PluginContext&, std::string* why)` returns null (with `why`)
// when the options are valid YAML but unusable (a regex that does not compile...); the setup
// labels its metrics and log lines from the context.
template <class Opts, class Setup, class Impl>
ProcessorMaker bind_shared(const YAML::Node& node, config::Errors& errors,
                           const PluginContext& ctx) {
  const std::string context = ctx.where();
  Opts opts;
  if (!Opts::schema().bind(node, opts, errors, context)) return {};
  std::string why;
  std::shared_ptr<const Setup> setup = Setup::build(opts, ctx, &why);
  if (!setup) {
    errors.add(node ? node.Mark() : YAML::Mark::null_mark(), context + ": " + why);
    return {};
  }
  return [setup]() -> std::unique_ptr<Processor> { return std::make_unique<Impl>(setup); };
}

}  // namespace logship::parsers
