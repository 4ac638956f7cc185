#include "outputs/http/http_output.h"

#include <cstdio>
#include <random>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/component_metrics.h"
#include "outputs/http/splunk_hec_ack.h"
#include "outputs/http/splunk_hec_status.h"

namespace logship::plugins {
namespace httpout {


const config::OptionSchema<HttpOptions>& HttpOptions::schema() {
  using S = config::OptionSchema<HttpOptions>;
  static const auto s = [] {
    S s;
    s.add("endpoint", &HttpOptions::endpoint, "Base URL of the receiver (http:// or https://).")
          .add("path", &HttpOptions::path, "Request path appended to the endpoint.")
          .add("method", &HttpOptions::method, "Request method.")
          .add("format", &HttpOptions::format,
               "ndjson: one JSON object per line (application/x-ndjson); json_array: one JSON "
               "array per request (application/json). Events in the flat logship layout.")
          .add("compression", &HttpOptions::compression, "Request body encoding.")
          .add("compression_level", &HttpOptions::compression_level, "gzip level: 1 fastest.",
               config::in_range(1, 9))
          .add("headers", &HttpOptions::headers,
               "Extra request headers (`${file:/run/secrets/key}` for secrets). Values are never "
               "logged.")
          .add("basic_user", &HttpOptions::basic_user, "Basic authentication user.")
          .add("basic_password", &HttpOptions::basic_password,
               "Basic authentication password (e.g. ${file:/run/secrets/password}).")
          .add("bearer_token", &HttpOptions::bearer_token,
               "Authorization: Bearer token (e.g. ${file:/run/secrets/token}).")
          .add("success_statuses", &HttpOptions::success_statuses,
               "Statuses that also mean delivered, besides 2xx (\"409\", \"4xx\").")
          .add("dead_letter_statuses", &HttpOptions::dead_letter_statuses,
               "Statuses whose request's events can never be delivered: dead-lettered.")
          .add("resend_statuses", &HttpOptions::resend_statuses,
               "Statuses resent after Retry-After (or a backoff), `retries` times, then retried "
               "by the core. 413 splits the request; any other status is retried by the core.");
    s.add("preset", &HttpOptions::preset,
          "none: the body `format` says. splunk_hec: Splunk HTTP Event Collector events "
          "(path defaults to /services/collector/event). loki: Loki's push API (path defaults "
          "to /loki/api/v1/push). A preset sets the body; `format` does not apply.")
        .add("hec_token", &HttpOptions::hec_token,
             "splunk_hec: the HEC token, sent as `Authorization: Splunk <token>` "
             "(${file:/run/secrets/hec_token}). Never logged.")
        .add("hec_channel", &HttpOptions::hec_channel,
             "splunk_hec: X-Splunk-Request-Channel (a GUID); empty = a random one per start.")
        .add("hec_host", &HttpOptions::hec_host,
             "splunk_hec: host when the event has no hec_host_field; empty = the daemon's host name.")
        .add("hec_host_field", &HttpOptions::hec_host_field,
             "splunk_hec: event field or source tag that gives host.")
        .add("hec_sourcetype", &HttpOptions::hec_sourcetype,
             "splunk_hec: sourcetype when the event has no hec_sourcetype_field.")
        .add("hec_sourcetype_field", &HttpOptions::hec_sourcetype_field,
             "splunk_hec: event field or source tag that gives sourcetype.")
        .add("hec_index", &HttpOptions::hec_index,
             "splunk_hec: index when the event has no hec_index_field; empty = the token's default.")
        .add("hec_index_field", &HttpOptions::hec_index_field,
             "splunk_hec: event field or source tag that gives index.")
        .add("hec_ack_path", &HttpOptions::hec_ack_path,
             "splunk_hec: where acknowledgements are polled, when answers carry an ackId.")
        .add("hec_ack_interval", &HttpOptions::hec_ack_interval,
             "splunk_hec: time between ack polls of a request.",
             config::at_least(config::Millis(10), "10ms"))
        .add("hec_ack_timeout", &HttpOptions::hec_ack_timeout,
             "splunk_hec: a request not acknowledged by then is retried (it may be indexed twice).",
             config::at_least(config::Millis(100), "100ms"))
        .add("loki_encoding", &HttpOptions::loki_encoding,
             "loki: protobuf (snappy-compressed, Loki's native push) or json.")
        .add("loki_labels", &HttpOptions::loki_labels,
             "loki: the fields (event fields, source tags such as container_name, `stream`, "
             "`input`) that become stream labels, under their own names. Keep it small: every "
             "label set is a Loki stream. Container labels are never sent as labels.")
        .add("loki_static_labels", &HttpOptions::loki_static_labels,
             "loki: labels with a fixed value on every stream.")
        .add("loki_line", &HttpOptions::loki_line,
             "loki: message: the entry is the message; json: the event in the flat logship JSON "
             "layout (fields, tags, labels).");
    httpbatch::add_sender_options(s, "events", "with a resend status");
    return s;
  }();
  return s;
}

namespace {

bool valid_pattern(const std::string& p) {
  if (p.size() != 3 || p[0] < '1' || p[0] > '5') return false;
  const bool klass = p[1] == 'x' && p[2] == 'x';
  return klass || (std::isdigit(static_cast<unsigned char>(p[1])) &&
                   std::isdigit(static_cast<unsigned char>(p[2])));
}

}  // namespace

bool status_matches(const std::vector<std::string>& patterns, int status) {
  const std::string s = std::to_string(status);
  for (const std::string& p : patterns) {
    if (p == s || (p.size() == 3 && p[1] == 'x' && p[2] == 'x' && s.size() == 3 && s[0] == p[0])) {
      return true;
    }
  }
  return false;
}

Status HttpOptions::validate() const {
  if (Result<es::HostUrl> url = es::parse_host_url(endpoint); !url.is_ok()) return url.status();
  if (path.empty() || path.front() != '/') return Status::invalid("path must start with '/'");
  if (!tls_key_file.empty() && tls_cert_file.empty()) {
    return Status::invalid("tls_key_file needs tls_cert_file");
  }
  if (!bearer_token.empty() && !basic_user.empty()) {
    return Status::invalid("basic_user and bearer_token exclude each other");
  }
  if (basic_user.find(':') != std::string::npos) {
    return Status::invalid("basic_user cannot hold ':'");
  }
  for (const auto& [k, v] : headers) {
    if (k.empty() || k.find_first_of(":\r\n ") != std::string::npos) {
      return Status::invalid("headers: invalid header name '" + k + "'");
    }
    if (v.find_first_of("\r\n") != std::string::npos) {
      return Status::invalid("headers: a value holds a newline");
    }
  }
  if (bearer_token.find_first_of("\r\n") != std::string::npos) {
    return Status::invalid("bearer_token holds a newline");
  }
  if (preset == Preset::kSplunkHec) {
    if (hec_token.empty()) return Status::invalid("preset splunk_hec needs hec_token");
    if (hec_token.find_first_of("\r\n") != std::string::npos) {
      return Status::invalid("hec_token holds a newline");
    }
    if (hec_channel.find_first_of("\r\n") != std::string::npos) {
      return Status::invalid("hec_channel holds a newline");
    }
    if (!basic_user.empty() || !bearer_token.empty()) {
      return Status::invalid(
          "preset splunk_hec authenticates with hec_token, not basic_user or bearer_token");
    }
    if (hec_ack_path.empty() || hec_ack_path.front() != '/') {
      return Status::invalid("hec_ack_path must start with '/'");
    }
  }
  if (preset == Preset::kLoki) {
    if (loki_labels.empty() && loki_static_labels.empty()) {
      return Status::invalid(
          "preset loki needs loki_labels or loki_static_labels (Loki refuses a stream without labels)");
    }
    if (loki_labels.size() + loki_static_labels.size() > kMaxLokiLabels) {
      return Status::invalid("loki_labels and loki_static_labels: at most " +
                             std::to_string(kMaxLokiLabels) + " labels (Loki's limit per stream)");
    }
    for (const std::string& l : loki_labels) {
      if (!valid_label_name(l)) {
        return Status::invalid(
            "loki_labels: '" + l + "' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)");
      }
    }
    for (const auto& [k, v] : loki_static_labels) {
      if (!valid_label_name(k)) {
        return Status::invalid(
            "loki_static_labels: '" + k + "' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)");
      }
      if (v.empty() || v.size() > kMaxLabelValueBytes) {
        return Status::invalid("loki_static_labels: '" + k + "' needs a value of 1 to 1024 bytes");
      }
    }
    if (loki_encoding == LokiEncoding::kProtobuf && compression != Compression::kNone) {
      return Status::invalid(
          "loki_encoding protobuf is snappy-compressed: compression must be none");
    }
  }
  for (const auto* list : {&success_statuses, &dead_letter_statuses, &resend_statuses}) {
    for (const std::string& p : *list) {
      if (!valid_pattern(p)) {
        return Status::invalid("invalid status pattern '" + p + "' (NNN or Nxx)");
      }
    }
  }
  return Status::ok();
}

void JsonLinesEncoder::encode(std::span<const httpbatch::Slice> slices, std::string& out) {
  out.clear();
  if (array_) out += '[';
  bool first = true;
  for (const httpbatch::Slice& sl : slices) {
    if (source_.get() != &sl.batch->source()) {
      source_ = sl.batch->source_ptr();
      encoded_source_ = json::encode_source(*source_);
    }
    const auto& evs = sl.batch->events();
    for (uint32_t i = sl.begin; i < sl.end; ++i) {
      if (array_ && !first) out += ',';
      first = false;
      json::append_event(out, evs[i], encoded_source_);
      if (!array_) out += '\n';
    }
  }
  if (array_) out += ']';
}

std::string HttpOptions::request_path() const {
  if (path != "/") return path;
  if (preset == Preset::kSplunkHec) return "/services/collector/event";
  if (preset == Preset::kLoki) return "/loki/api/v1/push";
  return path;
}

namespace {

// A random (version 4) GUID, what HEC takes as a request channel.
std::string random_channel() {
  std::random_device rd;
  uint8_t b[16];
  for (auto& x : b) x = static_cast<uint8_t>(rd());
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::string content_type(const HttpOptions& o) {
  if (o.preset == Preset::kSplunkHec) return "application/json";
  if (o.preset == Preset::kLoki) return o.loki_encoding == LokiEncoding::kProtobuf ? "application/x-protobuf" : "application/json";
  return o.format == BodyFormat::kNdjson ? "application/x-ndjson" : "application/json";
}

httpbatch::Settings settings(const HttpOptions& o, const std::string& hec_channel) {
  httpbatch::Settings s;
  s.component = "http";
  s.endpoint = o.endpoint;
  s.path = o.request_path();
  s.put = o.method == HttpMethod::kPut;
  s.content_type = content_type(o);
  s.gzip = o.compression == Compression::kGzip;
  s.gzip_level = static_cast<int>(o.compression_level);
  s.headers = o.headers;
  if (!o.basic_user.empty()) {
    s.headers["Authorization"] = "Basic " + es::base64(o.basic_user + ":" + o.basic_password);
  } else if (!o.bearer_token.empty()) {
    s.headers["Authorization"] = "Bearer " + o.bearer_token;
  }
  if (o.preset == Preset::kSplunkHec) {
    s.headers["Authorization"] = "Splunk " + o.hec_token;
    s.headers["X-Splunk-Request-Channel"] = hec_channel;
  }
  o.apply(&s);
  return s;
}

std::string channel_of(const HttpOptions& o) {
  if (o.preset != Preset::kSplunkHec) return "";
  return o.hec_channel.empty() ? random_channel() : o.hec_channel;
}

}  // namespace

HttpOutput::HttpOutput(const HttpOptions& o)
    : HttpOutput(o, channel_of(o)) {}

HttpOutput::HttpOutput(const HttpOptions& o, std::string channel)
    : HttpBatchOutput(settings(o, channel)), o_(o), hec_channel_(std::move(channel)) {}

HttpOutput::~HttpOutput() { stop(); }

Status HttpOutput::start(OutputContext& ctx) {
  host_ = process_host_identity();
  if (o_.preset == Preset::kSplunkHec) {
    const ComponentMetrics metrics("output", ctx.name());
    acks_confirmed_ = &metrics.counter("logship_http_hec_acks_confirmed_total",
        "HEC requests whose indexer acknowledgement was confirmed");
    ack_timeouts_ = &metrics.counter("logship_http_hec_ack_timeouts_total",
        "HEC requests not acknowledged within hec_ack_timeout (retried)");
  }
  return HttpBatchOutput::start(ctx);
}

void HttpOutput::stop() {
  {
    std::lock_guard lock(ack_mu_);
    ack_stopping_ = true;
    for (auto& c : ack_connections_) c->abort();
  }
  HttpBatchOutput::stop();
}

std::unique_ptr<httpbatch::RequestEncoder> HttpOutput::make_encoder() {
  if (o_.preset == Preset::kSplunkHec) {
    SplunkHecOptions h;
    h.host = o_.hec_host.empty() ? host_.name : o_.hec_host;
    h.host_field = o_.hec_host_field;
    h.sourcetype = o_.hec_sourcetype;
    h.sourcetype_field = o_.hec_sourcetype_field;
    h.index = o_.hec_index;
    h.index_field = o_.hec_index_field;
    return std::make_unique<SplunkHecEncoder>(std::move(h));
  }
  if (o_.preset == Preset::kLoki) {
    LokiOptions l;
    l.protobuf = o_.loki_encoding == LokiEncoding::kProtobuf;
    l.json_line = o_.loki_line == LokiLine::kJson;
    l.label_fields = o_.loki_labels;
    l.static_labels = o_.loki_static_labels;
    return std::make_unique<LokiEncoder>(std::move(l));
  }
  return std::make_unique<JsonLinesEncoder>(o_.format == BodyFormat::kJsonArray);
}

httpbatch::Verdict HttpOutput::judge(const es::HttpResult& r, std::size_t) {
  return o_.preset == Preset::kSplunkHec ? judge_splunk_hec(r) : judge_generic(r);
}

es::HttpConnection* HttpOutput::take_ack_connection() {
  std::lock_guard lock(ack_mu_);
  if (!idle_ack_connections_.empty()) {
    es::HttpConnection* c = idle_ack_connections_.back();
    idle_ack_connections_.pop_back();
    return c;
  }
  const auto& s = sender_settings();
  ack_connections_.push_back(
      std::make_unique<es::HttpConnection>(tls_context(), s.tls_verify, s.connect_timeout, s.timeout));
  if (ack_stopping_) ack_connections_.back()->abort();
  return ack_connections_.back().get();
}

void HttpOutput::return_ack_connection(es::HttpConnection* c) {
  std::lock_guard lock(ack_mu_);
  idle_ack_connections_.push_back(c);
}

Status HttpOutput::await_ack(uint64_t ack_id) {
  namespace http = boost::beast::http;
  AckWait wait(ack_id, AckWait::Clock::now(), o_.hec_ack_interval, o_.hec_ack_timeout);
  es::HttpConnection* conn = take_ack_connection();
  AckWait::Step step = wait.first();
  while (step.next == AckWait::Next::kPoll) {
    if (!sleep_unless_stopping(step.wait)) {
      step = {AckWait::Next::kGiveUp, {}, "output stopping"};
      break;
    }
    http::request<http::string_body> req;
    req.method(http::verb::post);
    req.version(11);
    req.keep_alive(true);
    req.target(url().path_prefix + o_.hec_ack_path);
    req.set(http::field::host, url().host_header);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "logship/" LOGSHIP_VERSION);
    req.set(http::field::authorization, "Splunk " + o_.hec_token);
    req.set("X-Splunk-Request-Channel", hec_channel_);
    req.body() = wait.poll_body();
    req.prepare_payload();
    es::HttpResult r = conn->send(url(), req);
    step = wait.on_answer(r.kind == es::HttpResult::Kind::kOk ? r.status : 0, r.body,
                          AckWait::Clock::now());
  }
  return_ack_connection(conn);
  if (step.next == AckWait::Next::kConfirmed) {
    acks_confirmed_->fetch_add(1, std::memory_order_relaxed);
    return Status::ok();
  }
  return Status::unavailable(step.reason);
}

httpbatch::Verdict HttpOutput::judge_splunk_hec(const es::HttpResult& r) {
  using Kind = httpbatch::Verdict::Kind;
  httpbatch::Verdict v;
  const HecJudgement j = judge_splunk_hec_answer(r.status, r.body);
  v.kind = j.kind;
  if (j.kind == Kind::kAccepted) {
    if (std::optional<uint64_t> ack = parse_ack_id(r.body)) {
      if (Status acked = await_ack(*ack); !acked.is_ok()) {
        const std::string& why = acked.message();
        if (why != "output stopping") {
          ack_timeouts_->fetch_add(1, std::memory_order_relaxed);
          log_problem("HEC did not acknowledge a request; retrying it", log::kv("reason", why));
        }
        v.kind = Kind::kRetry;
        v.detail = why;
      }
    }
    return v;
  }
  v.detail = "HTTP " + std::to_string(r.status) + ": " + std::string(httpbatch::short_body(r.body));
  if (j.kind == Kind::kDeadLetter) {
    v.only_record = j.invalid_event;
    log_problem(j.invalid_event ? "HEC refused an event; dead-lettered, the others sent again"
                                : "HEC refused the events; dead-lettered",
                log::kv("status", r.status) + log::kv("body", httpbatch::short_body(r.body)));
    v.error = PermanentError::kRejected;
  } else if (j.config_error) {
    component_log().error(
        "HEC refused the request; check hec_token, the channel and the token's settings",
        log::kv("status", r.status) + log::kv("body", httpbatch::short_body(r.body)));
  } else if (j.kind == Kind::kRetry) {
    log_problem("request failed", log::kv("status", r.status) + log::kv("body", httpbatch::short_body(r.body)));
  }
  return v;
}

httpbatch::Verdict HttpOutput::judge_generic(const es::HttpResult& r) {
  using Kind = httpbatch::Verdict::Kind;
  httpbatch::Verdict v;
  if ((r.status >= 200 && r.status < 300) || status_matches(o_.success_statuses, r.status)) {
    v.kind = Kind::kAccepted;
    return v;
  }
  v.detail = "HTTP " + std::to_string(r.status) + ": " + std::string(httpbatch::short_body(r.body));
  if (status_matches(o_.dead_letter_statuses, r.status)) {
    log_problem("receiver refused the request; events dead-lettered",
                log::kv("status", r.status) + log::kv("body", httpbatch::short_body(r.body)));
    v.kind = Kind::kDeadLetter;
    v.error = PermanentError::kRejected;
  } else if (status_matches(o_.resend_statuses, r.status)) {
    v.kind = Kind::kResend;
  } else if (r.status == 413) {
    v.kind = Kind::kSplit;
  } else {
    if (r.status == 401 || r.status == 403) {
      component_log().error("authentication or authorization failed; check the credentials",
                            log::kv("status", r.status));
    } else {
      log_problem("request failed", log::kv("status", r.status) + log::kv("body", httpbatch::short_body(r.body)));
    }
    v.kind = Kind::kRetry;
  }
  return v;
}

}  // namespace httpout

const PluginInfo& http_output() {
  static const PluginInfo info{
      PluginKind::kOutput, "http",
      "Events as NDJSON or a JSON array to any HTTP endpoint (headers, auth, gzip, per-status policy); presets for Splunk HEC and Loki.",
      &schema_of<httpout::HttpOptions>, nullptr, nullptr,
      &bind_output<httpout::HttpOptions, httpout::HttpOutput>};
  return info;
}

}  // namespace logship::plugins
