#include "inputs/journald/journal_reader.h"

#include <systemd/sd-journal.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace logship::plugins::journald {
namespace {

Status errno_status(std::string_view what, int r) {
  return Status::io(what, -r);
}

Status open_files(sd_journal** j, const std::vector<std::string>& files) {
  std::vector<const char*> paths;
  paths.reserve(files.size() + 1);
  for (const auto& f : files) paths.push_back(f.c_str());
  paths.push_back(nullptr);
  int r = sd_journal_open_files(j, paths.data(), 0);
  return r < 0 ? errno_status("open", r) : Status::ok();
}

}  // namespace

JournalReader::~JournalReader() { close(); }

void JournalReader::close() {
  if (j_ != nullptr) sd_journal_close(j_);
  j_ = nullptr;
  pending_ = false;
}

Status JournalReader::open(const JournalSource& src,
                           std::vector<std::pair<std::string, std::string>>* skipped) {
  close();
  int r = 0;
  if (!src.files.empty()) {
    // sd_journal_open_files refuses the whole set when one file is bad, so find the bad ones
    // one by one and open the rest.
    if (open_files(&j_, src.files).is_ok()) {
      sd_journal_set_data_threshold(j_, 0);
      return Status::ok();
    }
    j_ = nullptr;
    std::vector<std::string> good;
    for (const auto& f : src.files) {
      sd_journal* one = nullptr;
      Status s = open_files(&one, {f});
      if (s.is_ok()) {
        sd_journal_close(one);
        good.push_back(f);
      } else if (skipped != nullptr) {
        skipped->emplace_back(f, s.message());
      }
    }
    if (good.empty()) return Status::unavailable("no journal file could be opened");
    Status s = open_files(&j_, good);
    if (!s.is_ok()) {
      j_ = nullptr;
      return s;
    }
  } else if (!src.directory.empty()) {
    r = sd_journal_open_directory(&j_, src.directory.c_str(), 0);
    if (r < 0) {
      j_ = nullptr;
      return errno_status("sd_journal_open_directory " + src.directory, r);
    }
    // sd-journal silently leaves out files it cannot open; find them so they are reported.
    if (skipped != nullptr) {
      std::error_code ec;
      for (const auto& de : std::filesystem::directory_iterator(src.directory, ec)) {
        const std::string path = de.path().string();
        const bool journal = path.ends_with(".journal") || path.ends_with(".journal~");
        if (!journal || !de.is_regular_file(ec)) continue;
        sd_journal* one = nullptr;
        Status s = open_files(&one, {path});
        if (s.is_ok()) {
          sd_journal_close(one);
        } else {
          skipped->emplace_back(path, s.message());
        }
      }
    }
  } else {
    r = sd_journal_open(&j_, SD_JOURNAL_LOCAL_ONLY);
    if (r < 0) {
      j_ = nullptr;
      return errno_status("sd_journal_open", r);
    }
  }
  // MESSAGE and other fields may be larger than the default 64 KiB cap; never cut them.
  sd_journal_set_data_threshold(j_, 0);
  return Status::ok();
}

Status JournalReader::start(const std::vector<std::string>& prog, const Position* saved,
                            bool from_tail, StartResult* result) {
  *result = StartResult{};
  pending_ = false;
  sd_journal_flush_matches(j_);
  const bool have_cursor = saved != nullptr && !saved->text.empty();
  bool exists = false;
  if (have_cursor) {
    // Ask without matches whether the entry still exists: with matches, a cursor entry that the
    // (possibly changed) filter excludes would look like a lost one.
    const char* c = saved->text.c_str();
    exists = sd_journal_seek_cursor(j_, c) >= 0 && sd_journal_next(j_) > 0 &&
             sd_journal_test_cursor(j_, c) > 0;
  }
  for (const auto& m : prog) {
    int r = 0;
    if (m == "+") {
      r = sd_journal_add_disjunction(j_);
    } else if (m == "&&") {
      r = sd_journal_add_conjunction(j_);
    } else {
      r = sd_journal_add_match(j_, m.data(), m.size());
    }
    if (r < 0) return errno_status("match \"" + m + "\"", r);
  }
  int r = 0;
  if (exists) {
    const char* c = saved->text.c_str();
    r = sd_journal_seek_cursor(j_, c);
    if (r < 0) return errno_status("sd_journal_seek_cursor", r);
    r = sd_journal_next(j_);
    if (r < 0) return errno_status("sd_journal_next", r);
    if (r > 0) {
      // On the saved entry itself: it was delivered (skip it) or held back (read it again). On
      // another entry: the saved one no longer matches, and this is the first one after it.
      pending_ = sd_journal_test_cursor(j_, c) <= 0 || saved->offset == kAtCursor;
    }
    return Status::ok();
  }
  if (have_cursor) {
    result->cursor_lost = true;
    r = sd_journal_seek_head(j_);
  } else if (from_tail) {
    r = sd_journal_seek_tail(j_);
    // After seek_tail the next next() would return the last entry; step onto it so that only
    // entries written from now on are read.
    if (r >= 0) r = sd_journal_previous(j_);
  } else {
    r = sd_journal_seek_head(j_);
  }
  return r < 0 ? errno_status("seek", r) : Status::ok();
}

int JournalReader::next() {
  if (pending_) {
    pending_ = false;
    return 1;
  }
  return sd_journal_next(j_);
}

std::string JournalReader::cursor() const {
  char* c = nullptr;
  if (sd_journal_get_cursor(j_, &c) < 0 || c == nullptr) return {};
  std::string s(c);
  std::free(c);
  return s;
}

uint64_t JournalReader::realtime_usec() const {
  uint64_t t = 0;
  sd_journal_get_realtime_usec(j_, &t);
  return t;
}

void JournalReader::restart_data() { sd_journal_restart_data(j_); }

bool JournalReader::next_data(std::string_view* item) {
  const void* d = nullptr;
  size_t l = 0;
  // The _available_ variant skips fields that cannot be read (unknown compression, corruption)
  // instead of failing the whole entry.
  if (sd_journal_enumerate_available_data(j_, &d, &l) <= 0) return false;
  *item = std::string_view(static_cast<const char*>(d), l);
  return true;
}

int JournalReader::wait(uint64_t timeout_us) { return sd_journal_wait(j_, timeout_us); }

}  // namespace logship::plugins::journald
