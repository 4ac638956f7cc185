#pragma once
// What a Splunk HEC answer means for a request's events, from its status and the HEC error
// code in its body ({"text":"Invalid data format","code":6}):
//  - 2xx: accepted (then, with an ackId, acknowledged by polling: splunk_hec_ack.h);
//  - 400 with a code about the events themselves (5 no data, 6 invalid data format, 7
//    incorrect index, 12 event field required, 13 event field blank, 15 indexed fields):
//    dead-lettered, HEC can never take them. With "invalid-event-number": N (the first bad
//    event of the request, from 0) only that event is dead-lettered and the others are sent
//    again: at least once, never lost (Splunk indexes the events before N, so those arrive
//    twice; a receiver that refuses the whole request, as the Collector's does, loses none);
//  - 400 with any other code (10/11 channel missing or invalid, 14 ack disabled, 16 query
//    string auth): a configuration problem, retried by the core and logged as an error;
//  - 401/403 (token missing, invalid or disabled): retried, logged as an error;
//  - 413: split; 429 and 503 (server busy, code 9): resent after Retry-After or a backoff;
//  - anything else (500 ...): retried by the core.
#include <cstddef>
#include <optional>
#include <string_view>

#include "outputs/common/http_batch_output.h"

namespace logship::plugins::httpout {

// The "code" of a HEC answer body; -1 when it has none.
int splunk_hec_code(std::string_view body);

// The "invalid-event-number" of a HEC answer body, when it has one.
std::optional<std::size_t> splunk_hec_invalid_event(std::string_view body);

struct HecJudgement {
  httpbatch::Verdict::Kind kind;
  bool config_error = false;   // retried, but needs the operator: logged as an error
  std::optional<std::size_t> invalid_event = std::nullopt;   // kDeadLetter: only this event
};

HecJudgement judge_splunk_hec_answer(int status, std::string_view body);

}  // namespace logship::plugins::httpout
