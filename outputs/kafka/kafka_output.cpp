// Produces events to Kafka through librdkafka. A delivery is acknowledged only by delivery
// reports: every event of the delivery's batches is produced with an opaque that points back to
// the delivery, and `done` runs once the last report arrived. QUEUE_FULL is backpressure: the
// rest of the delivery waits (the poller thread resumes it as reports free room); nothing is
// dropped. Permanent per-message errors dead-letter that record; anything else fails the whole
// delivery back to the pipeline, which retries it (duplicates possible, loss not).
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "daemon/core/host_identity.h"
#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/memory_budget.h"
#include "daemon/runtime/component_metrics.h"
#include "daemon/core/field_template.h"
#include "outputs/common/document_encoder.h"
#include "outputs/kafka/kafka_conf.h"

namespace logship::plugins {
namespace {

uint64_t mix64(uint64_t x) {
  // splitmix64 finalizer: spreads consecutive offsets over the whole key space.
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// Errors that no retry can fix for this one message: it goes to the dead-letter file.
// Errors no retry can heal for that message: it is dead-lettered and the others go on.
std::optional<PermanentError> permanent_message_error(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return PermanentError::kTooLarge;
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
      return PermanentError::kRejected;
    default:
      return std::nullopt;
  }
}

struct Delivery;

// The opaque of one produced message.
struct MsgRef {
  Delivery* delivery;
  const Event* event;
  const SourceInfo* source;
  uint32_t charged = 0;   // bytes of librdkafka's copy charged to the memory budget
};

// What librdkafka keeps per queued message besides its payload, key and headers (the message
// struct, its header list, the partition queue link): an estimate, the library does not say.
constexpr uint32_t kQueuedMessageOverhead = 256;

struct Delivery {
  std::vector<SharedBatch> batches;   // keeps events alive for dead-lettering from reports
  std::vector<MsgRef> msgs;
  DeliverDone done;
  // One guard reference held while producing, plus one per message awaiting its report.
  std::atomic<int64_t> pending{1};
  std::size_t next = 0;               // first message not produced yet (under produce_mu_)
  std::mutex mu;
  bool retry = false;
  std::string reason;

  void fail(std::string_view why) {
    std::lock_guard lock(mu);
    if (!retry) {
      retry = true;
      reason = std::string(why);
    }
  }
};

class KafkaOutput final : public Output {
 public:
  explicit KafkaOutput(const KafkaOptions& o)
      : o_(o), topic_template_(o.topic), raw_(o.format == KafkaFormat::kRaw) {
    for (const auto& [header, field] : o_.headers) headers_.emplace_back(header, field);
  }

  ~KafkaOutput() override { shutdown(); }

  Status start(OutputContext& ctx) override {
    ctx_ = &ctx;
    const PluginContext plugin{PluginKind::kOutput, ctx.name(), "kafka"};
    log_ = ComponentLog(plugin);
    document_.emplace(o_, process_host_identity());
    const ComponentMetrics metrics(plugin);
    queue_full_ = &metrics.counter("logship_kafka_queue_full_total",
        "Produce calls refused because librdkafka's queue was full");
    acked_ = &metrics.counter("logship_kafka_messages_acked_total",
        "Messages confirmed by a delivery report");
    failed_ = &metrics.counter("logship_kafka_messages_failed_total",
        "Messages whose delivery report carried a retriable error");
    rejected_ = &metrics.counter("logship_kafka_messages_dead_lettered_total",
        "Messages dead-lettered for a permanent error");
    LOGSHIP_TRY(create_handle());
    poller_ = std::thread([this] { poll_loop(); });
    return Status::ok();
  }

  int max_in_flight() const override { return static_cast<int>(o_.max_in_flight); }

  void deliver(std::span<const SharedBatch> batches, DeliverDone done) override {
    auto* d = new Delivery;
    d->done = std::move(done);
    d->batches.assign(batches.begin(), batches.end());
    std::size_t n = 0;
    for (const auto& b : batches) n += b->size();
    d->msgs.reserve(n);
    for (const auto& b : batches) {
      for (const Event& e : b->events()) d->msgs.push_back(MsgRef{d, &e, &b->source()});
    }
    {
      std::lock_guard lock(live_mu_);
      live_.insert(d);
    }
    if (fatal_.load()) {
      d->fail("producer hit a fatal error; it is being recreated");
      release(d);
      return;
    }
    bool finished = false;
    {
      std::lock_guard lock(produce_mu_);
      // A source seen before may be gone and its address reused by this delivery's batches.
      encoded_for_ = nullptr;
      if (blocked_.empty()) finished = produce_from(*d);
      if (!finished) {
        blocked_.push_back(d);
        has_blocked_.store(true);
      }
    }
    if (finished) release(d);
  }

  void tick(TimePoint now) override {
    // A fatal error (idempotence state lost) kills the handle; once every delivery on it has
    // reported, replace it so the retried deliveries go out on a fresh producer.
    if (fatal_.load() && live_count() == 0) {
      log_.warn("recreating the producer after a fatal error");
      stop_poller();
      destroy_handle();
      Status s = create_handle();
      if (!s.is_ok()) {
        log_.error("cannot recreate the producer", log::kv("error", s.message()));
        return;
      }
      fatal_.store(false);
      poller_stop_.store(false);
      poller_ = std::thread([this] { poll_loop(); });
    }
  }

  void stop() override { shutdown(); }

 private:
  Status create_handle() {
    Result<KafkaConf> made = make_kafka_conf(o_);
    if (!made.is_ok()) return made.status();
    rd_kafka_conf_t* conf = made.value().get();
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, &KafkaOutput::on_report);
    rd_kafka_conf_set_error_cb(conf, &KafkaOutput::on_error);
    rd_kafka_conf_set_log_cb(conf, &KafkaOutput::on_log);
    char err[512];
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk_ == nullptr) {
      return Status::invalid(std::string("cannot create the Kafka producer: ") + err);
    }
    made.value().release();   // rd_kafka_new owns it now
    return Status::ok();
  }

  // Produces d's messages from d.next on. True when d needs no more producing (all produced,
  // or given up after an error); false when librdkafka's queue is full. Under produce_mu_.
  bool produce_from(Delivery& d) {
    // The copies produced here are charged once, however this returns.
    struct ChargeProduced {
      KafkaOutput* self;
      int64_t bytes = 0;
      ~ChargeProduced() { self->charge_queue(bytes); }
    } produced{this};
    for (; d.next < d.msgs.size(); ++d.next) {
      MsgRef& ref = d.msgs[d.next];
      const Event& e = *ref.event;
      const SourceInfo& src = *ref.source;
      rd_kafka_topic_t* rkt = topic_for(e, src);
      if (rkt == nullptr) {
        d.fail("cannot create topic handle " + topic_name_);
        return true;
      }
      std::string_view value;
      if (raw_) {
        value = e.message;
      } else {
        value_buf_.clear();
        if (&src != encoded_for_) {   // events of one batch share their source: encode it once
          document_->begin_source(src);
          encoded_for_ = &src;
        }
        document_->append(value_buf_, e);
        value = value_buf_;
      }
      rd_kafka_vu_t vu[8 + kMaxHeaders];
      std::size_t n = 0;
      vu[n].vtype = RD_KAFKA_VTYPE_RKT;
      vu[n++].u.rkt = rkt;
      vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
      vu[n].u.mem.ptr = const_cast<char*>(value.data());
      vu[n++].u.mem.size = value.size();
      vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
      vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
      vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
      vu[n++].u.ptr = &ref;
      if (e.time_ns > 0) {
        vu[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
        vu[n++].u.i64 = e.time_ns / 1000000;
      }
      std::string_view key = key_for(e, src);
      if (!key.empty()) {
        vu[n].vtype = RD_KAFKA_VTYPE_KEY;
        vu[n].u.mem.ptr = const_cast<char*>(key.data());
        vu[n++].u.mem.size = key.size();
      }
      std::size_t h = 0;
      std::size_t copied = value.size() + key.size() + kQueuedMessageOverhead;
      for (const auto& [header, field] : headers_) {
        if (h == kMaxHeaders) break;
        std::string_view v;
        if (!lookup(e, src, field, &header_scratch_[h], &v)) continue;
        vu[n].vtype = RD_KAFKA_VTYPE_HEADER;
        vu[n].u.header.name = header.c_str();
        vu[n].u.header.val = v.data();
        vu[n++].u.header.size = static_cast<ssize_t>(v.size());
        copied += header.size() + v.size();
        ++h;
      }
      ref.charged = static_cast<uint32_t>(std::min<std::size_t>(copied, UINT32_MAX));
      d.pending.fetch_add(1, std::memory_order_relaxed);
      rd_kafka_error_t* error = rd_kafka_produceva(rk_, vu, n);
      if (error == nullptr) {
        produced.bytes += ref.charged;
        continue;
      }
      ref.charged = 0;
      d.pending.fetch_sub(1, std::memory_order_relaxed);
      const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
      const std::string why = rd_kafka_error_string(error);
      rd_kafka_error_destroy(error);
      if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        queue_full_->fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      if (auto kind = permanent_message_error(code)) {
        Status dl = ctx_->dead_letter(e, src, *kind, "kafka: " + why);
        if (dl.is_ok()) {
          rejected_->fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        d.fail(dl.message());
        return true;
      }
      if (code == RD_KAFKA_RESP_ERR__FATAL) fatal_.store(true);
      log_failure("produce failed", why);
      d.fail("kafka produce: " + why);
      return true;
    }
    return true;
  }

  rd_kafka_topic_t* topic_for(const Event& e, const SourceInfo& src) {
    // Rendering is cheap; the handle lookup is skipped while the name repeats.
    render_buf_.clear();
    topic_template_.render(e, src, &render_buf_);
    if (last_topic_ != nullptr && render_buf_ == topic_name_) return last_topic_;
    topic_name_ = render_buf_;
    auto it = topics_.find(topic_name_);
    if (it == topics_.end()) {
      rd_kafka_topic_t* t = rd_kafka_topic_new(rk_, topic_name_.c_str(), nullptr);
      if (t == nullptr) return last_topic_ = nullptr;
      it = topics_.emplace(topic_name_, t).first;
    }
    return last_topic_ = it->second;
  }

  std::string_view key_for(const Event& e, const SourceInfo& src) {
    if (o_.key == KafkaKey::kNone) return {};
    if (o_.key == KafkaKey::kEventId) {
      const uint64_t id = mix64(fnv1a64(src.key) ^ mix64(e.offset));
      static constexpr char kHex[] = "0123456789abcdef";
      for (int i = 0; i < 16; ++i) key_buf_[i] = kHex[(id >> (60 - 4 * i)) & 0xf];
      return std::string_view(key_buf_, 16);
    }
    std::string_view v;
    if (!lookup(e, src, o_.key_field, &key_scratch_, &v)) return {};
    return v;
  }

  // A tag, event field, or the event's stream / input name, as text.
  static bool lookup(const Event& e, const SourceInfo& src, std::string_view name,
                     std::string* scratch, std::string_view* out) {
    if (const Tag* t = src.find(name)) {
      *out = t->value;
      return true;
    }
    if (const Field* f = e.find(name)) {
      switch (f->value.type) {
        case ValueType::kString:
        case ValueType::kRawJson:
          *out = f->value.s;
          return true;
        case ValueType::kNull:
          return false;
        default:
          scratch->clear();
          json::append_value(*scratch, f->value);
          *out = *scratch;
          return true;
      }
    }
    if (name == "stream" && e.stream != Stream::kNone) {
      *out = stream_name(e.stream);
      return true;
    }
    if (name == "input") {
      *out = src.input;
      return true;
    }
    return false;
  }

  static void on_report(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<KafkaOutput*>(opaque);
    auto* ref = static_cast<MsgRef*>(m->_private);
    if (ref == nullptr) return;
    // librdkafka frees its copy after this report; released in bulk by whoever polls.
    self->reported_bytes_.fetch_add(ref->charged, std::memory_order_relaxed);
    Delivery* d = ref->delivery;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      self->acked_->fetch_add(1, std::memory_order_relaxed);
    } else if (auto kind = permanent_message_error(m->err)) {
      Status dl = self->ctx_->dead_letter(*ref->event, *ref->source, *kind,
                                          std::string("kafka: ") + rd_kafka_err2str(m->err));
      if (dl.is_ok()) {
        self->rejected_->fetch_add(1, std::memory_order_relaxed);
      } else {
        d->fail(dl.message());   // not written anywhere: the delivery is retried
      }
    } else {
      self->failed_->fetch_add(1, std::memory_order_relaxed);
      if (m->err == RD_KAFKA_RESP_ERR__FATAL) self->fatal_.store(true);
      d->fail(std::string("kafka: ") + rd_kafka_err2str(m->err));
    }
    self->release(d);
  }

  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<KafkaOutput*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
      self->fatal_.store(true);
      self->log_.error("fatal producer error; outstanding deliveries will be retried",
                       log::kv("error", rd_kafka_err2name(orig)) + log::kv("reason", buf));
      return;
    }
    const char* what = err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN
                           ? "no Kafka broker reachable; deliveries wait and retry"
                           : "kafka client error";
    self->log_failure(what, std::string(rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))) +
                                ": " + reason);
  }

  static void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
    auto* self = static_cast<KafkaOutput*>(rd_kafka_opaque(rk));
    if (level > 4) return;   // syslog levels: only warnings and worse
    self->log_.warn(self->lib_log_, buf, log::kv("facility", fac));
  }

  void log_failure(std::string_view what, const std::string& why) {
    log_.error(error_log_, what, log::kv("error", why));
  }

  // Drops one reference; the last one completes the delivery.
  void release(Delivery* d) {
    if (d->pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    {
      std::lock_guard lock(live_mu_);
      live_.erase(d);
    }
    DeliveryResult r = d->retry ? DeliveryResult::retry(d->reason) : DeliveryResult::delivered();
    d->done(std::move(r));
    delete d;
  }

  std::size_t live_count() {
    std::lock_guard lock(live_mu_);
    return live_.size();
  }

  void poll_loop() {
    while (!poller_stop_.load()) {
      const bool blocked = has_blocked_.load();
      rd_kafka_poll(rk_, blocked ? 10 : 100);
      charge_reports();
      if (blocked) resume_blocked();
    }
  }

  void resume_blocked() {
    std::vector<Delivery*> finished;
    {
      std::lock_guard lock(produce_mu_);
      while (!blocked_.empty()) {
        Delivery* d = blocked_.front();
        if (!produce_from(*d)) break;
        finished.push_back(d);
        blocked_.pop_front();
      }
      has_blocked_.store(!blocked_.empty());
    }
    for (Delivery* d : finished) release(d);
  }

  void stop_poller() {
    poller_stop_.store(true);
    if (poller_.joinable()) poller_.join();
  }

  void destroy_handle() {
    if (rk_ == nullptr) return;
    for (auto& [name, t] : topics_) rd_kafka_topic_destroy(t);
    topics_.clear();
    last_topic_ = nullptr;
    topic_name_.clear();
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
    // The handle's queue is gone, reported or not.
    charge_reports();
    charge_queue(-queue_charged_.load(std::memory_order_relaxed));
  }

  void charge_queue(int64_t delta) {
    if (delta == 0) return;
    queue_charged_.fetch_add(delta, std::memory_order_relaxed);
    MemoryBudget::global().charge(MemoryPart::kKafkaQueue, delta);
  }
  void charge_reports() { charge_queue(-reported_bytes_.exchange(0, std::memory_order_relaxed)); }

  // Waits up to flush_timeout for reports; what is unconfirmed then is purged and its
  // deliveries complete with retry, so it stays un-acked and is re-read after a restart.
  void shutdown() {
    if (rk_ == nullptr) return;
    stop_poller();
    std::vector<Delivery*> abandoned;
    {
      std::lock_guard lock(produce_mu_);
      for (Delivery* d : blocked_) {
        d->fail("stopped before the whole delivery was produced");
        abandoned.push_back(d);
      }
      blocked_.clear();
      has_blocked_.store(false);
    }
    for (Delivery* d : abandoned) release(d);
    const auto deadline = SteadyClock::now() + o_.flush_timeout;
    rd_kafka_flush(rk_, static_cast<int>(o_.flush_timeout.count()));
    if (rd_kafka_outq_len(rk_) > 0) {
      log_.warn("stop: unconfirmed messages stay un-acked and will be sent again",
                log::kv("messages", static_cast<int64_t>(rd_kafka_outq_len(rk_))));
      rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      // Purged messages report (with a purge error) only when polled.
      const auto purge_deadline = std::max(deadline, SteadyClock::now()) +
                                  std::chrono::milliseconds(1000);
      while (live_count() > 0 && SteadyClock::now() < purge_deadline) rd_kafka_poll(rk_, 50);
    }
    charge_reports();
    destroy_handle();
    // Nothing can report any more; whatever is still open was never confirmed.
    std::vector<Delivery*> left;
    {
      std::lock_guard lock(live_mu_);
      left.assign(live_.begin(), live_.end());
      live_.clear();
    }
    for (Delivery* d : left) {
      d->done(DeliveryResult::retry("stopped before Kafka confirmed the delivery"));
      delete d;
    }
  }

  static constexpr std::size_t kMaxHeaders = KafkaOptions::kMaxHeaders;

  const KafkaOptions o_;
  const FieldTemplate topic_template_;
  const bool raw_;
  std::vector<std::pair<std::string, std::string>> headers_;
  OutputContext* ctx_ = nullptr;
  rd_kafka_t* rk_ = nullptr;

  std::thread poller_;
  std::atomic<bool> poller_stop_{false};
  std::atomic<bool> fatal_{false};

  // Producing state: used by deliver() on the runner thread and by the poller when resuming.
  std::mutex produce_mu_;
  std::deque<Delivery*> blocked_;
  std::atomic<bool> has_blocked_{false};
  std::unordered_map<std::string, rd_kafka_topic_t*> topics_;
  rd_kafka_topic_t* last_topic_ = nullptr;
  std::string topic_name_;
  std::string render_buf_;
  std::string value_buf_;
  std::optional<doc::DocumentEncoder> document_;   // made in start(): it needs the host
  const SourceInfo* encoded_for_ = nullptr;
  std::string key_scratch_;
  std::string header_scratch_[kMaxHeaders];
  char key_buf_[16];

  std::mutex live_mu_;
  std::unordered_set<Delivery*> live_;

  // librdkafka's copies of produced messages in the memory budget (kafka_queue): charged when
  // produced, released as their reports are polled.
  std::atomic<int64_t> queue_charged_{0};
  std::atomic<int64_t> reported_bytes_{0};   // reported since the last charge_reports()

  ComponentLog log_{PluginContext{PluginKind::kOutput, "", "kafka"}};   // named at start
  log::RateLimit error_log_{5, std::chrono::seconds(10)};
  log::RateLimit lib_log_{5, std::chrono::seconds(10)};
  std::atomic<uint64_t>* queue_full_ = nullptr;
  std::atomic<uint64_t>* acked_ = nullptr;
  std::atomic<uint64_t>* failed_ = nullptr;
  std::atomic<uint64_t>* rejected_ = nullptr;
};

}  // namespace

const PluginInfo& kafka_output() {
  static const PluginInfo info{
      PluginKind::kOutput, "kafka",
      "Apache Kafka via librdkafka: templated topics, keys, headers, acks from delivery reports.",
      &schema_of<KafkaOptions>, nullptr, nullptr, &bind_output<KafkaOptions, KafkaOutput>};
  return info;
}

}  // namespace logship::plugins
