#include "outputs/elasticsearch/es_output.h"

#include <algorithm>
#include <ctime>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "daemon/core/safe_file.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/component_metrics.h"
#include "outputs/elasticsearch/index_template.h"

namespace logship::plugins {
namespace es {

namespace http = boost::beast::http;
using config::ByteSize;
using config::Millis;

const config::OptionSchema<EsOptions>& EsOptions::schema() {
  using S = config::OptionSchema<EsOptions>;
  static const auto s = [] {
    S s;
    s.add("hosts", &EsOptions::hosts,
              "Node URLs (http:// or https://, optional path prefix). Requests go to one node and "
              "fail over to the next when it cannot be reached.")
          .add("index", &EsOptions::index,
               "Index (or data stream) name template: {name} takes a source tag (container_name, "
               "...), a string field, input or stream; %Y %m %d %H the event's UTC time. "
               "Substituted values are lowercased and made index-name safe.")
          .add("mode", &EsOptions::mode,
               "index: `index` actions (create or replace); create: `create` actions (with "
               "deterministic_ids a resend is a harmless 409); data_stream: `create` actions into "
               "the data stream named by `index`.")
          .add("deterministic_ids", &EsOptions::deterministic_ids,
               "Document _id = hash of the source key + event offset + event time and message, "
               "so retries and restarts never index an event twice (and a file that reuses an "
               "inode or restarts after copytruncate never collides with the old one).")
          .add("pipeline", &EsOptions::pipeline, "Ingest pipeline to run; empty = none.")
          .add("max_in_flight", &EsOptions::max_in_flight,
               "Bulk requests in flight at once (one connection each).", config::in_range(1, 64))
          .add("bulk_max_bytes", &EsOptions::bulk_max_bytes,
               "Largest uncompressed bulk request body; larger deliveries are split.",
               config::at_least(ByteSize(1024), "1KiB"))
          .add("bulk_max_events", &EsOptions::bulk_max_events, "Most documents per bulk request.",
               config::in_range(1, 1000000))
          .add("compression", &EsOptions::compression, "Request body encoding.")
          .add("compression_level", &EsOptions::compression_level, "gzip level: 1 fastest.",
               config::in_range(1, 9))
          .add("username", &EsOptions::username, "Basic auth user.")
          .add("password", &EsOptions::password,
               "Basic auth password; use ${file:/path} to read it from a file. Never logged.")
          .add("api_key", &EsOptions::api_key,
               "Elasticsearch API key (the base64 'encoded' value); use ${file:/path}. Never "
               "logged.")
          .add("tls_ca_file", &EsOptions::tls_ca_file,
               "PEM CA bundle to verify nodes with; empty = the system trust store.")
          .add("tls_cert_file", &EsOptions::tls_cert_file, "PEM client certificate (chain).")
          .add("tls_key_file", &EsOptions::tls_key_file, "PEM private key of the client certificate.")
          .add("tls_verify", &EsOptions::tls_verify,
               "Verify the node's certificate and host name. Turn off only for tests.")
          .add("timeout", &EsOptions::timeout, "Time to send a request and read its response.",
               config::at_least(Millis(100), "100ms"))
          .add("connect_timeout", &EsOptions::connect_timeout, "Time to connect (and TLS handshake).",
               config::at_least(Millis(100), "100ms"))
          .add("item_retries", &EsOptions::item_retries,
               "Rounds of resending only the items rejected with 429/5xx before the whole "
               "delivery is handed back to the core's retry.",
               config::in_range(0, 1000))
          .add("item_retry_initial", &EsOptions::item_retry_initial,
               "First backoff before resending rejected items (doubles each round; the wait "
               "is drawn from a tenth of it up to it).",
               config::at_least(Millis(1), "1ms"))
          .add("item_retry_max", &EsOptions::item_retry_max, "Longest backoff between rounds.",
               config::at_least(Millis(1), "1ms"))
          .add("index_template", &EsOptions::index_template,
               "Before the first bulk request, PUT an index template (idempotent) for the indices "
               "`index` names (its {fields} and %X as *): message as text, other strings as "
               "keyword (the ECS types), data_stream: {} in data_stream mode. Off: manage "
               "templates yourself.")
          .add("index_template_name", &EsOptions::index_template_name,
               "Name of that template (_index_template/<name>).")
          .add("ilm_policy", &EsOptions::ilm_policy,
               "Elasticsearch: the ILM policy the template sets (index.lifecycle.name); empty = "
               "none. OpenSearch attaches ISM policies by their own ism_template.")
          .add("proxy", &EsOptions::proxy,
               "HTTP proxy (http://host:port) for every node: https nodes through a CONNECT "
               "tunnel, http nodes with absolute-form requests. Empty: the environment, as curl "
               "reads it (https_proxy/HTTPS_PROXY, http_proxy/HTTP_PROXY; NO_PROXY names the "
               "nodes reached directly, and applies to this option too). none: always direct.")
          .add("proxy_credentials_file", &EsOptions::proxy_credentials_file,
               "File holding user:password for the proxy (Proxy-Authorization: Basic). Never "
               "logged.")
          .add("aws_sigv4", &EsOptions::aws_sigv4,
               "Amazon OpenSearch Service: sign every request with AWS Signature Version 4 "
               "(region, service: es|aoss, credentials_file/profile, else the AWS_* "
               "environment, else the instance role from metadata_endpoint).");
    doc::add_document_options(s);
    return s;
  }();
  return s;
}

Status EsOptions::validate() const {
  if (hosts.empty()) return Status::invalid("hosts must name at least one node");
  for (const auto& h : hosts) {
    if (Result<HostUrl> url = parse_host_url(h); !url.is_ok()) return url.status();
  }
  if (index.empty()) return Status::invalid("index must not be empty");
  if (index_template && index_template_name.empty()) {
    return Status::invalid("index_template_name must not be empty");
  }
  if (!password.empty() && username.empty()) return Status::invalid("password needs username");
  if (!api_key.empty() && !username.empty()) {
    return Status::invalid("use either username/password or api_key");
  }
  if (!tls_key_file.empty() && tls_cert_file.empty()) {
    return Status::invalid("tls_key_file needs tls_cert_file");
  }
  if (!aws_sigv4.region.empty() && (!username.empty() || !api_key.empty())) {
    return Status::invalid(
        "aws_sigv4 signs the requests itself: remove username/password or api_key");
  }
  if (!proxy.empty() && proxy != "none") {
    if (Result<Proxy> p = parse_proxy_url(proxy, false); !p.is_ok()) return p.status();
  }
  if (mode == EsMode::kDataStream && index.find('%') != std::string::npos) {
    return Status::invalid(
        "data_stream mode: index names the data stream; the backing indices carry the date");
  }
  return Status::ok();
}

namespace {

BulkEncoderOptions encoder_options(const EsOptions& o) {
  BulkEncoderOptions e;
  e.index = o.index;
  e.action = o.mode == EsMode::kIndex ? BulkAction::kIndex : BulkAction::kCreate;
  e.deterministic_ids = o.deterministic_ids;
  return e;
}

std::string_view short_body(std::string_view b) { return b.substr(0, std::min<std::size_t>(b.size(), 300)); }

}  // namespace

EsOutput::Sender::Sender(const EsOutput& out)
    : encoder(encoder_options(out.o_), out.o_, out.host_),
      conn(out.tls_.get(), out.o_.tls_verify, out.o_.connect_timeout, out.o_.timeout),
      gzip(static_cast<int>(out.o_.compression_level)),
      item_backoff(out.o_.item_retry_initial, out.o_.item_retry_max) {}

EsOutput::EsOutput(const EsOptions& o)
    : o_(o), create_(o.mode != EsMode::kIndex), gzip_(o.compression == EsCompression::kGzip) {
  for (const auto& h : o_.hosts) {
    Result<HostUrl> url = parse_host_url(h);
    if (url.is_ok()) hosts_.push_back(std::move(url).value());
  }
  target_ = "/_bulk?filter_path=errors,items.*.status,items.*.error";
  if (!o_.pipeline.empty()) {
    target_ += "&pipeline=";
    for (char c : o_.pipeline) {
      bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      if (plain) {
        target_.push_back(c);
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        target_.push_back('%');
        target_.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
        target_.push_back(kHex[static_cast<unsigned char>(c) & 15]);
      }
    }
  }
  if (!o_.api_key.empty()) {
    authorization_ = "ApiKey " + o_.api_key;
  } else if (!o_.username.empty()) {
    authorization_ = "Basic " + base64(o_.username + ":" + o_.password);
  }
}

EsOutput::~EsOutput() { stop(); }

Status EsOutput::start(OutputContext& ctx) {
  ctx_ = &ctx;
  name_ = ctx.name();
  const PluginContext plugin{PluginKind::kOutput, name_, "elasticsearch"};
  log_ = ComponentLog(plugin);
  host_ = process_host_identity();
  bool any_tls = std::any_of(hosts_.begin(), hosts_.end(), [](const HostUrl& h) { return h.tls; });
  if (any_tls || !o_.tls_ca_file.empty() || !o_.tls_cert_file.empty()) {
    TlsOptions t{o_.tls_ca_file, o_.tls_cert_file, o_.tls_key_file, o_.tls_verify};
    LOGSHIP_TRY(make_tls_context(t, &tls_));
  }
  if (!o_.tls_verify) {
    log_.warn("TLS certificate verification is off");
  }
  LOGSHIP_TRY(set_up_proxies());
  if (!o_.aws_sigv4.region.empty()) {
    aws_ = std::make_unique<AwsCredentialsProvider>(o_.aws_sigv4, o_.connect_timeout);
    log_.info("signing requests with AWS SigV4",
              log::kv("region", o_.aws_sigv4.region) +
                  log::kv("service", o_.aws_sigv4.service) +
                  log::kv("credentials", aws_->source()));
  }
  const ComponentMetrics metrics(plugin);
  requests_ = &metrics.counter("logship_es_requests_total", "Bulk requests sent");
  request_bytes_ = &metrics.counter("logship_es_request_bytes_total",
      "Bulk request body bytes sent (after compression)");
  item_retries_ = &metrics.counter("logship_es_item_retries_total",
      "Items resent after a 429/5xx item status");
  duplicates_ = &metrics.counter("logship_es_duplicates_total",
      "Items already indexed (409 on create with a deterministic id)");
  splits_ = &metrics.counter("logship_es_request_splits_total", "Requests split after a 413");
  failovers_ = &metrics.counter("logship_es_failovers_total", "Switches to another host");
  for (int64_t i = 0; i < o_.max_in_flight; ++i) {
    senders_.push_back(std::make_unique<Sender>(*this));
  }
  for (auto& s : senders_) {
    Sender* sp = s.get();
    sp->thread = std::thread([this, sp] { sender_loop(*sp); });
  }
  return Status::ok();
}

Status EsOutput::set_up_proxies() {
  std::string credentials;
  if (!o_.proxy_credentials_file.empty()) {
    SafeRead r = read_file_safely(o_.proxy_credentials_file, SafeReadLimits{4096, true}, &credentials);
    if (!r.ok()) return Status::invalid("proxy_credentials_file: " + r.error);
    while (!credentials.empty() && (credentials.back() == '\n' || credentials.back() == '\r')) {
      credentials.pop_back();
    }
    if (credentials.find(':') == std::string::npos) {
      return Status::invalid("proxy_credentials_file: expected user:password");
    }
  }
  const ProxySettings settings = ProxySettings::from_environment(o_.proxy, std::move(credentials));
  for (HostUrl& h : hosts_) {
    Result<std::shared_ptr<const Proxy>> proxy = proxy_for(h.tls, h.host, h.port, settings);
    if (!proxy.is_ok()) return proxy.status();
    h.proxy = std::move(proxy).value();
    if (h.proxy) {
      log_.info("node reached through a proxy",
                log::kv("node", h.display) + log::kv("proxy", h.proxy->display) +
                    log::kv("mode", h.tls ? "CONNECT tunnel" : "absolute-form"));
    }
  }
  return Status::ok();
}

Status EsOutput::sign(http::request<http::string_body>& req, const HostUrl& h,
                      const std::string& payload_sha256) {
  Result<AwsCredentials> got = aws_->get();
  if (!got.is_ok()) return got.status();
  const AwsCredentials& creds = got.value();
  const std::string date = amz_date(std::time(nullptr));
  req.set("x-amz-date", date);
  req.set("x-amz-content-sha256", payload_sha256);
  SigV4Request r;
  const auto method = req.method_string();
  const auto target = req.target();
  r.method = std::string_view(method.data(), method.size());
  r.target = std::string_view(target.data(), target.size());
  r.headers = {{"host", h.host_header}, {"x-amz-date", date}, {"x-amz-content-sha256", payload_sha256}};
  if (!creds.session_token.empty()) {
    req.set("x-amz-security-token", creds.session_token);
    r.headers.emplace_back("x-amz-security-token", creds.session_token);
  }
  r.payload_sha256 = payload_sha256;
  req.set(http::field::authorization,
          sigv4_sign(r, creds, o_.aws_sigv4.region, o_.aws_sigv4.service, date).authorization);
  return Status::ok();
}

void EsOutput::deliver(std::span<const SharedBatch> batches, DeliverDone done) {
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

void EsOutput::stop() {
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
}

void EsOutput::sender_loop(Sender& s) {
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
    // Nothing of the delivery may be referenced once done() lets the core release it.
    s.items.clear();
    job.done(std::move(r));
  }
}

bool EsOutput::sleep_unless_stopping(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, d, [&] { return stopping_; });
}

void EsOutput::log_problem(std::string_view what, std::string_view kv) {
  log_.warn(problem_log_, what, kv);
}

Status EsOutput::ensure_index_template(Sender& s) {
  std::lock_guard lock(template_mu_);
  if (template_installed_) return Status::ok();
  TemplateSpec spec{index_pattern(o_.index), o_.mode == EsMode::kDataStream, o_.ilm_policy};
  http::request<http::string_body> req;
  req.method(http::verb::put);
  req.version(11);
  req.keep_alive(true);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::user_agent, "logship/" LOGSHIP_VERSION);
  if (!authorization_.empty()) req.set(http::field::authorization, authorization_);
  req.body() = index_template_body(spec);
  req.prepare_payload();
  std::string why = "no node reachable";
  const std::string body_hash = aws_ ? sha256_hex(req.body()) : std::string();
  for (const HostUrl& h : hosts_) {
    req.target(h.path_prefix + "/_index_template/" + o_.index_template_name);
    req.set(http::field::host, h.host_header);
    if (aws_) {
      LOGSHIP_TRY(sign(req, h, body_hash));
    }
    HttpResult r = s.conn.send(h, req);
    if (r.kind == HttpResult::Kind::kAborted) return Status::unavailable("output stopping");
    if (r.kind != HttpResult::Kind::kOk) {
      why = r.error;
      continue;
    }
    if (r.status >= 200 && r.status < 300) {
      template_installed_ = true;
      log_.info("index template in place",
                log::kv("template", o_.index_template_name) +
                    log::kv("pattern", spec.pattern));
      return Status::ok();
    }
    why = "index template: HTTP " + std::to_string(r.status) + ": " + std::string(short_body(r.body));
    log_problem("cannot install the index template", log::kv("status", r.status) +
                                                         log::kv("body", short_body(r.body)));
    break;
  }
  return Status::unavailable(why);
}

DeliveryResult EsOutput::run_job(Sender& s, const Job& job) {
  if (o_.index_template) {
    if (Status st = ensure_index_template(s); !st.is_ok()) {
      return DeliveryResult::retry(st.message());
    }
  }
  s.encoded.clear();
  s.items.clear();
  for (const auto& b : job.batches) {
    const SourceInfo& src = b->source();
    s.encoder.begin_source(src);
    for (const Event& e : b->events()) {
      auto begin = static_cast<uint32_t>(s.encoded.size());
      s.encoder.append(s.encoded, e, src);
      s.items.push_back(Item{begin, static_cast<uint32_t>(s.encoded.size()), &e, &src});
    }
  }
  if (s.items.empty()) return DeliveryResult::delivered();
  std::vector<uint32_t> pending(s.items.size());
  for (uint32_t i = 0; i < pending.size(); ++i) pending[i] = i;
  std::vector<uint32_t> failed;
  for (int64_t round = 0;; ++round) {
    failed.clear();
    std::string fail_reason;
    // Requests of at most bulk_max_events items and bulk_max_bytes bytes (one item may exceed).
    std::size_t start = 0;
    while (start < pending.size()) {
      std::size_t end = start;
      uint64_t bytes = 0;
      while (end < pending.size() && end - start < static_cast<std::size_t>(o_.bulk_max_events)) {
        const Item& it = s.items[pending[end]];
        uint64_t sz = it.end - it.begin;
        if (end > start && bytes + sz > o_.bulk_max_bytes.bytes) break;
        bytes += sz;
        ++end;
      }
      RequestResult r = send_items(
          s, std::span<const uint32_t>(pending.data() + start, end - start), &failed, &fail_reason);
      if (r.whole_retry) return DeliveryResult::retry(std::move(r.reason));
      start = end;
    }
    if (failed.empty()) return DeliveryResult::delivered();
    if (round >= o_.item_retries) {
      return DeliveryResult::retry(std::to_string(failed.size()) + " items still rejected after " +
                                   std::to_string(round + 1) + " rounds: " + fail_reason);
    }
    item_retries_->fetch_add(failed.size(), std::memory_order_relaxed);
    log_problem("items rejected; resending them", log::kv("items", static_cast<int64_t>(failed.size())) +
                                                     log::kv("reason", fail_reason));
    if (!sleep_unless_stopping(s.item_backoff.next(static_cast<uint32_t>(round)))) {
      return DeliveryResult::retry("output stopping");
    }
    pending.swap(failed);
  }
}

HttpResult EsOutput::post(Sender& s, std::string_view ndjson) {
  http::request<http::string_body> req;
  req.method(http::verb::post);
  req.version(11);
  req.keep_alive(true);
  req.set(http::field::content_type, "application/x-ndjson");
  req.set(http::field::user_agent, "logship/" LOGSHIP_VERSION);
  if (!authorization_.empty()) req.set(http::field::authorization, authorization_);
  if (gzip_) {
    req.set(http::field::content_encoding, "gzip");
    if (!s.gzip.compress(ndjson, &req.body())) {
      HttpResult r;
      r.kind = HttpResult::Kind::kIoFailed;
      r.error = "gzip failed";
      return r;
    }
  } else {
    req.body().assign(ndjson);
  }
  req.prepare_payload();
  const uint64_t body_bytes = req.body().size();
  const std::string body_hash = aws_ ? sha256_hex(req.body()) : std::string();
  const std::size_t n = hosts_.size();
  HttpResult r;
  std::size_t first = preferred_host_.load(std::memory_order_relaxed) % n;
  for (std::size_t k = 0; k < n; ++k) {
    const HostUrl& h = hosts_[(first + k) % n];
    req.target(h.path_prefix + target_);
    req.set(http::field::host, h.host_header);
    if (aws_) {
      if (Status st = sign(req, h, body_hash); !st.is_ok()) {
        r.kind = HttpResult::Kind::kConnectFailed;
        r.error = st.message();
        return r;
      }
    }
    r = s.conn.send(h, req);
    if (r.kind == HttpResult::Kind::kOk) {
      requests_->fetch_add(1, std::memory_order_relaxed);
      request_bytes_->fetch_add(body_bytes, std::memory_order_relaxed);
      if (k > 0) {
        preferred_host_.store((first + k) % n, std::memory_order_relaxed);
        failovers_->fetch_add(1, std::memory_order_relaxed);
      }
      return r;
    }
    if (r.kind == HttpResult::Kind::kAborted) return r;
    log_problem("cannot reach node", log::kv("error", r.error));
  }
  return r;
}

EsOutput::RequestResult EsOutput::send_items(Sender& s, std::span<const uint32_t> idx,
                                             std::vector<uint32_t>* failed,
                                             std::string* fail_reason) {
  // A run of consecutive items is already one slice of the encoded delivery.
  std::string_view ndjson;
  bool contiguous = idx.back() - idx.front() + 1 == idx.size();
  if (contiguous) {
    ndjson = std::string_view(s.encoded).substr(
        s.items[idx.front()].begin, s.items[idx.back()].end - s.items[idx.front()].begin);
  } else {
    s.body.clear();
    for (uint32_t i : idx) {
      s.body.append(s.encoded, s.items[i].begin, s.items[i].end - s.items[i].begin);
    }
    ndjson = s.body;
  }
  HttpResult r = post(s, ndjson);
  if (r.kind != HttpResult::Kind::kOk) return {true, r.error};
  if (r.status == 413) {
    if (idx.size() == 1) {
      const Item& it = s.items[idx[0]];
      Status dl = ctx_->dead_letter(*it.event, *it.source, PermanentError::kTooLarge,
                                    "request too large for the node (413) even as a single "
                                    "document");
      if (!dl.is_ok()) return {true, dl.message()};
      return {};
    }
    splits_->fetch_add(1, std::memory_order_relaxed);
    std::size_t half = idx.size() / 2;
    // `body` may be reused by the halves: copy nothing from it past this point.
    RequestResult a = send_items(s, idx.subspan(0, half), failed, fail_reason);
    if (a.whole_retry) return a;
    return send_items(s, idx.subspan(half), failed, fail_reason);
  }
  if (r.status < 200 || r.status >= 300) {
    std::string why = "HTTP " + std::to_string(r.status) + ": " + std::string(short_body(r.body));
    if (r.status == 401 || r.status == 403) {
      log_.error("authentication or authorization failed; check credentials",
                 log::kv("status", r.status));
    } else {
      log_problem("bulk request failed", log::kv("status", r.status) + log::kv("body", short_body(r.body)));
    }
    return {true, std::move(why)};
  }
  if (Status st = s.parser.parse(r.body, idx.size(), &s.response); !st.is_ok()) {
    log_problem("bad bulk response", log::kv("error", st.message()));
    return {true, st.message()};
  }
  if (!s.response.errors) return {};
  for (std::size_t k = 0; k < idx.size(); ++k) {
    const BulkItem& bi = s.response.items[k];
    const Item& it = s.items[idx[k]];
    switch (classify_item(bi.status, create_)) {
      case ItemOutcome::kAcked:
        break;
      case ItemOutcome::kDuplicate:
        duplicates_->fetch_add(1, std::memory_order_relaxed);
        break;
      case ItemOutcome::kDeadLetter: {
        Status dl = ctx_->dead_letter(*it.event, *it.source, PermanentError::kRejected,
                                      "status " + std::to_string(bi.status) + ": " + bi.reason);
        if (!dl.is_ok()) {
          // Not written anywhere: resent with the retriable items instead of being dropped.
          failed->push_back(idx[k]);
          if (fail_reason->empty()) *fail_reason = dl.message();
        }
        break;
      }
      case ItemOutcome::kRetry:
        failed->push_back(idx[k]);
        if (fail_reason->empty()) *fail_reason = "status " + std::to_string(bi.status) + ": " + bi.reason;
        break;
    }
  }
  return {};
}

}  // namespace es

const PluginInfo& elasticsearch_output() {
  static const PluginInfo info{
      PluginKind::kOutput, "elasticsearch",
      "Elasticsearch 8 / OpenSearch 2 _bulk: per-item retries, data streams, TLS, failover.",
      &schema_of<es::EsOptions>, nullptr, nullptr, &bind_output<es::EsOptions, es::EsOutput>};
  return info;
}

}  // namespace logship::plugins
