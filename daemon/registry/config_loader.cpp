#include "daemon/registry/config_loader.h"

#include "config/config_sources.h"
#include "config/peer_spellings.h"
#include "config/substitution.h"

#include <fnmatch.h>

#include <map>
#include <set>

namespace logship::config {

const OptionSchema<BufferOptions>& BufferOptions::schema() {
  static const auto s =
      OptionSchema<BufferOptions>{}
          .add("type", &BufferOptions::type,
               "memory: a bounded queue in memory (inputs pause when it is full). disk: batches "
               "are written to <state_dir>/buffer/<output>/ and read back for delivery, so an "
               "outage costs disk instead of memory and survives restarts.")
          .add("max_size", &BufferOptions::max_size,
               "Most bytes buffered for this output. Default: service.queue_max_bytes in memory, "
               "256MiB on disk.")
          .add("when_full", &BufferOptions::when_full,
               "disk only. block: inputs pause (backpressure). drop_oldest: the oldest "
               "undelivered segment is deleted and its events counted in "
               "logship_output_dropped_events_total.")
          .add("fsync", &BufferOptions::fsync,
               "disk only. interval: fdatasync every fsync_interval; inputs checkpoint past a "
               "batch once it is synced. batch: fdatasync every batch (slower, nothing waits).")
          .add("fsync_interval", &BufferOptions::fsync_interval,
               "disk only. How often written data is synced with fsync: interval.",
               at_least(Millis(10), "10ms"))
          .add("segment_size", &BufferOptions::segment_size,
               "disk only. Segment file size (at most max_size/4): the unit of freeing and of "
               "dropping.",
               at_least(ByteSize(64 * 1024), "64KiB"));
  return s;
}

Status BufferOptions::validate() const {
  if (type == BufferType::kMemory && when_full != BufferWhenFull::kBlock) {
    return Status::invalid(
        "buffer: when_full: drop_oldest needs type: disk (a memory buffer only blocks)");
  }
  if (type == BufferType::kDisk && max_size.bytes != 0 && max_size.bytes < (1u << 20)) {
    return Status::invalid("buffer: max_size of a disk buffer must be at least 1MiB");
  }
  if (type == BufferType::kMemory && max_size.bytes != 0 && max_size.bytes < 64 * 1024) {
    return Status::invalid("buffer: max_size of a memory buffer must be at least 64KiB");
  }
  return Status::ok();
}

const OptionSchema<DeadLetterOptions>& DeadLetterOptions::schema() {
  static const auto s =
      OptionSchema<DeadLetterOptions>{}
          .add("max_file_size", &DeadLetterOptions::max_file_size,
               "Size at which <state_dir>/dlq/<output>.ndjson is rotated to .1, .2, ...",
               at_least(ByteSize(4096), "4KiB"))
          .add("max_files", &DeadLetterOptions::max_files,
               "Dead-letter files kept, the one being written included: the series holds at "
               "most max_files x max_file_size.",
               in_range(1, 1000))
          .add("when_full", &DeadLetterOptions::when_full,
               "When every file is full. drop_newest: new dead letters are not written (the "
               "files keep the first failures). drop_oldest: the oldest file is deleted. Either "
               "way the events lost are counted in logship_output_dead_letters_dropped_total "
               "and logged.");
  return s;
}

const OptionSchema<ServiceOptions>& ServiceOptions::schema() {
  static const auto s =
      OptionSchema<ServiceOptions>{}
          .add("state_dir", &ServiceOptions::state_dir,
               "Directory for checkpoints, dead-letter files and buffers; the only path logship "
               "writes besides its outputs.")
          .add("log_level", &ServiceOptions::log_level, "Internal log level.",
               one_of({"debug", "info", "warn", "error"}))
          .add("log_format", &ServiceOptions::log_format,
               "Internal log lines: logfmt (key=value) or json (one object per line, same keys).",
               one_of({"logfmt", "json"}))
          .add("drain_timeout", &ServiceOptions::drain_timeout,
               "On SIGTERM, how long outputs may keep delivering before logship exits; what is "
               "not delivered by then stays un-acked and is read again after restart.")
          .add("config_watch_interval", &ServiceOptions::config_watch_interval,
               "How often the config file is checked for a change (a new inode, size or mtime: "
               "an edit, or a Kubernetes ConfigMap update), which then reloads it as SIGHUP "
               "does; 0 = only on SIGHUP.")
          .add("checkpoint_interval", &ServiceOptions::checkpoint_interval,
               "How often committed positions are written to disk (only when changed).",
               at_least(Millis(10), "10ms"))
          .add("queue_max_bytes", &ServiceOptions::queue_max_bytes,
               "Memory each output may hold queued or in flight; inputs pause above it.",
               at_least(ByteSize(64 * 1024), "64KiB"))
          .add("memory_limit", &ServiceOptions::memory_limit,
               "Memory budget of the whole process. Buffers holding events (output queues, "
               "disk-buffer read-back, multiline and partial-line holds, read buffers, the "
               "Kafka client's queue, docker_plugin and journald pending lines, otlp request "
               "bodies) share it less a reserve for the rest (16MiB); inputs pause before it is "
               "exceeded (the otlp input answers 429) and resume as outputs deliver, nothing is "
               "dropped. /metrics: logship_memory_bytes{part}.",
               at_least(ByteSize(16 << 20), "16MiB"))
          .add("max_container_series", &ServiceOptions::max_container_series,
               "Per-container series of the docker and cri inputs "
               "(logship_input_container_*{container=\"name\"}) shown by name, for the whole "
               "process; past it containers are counted in one container=\"_other\" series and "
               "in logship_input_container_series_overflow_total. 0 = all in _other.",
               in_range(0, 100000))
          .add("batch_max_events", &ServiceOptions::batch_max_events,
               "Most events an output receives in one delivery call.", in_range(1, 1 << 20))
          .add("batch_max_bytes", &ServiceOptions::batch_max_bytes,
               "Most bytes an output receives in one delivery call.",
               at_least(ByteSize(4096), "4KiB"))
          .add("retry_initial", &ServiceOptions::retry_initial,
               "First retry delay of a failed delivery; doubles each attempt (the wait is drawn "
               "from a tenth of it up to it).",
               at_least(Millis(1), "1ms"))
          .add("retry_max", &ServiceOptions::retry_max, "Longest delay between retries.",
               at_least(Millis(1), "1ms"))
          .add("exit_when_done", &ServiceOptions::exit_when_done,
               "Exit (after draining) once every input has read all it ever will, e.g. a "
               "counted generator or stdin at end of file. For batch jobs and benchmarks.")
          .add("http_listen", &ServiceOptions::http_listen,
               "host:port of the HTTP endpoint serving /metrics (Prometheus), /health and /ready; "
               "empty = off. Keep it on 127.0.0.1 unless a scraper or probe elsewhere needs it "
               "(containers: 0.0.0.0:2020). Port 0 picks a free port (logged). Needs a restart "
               "to change.",
               Check<std::string>{[](const std::string& v) -> Status {
                                    std::string h;
                                    uint16_t p;
                                    if (v.empty() || parse_listen_address(v, &h, &p)) {
                                      return Status::ok();
                                    }
                                    return Status::invalid(
                                        "expected host:port such as 127.0.0.1:2020 or "
                                        "[::1]:2020, got \"" + v + "\"");
                                  },
                                  "host:port"})
          .add("http_reload", &ServiceOptions::http_reload,
               "Who may POST /api/reload on the HTTP endpoint (it answers once the new config "
               "runs or was refused): loopback = clients on 127.0.0.1/::1 only, any, off. "
               "Needs a restart to change.")
          .add("tap", &ServiceOptions::tap,
               "Who may watch live events with `logship tap` (GET /api/tap on the HTTP "
               "endpoint): loopback = clients on 127.0.0.1/::1 only, any, off. A point nobody "
               "taps costs nothing; a slow tap client loses tap lines (counted in "
               "logship_tap_dropped_events_total), never pipeline events. Needs a restart to "
               "change.")
          .add("ready_max_failing", &ServiceOptions::ready_max_failing,
               "/ready answers 503 once an output has failed every delivery for this long.",
               at_least(Millis(1), "1ms"))
          .add("ready_fails_on_loss", &ServiceOptions::ready_fails_on_loss,
               "/ready answers 503 once an input lost data: bytes of a followed file rotated "
               "or deleted before they were read (logship_input_lost_bytes_total), until the "
               "next reload or restart acknowledges it. Off: the loss is counted and logged.")
          .add("user", &ServiceOptions::user,
               "When started as root, switch to this user (and its groups) before reading "
               "anything, keeping only CAP_DAC_READ_SEARCH (to read root-owned log "
               "directories). Needs a restart to change.")
          .add("allow_root", &ServiceOptions::allow_root,
               "Started as root without 'user': keep every capability. Off (default): logship "
               "stays uid 0 but drops all capabilities except CAP_DAC_READ_SEARCH and warns.")
          .add("allow_env_secrets", &ServiceOptions::allow_env_secrets,
               "Allow ${ENV} substitution in secret options (password, token, api_key, ...). "
               "Off: secrets come from files (${file:/path}), which are not inherited by child "
               "processes nor shown in /proc/<pid>/environ.")
          .add("host_name", &ServiceOptions::host_name,
               "host.name of every event in the ecs and otel schemas. Empty: the environment "
               "variable NODE_NAME when set (the Kubernetes DaemonSet passes the node's name), "
               "else the machine's hostname. In a container, set it (e.g. ${HOST_HOSTNAME}) "
               "or run with the host's UTS namespace, since the container's hostname is its id.")
          .add("host_id", &ServiceOptions::host_id,
               "host.id of every event in the ecs and otel schemas, e.g. "
               "${file:/etc/machine-id}; empty = not written.");
  return s;
}

bool parse_listen_address(std::string_view s, std::string* host, uint16_t* port) {
  std::size_t colon;
  if (!s.empty() && s.front() == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return false;
    }
    *host = std::string(s.substr(1, close - 1));
    colon = close + 1;
  } else {
    colon = s.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    *host = std::string(s.substr(0, colon));
    if (host->find(':') != std::string::npos) return false;   // IPv6 needs brackets
  }
  std::string_view ps = s.substr(colon + 1);
  if (ps.empty() || ps.size() > 5) return false;
  uint32_t v = 0;
  for (char c : ps) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535 || host->empty()) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  return ::fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

namespace {

const std::vector<std::string> kTopLevel = {"service", "inputs", "processors", "outputs",
                                            "routes"};

bool valid_name(const std::string& n) {
  if (n.empty()) return false;
  for (char c : n) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

// Where each component name was first defined, across the main file and its conf.d pieces.
using DefinedAt = std::map<std::string, std::string>;

std::string where(const std::string& file, const YAML::Mark& m) {
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

void load_components(const YAML::Node& section, PluginKind kind, const std::string& section_name,
                     std::vector<ComponentConfig>* out, DefinedAt* defined, Errors& errors) {
  if (!section || section.IsNull()) return;
  if (!section.IsMap()) {
    errors.add(section.Mark(), section_name + ": expected a map of name: {type: ..., options}");
    return;
  }
  std::vector<std::string> type_names;
  for (const PluginInfo* p : all_plugins()) {
    if (p->kind == kind) type_names.emplace_back(p->name);
  }
  for (const auto& kv : section) {
    ComponentConfig c;
    c.name = kv.first.Scalar();
    c.file = errors.file();
    c.mark = kv.first.Mark();
    const std::string context = section_name + "." + c.name;
    if (!valid_name(c.name)) {
      errors.add(c.mark, context + ": names may use letters, digits, '_', '-' and '.'");
      continue;
    }
    if (auto [it, fresh] = defined->try_emplace(c.name, where(c.file, c.mark)); !fresh) {
      errors.add(c.mark, context + ": defined twice (first at " + it->second + ")");
      continue;
    }
    const YAML::Node& body = kv.second;
    c.body = body;
    if (!body.IsMap()) {
      errors.add(body.Mark(), context + ": expected a map with at least 'type'");
      continue;
    }
    const YAML::Node type_node = body["type"];
    // `type: null` (the discarding output) reads as a YAML null; take it as the word.
    const bool null_word = type_node && type_node.IsNull();
    if (!type_node || (!type_node.IsScalar() && !null_word)) {
      errors.add(body.Mark(), context + ": missing 'type'; one of the " +
                                  std::string(kind_name(kind)) + " types: " +
                                  OptionTraits<std::vector<std::string>>::format(type_names));
      continue;
    }
    c.type = null_word ? "null" : type_node.Scalar();
    c.plugin = find_plugin(kind, c.type);
    if (c.plugin == nullptr) {
      std::string hint = did_you_mean(c.type, type_names);
      if (hint.empty()) {
        hint = peer_spelling_hint(kind == PluginKind::kInput       ? Spelling::kInputType
                                  : kind == PluginKind::kProcessor ? Spelling::kProcessorType
                                                                   : Spelling::kOutputType,
                                  c.type);
      }
      errors.add(type_node.Mark(), context + ": unknown " + std::string(kind_name(kind)) +
                                       " type '" + c.type + "'" + hint);
      continue;
    }
    const PluginContext plugin_ctx{kind, c.name, c.type};
    switch (kind) {
      case PluginKind::kInput:
        c.make_input = c.plugin->bind_input(body, errors, plugin_ctx);
        if (const YAML::Node procs = body["processors"]) {
          c.processors_mark = procs.Mark();
          if (Status st = OptionTraits<std::vector<std::string>>::parse(procs, &c.processors);
              !st.is_ok()) {
            errors.add(procs.Mark(), context + ".processors: " + st.message());
          }
        }
        break;
      case PluginKind::kProcessor:
        c.make_processor = c.plugin->bind_processor(body, errors, plugin_ctx);
        break;
      case PluginKind::kOutput: {
        c.make_output = c.plugin->bind_output(body, errors, plugin_ctx);
        if (const YAML::Node buffer = body["buffer"]) {
          if (BufferOptions::schema().bind(buffer, c.buffer, errors, context + ".buffer", {})) {
            if (Status st = c.buffer.validate(); !st.is_ok()) {
              errors.add(buffer.Mark(), context + "." + st.message());
            }
          }
        }
        if (const YAML::Node dl = body["dead_letter"]) {
          DeadLetterOptions::schema().bind(dl, c.dead_letter, errors, context + ".dead_letter", {});
        }
        break;
      }
    }
    out->push_back(std::move(c));
  }
}

std::vector<std::string> names_of(const std::vector<ComponentConfig>& v) {
  std::vector<std::string> r;
  for (const auto& c : v) r.push_back(c.name);
  return r;
}

bool read_name_list(const YAML::Node& n, const std::string& context, std::vector<std::string>* out,
                    Errors& errors) {
  if (Status st = OptionTraits<std::vector<std::string>>::parse(n, out); !st.is_ok()) {
    errors.add(n.Mark(), context + ": " + st.message());
    return false;
  }
  return true;
}

// `match: {inputs: [globs], condition: "..."}`.
void read_match_map(const YAML::Node& n, const std::string& context, RouteConfig* r,
                    Errors& errors) {
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    if (key == "inputs") {
      read_name_list(kv.second, context + ".inputs", &r->match, errors);
    } else if (key == "condition") {
      if (Status st = OptionTraits<ConditionOption>::parse(kv.second, &r->condition);
          !st.is_ok()) {
        errors.add(kv.second.Mark(), context + ".condition: " + st.message());
      }
    } else {
      errors.add(kv.first.Mark(), context + ": unknown key '" + key + "'" +
                                      did_you_mean(key, {"inputs", "condition"}));
    }
  }
}

// A `routes:` list and the file it is in.
struct RouteSection {
  std::string file;
  YAML::Node node;
};

void load_routes(const std::vector<RouteSection>& sections, Config& cfg, Errors& errors) {
  const auto inputs = names_of(cfg.inputs);
  const auto processors = names_of(cfg.processors);
  const auto outputs = names_of(cfg.outputs);
  if (sections.empty()) {
    RouteConfig r;
    r.name = "default";
    r.file = cfg.source;
    r.processors = processors;
    r.outputs = outputs;
    cfg.routes.push_back(std::move(r));
  }
  std::size_t i = 0;
  for (const RouteSection& rs : sections) {
    errors.set_file(rs.file);
    const YAML::Node& section = rs.node;
    if (!section.IsSequence()) {
      errors.add(section.Mark(), "routes: expected a list of {match, processors, outputs}");
      continue;
    }
    for (const auto& item : section) {
      RouteConfig r;
      r.name = "routes[" + std::to_string(i++) + "]";
      r.file = rs.file;
      r.mark = item.Mark();
      if (!item.IsMap()) {
        errors.add(item.Mark(), r.name + ": expected a map with match, processors, outputs");
        continue;
      }
      for (const auto& kv : item) {
        const std::string key = kv.first.Scalar();
        const std::string ctx = r.name + "." + key;
        if (key == "match" && kv.second.IsMap()) {
          read_match_map(kv.second, ctx, &r, errors);
        } else if (key == "match") {
          read_name_list(kv.second, ctx, &r.match, errors);
        } else if (key == "exclusive" || key == "unmatched") {
          bool v = false;
          if (Status st = OptionTraits<bool>::parse(kv.second, &v); !st.is_ok()) {
            errors.add(kv.second.Mark(), ctx + ": " + st.message());
          }
          (key == "exclusive" ? r.exclusive : r.unmatched) = v;
        } else if (key == "processors") {
          if (read_name_list(kv.second, ctx, &r.processors, errors)) {
            for (const auto& p : r.processors) {
              if (std::find(processors.begin(), processors.end(), p) == processors.end()) {
                errors.add(kv.second.Mark(), ctx + ": no processor named '" + p + "'" +
                                                 did_you_mean(p, processors));
              }
            }
          }
        } else if (key == "outputs") {
          if (read_name_list(kv.second, ctx, &r.outputs, errors)) {
            for (const auto& o : r.outputs) {
              if (std::find(outputs.begin(), outputs.end(), o) == outputs.end()) {
                errors.add(kv.second.Mark(), ctx + ": no output named '" + o + "'" +
                                                 did_you_mean(o, outputs));
              }
            }
          }
        } else if (key == "name") {
          r.name = kv.second.Scalar();
        } else {
          errors.add(kv.first.Mark(), r.name + ": unknown key '" + key + "'" +
                                          did_you_mean(key, {"match", "processors", "outputs",
                                                             "name", "exclusive", "unmatched"}));
        }
      }
      if (r.outputs.empty()) {
        errors.add(item.Mark(), r.name + ": a route needs at least one output");
      }
      if (r.unmatched && r.condition) {
        errors.add(item.Mark(), r.name + ": an unmatched route takes what no other route took; "
                                "it has no condition");
      }
      cfg.routes.push_back(std::move(r));
    }
  }
  for (const auto& in : cfg.inputs) {
    errors.set_file(in.file);
    for (const auto& p : in.processors) {
      if (std::find(processors.begin(), processors.end(), p) == processors.end()) {
        errors.add(in.processors_mark, "inputs." + in.name + ".processors: no processor named '" +
                                           p + "'" + did_you_mean(p, processors));
      }
    }
  }
  // An input takes at most one unconditional route: fan-out to several outputs is one route
  // with several outputs, which shares the batch instead of copying it. Routes with a condition
  // (and one `unmatched` route) may be added beside it; they split the stream by content.
  for (const auto& in : cfg.inputs) {
    errors.set_file(in.file);
    std::vector<std::size_t> matched, plain, catch_all;
    for (std::size_t ri = 0; ri < cfg.routes.size(); ++ri) {
      for (const auto& pat : cfg.routes[ri].match) {
        if (glob_match(pat, in.name)) {
          matched.push_back(ri);
          if (cfg.routes[ri].unmatched) {
            catch_all.push_back(ri);
          } else if (!cfg.routes[ri].condition) {
            plain.push_back(ri);
          }
          break;
        }
      }
    }
    if (matched.empty()) {
      errors.add(in.mark, "inputs." + in.name + ": no route matches this input");
      cfg.input_route.push_back(0);
    } else {
      if (plain.size() > 1) {
        errors.add(in.mark, "inputs." + in.name + ": matched by " + cfg.routes[plain[0]].name +
                                " and " + cfg.routes[plain[1]].name +
                                "; an input takes exactly one route (list several outputs in it)");
      }
      if (catch_all.size() > 1) {
        errors.add(in.mark, "inputs." + in.name + ": matched by two unmatched routes, " +
                                cfg.routes[catch_all[0]].name + " and " +
                                cfg.routes[catch_all[1]].name);
      }
      if (matched.size() > 64) {
        errors.add(in.mark, "inputs." + in.name + ": matched by more than 64 routes");
      }
      cfg.input_route.push_back(matched[0]);
    }
    cfg.input_routes.push_back(std::move(matched));
  }
}

}  // namespace

namespace {

std::optional<Config> load_config_documents(const std::vector<ConfigDocument>& docs,
                                            Errors& errors) {
  Config cfg;
  cfg.source = docs.front().path;
  cfg.text = docs.front().text;
  std::vector<YAML::Node> roots;
  for (const ConfigDocument& doc : docs) {
    errors.set_file(doc.path);
    const bool main = roots.empty();
    if (!main) cfg.pieces.push_back(doc.path);
    YAML::Node root;
    try {
      root = YAML::Load(doc.text);
    } catch (const YAML::Exception& e) {
      errors.add(e.mark, "YAML syntax error: " + e.msg);
      return std::nullopt;
    }
    if (!main && root.IsNull()) root = YAML::Node(YAML::NodeType::Map);   // an empty piece
    if (!root.IsMap()) {
      errors.add(root.Mark(), main ? "expected a map with inputs, outputs (and optionally "
                                     "service, processors, routes)"
                                   : "expected a map with any of inputs, processors, outputs, "
                                     "routes");
      return std::nullopt;
    }
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      if (std::find(kTopLevel.begin(), kTopLevel.end(), key) == kTopLevel.end()) {
        std::string hint = did_you_mean(key, kTopLevel);
        if (hint.empty()) hint = peer_spelling_hint(Spelling::kSection, key);
        errors.add(kv.first.Mark(), "unknown section '" + key + "'" + hint);
      } else if (key == "service" && !main) {
        // One place decides the process's settings; pieces add components.
        errors.add(kv.first.Mark(), "service: belongs in the main config file (" +
                                        docs.front().path + "), not in a conf.d piece");
      }
    }
    roots.push_back(std::move(root));
  }
  errors.set_file(docs.front().path);
  ServiceOptions::schema().bind(roots.front()["service"], cfg.service, errors, "service", {});
  EnvSecretsScope env_secrets(cfg.service.allow_env_secrets);
  DefinedAt inputs, processors, outputs;
  std::vector<RouteSection> routes;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    errors.set_file(docs[i].path);
    load_components(roots[i]["inputs"], PluginKind::kInput, "inputs", &cfg.inputs, &inputs,
                    errors);
    load_components(roots[i]["processors"], PluginKind::kProcessor, "processors",
                    &cfg.processors, &processors, errors);
    load_components(roots[i]["outputs"], PluginKind::kOutput, "outputs", &cfg.outputs, &outputs,
                    errors);
    if (const YAML::Node r = roots[i]["routes"]; r && !r.IsNull()) {
      routes.push_back(RouteSection{docs[i].path, r});
    }
  }
  errors.set_file(docs.front().path);
  if (cfg.inputs.empty() && errors.empty()) {
    errors.add(roots.front().Mark(), "no inputs: add at least one under 'inputs:'");
  }
  if (cfg.outputs.empty() && errors.empty()) {
    errors.add(roots.front().Mark(), "no outputs: add at least one under 'outputs:'");
  }
  load_routes(routes, cfg, errors);
  errors.set_file(docs.front().path);
  if (!errors.empty()) return std::nullopt;
  return cfg;
}

}  // namespace

std::optional<Config> load_config_text(const std::string& text, const std::string& source,
                                       Errors& errors) {
  return load_config_documents({ConfigDocument{source, text}}, errors);
}

std::optional<Config> load_config_file(const std::string& path, Errors& errors) {
  std::vector<ConfigDocument> docs;
  if (!read_config_documents(path, &docs, errors)) return std::nullopt;
  return load_config_documents(docs, errors);
}

}  // namespace logship::config
