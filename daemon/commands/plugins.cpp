#include <cstdio>

#include "daemon/registry/config_loader.h"
#include "daemon/commands/commands.h"
#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"

namespace logship::commands {
namespace {

// NAME, or KIND/NAME (`output/file`) where an input and an output share a name.
int describe(const std::string& query, bool as_json) {
  std::string kind;
  std::string name = query;
  if (auto slash = query.find('/'); slash != std::string::npos) {
    kind = query.substr(0, slash);
    name = query.substr(slash + 1);
  }
  std::vector<const PluginInfo*> found;
  for (const PluginInfo* p : all_plugins()) {
    if (p->name == name && (kind.empty() || kind_name(p->kind) == kind)) found.push_back(p);
  }
  if (as_json && found.size() > 1) {
    std::string which;
    for (const PluginInfo* p : found) {
      which += (which.empty() ? "" : ", ") + std::string(kind_name(p->kind)) + "/" + name;
    }
    std::fprintf(stderr, "logship: '%s' names several plugins; describe one of %s\n",
                 name.c_str(), which.c_str());
    return 1;
  }
  if (found.empty()) {
    std::vector<std::string> names;
    for (const PluginInfo* p : all_plugins()) names.emplace_back(p->name);
    std::fprintf(stderr, "logship: no plugin named '%s'%s\n", name.c_str(),
                 config::did_you_mean(name, names).c_str());
    return 1;
  }
  for (const PluginInfo* p : found) {
    auto docs = p->schema().describe();
    if (p->kind == PluginKind::kOutput) {
      // Every output takes a `buffer:` block; the pipeline, not the plugin, reads it.
      for (auto d : config::BufferOptions::schema().describe()) {
        d.name = "buffer." + d.name;
        docs.push_back(std::move(d));
      }
      for (auto d : config::DeadLetterOptions::schema().describe()) {
        d.name = "dead_letter." + d.name;
        docs.push_back(std::move(d));
      }
    }
    if (as_json) {
      std::string out = "{\"kind\":";
      json::append_string(out, kind_name(p->kind));
      out += ",\"name\":";
      json::append_string(out, p->name);
      out += ",\"summary\":";
      json::append_string(out, p->summary);
      out += ",\"options\":[";
      for (std::size_t i = 0; i < docs.size(); ++i) {
        const auto& d = docs[i];
        if (i) out += ",";
        out += "{\"name\":";
        json::append_string(out, d.name);
        out += ",\"type\":";
        json::append_string(out, d.type);
        out += ",\"default\":";
        json::append_string(out, d.default_value);
        out += ",\"required\":";
        out += d.required ? "true" : "false";
        out += ",\"doc\":";
        json::append_string(out, d.doc);
        out += "}";
      }
      out += "]}\n";
      std::fputs(out.c_str(), stdout);
      continue;
    }
    std::printf("%s %s: %s\n\n", std::string(kind_name(p->kind)).c_str(),
                std::string(p->name).c_str(), std::string(p->summary).c_str());
    if (docs.empty()) std::printf("  (no options)\n");
    for (const auto& d : docs) {
      std::printf("  %s  <%s>%s%s\n      %s\n", d.name.c_str(), d.type.c_str(),
                  d.required ? "  required" : "  default: ",
                  d.required ? "" : d.default_value.c_str(), d.doc.c_str());
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace

int plugins(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "describe") {
    if (args.size() < 2) {
      std::fprintf(stderr, "usage: logship plugins describe NAME [--json]\n");
      return 2;
    }
    bool as_json = args.size() > 2 && args[2] == "--json";
    return describe(args[1], as_json);
  }
  std::printf("%-10s %-16s %s\n", "KIND", "NAME", "SUMMARY");
  for (const PluginInfo* p : all_plugins()) {
    std::printf("%-10s %-16s %s\n", std::string(kind_name(p->kind)).c_str(),
                std::string(p->name).c_str(), std::string(p->summary).c_str());
  }
  return 0;
}

}  // namespace logship::commands
