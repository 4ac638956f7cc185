#include "parsers/regex/builtin_patterns.h"

namespace logship::parsers {
namespace {

// NCSA combined (nginx's default `combined` and Apache's `%h %l %u %t "%r" %>s %b "%{Referer}i"
// "%{User-agent}i"`). Referer and agent are optional so the common format matches too; anything
// after them (nginx $request_time, X-Forwarded-For...) is tolerated. A request line that is not
// METHOD PATH PROTOCOL (TLS on a plain port, scanners) lands in `request` instead.
constexpr std::string_view kCombined =
    R"re(^(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] )re"
    R"re("(?:(?P<method>[A-Z][A-Z_-]*) (?P<path>[^ "]*)(?: (?P<protocol>HTTP/[0-9.]+))?|)re"
    R"re((?P<request>(?:[^"\\]|\\.)*))" (?P<status>\d{3}) (?P<bytes>\d+|-))re"
    R"re((?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<user_agent>(?:[^"\\]|\\.)*)")?.*$)re";

// RFC 5424: <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG], where
// SD-PARAM values may hold escaped \" \] \\ (a BOM may start MSG).
constexpr std::string_view kRfc5424 =
    R"re(^<(?P<pri>\d{1,3})>(?P<version>\d{1,2}) (?P<time>\S+) (?P<host>\S+) (?P<app>\S+) )re"
    R"re((?P<procid>\S+) (?P<msgid>\S+) )re"
    R"re((?P<structured_data>-|(?:\[(?:[^\]"\\]|\\.|"(?:[^"\\]|\\.)*")*\])+))re"
    R"re((?: (?:\x{FEFF})?(?P<message>(?s:.*)))?$)re";

// RFC 3164 as syslog daemons write it to files or forward it: optional <PRI>, "Mmm dd
// hh:mm:ss", host, tag with optional [pid], colon, message.
constexpr std::string_view kRfc3164 =
    R"re(^(?:<(?P<pri>\d{1,3})>)?(?P<time>[A-Z][a-z]{2} [ 0-9]\d \d{2}:\d{2}:\d{2}) )re"
    R"re((?P<host>\S+) (?P<ident>[^\s:\[]+)(?:\[(?P<pid>[^\]]*)\])?: ?(?P<message>(?s:.*))$)re";

const std::vector<BuiltinPattern>& table() {
  static const std::vector<BuiltinPattern> t = {
      {"combined", {kCombined}, {{"status", "int"}, {"bytes", "int"}}, "", false},
      {"nginx", {kCombined}, {{"status", "int"}, {"bytes", "int"}}, "", false},
      {"apache", {kCombined}, {{"status", "int"}, {"bytes", "int"}}, "", false},
      {"syslog_rfc5424", {kRfc5424}, {{"pri", "int"}, {"version", "int"}}, "message", true},
      {"syslog_rfc3164", {kRfc3164}, {{"pri", "int"}}, "message", true},
      {"syslog", {kRfc5424, kRfc3164}, {{"pri", "int"}, {"version", "int"}}, "message", true},
  };
  return t;
}

}  // namespace

const BuiltinPattern* find_builtin(std::string_view name) {
  for (const auto& b : table()) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

std::string_view combined_pattern() { return kCombined; }

std::vector<std::string_view> builtin_names() {
  std::vector<std::string_view> r;
  for (const auto& b : table()) r.push_back(b.name);
  return r;
}

}  // namespace logship::parsers
