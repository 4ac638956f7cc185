// The journald input as the daemon runs it (built through the registry), against real journal
// files, with a recording stream in place of the pipeline.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/metrics.h"
#include "inputs/journald/journal_reader.h"
#include "tests/unit/inputs/journald/journal_test_util.h"

namespace logship::plugins::journald {
namespace {

using logship::testing::JournalEntry;
using logship::testing::make_journal;
using logship::testing::plain_entry;

}  // namespace
}  // namespace logship::plugins::journald

namespace logship {
void PrintTo(const Position& p, std::ostream* os) {
  *os << "{" << p.offset << ", " << p.text << "}";
}
}  // namespace logship

namespace logship::plugins::journald {
namespace {

struct Emitted {
  std::vector<std::string> messages;
  Position end;
};

// What the input emitted; owned by the test so it outlives the input and its stream.
class Recording {
 public:
  void add(Emitted e) {
    std::lock_guard<std::mutex> l(mu_);
    emitted_.push_back(std::move(e));
  }
  std::vector<Emitted> emitted() const {
    std::lock_guard<std::mutex> l(mu_);
    return emitted_;
  }
  std::vector<std::string> messages() const {
    std::vector<std::string> all;
    for (const auto& e : emitted()) all.insert(all.end(), e.messages.begin(), e.messages.end());
    return all;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Emitted> emitted_;
};

class RecordingStream final : public StreamHandle {
 public:
  RecordingStream(std::shared_ptr<const SourceInfo> src, Recording* rec)
      : src_(std::move(src)), rec_(rec) {}
  BatchPtr new_batch(std::size_t n) override { return std::make_unique<Batch>(src_, n); }
  bool emit(BatchPtr batch, Position end) override {
    Emitted e;
    for (const Event& ev : batch->events()) e.messages.emplace_back(ev.message);
    e.end = std::move(end);
    rec_->add(std::move(e));
    return true;
  }
  bool flush(bool) override { return true; }
  std::optional<TimePoint> next_flush() const override { return std::nullopt; }
  uint64_t unsettled() const override { return 0; }
  std::optional<Position> committed() const override { return std::nullopt; }

 private:
  std::shared_ptr<const SourceInfo> src_;
  Recording* rec_;
};

class FakeContext final : public InputContext {
 public:
  const std::string& name() const override { return name_; }
  const std::string& state_dir() const override { return name_; }
  std::unique_ptr<StreamHandle> open_stream(std::shared_ptr<const SourceInfo> source,
                                            bool) override {
    key = source->key;
    return std::make_unique<RecordingStream>(std::move(source), stream);
  }
  std::optional<Position> saved_position(const std::string& k) const override {
    auto it = saved.find(k);
    return it == saved.end() ? std::nullopt : std::optional<Position>(it->second);
  }
  void forget_position(const std::string&) override {}
  bool stopping() const override { return stop.load(); }
  void finished() override { done.store(true); }

  std::string name_ = "jt";
  std::map<std::string, Position> saved;
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  std::string key;
  Recording recording;
  Recording* stream = &recording;
};

std::unique_ptr<Input> make_input(const std::string& yaml) {
  const PluginInfo* p = find_plugin(PluginKind::kInput, "journald");
  EXPECT_NE(p, nullptr);
  config::Errors errors;
  InputMaker maker = p->bind_input(YAML::Load(yaml), errors, {PluginKind::kInput, "jt", "journald"});
  EXPECT_TRUE(maker) << (errors.all().empty() ? "" : errors.all()[0].message);
  return maker ? maker() : nullptr;
}

bool wait_until(const std::function<bool()>& pred) {
  for (int i = 0; i < 200; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return pred();
}

std::vector<std::string> cursors_of(const std::string& file) {
  JournalReader r;
  std::vector<std::string> out;
  if (!r.open(JournalSource{{}, {file}}, nullptr).is_ok()) return out;
  StartResult res;
  if (!r.start({}, nullptr, false, &res).is_ok()) return out;
  while (r.next() > 0) out.push_back(r.cursor());
  return out;
}

class JournaldInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = logship::testing::temp_dir("journald-input-");
    file_ = dir_ + "/a.journal";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string config(const std::string& extra) const {
    return "files: [" + file_ + "]\nread_from: head\nfollow: false\n" + extra;
  }
  // e0, first part of a split line of container a, e2, its last part, e4.
  void write_split_line_journal() {
    auto docker = [](int i, std::string msg, bool partial) {
      JournalEntry e{{"__REALTIME_TIMESTAMP", std::to_string(1700000000000000LL + i)},
                     {"MESSAGE", std::move(msg)},
                     {"PRIORITY", "6"},
                     {"CONTAINER_ID", "aaaaaaaaaaaa"}};
      if (partial) e.emplace_back("CONTAINER_PARTIAL_MESSAGE", "true");
      return e;
    };
    ASSERT_TRUE(make_journal(file_, {plain_entry(0), docker(1, "first half ", true),
                                     plain_entry(2), docker(3, "second half", false),
                                     plain_entry(4)}));
    cursors_ = cursors_of(file_);
    ASSERT_EQ(cursors_.size(), 5u);
  }
  void run_to_end(FakeContext& ctx, const std::string& yaml) {
    auto in = make_input(yaml);
    ASSERT_TRUE(in);
    ASSERT_TRUE(in->start(ctx).is_ok());
    EXPECT_TRUE(wait_until([&] { return ctx.done.load(); }));
    ctx.stop = true;
    in->stop();
  }

  std::string dir_, file_;
  std::vector<std::string> cursors_;
};

TEST_F(JournaldInputTest, PositionsNeverPassAHeldPartOfASplitLine) {
  write_split_line_journal();
  FakeContext ctx;
  run_to_end(ctx, config("batch_events: 1\n"));
  EXPECT_EQ(ctx.key, "journald:jt");
  EXPECT_EQ(ctx.stream->messages(),
            (std::vector<std::string>{"msg 0", "msg 2", "first half second half", "msg 4"}));
  std::vector<Position> ends;
  for (const auto& e : ctx.stream->emitted()) ends.push_back(e.end);
  // After e0; e2 is emitted while the first part is held, so the position stays at that part;
  // after the joined line; after e4.
  EXPECT_EQ(ends, (std::vector<Position>{{kAfterCursor, cursors_[0]},
                                         {kAtCursor, cursors_[1]},
                                         {kAfterCursor, cursors_[3]},
                                         {kAfterCursor, cursors_[4]}}));
}

TEST_F(JournaldInputTest, RestartsAfterTheDeliveredEntryOrAtTheHeldPart) {
  write_split_line_journal();
  {
    FakeContext ctx;
    ctx.saved["journald:jt"] = Position{kAfterCursor, cursors_[0]};
    run_to_end(ctx, config(""));
    EXPECT_EQ(ctx.stream->messages(),
              (std::vector<std::string>{"msg 2", "first half second half", "msg 4"}));
  }
  {
    FakeContext ctx;
    ctx.saved["journald:jt"] = Position{kAtCursor, cursors_[1]};
    run_to_end(ctx, config(""));
    EXPECT_EQ(ctx.stream->messages(),
              (std::vector<std::string>{"msg 2", "first half second half", "msg 4"}));
  }
  {
    FakeContext ctx;
    ctx.saved["journald:jt"] = Position{kAfterCursor, cursors_[4]};
    run_to_end(ctx, config(""));
    EXPECT_EQ(ctx.stream->messages(), std::vector<std::string>{});
  }
}

TEST_F(JournaldInputTest, AVacuumedCursorIsCountedAndReadingStartsAtTheOldestEntry) {
  const std::string gone = dir_ + "/gone.journal";
  ASSERT_TRUE(make_journal(gone, {plain_entry(100), plain_entry(101)}));
  const std::string lost_cursor = cursors_of(gone).at(1);
  std::filesystem::remove(gone);
  ASSERT_TRUE(make_journal(file_, {plain_entry(0), plain_entry(1), plain_entry(2)}));
  std::string labels = "input=";
  json::append_string(labels, "jt");
  const int64_t before =
      Metrics::global().value("logship_journald_cursor_lost_total", labels);
  FakeContext ctx;
  ctx.saved["journald:jt"] = Position{kAfterCursor, lost_cursor};
  run_to_end(ctx, config(""));
  EXPECT_EQ(ctx.stream->messages(), (std::vector<std::string>{"msg 0", "msg 1", "msg 2"}));
  EXPECT_EQ(Metrics::global().value("logship_journald_cursor_lost_total", labels), before + 1);
}

TEST_F(JournaldInputTest, FollowsEntriesAppendedWhileRunning) {
  ASSERT_TRUE(make_journal(file_, {plain_entry(0), plain_entry(1)}));
  FakeContext ctx;
  auto in = make_input("files: [" + file_ + "]\nread_from: tail\n");
  ASSERT_TRUE(in);
  ASSERT_TRUE(in->start(ctx).is_ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<JournalEntry> more;
  for (int i = 2; i < 102; ++i) more.push_back(plain_entry(i));
  ASSERT_TRUE(make_journal(file_, more));
  EXPECT_TRUE(wait_until([&] { return ctx.stream->messages().size() >= 100; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ctx.stop = true;
  in->stop();
  std::vector<std::string> want;
  for (int i = 2; i < 102; ++i) want.push_back("msg " + std::to_string(i));
  EXPECT_EQ(ctx.stream->messages(), want);
  EXPECT_FALSE(ctx.done.load());
  // The tail was recorded before anything was read, so a restart would not skip entries
  // written in between.
  auto emitted = ctx.stream->emitted();
  ASSERT_FALSE(emitted.empty());
  EXPECT_TRUE(emitted[0].messages.empty());
  EXPECT_EQ(emitted[0].end, (Position{kAfterCursor, cursors_of(file_).at(1)}));
}

}  // namespace
}  // namespace logship::plugins::journald
