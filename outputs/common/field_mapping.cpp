#include "outputs/common/field_mapping.h"

#include "daemon/core/json_writer.h"

namespace logship::plugins::doc {
namespace {

struct Target {
  std::string_view name;   // the event field's key
  std::string_view base;
  std::string_view key;
  uint8_t rank;
};

// ECS homes of the fields inputs write (journald, syslog, the parsers' parse_error) and of
// common application keys. A name may have two homes (syslog severity: its own field, and
// log.level when the application gave none).
constexpr Target kEcsTargets[] = {
    {"severity", "log.syslog.severity", "name", kRankInput},
    {"severity", "log", "level", kRankFallback},
    {"facility", "log.syslog.facility", "name", kRankInput},
    {"hostname", "host", "hostname", kRankInput},
    {"appname", "log.syslog", "appname", kRankInput},
    {"procid", "log.syslog", "procid", kRankInput},
    {"msgid", "log.syslog", "msgid", kRankInput},
    {"syslog_identifier", "log.syslog", "appname", kRankInput},
    {"unit", "systemd", "unit", kRankInput},
    {"pid", "process", "pid", kRankInput},
    {"boot_id", "host.boot", "id", kRankInput},
    {"container_id", "container", "id", kRankInput},
    {"container_name", "container", "name", kRankInput},
    {"image", "container.image", "name", kRankInput},
    {"container_tag", "container.log", "tag", kRankInput},
    {"parse_error", "error", "message", kRankOther},
    {"level", "log", "level", kRankApp},
    {"lvl", "log", "level", kRankApp},
    {"loglevel", "log", "level", kRankApp},
    {"logger", "log", "logger", kRankApp},
    {"trace_id", "trace", "id", kRankApp},
    {"span_id", "span", "id", kRankApp},
    {"transaction_id", "transaction", "id", kRankApp},
    {"stack_trace", "error", "stack_trace", kRankApp},
};

// Dotted application keys under these ECS field sets are ECS fields already: trace.id,
// error.message, http.response.status_code ... They land where their name says.
constexpr std::string_view kEcsFieldSets[] = {
    "client.", "destination.", "error.", "event.", "http.", "labels.", "log.", "process.",
    "server.", "service.", "source.", "span.", "trace.", "transaction.", "url.", "user."};

// OpenTelemetry log record fields parsed keys can fill.
constexpr Target kOtelTargets[] = {
    {"level", "", "severity_text", kRankApp},
    {"lvl", "", "severity_text", kRankApp},
    {"loglevel", "", "severity_text", kRankApp},
    {"log.level", "", "severity_text", kRankApp},
    {"severity", "", "severity_text", kRankFallback},
    {"trace_id", "", "trace_id", kRankApp},
    {"trace.id", "", "trace_id", kRankApp},
    {"span_id", "", "span_id", kRankApp},
    {"span.id", "", "span_id", kRankApp},
};

Leaf value_leaf(std::string_view base, std::string_view rest, std::string_view key, const Value& v,
                uint8_t rank) {
  Leaf l;
  l.base = base;
  l.rest = rest;
  l.key = key;
  l.kind = Leaf::Kind::kValue;
  l.value = &v;
  l.rank = rank;
  return l;
}

// "a.b.c" under `base`: objects a and b, key c.
Leaf dotted_leaf(std::string_view base, std::string_view name, const Value& v, uint8_t rank) {
  std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return value_leaf(base, {}, name, v, rank);
  return value_leaf(base, name.substr(0, dot), name.substr(dot + 1), v, rank);
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

void map_ecs_field(const Field& f, std::string_view fields_under, std::vector<Leaf>* out) {
  const std::string_view k = f.key;
  if (k == "error") {
    // A string is the message; an object (raw JSON) is the error as the application wrote it.
    if (f.value.type == ValueType::kRawJson) {
      out->push_back(value_leaf({}, {}, "error", f.value, kRankApp));
    } else {
      out->push_back(value_leaf("error", {}, "message", f.value, kRankApp));
    }
    return;
  }
  bool mapped = false;
  for (const Target& t : kEcsTargets) {
    if (t.name.size() == k.size() && t.name == k) {
      out->push_back(value_leaf(t.base, {}, t.key, f.value, t.rank));
      mapped = true;
    }
  }
  if (mapped) return;
  if (starts_with(k, "sd.")) {   // syslog structured data: sd.<id>.<param>
    out->push_back(dotted_leaf("log.syslog.structured_data", k.substr(3), f.value, kRankInput));
    return;
  }
  for (std::string_view set : kEcsFieldSets) {
    if (starts_with(k, set)) {
      out->push_back(dotted_leaf({}, k, f.value, kRankApp));
      return;
    }
  }
  if (fields_under.empty()) {
    // The document's own top-level values are written first, outside the leaves.
    std::string_view first = k.substr(0, k.find('.'));
    if (first == "@timestamp" || first == "message") return;
  }
  out->push_back(dotted_leaf(fields_under, k, f.value, kRankOther));
}

void map_otel_field(const Field& f, std::vector<Leaf>* out) {
  for (const Target& t : kOtelTargets) {
    if (t.name.size() == f.key.size() && t.name == f.key) {
      out->push_back(value_leaf(t.base, {}, t.key, f.value, t.rank));
      if (t.rank != kRankFallback) return;   // moved; a syslog severity stays an attribute too
    }
  }
  out->push_back(value_leaf("attributes", {}, f.key, f.value, kRankOther));
}

// Encodes `v` as a JSON string into `owned` and returns a leaf viewing it.
Leaf string_leaf(std::deque<std::string>* owned, std::string_view base, std::string_view key,
                 std::string_view v) {
  std::string& s = owned->emplace_back();
  json::append_string(s, v);
  return Leaf::json(base, key, s);
}

std::string_view own(std::deque<std::string>* owned, std::string v) {
  return owned->emplace_back(std::move(v));
}

// A source tag under base.key: raw JSON (an object built by the input) is written as it is.
Leaf tag_leaf(std::deque<std::string>* owned, const Tag& t, std::string_view base,
              std::string_view key) {
  if (t.type == ValueType::kRawJson) return Leaf::json(base, key, t.value);
  return string_leaf(owned, base, key, t.value);
}

void map_ecs_source(const SourceInfo& src, const Labels& labels, const HostIdentity& host,
                    std::deque<std::string>* owned, std::vector<Leaf>* out) {
  const bool pod = src.find("namespace") != nullptr;
  for (const Tag& t : src.tags) {
    auto put = [&](std::string_view base, std::string_view key) {
      out->push_back(tag_leaf(owned, t, base, key));
    };
    if (t.key == "container_id") {
      put("container", "id");
    } else if (t.key == "container_name") {
      put("container", "name");
      if (pod) put("kubernetes.container", "name");
    } else if (t.key == "image") {
      put("container.image", "name");
    } else if (t.key == "namespace") {
      put("kubernetes", "namespace");
    } else if (t.key == "pod") {
      put("kubernetes.pod", "name");
    } else if (t.key == "pod_uid") {
      put("kubernetes.pod", "uid");
    } else if (t.key == "source_address") {
      put("log.source", "address");
    } else if (t.key == "hostname" || t.key == "compose_project" || t.key == "compose_service") {
      // The container's own hostname is its id; host.* is the node. Compose's project and
      // service are in container.labels, as Filebeat has them.
    } else {
      put("labels", t.key);
    }
  }
  if (pod && !host.node_name.empty()) {
    out->push_back(string_leaf(owned, "kubernetes.node", "name", host.node_name));
  }
  if (!labels.empty()) {
    std::string& obj = owned->emplace_back("{");
    for (const auto& [k, v] : labels) {
      if (obj.size() > 1) obj.push_back(',');
      json::append_string(obj, k);
      obj.push_back(':');
      json::append_string(obj, v);
    }
    obj.push_back('}');
    out->push_back(Leaf::json("container", "labels", obj));
  }
  if (!host.name.empty()) out->push_back(string_leaf(owned, "host", "name", host.name));
  if (!host.id.empty()) out->push_back(string_leaf(owned, "host", "id", host.id));
  if (!src.file_path.empty()) out->push_back(string_leaf(owned, "log.file", "path", src.file_path));
  out->push_back(string_leaf(owned, "ecs", "version", kEcsVersion));
  out->push_back(Leaf::json("agent", "type", "\"logship\""));
  out->push_back(Leaf::json("agent", "version", "\"" LOGSHIP_VERSION "\""));
}

void map_otel_source(const SourceInfo& src, const Labels& labels, const HostIdentity& host,
                     std::deque<std::string>* owned, std::vector<Leaf>* out) {
  constexpr std::string_view kResource = "resource.attributes";
  const bool pod = src.find("namespace") != nullptr;
  for (const Tag& t : src.tags) {
    auto put = [&](std::string_view base, std::string_view key) {
      out->push_back(tag_leaf(owned, t, base, key));
    };
    if (t.key == "container_id") {
      put(kResource, "container.id");
    } else if (t.key == "container_name") {
      put(kResource, "container.name");
      if (pod) put(kResource, "k8s.container.name");
    } else if (t.key == "image") {
      put(kResource, "container.image.name");
    } else if (t.key == "namespace") {
      put(kResource, "k8s.namespace.name");
    } else if (t.key == "pod") {
      put(kResource, "k8s.pod.name");
    } else if (t.key == "pod_uid") {
      put(kResource, "k8s.pod.uid");
    } else if (t.key == "source_address") {
      put("attributes", "network.peer.address");
    } else if (t.key == "hostname" || t.key == "compose_project" || t.key == "compose_service") {
      // As in ecs: in the labels, or not the node's.
    } else {
      put("attributes", t.key);
    }
  }
  if (pod && !host.node_name.empty()) {
    out->push_back(string_leaf(owned, kResource, "k8s.node.name", host.node_name));
  }
  for (const auto& [k, v] : labels) {
    out->push_back(string_leaf(owned, kResource, own(owned, "container.label." + k), v));
  }
  if (!host.name.empty()) out->push_back(string_leaf(owned, kResource, "host.name", host.name));
  if (!host.id.empty()) out->push_back(string_leaf(owned, kResource, "host.id", host.id));
  if (!src.file_path.empty()) {
    out->push_back(string_leaf(owned, "attributes", "log.file.path", src.file_path));
  }
}

}  // namespace

Schema parse_schema(std::string_view name) {
  if (name == "ecs") return Schema::kEcs;
  if (name == "otel") return Schema::kOtel;
  return Schema::kLogship;
}

void map_source(Schema schema, const SourceInfo& source, const Labels& labels,
                const HostIdentity& host, std::deque<std::string>* owned, std::vector<Leaf>* out) {
  if (schema == Schema::kEcs) map_ecs_source(source, labels, host, owned, out);
  if (schema == Schema::kOtel) map_otel_source(source, labels, host, owned, out);
}

void map_event_field(Schema schema, const Field& f, std::string_view fields_under,
                     std::vector<Leaf>* out) {
  if (schema == Schema::kEcs) map_ecs_field(f, fields_under, out);
  if (schema == Schema::kOtel) map_otel_field(f, out);
}

}  // namespace logship::plugins::doc
