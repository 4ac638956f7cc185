#pragma once
// A Tailer driven by hand over real files in a temporary directory: a fake InputContext whose
// streams deliver (and so commit) every batch at once, and a discovery that takes every
// "<name>.log" as an active file and "<name>.log.<n>" as a rotated one, like logrotate's
// shapes. A "restart" is a new Tailer over the same committed positions.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "daemon/core/plugin_api.h"
#include "inputs/file/text_decoder.h"
#include "inputs/tail/dir_list.h"
#include "inputs/tail/tailer.h"

namespace logship::tail::testing {

struct Delivered {
  std::vector<std::string> lines;      // every message, in emit order
  std::map<std::string, int> count;    // message -> times delivered
};

class FakeContext final : public InputContext {
 public:
  const std::string& name() const override { return name_; }
  const std::string& state_dir() const override { return name_; }
  std::unique_ptr<StreamHandle> open_stream(std::shared_ptr<const SourceInfo> source,
                                            bool) override {
    return std::make_unique<Stream>(std::move(source), this);
  }
  std::vector<std::pair<std::string, Position>> saved_positions(
      std::string_view prefix) const override {
    std::vector<std::pair<std::string, Position>> out;
    for (const auto& [k, p] : committed) {
      if (std::string_view(k).starts_with(prefix)) out.emplace_back(k, p);
    }
    return out;
  }
  std::optional<Position> saved_position(const std::string& k) const override {
    auto it = committed.find(k);
    return it == committed.end() ? std::nullopt : std::optional<Position>(it->second);
  }
  void forget_position(const std::string& k) override {
    committed.erase(k);
    forgotten.insert(k);
  }
  bool stopping() const override { return false; }
  void finished() override {}

  std::string name_ = "t";
  std::map<std::string, Position> committed;   // what a checkpoint store would hold
  std::set<std::string> forgotten;
  Delivered delivered;
  bool keeps_state = true;   // as a pipeline with stateful processors: its files never sleep

 private:
  class Stream final : public StreamHandle {
   public:
    Stream(std::shared_ptr<const SourceInfo> s, FakeContext* ctx) : src_(std::move(s)), ctx_(ctx) {}
    BatchPtr new_batch(std::size_t n) override { return std::make_unique<Batch>(src_, n); }
    bool emit(BatchPtr batch, Position end) override {
      for (const Event& e : batch->events()) {
        ctx_->delivered.lines.emplace_back(e.message);
        ++ctx_->delivered.count[std::string(e.message)];
      }
      ctx_->committed[src_->key] = std::move(end);
      return true;
    }
    bool flush(bool) override { return true; }
    std::optional<TimePoint> next_flush() const override { return std::nullopt; }
    uint64_t unsettled() const override { return 0; }
    bool keeps_state() const override { return ctx_->keeps_state; }
    std::optional<Position> committed() const override { return std::nullopt; }

   private:
    std::shared_ptr<const SourceInfo> src_;
    FakeContext* ctx_;
  };
};

class TextClient final : public TailerClient {
 public:
  std::unique_ptr<Decoder> new_decoder() override {
    return std::make_unique<file::TextDecoder>(opts, &stats);
  }
  std::shared_ptr<const SourceInfo> source_for(const std::string&, const std::string& key,
                                               const std::string& path) override {
    auto s = std::make_shared<SourceInfo>();
    s->input = "t";
    s->key = key;
    s->file_path = path;
    return s;
  }
  file::TextOptions opts;
  file::TextStats stats;
};

class Harness {
 public:
  explicit Harness(std::string dir, TailerOptions o = {}) : dir_(std::move(dir)), o_(std::move(o)) {
    if (o_.kind.empty()) o_.kind = "file";
    o_.rotate_wait = std::chrono::milliseconds(0);
    o_.read_size = 4096;
    start();
  }
  // A stop and a start: state other than the committed positions is lost.
  void restart() {
    tailer.reset();
    start();
  }
  void scan() {
    tailer->begin_scan();
    std::vector<std::string> names;
    list_dir(dir_, false, &names);
    std::vector<std::pair<std::string, std::string>> rotated, gz;
    for (const std::string& n : names) {
      const std::string path = dir_ + "/" + n;
      const std::size_t log = n.find(".log");
      if (log == std::string::npos) continue;
      const std::string owner = n.substr(0, log);
      if (n.ends_with(".gz")) {
        gz.emplace_back(path, owner);   // judged last, as the inputs do
      } else if (log + 4 == n.size()) {
        tailer->active(path, owner);
      } else if (n[log + 4] == '.') {
        rotated.emplace_back(path, owner);   // after the active files, as the inputs do
      }
    }
    for (const auto& [path, owner] : rotated) tailer->rotated(path, owner);
    for (const auto& [path, owner] : gz) {
      tailer->compressed(path, owner, owners_since_start.count(owner) > 0);
    }
    tailer->end_scan();
  }
  // Scans and reads until nothing is left: what the follow loop does, without waiting.
  void pump(int rounds = 6) {
    for (int i = 0; i < rounds; ++i) {
      scan();
      tailer->unpark_round();
      while (tailer->read_round()) {
      }
      tailer->housekeeping(SteadyClock::now());
    }
  }
  const Delivered& delivered() const { return ctx.delivered; }

  FakeContext ctx;
  TextClient client;
  // Owners discovery reports as first seen after the first scan (containers started while
  // logship runs).
  std::set<std::string> owners_since_start;
  std::unique_ptr<Tailer> tailer;

 private:
  void start() { tailer = std::make_unique<Tailer>(o_, ctx, client); }
  std::string dir_;
  TailerOptions o_;
};

inline void append(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::app | std::ios::binary) << text;
}

// "<prefix><first>\n" ... "<prefix><last>\n", each line padded to 40 bytes so a few lines pass
// the fingerprint's 256 bytes.
inline std::string numbered(const std::string& prefix, int first, int last) {
  std::string out;
  for (int i = first; i <= last; ++i) {
    std::string l = prefix + std::to_string(i) + " ";
    l.resize(40, '.');
    out += l + "\n";
  }
  return out;
}

inline std::vector<std::string> numbered_lines(const std::string& prefix, int first, int last) {
  std::vector<std::string> out;
  for (int i = first; i <= last; ++i) {
    std::string l = prefix + std::to_string(i) + " ";
    l.resize(40, '.');
    out.push_back(l);
  }
  return out;
}

// Every expected line delivered exactly once, nothing else.
inline ::testing::AssertionResult exactly_once(const Delivered& d,
                                               const std::vector<std::string>& expected) {
  std::map<std::string, int> want;
  for (const auto& l : expected) ++want[l];
  for (const auto& [l, n] : want) {
    auto it = d.count.find(l);
    const int got = it == d.count.end() ? 0 : it->second;
    if (got != n) {
      return ::testing::AssertionFailure() << "'" << l << "' delivered " << got << " times, want " << n;
    }
  }
  for (const auto& [l, n] : d.count) {
    if (!want.count(l)) return ::testing::AssertionFailure() << "unexpected '" << l << "' x" << n;
  }
  return ::testing::AssertionSuccess();
}

inline std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace logship::tail::testing
