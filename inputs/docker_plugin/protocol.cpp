#include "inputs/docker_plugin/protocol.h"

#include "daemon/core/json_writer.h"
#include "daemon/core/rfc3339.h"

namespace logship::docker_plugin {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// Reads an optional string member; a wrong type is invalid.
Status opt_string(object o, std::string_view key, std::string* out) {
  element v;
  if (o[key].get(v) != simdjson::SUCCESS || v.is_null()) return Status::ok();
  std::string_view s;
  if (v.get(s) != simdjson::SUCCESS) return Status::invalid(std::string(key) + " must be a string");
  out->assign(s);
  return Status::ok();
}

Status opt_string_map(object o, std::string_view key, StringPairs* out) {
  element v;
  if (o[key].get(v) != simdjson::SUCCESS || v.is_null()) return Status::ok();
  object m;
  if (v.get(m) != simdjson::SUCCESS) return Status::invalid(std::string(key) + " must be an object");
  for (auto [k, val] : m) {
    std::string_view s;
    if (val.get(s) != simdjson::SUCCESS) {
      return Status::invalid(std::string(key) + "." + std::string(k) + " must be a string");
    }
    out->emplace_back(std::string(k), std::string(s));
  }
  return Status::ok();
}

// "Info.ContainerName must be a string": the member's path, as the engine's JSON names it.
Status member_of(std::string_view parent, Status s) {
  return s.is_ok() ? s : Status::invalid(std::string(parent) + "." + s.message());
}

Status parse_info(object root, bool id_required, ContainerInfo* info) {
  element v;
  if (root["Info"].get(v) != simdjson::SUCCESS || v.is_null()) {
    return id_required ? Status::invalid("missing Info") : Status::ok();
  }
  object o;
  if (v.get(o) != simdjson::SUCCESS) return Status::invalid("Info must be an object");
  LOGSHIP_TRY(member_of("Info", opt_string(o, "ContainerID", &info->id)));
  if (id_required && info->id.empty()) return Status::invalid("missing Info.ContainerID");
  if (!info->id.empty() && !valid_container_id(info->id)) {
    return Status::invalid("invalid Info.ContainerID");
  }
  LOGSHIP_TRY(member_of("Info", opt_string(o, "ContainerName", &info->name)));
  if (!info->name.empty() && info->name[0] == '/') info->name.erase(0, 1);
  LOGSHIP_TRY(member_of("Info", opt_string(o, "ContainerImageName", &info->image)));
  LOGSHIP_TRY(member_of("Info", opt_string_map(o, "ContainerLabels", &info->labels)));
  LOGSHIP_TRY(member_of("Info", opt_string_map(o, "Config", &info->log_opts)));
  return Status::ok();
}

Status parse_root(std::string_view body, simdjson::dom::parser& p, object* root) {
  simdjson::padded_string padded(body);
  element doc;
  // parse() keeps its document in the parser: `root` stays valid until the next parse.
  if (auto err = p.parse(padded).get(doc); err != simdjson::SUCCESS) {
    return Status::invalid(std::string("malformed JSON body: ") + simdjson::error_message(err));
  }
  if (doc.get(*root) != simdjson::SUCCESS) {
    return Status::invalid("malformed request: body must be a JSON object");
  }
  return Status::ok();
}

Status required_file(object root, std::string* file) {
  LOGSHIP_TRY(opt_string(root, "File", file));
  if (file->empty()) return Status::invalid("missing File");
  return Status::ok();
}

}  // namespace

Status parse_start_logging(std::string_view body, simdjson::dom::parser& p, StartRequest* out) {
  object root;
  LOGSHIP_TRY(parse_root(body, p, &root));
  LOGSHIP_TRY(required_file(root, &out->file));
  return parse_info(root, true, &out->info);
}

Status parse_stop_logging(std::string_view body, simdjson::dom::parser& p, std::string* file) {
  object root;
  LOGSHIP_TRY(parse_root(body, p, &root));
  return required_file(root, file);
}

Status parse_read_logs(std::string_view body, simdjson::dom::parser& p, ReadRequest* out) {
  object root;
  LOGSHIP_TRY(parse_root(body, p, &root));
  LOGSHIP_TRY(parse_info(root, true, &out->info));
  element v;
  // The engine sends "Config" (the docs' "ReadConfig" is wrong); absent means defaults.
  if (root["Config"].get(v) != simdjson::SUCCESS || v.is_null()) return Status::ok();
  object c;
  if (v.get(c) != simdjson::SUCCESS) return Status::invalid("Config must be an object");
  std::string s;
  LOGSHIP_TRY(member_of("Config", opt_string(c, "Since", &s)));
  if (!s.empty() && !parse_rfc3339_ns(s, &out->since_ns)) {
    return Status::invalid("Config.Since is not RFC 3339");
  }
  s.clear();
  LOGSHIP_TRY(member_of("Config", opt_string(c, "Until", &s)));
  if (!s.empty()) {
    if (!parse_rfc3339_ns(s, &out->until_ns)) return Status::invalid("Config.Until is not RFC 3339");
    if (out->until_ns == INT64_MIN) out->until_ns = INT64_MAX;   // zero time: unbounded
  }
  if (c["Tail"].get(v) == simdjson::SUCCESS && !v.is_null()) {
    if (v.get(out->tail) != simdjson::SUCCESS) {
      return Status::invalid("Config.Tail must be an integer");
    }
    if (out->tail < 0) out->tail = -1;
  }
  if (c["Follow"].get(v) == simdjson::SUCCESS && !v.is_null()) {
    if (v.get(out->follow) != simdjson::SUCCESS) {
      return Status::invalid("Config.Follow must be a boolean");
    }
  }
  return Status::ok();
}

bool parse_rfc3339_ns(std::string_view s, int64_t* ns) {
  // Go writes up to 9 fraction digits; clients may send more. Go's zero time clamps to
  // INT64_MIN, which callers read as "no bound".
  return parse_rfc3339(s, ns, /*truncate_fraction=*/true);
}

bool valid_container_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id[0] == '.') return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::shared_ptr<SourceInfo> make_source(const std::string& input, const std::string& key,
                                        const ContainerInfo& info) {
  auto s = std::make_shared<SourceInfo>();
  s->input = input;
  s->key = key;
  auto tag = [&](const char* k, const std::string& v) {
    if (!v.empty()) s->tags.push_back(Tag{k, ValueType::kString, v});
  };
  tag("container_id", info.id);
  tag("container_name", info.name);
  tag("image", info.image);
  s->labels = info.labels;
  for (const auto& [k, v] : info.log_opts) {
    constexpr std::string_view kPrefix = "logship-";
    if (k.size() <= kPrefix.size() || k.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    std::string label = "logship." + k.substr(kPrefix.size());
    bool replaced = false;
    for (auto& [lk, lv] : s->labels) {
      if (lk == label) {
        lv = v;
        replaced = true;
      }
    }
    if (!replaced) s->labels.emplace_back(std::move(label), v);
  }
  if (const auto* p = s->label("com.docker.compose.project")) tag("compose_project", *p);
  if (const auto* p = s->label("com.docker.compose.service")) tag("compose_service", *p);
  return s;
}

std::string container_state_json(const ContainerInfo& info,
                                  const std::vector<std::string>& files) {
  std::string out = "{\"ContainerID\":";
  json::append_string(out, info.id);
  out += ",\"ContainerName\":";
  json::append_string(out, info.name);
  out += ",\"ContainerImageName\":";
  json::append_string(out, info.image);
  auto map = [&](const char* key, const StringPairs& m) {
    out += ",\"";
    out += key;
    out += "\":{";
    for (std::size_t i = 0; i < m.size(); ++i) {
      if (i) out += ',';
      json::append_string(out, m[i].first);
      out += ':';
      json::append_string(out, m[i].second);
    }
    out += '}';
  };
  map("ContainerLabels", info.labels);
  map("Config", info.log_opts);
  out += ",\"Files\":[";
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (i) out += ',';
    json::append_string(out, files[i]);
  }
  out += "]}\n";
  return out;
}

bool parse_container_state(std::string_view text, simdjson::dom::parser& p, ContainerInfo* info,
                           std::vector<std::string>* files) {
  object root;
  if (!parse_root(text, p, &root).is_ok()) return false;
  // The state has Info's keys at the top level.
  if (!opt_string(root, "ContainerID", &info->id).is_ok() || !valid_container_id(info->id)) {
    return false;
  }
  if (!opt_string(root, "ContainerName", &info->name).is_ok() ||
      !opt_string(root, "ContainerImageName", &info->image).is_ok() ||
      !opt_string_map(root, "ContainerLabels", &info->labels).is_ok() ||
      !opt_string_map(root, "Config", &info->log_opts).is_ok()) {
    return false;
  }
  simdjson::dom::array arr;
  if (root["Files"].get(arr) == simdjson::SUCCESS) {
    for (element f : arr) {
      std::string_view s;
      if (f.get(s) == simdjson::SUCCESS) files->emplace_back(s);
    }
  }
  return true;
}

}  // namespace logship::docker_plugin
