#pragma once
// Conditions: a small expression language over an event and its source, e.g.
//   level >= warn and not (http.path starts_with "/health") and label("team") == "payments"
// Compiled once when the config is validated (syntax, literal types, regexes), then evaluated
// per event by walking a flat node array: no heap allocation per event. The grammar and the
// type rules are documented in README.md ("Conditions").
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/batch.h"

namespace re2 {
class RE2;
}

namespace logship::condition {

struct CompileError {
  std::size_t column = 0;   // 1-based position in the expression text
  std::string message;
  std::string to_string() const;   // "column 12: expected a value after '>='"
};

enum class CmpOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// What a test reads.
struct Operand {
  enum class Kind : uint8_t { kField, kMessage, kStream, kInput, kLabel } kind = Kind::kField;
  std::string name;   // field path or label key
};

struct Literal {
  enum class Kind : uint8_t { kString, kNumber, kBool, kDuration, kLevel } kind = Kind::kString;
  std::string text;   // strings; also the source spelling of the others, for messages
  double number = 0;  // numbers; durations in seconds
  bool boolean = false;
  int level = 0;      // LevelRank
};

struct Node {
  enum class Kind : uint8_t {
    kAnd, kOr, kNot, kCompare, kMatches, kIn, kExists, kStartsWith, kContains
  } kind = Kind::kCompare;
  CmpOp op = CmpOp::kEq;
  int left = -1, right = -1;   // children (and/or: both; not: left)
  Operand operand;
  std::vector<Literal> literals;   // compare, starts_with, contains: one; in: the list
  std::shared_ptr<const re2::RE2> regex;
};

class Condition {
 public:
  // Parses and type-checks `text`. On failure returns nullptr and fills *error.
  static std::shared_ptr<const Condition> compile(std::string_view text, CompileError* error);

  // True when the event (of a stream from `source`) satisfies the condition. Not thread-safe
  // per instance only through `scratch`: callers on different threads pass their own.
  bool matches(const Event& e, const SourceInfo& source, std::string* scratch) const;
  // Convenience for single-threaded callers: a scratch buffer kept per thread.
  bool matches(const Event& e, const SourceInfo& source) const;

  const std::string& text() const { return text_; }
  // True when only the source is tested (input, labels): the result is the same for every
  // event of a stream, so callers may evaluate it once per batch.
  bool source_only() const;
  const std::vector<Node>& nodes() const { return nodes_; }

 private:
  friend class Parser;
  bool eval(int node, const Event& e, const SourceInfo& source, std::string* scratch) const;
  std::string text_;
  std::vector<Node> nodes_;
  int root_ = -1;
};

// Parses durations as conditions write them: "250ms", "1.5s", "2m", "1h", "1d", "10us", "5ns".
// Seconds, or nullopt when the text is not a duration.
std::optional<double> parse_duration_seconds(std::string_view text);

}  // namespace logship::condition
