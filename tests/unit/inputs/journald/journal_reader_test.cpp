#include "inputs/journald/journal_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "inputs/journald/journald_options.h"
#include "tests/unit/inputs/journald/journal_test_util.h"

namespace logship::plugins::journald {
namespace {

using logship::testing::JournalEntry;
using logship::testing::make_journal;
using logship::testing::plain_entry;

std::string field(JournalReader& r, std::string_view name) {
  r.restart_data();
  std::string_view item;
  while (r.next_data(&item)) {
    if (item.size() > name.size() && item.substr(0, name.size()) == name &&
        item[name.size()] == '=') {
      return std::string(item.substr(name.size() + 1));
    }
  }
  return "<none>";
}

std::vector<std::string> read_messages(JournalReader& r) {
  std::vector<std::string> out;
  for (int i = 0; i < 100000; ++i) {
    int n = r.next();
    EXPECT_GE(n, 0);
    if (n <= 0) break;
    out.push_back(field(r, "MESSAGE"));
  }
  return out;
}

class JournalReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = logship::testing::temp_dir("journald-reader-");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // Opens `files` and starts with `prog`, `saved`, `from_tail`.
  void open_start(JournalReader& r, const std::vector<std::string>& files,
                  const std::vector<std::string>& prog = {}, const Position* saved = nullptr,
                  bool from_tail = false, StartResult* res = nullptr) {
    ASSERT_TRUE(r.open(JournalSource{{}, files}, nullptr).is_ok());
    StartResult ignored;
    ASSERT_TRUE(r.start(prog, saved, from_tail, res ? res : &ignored).is_ok());
  }

  std::string dir_;
};

TEST_F(JournalReaderTest, ReadsEveryEntryInOrderIncludingBinaryMessages) {
  std::string binary("line one\nline two\x01\x00 end", 23);
  ASSERT_TRUE(make_journal(path("a.journal"),
                           {plain_entry(0),
                            {{"__REALTIME_TIMESTAMP", "1700000000000001"}, {"MESSAGE", binary}},
                            plain_entry(2)}));
  JournalReader r;
  open_start(r, {path("a.journal")});
  EXPECT_EQ(read_messages(r), (std::vector<std::string>{"msg 0", binary, "msg 2"}));
}

TEST_F(JournalReaderTest, MessagesLargerThanTheDefault64KiBCapAreWhole) {
  std::string big(200000, 'x');
  big[199999] = 'y';
  ASSERT_TRUE(make_journal(path("a.journal"),
                           {{{"__REALTIME_TIMESTAMP", "1700000000000000"}, {"MESSAGE", big}}}));
  JournalReader r;
  open_start(r, {path("a.journal")});
  EXPECT_EQ(read_messages(r), std::vector<std::string>{big});
}

TEST_F(JournalReaderTest, CursorAfterTheEndStillNamesTheLastEntry) {
  ASSERT_TRUE(make_journal(path("a.journal"), {plain_entry(0), plain_entry(1)}));
  JournalReader r;
  open_start(r, {path("a.journal")});
  EXPECT_EQ(r.cursor(), "");
  ASSERT_EQ(r.next(), 1);
  ASSERT_EQ(r.next(), 1);
  const std::string last = r.cursor();
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(r.next(), 0);
  EXPECT_EQ(r.cursor(), last);
}

TEST_F(JournalReaderTest, ResumesAfterADeliveredCursorAndAtAHeldOne) {
  std::vector<JournalEntry> entries;
  for (int i = 0; i < 10; ++i) entries.push_back(plain_entry(i));
  ASSERT_TRUE(make_journal(path("a.journal"), entries));
  std::string cursor4;
  {
    JournalReader r;
    open_start(r, {path("a.journal")});
    for (int i = 0; i < 5; ++i) ASSERT_EQ(r.next(), 1);
    cursor4 = r.cursor();
  }
  Position after{kAfterCursor, cursor4};
  JournalReader r;
  StartResult res;
  open_start(r, {path("a.journal")}, {}, &after, false, &res);
  EXPECT_FALSE(res.cursor_lost);
  EXPECT_EQ(read_messages(r),
            (std::vector<std::string>{"msg 5", "msg 6", "msg 7", "msg 8", "msg 9"}));

  Position at{kAtCursor, cursor4};
  JournalReader r2;
  open_start(r2, {path("a.journal")}, {}, &at, false, &res);
  EXPECT_EQ(read_messages(r2),
            (std::vector<std::string>{"msg 4", "msg 5", "msg 6", "msg 7", "msg 8", "msg 9"}));

  // The saved entry exists but the (changed) matches exclude it: the next matching one follows.
  std::vector<std::string> prog = {"MESSAGE=msg 2", "MESSAGE=msg 7", "MESSAGE=msg 4"};
  JournalReader r3;
  open_start(r3, {path("a.journal")}, prog, &after, false, &res);
  EXPECT_FALSE(res.cursor_lost);
  EXPECT_EQ(read_messages(r3), std::vector<std::string>{"msg 7"});
}

TEST_F(JournalReaderTest, TailStartsAfterTheLastEntryAndFollowsAppends) {
  ASSERT_TRUE(make_journal(path("a.journal"), {plain_entry(0), plain_entry(1)}));
  JournalReader r;
  open_start(r, {path("a.journal")}, {}, nullptr, /*from_tail=*/true);
  EXPECT_EQ(r.next(), 0);
  // systemd-journal-remote appends to an existing output file.
  ASSERT_TRUE(make_journal(path("a.journal"), {plain_entry(2), plain_entry(3)}));
  std::vector<std::string> got;
  for (int i = 0; i < 50 && got.size() < 2; ++i) {
    auto more = read_messages(r);
    got.insert(got.end(), more.begin(), more.end());
    if (got.size() < 2) r.wait(100000);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"msg 2", "msg 3"}));
}

TEST_F(JournalReaderTest, VacuumedCursorContinuesFromTheOldestEntry) {
  const std::string dir = path("j");
  std::filesystem::create_directory(dir);
  std::vector<JournalEntry> old_entries, new_entries;
  for (int i = 0; i < 5; ++i) old_entries.push_back(plain_entry(i));
  for (int i = 5; i < 8; ++i) new_entries.push_back(plain_entry(i));
  ASSERT_TRUE(make_journal(dir + "/old.journal", old_entries));
  ASSERT_TRUE(make_journal(dir + "/new.journal", new_entries));
  std::string cursor2;
  {
    JournalReader r;
    ASSERT_TRUE(r.open(JournalSource{dir, {}}, nullptr).is_ok());
    StartResult res;
    ASSERT_TRUE(r.start({}, nullptr, false, &res).is_ok());
    for (int i = 0; i < 3; ++i) ASSERT_EQ(r.next(), 1);
    ASSERT_EQ(field(r, "MESSAGE"), "msg 2");
    cursor2 = r.cursor();
  }
  std::filesystem::remove(dir + "/old.journal");
  JournalReader r;
  ASSERT_TRUE(r.open(JournalSource{dir, {}}, nullptr).is_ok());
  StartResult res;
  Position saved{kAfterCursor, cursor2};
  ASSERT_TRUE(r.start({}, &saved, false, &res).is_ok());
  EXPECT_TRUE(res.cursor_lost);
  EXPECT_EQ(read_messages(r), (std::vector<std::string>{"msg 5", "msg 6", "msg 7"}));
}

// Entry i: U = i % 3, P = i % 2, MESSAGE "msg i".
class JournalMatchTest : public JournalReaderTest {
 protected:
  void SetUp() override {
    JournalReaderTest::SetUp();
    std::vector<JournalEntry> entries;
    for (int i = 0; i < 12; ++i) {
      entries.push_back(plain_entry(i, {{"_SYSTEMD_UNIT", "u" + std::to_string(i % 3) + ".service"},
                                        {"PRIORITY", std::to_string(i % 2 == 0 ? 3 : 6)},
                                        {"SYSLOG_IDENTIFIER", i < 6 ? "early" : "late"}}));
    }
    ASSERT_TRUE(make_journal(path("m.journal"), entries));
  }
  std::vector<std::string> select(const std::vector<std::string>& prog) {
    JournalReader r;
    open_start(r, {path("m.journal")}, prog);
    return read_messages(r);
  }
  std::vector<std::string> select(const JournaldOptions& o) {
    auto prog = build_match_program(o);
    EXPECT_EQ(prog.status().message(), "");
    return prog.is_ok() ? select(prog.value()) : std::vector<std::string>{};
  }
};

TEST_F(JournalMatchTest, SameFieldIsOrDifferentFieldsAreAnd) {
  EXPECT_EQ(select({"_SYSTEMD_UNIT=u0.service", "_SYSTEMD_UNIT=u1.service"}),
            (std::vector<std::string>{"msg 0", "msg 1", "msg 3", "msg 4", "msg 6", "msg 7",
                                      "msg 9", "msg 10"}));
  EXPECT_EQ(select({"_SYSTEMD_UNIT=u0.service", "PRIORITY=3"}),
            (std::vector<std::string>{"msg 0", "msg 6"}));
}

TEST_F(JournalMatchTest, PlusStartsAnAlternative) {
  EXPECT_EQ(select({"_SYSTEMD_UNIT=u0.service", "PRIORITY=3", "+", "MESSAGE=msg 5"}),
            (std::vector<std::string>{"msg 0", "msg 5", "msg 6"}));
}

TEST_F(JournalMatchTest, OptionGroupsAreAndedWithEachOther) {
  JournaldOptions o;
  o.units = {"u1", "u2.service"};   // "u1" is mangled to u1.service as journalctl does
  o.priority = "err";               // 0..3
  EXPECT_EQ(select(o), (std::vector<std::string>{"msg 2", "msg 4", "msg 8", "msg 10"}));

  JournaldOptions o2;
  o2.matches = {"_SYSTEMD_UNIT=u0.service", "+", "PRIORITY=6"};
  o2.identifiers = {"late"};
  EXPECT_EQ(select(o2), (std::vector<std::string>{"msg 6", "msg 7", "msg 9", "msg 11"}));
}

TEST_F(JournalReaderTest, CorruptAndTruncatedFilesAreSkippedAndReported) {
  std::vector<JournalEntry> entries;
  for (int i = 0; i < 300; ++i) entries.push_back(plain_entry(i));
  ASSERT_TRUE(make_journal(path("good.journal"), {plain_entry(0), plain_entry(1)}));
  ASSERT_TRUE(make_journal(path("big.journal"), entries));
  std::filesystem::copy_file(path("big.journal"), path("trunc.journal"));
  std::filesystem::resize_file(path("trunc.journal"), 4096);
  {
    std::ofstream f(path("garbage.journal"), std::ios::binary);
    f << std::string(8192, '\x5a');
  }
  JournalReader r;
  std::vector<std::pair<std::string, std::string>> skipped;
  ASSERT_TRUE(r.open(JournalSource{{},
                                   {path("trunc.journal"), path("good.journal"),
                                    path("garbage.journal"), path("missing.journal")}},
                     &skipped)
                  .is_ok());
  ASSERT_EQ(skipped.size(), 3u);
  EXPECT_EQ(skipped[0].first, path("trunc.journal"));
  EXPECT_EQ(skipped[1].first, path("garbage.journal"));
  EXPECT_EQ(skipped[2].first, path("missing.journal"));
  StartResult res;
  ASSERT_TRUE(r.start({}, nullptr, false, &res).is_ok());
  EXPECT_EQ(read_messages(r), (std::vector<std::string>{"msg 0", "msg 1"}));

  JournalReader none;
  EXPECT_FALSE(none.open(JournalSource{{}, {path("garbage.journal")}}, nullptr).is_ok());
}

TEST(JournaldOptionsTest, PriorityRangesAndValidation) {
  int lo = -1, hi = -1;
  ASSERT_TRUE(parse_priority_range("err", &lo, &hi));
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 3);
  ASSERT_TRUE(parse_priority_range("info..warning", &lo, &hi));
  EXPECT_EQ(lo, 4);
  EXPECT_EQ(hi, 6);
  EXPECT_FALSE(parse_priority_range("loud", &lo, &hi));
  EXPECT_FALSE(parse_priority_range("8", &lo, &hi));
  JournaldOptions o;
  o.matches = {"lower=x"};
  EXPECT_FALSE(o.validate().is_ok());
  o.matches = {"A=1", "+", "B_2=x=y"};
  EXPECT_TRUE(o.validate().is_ok());
  o.priority = "nope";
  EXPECT_FALSE(o.validate().is_ok());
  EXPECT_EQ(mangle_unit("nginx"), "nginx.service");
  EXPECT_EQ(mangle_unit("x.socket"), "x.socket");
}

}  // namespace
}  // namespace logship::plugins::journald
