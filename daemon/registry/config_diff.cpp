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
    std::string out;
    if (!substitute(n.Scalar(), &out).is_ok()) return YAML::Node("\x01unsubstitutable");
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

bool same_names(const std::vector<ComponentConfig>& a, const std::vector<ComponentConfig>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const auto& x, const auto& y) { return x.name == y.name; });
}

void append_processors(const Config& c, const std::vector<std::string>& names, std::string* out) {
  for (const std::string& name : names) {
    auto it = std::find_if(c.processors.begin(), c.processors.end(),
                           [&](const ComponentConfig& p) { return p.name == name; });
    *out += name + "\x1f" + (it == c.processors.end() ? "" : rendered_component(*it)) + "\x1e";
  }
}

// What the events of input `index` go through, rendered: its own processors, then each route it
// takes (condition, first-match, unmatched, processors, output names). Equal for two configs
// when an input read under one would deliver the same events under the other.
std::string wiring(const Config& c, std::size_t index) {
  std::string out;
  append_processors(c, c.inputs[index].processors, &out);
  std::vector<std::size_t> routes;
  if (index < c.input_routes.size()) {
    routes = c.input_routes[index];
  } else if (index < c.input_route.size()) {
    routes.push_back(c.input_route[index]);
  }
  for (std::size_t ri : routes) {
    const RouteConfig& r = c.routes[ri];
    out += "\x1droute " + r.name + "\x1f" + r.condition.text + "\x1f" +
           (r.exclusive ? "x" : "-") + (r.unmatched ? "u" : "-") + "\x1e";
    append_processors(c, r.processors, &out);
    for (const std::string& o : r.outputs) out += o + "\x1e";
  }
  return out;
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
  d.added_outputs = missing(next.outputs, running.outputs);
  d.removed_outputs = missing(running.outputs, next.outputs);
  const bool output_names_same = same_names(running.outputs, next.outputs);
  for (std::size_t i = 0; i < next.inputs.size(); ++i) {
    const std::string& name = next.inputs[i].name;
    auto was = std::find_if(running.inputs.begin(), running.inputs.end(),
                            [&](const ComponentConfig& c) { return c.name == name; });
    if (was == running.inputs.end()) continue;
    const bool changed =
        std::find(d.changed_inputs.begin(), d.changed_inputs.end(), name) != d.changed_inputs.end();
    if (changed || wiring(running, static_cast<std::size_t>(was - running.inputs.begin())) !=
                       wiring(next, i)) {
      d.restarted_inputs.push_back(name);
    }
  }
  // A restarted input is not unchanged, even when its own settings are.
  std::erase_if(d.unchanged_inputs, [&](const std::string& n) {
    return std::find(d.restarted_inputs.begin(), d.restarted_inputs.end(), n) !=
           d.restarted_inputs.end();
  });
  d.rewired = !processors_same || !output_names_same || !same_route_list(running, next);
  d.in_place = rendered_service(running) == rendered_service(next);
  d.outputs_only = !d.rewired && inputs_same && running.input_route == next.input_route &&
                   running.input_routes == next.input_routes;
  return d;
}

}  // namespace logship::config
