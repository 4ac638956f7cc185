#pragma once
// What a plugin knows of itself from the config: its kind, name and type. Its binder gets it to
// name the component in config errors, and passes it on to what the plugin builds, which labels
// its metrics (ComponentMetrics) and log lines (ComponentLog) from it: no plugin parses its name
// back out of an error prefix or builds a label by hand.
#include <string>
#include <string_view>

namespace logship {

enum class PluginKind { kInput, kProcessor, kOutput };
// "input", "processor", "output": the label key of the component's series.
constexpr std::string_view kind_name(PluginKind k) {
  switch (k) {
    case PluginKind::kInput: return "input";
    case PluginKind::kProcessor: return "processor";
    case PluginKind::kOutput: return "output";
  }
  return "";
}

struct PluginContext {
  PluginKind kind = PluginKind::kProcessor;
  std::string name;   // the component's name in the config
  std::string type;   // its plugin type

  // "processors.NAME (type)": how config errors name the component.
  std::string where() const {
    return std::string(kind_name(kind)) + "s." + name + " (" + type + ")";
  }
};

}  // namespace logship
