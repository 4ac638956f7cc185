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

bool AwsCredentialsProvider::get(AwsCredentials* out, std::string* error) {
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
      bool ok = o_.credentials_file.empty() ? from_instance_role(error) : from_file(error);
      // Keys still valid are used while a refresh fails (a file being rewritten, IMDS busy).
      if (!ok && (!have_ || (current_.expires_unix != 0 && current_.expires_unix <= std::time(nullptr)))) {
        return false;
      }
      if (ok) read_at_ = now;
    }
  }
  *out = current_;
  return true;
}

bool AwsCredentialsProvider::from_file(std::string* error) {
  std::string text;
  SafeRead r = read_file_safely(o_.credentials_file, SafeReadLimits{64 * 1024, true}, &text);
  if (!r.ok()) {
    *error = "aws_sigv4.credentials_file: " + r.error;
    return false;
  }
  AwsCredentials c;
  std::string why;
  if (!parse_aws_credentials_file(text, o_.profile, &c, &why)) {
    *error = "aws_sigv4.credentials_file " + o_.credentials_file + ": " + why;
    return false;
  }
  current_ = std::move(c);
  have_ = true;
  return true;
}

bool AwsCredentialsProvider::from_instance_role(std::string* error) {
  Result<HostUrl> url = parse_host_url(o_.metadata_endpoint);
  if (!url.is_ok()) {
    *error = "aws_sigv4.metadata_endpoint: " + url.status().message();
    return false;
  }
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
    *error = "instance role: " + (r.kind == HttpResult::Kind::kOk
                                      ? "HTTP " + std::to_string(r.status) + " listing roles"
                                      : r.error);
    return false;
  }
  std::string role = r.body.substr(0, r.body.find('\n'));
  if (role.empty()) {
    *error = "instance role: no role attached to this instance";
    return false;
  }
  if (!request(http::verb::get, base + role, token, &r)) {
    *error = "instance role " + role + ": " +
             (r.kind == HttpResult::Kind::kOk ? "HTTP " + std::to_string(r.status) : r.error);
    return false;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view id, secret, tok, expiration;
  if (parser.parse(r.body).get(doc) || doc["AccessKeyId"].get_string().get(id) ||
      doc["SecretAccessKey"].get_string().get(secret)) {
    *error = "instance role " + role + ": unexpected credentials document";
    return false;
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
  return true;
}

}  // namespace logship::plugins::es
