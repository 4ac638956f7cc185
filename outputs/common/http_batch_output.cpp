#include "outputs/common/http_batch_output.h"

#include <algorithm>
#include <optional>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "daemon/core/json_writer.h"
#include "daemon/runtime/component_metrics.h"

namespace logship::plugins::httpbatch {

namespace http = boost::beast::http;

std::string_view short_body(std::string_view b) {
  return b.substr(0, std::min<std::size_t>(b.size(), 300));
}

HttpBatchOutput::Sender::Sender(const HttpBatchOutput& out, std::unique_ptr<RequestEncoder> enc)
    : encoder(std::move(enc)),
      conn(out.tls_.get(), out.s_.tls_verify, out.s_.connect_timeout, out.s_.timeout),
      gzip(out.s_.gzip_level),
      backoff(out.s_.retry_initial, out.s_.retry_max) {}

HttpBatchOutput::HttpBatchOutput(Settings s) : s_(std::move(s)) {
  // Validated with the options.
  if (Result<es::HostUrl> url = es::parse_host_url(s_.endpoint); url.is_ok()) {
    url_ = std::move(url).value();
  }
  target_ = url_.path_prefix + s_.path;
}

HttpBatchOutput::~HttpBatchOutput() { stop(); }

Status HttpBatchOutput::start(OutputContext& ctx) {
  ctx_ = &ctx;
  name_ = ctx.name();
  const PluginContext plugin{PluginKind::kOutput, name_, s_.component};
  log_ = ComponentLog(plugin);
  if (url_.tls || !s_.tls_ca_file.empty() || !s_.tls_cert_file.empty()) {
    es::TlsOptions t{s_.tls_ca_file, s_.tls_cert_file, s_.tls_key_file, s_.tls_verify};
    LOGSHIP_TRY(es::make_tls_context(t, &tls_));
  }
  if (!s_.tls_verify) {
    log_.warn("TLS certificate verification is off");
  }
  const ComponentMetrics metrics(plugin);
  const std::string p = "logship_" + s_.component + "_";
  requests_ = &metrics.counter(p + "requests_total", "Requests sent");
  request_bytes_ = &metrics.counter(p + "request_bytes_total",
      "Request body bytes sent (after compression)");
  resends_ = &metrics.counter(p + "retries_total",
      "Requests resent after a busy answer (429, 503 ...)");
  rejected_ = &metrics.counter(p + "rejected_records_total",
      "Records the receiver reported refused in an accepted request (dead-lettered)");
  splits_ = &metrics.counter(p + "request_splits_total", "Requests split after a 413");
  for (int64_t i = 0; i < s_.max_in_flight; ++i) {
    senders_.push_back(std::make_unique<Sender>(*this, make_encoder()));
  }
  for (auto& s : senders_) {
    Sender* sp = s.get();
    sp->thread = std::thread([this, sp] { sender_loop(*sp); });
  }
  return Status::ok();
}

void HttpBatchOutput::deliver(std::span<const SharedBatch> batches, DeliverDone done) {
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

void HttpBatchOutput::stop() {
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

void HttpBatchOutput::sender_loop(Sender& s) {
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

bool HttpBatchOutput::sleep_unless_stopping(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, d, [&] { return stopping_; });
}

void HttpBatchOutput::log_problem(std::string_view what, std::string_view kv) {
  log_.warn(problem_log_, what, kv);
}

uint32_t HttpBatchOutput::settled(const Batch* b) {
  std::lock_guard lock(settled_mu_);
  auto it = settled_.find(b);
  return it == settled_.end() ? 0 : it->second.second;
}

void HttpBatchOutput::mark_settled(std::span<const Slice> slices) {
  std::lock_guard lock(settled_mu_);
  for (const Slice& sl : slices) {
    auto it = settled_.find(sl.batch);   // run_job() made an entry for every batch of the job
    if (it != settled_.end()) it->second.second = std::max(it->second.second, sl.end);
  }
}

void HttpBatchOutput::forget_settled(const Job& job) {
  std::lock_guard lock(settled_mu_);
  for (const auto& b : job.batches) settled_.erase(b.get());
}

DeliveryResult HttpBatchOutput::run_job(Sender& s, const Job& job) {
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
      if (events > 0 && (events >= static_cast<std::size_t>(s_.batch_max_events) ||
                         bytes + sz > s_.batch_max_bytes)) {
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

es::HttpResult HttpBatchOutput::post(Sender& s, std::string_view payload) {
  http::request<http::string_body> req;
  req.method(s_.put ? http::verb::put : http::verb::post);
  req.version(11);
  req.keep_alive(true);
  req.target(target_);
  req.set(http::field::host, url_.host_header);
  req.set(http::field::content_type, s_.content_type);
  req.set(http::field::user_agent, "logship/" LOGSHIP_VERSION);
  for (const auto& [k, v] : s_.headers) req.set(k, v);
  if (s_.gzip) {
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

Status HttpBatchOutput::dead_letter(std::span<const Slice> slices, PermanentError why,
                                    std::string_view detail) {
  for (const Slice& sl : slices) {
    const auto& evs = sl.batch->events();
    for (uint32_t i = sl.begin; i < sl.end; ++i) {
      LOGSHIP_TRY(ctx_->dead_letter(evs[i], sl.batch->source(), why, detail));
    }
  }
  return Status::ok();
}

// The request's records before `index`, the one at it, and those after it.
static void cut_at(std::span<const Slice> slices, std::size_t index, std::vector<Slice>* before,
                   Slice* at, std::vector<Slice>* after) {
  std::size_t seen = 0;
  for (const Slice& sl : slices) {
    const std::size_t len = sl.end - sl.begin;
    if (seen + len <= index) {
      before->push_back(sl);
    } else if (seen > index) {
      after->push_back(sl);
    } else {
      const auto i = static_cast<uint32_t>(sl.begin + (index - seen));
      if (i > sl.begin) before->push_back(Slice{sl.batch, sl.begin, i});
      *at = Slice{sl.batch, i, i + 1};
      if (i + 1 < sl.end) after->push_back(Slice{sl.batch, i + 1, sl.end});
    }
    seen += len;
  }
}

// In this order, so that what is settled of each batch is always a prefix of it: the records
// before the refused one (a request of their own), the refused one (dead-lettered), the rest.
HttpBatchOutput::Sent HttpBatchOutput::dead_letter_one(Sender& s, std::span<const Slice> slices,
                                                        std::size_t index, PermanentError why,
                                                        const std::string& detail) {
  std::vector<Slice> before, after;
  Slice at{};
  cut_at(slices, index, &before, &at, &after);
  if (!before.empty()) {
    Sent r = send_slices(s, before);
    if (r.retry) return r;
  }
  if (Status dl = dead_letter({&at, 1}, why, detail); !dl.is_ok()) return {true, dl.message()};
  mark_settled({&at, 1});
  if (after.empty()) return {};
  return send_slices(s, after);
}

HttpBatchOutput::Sent HttpBatchOutput::send_slices(Sender& s, std::span<const Slice> slices) {
  std::size_t records = 0;
  for (const Slice& sl : slices) records += sl.end - sl.begin;
  for (int64_t attempt = 0;; ++attempt) {
    s.encoder->encode(slices, s.body);
    es::HttpResult r = post(s, s.body);
    if (r.kind != es::HttpResult::Kind::kOk) {
      if (r.kind != es::HttpResult::Kind::kAborted) {
        log_problem("cannot reach the receiver", log::kv("error", r.error));
      }
      return {true, r.error};
    }
    Verdict v = judge(r, records);
    switch (v.kind) {
      case Verdict::Kind::kAccepted: {
        if (v.rejected > 0) {
          // The protocol does not say which records: the request's last ones (see the header).
          const std::size_t n = std::min(v.rejected, records);
          rejected_->fetch_add(n, std::memory_order_relaxed);
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
          if (Status dl = dead_letter(tail, PermanentError::kRejected, v.detail); !dl.is_ok()) {
            return {true, dl.message()};
          }
        }
        mark_settled(slices);
        return {};
      }
      case Verdict::Kind::kDeadLetter: {
        if (v.only_record && *v.only_record < records) {
          return dead_letter_one(s, slices, *v.only_record, v.error, v.detail);
        }
        if (Status dl = dead_letter(slices, v.error, v.detail); !dl.is_ok()) return {true, dl.message()};
        mark_settled(slices);
        return {};
      }
      case Verdict::Kind::kSplit: {
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
      case Verdict::Kind::kRetry:
        return {true, std::move(v.detail)};
      case Verdict::Kind::kResend:
        break;
    }
    if (attempt >= s_.retries) return {true, std::move(v.detail)};
    resends_->fetch_add(1, std::memory_order_relaxed);
    int64_t wait_ms;
    if (r.retry_after_seconds >= 0) {
      wait_ms = std::min<int64_t>(r.retry_after_seconds * 1000, s_.retry_max.count());
    } else {
      wait_ms = s.backoff.next(static_cast<uint32_t>(attempt)).count();
    }
    log_problem("receiver busy; resending", log::kv("status", r.status) + log::kv("wait_ms", wait_ms));
    if (!sleep_unless_stopping(std::chrono::milliseconds(wait_ms))) return {true, "output stopping"};
  }
}

}  // namespace logship::plugins::httpbatch
