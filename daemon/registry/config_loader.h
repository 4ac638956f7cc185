#pragma once
// Loads the whole config: service options, components bound through their plugins' schemas, and
// routes. It needs the plugin registry to bind components, so it lives beside the registry:
// config/ stays a leaf (core <- config <- registry <- plugins <- daemon). All errors are
// collected so one run of `logship validate` shows every problem.
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/condition_option.h"
#include "config/default_config.h"
#include "config/enum_option.h"
#include "config/errors.h"
#include "config/option_schema.h"
#include "daemon/registry/plugin.h"

namespace logship::config {

// Who may use an admin endpoint action (POST /api/reload, GET /api/tap).
enum class ClientAccess { kLoopback, kAny, kOff };
constexpr EnumNames<ClientAccess, 3> enum_names(ClientAccess) {
  return {{{"loopback", ClientAccess::kLoopback}, {"any", ClientAccess::kAny}, {"off", ClientAccess::kOff}}};
}

struct ServiceOptions {
  std::string state_dir = "/var/lib/logship";
  std::string log_level = "info";
  std::string log_format = "logfmt";
  Millis drain_timeout{10000};
  Millis config_watch_interval{0};   // 0: reload only on SIGHUP
  Millis checkpoint_interval{1000};
  ByteSize queue_max_bytes = 8_MiB;
  ByteSize memory_limit = 64_MiB;
  int64_t max_container_series = 500;
  int64_t batch_max_events = 4096;
  ByteSize batch_max_bytes = 8_MiB;
  Millis retry_initial{100};
  Millis retry_max{30000};
  bool exit_when_done = false;
  std::string http_listen;                 // "" = no HTTP endpoint
  ClientAccess http_reload = ClientAccess::kLoopback;   // who may POST /api/reload
  ClientAccess tap = ClientAccess::kLoopback;           // who may GET /api/tap (logship tap)
  Millis ready_max_failing{60000};
  bool ready_fails_on_loss = false;
  std::string user;
  bool allow_root = false;
  bool allow_env_secrets = false;
  std::string host_name;                   // "" = NODE_NAME, else gethostname()
  std::string host_id;
  static const OptionSchema<ServiceOptions>& schema();
};

enum class BufferType { kMemory, kDisk };
constexpr EnumNames<BufferType, 2> enum_names(BufferType) {
  return {{{"memory", BufferType::kMemory}, {"disk", BufferType::kDisk}}};
}
enum class BufferWhenFull { kBlock, kDropOldest };
constexpr EnumNames<BufferWhenFull, 2> enum_names(BufferWhenFull) {
  return {{{"block", BufferWhenFull::kBlock}, {"drop_oldest", BufferWhenFull::kDropOldest}}};
}
enum class BufferFsync { kInterval, kBatch };
constexpr EnumNames<BufferFsync, 2> enum_names(BufferFsync) {
  return {{{"interval", BufferFsync::kInterval}, {"batch", BufferFsync::kBatch}}};
}
enum class DeadLetterWhenFull { kDropNewest, kDropOldest };
constexpr EnumNames<DeadLetterWhenFull, 2> enum_names(DeadLetterWhenFull) {
  return {{{"drop_newest", DeadLetterWhenFull::kDropNewest},
           {"drop_oldest", DeadLetterWhenFull::kDropOldest}}};
}

// An output's `buffer:` block: where batches wait for the output.
struct BufferOptions {
  BufferType type = BufferType::kMemory;
  ByteSize max_size{0};   // 0: memory -> service.queue_max_bytes, disk -> 256MiB
  BufferWhenFull when_full = BufferWhenFull::kBlock;
  BufferFsync fsync = BufferFsync::kInterval;
  Millis fsync_interval{1000};
  ByteSize segment_size = 8_MiB;
  static const OptionSchema<BufferOptions>& schema();
  Status validate() const;
};

// An output's `dead_letter:` block: bounds of <state_dir>/dlq/<output>.ndjson.
struct DeadLetterOptions {
  ByteSize max_file_size = 64_MiB;
  int64_t max_files = 4;
  DeadLetterWhenFull when_full = DeadLetterWhenFull::kDropNewest;
  static const OptionSchema<DeadLetterOptions>& schema();
};

struct ComponentConfig {
  std::string name;
  std::string type;
  std::string file;   // the config file (main or conf.d piece) that defines it
  YAML::Mark mark;
  YAML::Node body;    // its options as given (validate --print shows them expanded)
  const PluginInfo* plugin = nullptr;
  InputMaker make_input;
  ProcessorMaker make_processor;
  OutputMaker make_output;
  // Inputs only: processors every event of the input goes through before routing, so route
  // conditions can test what they parse.
  std::vector<std::string> processors;
  YAML::Mark processors_mark;
  BufferOptions buffer;   // outputs only
  DeadLetterOptions dead_letter;   // outputs only
};

struct RouteConfig {
  std::string name;
  std::vector<std::string> match = {"*"};       // input name globs
  // `match: {inputs: [...], condition: "..."}`: the route takes only the events that satisfy it.
  ConditionOption condition;
  // The events this route takes are not offered to the routes after it (first match wins).
  bool exclusive = false;
  // Takes the events of its inputs that no other route took.
  bool unmatched = false;
  std::vector<std::string> processors;
  std::vector<std::string> outputs;
  std::string file;
  YAML::Mark mark;
};

struct Config {
  std::string source;   // file name, or "<default>"
  std::string text;     // as read, before substitution (the main file's)
  std::vector<std::string> pieces;   // conf.d files merged in, in order
  ServiceOptions service;
  std::vector<ComponentConfig> inputs;
  std::vector<ComponentConfig> processors;
  std::vector<ComponentConfig> outputs;
  std::vector<RouteConfig> routes;
  // The index into `routes` each input takes (same order as `inputs`): its first route.
  std::vector<std::size_t> input_route;
  // Every route each input's events are offered to, in config order (same order as `inputs`).
  // Empty in hand-built configs: then input_route alone applies.
  std::vector<std::vector<std::size_t>> input_routes;
};

// Returns nullopt when `errors` got any error.
std::optional<Config> load_config_text(const std::string& text, const std::string& source,
                                       Errors& errors);
// The main file and every `conf.d/*.yaml` beside it, merged in name order: inputs, processors
// and outputs from all of them (a name defined in two files is an error naming both), routes
// concatenated (main file first), `service` in the main file only.
std::optional<Config> load_config_file(const std::string& path, Errors& errors);

// "127.0.0.1:2020", "[::1]:2020", "0.0.0.0:0" -> host and port. False on anything else.
bool parse_listen_address(std::string_view s, std::string* host, uint16_t* port);

bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace logship::config
