#include "outputs/otlp/otlp_output.h"

#include <unistd.h>

#include <algorithm>
#include <optional>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "daemon/core/clock.h"
#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/metrics.h"

namespace logship::plugins {
namespace otlp {

namespace http = boost::beast::http;
using config::ByteSize;
using config::Millis;

const config::OptionSchema<OtlpOptions>& OtlpOptions::schema() {
  using S = config::OptionSchema<OtlpOptions>;
  static const auto s =
      S{}.add("endpoint", &OtlpOptions::endpoint,
              "Base URL of the OTLP/HTTP receiver (http:// or https://), e.g. a Collector's "
              "http://collector:4318.")
          .add("path", &OtlpOptions::path, "Request path appended to the endpoint.")
          .add("encoding", &OtlpOptions::encoding,
               "protobuf (application/x-protobuf, what every receiver takes) or json (OTLP/JSON).",
               config::one_of({"protobuf", "json"}))
          .add("compression", &OtlpOptions::compression, "Request body encoding.",
               config::one_of({"gzip", "none"}))
          .add("compression_level", &OtlpOptions::compression_level, "gzip level: 1 fastest.",
               config::in_range(1, 9))
          .add("headers", &OtlpOptions::headers,
               "Extra request headers (an API key: `Authorization: ${file:/run/secrets/otlp}`). "
               "Values are never logged.")
          .add("host_name", &OtlpOptions::host_name,
               "Resource attribute host.name; empty = the daemon's (service.host_name, else "
               "NODE_NAME, else the machine's host name).")
          .add("service_name_label", &OtlpOptions::service_name_label,
               "Container label that names service.name; without it (or the label) the compose "
               "service, else the container name.")
          .add("resource_labels", &OtlpOptions::resource_labels,
               "Globs of container labels sent as resource attributes container.label.<key>; "
               "[] sends none.")
          .add("severity_fields", &OtlpOptions::severity_fields,
               "Event fields holding the log level, in order of preference: the first present "
               "string becomes severity_text (and severity_number for the usual spellings and "
               "syslog's 0-7) and is not repeated as an attribute. [] = none.")
          .add("body", &OtlpOptions::body,
               "string: the message is the body, parsed fields are attributes. map: events with "
               "parsed fields get a map body ({message, fields...}, nested JSON as maps).",
               config::one_of({"string", "map"}))
          .add("max_in_flight", &OtlpOptions::max_in_flight,
               "Requests in flight at once (one connection each).", config::in_range(1, 64))
          .add("batch_max_events", &OtlpOptions::batch_max_events, "Most log records per request.",
               config::in_range(1, 1000000))
          .add("batch_max_bytes", &OtlpOptions::batch_max_bytes,
               "About the largest uncompressed request; larger deliveries are split.",
               config::at_least(ByteSize(1024), "1KiB"))
          .add("tls_ca_file", &OtlpOptions::tls_ca_file,
               "PEM CA bundle to verify the receiver with; empty = the system trust store.")
          .add("tls_cert_file", &OtlpOptions::tls_cert_file, "PEM client certificate (chain).")
          .add("tls_key_file", &OtlpOptions::tls_key_file, "PEM private key of the client certificate.")
          .add("tls_verify", &OtlpOptions::tls_verify,
               "Verify the receiver's certificate and host name. Turn off only for tests.")
          .add("timeout", &OtlpOptions::timeout, "Time to send a request and read its response.",
               config::at_least(Millis(100), "100ms"))
          .add("connect_timeout", &OtlpOptions::connect_timeout,
               "Time to connect (and TLS handshake).", config::at_least(Millis(100), "100ms"))
          .add("retries", &OtlpOptions::retries,
               "Resends of a request answered 429/502/503/504 before the delivery is handed back "
               "to the core's retry (which never gives up).",
               config::in_range(0, 1000))
          .add("retry_initial", &OtlpOptions::retry_initial,
               "First backoff when the server gives no Retry-After (doubles, with jitter).",
               config::at_least(Millis(1), "1ms"))
          .add("retry_max", &OtlpOptions::retry_max,
               "Longest wait between resends, Retry-After included.",
               config::at_least(Millis(1), "1ms"));
  return s;
}

std::string OtlpOptions::validate() const {
  es::HostUrl url;
  std::string err;
  if (!es::parse_host_url(endpoint, &url, &err)) return err;
  if (path.empty() || path.front() != '/') return "path must start with '/'";
  if (!tls_key_file.empty() && tls_cert_file.empty()) return "tls_key_file needs tls_cert_file";
  for (const auto& [k, v] : headers) {
    if (k.empty() || k.find_first_of(":\r\n ") != std::string::npos) {
      return "headers: invalid header name '" + k + "'";
    }
    if (v.find_first_of("\r\n") != std::string::npos) return "headers: a value holds a newline";
  }
  return "";
}

namespace {

EncoderOptions encoder_options(const OtlpOptions& o, const HostIdentity& host) {
  EncoderOptions e;
  e.json = o.encoding == "json";
  e.map_body = o.body == "map";
  e.host = host;
  e.service_name_label = o.service_name_label;
  e.resource_labels = o.resource_labels;
  e.severity_fields = o.severity_fields;
  return e;
}

std::string_view short_body(std::string_view b) {
  return b.substr(0, std::min<std::size_t>(b.size(), 300));
}

bool retriable_status(int s) { return s == 429 || s == 502 || s == 503 || s == 504; }

// Rough request size of an event, to cut requests before encoding them.
std::size_t estimate(const Event& e) { return e.message.size() + 48 + e.fields.size() * 32; }

}  // namespace

OtlpOutput::Sender::Sender(const OtlpOutput& out)
    : encoder(encoder_options(out.o_, out.host_)),
      conn(out.tls_.get(), out.o_.tls_verify, out.o_.connect_timeout, out.o_.timeout),
      gzip(static_cast<int>(out.o_.compression_level)),
      rng(std::random_device{}()) {}

OtlpOutput::OtlpOutput(const OtlpOptions& o) : o_(o) {
  std::string err;
  es::parse_host_url(o_.endpoint, &url_, &err);
  target_ = url_.path_prefix + o_.path;
}

OtlpOutput::~OtlpOutput() { stop(); }

Status OtlpOutput::start(OutputContext& ctx) {
  ctx_ = &ctx;
  name_ = ctx.name();
  host_ = process_host_identity();
  if (!o_.host_name.empty()) host_.name = o_.host_name;
  if (url_.tls || !o_.tls_ca_file.empty() || !o_.tls_cert_file.empty()) {
    es::TlsOptions t{o_.tls_ca_file, o_.tls_cert_file, o_.tls_key_file, o_.tls_verify};
    LOGSHIP_TRY(es::make_tls_context(t, &tls_));
  }
  if (!o_.tls_verify) log::warn("otlp", "TLS certificate verification is off", log::kv("output", name_));
  std::string labels = "output=";
  json::append_string(labels, name_);
  auto& m = Metrics::global();
  requests_ = &m.counter("logship_otlp_requests_total", labels, "OTLP export requests sent");
  request_bytes_ = &m.counter("logship_otlp_request_bytes_total", labels,
                              "OTLP request body bytes sent (after compression)");
  retries_ = &m.counter("logship_otlp_retries_total", labels,
                        "Requests resent after 429/502/503/504");
  rejected_ = &m.counter("logship_otlp_rejected_records_total", labels,
                         "Log records the receiver reported rejected in a partial success");
  splits_ = &m.counter("logship_otlp_request_splits_total", labels, "Requests split after a 413");
  for (int64_t i = 0; i < o_.max_in_flight; ++i) senders_.push_back(std::make_unique<Sender>(*this));
  for (auto& s : senders_) {
    Sender* sp = s.get();
    sp->thread = std::thread([this, sp] { sender_loop(*sp); });
  }
  return Status::ok();
}

void OtlpOutput::deliver(std::span<const SharedBatch> batches, DeliverDone done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      jobs_.push_back(Job{std::vector<SharedBatch>(batches.begin(), batches.end()), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(DeliveryResult::retry("output stopping"));
}

void OtlpOutput::stop() {
  std::deque<Job> left;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && senders_.empty()) return;
    stopping_ = true;
    left.swap(jobs_);
  }
  cv_.notify_all();
  stop_cv_.notify_all();
  for (auto& s : senders_) s->conn.abort();
  for (auto& s : senders_) {
    if (s->thread.joinable()) s->thread.join();
  }
  senders_.clear();
  for (auto& j : left) j.done(DeliveryResult::retry("output stopping"));
  std::lock_guard lock(settled_mu_);
  settled_.clear();
}

void OtlpOutput::sender_loop(Sender& s) {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    DeliveryResult r = run_job(s, job);
    job.done(std::move(r));
  }
}

bool OtlpOutput::sleep_unless_stopping(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, d, [&] { return stopping_; });
}

void OtlpOutput::log_problem(std::string_view what, std::string_view kv) {
  uint64_t suppressed = 0;
  if (problem_log_.allow(&suppressed)) {
    log::warn("otlp", what,
              log::kv("output", name_) + std::string(kv) +
                  log::kv("suppressed", static_cast<int64_t>(suppressed)));
  }
}

uint32_t OtlpOutput::settled(const Batch* b) {
  std::lock_guard lock(settled_mu_);
  auto it = settled_.find(b);
  return it == settled_.end() ? 0 : it->second.second;
}

void OtlpOutput::mark_settled(std::span<const Slice> slices) {
  std::lock_guard lock(settled_mu_);
  for (const Slice& sl : slices) {
    auto it = settled_.find(sl.batch);   // run_job() made an entry for every batch of the job
    if (it != settled_.end()) it->second.second = std::max(it->second.second, sl.end);
  }
}

void OtlpOutput::forget_settled(const Job& job) {
  std::lock_guard lock(settled_mu_);
  for (const auto& b : job.batches) settled_.erase(b.get());
}

DeliveryResult OtlpOutput::run_job(Sender& s, const Job& job) {
  {
    // Every batch gets an entry (0 when new) so that mark_settled() can record progress.
    std::lock_guard lock(settled_mu_);
    for (const auto& b : job.batches) settled_.try_emplace(b.get(), b, 0);
  }
  // Requests of at most batch_max_events records and about batch_max_bytes.
  std::vector<Slice> request;
  std::size_t events = 0, bytes = 0;
  auto flush = [&]() -> std::optional<DeliveryResult> {
    if (request.empty()) return std::nullopt;
    Sent r = send_slices(s, request);
    request.clear();
    events = bytes = 0;
    if (r.retry) return DeliveryResult::retry(std::move(r.reason));
    return std::nullopt;
  };
  for (const auto& b : job.batches) {
    const auto& evs = b->events();
    const auto n = static_cast<uint32_t>(evs.size());
    uint32_t begin = std::min(settled(b.get()), n);   // what an earlier attempt settled
    for (uint32_t i = begin; i < n; ++i) {
      const std::size_t sz = estimate(evs[i]);
      if (events > 0 && (events >= static_cast<std::size_t>(o_.batch_max_events) ||
                         bytes + sz > o_.batch_max_bytes.bytes)) {
        if (i > begin) request.push_back(Slice{b.get(), begin, i});
        begin = i;
        if (auto r = flush()) return std::move(*r);
      }
      ++events;
      bytes += sz;
    }
    if (n > begin) request.push_back(Slice{b.get(), begin, n});
  }
  if (auto r = flush()) return std::move(*r);
  forget_settled(job);
  return DeliveryResult::delivered();
}

es::HttpResult OtlpOutput::post(Sender& s, std::string_view payload) {
  http::request<http::string_body> req;
  req.method(http::verb::post);
  req.version(11);
  req.keep_alive(true);
  req.target(target_);
  req.set(http::field::host, url_.host_header);
  req.set(http::field::content_type,
          o_.encoding == "json" ? "application/json" : "application/x-protobuf");
  req.set(http::field::user_agent, "logship/" LOGSHIP_VERSION);
  for (const auto& [k, v] : o_.headers) req.set(k, v);
  if (o_.compression == "gzip") {
    req.set(http::field::content_encoding, "gzip");
    if (!s.gzip.compress(payload, &req.body())) {
      es::HttpResult r;
      r.kind = es::HttpResult::Kind::kIoFailed;
      r.error = "gzip failed";
      return r;
    }
  } else {
    req.body().assign(payload);
  }
  req.prepare_payload();
  const uint64_t body_bytes = req.body().size();
  es::HttpResult r = s.conn.send(url_, req);
  if (r.kind == es::HttpResult::Kind::kOk) {
    requests_->fetch_add(1, std::memory_order_relaxed);
    request_bytes_->fetch_add(body_bytes, std::memory_order_relaxed);
  }
  return r;
}

Status OtlpOutput::dead_letter(std::span<const Slice> slices, PermanentError why,
                               std::string_view detail) {
  for (const Slice& sl : slices) {
    const auto& evs = sl.batch->events();
    for (uint32_t i = sl.begin; i < sl.end; ++i) {
      LOGSHIP_TRY(ctx_->dead_letter(evs[i], sl.batch->source(), why, detail));
    }
  }
  return Status::ok();
}

OtlpOutput::Sent OtlpOutput::send_slices(Sender& s, std::span<const Slice> slices) {
  std::size_t records = 0;
  for (const Slice& sl : slices) records += sl.end - sl.begin;
  for (int64_t attempt = 0;; ++attempt) {
    s.encoder.encode(slices, s.body);
    es::HttpResult r = post(s, s.body);
    if (r.kind != es::HttpResult::Kind::kOk) {
      if (r.kind != es::HttpResult::Kind::kAborted) {
        log_problem("cannot reach the receiver", log::kv("error", r.error));
      }
      return {true, r.error};
    }
    if (r.status >= 200 && r.status < 300) {
      int64_t rejected = 0;
      std::string message;
      const bool readable = o_.encoding == "json" ? parse_json_partial_success(r.body, &rejected, &message)
                                                  : parse_partial_success(r.body, &rejected, &message);
      if (!readable) {
        // The records were accepted (2xx); only the details of a partial success could be lost.
        log_problem("unreadable export response; taken as accepted",
                    log::kv("body_bytes", static_cast<int64_t>(r.body.size())));
      }
      if (rejected > 0) {
        const auto n = static_cast<std::size_t>(std::min<int64_t>(rejected, static_cast<int64_t>(records)));
        rejected_->fetch_add(n, std::memory_order_relaxed);
        log_problem("receiver rejected part of a request; dead-lettered",
                    log::kv("rejected", static_cast<int64_t>(n)) +
                        log::kv("records", static_cast<int64_t>(records)) + log::kv("message", message));
        // OTLP does not say which records: the request's last n (see the header).
        std::vector<Slice> tail;
        std::size_t skip = records - n;
        for (const Slice& sl : slices) {
          const std::size_t len = sl.end - sl.begin;
          if (skip >= len) {
            skip -= len;
            continue;
          }
          tail.push_back(Slice{sl.batch, static_cast<uint32_t>(sl.begin + skip), sl.end});
          skip = 0;
        }
        const std::string detail = "partial success: " + std::to_string(rejected) + " of " +
                                   std::to_string(records) + " records rejected: " + message;
        if (Status dl = dead_letter(tail, PermanentError::kRejected, detail); !dl.is_ok()) {
          return {true, dl.message()};
        }
      } else if (!message.empty()) {
        log_problem("receiver accepted the request with a warning", log::kv("message", message));
      }
      mark_settled(slices);
      return {};
    }
    const std::string why = "HTTP " + std::to_string(r.status) + ": " + std::string(short_body(r.body));
    if (r.status == 413) {
      if (records == 1) {
        Status dl = dead_letter(slices, PermanentError::kTooLarge,
                                "request too large for the receiver (413) even as one record");
        if (!dl.is_ok()) return {true, dl.message()};
        mark_settled(slices);
        return {};
      }
      splits_->fetch_add(1, std::memory_order_relaxed);
      // Halves by records: copy the slices, cutting the one that holds the middle record.
      std::vector<Slice> first, second;
      std::size_t seen = 0;
      for (const Slice& sl : slices) {
        const std::size_t len = sl.end - sl.begin;
        if (seen + len <= records / 2) {
          first.push_back(sl);
        } else if (seen >= records / 2) {
          second.push_back(sl);
        } else {
          const auto cut = static_cast<uint32_t>(sl.begin + (records / 2 - seen));
          first.push_back(Slice{sl.batch, sl.begin, cut});
          second.push_back(Slice{sl.batch, cut, sl.end});
        }
        seen += len;
      }
      Sent a = send_slices(s, first);
      if (a.retry) return a;
      return send_slices(s, second);
    }
    if (r.status == 400) {
      // The receiver can never take this request (OTLP: 400 is not retryable): keep its
      // records in the dead-letter file, and go on.
      log_problem("receiver refused the request as malformed; records dead-lettered",
                  log::kv("status", r.status) + log::kv("body", short_body(r.body)));
      if (Status dl = dead_letter(slices, PermanentError::kRejected, why); !dl.is_ok()) {
        return {true, dl.message()};
      }
      mark_settled(slices);
      return {};
    }
    if (!retriable_status(r.status)) {
      if (r.status == 401 || r.status == 403) {
        log::error("otlp", "authentication or authorization failed; check the headers",
                   log::kv("output", name_) + log::kv("status", r.status));
      } else {
        log_problem("export failed", log::kv("status", r.status) + log::kv("body", short_body(r.body)));
      }
      return {true, why};
    }
    if (attempt >= o_.retries) return {true, why};
    retries_->fetch_add(1, std::memory_order_relaxed);
    int64_t wait_ms;
    if (r.retry_after_seconds >= 0) {
      wait_ms = std::min<int64_t>(r.retry_after_seconds * 1000, o_.retry_max.count());
    } else {
      const int64_t base =
          std::min<int64_t>(o_.retry_initial.count() << std::min<int64_t>(attempt, 20), o_.retry_max.count());
      wait_ms = base / 2 + static_cast<int64_t>(s.rng() % static_cast<uint64_t>(base / 2 + 1));
    }
    log_problem("receiver busy; resending", log::kv("status", r.status) + log::kv("wait_ms", wait_ms));
    if (!sleep_unless_stopping(std::chrono::milliseconds(wait_ms))) return {true, "output stopping"};
  }
}

}  // namespace otlp
const PluginInfo& otlp_output() {
  static const PluginInfo info{
      PluginKind::kOutput, "otlp",
      "OpenTelemetry OTLP/HTTP logs (protobuf or JSON) to a Collector or any OTLP backend.",
      &schema_of<otlp::OtlpOptions>, nullptr, nullptr, &bind_output<otlp::OtlpOptions, otlp::OtlpOutput>};
  return info;
}

}  // namespace logship::plugins
