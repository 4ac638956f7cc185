#pragma once
// A plugin is a value: kind, name, summary, option schema and a binder that validates YAML into
// a maker. The maker builds instances later (processors once per stream).
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/errors.h"
#include "config/option_schema.h"
#include "daemon/core/plugin_api.h"
#include "daemon/core/plugin_context.h"

namespace logship {

using InputMaker = std::function<std::unique_ptr<Input>()>;
using ProcessorMaker = std::function<std::unique_ptr<Processor>()>;
using OutputMaker = std::function<std::unique_ptr<Output>()>;

struct PluginInfo {
  PluginKind kind;
  std::string_view name;      // the `type:` value
  std::string_view summary;   // one line for `logship plugins`
  const config::SchemaBase& (*schema)();
  // Exactly one of these is set, matching `kind`. They return an empty maker after adding
  // errors (named by ctx.where(), e.g. "outputs.archive (file)") when the options are invalid.
  InputMaker (*bind_input)(const YAML::Node&, config::Errors&, const PluginContext& ctx) = nullptr;
  ProcessorMaker (*bind_processor)(const YAML::Node&, config::Errors&,
                                   const PluginContext&) = nullptr;
  OutputMaker (*bind_output)(const YAML::Node&, config::Errors&, const PluginContext&) = nullptr;
};

const std::vector<const PluginInfo*>& all_plugins();
const PluginInfo* find_plugin(PluginKind kind, std::string_view name);

// Binds `Opts` with its schema, runs `Status Opts::validate()` (checks across options, which the
// per-option checks cannot express) when it has one, and returns a maker that constructs
// `Impl(const Opts&, const PluginContext&)`, or `Impl(const Opts&)` for a plugin that learns its
// name at start (inputs and outputs get it from their InputContext / OutputContext).
// `common` keys belong to the pipeline, not the plugin (`type`; `processors` of inputs; `buffer`
// and `dead_letter` of outputs).
template <class Base, class Opts, class Impl>
std::function<std::unique_ptr<Base>()> bind_plugin(const YAML::Node& node, config::Errors& errors,
                                                   const PluginContext& ctx,
                                                   const std::set<std::string>& common = {"type"}) {
  const std::string context = ctx.where();
  Opts opts;
  if (!Opts::schema().bind(node, opts, errors, context, common)) return {};
  if constexpr (requires { opts.validate(); }) {
    if (Status st = opts.validate(); !st.is_ok()) {
      errors.add(node ? node.Mark() : YAML::Mark::null_mark(), context + ": " + st.message());
      return {};
    }
  }
  auto shared = std::make_shared<const Opts>(std::move(opts));
  if constexpr (std::is_constructible_v<Impl, const Opts&, const PluginContext&>) {
    return [shared, ctx]() -> std::unique_ptr<Base> { return std::make_unique<Impl>(*shared, ctx); };
  } else {
    return [shared]() -> std::unique_ptr<Base> { return std::make_unique<Impl>(*shared); };
  }
}

template <class Opts, class Impl>
InputMaker bind_input(const YAML::Node& n, config::Errors& e, const PluginContext& c) {
  return bind_plugin<Input, Opts, Impl>(n, e, c, {"type", "processors"});
}
template <class Opts, class Impl>
ProcessorMaker bind_processor(const YAML::Node& n, config::Errors& e, const PluginContext& c) {
  return bind_plugin<Processor, Opts, Impl>(n, e, c);
}
template <class Opts, class Impl>
OutputMaker bind_output(const YAML::Node& n, config::Errors& e, const PluginContext& c) {
  return bind_plugin<Output, Opts, Impl>(n, e, c, {"type", "buffer", "dead_letter"});
}

template <class Opts>
const config::SchemaBase& schema_of() {
  return Opts::schema();
}

}  // namespace logship
