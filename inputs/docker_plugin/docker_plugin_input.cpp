// Docker log-driver plugin mode (formats.md §3): the engine hands each container's output to us
// through a FIFO, and we run it through the same routes, processors and outputs as the docker
// input, with the same container fields.
//
// Threads:
//   http     HttpServer: Activate, Capabilities, StartLogging, StopLogging, ReadLogs.
//   fifo     one epoll loop for every FIFO: reads, decodes frames, merges partial entries and
//            appends to the container's disk spool. It never waits for the pipeline, so a slow
//            output never stalls a container (unless when_full: block and the spool is full).
//   pump     one per container: reads its spool, emits batches (blocking on backpressure), and
//            checkpoints the spool offset through acks.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <thread>
#include <unordered_map>

#include "daemon/core/json_writer.h"
#include "config/enum_option.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/component_metrics.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/memory_budget.h"
#include "daemon/runtime/metrics.h"
#include "daemon/state/atomic_file.h"
#include "inputs/docker_plugin/frame.h"
#include "inputs/docker_plugin/http_server.h"
#include "inputs/docker_plugin/merger.h"
#include "inputs/docker_plugin/protocol.h"
#include "daemon/buffer/spool.h"

namespace logship {
// The spool's policy under the option's names (found by argument-dependent lookup).
constexpr config::EnumNames<FullPolicy, 2> enum_names(FullPolicy) {
  return {{{"block", FullPolicy::kBlock}, {"drop_oldest", FullPolicy::kDropOldest}}};
}
}  // namespace logship

namespace logship::plugins {
namespace {

using namespace docker_plugin;
using config::ByteSize;
using config::Millis;
namespace fs = std::filesystem;

struct PluginOptions {
  std::string socket = "/run/docker/plugins/logship.sock";
  ByteSize max_frame_size{(1u << 20) + (64u << 10)};
  ByteSize max_line{4u << 20};
  ByteSize max_buffer_size{256u << 20};
  FullPolicy when_full = FullPolicy::kBlock;
  ByteSize segment_size{8u << 20};
  ByteSize keep_size{64u << 20};
  bool read_logs = true;
  int64_t batch_events = 1024;
  ByteSize max_request{4u << 20};
  int64_t max_connections = 64;
  int64_t max_log_streams = 16;
  Millis idle_timeout{60000};

  static const config::OptionSchema<PluginOptions>& schema() {
    using S = config::OptionSchema<PluginOptions>;
    static const auto s =
        S{}.add("socket", &PluginOptions::socket,
                "Unix socket the engine connects to. Legacy plugin: "
                "/run/docker/plugins/<driver name>.sock; managed plugin: the config.json socket "
                "under /run/docker/plugins.")
            .add("max_frame_size", &PluginOptions::max_frame_size,
                 "Longest accepted FIFO frame; longer ones are skipped and counted (Docker "
                 "writes at most 16 KiB of line per frame).",
                 config::at_least(ByteSize(1024), "1KiB"))
            .add("max_line", &PluginOptions::max_line,
                 "Longest line after merging partial entries; the rest is cut (event marked "
                 "truncated).",
                 config::at_least(ByteSize(1024), "1KiB"))
            .add("max_buffer_size", &PluginOptions::max_buffer_size,
                 "Per container: most un-delivered bytes spooled on disk.",
                 config::at_least(ByteSize(4096), "4KiB"))
            .add("when_full", &PluginOptions::when_full,
                 "When the spool is full: block = stop reading the FIFO (the container blocks "
                 "on write, like Docker's mode=blocking); drop_oldest = delete the oldest "
                 "un-delivered data (counted in logship_plugin_dropped_total).")
            .add("segment_size", &PluginOptions::segment_size,
                 "Spool segment file size (capped at max_buffer_size/4); the unit of dropping "
                 "and trimming.",
                 config::at_least(ByteSize(1024), "1KiB"))
            .add("keep_size", &PluginOptions::keep_size,
                 "Per container: delivered bytes kept for `docker logs` (ReadLogs).")
            .add("read_logs", &PluginOptions::read_logs,
                 "Announce ReadLogs, so `docker logs` is served from the kept data.")
            .add("batch_events", &PluginOptions::batch_events, "Most events per batch.",
                 config::in_range(1, 1 << 20))
            .add("max_request", &PluginOptions::max_request, "Largest HTTP request body.",
                 config::at_least(ByteSize(4096), "4KiB"))
            .add("max_connections", &PluginOptions::max_connections,
                 "Open HTTP connections. At the limit the connection idle the longest is closed "
                 "to admit a new one; a new one is refused only when all are being served.",
                 config::in_range(8, 100000))
            .add("max_log_streams", &PluginOptions::max_log_streams,
                 "ReadLogs responses (docker logs, -f included) served at once, each on its own "
                 "thread; more are refused (503). Other requests have their own small pool.",
                 config::in_range(1, 10000))
            .add("idle_timeout", &PluginOptions::idle_timeout,
                 "A connection must send a complete request within this time of connecting or "
                 "of its last reply, and a reply or log stream that cannot be written for this "
                 "long is dropped.",
                 config::at_least(Millis(100), "100ms"));
    return s;
  }
  Status validate() const {
    if (socket.empty()) return Status::invalid("socket must not be empty");
    return Status::ok();
  }
};

// Spool record payload: [int64 LE time_ns][uint8 stream][uint8 flags][line].
// flags: the event's EventFlags, plus kRecordUnterminated (never passed on to events).
constexpr std::size_t kRecordMeta = 10;
constexpr uint8_t kRecordUnterminated = 0x80;   // written without its newline

void encode_record(std::string& out, int64_t time_ns, Stream s, uint8_t flags,
                   std::string_view line) {
  out.resize(kRecordMeta);
  auto t = static_cast<uint64_t>(time_ns);
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>(t >> (8 * i));
  out[8] = static_cast<char>(s);
  out[9] = static_cast<char>(flags);
  out.append(line);
}

bool decode_record(std::string_view p, int64_t* time_ns, Stream* s, uint8_t* flags,
                   std::string_view* line) {
  if (p.size() < kRecordMeta) return false;
  uint64_t t = 0;
  for (std::size_t i = 8; i-- > 0;) t = (t << 8) | static_cast<unsigned char>(p[i]);
  *time_ns = static_cast<int64_t>(t);
  const auto sv = static_cast<uint8_t>(p[8]);
  *s = sv == 2 ? Stream::kStderr : sv == 1 ? Stream::kStdout : Stream::kNone;
  *flags = static_cast<uint8_t>(p[9]);
  *line = p.substr(kRecordMeta);
  return true;
}

std::string err_json(std::string_view msg) {
  std::string out = "{\"Err\":";
  json::append_string(out, msg);
  out += '}';
  return out;
}

// One container: its spool, its pipeline stream and the pump that feeds one from the other.
struct Container {
  std::string id;
  std::string dir;
  std::unique_ptr<Spool> spool;
  std::unique_ptr<StreamHandle> stream;   // one for the input's life: one ack tracker per key
  std::mutex mu;                          // guards the fields below
  ContainerInfo info;
  std::vector<std::string> files;         // FIFOs being read
  bool pump_running = false;
  std::thread pump;
  uint64_t cursor = 0;                    // owned by the running pump
};

// One FIFO, owned by the fifo thread.
struct Fifo {
  std::string file;
  int fd = -1;
  std::shared_ptr<Container> c;
  FrameReader frames;
  bool paused = false;
  bool eof = false;
  std::deque<std::string> held;   // records the spool refused (when_full: block)
  std::size_t held_bytes = 0;
  PartialMerger merger;
  // What the FIFO holds before the spool: a frame being read, a line being merged, refused
  // records. Charged to the memory budget as docker_plugin_pending.
  MemoryCharge pending_mem{MemoryPart::kPluginPending};
  Fifo(std::size_t max_frame, std::size_t max_line) : frames(max_frame), merger(max_line) {}
  void charge() { pending_mem.set(frames.capacity() + merger.capacity() + held_bytes); }
};

// Charges what a FIFO holds when a step on it ends, however it ends.
struct ChargeOnExit {
  Fifo& f;
  ~ChargeOnExit() { f.charge(); }
};

SpoolOptions spool_options(const PluginOptions& o) {
  SpoolOptions s;
  s.max_bytes = o.max_buffer_size.bytes;
  s.segment_bytes = std::max<uint64_t>(1024, std::min(o.segment_size.bytes,
                                                      o.max_buffer_size.bytes / 4));
  s.keep_bytes = o.keep_size.bytes;
  s.when_full = o.when_full;
  s.log_component = "docker_plugin";
  return s;
}

class DockerPluginInput final : public Input {
 public:
  explicit DockerPluginInput(const PluginOptions& o)
      : o_(o),
        spool_opts_(spool_options(o)) {}
  ~DockerPluginInput() override { stop(); }

  Status start(InputContext& ctx) override {
    ctx_ = &ctx;
    const PluginContext plugin{PluginKind::kInput, ctx.name(), "docker_plugin"};
    log_ = ComponentLog(plugin);
    const ComponentMetrics metrics(plugin);
    const char* help = "Bad FIFO frames skipped by the docker_plugin input, by reason";
    auto errors = [&](const char* reason) {
      return &metrics.counter("logship_plugin_frame_errors_total", help, "reason", reason);
    };
    err_decode_ = errors("decode");
    err_oversize_ = errors("oversize");
    err_truncated_ = errors("truncated");
    lines_ = &metrics.counter("logship_plugin_lines_total", "Log lines spooled from FIFOs");
    spool_opts_.dropped_counter = &metrics.counter(
        "logship_plugin_dropped_total",
        "Log records dropped by the docker_plugin spool (when_full: drop_oldest)");
    spool_opts_.corrupt_counter = &metrics.counter(
        "logship_plugin_spool_corrupt_total",
        "Corrupt spool regions skipped (bad checksum or length, torn tails)");
    root_ = ctx.state_dir() + "/spool";
    LOGSHIP_TRY(make_dirs(root_));
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0) return Status::io("epoll", errno);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
      const Status st = Status::io("epoll_ctl", errno);
      stop();
      return st;
    }
    recover();
    try {
      fifo_thread_ = std::thread([this] { fifo_loop(); });
    } catch (const std::system_error& e) {
      stop();
      return Status::unavailable(std::string("docker_plugin: cannot start the FIFO thread: ") +
                                 e.what());
    }
    HttpLimits limits;
    limits.max_body = o_.max_request.bytes;
    limits.max_connections = static_cast<std::size_t>(o_.max_connections);
    limits.max_streams = static_cast<std::size_t>(o_.max_log_streams);
    limits.idle_timeout = o_.idle_timeout;
    Status s = server_.start(
        plugin, o_.socket, limits, [this](const HttpRequest& r, ResponseWriter& w) { handle(r, w); },
        [](const HttpRequest& r) { return r.path == "/LogDriver.ReadLogs"; });
    if (!s.is_ok()) {
      stop();
      return s.with_context("docker_plugin");
    }
    log_.info("serving the log-driver plugin protocol", log::kv("socket", o_.socket));
    return Status::ok();
  }

  void stop() override {
    if (stopped_.exchange(true) || ctx_ == nullptr) return;
    server_.stop();
    fifo_stop_.store(true);
    wake();
    if (fifo_thread_.joinable()) fifo_thread_.join();
    std::vector<std::shared_ptr<Container>> all;
    {
      std::lock_guard lock(containers_mu_);
      for (auto& [id, c] : containers_) all.push_back(c);
    }
    for (auto& c : all) {
      if (c->pump.joinable()) c->pump.join();
    }
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    epoll_fd_ = wake_fd_ = -1;
  }

 private:
  std::string key_of(const std::string& id) const { return "docker_plugin:" + id; }
  bool stopping() const { return stopped_.load() || ctx_->stopping(); }
  void wake() {
    uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
  }

  // ---- containers -------------------------------------------------------------------------

  // Finds or creates the container (spool opened at the checkpoint); caller holds nothing.
  Result<std::shared_ptr<Container>> container_for(const ContainerInfo& info) {
    std::lock_guard lock(containers_mu_);
    auto it = containers_.find(info.id);
    if (it != containers_.end()) return it->second;
    auto c = std::make_shared<Container>();
    c->id = info.id;
    c->dir = root_ + "/" + info.id;
    c->info = info;
    uint64_t committed = 0;
    if (auto saved = ctx_->saved_position(key_of(info.id))) committed = saved->offset;
    auto spool = Spool::open(c->dir, spool_opts_, committed);
    if (!spool.is_ok()) return spool.status();
    c->spool = std::move(spool).value();
    c->cursor = c->spool->committed();
    c->stream = ctx_->open_stream(make_source(ctx_->name(), key_of(info.id), info));
    containers_.emplace(info.id, c);
    return c;
  }

  std::shared_ptr<Container> find_container(const std::string& id) {
    std::lock_guard lock(containers_mu_);
    auto it = containers_.find(id);
    return it == containers_.end() ? nullptr : it->second;
  }

  // Caller holds c.mu.
  void persist_locked(Container& c) {
    Status s =
        write_file_atomically(c.dir + "/container.json", container_state_json(c.info, c.files));
    if (!s.is_ok()) {
      log_.warn("cannot persist container state", log::kv("error", s.message()));
    }
  }

  // Caller holds c.mu.
  void ensure_pump_locked(const std::shared_ptr<Container>& c) {
    if (c->pump_running || stopping()) return;
    if (c->pump.joinable()) c->pump.join();   // it exited already
    try {
      c->pump = std::thread([this, c] { pump(*c); });
      c->pump_running = true;
    } catch (const std::system_error& e) {
      // The FIFO is still read into the spool; the next StartLogging or restart delivers it.
      log_.error("cannot start the container's pump thread; its lines stay spooled",
                 log::kv("container_id", c->id) + log::kv("error", e.what()));
    }
  }

  // Reopens what a previous run was doing: un-delivered spool data and FIFOs still open.
  void recover() {
    std::error_code ec;
    simdjson::dom::parser parser;
    for (const auto& entry : fs::directory_iterator(root_, ec)) {
      std::string text;
      if (!read_whole_file(entry.path().string() + "/container.json", &text)) continue;
      ContainerInfo info;
      std::vector<std::string> files;
      if (!parse_container_state(text, parser, &info, &files) ||
          entry.path().filename().string() != info.id) {
        log_.warn("unreadable container state; skipped", log::kv("dir", entry.path().string()));
        continue;
      }
      auto c = container_for(info);
      if (!c.is_ok()) {
        log_.error("cannot open spool", log::kv("error", c.status().message()));
        continue;
      }
      std::shared_ptr<Container> cont = c.value();
      std::lock_guard lock(cont->mu);
      for (const auto& f : files) {
        int fd = ::open(f.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        struct stat st{};
        if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
          if (fd >= 0) ::close(fd);
          log_.info("FIFO of a previous run is gone",
                    log::kv("container_id", info.id) + log::kv("file", f));
          continue;
        }
        cont->files.push_back(f);
        attach(cont, f, fd, /*restore_rest=*/true);
        log_.info("reopened FIFO after restart",
                  log::kv("container_id", info.id) + log::kv("file", f));
      }
      if (cont->files.size() != files.size()) persist_locked(*cont);
      if (cont->spool->committed() < cont->spool->end() || !cont->files.empty()) {
        ensure_pump_locked(cont);
      }
    }
  }

  // ---- the pump: spool -> pipeline --------------------------------------------------------

  void pump(Container& c) {
    SpoolReader reader(*c.spool, true);
    uint64_t cursor = c.cursor;
    auto idle_since = SteadyClock::now();
    while (!stopping()) {
      BatchPtr batch = c.stream->new_batch(256);
      std::size_t bytes = 0;
      uint64_t at = 0;
      std::string_view payload;
      while (batch->size() < static_cast<std::size_t>(o_.batch_events) && bytes < (4u << 20) &&
             reader.next(&cursor, &at, &payload)) {
        int64_t t;
        Stream s;
        uint8_t flags;
        std::string_view line;
        if (!decode_record(payload, &t, &s, &flags, &line)) continue;
        Event& e = batch->add_event();
        e.time_ns = t;
        e.offset = at;
        e.stream = s;
        e.flags = flags & static_cast<uint8_t>(~kRecordUnterminated);
        e.message = batch->copy(line);
        bytes += line.size();
      }
      if (batch->size() > 0) {
        if (!c.stream->emit(std::move(batch), Position{cursor, {}})) break;
        idle_since = SteadyClock::now();
        continue;
      }
      const TimePoint now = SteadyClock::now();
      if (auto next = c.stream->next_flush(); next && *next <= now) {
        if (!c.stream->flush(false)) break;
        continue;
      }
      {
        // Exit when nothing can come: no FIFO, all read and settled, for a while. A new
        // StartLogging restarts the pump (under the same lock, so none is missed).
        std::lock_guard lock(c.mu);
        c.cursor = cursor;
        if (c.files.empty() && cursor >= c.spool->end() && c.stream->unsettled() == 0 &&
            !c.stream->next_flush() && now - idle_since > std::chrono::seconds(5)) {
          c.pump_running = false;
          return;
        }
      }
      auto wait = std::chrono::milliseconds(100);
      if (auto next = c.stream->next_flush()) {
        wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(*next - now) +
                                  std::chrono::milliseconds(1));
      }
      c.spool->wait(cursor, wait);
    }
    c.stream->flush(true);
    std::lock_guard lock(c.mu);
    c.cursor = cursor;
    c.pump_running = false;
  }

  // ---- the fifo thread: FIFO -> spool -----------------------------------------------------

  struct Command {
    enum class Kind { kAttach, kStop } kind;
    std::unique_ptr<Fifo> fifo;
    std::string file;
    std::promise<std::string> done;
  };

  static std::string rest_path(const Container& c, const std::string& file) {
    return c.dir + "/rest-" + fs::path(file).filename().string();
  }

  void attach(const std::shared_ptr<Container>& c, const std::string& file, int fd,
              bool restore_rest = false) {
    auto f = std::make_unique<Fifo>(o_.max_frame_size.bytes, o_.max_line.bytes);
    const std::string rest = rest_path(*c, file);
    std::string bytes;
    if (restore_rest && read_whole_file(rest, &bytes)) f->frames.feed(bytes.data(), bytes.size());
    ::unlink(rest.c_str());
    f->file = file;
    f->fd = fd;
    f->c = c;
    auto cmd = std::make_unique<Command>();
    cmd->kind = Command::Kind::kAttach;
    cmd->fifo = std::move(f);
    post(std::move(cmd));
  }

  std::future<std::string> post(std::unique_ptr<Command> cmd) {
    auto fut = cmd->done.get_future();
    {
      std::lock_guard lock(cmd_mu_);
      commands_.push_back(std::move(cmd));
    }
    wake();
    return fut;
  }

  void fifo_loop() {
    std::vector<char> buf(256 * 1024);
    std::vector<Spool*> touched;
    epoll_event events[64];
    auto last_commit = SteadyClock::now();
    while (!fifo_stop_.load()) {
      int n = ::epoll_wait(epoll_fd_, events, 64, 50);
      touched.clear();
      // Events first, then commands and the EOF sweep: only those free a Fifo, so no event of
      // this round can point at a freed one.
      for (int i = 0; i < n; ++i) {
        auto* f = static_cast<Fifo*>(events[i].data.ptr);
        if (f == nullptr) {
          uint64_t v;
          (void)!::read(wake_fd_, &v, sizeof v);
          continue;
        }
        read_fifo(*f, buf, false, touched);
      }
      close_ended(buf, touched);
      run_commands(buf, touched);
      const auto now = SteadyClock::now();
      if (now - last_commit >= std::chrono::milliseconds(50)) {
        last_commit = now;
        commit_all();
        for (auto& [file, f] : fifos_) {
          if (f->paused && resume(*f, false, touched)) read_fifo(*f, buf, false, touched);
        }
      }
      flush_spools(touched);
    }
    // Shutdown: everything in the pipes goes to the spools; the FIFOs stay listed in the
    // container state, so the next run reopens them.
    touched.clear();
    run_commands(buf, touched);
    for (auto& [file, f] : fifos_) {
      if (f->fd < 0) continue;
      drain(*f, buf, touched, /*keep_rest=*/true);
      ::close(f->fd);
    }
    flush_spools(touched);
    fifos_.clear();
  }

  // Every writer closed a FIFO (the engine died, or a FIFO reopened after a restart was
  // abandoned): take what it held, close it and stop listing it, so the container's pump and
  // follow streams can end and the next run does not reopen it. The entry stays until
  // StopLogging, which then succeeds.
  void close_ended(std::vector<char>& buf, std::vector<Spool*>& touched) {
    for (auto& [file, f] : fifos_) {
      if (!f->eof || f->fd < 0) continue;
      drain(*f, buf, touched);
      ::close(f->fd);
      f->fd = -1;
      log_.info("FIFO closed by every writer",
                log::kv("container_id", f->c->id) + log::kv("file", file));
      std::lock_guard lock(f->c->mu);
      auto& files = f->c->files;
      auto it = std::find(files.begin(), files.end(), file);
      if (it != files.end()) {
        files.erase(it);
        persist_locked(*f->c);
      }
      f->c->spool->notify_all();
    }
  }

  void flush_spools(std::vector<Spool*>& touched) {
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (Spool* s : touched) {
      Status st = s->flush();
      if (!st.is_ok()) {
        log_.error("spool write failed", log::kv("error", st.message()));
      }
    }
  }

  // Acks free spool room; the spool learns them here rather than from the pump, which may be
  // blocked on backpressure exactly when room matters.
  void commit_all() {
    std::lock_guard lock(containers_mu_);
    for (auto& [id, c] : containers_) {
      if (auto p = c->stream->committed()) c->spool->commit(p->offset);
    }
  }

  void run_commands(std::vector<char>& buf, std::vector<Spool*>& touched) {
    std::deque<std::unique_ptr<Command>> cmds;
    {
      std::lock_guard lock(cmd_mu_);
      cmds.swap(commands_);
    }
    for (auto& cmd : cmds) {
      if (cmd->kind == Command::Kind::kAttach) {
        Fifo* f = cmd->fifo.get();
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = f;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, f->fd, &ev) != 0) {
          int err = errno;
          ::close(f->fd);
          cmd->done.set_value(std::string("epoll: ") + std::strerror(err));
          continue;
        }
        fifos_[f->file] = std::move(cmd->fifo);
        cmd->done.set_value("");
        read_fifo(*f, buf, false, touched);
      } else {
        auto it = fifos_.find(cmd->file);
        if (it == fifos_.end()) {
          cmd->done.set_value("not logging to " + cmd->file);
          continue;
        }
        Fifo& f = *it->second;
        if (f.fd >= 0) {
          // The engine closes its end only after our reply: read until EAGAIN, not EOF.
          drain(f, buf, touched);
          flush_spools(touched);
          ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, f.fd, nullptr);
          ::close(f.fd);
        }
        fifos_.erase(it);
        cmd->done.set_value("");
      }
    }
  }

  // Reads everything the pipe holds now into the spool, past its bound if need be (at most a
  // pipe's worth), and closes any line still being merged.
  // `keep_rest` (shutdown): the pipe stays open for the next run, so the start of a frame read
  // now is saved beside the spool and fed first after the restart, keeping the stream in step.
  void drain(Fifo& f, std::vector<char>& buf, std::vector<Spool*>& touched,
             bool keep_rest = false) {
    ChargeOnExit charge{f};
    resume(f, true, touched);
    if (!f.eof) read_fifo(f, buf, true, touched);
    // The stream ended mid-line (no last chunk): keep what came, marked truncated.
    f.merger.finish([&](const MergedLine& l) { put(f, l, true, touched); });
    if (keep_rest && f.frames.buffered() > 0 && !f.frames.skipping()) {
      Status s = write_file_atomically(rest_path(*f.c, f.file), f.frames.buffered_bytes());
      if (s.is_ok()) return;
      log_.error("cannot save a partly read frame", log::kv("error", s.message()));
    }
    if (f.frames.buffered() > 0 || f.frames.skipping()) {
      err_truncated_->fetch_add(1, std::memory_order_relaxed);
      log_.warn("FIFO ended inside a frame; partial frame discarded",
                log::kv("container_id", f.c->id) +
                    log::kv("bytes", static_cast<int64_t>(f.frames.buffered())));
      f.frames.clear();
    }
  }

  void set_paused(Fifo& f, bool paused) {
    if (f.paused == paused) return;
    f.paused = paused;
    epoll_event ev{};
    ev.events = paused ? 0u : static_cast<uint32_t>(EPOLLIN);
    ev.data.ptr = &f;
    if (!f.eof) ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, f.fd, &ev);
  }

  // Appends held records, then the frames already buffered. False while the spool is full.
  bool resume(Fifo& f, bool force, std::vector<Spool*>& touched) {
    ChargeOnExit charge{f};
    while (!f.held.empty()) {
      if (f.c->spool->append(f.held.front(), force) != Spool::Append::kOk) return false;
      f.held_bytes -= f.held.front().size();
      f.held.pop_front();
      touched.push_back(f.c->spool.get());
    }
    if (!decode_frames(f, force, touched)) return false;
    set_paused(f, false);
    return true;
  }

  void read_fifo(Fifo& f, std::vector<char>& buf, bool force, std::vector<Spool*>& touched) {
    if (f.paused && !force) return;
    ChargeOnExit charge{f};
    // A bounded number of reads per wake-up keeps one busy container from starving others;
    // a drain (force) reads until the pipe is empty.
    for (int i = 0; force || i < 4; ++i) {
      ssize_t r = ::read(f.fd, buf.data(), buf.size());
      if (r > 0) {
        f.frames.feed(buf.data(), static_cast<std::size_t>(r));
        if (!decode_frames(f, force, touched)) {
          set_paused(f, true);
          return;
        }
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) {
        // Every writer closed (the engine went away): nothing more until StopLogging.
        f.eof = true;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, f.fd, nullptr);
      } else if (errno != EAGAIN) {
        log_.error("FIFO read failed",
                   log::kv("file", f.file) + log::kv("error", std::strerror(errno)));
        f.eof = true;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, f.fd, nullptr);
      }
      return;
    }
  }

  void frame_error(Fifo& f, std::atomic<uint64_t>* counter, std::string_view what,
                   std::string_view detail) {
    counter->fetch_add(1, std::memory_order_relaxed);
    log_.warn(frame_log_, what, log::kv("container_id", f.c->id) + log::kv("error", detail));
  }

  // Decodes buffered frames into spool records. False when the spool refused one (held).
  bool decode_frames(Fifo& f, bool force, std::vector<Spool*>& touched) {
    std::string_view payload;
    uint64_t oversize = 0;
    while (f.held.empty()) {
      auto next = f.frames.next(&payload, &oversize);
      if (next == FrameReader::Next::kNeedMore) return true;
      if (next == FrameReader::Next::kOversize) {
        frame_error(f, err_oversize_, "FIFO frame over max_frame_size skipped",
                    "size " + std::to_string(oversize));
        continue;
      }
      LogEntryView e;
      if (Status st = decode_log_entry(payload, &e); !st.is_ok()) {
        frame_error(f, err_decode_, "undecodable FIFO frame skipped", st.message());
        continue;
      }
      f.merger.add(e, [&](const MergedLine& l) { put(f, l, force, touched); });
    }
    return false;
  }

  // Appends a record; the spool refusing it holds it (and what follows) in the FIFO's queue.
  void put(Fifo& f, const MergedLine& l, bool force, std::vector<Spool*>& touched) {
    const uint8_t flags = static_cast<uint8_t>((l.truncated ? kEventTruncated : 0) |
                                               (l.terminated ? 0 : kRecordUnterminated));
    encode_record(record_, l.time_ns, l.stream, flags, l.text);
    lines_->fetch_add(1, std::memory_order_relaxed);
    if (f.held.empty()) {
      Spool::Append r = f.c->spool->append(record_, force);
      if (r == Spool::Append::kOk) {
        touched.push_back(f.c->spool.get());
        return;
      }
      if (r == Spool::Append::kError) {
        log_.error("spool append failed; holding the FIFO", log::kv("container_id", f.c->id));
      }
    }
    f.held.push_back(record_);
    f.held_bytes += record_.size();
  }

  // ---- HTTP -------------------------------------------------------------------------------

  void handle(const HttpRequest& r, ResponseWriter& w) {
    static constexpr std::string_view kEndpoints[] = {
        "/Plugin.Activate", "/LogDriver.Capabilities", "/LogDriver.StartLogging",
        "/LogDriver.StopLogging", "/LogDriver.ReadLogs"};
    bool known = false;
    for (auto ep : kEndpoints) known = known || r.path == ep;
    if (!known) {
      w.reply(404, err_json("unknown endpoint " + r.path));
      return;
    }
    if (r.method != "POST") {
      w.reply(405, err_json("method " + r.method + " not allowed; use POST"));
      return;
    }
    if (r.path == "/Plugin.Activate") {
      w.reply(200, "{\"Implements\":[\"LogDriver\"]}");
    } else if (r.path == "/LogDriver.Capabilities") {
      // The engine reads Cap.ReadLogs (formats.md §3.2), not a top-level ReadLogs.
      w.reply(200, o_.read_logs ? "{\"Cap\":{\"ReadLogs\":true},\"Err\":\"\"}"
                                : "{\"Cap\":{\"ReadLogs\":false},\"Err\":\"\"}");
    } else if (r.path == "/LogDriver.StartLogging") {
      start_logging(r, w);
    } else if (r.path == "/LogDriver.StopLogging") {
      stop_logging(r, w);
    } else {
      read_logs(r, w);
    }
  }

  void start_logging(const HttpRequest& r, ResponseWriter& w) {
    StartRequest req;
    simdjson::dom::parser parser;
    if (Status st = parse_start_logging(r.body, parser, &req); !st.is_ok()) {
      const std::string& err = st.message();
      log_.warn("bad StartLogging request", log::kv("error", err));
      w.reply(400, err_json(err));
      return;
    }
    int fd = ::open(req.file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st{};
    if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
      std::string err = fd < 0 ? std::string(std::strerror(errno)) : "not a FIFO";
      if (fd >= 0) ::close(fd);
      w.reply(500, err_json("cannot open " + req.file + ": " + err));
      return;
    }
    auto c = container_for(req.info);
    if (!c.is_ok()) {
      ::close(fd);
      w.reply(500, err_json(c.status().message()));
      return;
    }
    std::shared_ptr<Container> cont = c.value();
    {
      std::lock_guard lock(cont->mu);
      if (std::find(cont->files.begin(), cont->files.end(), req.file) != cont->files.end()) {
        ::close(fd);
        w.reply(500, err_json("already logging to " + req.file));
        return;
      }
      cont->info = req.info;
      cont->files.push_back(req.file);
      persist_locked(*cont);
      attach(cont, req.file, fd);
      ensure_pump_locked(cont);
    }
    log_.info("start logging",
              log::kv("container_id", req.info.id) + log::kv("container_name", req.info.name) +
                  log::kv("file", req.file));
    w.reply(200, "{\"Err\":\"\"}");
  }

  void stop_logging(const HttpRequest& r, ResponseWriter& w) {
    std::string file;
    simdjson::dom::parser parser;
    if (Status st = parse_stop_logging(r.body, parser, &file); !st.is_ok()) {
      const std::string& err = st.message();
      log_.warn("bad StopLogging request", log::kv("error", err));
      w.reply(400, err_json(err));
      return;
    }
    auto cmd = std::make_unique<Command>();
    cmd->kind = Command::Kind::kStop;
    cmd->file = file;
    auto fut = post(std::move(cmd));
    if (fut.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      w.reply(500, err_json("timed out draining " + file));
      return;
    }
    std::string err = fut.get();
    if (!err.empty()) {
      w.reply(404, err_json(err));
      return;
    }
    std::shared_ptr<Container> stopped;
    {
      std::lock_guard lock(containers_mu_);
      for (auto& [id, c] : containers_) {
        std::lock_guard cl(c->mu);
        auto it = std::find(c->files.begin(), c->files.end(), file);
        if (it != c->files.end()) {
          c->files.erase(it);
          persist_locked(*c);
          stopped = c;
        }
      }
    }
    if (stopped) stopped->spool->notify_all();   // a follow stream may end now
    log_.info("stop logging",
              log::kv("container_id", stopped ? stopped->id : "") + log::kv("file", file));
    w.reply(200, "{\"Err\":\"\"}");
  }

  // Streams the container's kept lines in FIFO framing. Lines over 16 KiB go out as partial
  // chunks, as the engine itself writes them, keeping every frame far below its 1e6 limit.
  void read_logs(const HttpRequest& r, ResponseWriter& w) {
    ReadRequest req;
    simdjson::dom::parser parser;
    if (Status st = parse_read_logs(r.body, parser, &req); !st.is_ok()) {
      const std::string& err = st.message();
      log_.warn("bad ReadLogs request", log::kv("error", err));
      w.reply(400, err_json(err));
      return;
    }
    if (!o_.read_logs) {
      w.reply(501, err_json("ReadLogs is disabled (read_logs: false)"));
      return;
    }
    std::shared_ptr<Container> c = find_container(req.info.id);
    if (!w.begin_stream("application/x-json-stream")) return;
    if (!c) {
      w.end_stream();
      return;
    }
    std::string out;
    SpoolReader reader(*c->spool, false);
    uint64_t cursor = c->spool->begin();
    const uint64_t scan_end = c->spool->end();
    uint64_t at = 0;
    std::string_view payload;
    int64_t t;
    Stream s;
    uint8_t flags;
    std::string_view line;
    auto matches = [&](std::string_view p) {
      return decode_record(p, &t, &s, &flags, &line) && t >= req.since_ns && t <= req.until_ns;
    };
    // Tail counts entries as the engine logged them (a long line is several), like json-file's
    // --tail: find the record holding the N-th last entry and how many of its entries to skip.
    std::size_t skip_entries = 0;
    if (req.tail >= 0) {
      struct Kept {
        uint64_t at;
        std::size_t entries;
      };
      std::deque<Kept> last;
      std::size_t total = 0;
      const auto want = static_cast<std::size_t>(req.tail);
      uint64_t scan = cursor;
      while (scan < scan_end && reader.next(&scan, &at, &payload)) {
        if (!matches(payload)) continue;
        const std::size_t n = entry_count(line.size(), (flags & kRecordUnterminated) == 0);
        last.push_back({at, n});
        total += n;
        while (!last.empty() && total - last.front().entries >= want) {
          total -= last.front().entries;
          last.pop_front();
        }
      }
      if (want == 0 || last.empty()) {
        cursor = scan;
      } else {
        cursor = last.front().at;
        skip_entries = total > want ? total - want : 0;
      }
    }
    bool past_until = false;
    auto send_available = [&](uint64_t limit) -> bool {
      while (cursor < limit && reader.next(&cursor, &at, &payload)) {
        if (!decode_record(payload, &t, &s, &flags, &line)) continue;
        if (t > req.until_ns) {
          past_until = true;
          continue;
        }
        if (t < req.since_ns) continue;
        append_line_frames(out, at, t, s, line, (flags & kRecordUnterminated) == 0,
                           skip_entries);
        skip_entries = 0;
        if (out.size() >= 64 * 1024) {
          if (!w.chunk(out)) return false;
          out.clear();
        }
      }
      if (!w.chunk(out)) return false;
      out.clear();
      return true;
    };
    if (!send_available(scan_end)) return;
    while (req.follow && !past_until && !server_.stopping() && !stopping()) {
      if (!send_available(c->spool->end())) return;
      {
        std::lock_guard lock(c->mu);
        if (c->files.empty() && cursor >= c->spool->end()) break;   // the container stopped
      }
      if (w.peer_closed()) return;
      if (req.until_ns != INT64_MAX && wall_now_ns() > req.until_ns) break;
      c->spool->wait(cursor, std::chrono::milliseconds(200));
    }
    w.end_stream();
  }

  static constexpr std::size_t kEntryChunk = 16 * 1024;   // the engine's copier buffer

  // How many entries the engine logged for a line: one per full 16 KiB chunk, then the rest
  // with the newline (empty if the length is a multiple of 16 KiB); a line that ended without
  // newline has no such last entry, only its non-empty rest.
  static std::size_t entry_count(std::size_t size, bool terminated) {
    const std::size_t full = size / kEntryChunk;
    const std::size_t rest = size % kEntryChunk;
    return full + (terminated || rest > 0 ? 1 : 0);
  }

  // Frames one kept line as the engine's own copier sent it, so that `docker logs` (which
  // prints each entry's bytes as they are, one timestamp per entry with --timestamps) shows
  // exactly what the json-file driver shows (entry_count above). The first `skip` entries are
  // left out (--tail starting inside a long line).
  static void append_line_frames(std::string& out, uint64_t offset, int64_t t, Stream s,
                                 std::string_view line, bool terminated, std::size_t skip) {
    LogEntryView e;
    e.source = s == Stream::kStderr ? "stderr" : "stdout";
    e.time_nano = t;
    std::string& scratch = frame_scratch();
    const std::size_t n = entry_count(line.size(), terminated);
    const bool partial = n > 1 || !terminated;
    char id[17];
    std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(offset));
    if (partial) {
      e.partial = true;
      e.has_partial_meta = true;
      e.partial_id = std::string_view(id, 16);
    }
    for (std::size_t i = skip; i < n; ++i) {
      const std::size_t pos = i * kEntryChunk;
      std::string_view piece = line.substr(std::min(pos, line.size()), kEntryChunk);
      const bool last_entry = i + 1 == n;
      if (last_entry && terminated) {
        scratch.assign(piece);
        scratch += '\n';
        piece = scratch;
      }
      e.line = piece;
      if (partial) {
        e.ordinal = static_cast<int32_t>(i + 1);
        e.last = last_entry && terminated;
      }
      append_frame(out, e);
    }
  }

  // One line plus its newline, reused per ReadLogs thread (no allocation per line).
  static std::string& frame_scratch() {
    thread_local std::string scratch;
    return scratch;
  }

  const PluginOptions o_;
  SpoolOptions spool_opts_;   // its counters are the input's, made at start
  InputContext* ctx_ = nullptr;
  ComponentLog log_{PluginContext{PluginKind::kInput, "", "docker_plugin"}};   // named at start
  log::RateLimit frame_log_{5, std::chrono::seconds(10)};
  std::string root_;
  HttpServer server_;
  std::atomic<bool> stopped_{false};

  std::mutex containers_mu_;
  std::map<std::string, std::shared_ptr<Container>> containers_;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread fifo_thread_;
  std::atomic<bool> fifo_stop_{false};
  std::mutex cmd_mu_;
  std::deque<std::unique_ptr<Command>> commands_;
  std::unordered_map<std::string, std::unique_ptr<Fifo>> fifos_;   // fifo thread only
  std::string record_;                                            // fifo thread only

  std::atomic<uint64_t>* err_decode_ = nullptr;
  std::atomic<uint64_t>* err_oversize_ = nullptr;
  std::atomic<uint64_t>* err_truncated_ = nullptr;
  std::atomic<uint64_t>* lines_ = nullptr;
};

}  // namespace

const PluginInfo& docker_plugin_input() {
  static const PluginInfo info{
      PluginKind::kInput, "docker_plugin",
      "Docker log-driver plugin: reads containers' FIFOs, spools to disk, serves docker logs.",
      &schema_of<PluginOptions>, &bind_input<PluginOptions, DockerPluginInput>};
  return info;
}

}  // namespace logship::plugins
