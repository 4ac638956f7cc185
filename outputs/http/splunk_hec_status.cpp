#include "outputs/http/splunk_hec_status.h"

#include <simdjson.h>

namespace logship::plugins::httpout {

int splunk_hec_code(std::string_view body) {
  if (body.size() > 64 * 1024) return -1;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  int64_t code = -1;
  if (parser.parse(body.data(), body.size()).get(doc) || doc["code"].get_int64().get(code)) return -1;
  return code >= 0 && code < 1000 ? static_cast<int>(code) : -1;
}

HecJudgement judge_splunk_hec_answer(int status, std::string_view body) {
  using Kind = httpbatch::Verdict::Kind;
  if (status >= 200 && status < 300) return {Kind::kAccepted};
  switch (status) {
    case 400:
      switch (splunk_hec_code(body)) {
        case 5: case 6: case 7: case 12: case 13: case 15:
          return {Kind::kDeadLetter};
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
