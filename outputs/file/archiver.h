#pragma once
// Closed segments are compressed and retention applied on a thread of their own, off the write
// path. Compression writes `<segment>.gz.tmp`, fsyncs, renames to `<segment>.gz` and only then
// unlinks the segment, so an archive that exists is always complete (`gzip -t` passes) and a
// crash at any point loses nothing: a leftover segment is compressed again at the next start.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "daemon/core/plugin_context.h"
#include "daemon/core/status.h"
#include "daemon/runtime/component_log.h"

namespace logship::plugins {

struct RetentionPolicy {
  int64_t keep_files = 0;                 // 0 = no limit
  uint64_t keep_bytes = 0;                // 0 = no limit
  std::chrono::milliseconds keep_age{0};  // 0 = no limit
};

class Archiver {
 public:
  Archiver(bool compress, int level, RetentionPolicy retention);
  ~Archiver();
  // Queues a closed segment (full path). `active_path` names the stream it belongs to, for
  // retention over `<active_path>.*`.
  void submit(std::string segment, std::string active_path);
  // Finishes queued work until the deadline, then stops.
  void stop(std::chrono::steady_clock::time_point deadline);
  // Waits until the queue is empty (tests).
  void wait_idle();
  // Where the archiver reports from now on (the output's, known once it starts): failures in
  // its log, archives the retention policy deletes in its series of
  // logship_file_archives_removed_total.
  void report_to(const ComponentLog& log, std::atomic<uint64_t>* removed);

  static Status gzip_file(const std::string& src, const std::string& dst, int level);
  // Deletes the archives of `active_path` the policy no longer keeps; adds them to `removed`
  // when given.
  static void apply_retention(const std::string& active_path, const RetentionPolicy& policy,
                              bool compressed, std::atomic<uint64_t>* removed = nullptr);

 private:
  void run();
  struct Job {
    std::string segment;
    std::string active_path;
  };
  const bool compress_;
  const int level_;
  const RetentionPolicy retention_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<Job> jobs_;
  bool busy_ = false;
  std::atomic<uint64_t>* removed_ = nullptr;   // guarded by mu_
  ComponentLog log_{PluginContext{PluginKind::kOutput, "", "file"}};   // guarded by mu_
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace logship::plugins
