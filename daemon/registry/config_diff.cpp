#include "daemon/registry/config_diff.h"

#include <algorithm>
#include <set>

#include <yaml-cpp/yaml.h>

#include "config/substitution.h"

namespace logship::config {
namespace {

// Service options a reload applies without a new pipeline, or only at a restart.
const std::set<std::string>& service_keys_not_in_pipeline() {
  static const std::set<std::string> keys = {
      "log_level", "log_format", "config_watch_interval", "drain_timeout",
      "http_listen", "http_reload", "tap", "user", "allow_root"};
  return keys;
}

// The node with every scalar substituted. A value that no longer substitutes cannot equal
// anything: it renders as a marker no config can spell.
YAML::Node expanded(const YAML::Node& n) {
  if (n.IsScalar()) {
    std::string out, err;
    if (!substitute(n.Scalar(), &out, &err)) return YAML::Node("\x01unsubstitutable");
    return YAML::Node(out);
  }
  if (n.IsSequence()) {
    YAML::Node r(YAML::NodeType::Sequence);
    for (const auto& item : n) r.push_back(expanded(item));
    return r;
  }
  if (n.IsMap()) {
    YAML::Node r(YAML::NodeType::Map);
    for (const auto& kv : n) r[kv.first.Scalar()] = expanded(kv.second);
    return r;
  }
  return YAML::Node();
}

std::string dump(const YAML::Node& n) {
  YAML::Emitter e;
  e << n;
  return e.c_str();
}

std::string rendered_service(const Config& c) {
  YAML::Node service;
  try {
    service = YAML::Load(c.text)["service"];
  } catch (const YAML::Exception&) {
    return "\x01unparsable";
  }
  if (!service || !service.IsMap()) return "";
  YAML::Node kept(YAML::NodeType::Map);
  for (const auto& kv : service) {
    const std::string key = kv.first.Scalar();
    if (!service_keys_not_in_pipeline().contains(key)) kept[key] = expanded(kv.second);
  }
  return dump(kept);
}

// The route list itself; which routes each input takes follows from it and the input's name.
bool same_route_list(const Config& a, const Config& b) {
  if (a.routes.size() != b.routes.size()) return false;
  for (std::size_t i = 0; i < a.routes.size(); ++i) {
    const RouteConfig& x = a.routes[i];
    const RouteConfig& y = b.routes[i];
    if (x.name != y.name || x.match != y.match || x.condition.text != y.condition.text ||
        x.exclusive != y.exclusive || x.unmatched != y.unmatched ||
        x.processors != y.processors || x.outputs != y.outputs) {
      return false;
    }
  }
  return true;
}

bool same_routes(const Config& a, const Config& b) {
  return same_route_list(a, b) && a.input_route == b.input_route &&
         a.input_routes == b.input_routes;
}

bool has_name(const std::vector<ComponentConfig>& list, const std::string& name) {
  return std::any_of(list.begin(), list.end(), [&](const auto& c) { return c.name == name; });
}

// Names of `of` that `in` does not have, in `of`'s order.
std::vector<std::string> missing(const std::vector<ComponentConfig>& of,
                                 const std::vector<ComponentConfig>& in) {
  std::vector<std::string> out;
  for (const auto& c : of) {
    if (!has_name(in, c.name)) out.push_back(c.name);
  }
  return out;
}

// Fills `unchanged` with the names of `next` rendered as in `running`; true when both lists
// have the same names in the same order and all of them are unchanged.
bool compare(const std::vector<ComponentConfig>& running, const std::vector<ComponentConfig>& next,
             std::vector<std::string>* unchanged, std::vector<std::string>* changed) {
  bool all_same = running.size() == next.size();
  for (std::size_t i = 0; i < next.size(); ++i) {
    const ComponentConfig& n = next[i];
    auto was = std::find_if(running.begin(), running.end(),
                            [&](const ComponentConfig& r) { return r.name == n.name; });
    if (all_same && running[i].name != n.name) all_same = false;
    if (was == running.end()) {
      all_same = false;
      continue;
    }
    if (rendered_component(*was) == rendered_component(n)) {
      unchanged->push_back(n.name);
    } else {
      all_same = false;
      if (changed) changed->push_back(n.name);
    }
  }
  return all_same;
}

}  // namespace

std::string rendered_component(const ComponentConfig& c) {
  std::string out = "type: " + c.type + "\n";
  if (c.body) out += dump(expanded(c.body));
  return out;
}

ConfigDiff diff_configs(const Config& running, const Config& next) {
  ConfigDiff d;
  const bool inputs_same =
      compare(running.inputs, next.inputs, &d.unchanged_inputs, &d.changed_inputs);
  d.added_inputs = missing(next.inputs, running.inputs);
  d.removed_inputs = missing(running.inputs, next.inputs);
  const bool processors_same =
      compare(running.processors, next.processors, &d.unchanged_processors, nullptr);
  compare(running.outputs, next.outputs, &d.unchanged_outputs, &d.changed_outputs);
  bool output_names_same = running.outputs.size() == next.outputs.size();
  for (std::size_t i = 0; output_names_same && i < next.outputs.size(); ++i) {
    output_names_same = running.outputs[i].name == next.outputs[i].name;
  }
  d.inputs_and_outputs_only = processors_same && output_names_same &&
                              same_route_list(running, next) &&
                              rendered_service(running) == rendered_service(next);
  d.outputs_only = d.inputs_and_outputs_only && inputs_same && same_routes(running, next);
  return d;
}

}  // namespace logship::config
