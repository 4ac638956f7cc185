#include "daemon/runtime/reload_outcome.h"

#include <simdjson.h>

#include "daemon/core/json_writer.h"

namespace logship {

std::string ReloadOutcome::to_json(long pid) const {
  std::string out = "{\"pid\":" + std::to_string(pid) +
                    ",\"generation\":" + std::to_string(generation) + ",\"result\":";
  json::append_string(out, result);
  out += ",\"errors\":[";
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (i > 0) out += ',';
    json::append_string(out, errors[i]);
  }
  out += "]}";
  return out;
}

bool ReloadOutcome::from_json(std::string_view text, long* pid, ReloadOutcome* out) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS) return false;
  int64_t p = 0, gen = 0;
  std::string_view result;
  simdjson::dom::array errors;
  if (doc["pid"].get(p) || doc["generation"].get(gen) || doc["result"].get(result) ||
      doc["errors"].get(errors) || gen < 0) {
    return false;
  }
  ReloadOutcome o;
  o.generation = static_cast<uint64_t>(gen);
  o.result = std::string(result);
  for (simdjson::dom::element e : errors) {
    std::string_view s;
    if (e.get(s)) return false;
    o.errors.emplace_back(s);
  }
  *pid = static_cast<long>(p);
  *out = std::move(o);
  return true;
}

ReloadOutcomes& ReloadOutcomes::global() {
  static ReloadOutcomes r;
  return r;
}

uint64_t ReloadOutcomes::generation() const {
  std::lock_guard lock(mu_);
  return last_.generation;
}

ReloadOutcome ReloadOutcomes::publish(std::string result, std::vector<std::string> errors) {
  std::lock_guard lock(mu_);
  last_.generation += 1;
  last_.result = std::move(result);
  last_.errors = std::move(errors);
  return last_;
}

std::optional<ReloadOutcome> ReloadOutcomes::since(uint64_t after) const {
  std::lock_guard lock(mu_);
  if (last_.generation <= after) return std::nullopt;
  return last_;
}

}  // namespace logship
