#include "outputs/elasticsearch/aws_credentials.h"

#include <cstdlib>
#include <ctime>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <simdjson.h>

#include "daemon/core/rfc3339.h"
#include "daemon/core/safe_file.h"
#include "outputs/elasticsearch/http_client.h"

namespace logship::plugins::es {

namespace http = boost::beast::http;

const config::OptionSchema<AwsSigV4Options>& AwsSigV4Options::schema() {
  using S = config::OptionSchema<AwsSigV4Options>;
  static const auto s =
      S{}.add("region", &AwsSigV4Options::region,
              "AWS region of the domain, e.g. eu-west-1. Empty: requests are not signed.")
          .add("service", &AwsSigV4Options::service,
               "es: Amazon OpenSearch Service domains. aoss: OpenSearch Serverless collections.",
               config::one_of({"es", "aoss"}))
          .add("credentials_file", &AwsSigV4Options::credentials_file,
               "AWS shared credentials file (aws_access_key_id, aws_secret_access_key, "
               "aws_session_token), re-read every minute. Empty: AWS_ACCESS_KEY_ID/"
               "AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, else the instance role.")
          .add("profile", &AwsSigV4Options::profile, "Profile of credentials_file.")
          .add("metadata_endpoint", &AwsSigV4Options::metadata_endpoint,
               "Instance metadata endpoint the instance role's credentials come from.");
  return s;
}

AwsCredentialsProvider::AwsCredentialsProvider(AwsSigV4Options o, std::chrono::milliseconds timeout)
    : o_(std::move(o)), timeout_(timeout) {
  if (o_.credentials_file.empty()) {
    const char* id = std::getenv("AWS_ACCESS_KEY_ID");
    const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
    if (id != nullptr && *id != '\0' && secret != nullptr && *secret != '\0') {
      current_.access_key_id = id;
      current_.secret_access_key = secret;
      if (const char* t = std::getenv("AWS_SESSION_TOKEN")) current_.session_token = t;
      have_ = from_env_ = true;
    }
  }
}

std::string AwsCredentialsProvider::source() const {
  if (!o_.credentials_file.empty()) return "file " + o_.credentials_file + " [" + o_.profile + "]";
  if (from_env_) return "environment";
  return "instance role (" + o_.metadata_endpoint + ")";
}

Result<AwsCredentials> AwsCredentialsProvider::get() {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!from_env_) {
    bool stale;
    if (!o_.credentials_file.empty()) {
      stale = !have_ || now - read_at_ > std::chrono::minutes(1);
    } else {
      stale = !have_ || (current_.expires_unix != 0 &&
                         current_.expires_unix - std::time(nullptr) < 300);
    }
    if (stale) {
      Status s = o_.credentials_file.empty() ? from_instance_role() : from_file();
      // Keys still valid are used while a refresh fails (a file being rewritten, IMDS busy).
      if (!s.is_ok() && (!have_ || (current_.expires_unix != 0 && current_.expires_unix <= std::time(nullptr)))) {
        return s;
      }
      if (s.is_ok()) read_at_ = now;
    }
  }
  return current_;
}

Status AwsCredentialsProvider::from_file() {
  std::string text;
  SafeRead r = read_file_safely(o_.credentials_file, SafeReadLimits{64 * 1024, true}, &text);
  if (!r.ok()) {
    return Status::unavailable("aws_sigv4.credentials_file: " + r.error);
  }
  Result<AwsCredentials> c = parse_aws_credentials_file(text, o_.profile);
  if (!c.is_ok()) {
    return c.status().with_context("aws_sigv4.credentials_file " + o_.credentials_file);
  }
  current_ = std::move(c).value();
  have_ = true;
  return Status::ok();
}

Status AwsCredentialsProvider::from_instance_role() {
  Result<HostUrl> url = parse_host_url(o_.metadata_endpoint);
  if (!url.is_ok()) return url.status().with_context("aws_sigv4.metadata_endpoint");
  HostUrl host = std::move(url).value();
  if (o_.metadata_endpoint.find("://") != std::string::npos &&
      o_.metadata_endpoint.find(':', o_.metadata_endpoint.find("://") + 3) == std::string::npos) {
    host.port = "80";   // parse_host_url defaults to Elasticsearch's 9200
    host.host_header = (host.host.find(':') != std::string::npos ? "[" + host.host + "]" : host.host) + ":80";
  }
  HttpConnection conn(nullptr, true, timeout_, timeout_);
  auto request = [&](http::verb verb, const std::string& path, const std::string& token,
                     HttpResult* r) {
    http::request<http::string_body> req{verb, host.path_prefix + path, 11};
    req.set(http::field::host, host.host_header);
    if (verb == http::verb::put) {
      req.set("X-aws-ec2-metadata-token-ttl-seconds", "21600");
    }
    if (!token.empty()) req.set("X-aws-ec2-metadata-token", token);
    req.prepare_payload();
    *r = conn.send(host, req);
    return r->kind == HttpResult::Kind::kOk && r->status == 200;
  };
  HttpResult r;
  std::string token;
  if (request(http::verb::put, "/latest/api/token", "", &r)) token = r.body;   // else IMDSv1
  const std::string base = "/latest/meta-data/iam/security-credentials/";
  if (!request(http::verb::get, base, token, &r)) {
    return Status::unavailable("instance role: " +
                               (r.kind == HttpResult::Kind::kOk
                                    ? "HTTP " + std::to_string(r.status) + " listing roles"
                                    : r.error));
  }
  std::string role = r.body.substr(0, r.body.find('\n'));
  if (role.empty()) {
    return Status::unavailable("instance role: no role attached to this instance");
  }
  if (!request(http::verb::get, base + role, token, &r)) {
    return Status::unavailable(
        "instance role " + role + ": " +
        (r.kind == HttpResult::Kind::kOk ? "HTTP " + std::to_string(r.status) : r.error));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view id, secret, tok, expiration;
  if (parser.parse(r.body).get(doc) || doc["AccessKeyId"].get_string().get(id) ||
      doc["SecretAccessKey"].get_string().get(secret)) {
    return Status::unavailable("instance role " + role + ": unexpected credentials document");
  }
  AwsCredentials c;
  c.access_key_id = id;
  c.secret_access_key = secret;
  if (!doc["Token"].get_string().get(tok)) c.session_token = tok;
  int64_t ns = 0;
  if (!doc["Expiration"].get_string().get(expiration) && parse_rfc3339(expiration, &ns)) {
    c.expires_unix = ns / 1000000000;
  }
  current_ = std::move(c);
  have_ = true;
  return Status::ok();
}

}  // namespace logship::plugins::es
