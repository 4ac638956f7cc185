#pragma once
// Binds a parser's options once per config into an immutable, shared setup (compiled regexes,
// counters, label gate); the maker then builds cheap per-stream instances around it.
#include <memory>
#include <string>

#include "daemon/registry/plugin.h"

namespace logship::parsers {

// `Setup::build(const Opts&, const PluginContext&)` returns a Result<shared_ptr<const Setup>>,
// invalid when the options are valid YAML but unusable (a regex that does not compile...); the
// setup labels its metrics and log lines from the context.
template <class Opts, class Setup, class Impl>
ProcessorMaker bind_shared(const YAML::Node& node, config::Errors& errors,
                           const PluginContext& ctx) {
  const std::string context = ctx.where();
  Opts opts;
  if (!Opts::schema().bind(node, opts, errors, context)) return {};
  Result<std::shared_ptr<const Setup>> built = Setup::build(opts, ctx);
  if (!built.is_ok()) {
    errors.add(node ? node.Mark() : YAML::Mark::null_mark(),
               context + ": " + built.status().message());
    return {};
  }
  return [setup = std::move(built).value()]() -> std::unique_ptr<Processor> {
    return std::make_unique<Impl>(setup);
  };
}

}  // namespace logship::parsers
