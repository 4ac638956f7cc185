// The `file` input: host and application logs named by path globs, on the same tailer as the
// docker and cri inputs (identity by device, inode and fingerprint; rename and copytruncate
// rotation; offsets committed only after delivery; the max_open_files budget).
//
// Discovery: every scan expands `paths` (never through a symlink, never to one), leaves out
// `exclude`, and sorts what it found into active files and their rotated generations
// ("<name>.1", "<name>-20261204", compressed "<name>.1.gz", see generation_name.h), found
// beside an active file whether the globs match them or not. A generation's owner is its active file, so a copy made by
// copytruncate is told from a generation to read from the start.
#include <fnmatch.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/component_metrics.h"
#include "inputs/file/generation_name.h"
#include "inputs/file/path_glob.h"
#include "inputs/file/path_regex.h"
#include "inputs/file/text_decoder.h"
#include "inputs/tail/dir_list.h"
#include "inputs/tail/follow_loop.h"
#include "inputs/tail/follow_options.h"

namespace logship::plugins {
namespace {

using config::ByteSize;
using file::PathGlob;

struct FileInputOptions : tail::FollowOptions {
  std::vector<std::string> paths;
  std::vector<std::string> exclude;
  file::Framing line_ending = file::Framing::kLf;
  file::Encoding encoding = file::Encoding::kUtf8;
  ByteSize max_line_size{1 << 20};
  std::map<std::string, std::string> fields;
  std::string path_field = "file";
  std::string path_regex;

  static const config::OptionSchema<FileInputOptions>& schema() {
    static const auto s = [] {
      using F = FileInputOptions;
      config::OptionSchema<F> s;
      s.required("paths", &F::paths,
                 "Absolute path globs of the files to read: '*', '?', '[...]' within one path "
                 "component, '**' for any number of directories. Symlinks are never followed "
                 "(neither to a file nor to a directory a glob matched). Rotated generations "
                 "beside a matched file (<name>.1, <name>-20261204) are found without a glob.");
      s.add("exclude", &F::exclude,
            "Globs of files not to read: absolute path globs, or file name globs (no '/').");
      tail::FollowOptions::add_to(s);
      s.add("line_ending", &F::line_ending,
            "What ends a line: lf; crlf (a '\\r' before the '\\n' is removed); nul.")
          .add("encoding", &F::encoding,
               "The files' encoding; events are UTF-8. utf-8 (a byte-order mark is dropped), "
               "utf-16 (endianness from the byte-order mark, little-endian without one), "
               "utf-16le, utf-16be, latin-1 (ISO-8859-1).")
          .add("max_line_size", &F::max_line_size,
               "Longest line; the rest is dropped, the event marked truncated and the bytes "
               "counted in logship_input_truncated_bytes_total.",
               config::at_least(ByteSize(16), "16B"))
          .add("fields", &F::fields, "Fields added to every event (e.g. service: nginx).")
          .add("path_field", &F::path_field,
               "Field that carries the file's path on every event; empty = none (the ecs "
               "and otel layouts carry it as log.file.path regardless).")
          .add("path_regex", &F::path_regex,
               "RE2 pattern the whole path of a file must match to be read (besides paths); its "
               "named groups become fields of the file's events, e.g. "
               "/var/log/(?P<service>[^/]+)/(?P<name>.*)\\.log. Rotated and compressed "
               "generations take the fields of their active file's path.");
      return s;
    }();
    return s;
  }

  Status validate() const {
    for (const std::string& p : paths) {
      auto g = PathGlob::parse(p);
      if (!g.is_ok()) return g.status().with_context("paths");
    }
    for (const std::string& p : exclude) {
      if (p.find('/') == std::string::npos) continue;
      auto g = PathGlob::parse(p);
      if (!g.is_ok()) return g.status().with_context("exclude");
    }
    if (paths.empty()) return Status::invalid("paths: at least one glob is needed");
    if (!path_regex.empty()) {
      auto re = file::PathRegex::compile(path_regex);
      if (!re.is_ok()) return re.status().with_context("path_regex");
    }
    return Status::ok();
  }
};

class FileInput final : public Input, public tail::Discovery, public tail::TailerClient {
 public:
  explicit FileInput(const FileInputOptions& o) : o_(o) {
    // All validated at bind.
    for (const std::string& p : o.paths) {
      if (auto g = PathGlob::parse(p); g.is_ok()) globs_.push_back(std::move(g).value());
    }
    for (const std::string& p : o.exclude) {
      if (p.find('/') == std::string::npos) {
        exclude_names_.push_back(p);
      } else if (auto g = PathGlob::parse(p); g.is_ok()) {
        exclude_globs_.push_back(std::move(g).value());
      }
    }
    if (!o.path_regex.empty()) {
      if (auto re = file::PathRegex::compile(o.path_regex); re.is_ok()) {
        path_re_ = std::move(re).value();
      }
    }
    topts_.max_line_size = o.max_line_size.bytes;
    topts_.encoding = o.encoding;
    topts_.framing = o.line_ending;
  }
  ~FileInput() override { stop(); }

  Status start(InputContext& ctx) override {
    ctx_ = &ctx;
    const PluginContext plugin{PluginKind::kInput, ctx.name(), "file"};
    log_ = ComponentLog(plugin);
    const ComponentMetrics metrics(plugin);
    truncated_metric_ = &metrics.counter(
        "logship_input_truncated_total", "Events cut at max_line_size");
    truncated_bytes_metric_ = &metrics.counter(
        "logship_input_truncated_bytes_total", "Bytes cut off lines at max_line_size");
    tailer_ = std::make_unique<tail::Tailer>(o_.tailer("file", 0), ctx, *this);
    watch_ = std::make_unique<tail::DirWatch>(plugin);
    thread_ = std::thread([this] { run(); });
    return Status::ok();
  }

  void stop() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    tail::follow(*tailer_, *watch_, *this, *ctx_,
                 tail::LoopOptions{o_.rescan_interval, o_.exit_at_eof});
    log_.info("input stopped",
              log::kv("lines", static_cast<int64_t>(stats_.lines)) +
                  log::kv("truncated", static_cast<int64_t>(stats_.truncated)) +
                  log::kv("dropped_bytes", static_cast<int64_t>(stats_.dropped_bytes)) +
                  log::kv("files", static_cast<int64_t>(tailer_->files())));
  }

  // ---- tail::TailerClient ----

  std::unique_ptr<tail::Decoder> new_decoder() override {
    return std::make_unique<file::TextDecoder>(topts_, &stats_);
  }

  // `owner` is the active file's path: a generation carries the fields of its name.
  std::shared_ptr<const SourceInfo> source_for(const std::string& owner, const std::string& key,
                                               const std::string& path) override {
    auto s = std::make_shared<SourceInfo>();
    s->input = ctx_->name();
    s->key = key;
    for (const auto& [k, v] : o_.fields) s->tags.push_back(Tag{k, ValueType::kString, v});
    if (!path_re_.empty()) {
      std::vector<std::pair<std::string, std::string>> groups;
      path_re_.match(owner, &groups);
      for (auto& [k, v] : groups) s->tags.push_back(Tag{k, ValueType::kString, std::move(v)});
    }
    if (!o_.path_field.empty()) s->tags.push_back(Tag{o_.path_field, ValueType::kString, path});
    s->file_path = path;
    return s;
  }

  // ---- tail::Discovery ----

  void tick(TimePoint) override {
    if (stats_.truncated != truncated_published_) {
      truncated_metric_->fetch_add(stats_.truncated - truncated_published_,
                                   std::memory_order_relaxed);
      truncated_published_ = stats_.truncated;
    }
    if (stats_.dropped_bytes != dropped_published_) {
      truncated_bytes_metric_->fetch_add(stats_.dropped_bytes - dropped_published_,
                                         std::memory_order_relaxed);
      dropped_published_ = stats_.dropped_bytes;
    }
  }

  void scan() override {
    tail::Tailer& tailer = *tailer_;
    tailer.begin_scan();
    listings_.clear();
    known_dirs_.clear();
    PathGlob::Walker w;
    w.list = [this](const std::string& dir, std::vector<std::string>* names) {
      return list(dir, names);
    };
    w.visit = [this](const std::string& dir) {
      known_dirs_.insert(dir);
      watch_->watch(dir, tail::DirWatch::kLeafMask);
    };
    std::set<std::string> found;
    for (const PathGlob& g : globs_) g.expand(w, &found);
    for (auto it = found.begin(); it != found.end();) {
      it = excluded(*it) ? found.erase(it) : std::next(it);
    }
    narrow_by_path_regex(&found);
    Sorted sorted = sort_found(found);
    // Generations beside an active file, whether the globs match them or not.
    std::set<std::string> dirs;
    for (const std::string& p : sorted.active) dirs.insert(dir_of(p));
    std::vector<std::string> names;
    for (const std::string& dir : dirs) {
      known_dirs_.insert(dir);
      watch_->watch(dir, tail::DirWatch::kLeafMask);
      if (!list(dir, &names)) continue;
      add_generations(dir, names, &sorted);
    }
    follow(sorted);
    tailer.end_scan();
  }

  // The directories with events (files created, moved, deleted there) are listed again and
  // their files matched against the globs; the files of every other directory are kept as
  // they were. A directory there that the globs could look into and the last complete scan
  // did not (a new one) asks for a complete scan, which expands the globs again.
  void scan_dirs(const std::set<std::string>& dirs) override {
    std::vector<std::string> names;
    for (const std::string& dir : dirs) {
      if (!tail::list_dir(dir, false, &names)) continue;   // judged below (gone) or next time
      for (const std::string& n : names) {
        const std::string sub = (dir == "/" ? "" : dir) + "/" + n;
        if (known_dirs_.count(sub) || !descended(sub)) continue;
        struct stat st{};
        if (::lstat(sub.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
          scan();
          return;
        }
      }
    }
    tail::Tailer& tailer = *tailer_;
    tailer.begin_scan(&dirs);
    for (const std::string& dir : dirs) {
      if (!tail::list_dir(dir, false, &names)) {
        if (errno != ENOENT && errno != ENOTDIR) {
          tailer.fs_error("list a directory", dir, std::strerror(errno));
          tailer.unlisted_dir(dir);
        } else {
          known_dirs_.erase(dir);
        }
        continue;
      }
      std::set<std::string> found;
      for (const std::string& n : names) {
        const std::string path = (dir == "/" ? "" : dir) + "/" + n;
        if (excluded(path)) continue;
        struct stat st{};
        bool match = false;
        for (const PathGlob& g : globs_) match = match || g.matches(path);
        if (match && ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) found.insert(path);
      }
      // As scan() sorts them: active unless a generation of a matched file, and every
      // generation beside an active file.
      narrow_by_path_regex(&found);
      Sorted sorted = sort_found(found);
      add_generations(dir, names, &sorted);
      follow(sorted);
      const bool any_active = !sorted.active.empty();
      if (any_active) {
        known_dirs_.insert(dir);
        watch_->watch(dir, tail::DirWatch::kLeafMask);
      }
    }
    tailer.end_scan();
  }

  // What a scan found, sorted: active files, and their rotated and compressed generations
  // (path -> the active file it belongs to).
  struct Sorted {
    std::set<std::string> active;
    std::map<std::string, std::string> rotated;
    std::map<std::string, std::string> compressed;
  };

  // path_regex narrows what is read to the active files it matches (and their generations).
  void narrow_by_path_regex(std::set<std::string>* found) const {
    if (path_re_.empty()) return;
    for (auto it = found->begin(); it != found->end();) {
      auto owner = owner_of(*it);
      if (!owner) owner = compressed_owner_of(*it);
      it = path_re_.matches(*it) || (owner && path_re_.matches(*owner)) ? std::next(it)
                                                                          : found->erase(it);
    }
  }

  // Active: matched and not a generation of another matched file in its directory.
  static Sorted sort_found(const std::set<std::string>& found) {
    Sorted s;
    for (const std::string& p : found) {
      if (auto owner = owner_of(p); owner && found.count(*owner)) {
        s.rotated[p] = *owner;
      } else if (auto owner = compressed_owner_of(p); owner && found.count(*owner)) {
        s.compressed[p] = *owner;
      } else {
        s.active.insert(p);
      }
    }
    return s;
  }

  // The generations in `dir` (listed as `names`) of its active files, matched or not.
  void add_generations(const std::string& dir, const std::vector<std::string>& names,
                       Sorted* s) const {
    for (const std::string& n : names) {
      const std::string path = (dir == "/" ? "" : dir) + "/" + n;
      auto owner = owner_of(path);
      auto& into = owner ? s->rotated : s->compressed;
      if (!owner) owner = compressed_owner_of(path);
      if (!owner || !s->active.count(*owner) || excluded(path)) continue;
      struct stat st{};
      // lstat: a symlink named like a generation is not one.
      if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) into[path] = *owner;
    }
  }

  void follow(const Sorted& s) {
    tail::Tailer& tailer = *tailer_;
    for (const std::string& p : s.active) tailer.active(p, p);
    for (const auto& [p, owner] : s.rotated) tailer.rotated(p, owner);
    // Last: a compressed generation is judged against the files the scan found on disk.
    for (const auto& [p, owner] : s.compressed) tailer.compressed(p, owner);
  }

  bool descended(const std::string& dir) const {
    for (const PathGlob& g : globs_) {
      if (g.may_descend(dir)) return true;
    }
    return false;
  }

  static std::string dir_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == 0 ? "/" : path.substr(0, slash);
  }

  // The active file a generation's path belongs to ("/d/app.log" of "/d/app.log.1").
  static std::optional<std::string> owner_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    auto base = file::generation_base(std::string_view(path).substr(slash + 1));
    if (!base) return std::nullopt;
    return path.substr(0, slash + 1) + std::string(*base);
  }

  // The active file a compressed generation's path belongs to ("/d/app.log" of "/d/app.log.1.gz").
  static std::optional<std::string> compressed_owner_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    auto base = file::compressed_generation_base(std::string_view(path).substr(slash + 1));
    if (!base) return std::nullopt;
    return path.substr(0, slash + 1) + std::string(*base);
  }

  // One listing per directory per scan; a failure marks the directory unlisted.
  bool list(const std::string& dir, std::vector<std::string>* names) {
    if (auto it = listings_.find(dir); it != listings_.end()) {
      *names = it->second.second;
      return it->second.first;
    }
    const bool ok = tail::list_dir(dir, false, names);
    if (!ok) {
      if (errno != ENOENT && errno != ENOTDIR) {
        tailer_->fs_error("list a directory", dir, std::strerror(errno));
        tailer_->unlisted_dir(dir);
      }
      names->clear();
    }
    listings_[dir] = {ok, *names};
    return ok;
  }

  bool excluded(const std::string& path) const {
    for (const PathGlob& g : exclude_globs_) {
      if (g.matches(path)) return true;
    }
    if (exclude_names_.empty()) return false;
    const std::string name = path.substr(path.rfind('/') + 1);
    for (const std::string& p : exclude_names_) {
      if (::fnmatch(p.c_str(), name.c_str(), FNM_PERIOD) == 0) return true;
    }
    return false;
  }

  const FileInputOptions o_;
  std::vector<PathGlob> globs_, exclude_globs_;
  std::vector<std::string> exclude_names_;
  file::PathRegex path_re_;
  file::TextOptions topts_;
  file::TextStats stats_;
  InputContext* ctx_ = nullptr;
  ComponentLog log_{PluginContext{PluginKind::kInput, "", "file"}};   // named at start
  std::thread thread_;
  std::map<std::string, std::pair<bool, std::vector<std::string>>> listings_;   // this scan
  // The directories the last complete scan looked into, and those of its active files.
  std::set<std::string> known_dirs_;
  std::atomic<uint64_t>* truncated_metric_ = nullptr;
  std::atomic<uint64_t>* truncated_bytes_metric_ = nullptr;
  uint64_t truncated_published_ = 0;
  uint64_t dropped_published_ = 0;
  // Declared last: destroyed first, while what their files' decoders point to still exists.
  std::unique_ptr<tail::DirWatch> watch_;
  std::unique_ptr<tail::Tailer> tailer_;
};

}  // namespace

const PluginInfo& file_input() {
  static const PluginInfo info{
      PluginKind::kInput, "file",
      "Tails host and application log files named by path globs, rotation-safe.",
      &schema_of<FileInputOptions>, &bind_input<FileInputOptions, FileInput>};
  return info;
}

}  // namespace logship::plugins
