#pragma once
// What a reload changes: which components of the new config are identical to the running ones
// (same type and the same options once every ${...} is expanded), which inputs must start again
// because they or what their events go through changed, and whether the service options the
// pipeline runs with are the same, so the running pipeline can take the new config in place.
#include <string>
#include <vector>

#include "daemon/registry/config_loader.h"

namespace logship::config {

struct ConfigDiff {
  // Components of `next` whose rendered config equals the running one of the same name.
  std::vector<std::string> unchanged_inputs;
  std::vector<std::string> unchanged_processors;
  std::vector<std::string> unchanged_outputs;
  // Outputs of both configs whose settings differ; outputs only `next` has, only `running` has.
  std::vector<std::string> changed_outputs;
  std::vector<std::string> added_outputs;
  std::vector<std::string> removed_outputs;
  // Inputs of both configs whose settings differ, inputs only `next` has, only `running` has.
  std::vector<std::string> changed_inputs;
  std::vector<std::string> added_inputs;
  std::vector<std::string> removed_inputs;
  // Inputs of both configs that must start again: their settings differ, or what their events
  // go through does (their processors' settings, the routes they take, those routes' conditions,
  // processors or output names). A superset of changed_inputs, in `next`'s order.
  std::vector<std::string> restarted_inputs;
  // Some processor, route, or output name differs: the new pipeline's routes are made anew
  // (inputs that keep running keep the routes they started with, which are the same for them).
  bool rewired = false;
  // The same service options but those a reload applies without a new pipeline (log_level,
  // log_format, config_watch_interval, drain_timeout) or only at a restart: the reload is applied
  // to the running pipeline (Topology::reconfigure), and whatever restarted_inputs and
  // unchanged_inputs do not name keeps running.
  bool in_place = false;
  // Same inputs, processors, routes and outputs' names: at most outputs' settings changed.
  bool outputs_only = false;
  // Some input is added, removed or restarted.
  bool inputs_differ() const {
    return !restarted_inputs.empty() || !added_inputs.empty() || !removed_inputs.empty();
  }
  // Nothing that the pipeline runs with changed.
  bool pipeline_unchanged() const {
    return in_place && outputs_only && changed_outputs.empty();
  }
};

ConfigDiff diff_configs(const Config& running, const Config& next);

// A component as the diff compares it: its type, then its options with every ${...} expanded,
// as YAML. Holds secrets in clear: compare it, never print it.
std::string rendered_component(const ComponentConfig& c);

}  // namespace logship::config
