#include "outputs/http/splunk_hec_ack.h"

#include <simdjson.h>

#include <algorithm>

namespace logship::plugins::httpout {
namespace {

// HEC answers are small; a bigger one is not an ack answer (and is not parsed at length).
constexpr std::size_t kMaxAnswerBytes = 64 * 1024;

}  // namespace

std::optional<uint64_t> parse_ack_id(std::string_view body) {
  if (body.size() > kMaxAnswerBytes) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc)) return std::nullopt;
  uint64_t id = 0;
  if (doc["ackId"].get_uint64().get(id)) return std::nullopt;
  return id;
}

AckWait::AckWait(uint64_t ack_id, Clock::time_point now, std::chrono::milliseconds interval,
                 std::chrono::milliseconds timeout)
    : id_(ack_id), deadline_(now + timeout), interval_(interval) {
  key_ = std::to_string(id_);
  body_ = "{\"acks\":[" + key_ + "]}";
}

AckWait::Step AckWait::first() const { return Step{Next::kPoll, interval_, {}}; }

AckWait::Step AckWait::again(Clock::time_point now, std::string why) {
  if (now + interval_ > deadline_) {
    return Step{Next::kGiveUp, {}, "ackId " + key_ + " not acknowledged in time (" + why + ")"};
  }
  return Step{Next::kPoll, interval_, {}};
}

AckWait::Step AckWait::on_answer(int status, std::string_view body, Clock::time_point now) {
  ++polls_;
  if (status == 0) return again(now, "ack poll failed");
  if (status != 200) return again(now, "ack poll answered " + std::to_string(status));
  if (body.size() > kMaxAnswerBytes) return again(now, "ack answer too large");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  bool acked = false;
  if (parser.parse(body.data(), body.size()).get(doc) || doc["acks"][key_].get_bool().get(acked)) {
    return again(now, "unreadable ack answer");
  }
  if (acked) return Step{Next::kConfirmed, {}, {}};
  return again(now, "not yet indexed");
}

}  // namespace logship::plugins::httpout
