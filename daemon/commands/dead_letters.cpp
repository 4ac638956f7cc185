// `logship dead-letters list FILE...` and `logship dead-letters replay FILE --output NAME`.
//
// Replay takes the file away first (renamed to FILE.replaying under the series lock, so a
// running daemon starts a new FILE at its next dead letter), sends its events through the named
// output of the config, then puts back, atomically and under the lock, only what was not
// delivered: events rejected again (with the new reason) and events not sent because the output
// kept failing, ahead of whatever the daemon wrote meanwhile. A replay that dies half-way leaves
// FILE.replaying whole; `replay FILE.replaying` resumes it.
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "daemon/commands/commands.h"
#include "daemon/commands/config_args.h"
#include "daemon/core/dead_letter_record.h"
#include "daemon/core/host_identity.h"
#include "daemon/core/json_writer.h"
#include "daemon/pipeline/dead_letter_file.h"
#include "daemon/state/atomic_file.h"

namespace logship::commands {
namespace {

constexpr std::string_view kClaimed = ".replaying";
constexpr std::size_t kBatchEvents = 1000;

int usage() {
  std::fputs(
      "usage: logship dead-letters list FILE...\n"
      "       logship dead-letters replay FILE --output NAME [-c CONFIG] [--attempts N]\n",
      stderr);
  return 2;
}

bool read_lines(const std::string& path, std::vector<std::string>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out->push_back(std::move(line));
  }
  return !in.bad();
}

std::string shorten(std::string_view s, std::size_t n = 300) {
  if (s.size() <= n) return std::string(s);
  return std::string(s.substr(0, n)) + "...";
}

// The reason without what differs from event to event (a document id, a preview of the value
// in quotes), so that one cause is one line of the summary.
std::string reason_kind(std::string_view reason) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  std::string out;
  char quote = 0;   // the quote character of the span being skipped
  for (std::size_t i = 0; i < reason.size(); ++i) {
    const char c = reason[i];
    // A quote opens after a non-word character and closes before one ("field's" is neither).
    if (quote == 0 && (c == '\'' || c == '"') && (i == 0 || !word(reason[i - 1]))) {
      out.push_back(c);
      out.append("...");
      out.push_back(c);
      quote = c;
    } else if (quote != 0 && c == quote && (i + 1 == reason.size() || !word(reason[i + 1]))) {
      quote = 0;
    } else if (quote == 0) {
      out.push_back(c);
    }
  }
  return out;
}

void format_time(int64_t ns, std::string* out) {
  out->clear();
  json::append_rfc3339(*out, ns);
}

int list_one(const std::string& path) {
  std::vector<std::string> lines;
  if (!read_lines(path, &lines)) {
    std::fprintf(stderr, "logship dead-letters: cannot read %s\n", path.c_str());
    return 1;
  }
  std::map<std::pair<std::string, std::string>, uint64_t> by_kind;
  std::vector<std::pair<std::string, uint64_t>> reasons;   // first seen first
  std::unordered_map<std::string, std::size_t> reason_index;
  uint64_t unreadable = 0;
  int64_t first = INT64_MAX, last = INT64_MIN;
  std::string first_error;
  for (const std::string& line : lines) {
    auto decoded = dead_letter::decode(line);
    if (!decoded.is_ok()) {
      if (unreadable++ == 0) first_error = decoded.status().message();
      continue;
    }
    const dead_letter::Record& r = decoded.value();
    ++by_kind[{r.output, r.error}];
    first = std::min(first, r.time_ns);
    last = std::max(last, r.time_ns);
    std::string kind = reason_kind(r.reason);
    auto it = reason_index.find(kind);
    if (it != reason_index.end()) {
      ++reasons[it->second].second;
    } else if (reasons.size() < 1000) {
      reason_index.emplace(kind, reasons.size());
      reasons.emplace_back(std::move(kind), 1);
    }
  }
  std::printf("%s: %zu dead letters\n", path.c_str(), lines.size() - unreadable);
  for (const auto& [kind, n] : by_kind) {
    std::printf("  output=%s error=%s: %llu\n", kind.first.c_str(), kind.second.c_str(),
                static_cast<unsigned long long>(n));
  }
  if (!reasons.empty()) {
    std::printf("  first reasons:\n");
    for (std::size_t i = 0; i < reasons.size() && i < 5; ++i) {
      std::printf("    %llu  %s\n", static_cast<unsigned long long>(reasons[i].second),
                  shorten(reasons[i].first).c_str());
    }
    if (reasons.size() > 5) std::printf("    (%zu more distinct reasons)\n", reasons.size() - 5);
    std::string a, b;
    format_time(first, &a);
    format_time(last, &b);
    std::printf("  events from %s to %s\n", a.c_str(), b.c_str());
  }
  if (unreadable > 0) {
    std::printf("  unreadable lines: %llu (first: %s)\n", static_cast<unsigned long long>(unreadable),
                first_error.c_str());
  }
  return 0;
}

// The context the replayed output settles its events with: what it dead-letters again is kept,
// re-encoded with the new reason.
class ReplayContext final : public OutputContext {
 public:
  ReplayContext(std::string name, std::string state_dir)
      : name_(std::move(name)), state_dir_(std::move(state_dir)) {}
  const std::string& name() const override { return name_; }
  const std::string& state_dir() const override { return state_dir_; }
  Status dead_letter(const Event& e, const SourceInfo& source, PermanentError why,
                     std::string_view detail) override {
    std::string line;
    dead_letter::encode(line, name_, permanent_error_name(why), detail, e, source);
    line.pop_back();   // the '\n'
    std::lock_guard lock(mu_);
    again_[&e] = std::move(line);
    return Status::ok();
  }
  // The new line of `e` if it was dead-lettered again (and forgets it).
  bool take(const Event* e, std::string* line) {
    std::lock_guard lock(mu_);
    auto it = again_.find(e);
    if (it == again_.end()) return false;
    *line = std::move(it->second);
    again_.erase(it);
    return true;
  }
  void clear() {
    std::lock_guard lock(mu_);
    again_.clear();
  }

 private:
  const std::string name_;
  const std::string state_dir_;
  std::mutex mu_;
  std::unordered_map<const Event*, std::string> again_;
};

// Puts `kept` back into `target` ahead of what the daemon wrote meanwhile, atomically and under
// the series lock, then removes the claimed file.
Status put_back(const std::vector<std::string>& kept, const std::string& target,
                const std::string& claimed) {
  DeadLetterLock lock;
  LOGSHIP_TRY(DeadLetterLock::acquire(target, &lock));
  if (!kept.empty()) {
    std::string content;
    for (const auto& l : kept) content.append(l).push_back('\n');
    std::string current;
    if (::access(target.c_str(), F_OK) == 0 && !read_whole_file(target, &current)) {
      return Status::io("read " + target, errno);
    }
    content += current;
    LOGSHIP_TRY(write_file_atomically(target, content, [&target] {
      give_to_directory_owner(target + ".tmp");
      return Status::ok();
    }));
  }
  if (::unlink(claimed.c_str()) != 0) return Status::io("remove " + claimed, errno);
  return Status::ok();
}

DeliveryResult deliver_once(Output& out, const SharedBatch& batch) {
  std::promise<DeliveryResult> p;
  auto f = p.get_future();
  std::vector<SharedBatch> v{batch};
  out.deliver(v, [&p](DeliveryResult r) { p.set_value(std::move(r)); });
  return f.get();
}

int replay(const std::vector<std::string>& args) {
  std::string file, output;
  std::vector<std::string> config_args;
  int attempts = 5;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* to) {
      if (i + 1 >= args.size()) return false;
      *to = args[++i];
      return true;
    };
    std::string v;
    if (a == "--output") {
      if (!value(&output)) return usage();
    } else if (a == "-c" || a == "--config") {
      if (!value(&v)) return usage();
      config_args = {"-c", v};
    } else if (a == "--attempts") {
      if (!value(&v)) return usage();
      attempts = std::max(1, std::atoi(v.c_str()));
    } else if (file.empty() && !a.starts_with("-")) {
      file = a;
    } else {
      std::fprintf(stderr, "logship dead-letters replay: unexpected argument '%s'\n", a.c_str());
      return usage();
    }
  }
  if (file.empty() || output.empty()) return usage();
  ConfigArgs ca = parse_config_args(config_args);
  std::optional<config::Config> cfg = load_or_report(ca);
  if (!cfg) return 1;
  const config::ComponentConfig* oc = nullptr;
  for (const auto& c : cfg->outputs) {
    if (c.name == output) oc = &c;
  }
  if (oc == nullptr) {
    std::string names;
    for (const auto& c : cfg->outputs) names += (names.empty() ? "" : ", ") + c.name;
    std::fprintf(stderr, "logship dead-letters replay: the config has no output '%s' (outputs: %s)\n",
                 output.c_str(), names.c_str());
    return 1;
  }

  // Take the file away from the daemon's writer.
  std::string claimed, target;
  if (file.ends_with(kClaimed)) {
    claimed = file;
    target = file.substr(0, file.size() - kClaimed.size());
  } else {
    claimed = file + std::string(kClaimed);
    target = file;
    if (::access(claimed.c_str(), F_OK) == 0) {
      std::fprintf(stderr,
                   "logship dead-letters replay: %s exists: an earlier replay did not finish; "
                   "replay that file first\n",
                   claimed.c_str());
      return 1;
    }
    DeadLetterLock lock;
    Status s = DeadLetterLock::acquire(target, &lock);
    if (s.is_ok() && ::rename(file.c_str(), claimed.c_str()) != 0) {
      s = Status::io("take " + file + " for replay", errno);
    }
    if (!s.is_ok()) {
      std::fprintf(stderr, "logship dead-letters replay: %s\n", s.message().c_str());
      return 1;
    }
  }
  std::vector<std::string> lines;
  if (!read_lines(claimed, &lines)) {
    std::fprintf(stderr, "logship dead-letters replay: cannot read %s\n", claimed.c_str());
    return 1;
  }

  set_process_host_identity(resolve_host_identity(cfg->service.host_name, cfg->service.host_id));
  std::unique_ptr<Output> out = oc->make_output();
  ReplayContext ctx(output, cfg->service.state_dir);
  Status s = out->start(ctx);
  if (!s.is_ok()) {
    std::fprintf(stderr, "logship dead-letters replay: output %s: %s\n", output.c_str(),
                 s.message().c_str());
    s = put_back(lines, target, claimed);
    if (!s.is_ok()) std::fprintf(stderr, "logship dead-letters replay: %s\n", s.message().c_str());
    return 1;
  }

  std::vector<std::string> kept;
  uint64_t delivered = 0, rejected_again = 0, unreadable = 0, not_sent = 0;
  std::string last_failure;
  bool giving_up = false;
  std::size_t i = 0;
  while (i < lines.size()) {
    if (giving_up) {
      kept.push_back(std::move(lines[i++]));
      ++not_sent;
      continue;
    }
    auto decoded = dead_letter::decode(lines[i]);
    if (!decoded.is_ok()) {
      std::fprintf(stderr, "logship dead-letters replay: line %zu kept: %s\n", i + 1,
                   decoded.status().message().c_str());
      kept.push_back(std::move(lines[i++]));
      ++unreadable;
      continue;
    }
    const dead_letter::Record& r = decoded.value();
    // Consecutive lines of one stream go in one batch, as the daemon sent them.
    auto batch = std::make_shared<Batch>(r.source, kBatchEvents);
    std::vector<std::size_t> line_of;
    dead_letter::add_event(r, *batch);
    line_of.push_back(i++);
    while (i < lines.size() && batch->size() < kBatchEvents) {
      auto next = dead_letter::decode(lines[i]);
      if (!next.is_ok() || !dead_letter::same_source(*next.value().source, *r.source)) break;
      dead_letter::add_event(next.value(), *batch);
      line_of.push_back(i++);
    }
    SharedBatch shared = batch;
    DeliveryResult result;
    for (int attempt = 0; attempt < attempts; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500 << std::min(attempt, 5)));
      ctx.clear();
      result = deliver_once(*out, shared);
      if (result.kind != DeliveryResult::Kind::kRetry) break;
      std::fprintf(stderr, "logship dead-letters replay: delivery failed (attempt %d of %d): %s\n",
                   attempt + 1, attempts, result.reason.c_str());
    }
    const auto& events = shared->events();
    for (std::size_t k = 0; k < events.size(); ++k) {
      std::string again;
      if (result.kind == DeliveryResult::Kind::kRetry) {
        kept.push_back(std::move(lines[line_of[k]]));
        ++not_sent;
      } else if (ctx.take(&events[k], &again)) {
        kept.push_back(std::move(again));
        ++rejected_again;
      } else {
        ++delivered;
      }
    }
    if (result.kind == DeliveryResult::Kind::kRetry) {
      giving_up = true;
      last_failure = result.reason;
    }
  }
  out->stop();

  s = put_back(kept, target, claimed);
  if (!s.is_ok()) {
    std::fprintf(stderr,
                 "logship dead-letters replay: %s; %s still holds every event of this replay\n",
                 s.message().c_str(), claimed.c_str());
    return 1;
  }
  std::printf("%s: %zu dead letters: %llu delivered through %s, %llu rejected again, "
              "%llu not sent, %llu unreadable; %zu kept in %s\n",
              file.c_str(), lines.size(), static_cast<unsigned long long>(delivered), output.c_str(),
              static_cast<unsigned long long>(rejected_again),
              static_cast<unsigned long long>(not_sent),
              static_cast<unsigned long long>(unreadable), kept.size(), target.c_str());
  if (!last_failure.empty()) {
    std::fprintf(stderr, "logship dead-letters replay: gave up: %s\n", last_failure.c_str());
  }
  return kept.empty() ? 0 : 1;
}

}  // namespace

int dead_letters(const std::vector<std::string>& args) {
  if (args.empty()) return usage();
  const std::string& verb = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (verb == "list") {
    if (rest.empty()) return usage();
    int rc = 0;
    for (const auto& f : rest) rc = std::max(rc, list_one(f));
    return rc;
  }
  if (verb == "replay") return replay(rest);
  return usage();
}

}  // namespace logship::commands
