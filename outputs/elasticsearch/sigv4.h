#pragma once
// AWS Signature Version 4 for Amazon OpenSearch Service (service "es") and OpenSearch
// Serverless ("aoss"): the canonical request, the string to sign and the Authorization header,
// computed with OpenSSL's SHA-256 and HMAC-SHA256, as AWS documents the algorithm.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/status.h"

namespace logship::plugins::es {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;   // never logged
  std::string session_token;       // temporary credentials (instance role); never logged
  int64_t expires_unix = 0;        // 0: never
};

struct SigV4Request {
  std::string_view method;         // GET, POST, PUT
  std::string_view target;         // path[?query], as sent
  // The headers to sign (name, value), Host and X-Amz-Date among them; any case, any order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view payload_sha256; // lowercase hex SHA-256 of the body as sent
};

struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;           // lowercase hex
  std::string authorization;       // the Authorization header value
};

// `amz_date` is the X-Amz-Date value, YYYYMMDDTHHMMSSZ.
SigV4Signature sigv4_sign(const SigV4Request& req, const AwsCredentials& creds,
                          std::string_view region, std::string_view service,
                          std::string_view amz_date);

std::string sha256_hex(std::string_view data);
// YYYYMMDDTHHMMSSZ of a Unix time.
std::string amz_date(int64_t unix_seconds);
// AWS's URI encoding: every byte but A-Z a-z 0-9 - _ . ~ as %XX (and '/' too unless keep_slash).
std::string aws_uri_encode(std::string_view s, bool keep_slash);

// Reads [profile] of an AWS shared credentials file (aws_access_key_id, aws_secret_access_key,
// aws_session_token). An error when the profile or a key is missing.
Result<AwsCredentials> parse_aws_credentials_file(std::string_view text, std::string_view profile);

}  // namespace logship::plugins::es
