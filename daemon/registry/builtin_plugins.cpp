#include <algorithm>
#include <cstdlib>
#include <set>

#include "daemon/registry/plugin.h"
#include "daemon/runtime/log.h"

namespace logship::plugins {
#define LOGSHIP_PLUGIN(fn) const PluginInfo& fn();
#include "daemon/registry/plugin_list.inc"
#undef LOGSHIP_PLUGIN
}  // namespace logship::plugins

namespace logship {

const std::vector<const PluginInfo*>& all_plugins() {
  static const std::vector<const PluginInfo*> list = [] {
    std::vector<const PluginInfo*> v = {
#define LOGSHIP_PLUGIN(fn) &plugins::fn(),
#include "daemon/registry/plugin_list.inc"
#undef LOGSHIP_PLUGIN
    };
    std::set<std::pair<PluginKind, std::string_view>> names;
    for (const PluginInfo* p : v) {
      if (p->name.empty() || !names.insert({p->kind, p->name}).second) {
        log::error("registry", "duplicate or empty plugin name", log::kv("name", p->name));
        std::abort();
      }
    }
    return v;
  }();
  return list;
}

const PluginInfo* find_plugin(PluginKind kind, std::string_view name) {
  for (const PluginInfo* p : all_plugins()) {
    if (p->kind == kind && p->name == name) return p;
  }
  return nullptr;
}

}  // namespace logship
