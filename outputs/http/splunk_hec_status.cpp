#include "outputs/http/splunk_hec_status.h"

#include <simdjson.h>

#include <cstdint>

namespace logship::plugins::httpout {

namespace {

// A field of a HEC answer body that is a non-negative integer below `limit`.
std::optional<int64_t> answer_integer(std::string_view body, const char* field, int64_t limit) {
  if (body.size() > 64 * 1024) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  int64_t v = -1;
  if (parser.parse(body.data(), body.size()).get(doc) || doc[field].get_int64().get(v)) {
    return std::nullopt;
  }
  if (v < 0 || v >= limit) return std::nullopt;
  return v;
}

}  // namespace

int splunk_hec_code(std::string_view body) {
  return static_cast<int>(answer_integer(body, "code", 1000).value_or(-1));
}

std::optional<std::size_t> splunk_hec_invalid_event(std::string_view body) {
  if (auto n = answer_integer(body, "invalid-event-number", INT64_MAX)) {
    return static_cast<std::size_t>(*n);
  }
  return std::nullopt;
}

HecJudgement judge_splunk_hec_answer(int status, std::string_view body) {
  using Kind = httpbatch::Verdict::Kind;
  if (status >= 200 && status < 300) return {Kind::kAccepted};
  switch (status) {
    case 400:
      switch (splunk_hec_code(body)) {
        case 5: case 6: case 7: case 12: case 13: case 15:
          return {Kind::kDeadLetter, false, splunk_hec_invalid_event(body)};
        default:
          return {Kind::kRetry, true};
      }
    case 401:
    case 403:
      return {Kind::kRetry, true};
    case 413:
      return {Kind::kSplit};
    case 429:
    case 503:
      return {Kind::kResend};
    default:
      return {Kind::kRetry};
  }
}

}  // namespace logship::plugins::httpout
