#pragma once
// What a reload changes: which components of the new config are identical to the running ones
// (same type and the same options once every ${...} is expanded), and whether everything but
// some inputs and some outputs' own settings is identical, so the running pipeline can keep its
// processors, routes and the other inputs and outputs, stop and start only those inputs and
// swap only those outputs' runners.
#include <string>
#include <vector>

#include "daemon/registry/config_loader.h"

namespace logship::config {

struct ConfigDiff {
  // Components of `next` whose rendered config equals the running one of the same name.
  std::vector<std::string> unchanged_inputs;
  std::vector<std::string> unchanged_processors;
  std::vector<std::string> unchanged_outputs;
  // Outputs of both configs whose settings differ.
  std::vector<std::string> changed_outputs;
  // Inputs of both configs whose settings differ, inputs only `next` has, only `running` has.
  std::vector<std::string> changed_inputs;
  std::vector<std::string> added_inputs;
  std::vector<std::string> removed_inputs;
  // Same processors, routes (and so the same output names) and pipeline service options as in
  // outputs_only, whatever the inputs: the reload can stop the removed and changed inputs,
  // start the added and changed ones and swap `changed_outputs`, all in place. Routes match
  // inputs by name, so each input's routes follow from the unchanged route list.
  bool inputs_and_outputs_only = false;
  // Some input is added, removed or changed.
  bool inputs_differ() const {
    return !changed_inputs.empty() || !added_inputs.empty() || !removed_inputs.empty();
  }
  // Same inputs, processors, routes (and so the same output names) and the same service
  // options but those a reload applies without a new pipeline (log_level, log_format,
  // config_watch_interval, drain_timeout) or does not apply at all (restart-only): the reload
  // can swap `changed_outputs` in place. False also when nothing but service options changed
  // in a way that needs a new pipeline.
  bool outputs_only = false;
  // Nothing that the pipeline runs with changed (outputs_only with no changed output).
  bool pipeline_unchanged() const { return outputs_only && changed_outputs.empty(); }
};

ConfigDiff diff_configs(const Config& running, const Config& next);

// A component as the diff compares it: its type, then its options with every ${...} expanded,
// as YAML. Holds secrets in clear: compare it, never print it.
std::string rendered_component(const ComponentConfig& c);

}  // namespace logship::config
