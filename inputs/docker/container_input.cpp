// Two input types over the tailer (inputs/tail): `docker` (json-file driver under
// <docker_root>/containers/<id>/<id>-json.log) and `cri` (containerd/CRI-O under
// <pods_root>/<namespace>_<pod>_<uid>/<container>/<N>.log).
//
// This file is discovery: which containers there are, their metadata and filters, which of
// their files are active and which are rotated generations. Following the files (identity,
// rotation, truncation, checkpoints, the descriptor budget, round-robin reading) is the
// tailer's; decoding their lines is FileDecoder's. Each file's owner is its container.
#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "config/enum_option.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/container_series.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/component_metrics.h"
#include "daemon/core/json_writer.h"
#include "daemon/core/safe_file.h"
#include "inputs/docker/file_decoder.h"
#include "inputs/docker/metadata.h"
#include "inputs/tail/dir_list.h"
#include "inputs/tail/follow_loop.h"
#include "inputs/tail/follow_options.h"

namespace logship::plugins {
namespace {

using config::ByteSize;
using config::Millis;
using docker::ContainerFilter;
using docker::ContainerMeta;
using docker::FileDecoder;
using docker::LogFormat;
using tail::DirWatch;
using tail::list_dir;

enum class OnMalformed { kRaw, kSkip };
constexpr config::EnumNames<OnMalformed, 2> enum_names(OnMalformed) {
  return {{{"raw", OnMalformed::kRaw}, {"skip", OnMalformed::kSkip}}};
}

struct ContainerLogOptions : tail::FollowOptions {
  ByteSize max_line_size{1 << 20};
  OnMalformed on_malformed = OnMalformed::kRaw;
  Millis partial_timeout{5000};
  std::vector<std::string> include_names, exclude_names, include_images, exclude_images;
  std::vector<std::string> include_labels, exclude_labels;
  std::string opt_out_label = "logship.enable";
  // docker only: container metadata is written by whoever runs the container.
  ByteSize max_metadata_size{1 << 20};
  int64_t max_labels = 64;
  ByteSize max_labels_size{16 << 10};
  ByteSize max_label_value_size{4 << 10};

  template <class O>
  static void add_common(config::OptionSchema<O>& s, bool docker) {
    tail::FollowOptions::add_to(s);
    using C = ContainerLogOptions;
    auto m = [](auto C::*p) { return static_cast<std::remove_reference_t<decltype(C{}.*p)> O::*>(p); };
    s.add("max_line_size", m(&C::max_line_size),
          "Cap of a merged message (partial chunks); the rest is dropped and the event "
          "marked truncated.",
          config::at_least(ByteSize(1024), "1KiB"))
        .add("on_malformed", m(&C::on_malformed),
             "A line that cannot be decoded: raw = pass it on as the message, flagged "
             "malformed; skip = drop it. Both count logship_input_malformed_total.")
        .add("partial_timeout", m(&C::partial_timeout),
             "Emit an unfinished partial line after this long without its next chunk.",
             config::at_least(Millis(1), "1ms"))
        .add("include_names", m(&C::include_names),
             "Container name globs to read; empty = all.")
        .add("exclude_names", m(&C::exclude_names), "Container name globs to skip.");
    if (docker) {
      s.add("include_images", m(&C::include_images), "Image globs (Config.Image) to read.")
          .add("exclude_images", m(&C::exclude_images), "Image globs to skip.")
          .add("include_labels", m(&C::include_labels),
               "Label patterns \"key\" or \"key=value\" (globs); a container needs one match.")
          .add("exclude_labels", m(&C::exclude_labels), "Label patterns to skip.")
          .add("opt_out_label", m(&C::opt_out_label),
               "Containers with this label set to false are skipped; empty = none.");
    }
  }
};

struct DockerOptions : ContainerLogOptions {
  std::string docker_root = "/var/lib/docker";
  static const config::OptionSchema<DockerOptions>& schema() {
    static const auto s = [] {
      config::OptionSchema<DockerOptions> s;
      s.add("docker_root", &DockerOptions::docker_root,
            "Docker data-root; logs are read from <docker_root>/containers/*/*-json.log.");
      add_common(s, true);
      using D = DockerOptions;
      s.add("max_metadata_size", static_cast<ByteSize D::*>(&D::max_metadata_size),
            "A container's config.v2.json larger than this is not read (nor a symlink, FIFO or "
            "device there): its logs are shipped with the container id only, counted in "
            "logship_input_metadata_skipped_total.",
            config::at_least(ByteSize(4096), "4KiB"))
          .add("max_labels", static_cast<int64_t D::*>(&D::max_labels),
               "Labels per container carried on events; the rest are dropped (filters still "
               "see them), counted in logship_input_labels_dropped_total.",
               config::in_range(0, 100000))
          .add("max_labels_size", static_cast<ByteSize D::*>(&D::max_labels_size),
               "Total bytes of label keys and values per container carried on events.",
               config::at_least(ByteSize(0), "0"))
          .add("max_label_value_size", static_cast<ByteSize D::*>(&D::max_label_value_size),
               "A label whose value is longer than this is dropped from events.",
               config::at_least(ByteSize(0), "0"));
      return s;
    }();
    return s;
  }
};

struct CriOptions : ContainerLogOptions {
  std::string pods_root = "/var/log/pods";
  static const config::OptionSchema<CriOptions>& schema() {
    static const auto s = [] {
      config::OptionSchema<CriOptions> s;
      s.add("pods_root", &CriOptions::pods_root,
            "Kubernetes pod log root: <pods_root>/<namespace>_<pod>_<uid>/<container>/<N>.log.");
      add_common(s, false);
      return s;
    }();
    return s;
  }
};

bool is_dir(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool glob_match(const char* pattern, const std::string& name) {
  return ::fnmatch(pattern, name.c_str(), 0) == 0;
}

struct Container {
  // docker: id; cri: "<pod dir>/<container>"; its directory is <scan root>/<key>. The map's key,
  // not a copy of it (10,000 containers).
  const std::string& key() const { return *key_; }
  const std::string* key_ = nullptr;
  ContainerMeta meta;
  // Its series in /metrics stays while the container exists, whether its files are awake.
  ContainerSeries::Handle pinned_series;
  // The config.v2.json last tried (lstat), whatever came of it: a file once rejected or
  // parsed is not read again until it changes (meta_tried).
  struct timespec meta_mtime{};
  ino_t meta_ino = 0;
  off_t meta_size = -1;
  // Why it is not read (a hash of the reason, 0 when it is): the log says so once per reason.
  std::size_t reject_hash = 0;
  std::size_t charged = 0;   // its share of the container_metadata memory part
  bool has_meta = false;
  bool meta_tried = false;
  bool labels_limit_logged = false;
  bool selected = false;
  bool seen = false;
  // First seen after the first scan: started while logship runs, so no earlier run read any
  // of its files (Tailer::compressed's owner_since_start).
  bool since_start = false;
};

// What a container costs besides its metadata's strings: the entry, its map node, its
// directory's watch and the series pinned for it (heaptrack, bench/README.md).
constexpr std::size_t kContainerEntryBytes = 1024;

class ContainerLogInput final : public Input, public tail::Discovery, public tail::TailerClient {
 public:
  ContainerLogInput(const ContainerLogOptions& o, LogFormat format, std::string root)
      : o_(o), format_(format), root_(std::move(root)) {
    dopts_.format = format;
    dopts_.max_line_size = o.max_line_size.bytes;
    dopts_.skip_malformed = o.on_malformed == OnMalformed::kSkip;
    dopts_.partial_timeout = o.partial_timeout;
    filter_.include_names = o.include_names;
    filter_.exclude_names = o.exclude_names;
    filter_.include_images = o.include_images;
    filter_.exclude_images = o.exclude_images;
    filter_.include_labels = o.include_labels;
    filter_.exclude_labels = o.exclude_labels;
    filter_.opt_out_label = o.opt_out_label;
    label_limits_.max_labels = static_cast<std::size_t>(o.max_labels);
    label_limits_.max_total_bytes = o.max_labels_size.bytes;
    label_limits_.max_value_bytes = o.max_label_value_size.bytes;
  }
  ~ContainerLogInput() override { stop(); }

  Status start(InputContext& ctx) override {
    ctx_ = &ctx;
    const PluginContext plugin{PluginKind::kInput, ctx.name(), std::string(component())};
    log_ = ComponentLog(plugin);
    const ComponentMetrics metrics(plugin);
    malformed_metric_ = &metrics.counter(
        "logship_input_malformed_total", "Lines that could not be decoded");
    truncated_metric_ = &metrics.counter(
        "logship_input_truncated_total", "Events cut at max_line_size");
    metadata_skipped_metric_ = &metrics.counter(
        "logship_input_metadata_skipped_total",
        "Container metadata files not read: not a regular file, a symlink, over "
        "max_metadata_size, or not a container config");
    labels_dropped_metric_ = &metrics.counter(
        "logship_input_labels_dropped_total",
        "Container labels left off events by max_labels, max_labels_size, max_label_value_size");
    series_ = std::make_unique<ContainerSeries>(Metrics::global(), ctx.name());
    tailer_ = std::make_unique<tail::Tailer>(
        o_.tailer(std::string(component()), simdjson::SIMDJSON_PADDING), ctx, *this);
    watch_ = std::make_unique<DirWatch>(plugin);
    thread_ = std::thread([this] { run(); });
    return Status::ok();
  }

  void stop() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::string_view component() const { return format_ == LogFormat::kDocker ? "docker" : "cri"; }
  std::string scan_root() const {
    return format_ == LogFormat::kDocker ? root_ + "/containers" : root_;
  }

  void run() {
    tail::follow(*tailer_, *watch_, *this, *ctx_,
                 tail::LoopOptions{o_.rescan_interval, o_.exit_at_eof});
    log_.info("input stopped",
              log::kv("lines", static_cast<int64_t>(stats_.lines)) +
                  log::kv("events", static_cast<int64_t>(stats_.events)) +
                  log::kv("malformed", static_cast<int64_t>(stats_.malformed)) +
                  log::kv("truncated", static_cast<int64_t>(stats_.truncated)) +
                  log::kv("dropped_bytes", static_cast<int64_t>(stats_.dropped_bytes)) +
                  log::kv("files", static_cast<int64_t>(tailer_->files())));
  }

  // ---- tail::TailerClient ----

  docker::MalformedReport malformed_report() {
    return docker::MalformedReport{malformed_metric_, &log_, &malformed_limit_};
  }

  std::unique_ptr<tail::Decoder> new_decoder() override {
    return std::make_unique<FileDecoder>(dopts_, &json_, &stats_, malformed_report());
  }

  // Counted in its container's series, by name: the id (12 characters, as `docker ps` shows
  // it) while the name is not known. A rename shows with the container's next file.
  std::unique_ptr<tail::Decoder> new_decoder_for(const std::string& owner) override {
    auto dec = std::make_unique<FileDecoder>(dopts_, &json_, &stats_, malformed_report());
    static const ContainerMeta empty;
    auto it = containers_.find(owner);
    const ContainerMeta& meta = it != containers_.end() ? it->second.meta : empty;
    std::string_view name = meta.name;
    if (name.empty()) name = std::string_view(owner).substr(0, 12);
    auto acquire = [&] {
      if (format_ == LogFormat::kCri) {
        return series_->acquire(
            {{"namespace", meta.pod ? meta.pod->namespace_name : std::string_view()},
             {"pod", meta.pod ? meta.pod->pod : std::string_view()},
             {"container", name}});
      }
      return series_->acquire({{"container", name}});
    };
    dec->count_into(acquire());
    // A file asleep (close_idle) drops its decoder; the container's series stays in /metrics
    // until the container is gone, not until its files go quiet.
    if (it != containers_.end() && !it->second.pinned_series.active()) {
      it->second.pinned_series = acquire();
    }
    return dec;
  }

  std::shared_ptr<const SourceInfo> source_for(const std::string& owner, const std::string& key,
                                               const std::string& path) override {
    static const ContainerMeta empty;
    auto it = containers_.find(owner);
    // Docker: the directory names the container (its id is the key, not kept in meta twice).
    return docker::make_source(ctx_->name(), key, it != containers_.end() ? it->second.meta : empty,
                               path, format_ == LogFormat::kDocker ? owner : std::string());
  }

  // ---- tail::Discovery ----

  void tick(TimePoint) override {
    if (stats_.truncated != truncated_published_) {
      truncated_metric_->fetch_add(stats_.truncated - truncated_published_,
                                   std::memory_order_relaxed);
      truncated_published_ = stats_.truncated;
    }
  }

  void scan() override { scan_some(nullptr); }

  // docker: the containers directory is listed again (new and removed containers), and only
  // the container directories with events (a file created, rotated, deleted; metadata
  // rewritten) are looked into: with 10,000 containers a rotation costs one directory, not
  // 10,000. cri: the pods with events (in themselves or in a container directory) are
  // listed again, and the pods directory only when it had events itself.
  void scan_dirs(const std::set<std::string>& dirs) override { scan_some(&dirs); }

  // `only`: the directories to look into besides new containers; null = all.
  void scan_some(const std::set<std::string>* only) {
    tail::Tailer& tailer = *tailer_;
    tailer.begin_scan(only);
    const std::string top = scan_root();
    if (!is_dir(top)) {
      if (!root_missing_logged_) {
        root_missing_logged_ = true;
        log_.warn("log root not found; watching for it to appear", log::kv("path", top));
      }
      for (auto& [k, c] : containers_) c.seen = false;
      tailer.all_gone();
      forget_unseen_containers();
      return;
    }
    if (root_missing_logged_) {
      root_missing_logged_ = false;
      log_.info("log root found", log::kv("path", top));
    }
    watch_->watch(top, DirWatch::kDirMask);
    std::vector<std::string> files;
    if (only != nullptr && !only->count(top) && format_ == LogFormat::kCri) {
      // Only pods and containers had events: the pods directory is not listed.
      std::vector<std::string> names;
      for (const std::string& pod : cri_pods_with_events(*only, top)) {
        for_pod_containers(pod, [](Container& c) { c.seen = false; });
        scan_cri_pod(pod, top + "/" + pod, true, &names, &files);
      }
      tailer.end_scan();
      forget_unseen_containers();
      return;
    }
    if (only != nullptr && !only->count(top)) {
      // Only container directories had events: the containers directory is not listed.
      const std::string prefix = top + "/";
      for (const std::string& dir : *only) {
        if (dir.size() <= prefix.size() || dir.compare(0, prefix.size(), prefix) != 0 ||
            dir.find('/', prefix.size()) != std::string::npos) {
          continue;
        }
        // A removed one: its files are judged gone; the containers directory's event forgets it.
        if (is_dir(dir)) scan_docker_container(dir.substr(prefix.size()), dir, &files);
      }
      tailer.end_scan();
      return;
    }
    std::vector<std::string> entries;
    if (!list_dir(top, true, &entries)) {
      // Out of descriptors or the like: this scan knows nothing; keep every file and container.
      tailer.fs_error("list the log root", top, std::strerror(errno));
      return;
    }
    for (auto& [k, c] : containers_) c.seen = false;
    std::vector<std::string> names;
    if (format_ == LogFormat::kDocker) {
      for (const std::string& id : entries) {
        std::string dir = top + "/" + id;
        if (only != nullptr && !only->count(dir)) {
          if (auto known = containers_.find(id); known != containers_.end()) {
            known->second.seen = true;   // no event there: its files are as they were
            continue;
          }
        }
        scan_docker_container(id, dir, &files);
      }
    } else {
      // CRI: a pod is listed again when it has an event (a container directory created or
      // removed), when one of its containers has one (a file created, rotated, deleted), or
      // when it is new; the others keep their containers and files as they were.
      std::set<std::string> event_pods;
      if (only != nullptr) event_pods = cri_pods_with_events(*only, top);
      for (const std::string& pod : entries) {
        if (only != nullptr && !event_pods.count(pod) && known_pod(pod)) {
          for_pod_containers(pod, [](Container& c) { c.seen = true; });
          continue;
        }
        scan_cri_pod(pod, top + "/" + pod, only != nullptr, &names, &files);
      }
      // Removed pods: their containers' files are judged gone.
      for (const std::string& pod : event_pods) {
        if (!std::binary_search(entries.begin(), entries.end(), pod)) {
          scan_cri_pod(pod, top + "/" + pod, true, &names, &files);
        }
      }
    }
    tailer.end_scan();
    forget_unseen_containers();
  }

  // The pods of the directories with events: "<top>/<pod>" and "<top>/<pod>/<container>".
  static std::set<std::string> cri_pods_with_events(const std::set<std::string>& dirs,
                                                    const std::string& top) {
    std::set<std::string> pods;
    const std::string prefix = top + "/";
    for (const std::string& dir : dirs) {
      if (dir.size() <= prefix.size() || dir.compare(0, prefix.size(), prefix) != 0) continue;
      const std::size_t slash = dir.find('/', prefix.size());
      pods.insert(dir.substr(prefix.size(), slash == std::string::npos ? std::string::npos
                                                                         : slash - prefix.size()));
    }
    return pods;
  }

  bool known_pod(const std::string& pod) {
    bool known = false;
    for_pod_containers(pod, [&known](Container&) { known = true; });
    return known;
  }

  // CRI containers are keyed "<pod>/<container>": a pod's are one range of the sorted keys.
  template <class F>
  void for_pod_containers(const std::string& pod, F f) {
    const std::string prefix = pod + "/";
    for (auto it = containers_.lower_bound(prefix);
         it != containers_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      f(it->second);
    }
  }

  // Lists a pod's container directories and their files. `partial`: the tailer judges only the
  // files of the directories it is told of, so each of this pod's (listed or known) is named.
  void scan_cri_pod(const std::string& pod, const std::string& pdir, bool partial,
                    std::vector<std::string>* names, std::vector<std::string>* files) {
    tail::Tailer& tailer = *tailer_;
    if (partial) {
      for_pod_containers(pod, [&](Container& c) { tailer.also_scan_dir(dir_of(c)); });
    }
    if (!is_dir(pdir)) return;   // removed: its containers are unseen, their files gone
    watch_->watch(pdir, DirWatch::kDirMask);
    if (!list_dir(pdir, true, names)) {
      unlisted(pdir);
      return;
    }
    for (const std::string& name : *names) {
      std::string dir = pdir + "/" + name;
      ContainerMeta meta;
      if (!docker::parse_cri_pod_dir(pod, name, &meta)) continue;
      watch_->watch(dir, DirWatch::kLeafMask);
      if (partial) tailer.also_scan_dir(dir);
      Container& c = container(pod + "/" + name);
      if (!c.has_meta) {
        c.meta = std::move(meta);
        c.has_meta = true;
        select(c);
        charge(c);
      }
      if (!c.selected) continue;
      if (!list_dir(dir, false, files)) {
        unlisted(dir);
        continue;
      }
      // Active files first: a generation is judged against them (copy_made_while_stopped).
      for (const std::string& f : *files) {
        if (glob_match("*.log", f)) tailer.active(dir + "/" + f, c.key());
      }
      for (const std::string& f : *files) {
        if (glob_match("*.log.*", f) && !glob_match("*.gz", f) && !glob_match("*.tmp", f)) {
          tailer.rotated(dir + "/" + f, c.key());
        }
      }
      // kubelet compresses older generations (<N>.log.<timestamp>.gz): judged last.
      for (const std::string& f : *files) {
        if (glob_match("*.log.*.gz", f)) tailer.compressed(dir + "/" + f, c.key(), c.since_start);
      }
    }
  }

  void scan_docker_container(const std::string& id, const std::string& dir,
                             std::vector<std::string>* files) {
    tail::Tailer& tailer = *tailer_;
    watch_->watch(dir, DirWatch::kLeafMask);
    Container& c = container(id);
    if (!refresh_docker_meta(c)) {
      // Its metadata could not be read for now (EMFILE...): its logs wait on disk rather
      // than go out without name and labels, and its files are not taken for gone.
      tailer.unlisted_dir(dir);
      return;
    }
    if (!c.selected) return;
    if (!list_dir(dir, false, files)) {
      unlisted(dir);
      return;
    }
    // Active files first: a generation is judged against them (copy_made_while_stopped).
    for (const std::string& f : *files) {
      if (glob_match("*-json.log", f)) tailer.active(dir + "/" + f, c.key());
    }
    for (const std::string& f : *files) {
      if (glob_match("*-json.log.*", f) && !glob_match("*.gz", f)) {
        tailer.rotated(dir + "/" + f, c.key());
      }
    }
    // compress=true: <id>-json.log.1.gz... Judged last, against the files found above.
    for (const std::string& f : *files) {
      if (glob_match("*-json.log.*.gz", f)) tailer.compressed(dir + "/" + f, c.key(), c.since_start);
    }
  }

  // A directory that could not be listed: its containers and files stay as they were.
  void unlisted(const std::string& dir) {
    tailer_->fs_error("list a directory", dir, std::strerror(errno));
    tailer_->unlisted_dir(dir);
    for (auto& [k, c] : containers_) {
      if (tailer_->in_unlisted_dir(dir_of(c))) c.seen = true;
    }
  }

  // <scan root>/<pod>/<container> (CRI), <root>/containers/<id> (Docker).
  std::string dir_of(const Container& c) const { return scan_root() + "/" + c.key(); }

  Container& container(const std::string& key) {
    auto [it, inserted] = containers_.try_emplace(key);
    Container& c = it->second;
    c.seen = true;
    if (inserted) c.since_start = tailer_->scanned_once();
    if (inserted) {
      c.key_ = &it->first;
      charge(c);
    }
    return c;
  }

  void forget_unseen_containers() {
    for (auto it = containers_.begin(); it != containers_.end();) {
      if (it->second.seen) {
        ++it;
        continue;
      }
      watch_->forget(dir_of(it->second));   // the kernel drops the watch of a deleted directory
      containers_bytes_ -= it->second.charged;
      containers_mem_.set(containers_bytes_);
      it = containers_.erase(it);
    }
  }

  // False when the file is there but could not be read for now and nothing is known yet.
  bool refresh_docker_meta(Container& c) {
    const std::string path = dir_of(c) + "/config.v2.json";
    struct stat st{};
    // lstat: a symlink is judged as itself, never by what it points to.
    if (::lstat(path.c_str(), &st) != 0) {
      if (!c.has_meta) select(c);   // no metadata (yet): only the id is known
      return true;
    }
    if (c.meta_tried && st.st_ino == c.meta_ino && st.st_size == c.meta_size &&
        st.st_mtim.tv_sec == c.meta_mtime.tv_sec && st.st_mtim.tv_nsec == c.meta_mtime.tv_nsec) {
      return true;
    }
    std::string text;
    const SafeRead r = read_file_safely(path, SafeReadLimits{o_.max_metadata_size.bytes, false}, &text);
    if (r.outcome == SafeRead::Outcome::kFailed || r.outcome == SafeRead::Outcome::kMissing) {
      // EMFILE, EACCES, Docker replacing the file: nothing is known about it; the next scan
      // tries again. Out of descriptors or memory passes: until then a container never seen
      // with metadata waits. Any other error may last: its logs go out with the id only.
      if (r.outcome == SafeRead::Outcome::kFailed) {
        tailer_->fs_error("read container metadata", path, r.error);
      }
      const bool passing = r.err == EMFILE || r.err == ENFILE || r.err == ENOMEM;
      if (passing && !c.has_meta && !c.meta_tried) return false;
      if (!c.has_meta) select(c);
      return true;
    }
    c.meta_tried = true;
    c.meta_ino = st.st_ino;
    c.meta_size = st.st_size;
    c.meta_mtime = st.st_mtim;
    Result<ContainerMeta> parsed = r.ok() ? docker::parse_container_config(text)
                                          : Result<ContainerMeta>(Status::invalid(r.error));
    if (!parsed.is_ok()) {
      metadata_skipped_metric_->fetch_add(1, std::memory_order_relaxed);
      log_.warn(meta_limit_, "container metadata not read; its logs are shipped without it",
                log::kv("path", path) + log::kv("error", parsed.status().message()));
      if (!c.has_meta) select(c);
      return true;
    }
    ContainerMeta meta = std::move(parsed).value();
    // The directory is the truth (the key); ID only confirms it and is not kept twice.
    std::string().swap(meta.id);
    c.meta = std::move(meta);
    c.has_meta = true;
    select(c);   // on every label: filters see what the events will not carry
    limit_labels(c);
    charge(c);
    tailer_->refresh_sources(c.key());
    return true;
  }

  // The memory budget learns what keeping `c` costs now.
  void charge(Container& c) {
    const std::size_t now = kContainerEntryBytes +
                            c.meta.held_bytes();
    containers_bytes_ += now;
    containers_bytes_ -= c.charged;
    c.charged = now;
    containers_mem_.set(containers_bytes_);
  }

  void limit_labels(Container& c) {
    const std::size_t before = c.meta.labels.size();
    const std::size_t dropped = docker::limit_labels(label_limits_, &c.meta.labels);
    if (dropped == 0) return;
    labels_dropped_metric_->fetch_add(dropped, std::memory_order_relaxed);
    if (c.labels_limit_logged) return;
    c.labels_limit_logged = true;
    log_.warn("container labels over the limits; dropped from its events",
              log::kv("container", c.key()) + log::kv("name", c.meta.name) +
                  log::kv("labels", static_cast<int64_t>(before)) +
                  log::kv("dropped", static_cast<int64_t>(dropped)));
  }

  void select(Container& c) {
    std::string why;
    if (!c.has_meta && (!filter_.include_names.empty() || !filter_.include_images.empty() ||
                        !filter_.include_labels.empty())) {
      why = "no metadata yet";
    } else {
      why = filter_.reject_reason(c.meta);
    }
    bool was = c.selected;
    c.selected = why.empty();
    const std::size_t why_hash = why.empty() ? 0 : std::hash<std::string>{}(why) | 1;
    if (!c.selected && why_hash != c.reject_hash) {
      log_.info("container not read",
                log::kv("container", c.key()) + log::kv("name", c.meta.name) +
                    log::kv("reason", why));
    }
    c.reject_hash = why_hash;
    if (was && !c.selected) {
      // Excluded now: stop reading, keep the checkpoint in case it is selected again.
      tailer_->exclude_owner(c.key());
    }
  }

  const ContainerLogOptions o_;
  const LogFormat format_;
  const std::string root_;
  docker::DecoderOptions dopts_;
  ContainerFilter filter_;
  InputContext* ctx_ = nullptr;
  std::thread thread_;
  bool root_missing_logged_ = false;
  std::size_t containers_bytes_ = 0;   // what charge() counted for containers_
  MemoryCharge containers_mem_{MemoryPart::kContainerMetadata};
  docker::DockerLineDecoder json_;
  docker::DecoderStats stats_;
  std::atomic<uint64_t>* malformed_metric_ = nullptr;
  std::atomic<uint64_t>* truncated_metric_ = nullptr;
  std::atomic<uint64_t>* metadata_skipped_metric_ = nullptr;
  std::atomic<uint64_t>* labels_dropped_metric_ = nullptr;
  docker::LabelLimits label_limits_;
  uint64_t truncated_published_ = 0;
  ComponentLog log_{PluginContext{PluginKind::kInput, "", ""}};   // named at start
  log::RateLimit malformed_limit_{5, std::chrono::seconds(10)};
  log::RateLimit meta_limit_{5, std::chrono::seconds(60)};
  // Declared last: destroyed first, while what their files' decoders point to still exists.
  std::unique_ptr<DirWatch> watch_;
  // Before tailer_: its decoders hold series of it.
  std::unique_ptr<ContainerSeries> series_;
  // After series_: each holds its series (released before series_ goes).
  std::map<std::string, Container> containers_;
  std::unique_ptr<tail::Tailer> tailer_;
};

class DockerInput final : public Input {
 public:
  explicit DockerInput(const DockerOptions& o) : impl_(o, LogFormat::kDocker, o.docker_root) {}
  Status start(InputContext& ctx) override { return impl_.start(ctx); }
  void stop() override { impl_.stop(); }

 private:
  ContainerLogInput impl_;
};

class CriInput final : public Input {
 public:
  explicit CriInput(const CriOptions& o) : impl_(o, LogFormat::kCri, o.pods_root) {}
  Status start(InputContext& ctx) override { return impl_.start(ctx); }
  void stop() override { impl_.stop(); }

 private:
  ContainerLogInput impl_;
};

}  // namespace

const PluginInfo& docker_input() {
  static const PluginInfo info{
      PluginKind::kInput, "docker",
      "Tails Docker json-file container logs with container metadata, rotation-safe.",
      &schema_of<DockerOptions>, &bind_input<DockerOptions, DockerInput>};
  return info;
}

const PluginInfo& cri_input() {
  static const PluginInfo info{
      PluginKind::kInput, "cri",
      "Tails Kubernetes CRI (containerd/CRI-O) pod logs under /var/log/pods.",
      &schema_of<CriOptions>, &bind_input<CriOptions, CriInput>};
  return info;
}

}  // namespace logship::plugins
