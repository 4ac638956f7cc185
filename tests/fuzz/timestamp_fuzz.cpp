// Timestamp parsing: the built-in formats on arbitrary text (no crash, no signed overflow), what
// rfc3339 accepts prints back (append_rfc3339) and parses to the same instant, the Docker
// decoder's strict RFC 3339 parser agrees with it wherever both accept, and epoch formats agree
// with from_int. A first line before '\n' is also compiled as a strptime-style pattern and
// applied to the rest.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/core/json_writer.h"
#include "inputs/docker/line_decoder.h"
#include "parsers/timestamp/time_format.h"

using logship::parsers::TimeFormat;

namespace {
constexpr int64_t kNow = 1717200000LL * 1000000000LL;   // 2024-06-01T00:00:00Z

TimeFormat make(const char* f, int32_t off = 0) {
  TimeFormat t;
  if (!t.compile(f, off).is_ok()) __builtin_trap();
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const TimeFormat rfc = make("rfc3339");
  static const TimeFormat rfc_local = make("rfc3339", 2 * 3600);
  static const TimeFormat fixed[] = {
      make("epoch"), make("epoch_s"), make("epoch_ms"), make("epoch_us"), make("epoch_ns"),
      make("%d/%b/%Y:%H:%M:%S %z"), make("%b %e %H:%M:%S"), make("%Y-%m-%d %H:%M:%S.%f"),
      make("%a %b %d %I:%M:%S %p %Z %Y"), make("%s"), make("%j %y %T"),
  };
  static const TimeFormat ns = make("epoch_ns");
  std::string_view text(reinterpret_cast<const char*>(data), size);
  int64_t t = 0;
  for (const auto& f : fixed) f.parse(text, kNow, &t);
  rfc_local.parse(text, kNow, &t);

  if (rfc.parse(text, kNow, &t)) {
    std::string out;
    logship::json::append_rfc3339(out, t);
    int64_t back = 0;
    if (!rfc.parse(out, kNow, &back) || back != t) __builtin_trap();
    int64_t strict = 0;
    if (logship::docker::parse_rfc3339_ns(text, &strict) && strict != t) __builtin_trap();
  }
  if (ns.parse(text, kNow, &t)) {
    int64_t v = 0;
    if (!ns.from_int(t, &v) || v != t) __builtin_trap();
  }

  std::size_t nl = text.find('\n');
  if (nl != std::string_view::npos) {
    TimeFormat custom;
    if (custom.compile(text.substr(0, nl), 0).is_ok()) custom.parse(text.substr(nl + 1), kNow, &t);
  }
  return 0;
}
