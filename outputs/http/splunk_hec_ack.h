#pragma once
// Splunk HEC indexer acknowledgement. When the token has it enabled, the answer to an events
// request carries an ackId ({"text":"Success","code":0,"ackId":7}); the events are only
// received, not yet indexed. The sender then polls POST /services/collector/ack with
// {"acks":[7]} on the same channel (X-Splunk-Request-Channel) until it answers
// {"acks":{"7":true}}: only then are the events delivered for logship's pipeline (its
// checkpoints advance). An answer without ackId means acknowledgement is off: delivered at once.
// AckWait is the polling's state machine, free of I/O so that it can be tested step by step:
//   start --(wait interval)--> poll --true--> confirmed
//                               |--false, error, busy--> poll again after the interval
//                               `--past the timeout--> give up: the delivery is retried
// (HEC may then index those events twice: at-least-once, as Splunk documents).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace logship::plugins::httpout {

// The ackId of an events answer; nullopt when it has none (acknowledgement off) or is no JSON.
std::optional<uint64_t> parse_ack_id(std::string_view body);

class AckWait {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Next { kPoll, kConfirmed, kGiveUp };
  struct Step {
    Next next = Next::kPoll;
    std::chrono::milliseconds wait{0};   // kPoll: before the poll
    std::string reason;                  // kGiveUp: why
  };

  AckWait(uint64_t ack_id, Clock::time_point now, std::chrono::milliseconds interval,
          std::chrono::milliseconds timeout);

  // The first step: poll after one interval (indexing takes at least that long).
  Step first() const;
  // After a poll: `status` 0 when the poll got no answer (network error).
  Step on_answer(int status, std::string_view body, Clock::time_point now);
  // The body of the poll request: {"acks":[<id>]}.
  const std::string& poll_body() const { return body_; }
  uint64_t ack_id() const { return id_; }
  int polls() const { return polls_; }

 private:
  Step again(Clock::time_point now, std::string why);

  const uint64_t id_;
  const Clock::time_point deadline_;
  const std::chrono::milliseconds interval_;
  std::string body_;
  std::string key_;   // "<id>", the key of the answer's acks object
  int polls_ = 0;
};

}  // namespace logship::plugins::httpout
