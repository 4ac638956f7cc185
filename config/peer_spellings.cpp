#include "config/peer_spellings.h"

#include <cctype>

namespace logship::config {
namespace {

struct Hint {
  Spelling where;
  const char* word;   // normalized: lowercase, '-' and '.' as '_'
  const char* text;
};

// Only words logship does not use itself (a hint shows for unknown words only).
constexpr Hint kHints[] = {
    // Top-level sections.
    {Spelling::kSection, "sources", "Vector's sources are logship's 'inputs'"},
    {Spelling::kSection, "transforms", "Vector's transforms are logship's 'processors'"},
    {Spelling::kSection, "sinks", "Vector's sinks are logship's 'outputs'"},
    {Spelling::kSection, "receivers", "the OpenTelemetry Collector's receivers are 'inputs'"},
    {Spelling::kSection, "exporters", "the OpenTelemetry Collector's exporters are 'outputs'"},
    {Spelling::kSection, "filebeat_inputs", "Filebeat's filebeat.inputs are logship's 'inputs'"},
    {Spelling::kSection, "filebeat", "Filebeat's filebeat.inputs are logship's 'inputs'"},
    {Spelling::kSection, "output", "Filebeat's output.<type> is an entry under 'outputs'"},
    {Spelling::kSection, "output_elasticsearch",
     "Filebeat's output.elasticsearch is an entry under 'outputs' with type: elasticsearch"},
    {Spelling::kSection, "pipeline",
     "Fluent Bit's pipeline: inputs, processors and outputs are top-level sections here, "
     "joined by 'routes'"},
    {Spelling::kSection, "parsers", "parsers are processors here (json, regex, logfmt)"},
    {Spelling::kSection, "input", "the section is 'inputs' (a map of name: {type, options})"},
    {Spelling::kSection, "filter", "filters are entries under 'processors'"},
    {Spelling::kSection, "filters", "filters are entries under 'processors'"},
    // Options of a component.
    {Spelling::kOption, "name",
     "Fluent Bit's Name is 'type' here; the component's own name is its key"},
    {Spelling::kOption, "tag",
     "there are no tags: a component is named by its key, and 'routes' match input names"},
    {Spelling::kOption, "match",
     "Fluent Bit's Match is a route here: routes: [{match: [input names], outputs: [...]}]"},
    {Spelling::kOption, "match_regex",
     "Fluent Bit's Match_Regex is a route here: routes: [{match: [input name globs], ...}]"},
    {Spelling::kOption, "inputs",
     "Vector's inputs: [...] is a route here: routes: [{match: [...], outputs: [...]}]"},
    {Spelling::kOption, "mem_buf_limit",
     "Fluent Bit's Mem_Buf_Limit: service.memory_limit bounds the whole process and "
     "service.queue_max_bytes each output; inputs pause, nothing is dropped"},
    {Spelling::kOption, "storage_type",
     "Fluent Bit's storage.type filesystem is buffer: {type: disk} on the output"},
    {Spelling::kOption, "db",
     "Fluent Bit's DB: positions are kept in service.state_dir without being asked"},
    {Spelling::kOption, "registry_path",
     "Filebeat's registry: positions are kept in service.state_dir without being asked"},
    {Spelling::kOption, "refresh_interval", "Fluent Bit's Refresh_Interval is 'rescan_interval'"},
    {Spelling::kOption, "scan_frequency", "Filebeat's scan_frequency is 'rescan_interval'"},
    {Spelling::kOption, "glob_minimum_cooldown_ms", "Vector's glob cooldown is 'rescan_interval'"},
    {Spelling::kOption, "read_from_head", "Fluent Bit's Read_from_Head true is read_from: head"},
    {Spelling::kOption, "read_from_beginning", "read_from: head"},
    {Spelling::kOption, "include", "Vector's include (file source) is 'paths'"},
    {Spelling::kOption, "path", "the file input takes 'paths' (a list of globs)"},
    {Spelling::kOption, "exclude_path", "Fluent Bit's Exclude_Path is 'exclude'"},
    {Spelling::kOption, "exclude_files", "Filebeat's exclude_files is 'exclude'"},
    {Spelling::kOption, "parser",
     "a parser is a processor here (json, regex, logfmt) listed in the route's processors"},
    {Spelling::kOption, "multiline_parser",
     "multiline is a processor here: type: multiline, rules: [java, python, go, ...] or auto"},
    {Spelling::kOption, "docker_mode",
     "the docker input joins Docker's 16 KiB partial lines without being asked"},
    {Spelling::kOption, "skip_long_lines", "'max_line_size' (the rest of a longer line is dropped "
                                           "and counted)"},
    {Spelling::kOption, "buffer_max_size", "'max_line_size'"},
    {Spelling::kOption, "host", "the elasticsearch output takes hosts: [https://host:9200]"},
    {Spelling::kOption, "port", "the elasticsearch output takes hosts: [https://host:9200]"},
    {Spelling::kOption, "endpoint", "Vector's endpoint is 'hosts' (a list of URLs)"},
    {Spelling::kOption, "endpoints", "Vector's endpoints is 'hosts' (a list of URLs)"},
    {Spelling::kOption, "bootstrap_servers", "Vector's bootstrap_servers is 'brokers'"},
    {Spelling::kOption, "http_user", "Fluent Bit's HTTP_User is 'username'"},
    {Spelling::kOption, "http_passwd", "Fluent Bit's HTTP_Passwd is 'password'"},
    {Spelling::kOption, "logstash_format",
     "Fluent Bit's Logstash_Format: index: \"logs-%Y.%m.%d\" (or a data stream name)"},
    {Spelling::kOption, "logstash_prefix", "Fluent Bit's Logstash_Prefix: put it in 'index'"},
    {Spelling::kOption, "retry_limit",
     "retries never give up on a reachable output (no loss); see service.retry_max, and "
     "dead letters for events the output refuses"},
    {Spelling::kOption, "tls_verify_hostname", "'tls_verify' checks the certificate and name"},
    // Plugin types.
    {Spelling::kInputType, "tail", "Fluent Bit's tail is the 'file' input"},
    {Spelling::kInputType, "log", "Filebeat's log input is the 'file' input"},
    {Spelling::kInputType, "filestream", "Filebeat's filestream is the 'file' input"},
    {Spelling::kInputType, "filelog", "the Collector's filelog receiver is the 'file' input"},
    {Spelling::kInputType, "docker_logs", "Vector's docker_logs is the 'docker' input"},
    {Spelling::kInputType, "container", "Filebeat's container input is 'docker' (or 'cri')"},
    {Spelling::kInputType, "kubernetes_logs", "Vector's kubernetes_logs is the 'cri' input"},
    {Spelling::kInputType, "systemd", "Fluent Bit's systemd input is 'journald'"},
    {Spelling::kInputType, "journal", "the input is 'journald'"},
    {Spelling::kProcessorType, "parser",
     "Fluent Bit's parser filter: the json, regex or logfmt processor"},
    {Spelling::kProcessorType, "decode_json_fields", "Filebeat's decode_json_fields: 'json'"},
    {Spelling::kProcessorType, "dissect", "a regex processor with named groups"},
    {Spelling::kProcessorType, "parse_json", "the 'json' processor"},
    {Spelling::kOutputType, "es", "Fluent Bit's es output is 'elasticsearch'"},
    {Spelling::kOutputType, "opensearch", "OpenSearch is the 'elasticsearch' output"},
    {Spelling::kOutputType, "elasticsearch_logs", "'elasticsearch'"},
    {Spelling::kOutputType, "opentelemetry", "the OTLP output is 'otlp'"},
    {Spelling::kOutputType, "otlphttp", "the OTLP/HTTP exporter is the 'otlp' output"},
    {Spelling::kOutputType, "console", "'stdout'"},
    {Spelling::kOutputType, "blackhole", "'null'"},
    {Spelling::kOutputType, "socket", "'syslog' for syslog servers; 'http' for HTTP endpoints"},
};

std::string normalized(std::string_view w) {
  std::string r;
  r.reserve(w.size());
  for (char c : w) {
    if (c == '-' || c == '.') c = '_';
    r.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return r;
}

}  // namespace

std::string peer_spelling_hint(Spelling where, std::string_view word) {
  const std::string w = normalized(word);
  for (const Hint& h : kHints) {
    if (h.where == where && w == h.word) return std::string("; ") + h.text;
  }
  return "";
}

}  // namespace logship::config
