#include "daemon/registry/config_dump.h"

#include <yaml-cpp/yaml.h>

#include "config/substitution.h"

namespace logship::config {
namespace {

constexpr const char* kMasked = "***";

// A given value with substitutions done and secrets masked, same shape (scalar, list, map).
YAML::Node expanded(const YAML::Node& n, bool secret) {
  if (n.IsScalar()) {
    std::string out;
    SecretOptionScope scope(secret);
    if (!substitute(n.Scalar(), &out).is_ok()) out = n.Scalar();   // validated before: unreachable
    if (secret) return YAML::Node(out.empty() ? "" : kMasked);   // an empty one hides nothing
    return YAML::Node(mask_secrets(out));
  }
  if (n.IsSequence()) {
    YAML::Node r(YAML::NodeType::Sequence);
    for (const auto& item : n) r.push_back(expanded(item, secret));
    return r;
  }
  if (n.IsMap()) {
    YAML::Node r(YAML::NodeType::Map);
    for (const auto& kv : n) {
      const std::string key = kv.first.Scalar();
      r[key] = expanded(kv.second, secret || is_secret_option_name(key));
    }
    return r;
  }
  return YAML::Node();
}

// Defaults are printed the way `plugins describe` shows them; read back as YAML they are the
// same values ("[]" a list, "8MiB" a size).
YAML::Node default_node(const OptionDoc& d) {
  if (d.default_value.empty()) return YAML::Node(YAML::NodeType::Null);
  try {
    YAML::Node n = YAML::Load(d.default_value);
    // A map default (an option of nested options) printed in block style, like a given map is
    // printed, so that printing the printed config gives the same text.
    return n.IsMap() ? expanded(n, false) : n;
  } catch (const YAML::Exception&) {
    return YAML::Node(d.default_value);
  }
}

YAML::Node with_defaults(const YAML::Node& given, const SchemaBase& schema) {
  YAML::Node r(YAML::NodeType::Map);
  for (const OptionDoc& d : schema.describe()) {
    const YAML::Node v = given && given.IsMap() ? given[d.name] : YAML::Node();
    if (v) {
      r[d.name] = expanded(v, d.secret);
    } else if (!d.required) {
      r[d.name] = default_node(d);
    }
  }
  return r;
}

}  // namespace

std::string effective_config_yaml(const std::string& text, const Config& cfg) {
  const YAML::Node root = YAML::Load(text);
  YAML::Node out(YAML::NodeType::Map);
  out["service"] = with_defaults(root["service"], ServiceOptions::schema());
  auto section = [&](const char* name, const std::vector<ComponentConfig>& comps) {
    YAML::Node s(YAML::NodeType::Map);
    for (const ComponentConfig& c : comps) {
      const YAML::Node given = c.body;   // from the main file or its conf.d piece
      YAML::Node n(YAML::NodeType::Map);
      n["type"] = c.type;   // `type: null` reads as YAML null; print the word
      for (const auto& kv : with_defaults(given, c.plugin->schema())) n[kv.first] = kv.second;
      if (given["buffer"]) {
        n["buffer"] = with_defaults(given["buffer"], BufferOptions::schema());
      }
      if (given["dead_letter"]) {
        n["dead_letter"] = with_defaults(given["dead_letter"], DeadLetterOptions::schema());
      }
      s[c.name] = n;
    }
    if (!comps.empty()) out[name] = s;
  };
  section("inputs", cfg.inputs);
  section("processors", cfg.processors);
  section("outputs", cfg.outputs);
  YAML::Node routes(YAML::NodeType::Sequence);
  for (const RouteConfig& r : cfg.routes) {
    YAML::Node n(YAML::NodeType::Map);
    n["name"] = r.name;
    if (r.condition) {
      YAML::Node m(YAML::NodeType::Map);
      m["inputs"] = r.match;
      m["condition"] = r.condition.text;
      n["match"] = m;
    } else {
      n["match"] = r.match;
    }
    if (r.exclusive) n["exclusive"] = true;
    if (r.unmatched) n["unmatched"] = true;
    n["processors"] = r.processors;
    n["outputs"] = r.outputs;
    routes.push_back(n);
  }
  out["routes"] = routes;
  YAML::Emitter e;
  e << out;
  return std::string(e.c_str()) + "\n";
}

}  // namespace logship::config
