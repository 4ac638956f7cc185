#include "outputs/http/http_output.h"

#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/log.h"

namespace logship::plugins {
namespace httpout {


const config::OptionSchema<HttpOptions>& HttpOptions::schema() {
  using S = config::OptionSchema<HttpOptions>;
  static const auto s = [] {
    S s;
    s.add("endpoint", &HttpOptions::endpoint, "Base URL of the receiver (http:// or https://).")
          .add("path", &HttpOptions::path, "Request path appended to the endpoint.")
          .add("method", &HttpOptions::method, "Request method.", config::one_of({"POST", "PUT"}))
          .add("format", &HttpOptions::format,
               "ndjson: one JSON object per line (application/x-ndjson); json_array: one JSON "
               "array per request (application/json). Events in the flat logship layout.",
               config::one_of({"ndjson", "json_array"}))
          .add("compression", &HttpOptions::compression, "Request body encoding.",
               config::one_of({"gzip", "none"}))
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

std::string HttpOptions::validate() const {
  es::HostUrl url;
  std::string err;
  if (!es::parse_host_url(endpoint, &url, &err)) return err;
  if (path.empty() || path.front() != '/') return "path must start with '/'";
  if (!tls_key_file.empty() && tls_cert_file.empty()) return "tls_key_file needs tls_cert_file";
  if (!bearer_token.empty() && !basic_user.empty()) return "basic_user and bearer_token exclude each other";
  if (basic_user.find(':') != std::string::npos) return "basic_user cannot hold ':'";
  for (const auto& [k, v] : headers) {
    if (k.empty() || k.find_first_of(":\r\n ") != std::string::npos) {
      return "headers: invalid header name '" + k + "'";
    }
    if (v.find_first_of("\r\n") != std::string::npos) return "headers: a value holds a newline";
  }
  if (bearer_token.find_first_of("\r\n") != std::string::npos) return "bearer_token holds a newline";
  for (const auto* list : {&success_statuses, &dead_letter_statuses, &resend_statuses}) {
    for (const std::string& p : *list) {
      if (!valid_pattern(p)) return "invalid status pattern '" + p + "' (NNN or Nxx)";
    }
  }
  return "";
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

namespace {

httpbatch::Settings settings(const HttpOptions& o) {
  httpbatch::Settings s;
  s.component = "http";
  s.endpoint = o.endpoint;
  s.path = o.path;
  s.method = o.method;
  s.content_type = o.format == "ndjson" ? "application/x-ndjson" : "application/json";
  s.gzip = o.compression == "gzip";
  s.gzip_level = static_cast<int>(o.compression_level);
  s.headers = o.headers;
  if (!o.basic_user.empty()) {
    s.headers["Authorization"] = "Basic " + es::base64(o.basic_user + ":" + o.basic_password);
  } else if (!o.bearer_token.empty()) {
    s.headers["Authorization"] = "Bearer " + o.bearer_token;
  }
  o.apply(&s);
  return s;
}

}  // namespace

HttpOutput::HttpOutput(const HttpOptions& o) : HttpBatchOutput(settings(o)), o_(o) {}

std::unique_ptr<httpbatch::RequestEncoder> HttpOutput::make_encoder() {
  return std::make_unique<JsonLinesEncoder>(o_.format == "json_array");
}

httpbatch::Verdict HttpOutput::judge(const es::HttpResult& r, std::size_t) {
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
      log::error("http", "authentication or authorization failed; check the credentials",
                 log::kv("output", name()) + log::kv("status", r.status));
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
      "Events as NDJSON or a JSON array to any HTTP endpoint: headers, auth, gzip, per-status policy.",
      &schema_of<httpout::HttpOptions>, nullptr, nullptr,
      &bind_output<httpout::HttpOptions, httpout::HttpOutput>};
  return info;
}

}  // namespace logship::plugins
