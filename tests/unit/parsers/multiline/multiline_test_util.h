#pragma once
// Helpers of the multiline tests: fixture files, running lines through a processor in batches,
// and a harness that tracks acknowledgements the way StreamPipeline does.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "daemon/core/ack.h"
#include "tests/unit/support/parser_test_util.h"

namespace logship::testing {

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  return lines;
}

// Events of a fixture's .expected file: blocks separated by "==== next event ====".
inline std::vector<std::string> read_expected(const std::string& path) {
  std::vector<std::string> events;
  std::string cur;
  bool have = false;
  for (const auto& l : read_lines(path)) {
    if (l == "==== next event ====") {
      events.push_back(cur);
      cur.clear();
      have = false;
      continue;
    }
    if (have) cur.push_back('\n');
    cur += l;
    have = true;
  }
  events.push_back(cur);
  return events;
}

// Runs lines through a processor in batches of `per_batch` lines (0 = one batch), then flushes.
inline std::vector<std::string> run(Processor& p, const std::shared_ptr<const SourceInfo>& src,
                             const std::vector<std::string>& lines, std::size_t per_batch,
                             Stream stream = Stream::kStderr) {
  std::vector<std::string> out;
  if (per_batch == 0) per_batch = lines.size();
  for (std::size_t i = 0; i < lines.size(); i += per_batch) {
    std::vector<std::string> part(lines.begin() + static_cast<std::ptrdiff_t>(i),
                                  lines.begin() + static_cast<std::ptrdiff_t>(
                                                      std::min(lines.size(), i + per_batch)));
    auto b = batch(src, part, stream);
    p.process(*b);
    for (auto& m : messages(*b)) out.push_back(m);
  }
  Batch f(src);
  p.flush(f, SteadyClock::now(), true);
  for (auto& m : messages(f)) out.push_back(m);
  return out;
}

struct RecordingSink : CommitSink {
  std::vector<uint64_t> commits;
  void commit(const std::string&, const Position& p) override { commits.push_back(p.offset); }
};

// What StreamPipeline does with a processor and one output, with delivery under test control.
struct Harness {
  explicit Harness(Processor* proc) : p(proc) {}
  RecordingSink sink;
  std::shared_ptr<AckTracker> tracker = AckTracker::create("s", &sink);
  Processor* p;
  std::shared_ptr<const SourceInfo> src = source();
  std::vector<BatchPtr> in_output;   // handed to the output, not yet delivered
  std::vector<std::string> delivered;

  void emit(const std::vector<std::string>& lines, uint64_t end) {
    auto b = batch(src, lines, Stream::kStderr);
    b->acks().add(tracker->track(Position{end, {}}));
    p->process(*b);
    hand_over(std::move(b));
  }
  void flush(bool force) {
    auto out = std::make_unique<Batch>(src);
    p->flush(*out, SteadyClock::now(), force);
    if (out->size() == 0 && out->acks().empty()) return;
    hand_over(std::move(out));
  }
  void hand_over(BatchPtr b) {
    if (b->size() == 0) {
      b->acks().release();
      return;
    }
    in_output.push_back(std::move(b));
  }
  void deliver() {
    for (auto& b : in_output) {
      for (auto& m : messages(*b)) delivered.push_back(m);
      b->acks().release();
    }
    in_output.clear();
  }
  std::optional<uint64_t> committed() const {
    auto c = tracker->committed();
    return c ? std::optional<uint64_t>(c->offset) : std::nullopt;
  }
};

}  // namespace logship::testing
